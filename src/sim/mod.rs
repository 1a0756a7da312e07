//! Executes an `ir::Network`: the rate engine (backprop, local rules) and the spiking engine
//! (clock-driven, event-based delivery). Pure compute: results go out through an
//! [`Observer`], never to files directly. The only module that uses rayon.
//!
//! Results depend on the seed only, never on the thread count: every random stream is
//! derived from (seed, population/neuron ids) and every reduction has a fixed order.

pub mod connect;
pub mod rate;
pub mod report;
pub mod rng;
pub mod spiking;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use report::{
    EarlyStopReport, EvalReport, PopulationReport, ProjectionReport, RunReport, TrainReport,
};

/// How to run, beyond what the network itself says.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Worker threads: [`run`] builds a rayon pool of this many (an engine called directly
    /// uses the current pool, up to this many).
    pub threads: usize,
    /// Set by Ctrl-C (or SIGTERM/SIGHUP): engines stop at the next step, batch, evaluation
    /// block or relaxation step and report what they have.
    pub interrupt: Arc<AtomicBool>,
}

impl RunConfig {
    pub fn new(threads: usize) -> RunConfig {
        RunConfig {
            threads,
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }
}

/// Why an observer refused data (a full disk, a closed file); the engine stops and reports it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ObserveError(pub String);

/// Per-epoch training statistics.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    pub loss: f64,
    pub accuracy: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    /// `train adversarial`: the generator's loss (`loss` is the discriminator's).
    pub generator_loss: Option<f64>,
    /// The learning rate of the epoch (after schedule and warmup); `None` without a
    /// gradient-descent optimizer.
    pub learning_rate: Option<f64>,
    /// Wall time of the epoch in seconds (not part of any deterministic summary).
    pub seconds: f64,
}

/// Receives results while a run goes on (ripgrep's `Sink`). Every method has a no-op
/// default; an error stops the run.
pub trait Observer {
    /// The network is built and the run begins: engines call this once, before any other
    /// method. An error found before it (building the network, drawing its synapses) has
    /// reached no observer, so an output can wait for this call to create its file.
    fn started(&mut self) -> Result<(), ObserveError> {
        Ok(())
    }

    /// Neurons of `population` (indices within it) that fired in the step ending at `time_ms`,
    /// ascending. A source that emitted several spikes in the step (a Poisson source's
    /// count) appears that many times in a row.
    fn spikes(
        &mut self,
        population: crate::ir::PopulationId,
        time_ms: f64,
        neurons: &[u32],
    ) -> Result<(), ObserveError> {
        let _ = (population, time_ms, neurons);
        Ok(())
    }

    /// One sample of record number `record` (index into `Network::records`): the values of
    /// the selected neurons (state or activation) or of the projection's weights, in order.
    /// `time_ms` is simulated time (spiking) or the sample/epoch counter (rate).
    fn sample(&mut self, record: usize, time_ms: f64, values: &[f32]) -> Result<(), ObserveError> {
        let _ = (record, time_ms, values);
        Ok(())
    }

    /// End of a training epoch.
    fn epoch(&mut self, stats: &EpochStats) -> Result<(), ObserveError> {
        let _ = stats;
        Ok(())
    }

    /// A named array written once (trained weights `weights/x->h`, biases `biases/h`),
    /// row-major with the given shape.
    fn array(&mut self, path: &str, shape: &[usize], data: &[f32]) -> Result<(), ObserveError> {
        let _ = (path, shape, data);
        Ok(())
    }

    /// Progress in [0, 1] with a short description ("t = 0.25 s", "epoch 3/10").
    fn progress(&mut self, fraction: f64, what: &str) {
        let _ = (fraction, what);
    }
}

/// An observer that keeps nothing.
pub struct NullObserver;

impl Observer for NullObserver {}

/// What a run starts from besides the network: the loaded datasets (a rate network needs
/// them) and initial weights and biases (`--weights OLD.h5`, rate networks only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Start<'a> {
    pub data: Option<&'a crate::data::Datasets>,
    pub initial: Option<&'a std::collections::BTreeMap<String, Vec<f32>>>,
}

/// Runs a network in its mode on a thread pool of `config.threads` workers built for the
/// run: the one entry point of the CLI, the tests and library users. Results do not
/// depend on the thread count.
pub fn run(
    network: &crate::ir::Network,
    start: Start,
    config: &RunConfig,
    observer: &mut (dyn Observer + Send),
) -> Result<RunReport, SimError> {
    let threads = config.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SimError::Threads(format!("cannot start {threads} threads: {e}")))?;
    pool.install(|| match (network.mode, start.data) {
        (crate::models::Mode::Spiking, _) if start.initial.is_some() => Err(SimError::Unsupported(
            "--weights applies to rate networks only".into(),
        )),
        (crate::models::Mode::Spiking, _) => spiking::run(network, config, observer),
        (crate::models::Mode::Rate, Some(data)) => {
            let options = rate::RateOptions {
                initial: start.initial.cloned(),
                ..Default::default()
            };
            rate::run_with(network, data, config, &options, observer)
        }
        (crate::models::Mode::Rate, None) => Err(SimError::Data("no datasets were loaded".into())),
    })
}

/// Errors an engine can report.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the output refused data: {0}")]
    Observe(#[from] ObserveError),
    #[error("the network needs {needed} of memory, more than the {available} available")]
    OutOfMemory { needed: String, available: String },
    #[error("{0}")]
    Data(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("training diverged: {0}")]
    Diverged(String),
    #[error("{0}")]
    Threads(String),
    #[error("the simulation produced a value that is not a number: {0}")]
    NotFinite(String),
}
