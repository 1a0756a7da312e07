//! Building a [`Model`] from the network: layers, projections (connectivity drawn by each
//! connector's own `generate`, keyed like the spiking engine's, so both modes draw the
//! same synapses for a seed), initial weights and biases, buffers, training set-up.

use super::*;
use crate::ir::{Population, Projection, ProjectionId, Unresolved};
use crate::models::connector::RateWeights;
use crate::models::plasticity::Learns;

/// Where the layers stand in the network: the order gradients add up in, each layer's
/// rank in it, and the projections that close cycles.
struct Order {
    order: Vec<usize>,
    rank: Vec<usize>,
    closing: Vec<ProjectionId>,
}

impl Order {
    /// Without a cycle through several populations, the feed-forward order (which fixes
    /// the order gradients add up in); with one, the order of the search that finds the
    /// projections closing cycles.
    fn of(network: &Network) -> Order {
        let g = &network.graph;
        let (search_order, closing) = g.recurrent_order();
        let order: Vec<usize> = g
            .feedforward_order()
            .unwrap_or(search_order)
            .iter()
            .map(|id| id.0 as usize)
            .collect();
        let mut rank = vec![0; order.len()];
        for (i, &l) in order.iter().enumerate() {
            rank[l] = i;
        }
        Order {
            order,
            rank,
            closing,
        }
    }
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
            layers.push(layer(p, max_steps)?);
        }
        let order = Order::of(network);
        let mut links = Vec::with_capacity(g.n_projections());
        let mut weights = Vec::with_capacity(g.n_projections());
        for (index, (id, p)) in g.projections().enumerate() {
            if id.0 as usize != index {
                return Err(unsupported("projection ids must be dense"));
            }
            let link = link(network, id, p, &layers, &order, columns)?;
            weights.push(initial_weights(network.seed, index, p, &link)?);
            let (source, target) = (link.source, link.target);
            if link.feedforward || link.delayed {
                layers[target].incoming.push((index, false));
            }
            layers[target].dynamics_in.push((index, false));
            if !link.directed && source != target {
                layers[source].dynamics_in.push((index, true));
            }
            links.push(link);
        }
        let recurrent = links.iter().any(|l| !l.feedforward && !l.delayed);
        share_biases(&mut layers, &links);
        let step_major = links.iter().any(|l| l.delayed);
        if step_major {
            refuse_in_step_major(&layers, &links)?;
        }
        let mut biases = initial_biases(network, &layers);
        let unit_tensors = initial_unit_tensors(network.seed, &layers, &mut biases);
        let outputs: Vec<usize> = crate::data::roles(network)
            .outputs
            .iter()
            .map(|id| id.0 as usize)
            .collect();

        let mut model = Model {
            clamped: vec![false; layers.len()],
            buffers: Buffers::new(&layers, &outputs, columns),
            layers,
            order: order.order,
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
    pub(super) fn configure_training(&mut self, train: &crate::ir::Train) -> Result<(), SimError> {
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
            name: crate::models::optimizer::DEFAULT.name.into(),
            args: Default::default(),
        });
        let lookup = |k: &str| match call.args.get(k) {
            Some(Value::Number(x)) => Some(*x),
            Some(Value::Bool(b)) => Some(f64::from(u8::from(*b))),
            _ => None,
        };
        let optimizer = Optimizer::from_args(&call.name, &lookup).map_err(unsupported)?;
        let mut params = Vec::new();
        let mut add = |target: ParamOf, n: usize| {
            params.push(Param {
                target,
                grad: vec![0.0; n],
                state: optimizer.new_state(n),
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

    pub(super) fn load_parameters(
        &mut self,
        initial: &BTreeMap<String, Vec<f32>>,
    ) -> Result<(), SimError> {
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
}

/// A population as a layer: its unit (if its model runs as one), activation and options.
fn layer(p: &Population, max_steps: usize) -> Result<Layer, SimError> {
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
        // `bias` takes a flag or initial values; values switch it on.
        None => !is_input && !matches!(feature(p, "bias")?, Some(Value::Bool(false)) | None),
    };
    let dropout = match feature(p, "dropout")? {
        Some(v) => v.as_number().unwrap_or(0.0).clamp(0.0, 0.999) as f32,
        None => 0.0,
    };
    Ok(Layer {
        name: p.name.clone(),
        size: p.size(),
        input_width: unit.as_ref().map_or(p.size(), |u| u.input_width()),
        tensors: unit.as_ref().map_or(Vec::new(), |u| u.tensors()),
        whole_sequence: p.model.whole_sequence,
        unit,
        is_input,
        activation,
        bias,
        straight_through: feature(p, "straight_through")? == Some(&Value::Bool(true)),
        dropout,
        bias_spatial: 1,
        incoming: Vec::new(),
        dynamics_in: Vec::new(),
    })
}

/// A projection as a link: its place in the passes, its synapses and its local rule.
fn link(
    network: &Network,
    id: ProjectionId,
    p: &Projection,
    layers: &[Layer],
    order: &Order,
    columns: usize,
) -> Result<Link, SimError> {
    let (source, target) = (p.source.0 as usize, p.target.0 as usize);
    let (n_pre, n_post) = (layers[source].size, layers[target].input_width);
    if layers[target].is_input {
        return Err(unsupported(format!(
            "projection '{}' targets the input population '{}'",
            p.name, layers[target].name
        )));
    }
    let self_projection = source == target;
    let feedforward = p.directed && !self_projection && order.rank[source] < order.rank[target];
    let delayed = order.closing.binary_search(&id).is_ok() && p.plasticity.is_none();
    let spatial = spatial(network, p, layers, feedforward, columns)?;
    let form = if spatial.is_some() {
        RateWeights::Matrix
    } else {
        p.connector.rate_weights
    };
    if form != RateWeights::Matrix && n_pre != n_post {
        return Err(unsupported(format!(
            "projection '{}': {} needs {n_post} source units (the rows '{}' takes), not {n_pre}",
            p.name, p.connector.name, layers[target].name
        )));
    }
    let mask = match (&spatial, form) {
        (None, RateWeights::Matrix) => connectivity_mask(network.seed, id, p, n_pre, n_post)?,
        _ => None,
    };
    let rule = match &p.plasticity {
        None => None,
        Some(pl) => {
            let Learns::Rate(learner) = pl.rule.learns else {
                return Err(unsupported(format!(
                    "projection '{}': rule '{}' is not a rate-mode rule",
                    p.name, pl.rule.name
                )));
            };
            let args = |name: &str| pl.params.numeric(name);
            Some(
                learner(&args, n_post)
                    .map_err(|why| unsupported(format!("projection '{}': {why}", p.name)))?,
            )
        }
    };
    Ok(Link {
        name: p.name.clone(),
        source,
        target,
        n_pre,
        n_post,
        directed: p.directed,
        feedforward,
        delayed,
        fixed: form == RateWeights::Unchanged,
        diagonal: form != RateWeights::Matrix,
        mask,
        rule,
        spatial,
    })
}

/// The window of a `conv` or pooling projection (`None` for other connectors).
fn spatial(
    network: &Network,
    p: &Projection,
    layers: &[Layer],
    feedforward: bool,
    columns: usize,
) -> Result<Option<Spatial>, SimError> {
    let g = &network.graph;
    let Some(info) = p.connector.spatial else {
        return Ok(None);
    };
    if !feedforward || p.plasticity.is_some() {
        return Err(unsupported(format!(
            "projection '{}': `{}` must be a feed-forward projection between two populations, \
             trained by backprop",
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
    let target = p.target.0 as usize;
    if layers[target].unit.is_some() {
        return Err(unsupported(format!(
            "projection '{}': `{}` cannot feed the {} population '{}'",
            p.name,
            p.connector.name,
            g.population(p.target).model.name,
            layers[target].name
        )));
    }
    Ok(Some(Spatial::new(info.op, window, columns)))
}

/// The synapses of a matrix projection, drawn by the connector's `generate` from the
/// streams the spiking engine uses for the same projection (`Purpose::Connect`, projection
/// id, row): 1 where a synapse exists. `None` when every pair is connected. An undirected
/// projection of a population onto itself is one symmetric matrix: the synapses drawn for
/// the upper triangle are mirrored.
fn connectivity_mask(
    seed: u64,
    id: ProjectionId,
    p: &Projection,
    n_pre: usize,
    n_post: usize,
) -> Result<Option<Vec<f32>>, SimError> {
    let self_projection = p.source == p.target;
    let rows =
        crate::sim::connect::synapses(seed, u64::from(id.0), p, n_pre, n_post, self_projection)
            .map_err(|why| unsupported(format!("projection '{}': {why}", p.name)))?;
    let mut mask = vec![0.0f32; n_post * n_pre];
    for s in 0..n_pre {
        for &t in &rows.targets[rows.offsets[s]..rows.offsets[s + 1]] {
            mask[s * n_post + t as usize] = 1.0;
        }
    }
    if !p.directed && self_projection {
        for j in 0..n_pre {
            for i in 0..j {
                mask[i * n_post + j] = mask[j * n_post + i];
            }
        }
    }
    Ok((!mask.iter().all(|&m| m == 1.0)).then_some(mask))
}

/// A parameter of an optional feature (`bias`, `dropout`, `straight_through`): its
/// resolved value where the population's model declares it, `None` where the model has no
/// such feature (an LSTM has no dropout of its own).
fn feature<'a>(p: &'a Population, name: &str) -> Result<Option<&'a Value>, SimError> {
    if crate::models::find_param(p.model.params, name).is_none() {
        return Ok(None);
    }
    let value = p.params.get(name).ok_or_else(|| {
        unsupported(format!(
            "population '{}': {}",
            p.name,
            Unresolved(name.into())
        ))
    })?;
    Ok(Some(value))
}

/// The initial weights of a link: unit weights for `identity`, the given `weight` (one
/// draw per weight, in storage order, from the init stream), or the projection's `init`;
/// symmetric for an undirected self projection, zero where there is no synapse.
fn initial_weights(
    seed: u64,
    index: usize,
    p: &Projection,
    link: &Link,
) -> Result<DMatrix<f32>, SimError> {
    let init_name = p.init.as_deref().unwrap_or(crate::models::init::DEFAULT);
    let init = Init::from_name(init_name).ok_or_else(|| {
        unsupported(format!(
            "projection '{}': unknown init '{init_name}'",
            p.name
        ))
    })?;
    let (n_pre, n_post) = (link.n_pre, link.n_post);
    let (rows, cols) = match &link.spatial {
        Some(s) => s.weight_dims(),
        None if link.diagonal => (n_post, 1),
        None => (n_post, n_pre),
    };
    let mut w = DMatrix::<f32>::zeros(rows, cols);
    let mut init_rng = Xoshiro256PlusPlus::seed_from_u64(mix(seed, stream::INIT + index as u64));
    let (fan_in, fan_out) = match &link.spatial {
        // A kernel tap sees C_in·k² inputs and feeds C_out·k² outputs.
        Some(s) => (cols, rows * s.window.taps()),
        None if link.diagonal => (1, 1),
        None => (n_pre, n_post),
    };
    if link.fixed {
        w.fill(1.0);
    } else if let Some(value) = &p.weight {
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
    if !p.directed && link.source == link.target && !link.diagonal {
        for j in 0..n_pre {
            for i in 0..j {
                w[(j, i)] = w[(i, j)];
            }
        }
    }
    if let Some(m) = &link.mask {
        w.as_mut_slice()
            .iter_mut()
            .zip(m)
            .for_each(|(w, m)| *w *= m);
    }
    Ok(w)
}

/// A population fed by conv has a bias per feature map; one fed only by pooling has none
/// (pooling has no parameters, as in PyTorch and Keras).
fn share_biases(layers: &mut [Layer], links: &[Link]) {
    for layer in layers {
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
}

/// What cannot run step by step (a network with recurrent projections trained by backprop).
fn refuse_in_step_major(layers: &[Layer], links: &[Link]) -> Result<(), SimError> {
    if let Some(l) = layers.iter().find(|l| l.whole_sequence) {
        return Err(unsupported(format!(
            "population '{}' attends over whole sequences, so it cannot be in a network with \
             recurrent projections (which runs step by step); use an lstm or gru population \
             for the recurrence",
            l.name
        )));
    }
    if let Some(l) = links.iter().find(|l| l.spatial.is_some()) {
        return Err(unsupported(format!(
            "projection '{}': convolution and pooling are not supported in a network with \
             recurrent projections",
            l.name
        )));
    }
    Ok(())
}

/// Zero biases, or `bias = 0.5` (or a distribution): the initial biases themselves.
fn initial_biases(network: &Network, layers: &[Layer]) -> Vec<Vec<f32>> {
    let mut biases: Vec<Vec<f32>> = layers
        .iter()
        .map(|l| {
            let n = if l.bias {
                l.input_width / l.bias_spatial
            } else {
                0
            };
            vec![0.0; n]
        })
        .collect();
    for (l, (_, p)) in network.graph.populations().enumerate() {
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
    biases
}

/// Each unit's initial tensors (and its initial bias, set in `biases`).
fn initial_unit_tensors(
    seed: u64,
    layers: &[Layer],
    biases: &mut [Vec<f32>],
) -> Vec<Vec<Vec<f32>>> {
    let mut unit_tensors = Vec::with_capacity(layers.len());
    for (l, layer) in layers.iter().enumerate() {
        let Some(unit) = &layer.unit else {
            unit_tensors.push(Vec::new());
            continue;
        };
        unit.init_bias(&mut biases[l]);
        let mut tensors: Vec<Vec<f32>> = layer.tensors.iter().map(|t| vec![0.0; t.len]).collect();
        let mut rng =
            Xoshiro256PlusPlus::seed_from_u64(mix(seed, stream::INIT + stream::UNIT + l as u64));
        unit.init(&mut tensors, &mut rng);
        unit_tensors.push(tensors);
    }
    unit_tensors
}

impl Buffers {
    /// Every batch buffer, for `columns` columns.
    fn new(layers: &[Layer], outputs: &[usize], columns: usize) -> Buffers {
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
    }
}
