//! The executable form of a rate network: populations as layers, projections as weight
//! matrices, batch buffers allocated once. Forward pass, loss, reverse-mode backward pass
//! over the population graph, optimizer update, local (Hebbian) rules and recurrent
//! dynamics for recall.
//!
//! Layout: every batch buffer is a column-major `n_units × batch` matrix (one column per
//! sample), every dense weight matrix is an nalgebra `DMatrix<f32>` of `n_post × n_pre`, so a
//! population's pre-activation is `z = Σ W x + b` computed with one GEMM per projection.
//! Buffers are sized for the largest batch at build time; a smaller (last) batch uses the
//! leading columns, so training allocates nothing per batch.
//!
//! Sequences: a batch of `b` sequences of `T` steps is `T·b` columns, step-major (step `t`
//! of sample `s` is column `t·b + s`). A feed-forward network computes every step at once
//! (each population over all `T·b` columns, so per-step layers cost one GEMM). A network
//! with recurrent projections (a self projection `h -> h`, or one closing a cycle) runs
//! step by step: a recurrent projection delivers the source's state of the previous step
//! (zero before the first), and `backward` is backpropagation through time, optionally
//! truncated. Populations with inner structure (`lstm`, `gru`, `attention`, `layer_norm`)
//! are [`units`](super::units).

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::{Rng, seq::SliceRandom};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use std::ops::Range;

use super::gemm::{Threads, View, product};
use super::spatial::Spatial;
use super::units::{self, Unit, UnitContext, cols};
use crate::data::{Table, mix};
use crate::ir::{Network, Value};
use crate::models::activation::Activation;
use crate::models::connector::grid::SpatialOp;
use crate::models::init::Init;
use crate::models::loss::{GradientOf, Loss};
use crate::models::neuron::Runs;
use crate::models::optimizer::{Optimizer, TensorState};
use crate::models::plasticity::{Batch, RateLearner};
use crate::sim::SimError;

mod adversarial;
mod backward;
mod build;
mod forward;
mod hooks;
mod update;
pub(super) use hooks::Snapshot;

/// Random streams, so that every draw depends on (seed, purpose, id) only.
pub(crate) mod stream {
    pub const INIT: u64 = 0x1000;
    pub const EPOCH: u64 = 0x3000;
    pub const DROPOUT: u64 = 0x4000_0000;
    pub const UNIT: u64 = 0x10_0000;
    pub const BIAS: u64 = 0x20_0000;
    pub const NOISE: u64 = 0x5000_0000_0000;
}

/// One population.
#[derive(Debug)]
struct Layer {
    name: String,
    size: usize,
    /// Rows the incoming projections deliver: `size`, or more for a unit with gates.
    input_width: usize,
    /// `lstm`, `gru`, `attention`, `layer_norm`: the population's own computation in place
    /// of the activation.
    unit: Option<Box<dyn Unit>>,
    /// The unit's learned tensors (empty without a unit), asked of it once.
    tensors: Vec<units::Tensor>,
    /// Every step depends on every step of the sequence (the model's `whole_sequence`).
    whole_sequence: bool,
    is_input: bool,
    activation: Activation,
    bias: bool,
    straight_through: bool,
    /// Inverted-dropout probability during training (0 = off).
    dropout: f32,
    /// Units that share one bias: 1 (a bias per unit), or a feature map's area for a
    /// population fed by `conv` (a bias per map).
    bias_spatial: usize,
    /// Feed-forward and recurrent projections into this layer (link index, never
    /// transposed), in declaration order.
    incoming: Vec<(usize, bool)>,
    /// Every projection delivering to this layer during recurrent dynamics, with whether
    /// the weight matrix is used transposed (the reverse direction of `A -- B`).
    dynamics_in: Vec<(usize, bool)>,
}

