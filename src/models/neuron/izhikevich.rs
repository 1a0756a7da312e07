//! `izhikevich`: the Izhikevich (2003) simple model (PyNN `Izhikevich`, NEST `izhikevich`).
//!
//! ```text
//! dv/dt = 0.04 v² + 5 v + 140 - u + I        (v in mV, t in ms)
//! du/dt = a (b v - u)
//! v >= 30 mV  =>  spike, v = c, u = u + d
//! ```
//! `I` is `i_offset` plus synaptic input. As in NEST, a current of 1 pA enters the equation
//! as 1 mV/ms (an implicit 1 pF capacitance), and a synaptic `weight` given as a voltage
//! jumps `v` directly. Reference: Izhikevich, IEEE Trans. Neural Netw. 14:1569 (2003).
//!
//! | parameter | default | unit |
//! |---|---|---|
//! | `a` | 0.02 | 1/ms |
//! | `b` | 0.2 | 1/ms |
//! | `c` | -65 | mV |
//! | `d` | 2 | mV/ms |
//! | `i_offset` | 0 | pA |

use super::{NeuronInfo, StateSpec};
use crate::models::{Mode, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::per_element("a", Dim::FREQUENCY, 0.02, Range::Any, "recovery time scale"),
    ParamSpec::per_element(
        "b",
        Dim::FREQUENCY,
        0.2,
        Range::Any,
        "sensitivity of u to v",
    ),
    ParamSpec::per_element("c", Dim::VOLTAGE, -65.0, Range::Any, "reset potential"),
    ParamSpec::per_element(
        "d",
        Dim::VOLTAGE_RATE,
        2.0,
        Range::Any,
        "after-spike increment of u",
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
        doc: "membrane potential (initial value default: -70 mV)",
    },
    StateSpec {
        name: "u",
        dim: Dim::VOLTAGE_RATE,
        doc: "recovery variable (initial value default: b·v)",
    },
];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "izhikevich",
    mode: Mode::Spiking,
    summary: "Izhikevich (2003) quadratic model with recovery variable",
    params: PARAMS,
    state: STATE,
    spikes: true,
    accepts_input: true,
};
