//! `lif`: leaky integrate-and-fire neuron with exponential synaptic currents (PyNN `IF_curr_exp`,
//! NEST `iaf_psc_exp`).
//!
//! ```text
//! cm dv/dt  = cm (v_rest - v)/tau_m + i_e + i_i + i_offset        (currents in pA)
//! di_e/dt   = -i_e / tau_syn_e,   di_i/dt = -i_i / tau_syn_i
//! v >= v_thresh  =>  spike, v = v_reset, clamped for tau_refrac
//! ```
//! The subthreshold system is linear, so it is integrated exactly (Rotter & Diesmann 1999).
//! A projection's `weight` may be a current (added to `i_e`/`i_i`, as PyNN and NEST do) or a
//! voltage: then the synaptic variable enters the membrane equation directly,
//! `tau_m dv/dt = (v_rest - v) + i_e + i_i` with `i_e`, `i_i` in mV, as in Brian2's CUBA example.
//!
//! | parameter | default | unit |
//! |---|---|---|
//! | `tau_m` | 20 | ms |
//! | `cm` | 1 | nF |
//! | `v_rest` | -65 | mV |
//! | `v_reset` | -65 | mV |
//! | `v_thresh` | -50 | mV |
//! | `tau_refrac` | 0.1 | ms |
//! | `tau_syn_e`, `tau_syn_i` | 5 | ms |
//! | `i_offset` | 0 | nA |
//!
//! Defaults are PyNN's `IF_curr_exp`.

use super::{NeuronInfo, StateSpec};
use crate::models::{Mode, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::per_element(
        "tau_m",
        Dim::TIME,
        20.0,
        Range::Positive,
        "membrane time constant",
    ),
    ParamSpec::per_element(
        "cm",
        Dim::CAPACITANCE,
        1000.0,
        Range::Positive,
        "membrane capacitance",
    ),
    ParamSpec::per_element(
        "v_rest",
        Dim::VOLTAGE,
        -65.0,
        Range::Any,
        "resting potential",
    ),
    ParamSpec::per_element(
        "v_reset",
        Dim::VOLTAGE,
        -65.0,
        Range::Any,
        "potential after a spike",
    ),
    ParamSpec::per_element(
        "v_thresh",
        Dim::VOLTAGE,
        -50.0,
        Range::Any,
        "spike threshold",
    ),
    ParamSpec::per_element(
        "tau_refrac",
        Dim::TIME,
        0.1,
        Range::NonNegative,
        "refractory period",
    ),
    ParamSpec::per_element(
        "tau_syn_e",
        Dim::TIME,
        5.0,
        Range::Positive,
        "excitatory synaptic time constant",
    ),
    ParamSpec::per_element(
        "tau_syn_i",
        Dim::TIME,
        5.0,
        Range::Positive,
        "inhibitory synaptic time constant",
    ),
    ParamSpec::per_element(
        "i_offset",
        Dim::CURRENT,
        0.0,
        Range::Any,
        "constant injected current",
    ),
];

pub static STATE: &[StateSpec] = &[
    StateSpec {
        name: "v",
        dim: Dim::VOLTAGE,
        doc: "membrane potential (initial value default: v_rest)",
    },
    StateSpec {
        name: "i_e",
        dim: Dim::CURRENT,
        doc: "excitatory synaptic current",
    },
    StateSpec {
        name: "i_i",
        dim: Dim::CURRENT,
        doc: "inhibitory synaptic current",
    },
];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "lif",
    mode: Mode::Spiking,
    summary: "leaky integrate-and-fire, exponential synaptic currents, exact integration",
    params: PARAMS,
    state: STATE,
    spikes: true,
    accepts_input: true,
};
