//! `avgpool(2)` or `avgpool(size = 3, stride = 2, padding = valid)`: per feature map, the mean
//! of each window (PyTorch `AvgPool2d`, padding counted as zeros). The stride defaults to the
//! window size. No weights; a population fed only by pooling has no bias. The target's shape
//! must be what the window makes of the source's (same number of maps). Rate mode only.

use super::grid::{SpatialInfo, SpatialOp};
use super::{ConnectorInfo, pooling};

pub static INFO: ConnectorInfo = pooling::connector(
    "avgpool",
    "the mean over windows of each feature map (rate mode)",
    &SPATIAL,
);

static SPATIAL: SpatialInfo = SpatialInfo {
    op: SpatialOp::AvgPool,
    window: pooling::window,
};
