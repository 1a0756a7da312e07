//! The interface between a spiking neuron model and the spiking engine.
//!
//! A model file implements [`SpikingModel`]: from resolved parameters it builds a
//! [`NeuronGroup`], the state of a contiguous range of neurons of one population stored as
//! structure-of-arrays. The engine calls `NeuronGroup::step` once per group per step (one
//! virtual call, then a monomorphic loop over the neurons), hands it the synaptic input that
//! arrives in that step, and collects the indices of the neurons that fired.
//!
//! Conventions shared by every model (so that NEST and Brian2 users find what they expect):
//! - Step `n` advances the state from `n·dt` to `(n+1)·dt`; a spike found in it is stamped
//!   `(n+1)·dt`.
//! - Synaptic input arriving in step `n` is added to the synaptic variables at the end of the
//!   step (after the membrane update), so it acts on `v` from step `n+1` on; with the minimum
//!   delay of one step, a spike influences its target one step after it was emitted.
//! - During the refractory period `v` is clamped to `v_reset`; synaptic variables go on
//!   decaying and receiving input.
//!
//! Below the interface are the pieces several models share: the end of an integrate-and-fire
//! step ([`fire_and_reset`]), an exponential synaptic variable ([`decay_and_receive`]), and
//! the membrane of PyNN's current-based cells ([`IfCurr`], [`Membrane`], [`VoltageForm`]),
//! which the models with different synaptic kernels (`lif`'s exponential) build on.

use std::ops::Range;

use rand_xoshiro::Xoshiro256PlusPlus;

use crate::units::Dim;

/// Values of one parameter for the neurons of a group.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// The same value for every neuron.
    Same(f64),
    /// One value per neuron of the group.
    Each(Vec<f64>),
}

impl Values {
    pub fn at(&self, i: usize) -> f64 {
        match self {
            Values::Same(x) => *x,
            Values::Each(v) => v[i],
        }
    }

    pub fn is_same(&self) -> bool {
        matches!(self, Values::Same(_))
    }

    /// One f32 per neuron (broadcasting a shared value).
    pub fn to_f32(&self, n: usize) -> Vec<f32> {
        (0..n).map(|i| self.at(i) as f32).collect()
    }
}

/// Everything a model needs to build the state of `n` neurons.
pub struct GroupSpec<'a> {
    /// Neurons in this group.
    pub n: usize,
    /// Integration step, ms.
    pub dt: f64,
    /// Resolved parameter by name (one of the model's `params`): a number, or per-neuron draws.
    pub param: &'a dyn Fn(&str) -> Result<Values, String>,
    /// Initial value of a state variable if the population block gave one.
    pub initial: &'a dyn Fn(&str) -> Result<Option<Values>, String>,
    /// A list-valued parameter (`times`), in internal units.
    pub list: &'a dyn Fn(&str) -> Option<Vec<f64>>,
    /// The course in time of a parameter given as `steps(...)` or `ramp(...)` (only those
    /// the model lists in `NeuronInfo::time_varying`); `param` then gives its value at 0.
    pub course: &'a dyn Fn(&str) -> Option<crate::models::course::TimeCourse>,
    /// The random stream of neuron `i` of the group; independent of how the population is
    /// split between threads.
    pub neuron_stream: &'a dyn Fn(usize) -> Xoshiro256PlusPlus,
    /// The white-noise stream of neuron `i` of the group (`xi` of a user-defined model),
    /// independent of the split too and of `neuron_stream`.
    pub noise_stream: &'a dyn Fn(usize) -> Xoshiro256PlusPlus,
}

/// A model the spiking engine can run: one static value per model file.
pub trait SpikingModel: Sync {
    /// Builds the state of a group; an error message says which parameter is unusable.
    fn build(&self, spec: &GroupSpec) -> Result<Box<dyn NeuronGroup>, String>;
}

/// Synaptic input arriving at a group in one step: one channel per receptor the model reads
/// (`NeuronInfo::receptors`, in that order; the built-in models read excitatory, then
/// inhibitory), each indexed like the group's neurons. The group reads every entry and sets
/// it back to zero (the engine reuses the buffer).
pub struct Input<'a> {
    /// Channel `c` of neuron `i` is `values[c · n + i]`.
    values: &'a mut [f32],
    n: usize,
}

