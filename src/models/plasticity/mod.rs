//! Learning rules that act locally on a projection: the registry.
//!
//! Spiking: `stdp` (pair-based, traces, applied per spike event). Rate: `hebbian`, `oja`,
//! `bcm`. Each rule lives in its own file with its equations, and its entry carries how it
//! learns (`Learns`), which is all the engines ask of it.

pub mod bcm;
pub mod equations;
pub mod hebbian;
pub mod oja;
pub mod stdp;

use super::{Mode, ParamSpec};

/// A rule's numeric parameters by name (flags as 0/1), already checked.
pub type Args<'a> = &'a dyn Fn(&str) -> Option<f64>;

/// How a rule learns: what the engines run.
#[derive(Debug, Clone, Copy)]
pub enum Learns {
    /// Rate mode: a batch update of a projection's weights from its pre- and postsynaptic
    /// activity. Builds the rule's state for a projection onto `n_post` units.
    Rate(fn(Args, usize) -> Result<Box<dyn RateLearner>, String>),
    /// Spiking mode: a pair-based trace rule, applied by the spiking engine at spike events
    /// with the numbers the entry derives from its parameters.
    PairTraces(fn(Args) -> Result<stdp::Stdp, String>),
    /// Spiking mode: a user-defined synapse model with per-synapse state, run at each
    /// arriving presynaptic and each postsynaptic spike.
    Events(&'static equations::SynapseSystem),
}

#[derive(Debug)]
pub struct PlasticityInfo {
    pub name: &'static str,
    pub learns: Learns,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
}

impl PlasticityInfo {
    /// The mode the rule belongs to.
    pub const fn mode(&self) -> Mode {
        match self.learns {
            Learns::Rate(_) => Mode::Rate,
            Learns::PairTraces(_) | Learns::Events(_) => Mode::Spiking,
        }
    }
}

/// One batch of activity for a rate rule: `w` is `n_post × n_pre` column-major (one weight
/// per unit pair `(i, i)`, `n_post` values, for a one-to-one projection), `pre` and `post`
/// hold one column per sample.
pub struct Batch<'a> {
    pub w: &'a mut [f32],
    pub pre: &'a [f32],
    pub post: &'a [f32],
    pub n_pre: usize,
    pub n_post: usize,
}

impl Batch<'_> {
    /// Samples in the batch.
    pub fn samples(&self) -> usize {
        self.pre.len() / self.n_pre.max(1)
    }

    /// For a one-to-one projection: per unit `u`, `(Σ_b x_u y_u, Σ_b y_u²)` over the batch.
    pub fn diagonal_sums(&self) -> Vec<(f32, f32)> {
        let b = self.samples();
        (0..self.n_post)
            .map(|u| {
                let (mut hebb, mut y2) = (0.0f32, 0.0f32);
                for c in 0..b {
                    let (x, y) = (self.pre[c * self.n_pre + u], self.post[c * self.n_post + u]);
                    hebb += x * y;
                    y2 += y * y;
                }
                (hebb, y2)
            })
            .collect()
    }
}

/// A rate rule at work on one projection, with whatever state it carries between batches.
pub trait RateLearner: Send + Sync + std::fmt::Debug {
    /// Applies the rule to a full weight matrix.
    fn update(&mut self, batch: Batch);
    /// Applies the rule to the weights of a one-to-one projection (unit pairs `(i, i)`).
    fn update_diagonal(&mut self, batch: Batch);
    /// What the rule carries between batches (BCM's thresholds), for snapshots.
    fn state(&self) -> &[f32] {
        &[]
    }
    fn state_mut(&mut self) -> &mut [f32] {
        &mut []
    }
}

/// A parameter of a rule: the given value or the default of its spec (the one place
/// defaults live).
pub fn number(args: Args, specs: &[ParamSpec], rule: &str, name: &str) -> Result<f64, String> {
    args(name)
        .or_else(|| super::find_param(specs, name).and_then(ParamSpec::default_number))
        .ok_or_else(|| format!("{rule} needs `{name}`"))
}

pub static REGISTRY: &[&PlasticityInfo] = &[&stdp::INFO, &hebbian::INFO, &oja::INFO, &bcm::INFO];

pub fn find(name: &str) -> Option<&'static PlasticityInfo> {
    REGISTRY.iter().copied().find(|r| r.name == name)
}
