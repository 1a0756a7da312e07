//! `spike_source`: emits spikes at given times (PyNN `SpikeSourceArray`, NEST `spike_generator`).
//!
//! Every neuron of the population fires at each time in `times`, rounded to the step grid.

use super::{NeuronInfo, StateSpec};
use crate::models::{Mode, ParamKind, ParamSpec};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "times",
    kind: ParamKind::List { dim: Dim::TIME },
    doc: "spike times",
}];

pub static STATE: &[StateSpec] = &[];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "spike_source",
    mode: Mode::Spiking,
    summary: "spike source with given spike times",
    params: PARAMS,
    state: STATE,
    spikes: true,
    accepts_input: false,
};
