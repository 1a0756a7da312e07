//! The spiking engine (not built yet).

use super::{Observer, RunConfig, RunReport, SimError};
use crate::ir::Network;

/// Simulates a spiking network for its `simulate` duration.
pub fn run(
    network: &Network,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<RunReport, SimError> {
    let _ = (network, config, observer);
    Err(SimError::Unsupported(
        "the spiking engine is not built yet".into(),
    ))
}
