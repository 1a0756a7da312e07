//! `fixed_outdegree(k)`: every source makes exactly `k` synapses onto targets drawn at random.

use super::{Args, ConnectorInfo, Fit, Generate, Misfit, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: ConnectorInfo = ConnectorInfo {
    fits,
    ..ConnectorInfo::drawn(
        "fixed_outdegree",
        "k random targets per source",
        &[ParamSpec {
            name: "k",
            kind: ParamKind::Integer {
                default: None,
                range: Range::NonNegative,
            },
            doc: "synapses per source",
        }],
        |shape: Shape, args: Args| shape.n_pre as f64 * args("k").unwrap_or(0.0),
        generate,
    )
};

/// `k` distinct targets per source unless multapses are allowed.
fn fits(fit: &Fit) -> Result<(), Misfit> {
    super::degree_fits(fit, fit.post, "targets")
}

/// One stream per source.
fn generate(g: &Generate) -> Result<Rows, String> {
    let k = g.count("k")?;
    let Shape { n_pre, n_post, .. } = g.shape;
    Rows::by_source(g, n_pre, |s, out| {
        let mut rng = (g.stream)(s as u64);
        g.choose(&mut rng, n_post, s, k, out)
    })
}