/// One projection.
#[derive(Debug)]
struct Link {
    name: String,
    source: usize,
    target: usize,
    n_pre: usize,
    n_post: usize,
    directed: bool,
    /// Part of the feed-forward pass (directed, between two populations, not closing a cycle).
    feedforward: bool,
    /// A recurrent projection trained by backprop: delivers the previous step's state.
    delayed: bool,
    /// `identity`: adds the source unchanged; its unit weights are never trained.
    fixed: bool,
    /// `one_to_one`: one weight per unit instead of a matrix.
    diagonal: bool,
    /// 1 where a synapse exists, 0 elsewhere (sparse connectors, no self-connections).
    mask: Option<Vec<f32>>,
    /// A local learning rule and its state.
    rule: Option<Box<dyn RateLearner>>,
    /// `conv`, `maxpool`, `avgpool`: the window, instead of a dense matrix.
    spatial: Option<Spatial>,
}

impl Link {
    /// The steps of the source that feed the steps `span` of the target: the same ones,
    /// or for a recurrent projection the ones before (`None` at the first step: the state
    /// before the sequence is zero).
    fn source_steps(&self, span: &Range<usize>) -> Option<Range<usize>> {
        if !self.delayed {
            return Some(span.clone());
        }
        (span.start > 0).then(|| span.start - 1..span.end - 1)
    }

    fn synapses(&self, weights: &DMatrix<f32>) -> usize {
        match &self.mask {
            Some(m) => m.iter().filter(|&&x| x != 0.0).count(),
            None => weights.len(),
        }
    }
}

/// A parameter trained by gradient descent and its optimizer state.
#[derive(Debug)]
struct Param {
    target: ParamOf,
    grad: Vec<f32>,
    state: TensorState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParamOf {
    Weight(usize),
    Bias(usize),
    /// Tensor `k` of the unit of layer `l`.
    Unit(usize, usize),
}

/// Per-layer batch buffers.
#[derive(Debug, Default)]
struct Buffers {
    z: Vec<Vec<f32>>,
    y: Vec<Vec<f32>>,
    dy: Vec<Vec<f32>>,
    dz: Vec<Vec<f32>>,
    /// Targets of the output layers.
    t: Vec<Vec<f32>>,
    /// Dropout layers only: the kept-unit mask scaled by 1/(1-p), and the activations
    /// before dropout (what the activation's derivative needs).
    keep: Vec<Vec<f32>>,
    pre_dropout: Vec<Vec<f32>>,
    /// Unit layers only: what their backward pass needs.
    cache: Vec<Vec<f32>>,
}

/// What a rate network is while it runs.
#[derive(Debug)]
pub struct Model {
    layers: Vec<Layer>,
    /// Layer indices, every feed-forward source before its targets.
    order: Vec<usize>,
    links: Vec<Link>,
    weights: Vec<DMatrix<f32>>,
    biases: Vec<Vec<f32>>,
    /// The tensors of each layer's unit (empty for other layers).
    unit_tensors: Vec<Vec<Vec<f32>>>,
    params: Vec<Param>,
    outputs: Vec<usize>,
    /// Layers whose state is set from the data this batch.
    clamped: Vec<bool>,
    loss: Option<Loss>,
    /// Per output layer: whether the loss gradient is taken w.r.t. logits or outputs.
    pairing: Vec<GradientOf>,
    /// Per layer: the loss already gave d/dz (fused), scratch for `backward`.
    ready: Vec<bool>,
    /// Index into `params` of each link's weights and each layer's bias, if gradient-trained.
    weight_param: Vec<Option<usize>>,
    bias_param: Vec<Option<usize>>,
    /// Index into `params` of each unit's first tensor (its tensors follow in order).
    unit_param: Vec<Option<usize>>,
    optimizer: Option<Optimizer>,
    step: u64,
    capacity: usize,
    buffers: Buffers,
    par: Threads,
    threads: usize,
    seed: u64,
    /// Relaxation dynamics: an undirected projection, or a recurrent one that learns by a
    /// local rule.
    recurrent: bool,
    /// Longest sequence the buffers hold.
    max_steps: usize,
    /// Steps of the presented sequences, and how many of them have targets (all, or the
    /// last only).
    steps: usize,
    target_steps: usize,
    /// Some projection is recurrent and trained by backprop: run step by step.
    step_major: bool,
    truncate: Option<usize>,
    /// Each presented sample's own number of steps (padded sequences); empty: all `steps`.
    lengths: Vec<u32>,
}

/// Options for building a model beyond what the network says.
#[derive(Debug, Clone, Default)]
pub struct RateOptions {
    /// Initial values keyed like the arrays the engine emits: `weights/<projection>`
    /// (row-major `n_post × n_pre`, or `n` for `one_to_one`) and `biases/<population>`.
    pub initial: Option<BTreeMap<String, Vec<f32>>>,
    /// Longest sequence (in steps) of the data; 0 or 1 when no dataset is a sequence.
    pub steps: usize,
}

fn unsupported(message: impl Into<String>) -> SimError {
    SimError::Unsupported(message.into())
}

impl Model {
    /// Largest batch the buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// True if the network has a cycle, a self projection or an undirected projection.
    pub fn is_recurrent(&self) -> bool {
        self.recurrent
    }

