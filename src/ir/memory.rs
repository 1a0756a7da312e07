//! Memory estimate of a network, computed from expected synapse counts before anything is
//! allocated, so a network that cannot fit is refused with a message instead of an OOM.

use super::graph::{PopulationId, ProjectionId};
use super::network::Network;
use super::{DistKind, RecordTarget, Recordable, Value};
use crate::diag::Diagnostic;
use crate::models::Mode;
use crate::models::connector::Shape;
use crate::models::plasticity::Learns;

/// Bytes one spiking synapse costs at the peak of the build, while the generated rows (a
/// 32-bit target each) still exist next to the partition's table (32-bit ring slot, f32
/// weight, 16-bit delay): 4 + 10. Measured peak RSS of `neurosim run` on 15,000 `lif`
/// neurons with `random(p = 0.5)` (1.125e8 synapses, 10 ms): 1.47 GiB, 14.06 B per
/// synapse; the former 12 B gave an estimate of 1.26 GiB (15 % low), 14 B (with
/// [`BASE_BYTES`]) gives 1.48 GiB.
pub const SPIKING_SYNAPSE_BYTES: f64 = 14.0;
/// Bytes a plastic synapse costs instead at the peak of the build: the generated target (4)
/// and the plastic table (ring slot 4, weight 4, delay 2, weight factor 4, rule 2, source 4,
/// target 4) plus its by-target index (4). The same network with `stdp` measured 3.36 GiB,
/// 32.06 B per synapse; the former 12 + 4 B gave 1.68 GiB (50 % low), 32 B gives 3.35 GiB.
pub const PLASTIC_SYNAPSE_BYTES: f64 = 32.0;
/// Bytes a synapse of a user-defined synapse model costs besides its f64 state variables:
/// the generated target (4) and its event table (ring slot 4, delay 2, weight factor 4,
/// target 4, last event 4, by-target index 4), rounded up for the row sort's scratch.
/// Measured: 15,000 `lif_cond` with `random(p = 0.05)` (1.125e7 synapses, 10 ms) under the
/// 5-variable triplet rule peak at 677 MiB against 158 MiB without it, 62.4 B per synapse
/// in all; the estimate, 28 + 40 B, gives 746 MiB (10 % high).
pub const EVENT_SYNAPSE_BYTES: f64 = 28.0;
/// Extra bytes per spiking synapse whose weight is drawn from a distribution (the drawn f32
/// values live until the tables are filled).
pub const DRAWN_WEIGHT_BYTES: f64 = 4.0;
/// Extra bytes per spiking synapse whose delay is drawn (16-bit steps until the tables are
/// filled).
pub const DRAWN_DELAY_BYTES: f64 = 2.0;
/// Extra bytes per synapse of a projection whose weights are recorded (where each lives).
pub const RECORDED_WEIGHT_BYTES: f64 = 16.0;
/// Bytes one rate-mode weight costs: value, gradient and two optimizer moments (f32 each).
pub const RATE_WEIGHT_BYTES: f64 = 16.0;
/// Extra bytes per learned rate-mode value for the copies made when the parameters are
/// written to the output. Measured on `lstm[1024]` (4.2e6 learned values), batch 256: over
/// 5-step sequences peak RSS 205 MiB against an estimate of 149 MiB (27 % low), over 50
/// steps 971 MiB against 915 MiB (6 % low); the gap, 48–56 MiB whatever the length, is
/// about three f32 copies per learned value. With these 12 B and [`BASE_BYTES`] the
/// estimates are 213 MiB and 979 MiB.
pub const RATE_OUTPUT_BYTES: f64 = 12.0;
/// Bytes of state per neuron (a generous bound covering every model's state and buffers,
/// not the delay rings).
pub const NEURON_BYTES: f64 = 64.0;
/// What the process needs before any network (code, libraries, HDF5): 8 MiB measured on
/// `xor.net`, rounded up.
pub const BASE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
/// Longest delay the spiking engine stores, in steps (its delays are 16-bit).
const MAX_DELAY_STEPS: f64 = u16::MAX as f64 - 1.0;

/// What bounds the memory a run may use. The CLI reads the system and passes it down; this
/// module does no IO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// The memory the machine has available (`MemAvailable`).
    Available,
    /// The memory limit of the process's control group, minus what it already uses.
    Cgroup,
    /// The address-space limit (`ulimit -v`), minus what the process already maps.
    AddressSpace,
    /// Nothing could be read; a conservative amount is assumed.
    Assumed,
}

/// How many bytes a run may use, and which limit says so.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryLimit {
    pub bytes: f64,
    pub kind: LimitKind,
}

