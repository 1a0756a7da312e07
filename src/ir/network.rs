//! The checked network: populations and projections in a graph, plus datasets, protocol and
//! what to record. Built by `lang::lower`, or directly from Rust without any `.net` file.

use std::path::PathBuf;

use super::graph::{Graph, PopulationId, ProjectionId};
use super::value::{Call, Params, Value};
use crate::diag::Span;
use crate::models::Mode;
use crate::models::connector::ConnectorInfo;
use crate::models::neuron::NeuronInfo;
use crate::models::plasticity::PlasticityInfo;
use crate::models::schedule::Schedule;
use crate::units::Dim;

/// One experiment: model, stimulus, protocol and records.
#[derive(Debug, Clone)]
pub struct Network {
    pub name: String,
    pub mode: Mode,
    /// Master seed; every random draw derives from it.
    pub seed: u64,
    /// Integration step in ms (spiking mode; 0.1 ms unless set).
    pub dt: f64,
    pub graph: Graph,
    pub datasets: Vec<Dataset>,
    pub train: Option<Train>,
    pub evaluate: Option<Evaluate>,
    pub simulate: Option<Simulate>,
    pub records: Vec<Record>,
    /// Output path from the file (`output = "x.h5"`), already resolved.
    pub output: Option<PathBuf>,
    pub span: Span,
}

impl Network {
    pub fn new(name: impl Into<String>, mode: Mode) -> Network {
        Network {
            name: name.into(),
            mode,
            seed: 0,
            dt: 0.1,
            graph: Graph::default(),
            datasets: Vec::new(),
            train: None,
            evaluate: None,
            simulate: None,
            records: Vec::new(),
            output: None,
            span: Span::default(),
        }
    }

    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.name == name)
    }
}

/// A group of neurons (or rate units) of one model.
#[derive(Debug, Clone)]
pub struct Population {
    pub name: String,
    pub model: &'static NeuronInfo,
    /// `[n]` or a shape such as `[1, 28, 28]` (channels, height, width).
    pub shape: Vec<usize>,
    /// Every parameter of the model, defaults filled in; a `Value::Dist` is drawn per neuron.
    pub params: Params,
    /// Initial values of state variables given in the block (`v = uniform(...)`).
    pub init: Params,
    pub span: Span,
}

impl Population {
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// The rate activation's name as written (`identity` if none) and the activation it
    /// names (`None` for an unknown name), with its `slope` (leaky ReLU; 0.01 if none).
    pub fn activation(&self) -> (&str, Option<crate::models::activation::Activation>) {
        let name = self.params.symbol("activation").unwrap_or("identity");
        let slope = self.params.number("slope").unwrap_or(0.01) as f32;
        (
            name,
            crate::models::activation::Activation::from_name(name, slope),
        )
    }
}

/// Which synaptic input of the target a projection feeds: one of the receptors its model
/// reads (`NeuronInfo::receptors`). Receptors are equal when their names are, so
/// `Named("excitatory")` is `Excitatory`.
#[derive(Debug, Clone, Copy)]
pub enum Receptor {
    Excitatory,
    Inhibitory,
    /// A receptor of a user-defined model (`on_pre nmda { ... }`), by name.
    Named(&'static str),
}

impl Receptor {
    /// The receptor called `name` (`Excitatory` and `Inhibitory` for theirs).
    pub fn named(name: &'static str) -> Receptor {
        match name {
            n if n == Receptor::Excitatory.name() => Receptor::Excitatory,
            n if n == Receptor::Inhibitory.name() => Receptor::Inhibitory,
            n => Receptor::Named(n),
        }
    }

    pub fn name(self) -> &'static str {
        use crate::models::neuron::{EXCITATORY, INHIBITORY};
        match self {
            Receptor::Excitatory => EXCITATORY,
            Receptor::Inhibitory => INHIBITORY,
            Receptor::Named(name) => name,
        }
    }
}

impl PartialEq for Receptor {
    fn eq(&self, other: &Receptor) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Receptor {}

impl std::hash::Hash for Receptor {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state)
    }
}