impl<'a> Input<'a> {
    /// The input of `n` neurons held channel after channel in `values` (a multiple of `n`
    /// long).
    pub fn new(values: &'a mut [f32], n: usize) -> Input<'a> {
        debug_assert!(values.len().is_multiple_of(n.max(1)), "whole channels");
        Input { values, n }
    }

    pub fn n_channels(&self) -> usize {
        self.values.len().checked_div(self.n).unwrap_or(0)
    }

    /// What arrived on channel `c`, one value per neuron.
    pub fn channel(&self, c: usize) -> &[f32] {
        &self.values[c * self.n..(c + 1) * self.n]
    }

    /// Channel `c`, to clear what was read.
    pub fn channel_mut(&mut self, c: usize) -> &mut [f32] {
        &mut self.values[c * self.n..(c + 1) * self.n]
    }

    /// The excitatory and inhibitory channels of a built-in model (channels 0 and 1), one
    /// value per neuron each, to read and clear in the model's loop.
    pub fn excitatory_inhibitory(self) -> (&'a mut [f32], &'a mut [f32]) {
        let n = self.n;
        let (exc, rest) = self.values.split_at_mut(n);
        (exc, &mut rest[..n])
    }
}

/// The state of a contiguous range of neurons of one population.
pub trait NeuronGroup: Send {
    /// Advances step `step`; appends `first_id + i` for every neuron `i` that fired, ascending.
    fn step(&mut self, step: u64, input: Input<'_>, first_id: u32, fired: &mut Vec<u32>);

    /// Factor turning a synaptic weight of dimension `dim` (internal units) into what this
    /// model adds to its synaptic variable for neuron `i`; `None` if the model does not take
    /// weights of that dimension.
    fn weight_factor(&self, dim: Dim, i: usize) -> Option<f32>;

    /// Appends the values of state variable number `var` (index into `info().state`) of
    /// neurons `range`, in the variable's documented unit.
    fn read_state(&self, var: usize, range: Range<usize>, out: &mut Vec<f32>);

    /// A state variable that is no longer a finite number (an equation that divides by
    /// zero, an explicit method stepping past its stability limit), named with the first
    /// neuron (index within the group) where it is. The built-in models cannot diverge.
    fn diverged(&self) -> Option<(String, usize)> {
        None
    }
}

/// Per-neuron coefficients of a model: one value shared by the whole group ([`Uniform`], so
/// the update loop works on scalars and vectorises) or one per neuron (`Vec<T>`). A model's
/// group is generic over this, so both cases are monomorphic.
pub trait Coefficients<T>: Send + 'static {
    fn at(&self, i: usize) -> T;
    /// Changes the coefficients of every neuron (index, coefficients) in place.
    fn update(&mut self, f: &dyn Fn(usize, &mut T));
}

/// The same coefficients for every neuron of a group.
pub struct Uniform<T>(pub T);

impl<T: Copy + Send + 'static> Coefficients<T> for Uniform<T> {
    #[inline(always)]
    fn at(&self, _: usize) -> T {
        self.0
    }

    fn update(&mut self, f: &dyn Fn(usize, &mut T)) {
        f(0, &mut self.0)
    }
}

impl<T: Copy + Send + 'static> Coefficients<T> for Vec<T> {
    #[inline(always)]
    fn at(&self, i: usize) -> T {
        self[i]
    }

    fn update(&mut self, f: &dyn Fn(usize, &mut T)) {
        for (i, c) in self.iter_mut().enumerate() {
            f(i, c)
        }
    }
}

/// A parameter that follows a course in time (`i_offset = steps(...)`): tells a group, at
/// the start of each step, the value when it differs from the previous step's.
pub struct Drive {
    course: crate::models::course::TimeCourse,
    dt: f64,
    last: f64,
}

impl Drive {
    /// The drive of parameter `name`, if the population gave it a course.
    pub fn of(spec: &GroupSpec, name: &str) -> Option<Drive> {
        (spec.course)(name).map(|course| Drive {
            last: course.at(0.0),
            course,
            dt: spec.dt,
        })
    }

    /// The value for step `step` (held over the step, taken at its start), if it changed.
    pub fn changed(&mut self, step: u64) -> Option<f64> {
        let now = self.course.at(step as f64 * self.dt);
        (now != self.last).then(|| {
            self.last = now;
            now
        })
    }
}

