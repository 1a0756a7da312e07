//! `lif_cond`: leaky integrate-and-fire neuron with exponential synaptic conductances (PyNN
//! `IF_cond_exp`, NEST `iaf_cond_exp`).
//!
//! ```text
//! cm dv/dt = cm (v_rest - v)/tau_m + g_e (e_rev_e - v) + g_i (e_rev_i - v) + i_offset
//! dg_e/dt  = -g_e / tau_syn_e,   dg_i/dt = -g_i / tau_syn_i
//! ```
//! Weights are conductances (nS). Defaults are PyNN's `IF_cond_exp`
//! (`e_rev_e` = 0 mV, `e_rev_i` = -70 mV, the rest as `lif`).

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
        "excitatory conductance time constant",
    ),
    ParamSpec::per_element(
        "tau_syn_i",
        Dim::TIME,
        5.0,
        Range::Positive,
        "inhibitory conductance time constant",
    ),
    ParamSpec::per_element(
        "e_rev_e",
        Dim::VOLTAGE,
        0.0,
        Range::Any,
        "excitatory reversal potential",
    ),
    ParamSpec::per_element(
        "e_rev_i",
        Dim::VOLTAGE,
        -70.0,
        Range::Any,
        "inhibitory reversal potential",
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
        name: "g_e",
        dim: Dim::CONDUCTANCE,
        doc: "excitatory conductance",
    },
    StateSpec {
        name: "g_i",
        dim: Dim::CONDUCTANCE,
        doc: "inhibitory conductance",
    },
];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "lif_cond",
    mode: Mode::Spiking,
    summary: "leaky integrate-and-fire, exponential synaptic conductances",
    params: PARAMS,
    state: STATE,
    spikes: true,
    accepts_input: true,
};
