//! The rate engine: trains a rate network by backpropagation (and/or local Hebbian rules)
//! as its `train { ... }` block says, then evaluates it as `evaluate { ... }` says.
//!
//! * `model.rs` — the executable network: layers, weights, batch buffers, forward,
//!   backward, optimizer update, local rules, recurrent dynamics.
//! * `gemm.rs` — the one GEMM entry point (faer on borrowed column-major slices).
//! * `spatial.rs` — the kernels of `conv`, `maxpool` and `avgpool` projections (im2col +
//!   batched GEMM, pooling with remembered winners).
//! * `units/` — populations with inner structure: `lstm`, `gru`, `attention`,
//!   `layer_norm` (one file each, one registry).
//! * `train.rs` — the epoch loop and per-epoch statistics.
//! * `schedule.rs` — the `train` block's conveniences around each update: learning-rate
//!   schedule, L1/L2 penalties, gradient clipping, early stopping.
//! * `adversarial.rs` — `train adversarial`: alternating discriminator and generator
//!   updates, and the generator's evaluation (MMD against real rows).
//! * `evaluate.rs` — metrics (accuracy, loss, overlap) and activation records.
//!
//! Results are bit-identical for a seed whatever the thread count: random draws come from
//! streams keyed by (seed, purpose, id), GEMMs keep their accumulation order when split
//! over threads, elementwise work is split only where elements are independent, and every
//! reduction (loss, bias gradients, metrics, the gradient norm for clipping) runs in a fixed
//! order on one thread.

mod adversarial;
mod evaluate;
mod gemm;
mod model;
mod schedule;
mod spatial;
mod train;
mod units;

use std::time::Instant;

pub use adversarial::mmd;
pub use model::{Model, RateOptions};

use super::{Observer, ProjectionReport, RunConfig, RunReport, SimError};
use crate::data::Datasets;
use crate::ir::Network;
use crate::ir::memory::EVALUATION_BLOCK;
use crate::sim::PopulationReport;

/// Trains and evaluates a rate network as its protocol says.
pub fn run(
    network: &Network,
    data: &Datasets,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<RunReport, SimError> {
    run_with(network, data, config, &RateOptions::default(), observer)
}

/// [`run`] with options: initial weights (`--weights OLD.h5`).
pub fn run_with(
    network: &Network,
    data: &Datasets,
    config: &RunConfig,
    options: &RateOptions,
    observer: &mut dyn Observer,
) -> Result<RunReport, SimError> {
    let started = Instant::now();
    let capacity = batch_capacity(network, data);
    let steps = data.values().map(|t| t.steps()).max().unwrap_or(1);
    let options = RateOptions {
        steps: options.steps.max(steps),
        ..options.clone()
    };
    let mut model = Model::build(network, &options, capacity, config.threads)?;
    observer.started()?;
    let mut report = RunReport {
        build_s: started.elapsed().as_secs_f64(),
        ..RunReport::default()
    };
    for (_, p) in network.graph.populations() {
        report.populations.insert(
            p.name.clone(),
            PopulationReport {
                size: p.size(),
                ..PopulationReport::default()
            },
        );
    }
    for (name, synapses) in model.synapse_counts() {
        report.projections.insert(
            name,
            ProjectionReport {
                synapses: synapses as u64,
            },
        );
    }

    let running = Instant::now();
    let adversarial = network.train.as_ref().and_then(|t| t.adversarial);
    if let Some(train) = &network.train {
        let summary = match &adversarial {
            Some(a) => adversarial::train(&mut model, network, train, a, data, config, observer)?,
            None => train::train(&mut model, network, train, data, config, observer)?,
        };
        report.interrupted = summary.interrupted;
        report.train = Some(summary.report);
    }
    if let Some(evaluate) = &network.evaluate
        && !report.interrupted
    {
        let evaluated = match &adversarial {
            Some(a) => {
                adversarial::evaluate(&mut model, network, a, evaluate, data, config, observer)?
            }
            None => evaluate::evaluate(&mut model, network, evaluate, data, config, observer)?,
        };
        // Metrics of the rows evaluated before an interrupt would pass for the whole
        // dataset's, so an interrupted evaluation reports none (its records are kept).
        match evaluated {
            Some(metrics) => report.evaluate = Some(metrics),
            None => report.interrupted = true,
        }
    }
    for (path, shape, values) in model.arrays() {
        observer.array(&path, &shape, &values)?;
    }
    report.run_s = running.elapsed().as_secs_f64();
    Ok(report)
}

/// The largest batch the run needs: the training batch, or a block of evaluation rows.
fn batch_capacity(network: &Network, data: &Datasets) -> usize {
    let train = network.train.as_ref().map_or(1, |t| t.batch.max(1));
    let rows = data.values().map(|t| t.n_rows).max().unwrap_or(1);
    train.max(EVALUATION_BLOCK.min(rows)).max(1)
}

/// True if `table` has targets for every output: one block per row, or (a sequence) one
/// per step.
fn targets_fit(model: &Model, table: &crate::data::Table) -> bool {
    let width: usize = model.output_sizes().iter().sum();
    table.n_targets == width || table.n_targets == width * table.steps()
}

/// The dataset `name`, or an error naming it.
fn table<'a>(data: &'a Datasets, name: &str) -> Result<&'a crate::data::Table, SimError> {
    data.get(name)
        .ok_or_else(|| SimError::Data(format!("dataset '{name}' was not loaded")))
}

/// Layer indices the rows of `table` are presented to.
fn presented(
    network: &Network,
    dataset: &str,
    table: &crate::data::Table,
) -> Result<Vec<usize>, SimError> {
    let width = table.step_inputs();
    crate::data::presented(network, width)
        .map(|ids| ids.iter().map(|id| id.0 as usize).collect())
        .ok_or_else(|| {
            SimError::Data(format!(
                "dataset '{dataset}' has {width} inputs per row (or step), but no input \
                 population (or, without inputs, no population) has that size"
            ))
        })
}
