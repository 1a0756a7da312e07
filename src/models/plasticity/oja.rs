//! `oja`: Oja's rule, `Δw_ij = rate · y_i (x_j - y_i w_ij)`: Hebbian growth with a decay that
//! keeps each unit's weight vector at unit norm (it converges to the first principal component).

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
    name: "oja",
    mode: Mode::Rate,
    summary: "Oja's normalised Hebbian rule",
    params: PARAMS,
};
