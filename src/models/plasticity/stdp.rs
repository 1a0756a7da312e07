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

use super::{Learns, PlasticityInfo};
use crate::models::{ParamKind, ParamSpec, Range};
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
    learns: Learns::PairTraces(Stdp::from_params),
    summary: "pair-based STDP with traces",
    params: PARAMS,
};

/// The rule's numbers in the form the engine applies them (internal units; weights in the
/// projection's own unit, so `w_max` compares with them directly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stdp {
    pub tau_plus: f64,
    pub tau_minus: f64,
    /// Potentiation step `a_plus · w_max`.
    pub step_plus: f32,
    /// Depression step `a_minus · w_max`.
    pub step_minus: f32,
    pub w_max: f32,
    pub multiplicative: bool,
}

impl Stdp {
    /// Reads the rule's parameters through `lookup` (numbers, flags as 0/1; defaults already
    /// filled in by the checks; missing ones fall back to the spec's defaults). A lookup
    /// rather than `ir::Params`, so that `models` stays below `ir`.
    pub fn from_params(lookup: &dyn Fn(&str) -> Option<f64>) -> Result<Stdp, String> {
        let number = |name| super::number(lookup, PARAMS, INFO.name, name);
        let w_max = number("w_max")?;
        if !(w_max > 0.0 && w_max.is_finite()) {
            return Err(format!("stdp `w_max` must be > 0, not {w_max}"));
        }
        let (tau_plus, tau_minus) = (number("tau_plus")?, number("tau_minus")?);
        if tau_plus <= 0.0 || tau_minus <= 0.0 {
            return Err("stdp time constants must be > 0".into());
        }
        Ok(Stdp {
            tau_plus,
            tau_minus,
            step_plus: (number("a_plus")? * w_max) as f32,
            step_minus: (number("a_minus")? * w_max) as f32,
            w_max: w_max as f32,
            multiplicative: lookup("multiplicative").is_some_and(|x| x != 0.0),
        })
    }

    /// Weight after a presynaptic spike that meets the postsynaptic trace `y_post`.
    #[inline]
    pub fn depress(&self, w: f32, y_post: f32) -> f32 {
        let scale = if self.multiplicative {
            w / self.w_max
        } else {
            1.0
        };
        (w - self.step_minus * y_post * scale).clamp(0.0, self.w_max)
    }

    /// Weight after a postsynaptic spike that meets the presynaptic trace `x_pre`.
    #[inline]
    pub fn potentiate(&self, w: f32, x_pre: f32) -> f32 {
        let scale = if self.multiplicative {
            1.0 - w / self.w_max
        } else {
            1.0
        };
        (w + self.step_plus * x_pre * scale).clamp(0.0, self.w_max)
    }
}

/// A trace kept lazily: its value just after the last spike and the step of that spike, so
/// it is touched only when its neuron fires or a partner reads it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Trace {
    pub value: f32,
    pub last_step: u32,
}

impl Trace {
    /// The trace at step `step` (>= `last_step`), decaying with time constant `tau` (ms).
    #[inline]
    pub fn at(self, step: u32, dt: f64, tau: f64) -> f32 {
        if self.value == 0.0 {
            return 0.0;
        }
        self.value * (-((step - self.last_step) as f64) * dt / tau).exp() as f32
    }

    /// The trace after a spike at `step`: all-to-all pairing, each spike adds one.
    #[inline]
    pub fn spike(self, step: u32, dt: f64, tau: f64) -> Trace {
        Trace {
            value: self.at(step, dt, tau) + 1.0,
            last_step: step,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(multiplicative: bool) -> Stdp {
        Stdp {
            tau_plus: 20.0,
            tau_minus: 20.0,
            step_plus: 0.01,
            step_minus: 0.0105,
            w_max: 1.0,
            multiplicative,
        }
    }

    #[test]
    fn updates_stay_within_bounds_and_have_the_right_sign() {
        for multiplicative in [false, true] {
            let r = rule(multiplicative);
            assert!(r.potentiate(0.5, 1.0) > 0.5);
            assert!(r.depress(0.5, 1.0) < 0.5);
            assert_eq!(r.potentiate(1.0, 50.0), 1.0);
            assert_eq!(r.depress(0.0, 50.0), 0.0);
        }
        // Multiplicative potentiation vanishes at w_max, depression at 0.
        assert_eq!(rule(true).potentiate(1.0, 1.0), 1.0);
        assert_eq!(rule(true).depress(0.0, 1.0), 0.0);
    }

    #[test]
    fn traces_decay_exponentially_and_add_up() {
        let t = Trace::default().spike(0, 0.1, 20.0);
        assert_eq!(t.value, 1.0);
        let later = t.at(200, 0.1, 20.0); // 20 ms later
        assert!((later - (-1.0f32).exp()).abs() < 1e-6);
        let again = t.spike(200, 0.1, 20.0);
        assert!((again.value - (1.0 + (-1.0f32).exp())).abs() < 1e-6);
    }
}
