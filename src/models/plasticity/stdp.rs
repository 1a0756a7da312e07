//! `stdp`: pair-based spike-timing-dependent plasticity with traces (Song, Miller & Abbott 2000).
//!
//! ```text
//! on pre spike:   x_pre += 1;   w -= a_minus · w_max · y_post   (additive)
//! on post spike:  y_post += 1;  w += a_plus  · w_max · x_pre
//! dx_pre/dt = -x_pre / tau_plus,  dy_post/dt = -y_post / tau_minus
//! ```
//! Weights are clipped to [0, w_max]. `multiplicative = true` scales depression by `w/w_max`
//! and potentiation by `1 - w/w_max` (van Rossum et al. 2000). Updates happen per spike
//! event, never per step per synapse.

use super::PlasticityInfo;
use crate::models::{Mode, ParamKind, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::scalar(
        "tau_plus",
        Dim::TIME,
        20.0,
        Range::Positive,
        "pre-synaptic trace time constant",
    ),
    ParamSpec::scalar(
        "tau_minus",
        Dim::TIME,
        20.0,
        Range::Positive,
        "post-synaptic trace time constant",
    ),
    ParamSpec::scalar(
        "a_plus",
        Dim::NONE,
        0.01,
        Range::NonNegative,
        "potentiation step, fraction of w_max",
    ),
    ParamSpec::scalar(
        "a_minus",
        Dim::NONE,
        0.0105,
        Range::NonNegative,
        "depression step, fraction of w_max",
    ),
    ParamSpec {
        name: "w_max",
        kind: ParamKind::Quantity {
            dim: Dim::NONE,
            default: None,
            range: Range::Positive,
            per_element: false,
        },
        doc: "upper weight bound; same dimension as the projection's weight",
    },
    ParamSpec {
        name: "multiplicative",
        kind: ParamKind::Flag { default: false },
        doc: "weight-dependent updates",
    },
];

pub static INFO: PlasticityInfo = PlasticityInfo {
    name: "stdp",
    mode: Mode::Spiking,
    summary: "pair-based STDP with traces",
    params: PARAMS,
};
