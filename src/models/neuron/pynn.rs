//! The parameters and state variables PyNN's integrate-and-fire cells (`IF_curr_exp`,
//! `IF_curr_alpha`, `IF_cond_exp`, `IF_curr_delta`, `EIF_cond_exp_isfa_ista`) share, with
//! PyNN's defaults, written once for the models that follow them (`lif`, `lif_cond`,
//! `lif_delta`, `adex`, ...).

use super::StateSpec;
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub const TAU_M: ParamSpec = ParamSpec::per_element(
    "tau_m",
    Dim::TIME,
    20.0,
    Range::Positive,
    "membrane time constant",
);
pub const CM: ParamSpec = ParamSpec::per_element(
    "cm",
    Dim::CAPACITANCE,
    1000.0,
    Range::Positive,
    "membrane capacitance",
);
pub const V_REST: ParamSpec = ParamSpec::per_element(
    "v_rest",
    Dim::VOLTAGE,
    -65.0,
    Range::Any,
    "resting potential",
);
pub const V_RESET: ParamSpec = ParamSpec::per_element(
    "v_reset",
    Dim::VOLTAGE,
    -65.0,
    Range::Any,
    "potential after a spike",
);
pub const V_THRESH: ParamSpec = ParamSpec::per_element(
    "v_thresh",
    Dim::VOLTAGE,
    -50.0,
    Range::Any,
    "spike threshold",
);
pub const TAU_REFRAC: ParamSpec = ParamSpec::per_element(
    "tau_refrac",
    Dim::TIME,
    0.1,
    Range::NonNegative,
    "refractory period",
);
pub const I_OFFSET: ParamSpec = ParamSpec::per_element(
    "i_offset",
    Dim::CURRENT,
    0.0,
    Range::Any,
    "injected current (steps(...) or ramp(...) for a course in time)",
);
pub const TAU_SYN_E: ParamSpec = ParamSpec::per_element(
    "tau_syn_e",
    Dim::TIME,
    5.0,
    Range::Positive,
    "excitatory synaptic time constant",
);
pub const TAU_SYN_I: ParamSpec = ParamSpec::per_element(
    "tau_syn_i",
    Dim::TIME,
    5.0,
    Range::Positive,
    "inhibitory synaptic time constant",
);
pub const E_REV_E: ParamSpec = ParamSpec::per_element(
    "e_rev_e",
    Dim::VOLTAGE,
    0.0,
    Range::Any,
    "excitatory reversal potential",
);
pub const E_REV_I: ParamSpec = ParamSpec::per_element(
    "e_rev_i",
    Dim::VOLTAGE,
    -70.0,
    Range::Any,
    "inhibitory reversal potential",
);

/// The parameters of PyNN's current-based cells with synaptic time constants (`IF_curr_exp`,
/// and `IF_curr_alpha`, which PyNN gives the same list and defaults), read by
/// `dynamics::IfCurr`.
pub const IF_CURR: &[ParamSpec] = &[
    TAU_M, CM, V_REST, V_RESET, V_THRESH, TAU_REFRAC, TAU_SYN_E, TAU_SYN_I, I_OFFSET,
];

pub const V: StateSpec = StateSpec {
    name: "v",
    dim: Dim::VOLTAGE,
    doc: "membrane potential (initial value default: v_rest)",
};
pub const I_E: StateSpec = StateSpec {
    name: "i_e",
    dim: Dim::CURRENT,
    doc: "excitatory synaptic current",
};
pub const I_I: StateSpec = StateSpec {
    name: "i_i",
    dim: Dim::CURRENT,
    doc: "inhibitory synaptic current",
};
pub const G_E: StateSpec = StateSpec {
    name: "g_e",
    dim: Dim::CONDUCTANCE,
    doc: "excitatory conductance",
};
pub const G_I: StateSpec = StateSpec {
    name: "g_i",
    dim: Dim::CONDUCTANCE,
    doc: "inhibitory conductance",
};