/// The initial values of state variable `name` of a group: what the population block gave,
/// else `default` of each neuron.
pub fn initial(
    spec: &GroupSpec,
    name: &str,
    default: impl Fn(usize) -> f64,
) -> Result<Vec<f32>, String> {
    Ok(match (spec.initial)(name)? {
        Some(values) => values.to_f32(spec.n),
        None => (0..spec.n).map(|i| default(i) as f32).collect(),
    })
}

/// Whether every one of `values` is a single number for the whole group.
pub fn all_same(values: &[&Values]) -> bool {
    values.iter().all(|v| v.is_same())
}

/// The end of a step of an integrate-and-fire neuron. `v_new` is where the membrane went
/// (held at the reset while refractory); crossing `v_thresh` outside the refractory period
/// fires, resets to `v_reset` and starts `refrac_steps` of refractoriness, otherwise the
/// count runs down. Returns (v, refractory steps left, fired). Inlined into each model's
/// loop, so it vectorises there.
#[inline(always)]
pub fn fire_and_reset(
    v_new: f32,
    left: i32,
    v_thresh: f32,
    v_reset: f32,
    refrac_steps: i32,
) -> (f32, i32, bool) {
    let fire = (left <= 0) & (v_new >= v_thresh);
    let v = if fire { v_reset } else { v_new };
    let left = if fire {
        refrac_steps
    } else {
        (left - 1).max(0)
    };
    (v, left, fire)
}

/// An exponentially decaying synaptic variable after one step: decayed exactly, plus what
/// arrived during the step (which is consumed).
#[inline(always)]
pub fn decay_and_receive(x: &mut f32, decay: f32, arriving: &mut f32) {
    *x = *x * decay + *arriving;
    *arriving = 0.0;
}

/// Appends the indices of the non-zero flags, offset by `first_id`. Flags are mostly zero,
/// so blocks of 32 are skipped at once.
pub fn collect_fired(flags: &[u8], first_id: u32, fired: &mut Vec<u32>) {
    let mut base = 0usize;
    let mut chunks = flags.chunks_exact(32);
    for chunk in &mut chunks {
        let any = chunk.chunks_exact(8).fold(0u64, |acc, c| {
            acc | u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]))
        });
        if any != 0 {
            for (j, &f) in chunk.iter().enumerate() {
                if f != 0 {
                    fired.push(first_id + (base + j) as u32);
                }
            }
        }
        base += 32;
    }
    for (j, &f) in chunks.remainder().iter().enumerate() {
        if f != 0 {
            fired.push(first_id + (base + j) as u32);
        }
    }
}

/// `exp(x)` in f32 without a library call, so that loops using it vectorise. Relative error
/// below 3e-7 on [-87, 88]; inputs outside are clamped (giving 0 or a large finite value).
/// Uses only operations the x86-64 baseline (SSE2) has as instructions: no `round`, no
/// fused multiply-add (either would become a library call per element there).
#[inline(always)]
pub fn fast_exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // exp(x) = 2^k · exp(r), k = round(x / ln 2), |r| <= ln2 / 2 (Cody–Waite reduction).
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer in f32 arithmetic.
    const ROUNDER: f32 = 12_582_912.0;
    let k = (x * std::f32::consts::LOG2_E + ROUNDER) - ROUNDER;
    let r = x - k * 0.693_145_75;
    let r = r - k * 1.428_606_8e-6;
    // Degree-6 Taylor polynomial of exp on the reduced range.
    let p = 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    p * scale
}

/// Runs `f` compiled for the widest vector instructions the processor has (AVX-512, else
/// AVX2 with FMA), for the baseline otherwise. A model's update loop called through this
/// (with `#[inline(always)]` down to the loop) is vectorised 16 or 8 wide instead of 4
/// without building the crate for one processor.
#[inline(always)]
pub fn with_wide_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
        fn widest<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        fn wide<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512vl") && has!("avx2") && has!("fma") {
            // SAFETY: the processor supports every feature enabled, checked just above.
            return unsafe { widest(f) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: the processor supports AVX2 and FMA, checked just above.
            return unsafe { wide(f) };
        }
    }
    f()
}

/// Steps that `ms` lasts at step `dt`, rounded to the nearest step.
pub fn steps(ms: f64, dt: f64) -> u32 {
    (ms / dt).round().max(0.0) as u32
}

