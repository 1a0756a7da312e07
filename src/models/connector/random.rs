//! `random(p)`: each candidate pair is connected independently with probability `p`
//! (NEST `pairwise_bernoulli`, Brian2 `connect(p=...)`).

use super::{Args, ConnectorInfo, Shape};
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
};
