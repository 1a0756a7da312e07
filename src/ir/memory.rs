//! Memory estimate of a network, computed from expected synapse counts before anything is
//! allocated, so a network that cannot fit is refused with a message instead of an OOM.

use super::graph::{PopulationId, ProjectionId};
use super::network::Network;
use crate::diag::Diagnostic;
use crate::models::Mode;
use crate::models::connector::Shape;

/// Bytes one spiking synapse costs: 32-bit target index, f32 weight, 16-bit delay, plus the
/// CSR row overhead amortised (rounded up).
pub const SPIKING_SYNAPSE_BYTES: f64 = 12.0;
/// Extra bytes per synapse for plasticity state in spiking mode.
pub const PLASTIC_SYNAPSE_BYTES: f64 = 4.0;
/// Bytes one rate-mode weight costs: value, gradient and two optimizer moments (f32 each).
pub const RATE_WEIGHT_BYTES: f64 = 16.0;
/// Bytes of state per neuron (a generous bound covering every model's state and buffers).
pub const NEURON_BYTES: f64 = 64.0;

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
            let per_synapse = match network.mode {
                Mode::Spiking => {
                    SPIKING_SYNAPSE_BYTES
                        + if p.plasticity.is_some() {
                            PLASTIC_SYNAPSE_BYTES
                        } else {
                            0.0
                        }
                }
                Mode::Rate => RATE_WEIGHT_BYTES,
            };
            ProjectionEstimate {
                id,
                synapses,
                bytes: synapses * per_synapse,
            }
        })
        .collect();
    let neurons: f64 = g.populations().map(|(_, p)| p.size() as f64).sum();
    let neuron_bytes = neurons * NEURON_BYTES;
    let (columns, steps) = rate_columns(network);
    let populations: Vec<PopulationEstimate> = g
        .populations()
        .filter_map(|(id, p)| {
            let cost = p.model.rate_memory.filter(|_| network.mode == Mode::Rate)?;
            let param = |name: &str| p.params.number(name);
            let values = (cost.per_column)(p.size(), steps, &param) * columns as f64;
            let bytes = 4.0 * values + RATE_WEIGHT_BYTES * (cost.learned)(p.size());
            Some(PopulationEstimate { id, bytes })
        })
        .collect();
    let total_bytes = neuron_bytes
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

/// Refuses a network whose estimate exceeds `available_bytes`, naming the largest projection.
pub fn check_fits(network: &Network, available_bytes: f64) -> Result<MemoryEstimate, Diagnostic> {
    let estimate = estimate(network);
    if estimate.total_bytes <= available_bytes {
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
            "network '{}' needs about {} of memory, more than the {} available",
            network.name,
            human_bytes(estimate.total_bytes),
            human_bytes(available_bytes)
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
