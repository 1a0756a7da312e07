//! User-defined neuron models: a system of differential equations with threshold, reset,
//! refractoriness and synaptic input, written in a `.net` file (`neuron NAME { ... }`),
//! checked by the language (names, dimensions, what the method can integrate) and run by the
//! spiking engine like any built-in model, without a compile step.
//!
//! The language lowers a definition to a [`System`]: every name already resolved to a
//! state variable, a parameter, `t` or `dt`, every subexpression inlined, every number in
//! internal units (ms, mV, pA, nS, pF). This module owns what a system *does*: the
//! integrators, the evaluator and the [`NeuronInfo`] that makes it a registry member.
//!
//! Step semantics are those of every spiking model (`dynamics.rs`): step `n` integrates the
//! derivatives from `n·dt` to `(n+1)·dt` with the noise of the step (a clamped variable holds still while its neuron is
//! refractory), then adds the synaptic input of the step to the `on_pre` variables, then
//! tests the threshold on neurons that are not refractory and applies the reset, in order,
//! to those that fired, which become refractory for `refractory` (rounded to steps).

//!
//! ## Files
//!
//! - `linear.rs`: symbolic linearity (`affine_in`, the linear system of `exact`).
//! - `integrate.rs`: the methods, [`can_integrate`], [`choose_method`], the step each
//!   compiles to.
//! - `expm.rs`: the matrix exponential of `exact`'s propagator.
//! - `program.rs`: the bytecode (folding, registers, the chunked interpreter).
//! - `eval.rs`: the scalar arithmetic every path shares.
//! - `group.rs`: [`UserModel`] and its `NeuronGroup`; `info.rs`: [`info`], the registry entry.
//!
//! White noise (`xi`, `xi_NAME`): the checker gives it the dimension time^-1/2 (half
//! exponents are part of `units::Dim`) and keeps it to derivatives that are linear in it;
//! the system lists its noises ([`System::noises`]); `integrate.rs` says which methods
//! integrate it (`euler` as Euler–Maruyama for additive noise, `heun` for any, in
//! Stratonovich's sense) and the group draws it per neuron from the neuron's own stream
//! (`GroupSpec::noise_stream`), into state rows after the variables that the step program
//! reads like variables no stage changes.
//!
//! Not done yet: `milstein`, time-varying parameters (`steps(...)`), and a `t`-dependent
//! refractory period or initial value (both see `t = 0`).

mod eval;
mod expm;
mod group;
mod info;
mod integrate;
pub mod linear;
mod program;
#[cfg(test)]
mod tests;

pub use eval::{eval, eval_params};
pub use group::{UserGroup, UserModel};
pub use info::info;
pub use integrate::{can_integrate, choose_method};

use crate::units::Dim;

/// An expression over a neuron's state and parameters, in internal units.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    /// State variable by index into [`System::states`].
    State(usize),
    /// Parameter by index into [`System::params`].
    Param(usize),
    /// Simulated time at the start of the step, ms.
    Time,
    /// The integration step, ms.
    Dt,
    /// White noise by index into [`System::noises`]: Gaussian, per neuron and step,
    /// dimension time^-1/2. The integrators see it as a value held over the step, a
    /// standard normal draw divided by `sqrt(dt)`, so that the `g·xi` of a derivative adds
    /// `g·sqrt(dt)·N(0, 1)` to an Euler step (Euler–Maruyama). Only derivatives hold it.
    Noise(usize),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Functions an expression may call; `arity` arguments each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Exp,
    Log,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tan,
    Tanh,
    Sinh,
    Cosh,
    Floor,
    Ceil,
    /// `exprel(x) = (exp(x) - 1)/x`, 1 at 0: the HH rate functions without 0/0.
    Exprel,
    Min,
    Max,
    /// `pow(x, y)`.
    Pow,
    /// `clip(x, low, high)`.
    Clip,
}

