//! `lif_alpha`: leaky integrate-and-fire neuron with alpha-shaped synaptic currents (PyNN
//! `IF_curr_alpha`, NEST `iaf_psc_alpha`).
//!
//! ```text
//! cm dv/dt          = cm (v_rest - v)/tau_m + i_e + i_i + i_offset      (currents in pA)
//! tau_syn_e di_e/dt = e·x_e - i_e,      tau_syn_e dx_e/dt = -x_e       (likewise i_i, x_i)
//! a spike of weight w arriving:  x_e += w
//! v >= v_thresh  =>  spike, v = v_reset, clamped for tau_refrac
//! ```
//! A spike of weight `w` arriving at `t0` gives the alpha current
//! `i_e(t) = w·e/tau_syn_e·(t - t0)·exp(-(t - t0)/tau_syn_e)`, which peaks at `w` when
//! `t - t0 = tau_syn_e` and carries the charge `e·w·tau_syn_e`. The rise variable `x_e` is
//! the exponential current `lif` would have (it receives the weights and decays with
//! `tau_syn_e`); `i_e` follows it. NEST's `iaf_psc_alpha` keeps `dI_syn_ex = e·x_e/tau_syn_ex`
//! (in pA/ms) instead, the same system in another variable. A projection's `weight` may be a
//! current (pA, as PyNN and NEST) or, as for `lif`, a voltage: then the synaptic variables
//! are in mV and enter `tau_m dv/dt = (v_rest - v) + i_e + i_i` directly (`w` mV is
//! `w·cm/tau_m` pA).
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
//! Defaults are PyNN's `IF_curr_alpha` (the same as its `IF_curr_exp`, `lif`). State: `v`,
//! `i_e`, `i_i`, `x_e`, `x_i` (the currents in pA), each recordable and initialisable.
//!
//! ## Integration
//!
//! The subthreshold system is linear, so it is integrated exactly (Rotter & Diesmann 1999),
//! as NEST's `iaf_psc_alpha` does: the propagator of `(x, i, v)` over a step `h` is computed
//! once when the group is built (in f64, stored in f32). The synaptic variables are held in
//! the voltage form (`dynamics::VoltageForm`: mV of `tau_m dv/dt`, so no `cm` appears), and
//! with `a = h/tau_m`, `b = h/tau_s` (per receptor) and `d = exp(-b)`:
//!
//! ```text
//! x(t+h) = d·x                                   (+ the weights arriving in the step)
//! i(t+h) = d·i + e·b·d·x
//! v(t+h) = v_inf + (v - v_inf)·exp(-a) + Σ_receptors (P_vi·i + P_vx·x)
//! P_vi = a·F_0,   P_vx = e·a·b·F_1,   F_k = ∫₀¹ u^k exp(-a(1-u) - b·u) du
//! ```
//!
//! `F_k` is the membrane's response, at the end of the step, to the synaptic kernel over it.
//! With `z = a - b`: `F_0 = (exp(-b) - exp(-a))/z` and `F_1 = (exp(-b) - F_0)/z`, which lose
//! precision as `z → 0` (`tau_s → tau_m`) and are 0/0 at `tau_s = tau_m`; for `|z| ≤ 1` they
//! are summed as the series `F_k = exp(-a)·Σ zⁿ/(n!·(n+k+1))` instead, exact at `z = 0`
//! (`F_0 = exp(-a)`, `F_1 = exp(-a)/2`: NEST's singular propagators) and accurate to f64
//! rounding around it. (NEST computes the regular formula and switches to the singular one
//! when the two differ by more than a bound; the series needs no such test.)
//!
//! Each step, as NEST: `v` is propagated with the synaptic variables of the step's start
//! (held at `v_reset` while refractory), then `i` and `x` advance, then the weights arriving
//! in the step are added to `x` (they act on `v` from the next step on), then the threshold
//! is tested. During refractoriness the synaptic currents go on evolving and receiving input.
//!
//! ## The PSP
//!
//! A weight `w` pA reaching a neuron at rest at `t = 0` (threshold out of reach) makes, with
//! `T = tau_s·tau_m/(tau_s - tau_m)`,
//!
//! ```text
//! v(t) - v_rest = w·e/(tau_s·cm) · [ t·exp(-t/tau_s)·T + (exp(-t/tau_m) - exp(-t/tau_s))·T² ]
//! v(t) - v_rest = w·e/(tau_s·cm) · t²/2 · exp(-t/tau_m)                  (tau_s = tau_m)
//! ```
//!
//! the alpha current convolved with the membrane's kernel `exp(-t/tau_m)/cm`; the unit tests
//! hold the simulated trace to it.

