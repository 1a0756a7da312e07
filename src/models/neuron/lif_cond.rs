//! `lif_cond`: leaky integrate-and-fire neuron with exponential synaptic conductances (PyNN
//! `IF_cond_exp`, NEST `iaf_cond_exp`).
//!
//! ```text
//! cm dv/dt = cm (v_rest - v)/tau_m + g_e (e_rev_e - v) + g_i (e_rev_i - v) + i_offset
//! dg_e/dt  = -g_e / tau_syn_e,   dg_i/dt = -g_i / tau_syn_i
//! ```
//! Weights are conductances (nS). Defaults are PyNN's `IF_cond_exp`
//! (`e_rev_e` = 0 mV, `e_rev_i` = -70 mV, the rest as `lif`).

use super::{NeuronInfo, StateSpec, dynamics, pynn};
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
    pynn::E_REV_E,
    pynn::E_REV_I,
    pynn::I_OFFSET,
];

pub static STATE: &[StateSpec] = &[pynn::V, pynn::G_E, pynn::G_I];

pub static INFO: NeuronInfo = NeuronInfo::spiking(
    "lif_cond",
    "leaky integrate-and-fire, exponential synaptic conductances",
    PARAMS,
    STATE,
    &[Dim::CONDUCTANCE],
    &["i_offset"],
    &DYNAMICS,
);

/// The `lif_cond` dynamics.
///
/// Integrator: exponential Euler (as Brian2's `exponential_euler`). Over one step the
/// conductances are held at their value at the start of the step, which makes the membrane
/// equation linear, `dv/dt = (v_inf - v)·g_tot/cm` with `g_tot = cm/tau_m + g_e + g_i`, and
/// it is solved exactly: `v ← v_inf + (v - v_inf)·exp(-dt·g_tot/cm)`. The conductances then
/// decay exactly and receive the step's input. Error is O(dt) in the conductance change
/// within a step only.
pub struct LifCond;

pub static DYNAMICS: LifCond = LifCond;

#[derive(Debug, Clone, Copy)]
struct Coefficients {
    g_leak: f32,
    leak_current: f32,
    minus_dt_over_cm: f32,
    e_rev_e: f32,
    e_rev_i: f32,
    decay_e: f32,
    decay_i: f32,
    v_reset: f32,
    v_thresh: f32,
    refrac_steps: i32,
}

struct LifCondGroup<C> {
    coefficients: C,
    /// A time course of `i_offset`, with g_leak·v_rest per neuron to rebuild the leak term.
    drive: Option<(dynamics::Drive, Vec<f64>)>,
    v: Vec<f32>,
    g_e: Vec<f32>,
    g_i: Vec<f32>,
    refractory: Vec<i32>,
    fired: Vec<u8>,
}

