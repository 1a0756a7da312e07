//! Learning rules that act locally on a projection: the registry.
//!
//! Spiking: `stdp` (pair-based, traces, applied per spike event). Rate: `hebbian`, `oja`,
//! `bcm`. Each rule lives in its own file with its equations.

pub mod bcm;
pub mod hebbian;
pub mod oja;
pub mod stdp;

use super::{Mode, ParamSpec};

#[derive(Debug)]
pub struct PlasticityInfo {
    pub name: &'static str,
    pub mode: Mode,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
}

pub static REGISTRY: &[&PlasticityInfo] = &[&stdp::INFO, &hebbian::INFO, &oja::INFO, &bcm::INFO];

pub fn find(name: &str) -> Option<&'static PlasticityInfo> {
    REGISTRY.iter().copied().find(|r| r.name == name)
}