impl MemoryLimit {
    /// "the cgroup memory limit allows 2.0 GiB"-style wording for messages.
    pub fn describe(&self) -> String {
        let amount = human_bytes(self.bytes);
        match self.kind {
            LimitKind::Available => format!("the machine has {amount} available"),
            LimitKind::Cgroup => format!("the cgroup memory limit allows {amount}"),
            LimitKind::AddressSpace => {
                format!("the address-space limit (ulimit -v) allows {amount}")
            }
            LimitKind::Assumed => {
                format!("{amount} are assumed available (the available memory could not be read)")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionEstimate {
    pub id: ProjectionId,
    pub synapses: f64,
    pub bytes: f64,
}

/// What a rate-mode population costs beyond its neuron state: batch buffers over every
/// step of the longest sequence, and its own learned tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationEstimate {
    pub id: PopulationId,
    pub bytes: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    pub projections: Vec<ProjectionEstimate>,
    pub populations: Vec<PopulationEstimate>,
    pub neuron_bytes: f64,
    pub total_bytes: f64,
    /// Rate mode: batch columns the engine allocates (largest batch × longest sequence).
    pub columns: usize,
}

impl MemoryEstimate {
    pub fn synapses(&self) -> f64 {
        self.projections.iter().map(|p| p.synapses).sum()
    }
}

/// Expected synapse count and bytes of every projection of `network`.
pub fn estimate(network: &Network) -> MemoryEstimate {
    let g = &network.graph;
    let projections: Vec<ProjectionEstimate> = g
        .projections()
        .map(|(id, p)| {
            let autapses = p.connector_args.flag("autapses").unwrap_or(false);
            let shape = Shape::between(
                &g.population(p.source).shape,
                &g.population(p.target).shape,
                p.source == p.target && !autapses,
            );
            let args = |name: &str| p.connector_args.number(name);
            let synapses = (p.connector.expected_synapses)(shape, &args);
            let drawn = |value: &Option<Value>| matches!(value, Some(Value::Dist(_)));
            let per_synapse = match network.mode {
                Mode::Spiking => {
                    let table = match p.plasticity.as_ref().map(|r| r.rule.learns) {
                        Some(Learns::Events(system)) => {
                            EVENT_SYNAPSE_BYTES + 8.0 * system.states.len() as f64
                        }
                        Some(_) => PLASTIC_SYNAPSE_BYTES,
                        None => SPIKING_SYNAPSE_BYTES,
                    };
                    let recorded = if weights_recorded(network, id) {
                        RECORDED_WEIGHT_BYTES
                    } else {
                        0.0
                    };
                    table
                        + recorded
                        + if drawn(&p.weight) {
                            DRAWN_WEIGHT_BYTES
                        } else {
                            0.0
                        }
                        + if drawn(&p.delay) {
                            DRAWN_DELAY_BYTES
                        } else {
                            0.0
                        }
                }
                Mode::Rate => RATE_WEIGHT_BYTES + RATE_OUTPUT_BYTES,
            };
            ProjectionEstimate {
                id,
                synapses,
                bytes: synapses * per_synapse,
            }
        })
        .collect();
    let ring_slots = match network.mode {
        Mode::Spiking => ring_slots(network),
        Mode::Rate => 0.0,
    };
    // A user-defined model keeps every state variable in f64, plus its refractory count
    // and flag: more than the bound once it has more than five variables. A noise is one
    // more f64 row, and a noisy neuron has its random stream (32 bytes).
    let neuron_bytes: f64 = g
        .populations()
        .map(|(_, p)| {
            let noises = p.model.noises as f64;
            let stream = if noises > 0.0 { 32.0 } else { 0.0 };
            let state = 8.0 * (p.model.state.len() as f64 + noises) + stream + 16.0;
            let ring_bytes = ring_bytes_per_neuron(ring_slots, p.model.receptors.len());
            p.size() as f64 * (NEURON_BYTES.max(state) + ring_bytes)
        })
        .sum();
    let (columns, steps) = rate_columns(network);
    let populations: Vec<PopulationEstimate> = g
        .populations()
        .filter_map(|(id, p)| {
            let cost = p.model.rate_memory.filter(|_| network.mode == Mode::Rate)?;
            let param = |name: &str| p.params.number(name);
            let values = (cost.per_column)(p.size(), steps, &param) * columns as f64;
            let bytes =
                4.0 * values + (RATE_WEIGHT_BYTES + RATE_OUTPUT_BYTES) * (cost.learned)(p.size());
            Some(PopulationEstimate { id, bytes })
        })
        .collect();
    let total_bytes = BASE_BYTES
        + neuron_bytes
        + projections.iter().map(|p| p.bytes).sum::<f64>()
        + populations.iter().map(|p| p.bytes).sum::<f64>();
    MemoryEstimate {
        projections,
        populations,
        neuron_bytes,
        total_bytes,
        columns,
    }
}

/// Whether a `record weight of` statement names projection `id`.
fn weights_recorded(network: &Network, id: ProjectionId) -> bool {
    network
        .records
        .iter()
        .filter(|r| r.what == Recordable::Weight)
        .flat_map(|r| r.targets.iter())
        .any(|t| matches!(t, RecordTarget::Projection(p) if *p == id))
}

/// Bytes of delay ring per neuron beyond [`NEURON_BYTES`]: the spiking engine gives every
/// neuron one f32 per input channel (a receptor of its model) in each of `slots` slots.
fn ring_bytes_per_neuron(slots: f64, channels: usize) -> f64 {
    (slots * channels as f64 * 4.0 - 16.0).max(0.0)
}

/// The slots of the spiking engine's delay rings: a power of two above the longest delay.
fn ring_slots(network: &Network) -> f64 {
    let dt = network.dt;
    if !(dt > 0.0 && dt.is_finite()) {
        return 0.0;
    }
    let longest = network
        .graph
        .projections()
        .filter_map(|(_, p)| p.delay.as_ref())
        .map(|d| (delay_upper_bound(d) / dt).round())
        .fold(1.0, f64::max)
        .clamp(1.0, MAX_DELAY_STEPS);
    ((longest as u64) + 1).next_power_of_two() as f64
}

/// The longest delay (ms) a value can give: its number, the top of a uniform, clip or
/// redraw interval, or eight standard deviations above the mean of an unbounded normal or
/// log-normal.
fn delay_upper_bound(value: &Value) -> f64 {
    let bound = match value {
        Value::Number(x) => *x,
        Value::Dist(d) => {
            let top = match d.kind {
                DistKind::Uniform { low, high } => low.max(high),
                DistKind::Normal { mean, sd } | DistKind::LogNormal { mean, sd } => {
                    mean + 8.0 * sd.abs()
                }
            };
            let top = d.redraw.map_or(top, |(_, hi)| top.min(hi));
            d.clip.map_or(top, |(_, hi)| top.min(hi))
        }
        _ => 0.0,
    };
    if bound.is_finite() { bound } else { f64::MAX }
}

/// Rows the rate engine evaluates at once (its buffers hold at least this many columns
/// when a dataset has that many rows).
pub const EVALUATION_BLOCK: usize = 256;

/// The batch columns a rate network's buffers hold at most (the training batch or an
/// evaluation block, times the longest sequence), and that longest sequence.
fn rate_columns(network: &Network) -> (usize, usize) {
    let batch = network
        .train
        .as_ref()
        .map_or(1, |t| t.batch)
        .max(EVALUATION_BLOCK);
    let steps = network
        .datasets
        .iter()
        .filter_map(|d| d.options.length)
        .max()
        .unwrap_or(1)
        .max(1);
    (batch.saturating_mul(steps), steps)
}

/// `1.5 GiB`-style rendering of a byte count.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Refuses a network whose estimate exceeds `available`, naming the largest projection and
/// the limit that applied.
pub fn check_fits(network: &Network, available: MemoryLimit) -> Result<MemoryEstimate, Diagnostic> {
    let estimate = estimate(network);
    if estimate.total_bytes <= available.bytes {
        return Ok(estimate);
    }
    let largest = estimate
        .projections
        .iter()
        .max_by(|a, b| a.bytes.total_cmp(&b.bytes));
    let largest_population = estimate
        .populations
        .iter()
        .max_by(|a, b| a.bytes.total_cmp(&b.bytes))
        .filter(|p| largest.is_none_or(|l| p.bytes > l.bytes));
    let mut diagnostic = Diagnostic::error(
        "E0900",
        format!(
            "network '{}' needs about {} of memory, but {}",
            network.name,
            human_bytes(estimate.total_bytes),
            available.describe()
        ),
    );
    if let Some(p) = largest_population.filter(|p| p.bytes > estimate.neuron_bytes) {
        let population = network.graph.population(p.id);
        return Err(diagnostic
            .with_label(
                population.span,
                format!(
                    "needs {} for its batch buffers and learned tensors ({} columns: batch × steps)",
                    human_bytes(p.bytes),
                    estimate.columns
                ),
            )
            .with_help(
                "lower the batch, the sequence `length` or the population size",
            ));
    }
    match largest {
        Some(p) if p.bytes > estimate.neuron_bytes => {
            let projection = network.graph.projection(p.id);
            diagnostic = diagnostic
                .with_label(
                    projection.span,
                    format!(
                        "projection {} would create {:.3e} synapses ({})",
                        projection.name,
                        p.synapses,
                        human_bytes(p.bytes)
                    ),
                )
                .with_help(
                    "lower the connection probability or in-degree, or the population sizes",
                );
        }
        _ => {
            diagnostic = diagnostic
                .with_label(network.span, "populations are too large")
                .with_help("reduce the population sizes");
        }
    }
    Err(diagnostic)
}