    /// True if training minimises a loss by backpropagation.
    pub fn has_loss(&self) -> bool {
        self.loss.is_some()
    }

    /// True if some projection learns through a local rule.
    pub fn has_local_rules(&self) -> bool {
        self.links.iter().any(|l| l.rule.is_some())
    }

    /// Output layers and their sizes, in declaration order.
    pub fn output_sizes(&self) -> Vec<usize> {
        self.outputs.iter().map(|&o| self.layers[o].size).collect()
    }

    /// The state of layer `l` for the last batch (`size × b`, column-major), at the last
    /// step of a sequence.
    pub fn state(&self, l: usize, b: usize) -> &[f32] {
        let n = self.layers[l].size;
        &self.buffers.y[l][(self.steps - 1) * b * n..self.steps * b * n]
    }

    /// Columns with targets in the last batch: `b`, or `steps · b` when every step of a
    /// sequence has a target.
    pub fn scored(&self, b: usize) -> usize {
        self.target_steps * b
    }

    /// The state of output layer `o` at the columns with targets (`size × scored(b)`).
    pub fn scored_state(&self, o: usize, b: usize) -> &[f32] {
        &self.buffers.y[o][self.scored_columns(self.layers[o].size, b)]
    }

    /// Targets presented to output `k` (`size × scored(b)`).
    pub fn targets(&self, k: usize, b: usize) -> &[f32] {
        &self.buffers.t[k][..self.layers[self.outputs[k]].size * self.scored(b)]
    }

    /// Output layer indices.
    pub fn outputs(&self) -> &[usize] {
        &self.outputs
    }

    /// Population size of layer `l`.
    pub fn layer_size(&self, l: usize) -> usize {
        self.layers[l].size
    }

    /// Weight counts by projection name.
    pub fn synapse_counts(&self) -> Vec<(String, usize)> {
        self.links
            .iter()
            .zip(&self.weights)
            .map(|(l, w)| (l.name.clone(), l.synapses(w)))
            .collect()
    }

    /// The weight matrix of projection `name` (`n_post × n_pre`, or `n × 1` for one_to_one).
    pub fn weights(&self, name: &str) -> Option<&DMatrix<f32>> {
        let i = self.links.iter().position(|l| l.name == name)?;
        Some(&self.weights[i])
    }