/// The parameters of PyNN's current-based cells (`pynn::IF_CURR`) resolved for a group.
pub struct IfCurr {
    pub tau_m: Values,
    pub cm: Values,
    pub v_rest: Values,
    pub v_reset: Values,
    pub v_thresh: Values,
    pub tau_refrac: Values,
    pub tau_syn_e: Values,
    pub tau_syn_i: Values,
    pub i_offset: Values,
}

impl IfCurr {
    pub fn resolve(spec: &GroupSpec) -> Result<IfCurr, String> {
        let p = |name: &str| (spec.param)(name);
        Ok(IfCurr {
            tau_m: p("tau_m")?,
            cm: p("cm")?,
            v_rest: p("v_rest")?,
            v_reset: p("v_reset")?,
            v_thresh: p("v_thresh")?,
            tau_refrac: p("tau_refrac")?,
            tau_syn_e: p("tau_syn_e")?,
            tau_syn_i: p("tau_syn_i")?,
            i_offset: p("i_offset")?,
        })
    }

    /// Whether every parameter is one number for the whole group (so are the coefficients).
    pub fn uniform(&self) -> bool {
        all_same(&[
            &self.tau_m,
            &self.cm,
            &self.v_rest,
            &self.v_reset,
            &self.v_thresh,
            &self.tau_refrac,
            &self.tau_syn_e,
            &self.tau_syn_i,
            &self.i_offset,
        ])
    }

    /// The membrane coefficients of neuron `i` over a step of `h` ms.
    pub fn membrane(&self, i: usize, h: f64) -> Membrane {
        let tau_m = self.tau_m.at(i);
        Membrane {
            v_inf: (self.v_rest.at(i) + self.i_offset.at(i) * (tau_m / self.cm.at(i))) as f32,
            p_m: (-h / tau_m).exp() as f32,
            v_reset: self.v_reset.at(i) as f32,
            v_thresh: self.v_thresh.at(i) as f32,
            refrac_steps: steps(self.tau_refrac.at(i), h) as i32,
        }
    }
}

/// The membrane of one leaky integrate-and-fire neuron over a step: without synaptic input
/// `v` relaxes exactly towards `v_inf = v_rest + i_offset·tau_m/cm`,
/// `v(t+h) = v_inf + (v - v_inf)·p_m` with `p_m = exp(-h/tau_m)`; a model adds what its
/// synaptic variables contribute over the step, then [`Membrane::settle`] ends the step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Membrane {
    pub v_inf: f32,
    pub p_m: f32,
    pub v_reset: f32,
    pub v_thresh: f32,
    pub refrac_steps: i32,
}

impl Membrane {
    /// `v` after one step without synaptic input.
    #[inline(always)]
    pub fn relax(&self, v: f32) -> f32 {
        self.v_inf + (v - self.v_inf) * self.p_m
    }

    /// The end of the step: `propagated` is where `v` went (taken only outside the
    /// refractory period, which has `left` steps to run); see [`fire_and_reset`].
    #[inline(always)]
    pub fn settle(&self, propagated: f32, left: i32) -> (f32, i32, bool) {
        let v_new = if left <= 0 { propagated } else { self.v_reset };
        fire_and_reset(v_new, left, self.v_thresh, self.v_reset, self.refrac_steps)
    }
}

/// How a current-based model keeps its synaptic variables: in the voltage form, the
/// millivolts they add to `tau_m dv/dt = (v_inf - v) + ...`. A current of `x` pA is
/// `x·tau_m/cm` mV, so a projection's weight may be a voltage (taken as it is, as in
/// Brian2's CUBA example) or a current (as in PyNN and NEST), and the model's propagators
/// need no capacitance. Also follows the course in time of `i_offset`, which moves `v_inf`.
pub struct VoltageForm {
    /// tau_m / cm per neuron: mV of voltage form per pA.
    mv_per_pa: Values,
    /// A time course of `i_offset`, with v_rest per neuron to rebuild v_inf.
    drive: Option<(Drive, Values)>,
}

impl VoltageForm {
    pub fn new(spec: &GroupSpec, p: &IfCurr) -> VoltageForm {
        let mv_per_pa = if p.tau_m.is_same() && p.cm.is_same() {
            Values::Same(p.tau_m.at(0) / p.cm.at(0))
        } else {
            Values::Each((0..spec.n).map(|i| p.tau_m.at(i) / p.cm.at(i)).collect())
        };
        let drive = Drive::of(spec, "i_offset").map(|d| (d, p.v_rest.clone()));
        VoltageForm { mv_per_pa, drive }
    }

