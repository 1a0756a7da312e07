//! `hebbian`: the plain Hebb rule, `Δw_ij = rate · y_i · x_j` per presented sample.
//!
//! On an undirected projection (`m -- m`) the update is symmetric and self-connections
//! stay zero: storing ±1 patterns gives the Hopfield network's outer-product rule.

use super::PlasticityInfo;
use crate::models::{Mode, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[ParamSpec::scalar(
    "rate",
    Dim::NONE,
    0.01,
    Range::Positive,
    "learning rate",
)];

pub static INFO: PlasticityInfo = PlasticityInfo {
    name: "hebbian",
    mode: Mode::Rate,
    summary: "Hebb's rule: Δw = rate · post · pre",
    params: PARAMS,
};
