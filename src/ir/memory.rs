//! Memory estimate of a network, computed from expected synapse counts before anything is
//! allocated, so a network that cannot fit is refused with a message instead of an OOM.

use super::graph::ProjectionId;
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

#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    pub projections: Vec<ProjectionEstimate>,
    pub neuron_bytes: f64,
    pub total_bytes: f64,
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
    let total_bytes = neuron_bytes + projections.iter().map(|p| p.bytes).sum::<f64>();
    MemoryEstimate {
        projections,
        neuron_bytes,
        total_bytes,
    }
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
    let mut diagnostic = Diagnostic::error(
        "E0900",
        format!(
            "network '{}' needs about {} of memory, more than the {} available",
            network.name,
            human_bytes(estimate.total_bytes),
            human_bytes(available_bytes)
        ),
    );
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
