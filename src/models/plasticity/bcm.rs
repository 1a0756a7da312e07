//! `bcm`: the Bienenstock–Cooper–Munro rule, `Δw_ij = rate · y_i (y_i - θ_i) x_j`, with a sliding
//! threshold `θ_i` that tracks the running mean of `y_i²` with time constant `tau` (in samples).

use super::PlasticityInfo;
use crate::models::{Mode, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::scalar("rate", Dim::NONE, 0.01, Range::Positive, "learning rate"),
    ParamSpec::scalar(
        "tau",
        Dim::NONE,
        100.0,
        Range::Positive,
        "threshold averaging constant, in samples",
    ),
    ParamSpec::scalar("theta", Dim::NONE, 1.0, Range::Any, "initial threshold"),
];

pub static INFO: PlasticityInfo = PlasticityInfo {
    name: "bcm",
    mode: Mode::Rate,
    summary: "BCM rule with a sliding threshold",
    params: PARAMS,
};