impl std::fmt::Display for Receptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Receptor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Synapses from one population to another.
#[derive(Debug, Clone)]
pub struct Projection {
    /// `A->B` or `A--B`; unique within the network (a second projection between the same
    /// pair gets a `#2` suffix).
    pub name: String,
    pub source: PopulationId,
    pub target: PopulationId,
    /// `false` for `A -- B`: one symmetric weight matrix, `w_ij = w_ji`.
    pub directed: bool,
    pub connector: &'static ConnectorInfo,
    /// Connector arguments (`p`, `k`, `n`, `autapses`, `multapses`), defaults filled in.
    pub connector_args: Params,
    /// Spiking: the synaptic weight (number or distribution, internal units). Rate: unused.
    pub weight: Option<Value>,
    /// Dimension the weight was written in (a `lif` weight may be a voltage or a current).
    pub weight_dim: Dim,
    /// Spiking: delay in ms (number or distribution); never below `dt` after instantiation.
    pub delay: Option<Value>,
    pub receptor: Receptor,
    /// Rate: initialiser name (`xavier`, `he`, ...).
    pub init: Option<String>,
    pub plasticity: Option<Plasticity>,
    /// Any further parameters given in the block (for rules and connectors added later).
    pub extra: Params,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Plasticity {
    pub rule: &'static PlasticityInfo,
    /// Every parameter of the rule, defaults filled in, internal units.
    pub params: Params,
}

/// Longest delay the spiking engine stores, in steps of `dt` (delays are kept as `u16`).
pub const MAX_DELAY_STEPS: u32 = u16::MAX as u32 - 1;

/// Data for rate-mode training and evaluation.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub source: DataSource,
    pub options: DataOptions,
    pub span: Span,
    /// Where each file path of `source` is written (the CSV path; the IDX images, then
    /// labels), so a file that is missing or does not fit is reported at its path string.
    /// Empty for a dataset built without a source text.
    pub path_spans: Vec<Span>,
}

impl Dataset {
    /// The files this dataset reads, each with the span of its path string (the dataset's
    /// span where none was kept).
    pub fn files(&self) -> Vec<(&std::path::Path, Span)> {
        let paths: Vec<&std::path::Path> = match &self.source {
            DataSource::Inline { .. } => Vec::new(),
            DataSource::Csv { path, .. } => vec![path],
            DataSource::Idx { images, labels } => std::iter::once(images.as_path())
                .chain(labels.as_deref())
                .collect(),
        };
        paths
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, self.path_spans.get(i).copied().unwrap_or(self.span)))
            .collect()
    }
}

