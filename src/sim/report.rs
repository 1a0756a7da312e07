//! The run summary every engine returns: the source of `run --json` and of the snapshot
//! summaries. Keys are stable; keys that do not apply to a mode are left out.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RunReport {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub populations: BTreeMap<String, PopulationReport>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub projections: BTreeMap<String, ProjectionReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluate: Option<EvalReport>,
    /// Seconds spent instantiating (synapse generation, weight init).
    #[serde(skip)]
    pub build_s: f64,
    /// Seconds spent simulating or training.
    #[serde(skip)]
    pub run_s: f64,
    /// True if the run stopped early (Ctrl-C).
    #[serde(skip)]
    pub interrupted: bool,
    /// Spiking: the biological time the run reached, ms (less than planned when
    /// interrupted), so that recorded windows end where the recording did.
    #[serde(skip)]
    pub simulated_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PopulationReport {
    pub size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spikes: Option<u64>,
    /// Mean firing rate over the population and the simulated time, in Hz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_hz: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ProjectionReport {
    pub synapses: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TrainReport {
    /// Epochs actually run (fewer than asked for when early stopping ends training).
    pub epochs: usize,
    pub final_loss: f64,
    pub epoch_s: Vec<f64>,
    /// Present when the `train` block has `early_stopping`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopReport>,
}

/// What early stopping did.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct EarlyStopReport {
    /// True if the patience ran out before the last epoch.
    pub stopped: bool,
    /// Epochs without improvement that end training.
    pub patience: usize,
    /// The epoch with the lowest validation loss (0 if no epoch had a finite one).
    pub best_epoch: usize,
    pub best_val_loss: f64,
    /// True if the parameters of `best_epoch` were put back at the end.
    pub restored: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct EvalReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<f64>,
    /// A generator's samples against real rows: squared maximum mean discrepancy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmd: Option<f64>,
}
