//! `input`: a rate-mode population clamped to the rows of a dataset.

use super::{NeuronInfo, RateMemory, StateSpec};
use crate::models::{Mode, ParamSpec};

pub static PARAMS: &[ParamSpec] = &[];
pub static STATE: &[StateSpec] = &[];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "input",
    mode: Mode::Rate,
    summary: "input units clamped to the data",
    params: PARAMS,
    state: STATE,
    spikes: false,
    accepts_input: false,
    check: None,
    whole_sequence: false,
    rate_memory: Some(RateMemory::plain(|size, _, _| 4.0 * size as f64)),
};
