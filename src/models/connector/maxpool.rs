//! `maxpool(2)` or `maxpool(size = 3, stride = 2, padding = valid)`: per feature map, the
//! largest input of each window (PyTorch `MaxPool2d`). The stride defaults to the window size.
//! No weights; a population fed only by pooling has no bias. The target's shape must be what
//! the window makes of the source's (same number of maps). Rate mode only.

use super::grid::{SpatialInfo, SpatialOp};
use super::{ConnectorInfo, pooling};

pub static INFO: ConnectorInfo = pooling::connector(
    "maxpool",
    "the maximum over windows of each feature map (rate mode)",
    &SPATIAL,
);

static SPATIAL: SpatialInfo = SpatialInfo {
    op: SpatialOp::MaxPool,
    window: pooling::window,
};