use std::ops::Range as IndexRange;

use super::dynamics::{
    self, GroupSpec, IfCurr, Input, Membrane, NeuronGroup, SpikingModel, Uniform, VoltageForm,
    collect_fired, decay_and_receive, with_wide_simd,
};
use super::{NeuronInfo, StateSpec, pynn};
use crate::models::ParamSpec;
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = pynn::IF_CURR;

pub static STATE: &[StateSpec] = &[
    pynn::V,
    pynn::I_E,
    pynn::I_I,
    StateSpec {
        name: "x_e",
        dim: Dim::CURRENT,
        doc: "rise variable of i_e: receives the weights, decays with tau_syn_e",
    },
    StateSpec {
        name: "x_i",
        dim: Dim::CURRENT,
        doc: "rise variable of i_i: receives the weights, decays with tau_syn_i",
    },
];

pub static INFO: NeuronInfo = NeuronInfo::spiking(
    "lif_alpha",
    "leaky integrate-and-fire, alpha-shaped synaptic currents, exact integration",
    PARAMS,
    STATE,
    &[Dim::VOLTAGE, Dim::CURRENT],
    &["i_offset"],
    &DYNAMICS,
);

/// The `lif_alpha` dynamics (see the module documentation).
pub struct LifAlpha;

pub static DYNAMICS: LifAlpha = LifAlpha;

/// `F_k` of the module documentation: `∫₀¹ u^k exp(-a(1-u) - b·u) du`, k = 0 or 1.
fn response(k: u8, a: f64, b: f64) -> f64 {
    let z = a - b;
    if z.abs() <= 1.0 {
        // exp(-a)·Σ zⁿ/(n!·(n+k+1)); after 20 terms the rest is below 1/20! ≈ 4e-19.
        let (mut sum, mut power) = (0.0, 1.0);
        for n in 0..20 {
            sum += power / f64::from(n + k + 1);
            power *= z / f64::from(n + 1);
        }
        (-a).exp() * sum
    } else {
        let f_0 = ((-b).exp() - (-a).exp()) / z;
        if k == 0 { f_0 } else { ((-b).exp() - f_0) / z }
    }
}

/// The alpha kernel of one receptor over a step (voltage form): how `x` and `i` advance and
/// what they add to `v`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Alpha {
    decay: f32,
    p_ix: f32,
    p_vi: f32,
    p_vx: f32,
}

impl Alpha {
    fn new(tau_s: f64, tau_m: f64, h: f64) -> Alpha {
        let (a, b, e) = (h / tau_m, h / tau_s, std::f64::consts::E);
        Alpha {
            decay: (-b).exp() as f32,
            p_ix: (e * b * (-b).exp()) as f32,
            p_vi: (a * response(0, a, b)) as f32,
            p_vx: (e * a * b * response(1, a, b)) as f32,
        }
    }

    /// What `i` and `x` add to `v` over the step.
    #[inline(always)]
    fn contribution(&self, i: f32, x: f32) -> f32 {
        self.p_vi * i + self.p_vx * x
    }

    /// `i` and `x` after the step, with what arrived in it (consumed) added to `x`.
    #[inline(always)]
    fn advance(&self, i: &mut f32, x: &mut f32, arriving: &mut f32) {
        *i = *i * self.decay + *x * self.p_ix;
        decay_and_receive(x, self.decay, arriving);
    }
}

/// Per-step coefficients of one neuron.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    membrane: Membrane,
    exc: Alpha,
    inh: Alpha,
}

/// The state of a group of `lif_alpha` neurons (structure of arrays; synaptic variables in
/// the voltage form).
struct State {
    v: Vec<f32>,
    i_e: Vec<f32>,
    i_i: Vec<f32>,
    x_e: Vec<f32>,
    x_i: Vec<f32>,
    /// Steps of refractoriness left.
    refractory: Vec<i32>,
    fired: Vec<u8>,
    form: VoltageForm,
}

