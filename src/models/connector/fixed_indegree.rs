//! `fixed_indegree(k)`: every target receives exactly `k` synapses from sources drawn at random
//! (without repetition unless `multapses`). `k` must not exceed the number of candidates.

use super::{Args, ConnectorInfo, Generate, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "fixed_indegree",
    summary: "k random sources per target",
    params: &[ParamSpec {
        name: "k",
        kind: ParamKind::Integer {
            default: None,
            range: Range::NonNegative,
        },
        doc: "synapses per target",
    }],
    expected_synapses: |shape: Shape, args: Args| shape.n_post as f64 * args("k").unwrap_or(0.0),
    generate,
    positional: &[],
    optional: &[],
    spatial: None,
    rate_weights: super::RateWeights::Matrix,
};

/// One stream per target; the sources of each target are drawn, then transposed to rows.
fn generate(g: &Generate) -> Result<Rows, String> {
    let k = g.count("k")?;
    let Shape { n_pre, n_post, .. } = g.shape;
    Rows::by_target(n_pre, n_post, |t, out| {
        let mut rng = (g.stream)(t as u64);
        g.choose(&mut rng, n_pre, t, k, out)
    })
}
