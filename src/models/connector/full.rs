//! `full`: every source connects to every target (minus self-connections unless `autapses`).

use super::{Args, ConnectorInfo, Generate, Rows, Shape};

pub static INFO: ConnectorInfo = ConnectorInfo::drawn(
    "full",
    "all-to-all",
    &[],
    |shape: Shape, _: Args| shape.pairs(),
    generate,
);

fn generate(g: &Generate) -> Result<Rows, String> {
    let Shape { n_pre, n_post, .. } = g.shape;
    Rows::by_source(g, n_pre, |s, out| {
        let skip = g.shape.exclude_autapses.then_some(s);
        out.extend((0..n_post as u32).filter(|&t| Some(t as usize) != skip));
        Ok(())
    })
}