impl dynamics::SpikingModel for LifCond {
    fn build(&self, spec: &dynamics::GroupSpec) -> Result<Box<dyn dynamics::NeuronGroup>, String> {
        let p = |name: &str| (spec.param)(name);
        let (tau_m, cm, v_rest, v_reset, v_thresh) = (
            p("tau_m")?,
            p("cm")?,
            p("v_rest")?,
            p("v_reset")?,
            p("v_thresh")?,
        );
        let (tau_refrac, tau_e, tau_i, e_rev_e, e_rev_i, i_offset) = (
            p("tau_refrac")?,
            p("tau_syn_e")?,
            p("tau_syn_i")?,
            p("e_rev_e")?,
            p("e_rev_i")?,
            p("i_offset")?,
        );
        let h = spec.dt;
        let at = |i: usize| {
            let g_leak = cm.at(i) / tau_m.at(i);
            Coefficients {
                g_leak: g_leak as f32,
                leak_current: (g_leak * v_rest.at(i) + i_offset.at(i)) as f32,
                minus_dt_over_cm: (-h / cm.at(i)) as f32,
                e_rev_e: e_rev_e.at(i) as f32,
                e_rev_i: e_rev_i.at(i) as f32,
                decay_e: (-h / tau_e.at(i)).exp() as f32,
                decay_i: (-h / tau_i.at(i)).exp() as f32,
                v_reset: v_reset.at(i) as f32,
                v_thresh: v_thresh.at(i) as f32,
                refrac_steps: dynamics::steps(tau_refrac.at(i), h) as i32,
            }
        };
        let n = spec.n;
        let init =
            |name: &str, default: &dyn Fn(usize) -> f64| dynamics::initial(spec, name, default);
        let (v, g_e, g_i) = (
            init("v", &|i| v_rest.at(i))?,
            init("g_e", &|_| 0.0)?,
            init("g_i", &|_| 0.0)?,
        );
        let drive = dynamics::Drive::of(spec, "i_offset").map(|d| {
            let rest = (0..n)
                .map(|i| cm.at(i) / tau_m.at(i) * v_rest.at(i))
                .collect();
            (d, rest)
        });
        fn group<C: dynamics::Coefficients<Coefficients>>(
            coefficients: C,
            drive: Option<(dynamics::Drive, Vec<f64>)>,
            v: Vec<f32>,
            g_e: Vec<f32>,
            g_i: Vec<f32>,
        ) -> Box<dyn dynamics::NeuronGroup> {
            let n = v.len();
            Box::new(LifCondGroup {
                coefficients,
                drive,
                v,
                g_e,
                g_i,
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
            &tau_e,
            &tau_i,
            &e_rev_e,
            &e_rev_i,
            &i_offset,
        ];
        if dynamics::all_same(&all) {
            Ok(group(dynamics::Uniform(at(0)), drive, v, g_e, g_i))
        } else {
            Ok(group(
                (0..n).map(at).collect::<Vec<_>>(),
                drive,
                v,
                g_e,
                g_i,
            ))
        }
    }
}

impl<C: dynamics::Coefficients<Coefficients>> dynamics::NeuronGroup for LifCondGroup<C> {
    fn step(&mut self, step: u64, input: dynamics::Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        if let Some((drive, rest)) = &mut self.drive
            && let Some(current) = drive.changed(step)
        {
            self.coefficients
                .update(&|i, c| c.leak_current = (rest[i] + current) as f32);
        }
        let n = self.v.len();
        let (v, g_e, g_i) = (&mut self.v[..n], &mut self.g_e[..n], &mut self.g_i[..n]);
        let (refractory, flags) = (&mut self.refractory[..n], &mut self.fired[..n]);
        let (exc, inh) = input.excitatory_inhibitory();
        let (exc, inh) = (&mut exc[..n], &mut inh[..n]);
        let coefficients = &self.coefficients;
        dynamics::with_wide_simd(
            #[inline(always)]
            || {
                for i in 0..n {
                    let c = coefficients.at(i);
                    let (ge, gi) = (g_e[i], g_i[i]);
                    let g_total = c.g_leak + ge + gi;
                    let v_inf = (c.leak_current + ge * c.e_rev_e + gi * c.e_rev_i) / g_total;
                    let propagated =
                        v_inf + (v[i] - v_inf) * dynamics::fast_exp(c.minus_dt_over_cm * g_total);
                    let left = refractory[i];
                    let free = left <= 0;
                    let v_new = if free { propagated } else { c.v_reset };
                    dynamics::decay_and_receive(&mut g_e[i], c.decay_e, &mut exc[i]);
                    dynamics::decay_and_receive(&mut g_i[i], c.decay_i, &mut inh[i]);
                    let (v_out, left, fire) = dynamics::fire_and_reset(
                        v_new,
                        left,
                        c.v_thresh,
                        c.v_reset,
                        c.refrac_steps,
                    );
                    (v[i], refractory[i], flags[i]) = (v_out, left, fire as u8);
                }
            },
        );
        dynamics::collect_fired(flags, first_id, fired);
    }

    fn weight_factor(&self, dim: Dim, _: usize) -> Option<f32> {
        (dim == Dim::CONDUCTANCE).then_some(1.0)
    }

    fn read_state(&self, var: usize, range: std::ops::Range<usize>, out: &mut Vec<f32>) {
        let values = match var {
            0 => &self.v,
            1 => &self.g_e,
            2 => &self.g_i,
            _ => return,
        };
        out.extend_from_slice(&values[range]);
    }
}
