//! `fixed_indegree(k)`: every target receives exactly `k` synapses from sources drawn at random
//! (without repetition unless `multapses`). `k` must not exceed the number of candidates.

use super::{Args, ConnectorInfo, Fit, Generate, Misfit, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: ConnectorInfo = ConnectorInfo {
    fits,
    ..ConnectorInfo::drawn(
        "fixed_indegree",
        "k random sources per target",
        &[ParamSpec {
            name: "k",
            kind: ParamKind::Integer {
                default: None,
                range: Range::NonNegative,
            },
            doc: "synapses per target",
        }],
        |shape: Shape, args: Args| shape.n_post as f64 * args("k").unwrap_or(0.0),
        generate,
    )
};

/// `k` distinct sources per target unless multapses are allowed.
fn fits(fit: &Fit) -> Result<(), Misfit> {
    super::degree_fits(fit, fit.pre, "sources")
}

/// One stream per target; the sources of each target are drawn, then transposed to rows.
fn generate(g: &Generate) -> Result<Rows, String> {
    let k = g.count("k")?;
    let Shape { n_pre, n_post, .. } = g.shape;
    Rows::by_target(g, n_pre, n_post, |t, out| {
        let mut rng = (g.stream)(t as u64);
        g.choose(&mut rng, n_pre, t, k, out)
    })
}