impl Func {
    pub const ALL: &'static [(Func, &'static str)] = &[
        (Func::Exp, "exp"),
        (Func::Log, "log"),
        (Func::Sqrt, "sqrt"),
        (Func::Abs, "abs"),
        (Func::Sin, "sin"),
        (Func::Cos, "cos"),
        (Func::Tan, "tan"),
        (Func::Tanh, "tanh"),
        (Func::Sinh, "sinh"),
        (Func::Cosh, "cosh"),
        (Func::Floor, "floor"),
        (Func::Ceil, "ceil"),
        (Func::Exprel, "exprel"),
        (Func::Min, "min"),
        (Func::Max, "max"),
        (Func::Pow, "pow"),
        (Func::Clip, "clip"),
    ];

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    pub fn name(self) -> &'static str {
        Func::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, n)| n)
    }

    pub fn arity(self) -> usize {
        match self {
            Func::Min | Func::Max | Func::Pow => 2,
            Func::Clip => 3,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
}

/// `threshold v > v_thresh`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub left: Expr,
    pub cmp: Cmp,
    pub right: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

/// One assignment of a reset: `v = v_reset`, `u += d`. Assignments run in order, each
/// seeing the values the previous ones wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub var: usize,
    pub op: AssignOp,
    pub value: Expr,
}

/// `on_pre ampa { g_ampa += w }`: the weights arriving on receptor `receptor` (an index
/// into [`System::receptors`], which is also the model's input channel) in a step, summed,
/// are added to state variable `var` (subtracted when `negate`: `v -= w`). A weight has the
/// dimension of `var`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnPre {
    pub receptor: usize,
    pub var: usize,
    pub negate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Linear with constant coefficients: the propagator `exp(A·dt)` computed once at build
    /// time (NEST's and Brian2's `exact`).
    Exact,
    /// Each derivative linear in its own variable with coefficients that depend on the
    /// others (HH gating): `x ← x_inf + (x - x_inf)·exp(-dt/tau)` with both held over the
    /// step (Brian2's `exponential_euler`).
    ExponentialEuler,
    /// Classic fourth-order Runge–Kutta.
    Rk4,
    /// Midpoint (second-order Runge–Kutta).
    Rk2,
    /// Heun's method (trapezoidal predictor–corrector); with noise, the stochastic Heun
    /// method, which converges to the Stratonovich solution (Brian2's `heun`).
    Heun,
    /// Forward Euler; with additive noise, Euler–Maruyama.
    Euler,
}

impl Method {
    pub const ALL: &'static [(Method, &'static str)] = &[
        (Method::Exact, "exact"),
        (Method::ExponentialEuler, "exponential_euler"),
        (Method::Rk4, "rk4"),
        (Method::Rk2, "rk2"),
        (Method::Heun, "heun"),
        (Method::Euler, "euler"),
    ];

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(m, _)| *m)
    }

    pub fn name(self) -> &'static str {
        Method::ALL
            .iter()
            .find(|(m, _)| *m == self)
            .map_or("?", |(_, n)| n)
    }
}

/// A parameter of a user-defined model: its name, dimension and default (internal units).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    pub name: String,
    pub dim: Dim,
    pub default: f64,
}

/// A state variable: its name, dimension and initial value (an expression of the
/// parameters, evaluated per neuron; a population block may override it).
#[derive(Debug, Clone, PartialEq)]
pub struct StateDef {
    pub name: String,
    pub dim: Dim,
    pub initial: Expr,
}

/// A checked user-defined neuron model.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub name: String,
    pub params: Vec<ParamDef>,
    pub states: Vec<StateDef>,
    /// `d states[i] / dt`, or `None` for a variable that only events change.
    pub derivatives: Vec<Option<Expr>>,
    pub threshold: Option<Condition>,
    pub reset: Vec<Assign>,
    /// Refractory period in ms (an expression of the parameters, evaluated per neuron).
    pub refractory: Option<Expr>,
    /// State variables held still while refractory.
    pub clamped: Vec<usize>,
    /// The receptors the model reads (`excitatory`, `nmda`, ...), in the order of their
    /// first `on_pre`: a projection with `receptor = NAME` delivers to input channel
    /// `receptors.position(NAME)`.
    pub receptors: Vec<String>,
    pub on_pre: Vec<OnPre>,
    /// The white noises of the derivatives, by the name written (`xi`, `xi_1`): a bare
    /// `xi` is a noise of its own in each derivative, `xi_NAME` one noise for every
    /// derivative of the neuron that names it. Independent between neurons.
    pub noises: Vec<String>,
    pub method: Method,
}