impl DataSource {
    /// Whether the rows come with targets (a loss and accuracy can be measured on them).
    pub fn has_targets(&self) -> bool {
        match self {
            DataSource::Inline { rows } => rows.iter().any(|r| r.targets.is_some()),
            DataSource::Csv {
                target, targets, ..
            } => !target.is_empty() || !targets.is_empty(),
            DataSource::Idx { labels, .. } => labels.is_some(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum DataSource {
    /// Rows written in the file; `targets` is `None` for unsupervised rows.
    Inline { rows: Vec<InlineRow> },
    /// A CSV file with a header row.
    Csv {
        path: PathBuf,
        /// Integer class-label columns, each one-hot encoded against the output size (one
        /// per step for a sequence dataset).
        target: Vec<String>,
        targets: Vec<String>,
        /// A column holding each row's own number of steps (sequences shorter than
        /// `length`, padded): steps after it have no target, and attention does not look
        /// at them.
        lengths: Option<String>,
    },
    /// MNIST IDX files, gzipped or not.
    Idx {
        images: PathBuf,
        labels: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct InlineRow {
    pub inputs: Vec<f64>,
    pub targets: Option<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataOptions {
    /// Multiply every input by this factor.
    pub scale: Option<f64>,
    pub shuffle: bool,
    /// Keep only this leading fraction of the rows.
    pub split: Option<f64>,
    /// Keep at most this many rows.
    pub limit: Option<usize>,
    /// Rows are sequences of this many steps (step-major: a row holds `length` inputs of
    /// the input populations one after the other).
    pub length: Option<usize>,
}

/// `train { ... }`.
#[derive(Debug, Clone)]
pub struct Train {
    pub data: String,
    /// `None` for networks that learn only through local rules (Hopfield).
    pub loss: Option<String>,
    pub optimizer: Option<Call>,
    pub epochs: usize,
    pub batch: usize,
    pub validate: Option<String>,
    /// Learning-rate schedule, clipping, early stopping, L1/L2 penalties.
    pub options: TrainOptions,
    /// Each epoch visits the rows in a new seeded order.
    pub shuffle: bool,
    /// `train adversarial { ... }`: a generative adversarial network.
    pub adversarial: Option<Adversarial>,
    pub span: Span,
}

/// The two parts of `train adversarial`. The generator is every population up to and
/// including `generator` (fed noise at its `input` populations); the discriminator is every
/// population after it up to `discriminator`, its one output. Real rows are shown to the
/// discriminator in place of the generator's output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adversarial {
    pub generator: PopulationId,
    pub discriminator: PopulationId,
    /// Learning rates of the two parts (the two time-scale update rule of Heusel et al.
    /// 2017); `None`: the optimizer's. A schedule scales both alike.
    pub generator_lr: Option<f64>,
    pub discriminator_lr: Option<f64>,
    /// Discriminator steps per generator step (WGAN's n_critic): the generator learns
    /// after every `discriminator_steps`-th batch.
    pub discriminator_steps: usize,
}

/// The regularisation and training conveniences of `train { ... }`. The default is none of
/// them: a constant learning rate, no clipping, no penalty, every epoch run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOptions {
    /// `schedule = step(every = 10, gamma = 0.5)`; `None` keeps the optimizer's rate.
    pub schedule: Option<Schedule>,
    /// Epochs of linear learning-rate warmup before the schedule starts.
    pub warmup: usize,
    /// Largest global L2 norm of the gradient over every trained parameter.
    pub clip_norm: Option<f64>,
    /// Largest absolute value of any gradient element.
    pub clip_value: Option<f64>,
    /// L1 penalty `l1 · Σ|w|` over every weight (not bias), added to loss and gradient.
    pub l1: f64,
    /// L2 penalty `l2 · Σw²` over every weight (not bias), added to loss and gradient.
    pub l2: f64,
    pub early_stopping: Option<EarlyStopping>,
    /// Truncated backpropagation through time: no gradient crosses from a step that is a
    /// multiple of this to the step before.
    pub truncate: Option<usize>,
}

/// `early_stopping = PATIENCE` (with `validate`): stop when the validation loss has not
/// improved for `patience` epochs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyStopping {
    pub patience: usize,
    /// An epoch improves when its validation loss is below the best by more than this.
    pub min_delta: f64,
    /// Put back the parameters of the best validation epoch when training ends.
    pub restore_best: bool,
}

/// `evaluate { ... }`.
#[derive(Debug, Clone)]
pub struct Evaluate {
    pub data: String,
    pub metrics: Vec<String>,
    /// Iterations of the recurrent dynamics for recall (`steps = 20`).
    pub steps: Option<usize>,
    pub span: Span,
}

/// `simulate 1 s`.
#[derive(Debug, Clone)]
pub struct Simulate {
    /// Duration in ms.
    pub duration: f64,
    pub span: Span,
}

/// `record WHAT of TARGETS [from T] [until T] [every INTERVAL]`.
#[derive(Debug, Clone)]
pub struct Record {
    pub what: Recordable,
    pub targets: Vec<RecordTarget>,
    pub every: Option<Interval>,
    /// `from`/`until`: when spikes and samples are kept (`None` = the whole run).
    pub window: Option<Window>,
    pub span: Span,
}

/// A recording window of simulated time, in ms: what is stamped `t` is kept when
/// `start_ms <= t < stop_ms` (no `stop_ms`: until the run ends).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start_ms: f64,
    pub stop_ms: Option<f64>,
}

impl Window {
    /// Tolerance of the comparisons: times are stamped `(n + 1) * dt` in floating point, so
    /// a stamp meant to be exactly `from` may come out a few ulps below it.
    const SLACK_MS: f64 = 1e-9;

    /// Whether a spike or sample stamped `time_ms` falls inside the window.
    pub fn contains(&self, time_ms: f64) -> bool {
        let slack = |t: f64| Self::SLACK_MS * t.abs().max(1.0);
        time_ms >= self.start_ms - slack(self.start_ms)
            && self.stop_ms.is_none_or(|stop| time_ms < stop - slack(stop))
    }

    /// The window's end in a run of `duration_ms`: `until`, or the run's end if sooner.
    pub fn end_in(&self, duration_ms: f64) -> f64 {
        self.stop_ms
            .map_or(duration_ms, |stop| stop.min(duration_ms))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Recordable {
    Spikes,
    /// A state variable of the model (`v`, `u`, `g_e`, ...).
    State(String),
    /// Rate-mode unit outputs.
    Activation,
    Weight,
    Loss,
    Accuracy,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecordTarget {
    /// A population, or the half-open slice `E[start..end]` of it.
    Population {
        id: PopulationId,
        range: Option<(usize, usize)>,
    },
    Projection(ProjectionId),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interval {
    /// Every so many ms of simulated time.
    Time(f64),
    Epochs(usize),
}