struct LifAlphaGroup<C> {
    coefficients: C,
    state: State,
}

impl SpikingModel for LifAlpha {
    fn build(&self, spec: &GroupSpec) -> Result<Box<dyn NeuronGroup>, String> {
        let p = IfCurr::resolve(spec)?;
        let h = spec.dt;
        let at = |i: usize| Step {
            membrane: p.membrane(i, h),
            exc: Alpha::new(p.tau_syn_e.at(i), p.tau_m.at(i), h),
            inh: Alpha::new(p.tau_syn_i.at(i), p.tau_m.at(i), h),
        };
        let form = VoltageForm::new(spec, &p);
        let n = spec.n;
        let state = State {
            v: dynamics::initial(spec, "v", |i| p.v_rest.at(i))?,
            i_e: form.initial(spec, "i_e")?,
            i_i: form.initial(spec, "i_i")?,
            x_e: form.initial(spec, "x_e")?,
            x_i: form.initial(spec, "x_i")?,
            refractory: vec![0; n],
            fired: vec![0; n],
            form,
        };
        fn group<C: dynamics::Coefficients<Step>>(c: C, state: State) -> Box<dyn NeuronGroup> {
            Box::new(LifAlphaGroup {
                coefficients: c,
                state,
            })
        }
        Ok(if p.uniform() {
            group(Uniform(at(0)), state)
        } else {
            group((0..n).map(at).collect::<Vec<_>>(), state)
        })
    }
}

impl<C: dynamics::Coefficients<Step>> NeuronGroup for LifAlphaGroup<C> {
    fn step(&mut self, step: u64, input: Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        let s = &mut self.state;
        s.form
            .follow_drive(step, &mut self.coefficients, |c| &mut c.membrane);
        let n = s.v.len();
        let (v, i_e, i_i) = (&mut s.v[..n], &mut s.i_e[..n], &mut s.i_i[..n]);
        let (x_e, x_i) = (&mut s.x_e[..n], &mut s.x_i[..n]);
        let (refractory, flags) = (&mut s.refractory[..n], &mut s.fired[..n]);
        let (exc, inh) = input.excitatory_inhibitory();
        let (exc, inh) = (&mut exc[..n], &mut inh[..n]);
        let coefficients = &self.coefficients;
        with_wide_simd(
            #[inline(always)]
            || {
                for k in 0..n {
                    let c = coefficients.at(k);
                    let propagated = c.membrane.relax(v[k])
                        + c.exc.contribution(i_e[k], x_e[k])
                        + c.inh.contribution(i_i[k], x_i[k]);
                    c.exc.advance(&mut i_e[k], &mut x_e[k], &mut exc[k]);
                    c.inh.advance(&mut i_i[k], &mut x_i[k], &mut inh[k]);
                    let (v_out, left, fire) = c.membrane.settle(propagated, refractory[k]);
                    (v[k], refractory[k], flags[k]) = (v_out, left, fire as u8);
                }
            },
        );
        collect_fired(flags, first_id, fired);
    }

    fn weight_factor(&self, dim: Dim, i: usize) -> Option<f32> {
        self.state.form.weight_factor(dim, i)
    }