    /// Every parameter as the engine emits it: `weights/<projection>` with shape
    /// `[n_post, n_pre]` (row-major) or `[n]`, `biases/<population>` with shape `[n]`.
    pub fn arrays(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut out = Vec::new();
        for (link, w) in self.links.iter().zip(&self.weights) {
            let key = format!("weights/{}", link.name);
            if let Some(s) = &link.spatial {
                if !w.is_empty() {
                    let (ks, c_in) = (s.window.kernel, s.window.input.channels);
                    out.push((
                        key,
                        vec![w.nrows(), c_in, ks, ks],
                        w.transpose().as_slice().to_vec(),
                    ));
                }
            } else if link.diagonal {
                out.push((key, vec![link.n_post], w.as_slice().to_vec()));
            } else {
                out.push((
                    key,
                    vec![w.nrows(), w.ncols()],
                    w.transpose().as_slice().to_vec(),
                ));
            }
        }
        for (layer, b) in self.layers.iter().zip(&self.biases) {
            if layer.bias {
                out.push((format!("biases/{}", layer.name), vec![b.len()], b.clone()));
            }
        }
        for (layer, tensors) in self.layers.iter().zip(&self.unit_tensors) {
            for (spec, values) in layer.tensors.iter().zip(tensors) {
                let key = format!("parameters/{}/{}", layer.name, spec.name);
                out.push((key, vec![values.len()], values.clone()));
            }
        }
        out
    }

    /// The layer and tensor index of a `parameters/<population>/<tensor>` key.
    fn unit_tensor(&self, key: &str) -> Option<(usize, usize)> {
        let (population, tensor) = key.strip_prefix("parameters/")?.split_once('/')?;
        let l = self.layers.iter().position(|l| l.name == population)?;
        let k = self.layers[l]
            .tensors
            .iter()
            .position(|t| t.name == tensor)?;
        Some((l, k))
    }

    /// Row-major values of projection `name`'s weights (what `record weight of` samples).
    pub fn weight_row_major(&self, link: usize) -> Vec<f32> {
        self.weights[link].transpose().as_slice().to_vec()
    }

    /// Index of the projection called `name`.
    pub fn link_index(&self, name: &str) -> Option<usize> {
        self.links.iter().position(|l| l.name == name)
    }

    /// Mutable access to a parameter by its array key, in the engine's internal layout
    /// (column-major weights). For gradient checks.
    pub fn parameter_mut(&mut self, key: &str) -> Option<&mut [f32]> {
        if let Some(name) = key.strip_prefix("weights/") {
            let i = self.link_index(name)?;
            return Some(self.weights[i].as_mut_slice());
        }
        if let Some((l, k)) = self.unit_tensor(key) {
            return Some(&mut self.unit_tensors[l][k]);
        }
        let name = key.strip_prefix("biases/")?;
        let l = self.layers.iter().position(|l| l.name == name && l.bias)?;
        Some(&mut self.biases[l])
    }

    /// The gradient computed by the last `backward`, same layout as `parameter_mut`.
    pub fn gradient(&self, key: &str) -> Option<&[f32]> {
        let target = if let Some(name) = key.strip_prefix("weights/") {
            ParamOf::Weight(self.link_index(name)?)
        } else if let Some((l, k)) = self.unit_tensor(key) {
            ParamOf::Unit(l, k)
        } else {
            let name = key.strip_prefix("biases/")?;
            ParamOf::Bias(self.layers.iter().position(|l| l.name == name)?)
        };
        self.params
            .iter()
            .find(|p| p.target == target)
            .map(|p| p.grad.as_slice())
    }

    /// A random permutation of `0..n` for epoch `epoch`, drawn from the seed only.
    pub fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(seed, stream::EPOCH + epoch as u64));
        order.shuffle(&mut rng);
        order
    }
}

/// Elements per rayon task in per-sample elementwise passes (activations).
const ELEMENTWISE_CHUNK: usize = 32 * 1024;

/// Samples per rayon task for a per-sample pass over `n × b` values, or `None` when the pass
/// is too small to split (or the model runs on one thread). Samples are independent, so the
/// split never changes a bit.
fn samples_per_task(par: Threads, n: usize, b: usize) -> Option<usize> {
    if par != Threads::Pool || n * b < 2 * ELEMENTWISE_CHUNK || b < 2 {
        return None;
    }
    Some((ELEMENTWISE_CHUNK / n.max(1)).clamp(1, b))
}
