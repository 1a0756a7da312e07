//! `fixed_total(n)`: exactly `n` synapses between pairs drawn uniformly at random.

use super::{Args, ConnectorInfo, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "fixed_total",
    summary: "n synapses between random pairs",
    params: &[ParamSpec {
        name: "n",
        kind: ParamKind::Integer {
            default: None,
            range: Range::NonNegative,
        },
        doc: "total number of synapses",
    }],
    expected_synapses: |_: Shape, args: Args| args("n").unwrap_or(0.0),
};
