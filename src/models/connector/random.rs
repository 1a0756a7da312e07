//! `random(p)`: each candidate pair is connected independently with probability `p`
//! (NEST `pairwise_bernoulli`, Brian2 `connect(p=...)`).

use rand::Rng;

use super::{Args, ConnectorInfo, Generate, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "random",
    summary: "each pair independently with probability p",
    params: &[ParamSpec {
        name: "p",
        kind: ParamKind::Quantity {
            dim: Dim::NONE,
            default: None,
            range: Range::Between(0.0, 1.0),
            per_element: false,
        },
        doc: "connection probability",
    }],
    expected_synapses: |shape: Shape, args: Args| shape.pairs() * args("p").unwrap_or(0.0),
    generate,
    positional: &[],
    optional: &[],
    spatial: None,
};

/// One stream per source; the gaps between connected targets are geometric, so the cost is
/// proportional to the synapses made, not to the pairs examined (as Brian2 and NEST do).
fn generate(g: &Generate) -> Result<Rows, String> {
    let p = match (g.args)("p") {
        Some(p) if (0.0..=1.0).contains(&p) => p,
        Some(p) => return Err(format!("`p` must be between 0 and 1, not {p}")),
        None => return Err("missing argument `p`".into()),
    };
    let Shape { n_pre, n_post, .. } = g.shape;
    let log_q = (1.0 - p).ln();
    Rows::by_source(n_pre, |s, out| {
        if p <= 0.0 {
            return Ok(());
        }
        let skip = g.shape.exclude_autapses.then_some(s);
        if p >= 1.0 {
            out.extend((0..n_post as u32).filter(|&t| Some(t as usize) != skip));
            return Ok(());
        }
        let mut rng = (g.stream)(s as u64);
        let mut t: f64 = -1.0;
        loop {
            // 1 - u lies in (0, 1], so its logarithm is finite.
            let u: f64 = rng.random();
            t += 1.0 + ((1.0 - u).ln() / log_q).floor();
            if t >= n_post as f64 {
                break;
            }
            if Some(t as usize) != skip {
                out.push(t as u32);
            }
        }
        Ok(())
    })
}
