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

use super::{NeuronInfo, StateSpec, dynamics, pynn};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    pynn::TAU_M.with_default(9.3667),
    pynn::CM.with_default(281.0),
    pynn::V_REST.with_default(-70.6),
    pynn::V_RESET.with_default(-70.6),
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
    pynn::TAU_REFRAC,
    pynn::TAU_SYN_E,
    pynn::TAU_SYN_I,
    pynn::E_REV_E,
    pynn::E_REV_I.with_default(-80.0),
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
    pynn::I_OFFSET,
];

pub static STATE: &[StateSpec] = &[
    pynn::V,
    StateSpec {
        name: "w",
        dim: Dim::CURRENT,
        doc: "adaptation current",
    },
    pynn::G_E,
    pynn::G_I,
];

pub static INFO: NeuronInfo = NeuronInfo::spiking(
    "adex",
    "adaptive exponential integrate-and-fire, conductance synapses",
    PARAMS,
    STATE,
    &[Dim::CONDUCTANCE],
    &["i_offset"],
    &DYNAMICS,
);

/// The `adex` dynamics.
///
/// Integrator: Heun's method (explicit second-order Runge–Kutta) for `(v, w)` at `dt`, with
/// the conductances held at their start-of-step value, then decayed exactly. The exponential
/// term's argument is capped at `(v_spike - v_thresh)/delta_t`, so a trajectory that crosses
/// `v_spike` within a step stays finite and is caught by the threshold test. NEST's
/// `aeif_cond_exp` uses an adaptive RKF45 instead; at dt = 0.1 ms the spike times of the two
/// agree to about a step in the adaptation regime. During the refractory period `v` is
/// clamped to `v_reset` while `w` goes on relaxing.
pub struct Adex;

pub static DYNAMICS: Adex = Adex;

#[derive(Debug, Clone, Copy)]
struct Coefficients {
    g_leak: f32,
    v_rest: f32,
    v_thresh: f32,
    delta_t: f32,
    inv_delta_t: f32,
    exp_cap: f32,
    inv_cm: f32,
    e_rev_e: f32,
    e_rev_i: f32,
    a: f32,
    b: f32,
    inv_tau_w: f32,
    i_offset: f32,
    decay_e: f32,
    decay_i: f32,
    v_reset: f32,
    v_spike: f32,
    refrac_steps: i32,
}

impl Coefficients {
    /// dv/dt and dw/dt at (v, w) with conductances g_e, g_i.
    #[inline(always)]
    fn derivatives(&self, v: f32, w: f32, ge: f32, gi: f32) -> (f32, f32) {
        let spike_current = self.g_leak
            * self.delta_t
            * dynamics::fast_exp(((v - self.v_thresh) * self.inv_delta_t).min(self.exp_cap));
        let current = self.g_leak * (self.v_rest - v)
            + spike_current
            + ge * (self.e_rev_e - v)
            + gi * (self.e_rev_i - v)
            - w
            + self.i_offset;
        (
            current * self.inv_cm,
            (self.a * (v - self.v_rest) - w) * self.inv_tau_w,
        )
    }
}

struct AdexGroup<C> {
    coefficients: C,
    /// A time course of `i_offset`.
    drive: Option<dynamics::Drive>,
    dt: f32,
    v: Vec<f32>,
    w: Vec<f32>,
    g_e: Vec<f32>,
    g_i: Vec<f32>,
    refractory: Vec<i32>,
    fired: Vec<u8>,
}

