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
    self, Drive, GroupSpec, Input, NeuronGroup, SpikingModel, Values, collect_fired,
    decay_and_receive, fire_and_reset, steps, with_wide_simd,
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
    pynn::TAU_SYN_E,
    pynn::TAU_SYN_I,
    pynn::I_OFFSET,
];

pub static STATE: &[StateSpec] = &[
    pynn::V,
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
    v_inf: f32,
    p_m: f32,
    p_e: f32,
    p_i: f32,
    decay_e: f32,
    decay_i: f32,
    v_reset: f32,
    v_thresh: f32,
    refrac_steps: i32,
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
    /// tau_m / cm per neuron: mV of voltage form per pA.
    mv_per_pa: Values,
    /// A time course of `i_offset`, with v_rest per neuron to rebuild v_inf.
    drive: Option<(Drive, Values)>,
}

impl SpikingModel for Lif {
    fn build(&self, spec: &GroupSpec) -> Result<Box<dyn NeuronGroup>, String> {
        let n = spec.n;
        let p = |name: &str| (spec.param)(name);
        let (tau_m, cm, v_rest, v_reset, v_thresh) = (
            p("tau_m")?,
            p("cm")?,
            p("v_rest")?,
            p("v_reset")?,
            p("v_thresh")?,
        );
        let (tau_refrac, tau_e, tau_i, i_offset) = (
            p("tau_refrac")?,
            p("tau_syn_e")?,
            p("tau_syn_i")?,
            p("i_offset")?,
        );
        let all = [
            &tau_m,
            &cm,
            &v_rest,
            &v_reset,
            &v_thresh,
            &tau_refrac,
            &tau_e,
            &tau_i,
            &i_offset,
        ];
        let h = spec.dt;
        let at = |i: usize| {
            let tm = tau_m.at(i);
            let r = tm / cm.at(i);
            Coefficients {
                v_inf: (v_rest.at(i) + i_offset.at(i) * r) as f32,
                p_m: (-h / tm).exp() as f32,
                p_e: synaptic_propagator(tau_e.at(i), tm, h) as f32,
                p_i: synaptic_propagator(tau_i.at(i), tm, h) as f32,
                decay_e: (-h / tau_e.at(i)).exp() as f32,
                decay_i: (-h / tau_i.at(i)).exp() as f32,
                v_reset: v_reset.at(i) as f32,
                v_thresh: v_thresh.at(i) as f32,
                refrac_steps: steps(tau_refrac.at(i), h) as i32,
            }
        };
        let mv_per_pa = if tau_m.is_same() && cm.is_same() {
            Values::Same(tau_m.at(0) / cm.at(0))
        } else {
            Values::Each((0..n).map(|i| tau_m.at(i) / cm.at(i)).collect())
        };
        let init = |name: &str, default: &dyn Fn(usize) -> f64| -> Result<Vec<f32>, String> {
            Ok(match (spec.initial)(name)? {
                Some(values) => values.to_f32(n),
                None => (0..n).map(|i| default(i) as f32).collect(),
            })
        };
        let v = init("v", &|i| v_rest.at(i))?;
        // Initial currents are given in pA; the state holds them in mV.
        let mut i_e = init("i_e", &|_| 0.0)?;
        let mut i_i = init("i_i", &|_| 0.0)?;
        for i in 0..n {
            i_e[i] *= mv_per_pa.at(i) as f32;
            i_i[i] *= mv_per_pa.at(i) as f32;
        }
        let drive = Drive::of(spec, "i_offset").map(|d| (d, v_rest.clone()));
        fn group<C: dynamics::Coefficients<Coefficients>>(
            coefficients: C,
            v: Vec<f32>,
            i_e: Vec<f32>,
            i_i: Vec<f32>,
            mv_per_pa: Values,
            drive: Option<(Drive, Values)>,
        ) -> Box<dyn NeuronGroup> {
            let n = v.len();
            Box::new(LifGroup {
                coefficients,
                v,
                i_e,
                i_i,
                refractory: vec![0; n],
                fired: vec![0; n],
                mv_per_pa,
                drive,
            })
        }
        if all.iter().all(|values| values.is_same()) {
            Ok(group(
                dynamics::Uniform(at(0)),
                v,
                i_e,
                i_i,
                mv_per_pa,
                drive,
            ))
        } else {
            let per_neuron: Vec<Coefficients> = (0..n).map(at).collect();
            Ok(group(per_neuron, v, i_e, i_i, mv_per_pa, drive))
        }
    }
}

impl<C: dynamics::Coefficients<Coefficients>> NeuronGroup for LifGroup<C> {
    fn step(&mut self, step: u64, input: Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        if let Some((drive, v_rest)) = &mut self.drive
            && let Some(current) = drive.changed(step)
        {
            let r = &self.mv_per_pa;
            self.coefficients
                .update(&|i, c| c.v_inf = (v_rest.at(i) + current * r.at(i)) as f32);
        }
        let n = self.v.len();
        let (v, i_e, i_i) = (&mut self.v[..n], &mut self.i_e[..n], &mut self.i_i[..n]);
        let (refractory, flags) = (&mut self.refractory[..n], &mut self.fired[..n]);
        let (exc, inh) = (&mut input.excitatory[..n], &mut input.inhibitory[..n]);
        let coefficients = &self.coefficients;
        with_wide_simd(
            #[inline(always)]
            || {
                for i in 0..n {
                    let c = coefficients.at(i);
                    let (e, h) = (i_e[i], i_i[i]);
                    let propagated = c.v_inf + (v[i] - c.v_inf) * c.p_m + e * c.p_e + h * c.p_i;
                    let left = refractory[i];
                    let free = left <= 0;
                    let v_new = if free { propagated } else { c.v_reset };
                    decay_and_receive(&mut i_e[i], c.decay_e, &mut exc[i]);
                    decay_and_receive(&mut i_i[i], c.decay_i, &mut inh[i]);
                    let (v_out, left, fire) =
                        fire_and_reset(v_new, left, c.v_thresh, c.v_reset, c.refrac_steps);
                    (v[i], refractory[i], flags[i]) = (v_out, left, fire as u8);
                }
            },
        );
        collect_fired(flags, first_id, fired);
    }

    fn weight_factor(&self, dim: Dim, i: usize) -> Option<f32> {
        match dim {
            Dim::VOLTAGE => Some(1.0),
            Dim::CURRENT => Some(self.mv_per_pa.at(i) as f32),
            _ => None,
        }
    }

    fn read_state(&self, var: usize, range: IndexRange<usize>, out: &mut Vec<f32>) {
        match var {
            0 => out.extend_from_slice(&self.v[range]),
            1 | 2 => {
                let values = if var == 1 { &self.i_e } else { &self.i_i };
                out.extend(range.map(|i| values[i] / self.mv_per_pa.at(i) as f32));
            }
            _ => {}
        }
    }
}
