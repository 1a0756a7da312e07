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
}

/// A model the spiking engine can run: one static value per model file.
pub trait SpikingModel: Sync {
    /// Builds the state of a group; an error message says which parameter is unusable.
    fn build(&self, spec: &GroupSpec) -> Result<Box<dyn NeuronGroup>, String>;
}

/// Synaptic input arriving at a group in one step, indexed like the group's neurons. The
/// group reads every entry and sets it back to zero (the engine reuses the buffer).
pub struct Input<'a> {
    pub excitatory: &'a mut [f32],
    pub inhibitory: &'a mut [f32],
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