impl dynamics::SpikingModel for Adex {
    fn build(&self, spec: &dynamics::GroupSpec) -> Result<Box<dyn dynamics::NeuronGroup>, String> {
        let p = |name: &str| (spec.param)(name);
        let names = [
            "tau_m",
            "cm",
            "v_rest",
            "v_reset",
            "v_thresh",
            "v_spike",
            "delta_t",
            "tau_refrac",
            "tau_syn_e",
            "tau_syn_i",
            "e_rev_e",
            "e_rev_i",
            "a",
            "b",
            "tau_w",
            "i_offset",
        ];
        let values = names.iter().map(|n| p(n)).collect::<Result<Vec<_>, _>>()?;
        let get = |name: &str, i: usize| {
            let k = names.iter().position(|n| *n == name).unwrap_or(0);
            values[k].at(i)
        };
        let h = spec.dt;
        let at = |i: usize| {
            let g_leak = get("cm", i) / get("tau_m", i);
            let delta_t = get("delta_t", i);
            Coefficients {
                g_leak: g_leak as f32,
                v_rest: get("v_rest", i) as f32,
                v_thresh: get("v_thresh", i) as f32,
                delta_t: delta_t as f32,
                inv_delta_t: (1.0 / delta_t) as f32,
                exp_cap: ((get("v_spike", i) - get("v_thresh", i)) / delta_t).min(80.0) as f32,
                inv_cm: (1.0 / get("cm", i)) as f32,
                e_rev_e: get("e_rev_e", i) as f32,
                e_rev_i: get("e_rev_i", i) as f32,
                a: get("a", i) as f32,
                b: get("b", i) as f32,
                inv_tau_w: (1.0 / get("tau_w", i)) as f32,
                i_offset: get("i_offset", i) as f32,
                decay_e: (-h / get("tau_syn_e", i)).exp() as f32,
                decay_i: (-h / get("tau_syn_i", i)).exp() as f32,
                v_reset: get("v_reset", i) as f32,
                v_spike: get("v_spike", i) as f32,
                refrac_steps: dynamics::steps(get("tau_refrac", i), h) as i32,
            }
        };
        let n = spec.n;
        let init =
            |name: &str, default: &dyn Fn(usize) -> f64| dynamics::initial(spec, name, default);
        let state = [
            init("v", &|i| get("v_rest", i))?,
            init("w", &|_| 0.0)?,
            init("g_e", &|_| 0.0)?,
            init("g_i", &|_| 0.0)?,
        ];
        let drive = dynamics::Drive::of(spec, "i_offset");
        fn group<C: dynamics::Coefficients<Coefficients>>(
            coefficients: C,
            drive: Option<dynamics::Drive>,
            dt: f32,
            [v, w, g_e, g_i]: [Vec<f32>; 4],
        ) -> Box<dyn dynamics::NeuronGroup> {
            let n = v.len();
            Box::new(AdexGroup {
                coefficients,
                drive,
                dt,
                v,
                w,
                g_e,
                g_i,
                refractory: vec![0; n],
                fired: vec![0; n],
            })
        }
        let refs: Vec<&dynamics::Values> = values.iter().collect();
        if dynamics::all_same(&refs) {
            Ok(group(dynamics::Uniform(at(0)), drive, h as f32, state))
        } else {
            Ok(group(
                (0..n).map(at).collect::<Vec<_>>(),
                drive,
                h as f32,
                state,
            ))
        }
    }
}

impl<C: dynamics::Coefficients<Coefficients>> dynamics::NeuronGroup for AdexGroup<C> {
    fn step(&mut self, step: u64, input: dynamics::Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        if let Some(current) = self.drive.as_mut().and_then(|d| d.changed(step)) {
            self.coefficients
                .update(&|_, c| c.i_offset = current as f32);
        }
        let n = self.v.len();
        let h = self.dt;
        let (v, w) = (&mut self.v[..n], &mut self.w[..n]);
        let (g_e, g_i) = (&mut self.g_e[..n], &mut self.g_i[..n]);
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
                    let left = refractory[i];
                    let free = left <= 0;
                    let v0 = if free { v[i] } else { c.v_reset };
                    let (dv1, dw1) = c.derivatives(v0, w[i], ge, gi);
                    let dv1 = if free { dv1 } else { 0.0 };
                    let (v1, w1) = (v0 + h * dv1, w[i] + h * dw1);
                    let (dv2, dw2) = c.derivatives(v1, w1, ge, gi);
                    let dv2 = if free { dv2 } else { 0.0 };
                    let v_new = v0 + 0.5 * h * (dv1 + dv2);
                    let w_new = w[i] + 0.5 * h * (dw1 + dw2);
                    dynamics::decay_and_receive(&mut g_e[i], c.decay_e, &mut exc[i]);
                    dynamics::decay_and_receive(&mut g_i[i], c.decay_i, &mut inh[i]);
                    let (v_out, left, fire) =
                        dynamics::fire_and_reset(v_new, left, c.v_spike, c.v_reset, c.refrac_steps);
                    w[i] = if fire { w_new + c.b } else { w_new };
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
            1 => &self.w,
            2 => &self.g_e,
            3 => &self.g_i,
            _ => return,
        };
        out.extend_from_slice(&values[range]);
    }
}
