//! Optimizers for rate-mode training: the registry, one file per optimizer.
//!
//! `sgd(lr, momentum, nesterov)`, `adagrad`, `rmsprop`, `adam`, `adamw`, `nadam`; every
//! optimizer takes `weight_decay` (L2 added to the gradient; decoupled for `adamw`). Defaults
//! follow PyTorch but for `sgd`'s lr (0.01; PyTorch 1e-3) and `adagrad`'s eps (1e-8; 1e-10).
//! `tests.rs` checks every optimizer step by step against PyTorch
//! (`benches/compare/pytorch_optimizers.py`).
//!
//! Update rules, as in PyTorch's `torch.optim` (g = gradient + weight_decay · p unless noted);
//! the state is named as in PyTorch's `state_dict`:
//!
//! | name | state | update |
//! | --- | --- | --- |
//! | `sgd` | `momentum_buffer` b (momentum ≠ 0) | b ← g (first step) or momentum·b + g; p ← p − lr·(nesterov ? g + momentum·b : b) |
//! | `adagrad` | `sum` s | s ← s + g²; p ← p − lr·g / (sqrt(s) + eps) |
//! | `rmsprop` | `square_avg` v | v ← alpha·v + (1 − alpha)·g²; p ← p − lr·g / (sqrt(v) + eps) |
//! | `adam` | `exp_avg` m, `exp_avg_sq` v | m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − lr/(1 − β1^t) · m / (sqrt(v/(1 − β2^t)) + eps) |
//! | `adamw` | `exp_avg` m, `exp_avg_sq` v | p ← p·(1 − lr·weight_decay), then `adam` without weight decay |
//! | `nadam` | `exp_avg` m, `exp_avg_sq` v; per tensor `mu_product` Π μ_i | μ_t = β1·(1 − ½·0.96^(t·momentum_decay)); m, v as `adam`; p ← p − lr·(1 − μ_t)/(1 − Π_{i≤t} μ_i)·g/d − lr·μ_{t+1}/(1 − Π_{i≤t+1} μ_i)·m/d, d = sqrt(v/(1 − β2^t)) + eps |
//!
//! Each file holds one [`OptimizerInfo`]: its parameters (the one place their defaults
//! live), the state it keeps per parameter tensor, and a constructor that builds the
//! configured [`Update`] from the checked arguments. The optimizer keeps no state of its own
//! (as burn's `SimpleOptimizer`): the engine allocates, per trained tensor, one zeroed
//! tensor of the same length per name in [`Update::state_names`] and one scalar per name in
//! [`Update::tensor_state_names`], and hands them to every step. [`Update::step`] is
//! elementwise, so the engine may apply it to chunks of a tensor on several threads and get
//! the same bits as on one.

pub mod adagrad;
pub mod adam;
pub mod adamw;
pub mod nadam;
pub mod rmsprop;
pub mod sgd;

#[cfg(test)]
mod tests;

use super::{ParamKind, ParamSpec, Range, find_param};
use crate::units::Dim;

/// One optimizer of the registry.
#[derive(Debug)]
pub struct OptimizerInfo {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    /// The per-element state tensors the optimizer may keep (PyTorch's `state_dict` names),
    /// in the order [`Update::step`] receives them; a configuration may keep a prefix.
    pub state: &'static [&'static str],
    /// Scalars it keeps per parameter tensor (nadam's `mu_product`).
    pub tensor_state: &'static [&'static str],
    /// The configured update from checked arguments (defaults taken from `params`).
    pub build: fn(&Args) -> Result<Box<dyn Update>, String>,
}

/// A dimensionless parameter with a default.
pub const fn num(name: &'static str, default: f64, range: Range, doc: &'static str) -> ParamSpec {
    ParamSpec::scalar(name, Dim::NONE, default, range, doc)
}

/// The learning rate, with the optimizer's default.
pub const fn learning_rate(default: f64) -> ParamSpec {
    num("lr", default, Range::Positive, "learning rate")
}

pub const WEIGHT_DECAY: ParamSpec = num("weight_decay", 0.0, Range::NonNegative, "L2 penalty");
pub const EPS: ParamSpec = num(
    "eps",
    1e-8,
    Range::Positive,
    "term added to the denominator",
);
pub const BETA1: ParamSpec = num("beta1", 0.9, Range::Between(0.0, 1.0), "first-moment decay");
pub const BETA2: ParamSpec = num(
    "beta2",
    0.999,
    Range::Between(0.0, 1.0),
    "second-moment decay",
);

/// The only list of optimizers.
pub static REGISTRY: &[&OptimizerInfo] = &[
    &sgd::INFO,
    &adagrad::INFO,
    &rmsprop::INFO,
    &adam::INFO,
    &adamw::INFO,
    &nadam::INFO,
];

/// What `train` uses when a loss is given and no optimizer.
pub static DEFAULT: &OptimizerInfo = &sgd::INFO;

