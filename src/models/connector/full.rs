//! `full`: every source connects to every target (minus self-connections unless `autapses`).

use super::{Args, ConnectorInfo, Shape};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "full",
    summary: "all-to-all",
    params: &[],
    expected_synapses: |shape: Shape, _: Args| shape.pairs(),
};