    fn read_state(&self, var: usize, range: IndexRange<usize>, out: &mut Vec<f32>) {
        let s = &self.state;
        match var {
            0 => out.extend_from_slice(&s.v[range]),
            1..=4 => s
                .form
                .read([&s.i_e, &s.i_i, &s.x_e, &s.x_i][var - 1], range, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::neuron::dynamics::testing::{neuron, state, step};

    const E: f64 = std::f64::consts::E;
    const DT: f64 = 0.1;

    /// The alpha current of a weight `w` pA at `t` ms after it arrived, in pA.
    fn psc(w: f64, tau_s: f64, t: f64) -> f64 {
        w * E / tau_s * t * (-t / tau_s).exp()
    }

    /// The PSP of that current through a membrane at rest, in mV (module documentation).
    fn psp(w: f64, tau_s: f64, tau_m: f64, cm: f64, t: f64) -> f64 {
        let scale = w * E / (tau_s * cm);
        // Closer than this the regular formula cancels in f64, and the PSP differs from the
        // degenerate one by less than 1e-6 of itself.
        if (tau_s - tau_m).abs() < 1e-6 * tau_m {
            scale * t * t / 2.0 * (-t / tau_m).exp()
        } else {
            let big_t = tau_s * tau_m / (tau_s - tau_m);
            let (decay_s, decay_m) = ((-t / tau_s).exp(), (-t / tau_m).exp());
            scale * (t * decay_s * big_t + (decay_m - decay_s) * big_t * big_t)
        }
    }

    /// Largest deviations of v - v_rest and of the current from the analytic PSP and PSC over
    /// 100 ms after one weight (`w_pa` pA, or its equivalent in `dim`) reaches a neuron at
    /// rest on `receptor` (0 excitatory, 1 inhibitory), relative to the peaks of the PSP and
    /// of the PSC (`|w_pa|`).
    fn worst_deviation(tau_s: f64, receptor: usize, dim: Dim, w_pa: f64) -> (f64, f64) {
        let (tau_m, cm, v_rest) = (20.0, 1000.0, -65.0);
        let tau_name = ["tau_syn_e", "tau_syn_i"][receptor];
        let set = [(tau_name, tau_s), ("v_thresh", 0.0)];
        let mut g = neuron(&DYNAMICS, PARAMS, &set, &[], DT);
        // A weight of `dim` whose current is w_pa, times what the engine multiplies it by.
        let w = if dim == Dim::VOLTAGE {
            w_pa * tau_m / cm
        } else {
            w_pa
        };
        let arriving = (w as f32) * g.weight_factor(dim, 0).expect("takes the weight");
        let input = [(arriving, 0.0), (0.0, arriving)][receptor];
        // The weight arrives in step 0: t = 0 is the end of step 0.
        assert!(!step(g.as_mut(), 0, input.0, input.1));
        let (mut worst_v, mut worst_i, mut peak_v) = (0.0f64, 0.0f64, 0.0f64);
        for k in 1..=1000u64 {
            let t = (k - 1) as f64 * DT;
            let (v, i) = (state(g.as_ref(), 0) as f64, state(g.as_ref(), 1 + receptor));
            let expected = psp(w_pa, tau_s, tau_m, cm, t);
            peak_v = peak_v.max(expected.abs());
            worst_v = worst_v.max((v - v_rest - expected).abs());
            worst_i = worst_i.max((i as f64 - psc(w_pa, tau_s, t)).abs());
            assert!(!step(g.as_mut(), k, 0.0, 0.0), "fired at {t} ms");
        }
        (worst_v / peak_v, worst_i / w_pa.abs())
    }

    #[test]
    fn one_weight_gives_the_analytic_alpha_current_and_psp() {
        // (tau_s, receptor, weight dimension, weight in pA). 1 nA makes PSPs of 7.5 mV
        // (tau_s = 5 ms) to 14.7 mV (tau_s = tau_m). Measured: 1.2e-5 of the peak
        // (9e-5 mV) at tau_s = 5 ms, 0.9e-5 (1.3e-4 mV) at tau_s = tau_m; the currents
        // within 5e-6 of theirs. What remains is f32: v near -65 mV holds 4e-6 mV per
        // rounding, and exp(-h/tau) stored in f32 compounds over the 1000 steps.
        let cases = [
            (5.0, 0, Dim::CURRENT, 1000.0),
            (2.0, 1, Dim::CURRENT, -1000.0),
            (5.0, 0, Dim::VOLTAGE, 1000.0),
            (20.0, 0, Dim::CURRENT, 1000.0),
            (20.0, 1, Dim::VOLTAGE, -500.0),
            (0.5, 0, Dim::CURRENT, 1000.0),
            (80.0, 0, Dim::CURRENT, 200.0),
        ];
        for (tau_s, receptor, dim, w) in cases {
            let (v, i) = worst_deviation(tau_s, receptor, dim, w);
            let case = format!("tau_s = {tau_s} ms, receptor {receptor}, {}", dim.name());
            assert!(v < 1e-4, "{case}: v off the PSP by {v:e} of its peak");
            assert!(
                i < 1e-4,
                "{case}: the current off the PSC by {i:e} of its peak"
            );
        }
    }

    #[test]
    fn a_synaptic_time_constant_next_to_tau_m_is_as_accurate_as_equal_ones() {
        // 1e-7 relative from tau_m, where the closed-form propagators would keep about half
        // of f64's digits; the reference is then the degenerate PSP (see `psp`).
        let near = worst_deviation(20.0 * (1.0 + 1e-7), 0, Dim::CURRENT, 1000.0);
        let equal = worst_deviation(20.0, 0, Dim::CURRENT, 1000.0);
        assert!(near.0 < 1e-4 && near.1 < 1e-4, "{near:?}");
        assert!((near.0 - equal.0).abs() < 1e-6, "{near:?} vs {equal:?}");
        // The series at z = a - b ≈ 0 gives the limits exp(-a) and exp(-a)/2.
        let (a, b) = (DT / 20.0, DT / (20.0 * (1.0 + 1e-7)));
        assert!((response(0, a, b) - (-a).exp()).abs() < 1e-9);
        assert!((response(1, a, b) - (-a).exp() / 2.0).abs() < 1e-9);
        // Where the series hands over to the closed form (|z| = 1) they agree.
        for k in [0, 1] {
            let (series, closed) = (response(k, 1.0 - 1e-12, 0.0), response(k, 1.0 + 1e-12, 0.0));
            assert!(
                (series - closed).abs() < 1e-11,
                "F_{k}: {series} vs {closed}"
            );
        }
    }

    #[test]
    fn a_constant_current_fires_with_the_analytic_interspike_interval() {
        let (tau_m, cm, v_rest, v_reset, v_thresh, tau_refrac) =
            (10.0, 250.0, -70.0, -72.0, -55.0, 2.0);
        for current in [400.0, 600.0, 1000.0, 2500.0] {
            let set = [
                ("tau_m", tau_m),
                ("cm", cm),
                ("v_rest", v_rest),
                ("v_reset", v_reset),
                ("v_thresh", v_thresh),
                ("tau_refrac", tau_refrac),
                ("i_offset", current),
            ];
            let mut g = neuron(&DYNAMICS, PARAMS, &set, &[], DT);
            let ri = current * tau_m / cm;
            let expected =
                tau_refrac + tau_m * ((ri - (v_reset - v_rest)) / (ri - (v_thresh - v_rest))).ln();
            let fired: Vec<f64> = (0..5000u64)
                .filter(|&k| step(g.as_mut(), k, 0.0, 0.0))
                .map(|k| (k + 1) as f64 * DT)
                .collect();
            assert!(fired.len() > 10, "I = {current} pA: {} spikes", fired.len());
            // Spikes fall on the step grid: the free part of the interval is rounded up to
            // whole steps, so the interval is late by less than a step.
            let on_grid = tau_refrac + ((expected - tau_refrac) / DT).ceil() * DT;
            for isi in fired.windows(2).map(|w| w[1] - w[0]) {
                assert!(
                    (isi - on_grid).abs() < 1e-6 && isi >= expected && isi < expected + DT,
                    "I = {current} pA: interval {isi} ms, analytic {expected} ms"
                );
            }
        }
    }

    #[test]
    fn while_refractory_v_is_held_and_the_current_goes_on() {
        // 3 nA peak: a PSP of about 20 mV from rest, which crosses v_thresh on its rise.
        let (w, tau_refrac) = (3000.0, 5.0);
        let set = [("tau_refrac", tau_refrac), ("v_reset", -70.0)];
        let mut g = neuron(&DYNAMICS, PARAMS, &set, &[], DT);
        let arriving = w as f32 * g.weight_factor(Dim::CURRENT, 0).expect("current");
        assert!(!step(g.as_mut(), 0, arriving, 0.0));
        let fired_in = (1..100u64)
            .find(|&k| step(g.as_mut(), k, 0.0, 0.0))
            .expect("fires");
        let held = (tau_refrac / DT).round() as u64;
        for k in fired_in + 1..=fired_in + held {
            assert!(!step(g.as_mut(), k, 0.0, 0.0));
            assert_eq!(state(g.as_ref(), 0), -70.0, "held at v_reset in step {k}");
            let t = k as f64 * DT;
            let i = state(g.as_ref(), 1) as f64;
            assert!(
                (i - psc(w, 5.0, t)).abs() < 1e-4 * w,
                "i_e at {t} ms: {i} pA"
            );
        }
        step(g.as_mut(), fired_in + held + 1, 0.0, 0.0);
        assert!(state(g.as_ref(), 0) > -70.0, "free again, pushed up by i_e");
    }
}
