//! neurosim: a declarative neural simulator.
//!
//! ```text
//! .net text ──lang──▶ ir::Network (petgraph) ──sim──▶ Observer ──record──▶ HDF5
//!            parse → AST → check → lower          rate | spiking
//! ```
//!
//! Modules in reading order, lowest layer first: `diag` and `units` (shared vocabulary),
//! `models` (what each neuron, connector and rule is), `ir` (the network as data), `lang`
//! (text to `ir`), `data` (datasets for rate mode), `sim` (the engines), `record` (where
//! results go), `cli` (the command line). See ARCHITECTURE.md.

pub mod diag;
pub mod units;

pub mod models;

pub mod ir;

pub mod lang;

pub mod data;
pub mod sim;

pub mod plot;
pub mod record;

pub mod cli;
pub mod testing;
