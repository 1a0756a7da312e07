//! `one_to_one`: source i connects to target i; both populations must have the same size.

use super::{Args, ConnectorInfo, Shape};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "one_to_one",
    summary: "source i to target i",
    params: &[],
    expected_synapses: |shape: Shape, _: Args| shape.n_pre.min(shape.n_post) as f64,
};
