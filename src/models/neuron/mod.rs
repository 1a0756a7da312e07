//! Neuron models: the registry (the only list of models) and their shared description types.
//!
//! Each model lives in its own file with its equations, parameter table (PyNN names) and
//! references. The semantic checks read `NeuronInfo::params` and `NeuronInfo::state`; the
//! engines dispatch on `NeuronInfo::runs` once per population, never on a name.

pub mod adex;
pub mod attention;
pub mod dense;
pub mod dynamics;
pub mod equations;
pub mod gru;
pub mod input;
pub mod izhikevich;
pub mod layer_norm;
pub mod lif;
pub mod lif_alpha;
pub mod lif_cond;
pub mod lif_delta;
pub mod lstm;
pub mod poisson;
pub mod pynn;
pub mod spike_source;

use super::{Mode, ParamSpec};
use crate::units::Dim;

/// A state variable that can be initialised in the population block and recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateSpec {
    pub name: &'static str,
    pub dim: Dim,
    pub doc: &'static str,
}

/// How a model runs: what the engines dispatch on (never on the model's name).
#[derive(Clone, Copy)]
pub enum Runs {
    /// Rate mode: clamped to the rows of a dataset, takes no input.
    Input,
    /// Rate mode: `activation(Σ W x + b)`.
    Dense,
    /// Rate mode: a population with inner structure (gates, attention, normalisation). Its
    /// kernels need the rate engine's GEMMs, so they live in `sim/rate/units`, keyed by this
    /// entry; the registry conformance test checks that every such entry has one.
    Unit,
    /// Spiking mode: the model's dynamics.
    Spiking(&'static dyn dynamics::SpikingModel),
}

impl std::fmt::Debug for Runs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Runs::Input => "Input",
            Runs::Dense => "Dense",
            Runs::Unit => "Unit",
            Runs::Spiking(_) => "Spiking",
        })
    }
}

/// What a neuron model is, as the language and the engines see it.
#[derive(Debug)]
pub struct NeuronInfo {
    pub name: &'static str,
    /// How the model runs; its mode follows (`NeuronInfo::mode`).
    pub runs: Runs,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    pub state: &'static [StateSpec],
    /// Whether the model emits spikes that can be recorded (`record spikes of P`).
    pub spikes: bool,
    /// The dimensions a projection's `weight` onto this model may have; empty for a model
    /// that takes no synaptic input (a source, `input`: see `accepts_input`). The checker accepts exactly these; the engine's
    /// `NeuronGroup::weight_factor` must give a factor for each (a test holds them together).
    pub weights: &'static [Dim],
    /// Parameters that may follow a course in time (`i_offset = steps(...)`, a Poisson
    /// `rate = ramp(...)`); the model's group reads the course through `GroupSpec::course`.
    pub time_varying: &'static [&'static str],
    /// A constraint between the size and the parameters that ranges cannot state (heads
    /// that divide the width); the checker reports a violation at the named parameter.
    /// It sees the population size and the numeric value of each parameter.
    pub check: Option<SizeCheck>,
    /// Rate models whose every step depends on every step of the sequence (attention):
    /// they cannot be in a network with recurrent projections, which runs step by step.
    pub whole_sequence: bool,
    /// What a population of a rate model costs the rate engine, for the memory estimate
    /// made before anything is allocated; `None` for spiking models.
    pub rate_memory: Option<RateMemory>,
    /// The synaptic input channels (`receptor = ...` of a projection) the model reads; a
    /// projection onto another one would be delivered and ignored, so the checker refuses it.
    pub receptors: &'static [ReceptorInput],
    /// White noises per neuron (`xi` of a user-defined model): each is a row of f64 state,
    /// and a noisy neuron keeps a random stream; for the memory estimate.
    pub noises: usize,
}

/// One synaptic input channel a model reads (`receptor = name` of a projection), and the
/// weight dimension it takes there (`None`: any of the model's `weights`; a user-defined
/// model's receptor takes the dimension of the variable its `on_pre` adds the weight to).
/// A model's input channels are its receptors, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceptorInput {
    pub name: &'static str,
    pub dim: Option<Dim>,
}

/// The receptor of a projection that names none and has a non-negative weight.
pub const EXCITATORY: &str = "excitatory";
/// The receptor of a projection that names none and has a negative weight.
pub const INHIBITORY: &str = "inhibitory";

/// Both default channels, excitatory then inhibitory: what every built-in spiking model
/// reads (`dynamics::Input::excitatory_inhibitory`).
pub const BOTH_RECEPTORS: &[ReceptorInput] = &[
    ReceptorInput {
        name: EXCITATORY,
        dim: None,
    },
    ReceptorInput {
        name: INHIBITORY,
        dim: None,
    },
];

