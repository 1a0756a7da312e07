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
//!
//! ## Implementation
//!
//! Internally the synaptic variables are kept in millivolts (the voltage form): a current
//! weight `w` pA is stored as `w·tau_m/cm` mV, which makes both forms one linear system
//!
//! ```text
//! tau_m dv/dt = (v_inf - v) + i_e + i_i,   v_inf = v_rest + i_offset·tau_m/cm
//! ```
//!
//! integrated exactly over a step `h` with the propagator of NEST's `iaf_psc_exp` (Brian2's
//! `exact` method gives the same matrix):
//!
//! ```text
//! v(t+h)   = v_inf + (v - v_inf)·P_m + i_e·P_e + i_i·P_i
//! i_e(t+h) = i_e·exp(-h/tau_syn_e) + (input arriving in the step)
//! P_m = exp(-h/tau_m),  P_s = tau_s/(tau_s - tau_m)·(exp(-h/tau_s) - exp(-h/tau_m))
//!                       (→ h/tau_m·exp(-h/tau_m) when tau_s = tau_m)
//! ```
//!
//! Recorded `i_e`, `i_i` are converted back to pA. When every parameter is one number for the
//! whole population (the usual case), the coefficients are scalars and the update loop
//! vectorises; per-neuron parameters use per-neuron coefficient arrays.

use std::ops::Range as IndexRange;

use super::dynamics::{
    self, GroupSpec, IfCurr, Input, Membrane, NeuronGroup, SpikingModel, VoltageForm,
    collect_fired, decay_and_receive, with_wide_simd,
};
use super::{NeuronInfo, StateSpec, pynn};
use crate::models::ParamSpec;
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = pynn::IF_CURR;

pub static STATE: &[StateSpec] = &[pynn::V, pynn::I_E, pynn::I_I];

pub static INFO: NeuronInfo = NeuronInfo::spiking(
    "lif",
    "leaky integrate-and-fire, exponential synaptic currents, exact integration",
    PARAMS,
    STATE,
    &[Dim::VOLTAGE, Dim::CURRENT],
    &["i_offset"],
    &DYNAMICS,
);

/// The `lif` dynamics (see the module documentation).
pub struct Lif;

pub static DYNAMICS: Lif = Lif;

/// Propagator from an exponentially decaying synaptic variable to `v` over one step `h`.
fn synaptic_propagator(tau_s: f64, tau_m: f64, h: f64) -> f64 {
    if (tau_s - tau_m).abs() < 1e-9 * tau_m {
        h / tau_m * (-h / tau_m).exp()
    } else {
        tau_s / (tau_s - tau_m) * ((-h / tau_s).exp() - (-h / tau_m).exp())
    }
}

/// Per-step coefficients of one neuron, computed in f64 and stored in f32.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Coefficients {
    membrane: Membrane,
    p_e: f32,
    p_i: f32,
    decay_e: f32,
    decay_i: f32,
}

/// State of a group of `lif` neurons (structure of arrays).
struct LifGroup<C> {
    coefficients: C,
    v: Vec<f32>,
    /// Synaptic variables in mV (voltage form).
    i_e: Vec<f32>,
    i_i: Vec<f32>,
    /// Steps of refractoriness left.
    refractory: Vec<i32>,
    fired: Vec<u8>,
    form: VoltageForm,
}

impl SpikingModel for Lif {
    fn build(&self, spec: &GroupSpec) -> Result<Box<dyn NeuronGroup>, String> {
        let p = IfCurr::resolve(spec)?;
        let h = spec.dt;
        let at = |i: usize| {
            let tm = p.tau_m.at(i);
            let (tau_e, tau_i) = (p.tau_syn_e.at(i), p.tau_syn_i.at(i));
            Coefficients {
                membrane: p.membrane(i, h),
                p_e: synaptic_propagator(tau_e, tm, h) as f32,
                p_i: synaptic_propagator(tau_i, tm, h) as f32,
                decay_e: (-h / tau_e).exp() as f32,
                decay_i: (-h / tau_i).exp() as f32,
            }
        };
        let form = VoltageForm::new(spec, &p);
        let v = dynamics::initial(spec, "v", |i| p.v_rest.at(i))?;
        let i_e = form.initial(spec, "i_e")?;
        let i_i = form.initial(spec, "i_i")?;
        fn group<C: dynamics::Coefficients<Coefficients>>(
            coefficients: C,
            v: Vec<f32>,
            i_e: Vec<f32>,
            i_i: Vec<f32>,
            form: VoltageForm,
        ) -> Box<dyn NeuronGroup> {
            let n = v.len();
            Box::new(LifGroup {
                coefficients,
                v,
                i_e,
                i_i,
                refractory: vec![0; n],
                fired: vec![0; n],
                form,
            })
        }
        if p.uniform() {
            Ok(group(dynamics::Uniform(at(0)), v, i_e, i_i, form))
        } else {
            let per_neuron: Vec<Coefficients> = (0..spec.n).map(at).collect();
            Ok(group(per_neuron, v, i_e, i_i, form))
        }
    }
}

impl<C: dynamics::Coefficients<Coefficients>> NeuronGroup for LifGroup<C> {
    fn step(&mut self, step: u64, input: Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        self.form
            .follow_drive(step, &mut self.coefficients, |c| &mut c.membrane);
        let n = self.v.len();
        let (v, i_e, i_i) = (&mut self.v[..n], &mut self.i_e[..n], &mut self.i_i[..n]);
        let (refractory, flags) = (&mut self.refractory[..n], &mut self.fired[..n]);
        let (exc, inh) = input.excitatory_inhibitory();
        let (exc, inh) = (&mut exc[..n], &mut inh[..n]);
        let coefficients = &self.coefficients;
        with_wide_simd(
            #[inline(always)]
            || {
                for i in 0..n {
                    let c = coefficients.at(i);
                    let (e, h) = (i_e[i], i_i[i]);
                    let propagated = c.membrane.relax(v[i]) + e * c.p_e + h * c.p_i;
                    decay_and_receive(&mut i_e[i], c.decay_e, &mut exc[i]);
                    decay_and_receive(&mut i_i[i], c.decay_i, &mut inh[i]);
                    let (v_out, left, fire) = c.membrane.settle(propagated, refractory[i]);
                    (v[i], refractory[i], flags[i]) = (v_out, left, fire as u8);
                }
            },
        );
        collect_fired(flags, first_id, fired);
    }

    fn weight_factor(&self, dim: Dim, i: usize) -> Option<f32> {
        self.form.weight_factor(dim, i)
    }

    fn read_state(&self, var: usize, range: IndexRange<usize>, out: &mut Vec<f32>) {
        match var {
            0 => out.extend_from_slice(&self.v[range]),
            1 => self.form.read(&self.i_e, range, out),
            2 => self.form.read(&self.i_i, range, out),
            _ => {}
        }
    }
}
