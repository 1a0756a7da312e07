//! `fixed_outdegree(k)`: every source makes exactly `k` synapses onto targets drawn at random.

use super::{Args, ConnectorInfo, Generate, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "fixed_outdegree",
    summary: "k random targets per source",
    params: &[ParamSpec {
        name: "k",
        kind: ParamKind::Integer {
            default: None,
            range: Range::NonNegative,
        },
        doc: "synapses per source",
    }],
    expected_synapses: |shape: Shape, args: Args| shape.n_pre as f64 * args("k").unwrap_or(0.0),
    generate,
    positional: &[],
    optional: &[],
    spatial: None,
    rate_weights: super::RateWeights::Matrix,
};

/// One stream per source.
fn generate(g: &Generate) -> Result<Rows, String> {
    let k = g.count("k")?;
    let Shape { n_pre, n_post, .. } = g.shape;
    Rows::by_source(n_pre, |s, out| {
        let mut rng = (g.stream)(s as u64);
        g.choose(&mut rng, n_post, s, k, out)
    })
}
