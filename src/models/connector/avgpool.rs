//! `avgpool(2)` or `avgpool(size = 3, stride = 2, padding = valid)`: per feature map,
//! the mean of each window (PyTorch `AvgPool2d`, padding counted as zeros). The stride defaults to the window size. No weights; a population fed only by
//! pooling has no bias. The target's shape must be what the window makes of the source's
//! (same number of maps). Rate mode only.

use super::grid::{SpatialInfo, SpatialOp};
use super::{ConnectorInfo, Generate, Rows, Shape, pooling};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "avgpool",
    summary: "the mean over windows of each feature map (rate mode)",
    params: pooling::PARAMS,
    expected_synapses: |_: Shape, _| 0.0,
    generate: |_: &Generate| -> Result<Rows, String> {
        Err("avgpool is a rate-mode connector".into())
    },
    positional: &["size"],
    optional: &["stride"],
    spatial: Some(&SPATIAL),
};

static SPATIAL: SpatialInfo = SpatialInfo {
    op: SpatialOp::AvgPool,
    window: pooling::window,
};
