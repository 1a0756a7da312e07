//! Rate populations with inner structure: recurrent cells (`lstm`, `gru`) that carry state
//! from step to step, `attention` that mixes the steps of a sequence, and `layer_norm`.
//! Each is one file implementing [`Unit`]; [`REGISTRY`] is the only list (its language-side
//! description, the parameter table, lives in `models/neuron/`).
//!
//! Layout: every buffer holds the columns of every step of a batch, step-major: step `t`
//! of sample `s` is column `t·b + s`, so a step's columns are one contiguous block and a
//! unit can compute a range of steps with one GEMM per step. The engine calls a unit on all
//! steps at once (feed-forward networks) or one step at a time (networks with recurrent
//! projections), so the same code serves both.

mod attention;
mod fast_math;
mod gru;
mod layer_norm;
mod lstm;

use std::ops::Range;

use rand_xoshiro::Xoshiro256PlusPlus;

use super::gemm::Threads;
use crate::ir::Params;

/// What a unit is built from.
pub(super) struct UnitContext<'a> {
    pub name: &'a str,
    /// Population size (units per step).
    pub size: usize,
    /// Longest sequence the buffers hold.
    pub max_steps: usize,
    pub params: &'a Params,
}

/// Which columns a call covers.
#[derive(Debug, Clone)]
pub(super) struct Steps<'a> {
    /// Steps computed by this call.
    pub range: Range<usize>,
    /// Samples per step.
    pub b: usize,
    /// Steps in the current sequences.
    pub total: usize,
    /// Truncated backpropagation through time: no gradient crosses from step `t` to step
    /// `t - 1` where `t` is a multiple of this.
    pub truncate: Option<usize>,
    pub par: Threads,
    /// Each sample's own number of steps, for padded sequences; empty: all `total`.
    pub lengths: &'a [u32],
}

impl Steps<'_> {
    /// The steps of sample `s` that are not padding.
    pub fn length(&self, s: usize) -> usize {
        self.lengths
            .get(s)
            .map_or(self.total, |&l| (l as usize).min(self.total))
    }

    /// True if the gradient of step `t` flows back into step `t - 1`.
    pub fn carries_back(&self, t: usize) -> bool {
        t > 0 && self.truncate.is_none_or(|k| !t.is_multiple_of(k))
    }
}

/// Buffers of one population for a forward call: `z` (input rows × columns) is the sum of
/// the incoming projections (and the population's bias), `y` its output, `cache` what the
/// backward pass needs (`cache_width` rows).
pub(super) struct Forward<'a> {
    pub z: &'a [f32],
    pub y: &'a mut [f32],
    pub cache: &'a mut [f32],
}

/// Buffers of one population for a backward call (the cache holds what the unit needs of
/// its input). `dy` holds the gradient of the loss with
/// respect to `y` from the rest of the network; a recurrent unit adds its own recurrence
/// to it (so after the call `dy` at step `t` is the total gradient of `h_t`). The unit
/// writes `dz` for the covered steps and adds to `grads` (one per tensor, zeroed by the
/// engine at the start of the backward pass).
pub(super) struct Backward<'a> {
    pub y: &'a [f32],
    pub cache: &'a mut [f32],
    pub dy: &'a mut [f32],
    pub dz: &'a mut [f32],
}

/// One learned tensor of a unit.
#[derive(Debug, Clone)]
pub(super) struct Tensor {
    pub name: &'static str,
    pub len: usize,
    /// A weight matrix (penalised by `l1`/`l2`), not a bias, gain or shift.
    pub weight: bool,
}

pub(super) trait Unit: std::fmt::Debug + Send + Sync {
    /// Rows of `z` the incoming projections deliver (`4·H` for an LSTM of `H` units).
    fn input_width(&self) -> usize;
    /// Whether the population adds a bias to `z` (the engine keeps and trains it).
    fn has_bias(&self) -> bool;
    /// Sets the initial bias (`input_width` values, zero before the call).
    fn init_bias(&self, _bias: &mut [f32]) {}
    /// The unit's own tensors, in a fixed order.
    fn tensors(&self) -> Vec<Tensor>;
    /// Draws the initial value of every tensor.
    fn init(&self, tensors: &mut [Vec<f32>], rng: &mut Xoshiro256PlusPlus);
    /// Rows of the cache per column.
    fn cache_width(&self) -> usize;
    fn forward(&self, tensors: &[Vec<f32>], io: Forward<'_>, steps: &Steps);
    fn backward(
        &self,
        tensors: &[Vec<f32>],
        grads: &mut [&mut [f32]],
        io: Backward<'_>,
        steps: &Steps,
    );
}

type Build = fn(&UnitContext) -> Result<Box<dyn Unit>, String>;

use crate::models::neuron::{self as neuron, NeuronInfo};

/// The kernels of every registry entry that runs as a `Runs::Unit`, keyed by the entry
/// itself (never by its name); a registry test checks that none is missing.
static KERNELS: &[(&NeuronInfo, Build)] = &[
    (&neuron::lstm::INFO, lstm::build),
    (&neuron::gru::INFO, gru::build),
    (&neuron::attention::INFO, attention::build),
    (&neuron::layer_norm::INFO, layer_norm::build),
];

/// The unit of `model`, if it runs as one; `Err` explains why it cannot be built.
pub(super) fn build(
    model: &'static NeuronInfo,
    ctx: &UnitContext,
) -> Option<Result<Box<dyn Unit>, String>> {
    KERNELS
        .iter()
        .find(|(info, _)| std::ptr::eq(*info, model))
        .map(|(_, build)| build(ctx))
}

/// Fills `values` uniformly in `±bound`.
fn uniform(values: &mut [f32], bound: f32, rng: &mut Xoshiro256PlusPlus) {
    use rand::Rng;
    for v in values {
        *v = (rng.random::<f32>() * 2.0 - 1.0) * bound;
    }
}

/// The columns of steps `range` in a buffer of `rows` rows with `b` columns per step.
pub(super) fn cols(range: &Range<usize>, rows: usize, b: usize) -> Range<usize> {
    range.start * b * rows..range.end * b * rows
}

/// The columns of step `t` (one column per sample).
fn step(t: usize, rows: usize, b: usize) -> Range<usize> {
    cols(&(t..t + 1), rows, b)
}

/// Splits a cache into planes of `widths[k]` rows each over the same columns, so that each
/// plane is a contiguous column-major matrix a GEMM can use.
fn planes<const K: usize>(cache: &mut [f32], widths: [usize; K]) -> [&mut [f32]; K] {
    let total: usize = widths.iter().sum();
    let columns = cache.len() / total.max(1);
    let mut rest = cache;
    widths.map(|w| {
        let (plane, tail) = std::mem::take(&mut rest).split_at_mut(w * columns);
        rest = tail;
        plane
    })
}

#[cfg(test)]
mod registry_tests {
    use super::KERNELS;
    use crate::models::neuron::{REGISTRY, Runs};

    /// Every model the registry says runs as a unit has kernels here, and nothing else does.
    #[test]
    fn every_unit_entry_of_the_registry_has_kernels() {
        for info in REGISTRY {
            let has = KERNELS.iter().any(|(k, _)| std::ptr::eq(*k, *info));
            assert_eq!(has, matches!(info.runs, Runs::Unit), "{}", info.name);
        }
    }
}
