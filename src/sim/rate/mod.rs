//! The rate engine (not built yet).

use super::{Observer, RunConfig, RunReport, SimError};
use crate::data::Datasets;
use crate::ir::Network;

/// Trains and evaluates a rate network as its protocol says.
pub fn run(
    network: &Network,
    data: &Datasets,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<RunReport, SimError> {
    let _ = (network, data, config, observer);
    Err(SimError::Unsupported(
        "the rate engine is not built yet".into(),
    ))
}
