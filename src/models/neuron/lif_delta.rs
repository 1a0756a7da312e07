//! `lif_delta`: leaky integrate-and-fire neuron with delta synapses (NEST `iaf_psc_delta`,
//! PyNN `IF_curr_delta`, Brian2's `on_pre: v += w`).
//!
//! ```text
//! cm dv/dt = cm (v_rest - v)/tau_m + i_offset
//! a spike of weight w arriving at t:  v += w            (w a voltage)
//! v >= v_thresh  =>  spike, v = v_reset, clamped for tau_refrac
//! ```
//! The weight is the jump of `v` itself, as in Brunel (2000): `weight = 0.1 mV` is J.
//! Integrated exactly: `v(t+h) = v_inf + (v - v_inf)·exp(-h/tau_m)`,
//! `v_inf = v_rest + i_offset·tau_m/cm`; the jumps of the spikes arriving in the step are
//! added after the propagation and the threshold is tested on the result, so a spike
//! emitted with delay `d` can make its target fire in the step it arrives, exactly as
//! NEST's `iaf_psc_delta`. Spikes that arrive while the neuron is refractory are discarded
//! (NEST's default, `refractory_input = false`).
//!
//! | parameter | default | unit |
//! |---|---|---|
//! | `tau_m` | 20 | ms |
//! | `cm` | 1 | nF |
//! | `v_rest` | -65 | mV |
//! | `v_reset` | -65 | mV |
//! | `v_thresh` | -50 | mV |
//! | `tau_refrac` | 0.1 | ms |
//! | `i_offset` | 0 | nA |
//!
//! Defaults are PyNN's `IF_curr_delta` (those of `IF_curr_exp` without synaptic time
//! constants).

use std::ops::Range as IndexRange;

use super::dynamics::{
    self, Coefficients, Drive, GroupSpec, Input, Membrane, NeuronGroup, SpikingModel, Uniform,
    Values, all_same, collect_fired, steps, with_wide_simd,
};
use super::{NeuronInfo, StateSpec, pynn};
use crate::models::ParamSpec;
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    pynn::TAU_M,
    pynn::CM,
    pynn::V_REST,
    pynn::V_RESET,
    pynn::V_THRESH,
    pynn::TAU_REFRAC,
    pynn::I_OFFSET,
];

pub static STATE: &[StateSpec] = &[pynn::V];

pub static INFO: NeuronInfo = NeuronInfo::spiking(
    "lif_delta",
    "leaky integrate-and-fire, delta synapses (a weight is a jump of v)",
    PARAMS,
    STATE,
    &[Dim::VOLTAGE],
    &["i_offset"],
    &DYNAMICS,
);

/// The `lif_delta` dynamics (see the module documentation).
pub struct LifDelta;

pub static DYNAMICS: LifDelta = LifDelta;

struct LifDeltaGroup<C> {
    coefficients: C,
    /// A time course of `i_offset`, with v_rest and tau_m/cm per neuron to rebuild v_inf.
    drive: Option<(Drive, Values, Values)>,
    v: Vec<f32>,
    /// Steps of refractoriness left.
    refractory: Vec<i32>,
    fired: Vec<u8>,
}

impl SpikingModel for LifDelta {
    fn build(&self, spec: &GroupSpec) -> Result<Box<dyn NeuronGroup>, String> {
        let n = spec.n;
        let p = |name: &str| (spec.param)(name);
        let (tau_m, cm, v_rest, v_reset, v_thresh, tau_refrac, i_offset) = (
            p("tau_m")?,
            p("cm")?,
            p("v_rest")?,
            p("v_reset")?,
            p("v_thresh")?,
            p("tau_refrac")?,
            p("i_offset")?,
        );
        let h = spec.dt;
        let at = |i: usize| {
            let tm = tau_m.at(i);
            Membrane {
                v_inf: (v_rest.at(i) + i_offset.at(i) * tm / cm.at(i)) as f32,
                p_m: (-h / tm).exp() as f32,
                v_reset: v_reset.at(i) as f32,
                v_thresh: v_thresh.at(i) as f32,
                refrac_steps: steps(tau_refrac.at(i), h) as i32,
            }
        };
        let v = dynamics::initial(spec, "v", |i| v_rest.at(i))?;
        let drive = Drive::of(spec, "i_offset").map(|d| {
            let r = Values::Each((0..n).map(|i| tau_m.at(i) / cm.at(i)).collect());
            (d, v_rest.clone(), r)
        });
        fn group<C: Coefficients<Membrane>>(
            coefficients: C,
            v: Vec<f32>,
            drive: Option<(Drive, Values, Values)>,
        ) -> Box<dyn NeuronGroup> {
            let n = v.len();
            Box::new(LifDeltaGroup {
                coefficients,
                drive,
                v,
                refractory: vec![0; n],
                fired: vec![0; n],
            })
        }
        let all = [
            &tau_m,
            &cm,
            &v_rest,
            &v_reset,
            &v_thresh,
            &tau_refrac,
            &i_offset,
        ];
        Ok(if all_same(&all) {
            group(Uniform(at(0)), v, drive)
        } else {
            group((0..n).map(at).collect::<Vec<_>>(), v, drive)
        })
    }
}

