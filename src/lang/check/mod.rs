//! Semantic checks, one file per topic. Each check reports `Diagnostic`s with stable codes
//! (docs/DIAGNOSTICS.md) and returns what it could validate, so that one run collects every
//! independent mistake. Parameter specs come from `crate::models` registries only.

pub mod connectivity;
pub mod names;
pub mod params;
pub mod protocol;
pub mod training;
pub mod units;
