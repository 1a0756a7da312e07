//! `layer_norm`: layer normalisation (Ba et al. 2016) of the summed incoming projections,
//! per sample and step, with a learned gain and shift:
//! `y = γ ⊙ (z - mean(z)) / sqrt(var(z) + eps) + β`. With `identity` projections from a
//! block's input and output it is the "add & norm" of a transformer block.

use super::{NeuronInfo, RateMemory, Runs};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[ParamSpec::scalar(
    "eps",
    Dim::NONE,
    1e-5,
    Range::Positive,
    "added to the variance",
)];

pub static INFO: NeuronInfo = NeuronInfo::rate(
    "layer_norm",
    Runs::Unit,
    "layer normalisation with a learned gain and shift",
    PARAMS,
    RateMemory {
        per_column: |d, _, _| 6.0 * d as f64 + 1.0,
        learned: |d| 2.0 * d as f64,
    },
);
