//! Connectors: rules that say which (source, target) pairs of two populations get a synapse.
//!
//! Each connector is one file holding its `ConnectorInfo` (name, parameters, the expected
//! number of synapses for the memory estimate) and its generation rule. `REGISTRY` is the
//! only list.

pub mod fixed_indegree;
pub mod fixed_outdegree;
pub mod fixed_total;
pub mod full;
pub mod one_to_one;
pub mod random;

use super::{ParamKind, ParamSpec};

/// Numeric connector arguments by name (`p`, `k`, `n`), already unit-checked.
pub type Args<'a> = &'a dyn Fn(&str) -> Option<f64>;

/// Sizes and options the expected synapse count depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub n_pre: usize,
    pub n_post: usize,
    /// Source and target are the same population and self-connections are excluded.
    pub exclude_autapses: bool,
}

impl Shape {
    /// Number of candidate (source, target) pairs.
    pub fn pairs(&self) -> f64 {
        let n = self.n_pre as f64 * self.n_post as f64;
        if self.exclude_autapses {
            n - self.n_pre.min(self.n_post) as f64
        } else {
            n
        }
    }
}

#[derive(Debug)]
pub struct ConnectorInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    /// Expected number of synapses, for the memory estimate made before anything is allocated.
    pub expected_synapses: fn(Shape, Args) -> f64,
}

/// Options every connector takes.
pub static COMMON_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "autapses",
        kind: ParamKind::Flag { default: false },
        doc: "allow self-connections when source and target are the same population",
    },
    ParamSpec {
        name: "multapses",
        kind: ParamKind::Flag { default: false },
        doc: "allow repeated (source, target) pairs",
    },
];

pub static REGISTRY: &[&ConnectorInfo] = &[
    &full::INFO,
    &one_to_one::INFO,
    &random::INFO,
    &fixed_indegree::INFO,
    &fixed_outdegree::INFO,
    &fixed_total::INFO,
];

pub fn find(name: &str) -> Option<&'static ConnectorInfo> {
    REGISTRY.iter().copied().find(|c| c.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|c| c.name)
}
