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
use rand::seq::index::sample;
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
use crate::models::optimizer::Optimizer;
use crate::models::plasticity::{bcm, hebbian, oja};
use crate::sim::SimError;

mod adversarial;
mod hooks;
pub(super) use hooks::Snapshot;

/// Random streams, so that every draw depends on (seed, purpose, id) only.
pub(crate) mod stream {
    pub const INIT: u64 = 0x1000;
    pub const MASK: u64 = 0x2000;
    pub const EPOCH: u64 = 0x3000;
    pub const DROPOUT: u64 = 0x4000_0000;
    pub const UNIT: u64 = 0x10_0000;
    pub const BIAS: u64 = 0x20_0000;
    pub const NOISE: u64 = 0x5000_0000_0000;
}

/// Parameter elements per rayon task in the optimizer update.
const UPDATE_CHUNK: usize = 16 * 1024;

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

/// A local learning rule on one projection.
#[derive(Debug, Clone, Copy)]
enum LocalRule {
    Hebbian { rate: f32 },
    Oja { rate: f32 },
    Bcm { rate: f32, tau: f32 },
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
    rule: Option<LocalRule>,
    /// BCM thresholds, one per post unit.
    theta: Vec<f32>,
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
    first: Vec<f32>,
    second: Vec<f32>,
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
    /// Builds the executable model: draws connectivity and initial weights from the seed,
    /// allocates buffers for batches of up to `capacity` samples. `threads` > 1 lets GEMMs
    /// and updates use the current rayon pool.
    pub fn build(
        network: &Network,
        options: &RateOptions,
        capacity: usize,
        threads: usize,
    ) -> Result<Model, SimError> {
        let g = &network.graph;
        let capacity = capacity.max(1);
        let max_steps = options.steps.max(1);
        let columns = capacity * max_steps;
        let mut layers = Vec::with_capacity(g.n_populations());
        for (index, (id, p)) in g.populations().enumerate() {
            if id.0 as usize != index {
                return Err(unsupported("population ids must be dense"));
            }
            let is_input = matches!(p.model.runs, Runs::Input);
            let context = UnitContext {
                name: &p.name,
                size: p.size(),
                max_steps,
                params: &p.params,
            };
            let unit = match p.model.runs {
                Runs::Input | Runs::Dense => None,
                Runs::Unit => Some(
                    units::build(p.model, &context)
                        .ok_or_else(|| {
                            unsupported(format!(
                                "population '{}': no rate kernels for model '{}'",
                                p.name, p.model.name
                            ))
                        })?
                        .map_err(unsupported)?,
                ),
                Runs::Spiking(_) => {
                    return Err(unsupported(format!(
                        "population '{}': model '{}' is not a rate model",
                        p.name, p.model.name
                    )));
                }
            };
            let (name, activation) = p.activation();
            let activation = activation.ok_or_else(|| {
                unsupported(format!(
                    "population '{}': unknown activation '{name}'",
                    p.name
                ))
            })?;
            let bias = match &unit {
                Some(u) => u.has_bias(),
                None => !is_input && p.params.flag("bias").unwrap_or(true),
            };
            layers.push(Layer {
                name: p.name.clone(),
                size: p.size(),
                input_width: unit.as_ref().map_or(p.size(), |u| u.input_width()),
                tensors: unit.as_ref().map_or(Vec::new(), |u| u.tensors()),
                whole_sequence: p.model.whole_sequence,
                unit,
                is_input,
                activation,
                bias,
                straight_through: p.params.flag("straight_through").unwrap_or(false),
                dropout: p.params.number("dropout").unwrap_or(0.0).clamp(0.0, 0.999) as f32,
                bias_spatial: 1,
                incoming: Vec::new(),
                dynamics_in: Vec::new(),
            });
        }
        // Without a cycle through several populations, the feed-forward order (which fixes
        // the order gradients add up in); with one, the order of the search that finds the
        // projections closing cycles.
        let (search_order, closing) = g.recurrent_order();
        let order: Vec<usize> = g
            .feedforward_order()
            .unwrap_or(search_order)
            .iter()
            .map(|id| id.0 as usize)
            .collect();
        let mut recurrent = false;
        let rank: Vec<usize> = {
            let mut r = vec![0; layers.len()];
            for (i, &l) in order.iter().enumerate() {
                r[l] = i;
            }
            r
        };

        let mut links = Vec::with_capacity(g.n_projections());
        let mut weights = Vec::with_capacity(g.n_projections());
        for (index, (id, p)) in g.projections().enumerate() {
            if id.0 as usize != index {
                return Err(unsupported("projection ids must be dense"));
            }
            let (source, target) = (p.source.0 as usize, p.target.0 as usize);
            let (n_pre, n_post) = (layers[source].size, layers[target].input_width);
            if layers[target].is_input {
                return Err(unsupported(format!(
                    "projection '{}' targets the input population '{}'",
                    p.name, layers[target].name
                )));
            }
            let self_projection = source == target;
            let feedforward = p.directed && !self_projection && rank[source] < rank[target];
            let delayed = closing.binary_search(&id).is_ok() && p.plasticity.is_none();
            recurrent |= !feedforward && !delayed;
            let autapses = p.connector_args.flag("autapses").unwrap_or(false);
            let no_autapses = self_projection && !autapses;
            let seed = network.seed;
            let mut mask_rng =
                Xoshiro256PlusPlus::seed_from_u64(mix(seed, stream::MASK + index as u64));
            let count = |name: &str| p.connector_args.number(name).unwrap_or(0.0).max(0.0);
            let mut mask: Option<Vec<f32>> = None;
            let mut diagonal = false;
            let mut draw = |pick: &mut dyn FnMut(&mut Vec<f32>, &mut Xoshiro256PlusPlus)| {
                let mut m = vec![0.0f32; n_post * n_pre];
                pick(&mut m, &mut mask_rng);
                Some(m)
            };
            let spatial = match p.connector.spatial {
                Some(info) => {
                    if !feedforward || p.plasticity.is_some() {
                        return Err(unsupported(format!(
                            "projection '{}': `{}` must be a feed-forward projection between \
                             two populations, trained by backprop",
                            p.name, p.connector.name
                        )));
                    }
                    let numbers = |name: &str| p.connector_args.number(name);
                    let window = (info.window)(
                        &g.population(p.source).shape,
                        &g.population(p.target).shape,
                        &numbers,
                        p.connector_args.symbol("padding"),
                    )
                    .map_err(|why| unsupported(format!("projection '{}': {why}", p.name)))?;
                    if layers[target].unit.is_some() {
                        return Err(unsupported(format!(
                            "projection '{}': `{}` cannot feed the {} population '{}'",
                            p.name,
                            p.connector.name,
                            g.population(p.target).model.name,
                            layers[target].name
                        )));
                    }
                    Some(Spatial::new(info.op, window, columns))
                }
                None => None,
            };
            match p.connector.name {
                _ if spatial.is_some() => {}
                "full" => {
                    if no_autapses {
                        mask = Some(vec![1.0; n_post * n_pre]);
                    }
                }
                "one_to_one" | "identity" => {
                    if n_pre != n_post {
                        return Err(unsupported(format!(
                            "projection '{}': {} needs {n_post} source units (the rows '{}' \
                             takes), not {n_pre}",
                            p.name, p.connector.name, layers[target].name
                        )));
                    }
                    diagonal = true;
                }
                "random" => {
                    let prob = count("p").min(1.0);
                    mask = draw(&mut |m, rng| {
                        for x in m.iter_mut() {
                            *x = f32::from(u8::from(rng.random::<f64>() < prob));
                        }
                    });
                }
                "fixed_indegree" => {
                    let k = (count("k") as usize).min(n_pre);
                    mask = draw(&mut |m, rng| {
                        for i in 0..n_post {
                            for j in sample(rng, n_pre, k) {
                                m[j * n_post + i] = 1.0;
                            }
                        }
                    });
                }
                "fixed_outdegree" => {
                    let k = (count("k") as usize).min(n_post);
                    mask = draw(&mut |m, rng| {
                        for j in 0..n_pre {
                            for i in sample(rng, n_post, k) {
                                m[j * n_post + i] = 1.0;
                            }
                        }
                    });
                }
                "fixed_total" => {
                    let n = (count("n") as usize).min(n_pre * n_post);
                    mask = draw(&mut |m, rng| {
                        for e in sample(rng, n_pre * n_post, n) {
                            m[e] = 1.0;
                        }
                    });
                }
                other => {
                    return Err(unsupported(format!(
                        "projection '{}': connector '{other}' is not supported in rate mode",
                        p.name
                    )));
                }
            }
            if no_autapses
                && !diagonal
                && let Some(m) = mask.as_mut()
            {
                for i in 0..n_pre.min(n_post) {
                    m[i * n_post + i] = 0.0;
                }
            }
            if !p.directed
                && self_projection
                && let Some(m) = mask.as_mut()
            {
                // One symmetric matrix: keep the synapses drawn for the upper triangle.
                for j in 0..n_pre {
                    for i in 0..j {
                        m[i * n_post + j] = m[j * n_post + i];
                    }
                }
            }

            let init_name = p.init.as_deref().unwrap_or("uniform");
            let init = Init::from_name(init_name).ok_or_else(|| {
                unsupported(format!(
                    "projection '{}': unknown init '{init_name}'",
                    p.name
                ))
            })?;
            let (rows, cols) = match &spatial {
                Some(s) => s.weight_dims(),
                None if diagonal => (n_post, 1),
                None => (n_post, n_pre),
            };
            let mut w = DMatrix::<f32>::zeros(rows, cols);
            let mut init_rng =
                Xoshiro256PlusPlus::seed_from_u64(mix(seed, stream::INIT + index as u64));
            let (fan_in, fan_out) = match &spatial {
                // A kernel tap sees C_in·k² inputs and feeds C_out·k² outputs.
                Some(s) => (cols, rows * s.window.taps()),
                None if diagonal => (1, 1),
                None => (n_pre, n_post),
            };
            let fixed = p.connector.name == crate::models::connector::identity::INFO.name;
            if fixed {
                w.fill(1.0);
            } else if let Some(value) = &p.weight {
                // `weight = 0.5` or `weight = normal(0, 0.1)`: the initial weights
                // themselves (one draw per weight, in storage order, from the init stream).
                for x in w.as_mut_slice() {
                    *x = crate::sim::rng::number_or_draw(value, &mut init_rng).ok_or_else(|| {
                        unsupported(format!(
                            "projection '{}': `weight` must be a number or a distribution",
                            p.name
                        ))
                    })? as f32;
                }
            } else {
                init.fill(w.as_mut_slice(), fan_in, fan_out, &mut init_rng);
            }
            if !p.directed && self_projection && !diagonal {
                for j in 0..n_pre {
                    for i in 0..j {
                        w[(j, i)] = w[(i, j)];
                    }
                }
            }
            if let Some(m) = &mask {
                w.as_mut_slice()
                    .iter_mut()
                    .zip(m)
                    .for_each(|(w, m)| *w *= m);
            }
            let rule = match &p.plasticity {
                None => None,
                Some(pl) => {
                    let rate = pl.params.number("rate").unwrap_or(0.01) as f32;
                    Some(match pl.rule.name {
                        "hebbian" => LocalRule::Hebbian { rate },
                        "oja" => LocalRule::Oja { rate },
                        "bcm" => LocalRule::Bcm {
                            rate,
                            tau: pl.params.number("tau").unwrap_or(100.0) as f32,
                        },
                        other => {
                            return Err(unsupported(format!(
                                "projection '{}': rule '{other}' is not a rate-mode rule",
                                p.name
                            )));
                        }
                    })
                }
            };
            let theta0 = p
                .plasticity
                .as_ref()
                .and_then(|pl| pl.params.number("theta"))
                .unwrap_or(1.0) as f32;
            if feedforward || delayed {
                layers[target].incoming.push((index, false));
            }
            layers[target].dynamics_in.push((index, false));
            if !p.directed && !self_projection {
                layers[source].dynamics_in.push((index, true));
            }
            links.push(Link {
                name: p.name.clone(),
                source,
                target,
                n_pre,
                n_post,
                directed: p.directed,
                feedforward,
                delayed,
                fixed,
                diagonal,
                mask,
                rule,
                theta: vec![theta0; n_post],
                spatial,
            });
            weights.push(w);
        }
        // A population fed by conv has a bias per feature map; one fed only by pooling
        // has none (pooling has no parameters, as in PyTorch and Keras).
        for layer in &mut layers {
            let fed: Vec<&Link> = layer.incoming.iter().map(|&(i, _)| &links[i]).collect();
            if let Some(conv) = fed
                .iter()
                .filter_map(|l| l.spatial.as_ref())
                .find(|s| s.op == SpatialOp::Conv)
            {
                layer.bias_spatial = conv.window.output.area();
            } else if !fed.is_empty() && fed.iter().all(|l| l.spatial.is_some()) {
                layer.bias = false;
            }
        }
        let step_major = links.iter().any(|l| l.delayed);
        if step_major {
            if let Some(l) = layers.iter().find(|l| l.whole_sequence) {
                return Err(unsupported(format!(
                    "population '{}' attends over whole sequences, so it cannot be in a \
                     network with recurrent projections (which runs step by step); use an \
                     lstm or gru population for the recurrence",
                    l.name
                )));
            }
            if let Some(l) = links.iter().find(|l| l.spatial.is_some()) {
                return Err(unsupported(format!(
                    "projection '{}': convolution and pooling are not supported in a network \
                     with recurrent projections",
                    l.name
                )));
            }
        }
        let mut biases: Vec<Vec<f32>> = layers
            .iter()
            .map(|l| {
                vec![
                    0.0;
                    if l.bias {
                        l.input_width / l.bias_spatial
                    } else {
                        0
                    }
                ]
            })
            .collect();
        // `bias = 0.5` (or a distribution): the initial biases themselves.
        for (l, (_, p)) in g.populations().enumerate() {
            let value = match p.params.get("bias") {
                Some(v @ (Value::Number(_) | Value::Dist(_))) => v,
                _ => continue,
            };
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(
                network.seed,
                stream::INIT + stream::BIAS + l as u64,
            ));
            for b in &mut biases[l] {
                *b = crate::sim::rng::number_or_draw(value, &mut rng).unwrap_or(0.0) as f32;
            }
        }
        let mut unit_tensors = Vec::with_capacity(layers.len());
        for (l, layer) in layers.iter().enumerate() {
            let Some(unit) = &layer.unit else {
                unit_tensors.push(Vec::new());
                continue;
            };
            unit.init_bias(&mut biases[l]);
            let mut tensors: Vec<Vec<f32>> =
                layer.tensors.iter().map(|t| vec![0.0; t.len]).collect();
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(
                network.seed,
                stream::INIT + stream::UNIT + l as u64,
            ));
            unit.init(&mut tensors, &mut rng);
            unit_tensors.push(tensors);
        }
        let outputs: Vec<usize> = crate::data::roles(network)
            .outputs
            .iter()
            .map(|id| id.0 as usize)
            .collect();

        let mut model = Model {
            clamped: vec![false; layers.len()],
            buffers: {
                let each = |rows: &dyn Fn(&Layer) -> usize| -> Vec<Vec<f32>> {
                    layers
                        .iter()
                        .map(|l| vec![0.0; rows(l) * columns])
                        .collect()
                };
                let dropped = |l: &Layer| if l.dropout > 0.0 { l.size } else { 0 };
                Buffers {
                    z: each(&|l| l.input_width),
                    y: each(&|l| l.size),
                    dy: each(&|l| l.size),
                    dz: each(&|l| l.input_width),
                    t: outputs
                        .iter()
                        .map(|&o| vec![0.0; layers[o].size * columns])
                        .collect(),
                    keep: each(&dropped),
                    pre_dropout: each(&dropped),
                    cache: each(&|l| l.unit.as_ref().map_or(0, |u| u.cache_width())),
                }
            },
            layers,
            order,
            links,
            weights,
            biases,
            unit_tensors,
            params: Vec::new(),
            outputs,
            loss: None,
            pairing: Vec::new(),
            ready: Vec::new(),
            weight_param: Vec::new(),
            bias_param: Vec::new(),
            unit_param: Vec::new(),
            optimizer: None,
            step: 0,
            capacity,
            par: if threads > 1 {
                Threads::Pool
            } else {
                Threads::One
            },
            threads,
            seed: network.seed,
            recurrent,
            max_steps,
            steps: 1,
            target_steps: 1,
            step_major,
            truncate: None,
            lengths: Vec::new(),
        };
        if let Some(initial) = &options.initial {
            model.load_parameters(initial)?;
        }
        if let Some(train) = &network.train {
            model.configure_training(train)?;
        }
        Ok(model)
    }

    /// Sets up loss, optimizer and the list of gradient-trained parameters.
    fn configure_training(&mut self, train: &crate::ir::Train) -> Result<(), SimError> {
        let Some(loss_name) = &train.loss else {
            return Ok(());
        };
        let loss = Loss::from_name(loss_name)
            .ok_or_else(|| unsupported(format!("unknown loss '{loss_name}'")))?;
        if let Some(link) = self
            .links
            .iter()
            .find(|l| !l.feedforward && !l.delayed && l.rule.is_none())
        {
            return Err(unsupported(format!(
                "training with a loss cannot go through the undirected projection '{}': \
                 undirected projections learn only through a local rule \
                 (plasticity = hebbian(...)); use a directed projection for a recurrent \
                 connection trained by backprop",
                link.name
            )));
        }
        self.truncate = train.options.truncate;
        let mut pairing = Vec::new();
        for &o in &self.outputs {
            let a = self.layers[o].activation;
            pairing.push(loss.pairing(a).ok_or_else(|| {
                unsupported(format!(
                    "loss '{loss_name}' needs a softmax (or identity) output, but '{}' uses {a:?}",
                    self.layers[o].name
                ))
            })?);
        }
        for &o in &self.outputs {
            if self.layers[o].unit.is_some() {
                return Err(unsupported(format!(
                    "the output population '{}' is not `dense`: put a dense population \
                     (with the activation the loss needs) after it",
                    self.layers[o].name
                )));
            }
            if self.layers[o].dropout > 0.0 {
                return Err(unsupported(format!(
                    "dropout on the output population '{}' would drop the answers; put it on \
                     a hidden population",
                    self.layers[o].name
                )));
            }
        }
        for &l in &self.order {
            let layer = &self.layers[l];
            if !layer.is_input && layer.activation.forward_only() && !layer.straight_through {
                return Err(unsupported(format!(
                    "cannot train through population '{}': its activation {:?} has zero \
                     gradient almost everywhere; set `straight_through = true` on it to use \
                     the straight-through estimator, or train it with a local rule",
                    layer.name, layer.activation
                )));
            }
        }
        let call = train.optimizer.clone().unwrap_or(crate::ir::Call {
            name: "sgd".into(),
            args: Default::default(),
        });
        let lookup = |k: &str| match call.args.get(k) {
            Some(Value::Number(x)) => Some(*x),
            Some(Value::Bool(b)) => Some(f64::from(u8::from(*b))),
            _ => None,
        };
        let optimizer = Optimizer::from_args(&call.name, &lookup)
            .ok_or_else(|| unsupported(format!("unknown optimizer '{}'", call.name)))?;
        let slots = optimizer.state_slots();
        let mut params = Vec::new();
        let mut add = |target: ParamOf, n: usize| {
            params.push(Param {
                target,
                grad: vec![0.0; n],
                first: vec![0.0; if slots >= 1 { n } else { 0 }],
                second: vec![0.0; if slots >= 2 { n } else { 0 }],
            });
        };
        for (i, link) in self.links.iter().enumerate() {
            if (link.feedforward || link.delayed) && link.rule.is_none() && !link.fixed {
                add(ParamOf::Weight(i), self.weights[i].len());
            }
        }
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.bias {
                add(ParamOf::Bias(i), self.biases[i].len());
            }
        }
        for (l, tensors) in self.unit_tensors.iter().enumerate() {
            for (k, t) in tensors.iter().enumerate() {
                add(ParamOf::Unit(l, k), t.len());
            }
        }
        self.weight_param = vec![None; self.links.len()];
        self.bias_param = vec![None; self.layers.len()];
        self.unit_param = vec![None; self.layers.len()];
        for (i, p) in params.iter().enumerate() {
            match p.target {
                ParamOf::Weight(l) => self.weight_param[l] = Some(i),
                ParamOf::Bias(l) => self.bias_param[l] = Some(i),
                ParamOf::Unit(l, 0) => self.unit_param[l] = Some(i),
                ParamOf::Unit(..) => {}
            }
        }
        self.ready = vec![false; self.layers.len()];
        self.params = params;
        self.loss = Some(loss);
        self.pairing = pairing;
        self.optimizer = Some(optimizer);
        Ok(())
    }

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

    /// Sets the data-presented layers (population indices) for the next batches.
    pub fn set_presented(&mut self, layers: &[usize]) {
        self.clamped.iter_mut().for_each(|c| *c = false);
        for &l in layers {
            self.clamped[l] = true;
        }
    }

    /// Copies rows of `table` into the presented layers (inputs) and the output targets.
    /// A sequence row fills one column per step (`t·b + s`); its targets are one block per
    /// step, or a single block for the last step.
    pub fn present(&mut self, table: &Table, rows: &[usize], presented: &[usize]) {
        // Copies split over the pool only when they are large enough to pay for it.
        let parallel = self.par == Threads::Pool && rows.len() * table.n_inputs >= 1 << 16;
        let b = rows.len();
        let steps = table.steps().min(self.max_steps);
        let output_width: usize = self.outputs.iter().map(|&o| self.layers[o].size).sum();
        self.steps = steps;
        self.target_steps = if steps > 1 && table.n_targets == output_width * steps {
            steps
        } else {
            1
        };
        let per_step = table.step_inputs();
        let mut offset = 0;
        for &l in presented {
            let n = self.layers[l].size;
            for t in 0..steps {
                let at = t * per_step + offset;
                let copy = |(column, &r): (&mut [f32], &usize)| {
                    column.copy_from_slice(&table.input_row(r)[at..at + n]);
                };
                let y = &mut self.buffers.y[l][t * b * n..(t + 1) * b * n];
                if parallel {
                    y.par_chunks_mut(n).zip(rows.par_iter()).for_each(copy);
                } else {
                    y.chunks_mut(n).zip(rows).for_each(copy);
                }
            }
            offset += n;
        }
        self.lengths.clear();
        if let Some(lengths) = &table.lengths {
            let full = steps as u32;
            self.lengths
                .extend(rows.iter().map(|&r| lengths[r].clamp(1, full)));
        }
        let Some(targets) = &table.targets else {
            return;
        };
        let width = table.n_targets;
        let per_step = width / self.target_steps;
        let mut offset = 0;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            if offset + n > per_step {
                break;
            }
            for t in 0..self.target_steps {
                let block = &mut self.buffers.t[k][t * b * n..(t + 1) * b * n];
                for (column, &r) in block.chunks_mut(n).zip(rows) {
                    let at = r * width + t * per_step + offset;
                    column.copy_from_slice(&targets[at..at + n]);
                }
            }
            offset += n;
        }
        if !self.lengths.is_empty() && steps > 1 {
            self.target_padded_steps(b);
        }
    }

    /// Padded sequences: the steps after a sample's own length have no target (NaN), and a
    /// sequence-to-one target moves from the last step to the sample's own last step.
    fn target_padded_steps(&mut self, b: usize) {
        let steps = self.steps;
        let to_one = self.target_steps == 1;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            let t = &mut self.buffers.t[k];
            for (s, &length) in self.lengths.iter().enumerate() {
                let last = length as usize - 1;
                if to_one && last > 0 {
                    let at = (last * b + s) * n;
                    t.copy_within(s * n..(s + 1) * n, at);
                }
                for step in 0..steps {
                    let padded = step > last || (to_one && step < last);
                    if padded {
                        let at = (step * b + s) * n;
                        t[at..at + n].fill(f32::NAN);
                    }
                }
            }
        }
        self.target_steps = steps;
    }

    /// The calls of one pass: every step at once, or (with recurrent projections) one
    /// step at a time.
    fn passes(&self) -> impl DoubleEndedIterator<Item = Range<usize>> + use<> {
        let (calls, width) = if self.step_major {
            (self.steps, 1)
        } else {
            (1, self.steps)
        };
        (0..calls).map(move |c| c * width..(c + 1) * width)
    }

    /// Forward pass over the feed-forward (and recurrent) projections for `b` samples;
    /// clamped layers keep their presented values.
    pub fn forward(&mut self, b: usize) {
        self.run_forward(b, false);
    }

    /// [`Model::forward`] in training mode: dropout layers drop units, with a mask drawn
    /// from (seed, update step, layer, first step of the call).
    pub fn forward_train(&mut self, b: usize) {
        self.run_forward(b, true);
    }

    fn run_forward(&mut self, b: usize, train: bool) {
        for span in self.passes() {
            for oi in 0..self.order.len() {
                let l = self.order[oi];
                if self.clamped[l] || self.layers[l].is_input {
                    continue;
                }
                self.compute_z(l, &span, b, false);
                self.activate(l, &span, b);
                if train && self.layers[l].dropout > 0.0 {
                    self.drop_units(l, &span, b);
                }
            }
        }
    }

    fn drop_units(&mut self, l: usize, span: &Range<usize>, b: usize) {
        let p = self.layers[l].dropout;
        let n = self.layers[l].size;
        let stream_id =
            stream::DROPOUT + (self.step << 16) + l as u64 + ((span.start as u64) << 48);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, stream_id));
        let scale = 1.0 / (1.0 - p);
        let Buffers {
            y,
            keep,
            pre_dropout,
            ..
        } = &mut self.buffers;
        let range = cols(span, n, b);
        pre_dropout[l][range.clone()].copy_from_slice(&y[l][range.clone()]);
        for (k, y) in keep[l][range.clone()].iter_mut().zip(&mut y[l][range]) {
            *k = if rng.random::<f32>() < p { 0.0 } else { scale };
            *y *= *k;
        }
    }

    /// What a unit call covers.
    fn unit_steps<'a>(
        &self,
        span: &Range<usize>,
        b: usize,
        lengths: &'a [u32],
    ) -> units::Steps<'a> {
        units::Steps {
            range: span.clone(),
            b,
            total: self.steps,
            truncate: self.truncate,
            par: self.par,
            lengths,
        }
    }

    /// `z[l] = Σ_incoming W y[source] + b` for the steps `span` of `b` samples; a recurrent
    /// projection reads the source at the step before (nothing before the first step).
    /// With `dynamics`, every projection into the layer counts (recurrent and undirected
    /// ones too), all reading the current state.
    fn compute_z(&mut self, l: usize, span: &Range<usize>, b: usize, dynamics: bool) {
        let n = self.layers[l].input_width;
        let n_cols = span.len() * b;
        let Buffers { z, y, .. } = &mut self.buffers;
        let z = &mut z[l][cols(span, n, b)];
        let mut first = true;
        let layer = &self.layers[l];
        let par = self.par;
        let sources = if dynamics {
            &layer.dynamics_in
        } else {
            &layer.incoming
        };
        for &(link_index, transposed) in sources {
            let link = &mut self.links[link_index];
            let w = &self.weights[link_index];
            let src = if transposed { link.target } else { link.source };
            let n_src = self.layers[src].size;
            let read = if dynamics {
                Some(span.clone())
            } else {
                link.source_steps(span)
            };
            let Some(read) = read else { continue };
            let x = &y[src][cols(&read, n_src, b)];
            if let Some(spatial) = &mut link.spatial {
                spatial.forward(w.as_slice(), x, z, n_cols, !first, par);
            } else if link.diagonal {
                let w = w.as_slice();
                for (zc, xc) in z.chunks_exact_mut(n).zip(x.chunks_exact(n_src)) {
                    for ((z, &x), &w) in zc.iter_mut().zip(xc).zip(w) {
                        *z = if first { w * x } else { *z + w * x };
                    }
                }
            } else {
                let wv = View::new(w.as_slice(), link.n_post, link.n_pre);
                let wv = if transposed { wv.t() } else { wv };
                product(
                    z,
                    n,
                    n_cols,
                    !first,
                    wv,
                    View::new(x, n_src, n_cols),
                    self.par,
                );
            }
            first = false;
        }
        if first {
            z.fill(0.0);
        }
        let bias = &self.biases[l];
        let spatial = layer.bias_spatial;
        if !bias.is_empty() {
            for zc in z.chunks_exact_mut(n) {
                if spatial == 1 {
                    zc.iter_mut().zip(bias).for_each(|(z, &b)| *z += b);
                } else {
                    for (map, &b) in zc.chunks_exact_mut(spatial).zip(bias) {
                        map.iter_mut().for_each(|z| *z += b);
                    }
                }
            }
        }
    }

    fn activate(&mut self, l: usize, span: &Range<usize>, b: usize) {
        let steps = self.unit_steps(span, b, &self.lengths);
        let Buffers { z, y, cache, .. } = &mut self.buffers;
        let layer = &self.layers[l];
        if let Some(unit) = &layer.unit {
            let io = units::Forward {
                z: &z[l],
                y: &mut y[l],
                cache: &mut cache[l],
            };
            unit.forward(&self.unit_tensors[l], io, &steps);
            return;
        }
        let n = layer.size;
        let activation = layer.activation;
        let range = cols(span, n, b);
        let (z, y) = (&z[l][range.clone()], &mut y[l][range]);
        match samples_per_task(self.par, n, span.len() * b) {
            Some(per) => z
                .par_chunks(n * per)
                .zip(y.par_chunks_mut(n * per))
                .for_each(|(z, y)| activation.forward(z, y, n)),
            None => activation.forward(z, y, n),
        }
    }

    /// The columns that have targets: every step's, or the last step's.
    fn scored_columns(&self, n: usize, b: usize) -> Range<usize> {
        let first = self.steps - self.target_steps;
        first * b * n..self.steps * b * n
    }

    /// Loss of the last forward pass against the presented targets, and the gradient of
    /// every trained parameter (averaged over the batch and the steps with targets, as the
    /// loss is).
    pub fn backward(&mut self, b: usize) -> f64 {
        for p in &mut self.params {
            p.grad.fill(0.0);
        }
        self.backward_adding(b)
    }

    /// [`Model::backward`] adding to the gradients already there (the discriminator of a
    /// GAN learns from a real and a fake batch).
    pub(super) fn backward_adding(&mut self, b: usize) -> f64 {
        let Some(loss) = self.loss else {
            return f64::NAN;
        };
        let all = self.steps * b;
        self.ready.iter_mut().for_each(|r| *r = false);
        for (l, layer) in self.layers.iter().enumerate() {
            if !layer.is_input {
                self.buffers.dy[l][..layer.size * all].fill(0.0);
            }
        }
        let mut total = 0.0;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            let scored = self.scored_columns(n, b);
            let Buffers {
                z, y, dy, dz, t, ..
            } = &mut self.buffers;
            let grad = match self.pairing[k] {
                GradientOf::Logits => {
                    self.ready[o] = true;
                    // Steps without targets get no gradient.
                    dz[o][..self.layers[o].input_width * all].fill(0.0);
                    &mut dz[o][scored.clone()]
                }
                GradientOf::Outputs => &mut dy[o][scored.clone()],
            };
            total += loss.evaluate(
                self.pairing[k],
                &z[o][scored.clone()],
                &y[o][scored.clone()],
                &t[k][..scored.len()],
                n,
                grad,
            );
        }
        for span in self.passes().rev() {
            for oi in (0..self.order.len()).rev() {
                let l = self.order[oi];
                if self.layers[l].is_input || self.clamped[l] {
                    continue;
                }
                self.backward_layer(l, &span, b);
            }
        }
        total
    }

    /// The backward pass through layer `l` for the steps `span`: its `dz` from `dy`, then
    /// the gradients of its bias and incoming weights and the `dy` of its sources.
    fn backward_layer(&mut self, l: usize, span: &Range<usize>, b: usize) {
        let steps = self.unit_steps(span, b, &self.lengths);
        let layer = &self.layers[l];
        let (n, width) = (layer.size, layer.input_width);
        let n_cols = span.len() * b;
        let Model {
            buffers,
            params,
            unit_tensors,
            ..
        } = self;
        let Buffers {
            z,
            y,
            dy,
            dz,
            keep,
            pre_dropout,
            cache,
            ..
        } = buffers;
        let out = cols(span, n, b);
        if !self.ready[l] {
            if layer.dropout > 0.0 {
                for (d, &k) in dy[l][out.clone()].iter_mut().zip(&keep[l][out.clone()]) {
                    *d *= k;
                }
            }
            if let Some(unit) = &layer.unit {
                // A unit without tensors has no entry: its slice is empty.
                let first = self.unit_param[l].unwrap_or(0);
                let mut grads: Vec<&mut [f32]> = params[first..first + layer.tensors.len()]
                    .iter_mut()
                    .map(|p| p.grad.as_mut_slice())
                    .collect();
                let io = units::Backward {
                    y: &y[l],
                    cache: &mut cache[l],
                    dy: &mut dy[l],
                    dz: &mut dz[l],
                };
                unit.backward(&unit_tensors[l], &mut grads, io, &steps);
            } else {
                let activations = if layer.dropout > 0.0 {
                    &pre_dropout[l][out.clone()]
                } else {
                    &y[l][out.clone()]
                };
                let activation = layer.activation;
                let (z, dy, dz) = (&z[l][out.clone()], &dy[l][out.clone()], &mut dz[l][out]);
                match samples_per_task(self.par, n, n_cols) {
                    Some(per) => dz
                        .par_chunks_mut(n * per)
                        .zip(z.par_chunks(n * per))
                        .zip(activations.par_chunks(n * per))
                        .zip(dy.par_chunks(n * per))
                        .for_each(|(((dz, z), y), dy)| activation.backward(z, y, dy, dz, n)),
                    None => activation.backward(z, activations, dy, dz, n),
                }
            }
        }
        let dzl = &dz[l][cols(span, width, b)];
        if let Some(p) = self.bias_param[l] {
            let grad = &mut params[p].grad;
            let spatial = layer.bias_spatial;
            for col in dzl.chunks_exact(width) {
                if spatial == 1 {
                    grad.iter_mut().zip(col).for_each(|(g, &d)| *g += d);
                } else {
                    for (g, map) in grad.iter_mut().zip(col.chunks_exact(spatial)) {
                        *g += map.iter().sum::<f32>();
                    }
                }
            }
        }
        for &(li, _) in &layer.incoming {
            let link = &mut self.links[li];
            let src = link.source;
            let n_src = self.layers[src].size;
            let Some(read) = link.source_steps(span) else {
                continue;
            };
            let source_cols = cols(&read, n_src, b);
            let x = &y[src][source_cols.clone()];
            // A truncated recurrent projection passes no gradient back to the step before.
            let cut = link.delayed && !steps.carries_back(span.start);
            let propagate = !(self.layers[src].is_input || self.clamped[src] || cut);
            if let Some(spatial) = &mut link.spatial {
                let grad = self.weight_param[li].map(|p| params[p].grad.as_mut_slice());
                let dx = propagate.then(|| &mut dy[src][source_cols]);
                spatial.backward(self.weights[li].as_slice(), dzl, n_cols, grad, dx, self.par);
                continue;
            }
            if let Some(p) = self.weight_param[li] {
                let grad = &mut params[p].grad;
                if link.diagonal {
                    for (dc, xc) in dzl.chunks_exact(width).zip(x.chunks_exact(n_src)) {
                        for ((g, &d), &x) in grad.iter_mut().zip(dc).zip(xc) {
                            *g += d * x;
                        }
                    }
                } else {
                    product(
                        grad,
                        width,
                        n_src,
                        true,
                        View::new(dzl, width, n_cols),
                        View::new(x, n_src, n_cols).t(),
                        self.par,
                    );
                    if let Some(m) = &link.mask {
                        grad.iter_mut().zip(m).for_each(|(g, m)| *g *= m);
                    }
                }
            }
            if !propagate {
                continue;
            }
            let w = &self.weights[li];
            let dys = &mut dy[src][source_cols];
            if link.diagonal {
                let w = w.as_slice();
                for (dc, gc) in dzl.chunks_exact(width).zip(dys.chunks_exact_mut(n_src)) {
                    for ((g, &d), &w) in gc.iter_mut().zip(dc).zip(w) {
                        *g += w * d;
                    }
                }
            } else {
                product(
                    dys,
                    n_src,
                    n_cols,
                    true,
                    View::new(w.as_slice(), width, n_src).t(),
                    View::new(dzl, width, n_cols),
                    self.par,
                );
            }
        }
    }

    /// The loss of the last forward pass against the presented targets, without gradients
    /// (the training loss, or `mse` for a network trained without one).
    pub fn loss_only(&mut self, b: usize) -> f64 {
        let loss = self.loss.unwrap_or(Loss::Mse);
        let mut total = 0.0;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            let scored = self.scored_columns(n, b);
            let pairing = loss
                .pairing(self.layers[o].activation)
                .unwrap_or(GradientOf::Outputs);
            let Buffers { z, y, dz, t, .. } = &mut self.buffers;
            total += loss.evaluate(
                pairing,
                &z[o][scored.clone()],
                &y[o][scored.clone()],
                &t[k][..scored.len()],
                n,
                &mut dz[o][scored],
            );
        }
        total
    }

    /// One optimizer step on every gradient-trained parameter.
    pub fn update(&mut self) {
        self.update_where(&|_| true, self.step + 1);
    }

    /// Applies every projection's local rule to the current batch (pre = source state,
    /// post = target state), then restores masks and symmetry.
    pub fn local_update(&mut self, b: usize) {
        for (i, link) in self.links.iter_mut().enumerate() {
            let Some(rule) = link.rule else { continue };
            let pre = &self.buffers.y[link.source][..link.n_pre * b];
            let post = &self.buffers.y[link.target][..link.n_post * b];
            let w = self.weights[i].as_mut_slice();
            if link.diagonal {
                // One weight per unit pair (i, i): the rules act on the diagonal.
                for u in 0..link.n_post {
                    let (mut hebb, mut y2) = (0.0f32, 0.0f32);
                    for c in 0..b {
                        let (x, y) = (pre[c * link.n_pre + u], post[c * link.n_post + u]);
                        hebb += x * y;
                        y2 += y * y;
                    }
                    w[u] += match rule {
                        LocalRule::Hebbian { rate } => rate * hebb,
                        LocalRule::Oja { rate } => rate * (hebb - y2 * w[u]),
                        LocalRule::Bcm { rate, .. } => rate * (hebb - link.theta[u] * hebb),
                    };
                }
                continue;
            }
            match rule {
                LocalRule::Hebbian { rate } => {
                    hebbian::update(w, pre, post, link.n_pre, link.n_post, rate)
                }
                LocalRule::Oja { rate } => oja::update(w, pre, post, link.n_pre, link.n_post, rate),
                LocalRule::Bcm { rate, tau } => bcm::update(
                    w,
                    &mut link.theta,
                    pre,
                    post,
                    link.n_pre,
                    link.n_post,
                    rate,
                    tau,
                ),
            }
            if !link.directed && link.source == link.target {
                let n = link.n_post;
                for j in 0..n {
                    for k in 0..j {
                        let mean = 0.5 * (w[j * n + k] + w[k * n + j]);
                        w[j * n + k] = mean;
                        w[k * n + j] = mean;
                    }
                }
            }
            if let Some(m) = &link.mask {
                w.iter_mut().zip(m).for_each(|(w, m)| *w *= m);
            }
        }
    }

    /// Iterates the network's dynamics `steps` times from the presented state: every
    /// non-input layer is updated synchronously from the previous state through every
    /// projection (undirected ones in both directions). Asks `interrupted` before every
    /// step and returns `false` as soon as it says yes (recall may take many steps).
    pub fn relax(&mut self, b: usize, steps: usize, interrupted: &dyn Fn() -> bool) -> bool {
        let updated: Vec<usize> = (0..self.layers.len())
            .filter(|&l| !self.layers[l].is_input)
            .collect();
        for _ in 0..steps {
            if interrupted() {
                return false;
            }
            for &l in &updated {
                self.compute_z(l, &(0..1), b, true);
            }
            for &l in &updated {
                self.activate(l, &(0..1), b);
            }
        }
        true
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

    fn load_parameters(&mut self, initial: &BTreeMap<String, Vec<f32>>) -> Result<(), SimError> {
        for (key, values) in initial {
            let mismatch = |expected: usize| {
                SimError::Data(format!(
                    "initial values '{key}' hold {} numbers, the network needs {expected}",
                    values.len()
                ))
            };
            if let Some(name) = key.strip_prefix("weights/") {
                let i = self
                    .link_index(name)
                    .ok_or_else(|| SimError::Data(format!("no projection '{name}' for '{key}'")))?;
                let w = &mut self.weights[i];
                if values.len() != w.len() {
                    return Err(mismatch(w.len()));
                }
                if self.links[i].diagonal {
                    w.as_mut_slice().copy_from_slice(values);
                } else {
                    *w = DMatrix::from_row_slice(w.nrows(), w.ncols(), values);
                }
            } else if let Some(name) = key.strip_prefix("biases/") {
                let l = self
                    .layers
                    .iter()
                    .position(|l| l.name == name && l.bias)
                    .ok_or_else(|| SimError::Data(format!("no biased population for '{key}'")))?;
                if values.len() != self.biases[l].len() {
                    return Err(mismatch(self.biases[l].len()));
                }
                self.biases[l].copy_from_slice(values);
            } else if let Some((l, k)) = self.unit_tensor(key) {
                let tensor = &mut self.unit_tensors[l][k];
                if values.len() != tensor.len() {
                    return Err(mismatch(tensor.len()));
                }
                tensor.copy_from_slice(values);
            } else {
                return Err(SimError::Data(format!(
                    "initial value '{key}' is none of weights/<projection>, \
                     biases/<population>, parameters/<population>/<tensor>"
                )));
            }
        }
        Ok(())
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

/// One optimizer step on one tensor; elementwise, so chunks on several threads give the
/// same bits as one pass.
fn apply(optimizer: Optimizer, step: u64, values: &mut [f32], p: &mut Param, parallel: bool) {
    let grads = &p.grad;
    if !parallel || values.len() < 2 * UPDATE_CHUNK {
        optimizer.step(step, values, grads, &mut p.first, &mut p.second);
        return;
    }
    let pairs = values
        .par_chunks_mut(UPDATE_CHUNK)
        .zip(grads.par_chunks(UPDATE_CHUNK));
    match optimizer.state_slots() {
        0 => pairs.for_each(|(v, g)| optimizer.step(step, v, g, &mut [], &mut [])),
        1 => pairs
            .zip(p.first.par_chunks_mut(UPDATE_CHUNK))
            .for_each(|((v, g), a)| optimizer.step(step, v, g, a, &mut [])),
        _ => pairs
            .zip(p.first.par_chunks_mut(UPDATE_CHUNK))
            .zip(p.second.par_chunks_mut(UPDATE_CHUNK))
            .for_each(|(((v, g), a), s)| optimizer.step(step, v, g, a, s)),
    }
}