pub fn find(name: &str) -> Option<&'static OptimizerInfo> {
    REGISTRY.iter().copied().find(|o| o.name == name)
}

/// The checked arguments of one optimizer call by name (flags as 0/1); a parameter not
/// given takes the default of its entry's spec.
pub struct Args<'a> {
    info: &'static OptimizerInfo,
    given: &'a dyn Fn(&str) -> Option<f64>,
}

impl Args<'_> {
    /// The number `name` (a flag as 0 or 1).
    pub fn number(&self, name: &str) -> Result<f32, String> {
        let spec = find_param(self.info.params, name)
            .ok_or_else(|| format!("{} has no parameter `{name}`", self.info.name))?;
        if let Some(x) = (self.given)(name) {
            return Ok(x as f32);
        }
        match spec.kind {
            ParamKind::Quantity {
                default: Some(d), ..
            } => Ok(d as f32),
            ParamKind::Flag { default } => Ok(f32::from(u8::from(default))),
            _ => Err(format!("{} needs `{name}`", self.info.name)),
        }
    }

    /// The flag `name`.
    pub fn flag(&self, name: &str) -> Result<bool, String> {
        Ok(self.number(name)? != 0.0)
    }
}

/// What one update of a tensor knows besides the tensors.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// The learning rate of this update (schedules change it between epochs).
    pub lr: f32,
    /// The step number, from 1; each part of a GAN counts its own.
    pub t: u64,
    /// The tensor's scalars after [`Update::advance`] to step `t`.
    pub scalars: &'a [f32],
}

/// A configured optimizer: an entry's update rule with its hyper-parameters but the
/// learning rate, which [`Optimizer`] holds and passes to every step.
pub trait Update: std::fmt::Debug + Send + Sync {
    /// The per-element state tensors this configuration keeps: its entry's `state` or a
    /// prefix of it (`sgd` without momentum keeps none).
    fn state_names(&self) -> &'static [&'static str];

    /// The scalars it keeps per parameter tensor, zero before the first step.
    fn tensor_state_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Brings a tensor's scalars to step `t`: called once per tensor and step, before
    /// [`Update::step`] runs on its chunks.
    fn advance(&self, _t: u64, _scalars: &mut [f32]) {}

    /// One update of `params` (a tensor or a chunk of one) from `grads`; `state[k]` is the
    /// same part of state tensor `k` of [`Update::state_names`].
    fn step(&self, at: &Step, params: &mut [f32], grads: &[f32], state: &mut [&mut [f32]]);
}

/// An optimizer call made concrete: its entry, the current learning rate and the
/// configured update.
#[derive(Debug)]
pub struct Optimizer {
    pub info: &'static OptimizerInfo,
    /// The learning rate of the next updates.
    pub lr: f32,
    pub update: Box<dyn Update>,
}

impl Optimizer {
    /// The optimizer `name` with the arguments `given` returns (flags as 0/1); missing ones
    /// take the registry default.
    pub fn from_args(name: &str, given: &dyn Fn(&str) -> Option<f64>) -> Result<Optimizer, String> {
        let info = find(name).ok_or_else(|| format!("unknown optimizer '{name}'"))?;
        let args = Args { info, given };
        Ok(Optimizer {
            info,
            lr: args.number("lr")?,
            update: (info.build)(&args)?,
        })
    }

    /// The zeroed state of a parameter tensor of `len` values.
    pub fn new_state(&self, len: usize) -> TensorState {
        TensorState {
            tensors: vec![vec![0.0; len]; self.update.state_names().len()],
            scalars: vec![0.0; self.update.tensor_state_names().len()],
        }
    }

    /// Starts step `t` (from 1) of a tensor: advances its scalars and returns what every
    /// chunk's [`Update::step`] is told, with the state tensors to cut into chunks.
    pub fn begin<'a>(&self, t: u64, state: &'a mut TensorState) -> (Step<'a>, &'a mut [Vec<f32>]) {
        self.update.advance(t, &mut state.scalars);
        let at = Step {
            lr: self.lr,
            t,
            scalars: &state.scalars,
        };
        (at, &mut state.tensors)
    }

    /// Step `t` (from 1) on a whole tensor.
    pub fn step(&self, t: u64, params: &mut [f32], grads: &[f32], state: &mut TensorState) {
        let (at, tensors) = self.begin(t, state);
        let mut tensors: Vec<&mut [f32]> = tensors.iter_mut().map(Vec::as_mut_slice).collect();
        self.update.step(&at, params, grads, &mut tensors);
    }
}

/// What an optimizer keeps for one parameter tensor, zero before the first step: a tensor
/// of the parameter's length per name in [`Update::state_names`] and a scalar per name in
/// [`Update::tensor_state_names`].
#[derive(Debug, Clone, PartialEq)]
pub struct TensorState {
    pub tensors: Vec<Vec<f32>>,
    pub scalars: Vec<f32>,
}
