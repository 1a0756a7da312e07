//! `layer_norm`: layer normalisation (Ba et al. 2016) of the summed incoming projections,
//! per sample and step, with a learned gain and shift:
//! `y = γ ⊙ (z - mean(z)) / sqrt(var(z) + eps) + β`. With `identity` projections from a
//! block's input and output it is the "add & norm" of a transformer block.

use super::{NeuronInfo, RateMemory, StateSpec};
use crate::models::{Mode, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[ParamSpec::scalar(
    "eps",
    Dim::NONE,
    1e-5,
    Range::Positive,
    "added to the variance",
)];

pub static STATE: &[StateSpec] = &[];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "layer_norm",
    mode: Mode::Rate,
    summary: "layer normalisation with a learned gain and shift",
    params: PARAMS,
    state: STATE,
    spikes: false,
    accepts_input: true,
    check: None,
    whole_sequence: false,
    rate_memory: Some(RateMemory {
        per_column: |d, _, _| 6.0 * d as f64 + 1.0,
        learned: |d| 2.0 * d as f64,
    }),
};
