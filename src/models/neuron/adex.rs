//! `adex`: adaptive exponential integrate-and-fire with conductance synapses (Brette & Gerstner
//! 2005; PyNN `EIF_cond_exp_isfa_ista`, NEST `aeif_cond_exp`).
//!
//! ```text
//! cm dv/dt = cm/tau_m (v_rest - v) + cm/tau_m delta_t exp((v - v_thresh)/delta_t)
//!            + g_e (e_rev_e - v) + g_i (e_rev_i - v) - w + i_offset
//! tau_w dw/dt = a (v - v_rest) - w
//! v >= v_spike  =>  spike, v = v_reset, w = w + b
//! ```
//! Defaults are PyNN's `EIF_cond_exp_isfa_ista`.

use super::{NeuronInfo, StateSpec};
use crate::models::{Mode, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::per_element(
        "tau_m",
        Dim::TIME,
        9.3667,
        Range::Positive,
        "membrane time constant",
    ),
    ParamSpec::per_element(
        "cm",
        Dim::CAPACITANCE,
        281.0,
        Range::Positive,
        "membrane capacitance",
    ),
    ParamSpec::per_element(
        "v_rest",
        Dim::VOLTAGE,
        -70.6,
        Range::Any,
        "resting potential",
    ),
    ParamSpec::per_element(
        "v_reset",
        Dim::VOLTAGE,
        -70.6,
        Range::Any,
        "potential after a spike",
    ),
    ParamSpec::per_element(
        "v_thresh",
        Dim::VOLTAGE,
        -50.4,
        Range::Any,
        "exponential threshold",
    ),
    ParamSpec::per_element(
        "v_spike",
        Dim::VOLTAGE,
        -40.0,
        Range::Any,
        "spike detection potential",
    ),
    ParamSpec::per_element(
        "delta_t",
        Dim::VOLTAGE,
        2.0,
        Range::Positive,
        "slope factor",
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
        -80.0,
        Range::Any,
        "inhibitory reversal potential",
    ),
    ParamSpec::per_element(
        "a",
        Dim::CONDUCTANCE,
        4.0,
        Range::Any,
        "subthreshold adaptation",
    ),
    ParamSpec::per_element(
        "b",
        Dim::CURRENT,
        80.5,
        Range::Any,
        "spike-triggered adaptation",
    ),
    ParamSpec::per_element(
        "tau_w",
        Dim::TIME,
        144.0,
        Range::Positive,
        "adaptation time constant",
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
        name: "w",
        dim: Dim::CURRENT,
        doc: "adaptation current",
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
    name: "adex",
    mode: Mode::Spiking,
    summary: "adaptive exponential integrate-and-fire, conductance synapses",
    params: PARAMS,
    state: STATE,
    spikes: true,
    accepts_input: true,
};