impl NeuronInfo {
    /// A spiking neuron run by `dynamics`: takes weights of the dimensions `weights`, emits
    /// spikes, lets the parameters `time_varying` follow a course in time.
    pub const fn spiking(
        name: &'static str,
        summary: &'static str,
        params: &'static [ParamSpec],
        state: &'static [StateSpec],
        weights: &'static [Dim],
        time_varying: &'static [&'static str],
        dynamics: &'static dyn dynamics::SpikingModel,
    ) -> NeuronInfo {
        NeuronInfo {
            name,
            runs: Runs::Spiking(dynamics),
            summary,
            params,
            state,
            spikes: true,
            weights,
            time_varying,
            check: None,
            whole_sequence: false,
            rate_memory: None,
            receptors: BOTH_RECEPTORS,
            noises: 0,
        }
    }

    /// A spike source: emits spikes, takes no synaptic input (so the engine gives it no
    /// input channels), has no state to record.
    pub const fn source(
        name: &'static str,
        summary: &'static str,
        params: &'static [ParamSpec],
        time_varying: &'static [&'static str],
        dynamics: &'static dyn dynamics::SpikingModel,
    ) -> NeuronInfo {
        NeuronInfo {
            receptors: &[],
            ..NeuronInfo::spiking(name, summary, params, &[], &[], time_varying, dynamics)
        }
    }

    /// The mode the model belongs to.
    pub const fn mode(&self) -> Mode {
        match self.runs {
            Runs::Spiking(_) => Mode::Spiking,
            Runs::Input | Runs::Dense | Runs::Unit => Mode::Rate,
        }
    }

    /// The dynamics of a spiking model.
    pub fn dynamics(&self) -> Option<&'static dyn dynamics::SpikingModel> {
        match self.runs {
            Runs::Spiking(d) => Some(d),
            _ => None,
        }
    }

    /// Whether the model receives synaptic input (sources and `input` do not).
    pub const fn accepts_input(&self) -> bool {
        !self.weights.is_empty()
    }

    /// The input channel of receptor `name`: its index in `receptors`.
    pub fn channel(&self, name: &str) -> Option<usize> {
        self.receptors.iter().position(|r| r.name == name)
    }

    /// A rate model run as `runs`: receives input, has no state variables to record and
    /// no spikes, no size constraint, computes step by step; what it costs the engine is
    /// `memory`. Models that differ say so with struct update syntax
    /// (`..NeuronInfo::rate(...)`).
    pub const fn rate(
        name: &'static str,
        runs: Runs,
        summary: &'static str,
        params: &'static [ParamSpec],
        memory: RateMemory,
    ) -> NeuronInfo {
        NeuronInfo {
            name,
            runs,
            summary,
            params,
            state: &[],
            spikes: false,
            weights: &[Dim::NONE],
            time_varying: &[],
            check: None,
            whole_sequence: false,
            rate_memory: Some(memory),
            receptors: &[],
            noises: 0,
        }
    }
}

/// f32 values a rate population keeps per batch column, from its size, the longest
/// sequence and a lookup of its numeric parameters.
pub type ColumnValues = fn(usize, usize, &dyn Fn(&str) -> Option<f64>) -> f64;

/// The rate engine's memory for a population of `size` units.
#[derive(Debug, Clone, Copy)]
pub struct RateMemory {
    /// f32 values per batch column (activations, their gradients, the model's cache),
    /// given the size, the longest sequence and the numeric parameters.
    pub per_column: ColumnValues,
    /// Values learned by the population itself (not by projections into it), each with a
    /// gradient and two optimizer moments.
    pub learned: fn(usize) -> f64,
}

impl RateMemory {
    /// A population that learns nothing of its own beyond a bias per unit.
    pub const fn plain(per_column: ColumnValues) -> Self {
        RateMemory {
            per_column,
            learned: |size| size as f64,
        }
    }
}

/// `NeuronInfo::check`: (size, numeric parameter lookup) → whether they fit.
pub type SizeCheck = fn(usize, &dyn Fn(&str) -> Option<f64>) -> Result<(), ParamProblem>;

/// A population whose parameters do not fit its size.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    pub param: &'static str,
    pub message: String,
    pub help: String,
}

/// Every neuron model neurosim knows, rate and spiking.
pub static REGISTRY: &[&NeuronInfo] = &[
    &input::INFO,
    &dense::INFO,
    &lstm::INFO,
    &gru::INFO,
    &attention::INFO,
    &layer_norm::INFO,
    &lif::INFO,
    &lif_alpha::INFO,
    &lif_cond::INFO,
    &lif_delta::INFO,
    &izhikevich::INFO,
    &adex::INFO,
    &poisson::INFO,
    &spike_source::INFO,
];

pub fn find(name: &str) -> Option<&'static NeuronInfo> {
    REGISTRY.iter().copied().find(|m| m.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|m| m.name)
}
