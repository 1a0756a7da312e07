//! Datasets for rate mode (inline, CSV, IDX): reads files and hands `sim` plain matrices.

use std::collections::BTreeMap;

/// One loaded dataset: `n_rows` samples, row-major inputs and (optional) targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub n_rows: usize,
    pub n_inputs: usize,
    pub inputs: Vec<f32>,
    pub n_targets: usize,
    pub targets: Option<Vec<f32>>,
}

/// Every dataset of a network, by name.
pub type Datasets = BTreeMap<String, Table>;

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{0}")]
    Invalid(String),
}

/// Loads every dataset of `network` (placeholder until the loaders land).
pub fn load(network: &crate::ir::Network) -> Result<Datasets, DataError> {
    if network.datasets.is_empty() {
        Ok(Datasets::new())
    } else {
        Err(DataError::Invalid(
            "dataset loading is not built yet".into(),
        ))
    }
}