    /// The initial values of synaptic variable `name` (0 unless the population block gives
    /// them, in pA), in the voltage form.
    pub fn initial(&self, spec: &GroupSpec, name: &str) -> Result<Vec<f32>, String> {
        let mut x = initial(spec, name, |_| 0.0)?;
        for (i, x) in x.iter_mut().enumerate() {
            *x *= self.mv_per_pa.at(i) as f32;
        }
        Ok(x)
    }

    /// At the start of step `step`: if `i_offset` changed, the new `v_inf` of every neuron,
    /// written into the membrane (`membrane` of the model's coefficients).
    pub fn follow_drive<T, C: Coefficients<T>>(
        &mut self,
        step: u64,
        coefficients: &mut C,
        membrane: fn(&mut T) -> &mut Membrane,
    ) {
        if let Some((drive, v_rest)) = &mut self.drive
            && let Some(current) = drive.changed(step)
        {
            let r = &self.mv_per_pa;
            coefficients.update(&|i, c| {
                membrane(c).v_inf = (v_rest.at(i) + current * r.at(i)) as f32;
            });
        }
    }

    /// `NeuronGroup::weight_factor` of a current-based model.
    pub fn weight_factor(&self, dim: Dim, i: usize) -> Option<f32> {
        match dim {
            Dim::VOLTAGE => Some(1.0),
            Dim::CURRENT => Some(self.mv_per_pa.at(i) as f32),
            _ => None,
        }
    }

    /// Appends synaptic variable `x` (voltage form) of neurons `range` in pA.
    pub fn read(&self, x: &[f32], range: Range<usize>, out: &mut Vec<f32>) {
        out.extend(range.map(|i| x[i] / self.mv_per_pa.at(i) as f32));
    }
}

/// Driving one neuron of a model by hand, for the models' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use rand::SeedableRng;

    use super::*;
    use crate::models::ParamSpec;

    /// One neuron of `model` at step `dt`: the defaults of `params` but those `set`, the
    /// state variables `initial` given, the rest at their defaults.
    pub fn neuron(
        model: &dyn SpikingModel,
        params: &[ParamSpec],
        set: &[(&str, f64)],
        initial: &[(&str, f64)],
        dt: f64,
    ) -> Box<dyn NeuronGroup> {
        let find = |list: &[(&str, f64)], name: &str| {
            list.iter().find(|(n, _)| *n == name).map(|&(_, x)| x)
        };
        let param = |name: &str| -> Result<Values, String> {
            let spec = params.iter().find(|p| p.name == name).ok_or("no such")?;
            let default = || spec.default_number().unwrap_or(0.0);
            Ok(Values::Same(find(set, name).unwrap_or_else(default)))
        };
        let initial = |name: &str| Ok(find(initial, name).map(Values::Same));
        let stream = |_: usize| rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0);
        let spec = GroupSpec {
            n: 1,
            dt,
            param: &param,
            initial: &initial,
            list: &|_| None,
            course: &|_| None,
            neuron_stream: &stream,
            noise_stream: &stream,
        };
        model.build(&spec).expect("builds")
    }

    /// Step `k` with `excitatory` and `inhibitory` input arriving: whether the neuron fired.
    pub fn step(neuron: &mut dyn NeuronGroup, k: u64, excitatory: f32, inhibitory: f32) -> bool {
        let mut values = [excitatory, inhibitory];
        let mut fired = Vec::new();
        neuron.step(k, Input::new(&mut values, 1), 0, &mut fired);
        !fired.is_empty()
    }

    /// State variable number `var` of the neuron, in its documented unit.
    pub fn state(neuron: &dyn NeuronGroup, var: usize) -> f32 {
        let mut out = Vec::new();
        neuron.read_state(var, 0..1, &mut out);
        out[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_the_library_exp() {
        let mut worst: f64 = 0.0;
        for i in -8000..=8000 {
            let x = i as f32 * 0.01;
            let rel = ((fast_exp(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
    }

    #[test]
    fn fired_flags_become_ascending_ids() {
        let mut flags = vec![0u8; 70];
        flags[0] = 1;
        flags[9] = 1;
        flags[20] = 1;
        flags[69] = 1;
        let mut fired = Vec::new();
        collect_fired(&flags, 100, &mut fired);
        assert_eq!(fired, vec![100, 109, 120, 169]);
    }
}