impl<C: Coefficients<Membrane>> NeuronGroup for LifDeltaGroup<C> {
    fn step(&mut self, step: u64, input: Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        if let Some((drive, v_rest, r)) = &mut self.drive
            && let Some(current) = drive.changed(step)
        {
            self.coefficients
                .update(&|i, c| c.v_inf = (v_rest.at(i) + current * r.at(i)) as f32);
        }
        let n = self.v.len();
        let v = &mut self.v[..n];
        let (refractory, flags) = (&mut self.refractory[..n], &mut self.fired[..n]);
        let (exc, inh) = input.excitatory_inhibitory();
        let (exc, inh) = (&mut exc[..n], &mut inh[..n]);
        let coefficients = &self.coefficients;
        with_wide_simd(
            #[inline(always)]
            || {
                for i in 0..n {
                    let c = coefficients.at(i);
                    let jump = exc[i] + inh[i];
                    exc[i] = 0.0;
                    inh[i] = 0.0;
                    let (v_out, left, fire) = c.settle(c.relax(v[i]) + jump, refractory[i]);
                    (v[i], refractory[i], flags[i]) = (v_out, left, fire as u8);
                }
            },
        );
        collect_fired(flags, first_id, fired);
    }

    fn weight_factor(&self, dim: Dim, _: usize) -> Option<f32> {
        (dim == Dim::VOLTAGE).then_some(1.0)
    }

    fn read_state(&self, var: usize, range: IndexRange<usize>, out: &mut Vec<f32>) {
        if var == 0 {
            out.extend_from_slice(&self.v[range]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::neuron::dynamics::testing::{neuron, state, step};

    fn build(params: &[(&str, f64)], v0: f64) -> Box<dyn NeuronGroup> {
        neuron(&DYNAMICS, PARAMS, params, &[("v", v0)], 0.1)
    }

    /// Step `k` with a jump of `w` arriving (excitatory if positive): whether it fired.
    fn jump(group: &mut Box<dyn NeuronGroup>, k: u64, w: f32) -> bool {
        step(group.as_mut(), k, w.max(0.0), w.min(0.0))
    }

    fn v(group: &dyn NeuronGroup) -> f32 {
        state(group, 0)
    }

    #[test]
    fn a_weight_is_a_jump_of_v_that_then_decays_with_tau_m() {
        let mut g = build(&[("v_rest", 0.0), ("v_thresh", 20.0)], 0.0);
        jump(&mut g, 0, 0.5);
        assert!((v(g.as_ref()) - 0.5).abs() < 1e-6, "jump of 0.5 mV");
        for k in 1..=100 {
            jump(&mut g, k, 0.0);
        }
        // 100 steps of 0.1 ms = 10 ms = tau_m / 2.
        let expected = 0.5 * (-0.5f64).exp();
        assert!((v(g.as_ref()) as f64 - expected).abs() < 1e-5);
    }

    #[test]
    fn a_jump_across_threshold_fires_in_the_step_it_arrives() {
        let mut g = build(
            &[("v_rest", 0.0), ("v_thresh", 20.0), ("v_reset", 10.0)],
            19.95,
        );
        assert!(jump(&mut g, 0, 0.3));
        assert_eq!(v(g.as_ref()), 10.0);
    }

    #[test]
    fn input_during_refractoriness_is_discarded() {
        let mut g = build(
            &[
                ("v_rest", 0.0),
                ("v_thresh", 20.0),
                ("v_reset", 10.0),
                ("tau_refrac", 2.0),
            ],
            19.95,
        );
        assert!(jump(&mut g, 0, 0.3));
        for k in 1..=20 {
            assert!(!jump(&mut g, k, 5.0), "refractory at step {k}");
            assert_eq!(v(g.as_ref()), 10.0);
        }
        // Refractoriness over: a jump acts again.
        jump(&mut g, 21, 5.0);
        assert!(v(g.as_ref()) > 14.0);
    }
}
