//! Semantic checks, one file per topic. Each check reports `Diagnostic`s with stable codes
//! (docs/DIAGNOSTICS.md) and returns what it could validate, so that one run collects every
//! independent mistake. Parameter specs come from `crate::models` registries only.
//!
//! `train.rs` checks the `train`/`evaluate` blocks as written; `training.rs` checks, after
//! lowering, what training needs of the whole network. `values.rs` runs first: it replaces
//! constants and table entries by their values and expands `connect` statements.

pub mod connectivity;
pub mod dataset;
pub mod equations;
pub mod names;
pub mod params;
pub mod record;
pub mod settings;
pub mod synapse;
pub mod train;
pub mod training;
pub mod units;
pub mod values;
