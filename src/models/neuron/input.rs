//! `input`: a rate-mode population clamped to the rows of a dataset.

use super::{NeuronInfo, RateMemory, Runs};
use crate::models::ParamSpec;

pub static PARAMS: &[ParamSpec] = &[];

pub static INFO: NeuronInfo = NeuronInfo {
    weights: &[],
    ..NeuronInfo::rate(
        "input",
        Runs::Input,
        "input units clamped to the data",
        PARAMS,
        RateMemory::plain(|size, _, _| 4.0 * size as f64),
    )
};
