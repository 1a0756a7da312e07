//! `poisson`: a Poisson spike source (PyNN `SpikeSourcePoisson`, NEST `poisson_generator`
//! with one independent train per neuron).
//!
//! In each step of length dt a neuron fires with probability `1 - exp(-rate·dt)`, drawn
//! from its own counter-based random stream, while `start <= t < stop`.

use super::{NeuronInfo, StateSpec};
use crate::models::{Mode, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::per_element(
        "rate",
        Dim::FREQUENCY,
        1e-3,
        Range::NonNegative,
        "mean firing rate (default 1 Hz)",
    ),
    ParamSpec::scalar(
        "start",
        Dim::TIME,
        0.0,
        Range::NonNegative,
        "time of the first possible spike",
    ),
    ParamSpec::scalar(
        "stop",
        Dim::TIME,
        f64::MAX,
        Range::NonNegative,
        "no spikes at or after this time",
    ),
];

pub static STATE: &[StateSpec] = &[];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "poisson",
    mode: Mode::Spiking,
    summary: "Poisson spike source",
    params: PARAMS,
    state: STATE,
    spikes: true,
    accepts_input: false,
};
