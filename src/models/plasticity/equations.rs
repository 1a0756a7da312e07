//! User-defined synapse models: per-synapse state changed by events (`synapse NAME { ... }`
//! in a `.net` file), such as triplet STDP (Pfister & Gerstner 2006) or Tsodyks–Markram
//! short-term plasticity.
//!
//! A synapse holds its weight `w` and any further state variables. Between events each
//! variable follows `dX/dt = a·X + b` with `a`, `b` constants (parameters), and is decayed
//! exactly, only when an event reads it (Brian2's `(event-driven)`):
//! `X(t + Δ) = X∞ + (X − X∞)·exp(a·Δ)` with `X∞ = −b/a`, or `X + b·Δ` when `a = 0`.
//!
//! Events, in the order of a step (the order of Brian2's `Synapses` pathways, pre first):
//! - `on_pre` runs when a presynaptic spike *arrives* at the synapse (its emission step plus
//!   the synapse's delay, as NEST's and Brian2's synapses see it), and its `deliver EXPR`
//!   sends the value to the target neuron's receptor in that step;
//! - `on_post` runs when the target neuron fires.
//!
//! A statement list runs in order, each statement seeing what the previous ones wrote;
//! `let r = ...` names a value for the statements after it. A synapse writes only its own
//! variables and, through `deliver`, its target's input: never its presynaptic neuron,
//! which is what lets a partition (or an MPI rank) own every synapse that ends on it.

use super::{Learns, PlasticityInfo};
use crate::models::neuron::equations::{self, AssignOp, Expr, ParamDef, StateDef};
use crate::models::{ParamSpec, Range};

/// One statement of `on_pre` or `on_post`.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `x = e`, `x += e`, ... on state variable `var`.
    Assign {
        var: usize,
        op: AssignOp,
        value: Expr,
    },
    /// `let r = e`: local value number `slot` (read as `Expr::State(n_states + slot)`).
    Local { slot: usize, value: Expr },
    /// `deliver e`: the value sent to the target, in the weight's unit.
    Deliver(Expr),
}

/// `dX/dt = rate·X + drive` between events (both parameter expressions).
#[derive(Debug, Clone, PartialEq)]
pub struct Decay {
    pub rate: Expr,
    pub drive: Expr,
}

/// A checked user-defined synapse model. Expressions index state variables, then the
/// locals of the statement list they are in (`Expr::State(states.len() + slot)`).
#[derive(Debug, Clone, PartialEq)]
pub struct SynapseSystem {
    pub name: String,
    pub params: Vec<ParamDef>,
    pub states: Vec<StateDef>,
    /// Index of `w` in `states`: the weight a projection's `weight` initialises, recorded
    /// by `record weight`.
    pub weight: usize,
    /// Per state variable, how it evolves between events (`None`: only events change it).
    pub decay: Vec<Option<Decay>>,
    pub on_pre: Vec<Statement>,
    pub on_post: Vec<Statement>,
    /// Locals of the longer statement list.
    pub locals: usize,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The registry entry of a user-defined synapse model: its parameters (scalars per
/// projection, any finite value, the definition's defaults) and its events. Leaked for the
/// `'static` lifetime of registry entries, as user-defined neuron models are.
pub fn info(system: SynapseSystem) -> &'static PlasticityInfo {
    let params: Vec<ParamSpec> = system
        .params
        .iter()
        .map(|p| {
            let doc = leak(format!(
                "parameter of the user-defined synapse `{}`",
                system.name
            ));
            ParamSpec::scalar(leak(p.name.clone()), p.dim, p.default, Range::Any, doc)
        })
        .collect();
    let summary = leak(format!(
        "user-defined synapse model, {} state variables per synapse",
        system.states.len()
    ));
    let name = leak(system.name.clone());
    let system: &'static SynapseSystem = Box::leak(Box::new(system));
    Box::leak(Box::new(PlasticityInfo {
        name,
        learns: Learns::Events(system),
        summary,
        params: Box::leak(params.into_boxed_slice()),
    }))
}

/// A synapse model bound to one projection's parameter values: what the engine runs.
#[derive(Debug, Clone)]
pub struct EventRule {
    system: &'static SynapseSystem,
    params: Vec<f64>,
    /// Per state variable: `(rate, fixed point or drive)` in ms⁻¹ (see [`Decay`]), or
    /// `None` for a variable only events change.
    decay: Vec<Option<(f64, f64)>>,
    dt: f64,
}

impl EventRule {
    /// Binds `system` to the parameter values `lookup` gives (defaults otherwise).
    pub fn new(
        system: &'static SynapseSystem,
        lookup: &dyn Fn(&str) -> Option<f64>,
        dt: f64,
    ) -> Result<EventRule, String> {
        let params: Vec<f64> = system
            .params
            .iter()
            .map(|p| lookup(&p.name).unwrap_or(p.default))
            .collect();
        let value = |e: &Expr| equations::eval_params(e, &|i| params[i], dt);
        let mut decay = Vec::with_capacity(system.decay.len());
        for (d, s) in system.decay.iter().zip(&system.states) {
            decay.push(match d {
                None => None,
                Some(d) => {
                    let (rate, drive) = (value(&d.rate)?, value(&d.drive)?);
                    if !(rate.is_finite() && drive.is_finite()) || rate > 0.0 {
                        return Err(format!(
                            "synapse `{}`: `d{}/dt` must decay (its rate is {rate} per ms)",
                            system.name, s.name
                        ));
                    }
                    Some(if rate == 0.0 {
                        (0.0, drive)
                    } else {
                        (rate, -drive / rate)
                    })
                }
            });
        }
        Ok(EventRule {
            system,
            params,
            decay,
            dt,
        })
    }

    pub fn system(&self) -> &'static SynapseSystem {
        self.system
    }

    /// State variables per synapse.
    pub fn width(&self) -> usize {
        self.system.states.len()
    }

    /// The initial state of one synapse of weight `w` (parameters only; time 0).
    pub fn initial(&self, w: f64, out: &mut Vec<f64>) -> Result<(), String> {
        for (i, s) in self.system.states.iter().enumerate() {
            out.push(if i == self.system.weight {
                w
            } else {
                equations::eval_params(&s.initial, &|p| self.params[p], self.dt)?
            });
        }
        Ok(())
    }

    /// Decays a synapse's state over `steps` steps without events.
    #[inline]
    pub fn advance(&self, state: &mut [f64], steps: u32) {
        if steps == 0 {
            return;
        }
        let elapsed = steps as f64 * self.dt;
        for (x, d) in state.iter_mut().zip(&self.decay) {
            match *d {
                None => {}
                Some((0.0, drive)) => *x += drive * elapsed,
                Some((rate, fixed)) => *x = fixed + (*x - fixed) * (rate * elapsed).exp(),
            }
        }
    }

    /// Runs `on_pre` at step `step` on one synapse; the value it delivers (0 without
    /// `deliver`).
    #[inline]
    pub fn on_pre(&self, state: &mut [f64], scratch: &mut Vec<f64>, step: u64) -> f64 {
        self.run(&self.system.on_pre, state, scratch, step)
    }

    /// Runs `on_post` at step `step` on one synapse.
    #[inline]
    pub fn on_post(&self, state: &mut [f64], scratch: &mut Vec<f64>, step: u64) {
        self.run(&self.system.on_post, state, scratch, step);
    }

    fn run(&self, body: &[Statement], state: &mut [f64], scratch: &mut Vec<f64>, step: u64) -> f64 {
        let n = state.len();
        scratch.clear();
        scratch.extend_from_slice(state);
        scratch.resize(n + self.system.locals, 0.0);
        let t = step as f64 * self.dt;
        let mut delivered = 0.0;
        for statement in body {
            match statement {
                Statement::Assign { var, op, value } => {
                    let v = equations::eval(value, scratch, &self.params, t, self.dt);
                    let x = &mut scratch[*var];
                    *x = match op {
                        AssignOp::Set => v,
                        AssignOp::Add => *x + v,
                        AssignOp::Sub => *x - v,
                        AssignOp::Mul => *x * v,
                        AssignOp::Div => *x / v,
                    };
                }
                Statement::Local { slot, value } => {
                    scratch[n + slot] = equations::eval(value, scratch, &self.params, t, self.dt);
                }
                Statement::Deliver(value) => {
                    delivered += equations::eval(value, scratch, &self.params, t, self.dt);
                }
            }
        }
        state.copy_from_slice(&scratch[..n]);
        delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::neuron::equations::BinOp;
    use crate::units::Dim;

    fn b(op: BinOp, x: Expr, y: Expr) -> Expr {
        Expr::Binary(op, Box::new(x), Box::new(y))
    }

    /// A depressing synapse: `dx/dt = (1 - x)/tau`, on_pre `r = U·x; x -= r; deliver w·r`.
    fn depressing() -> &'static SynapseSystem {
        let state = |name: &str, initial: f64| StateDef {
            name: name.into(),
            dim: Dim::NONE,
            initial: Expr::Number(initial),
        };
        Box::leak(Box::new(SynapseSystem {
            name: "dep".into(),
            params: vec![
                ParamDef {
                    name: "tau".into(),
                    dim: Dim::TIME,
                    default: 100.0,
                },
                ParamDef {
                    name: "u".into(),
                    dim: Dim::NONE,
                    default: 0.5,
                },
            ],
            states: vec![state("w", 0.0), state("x", 1.0)],
            weight: 0,
            decay: vec![
                None,
                Some(Decay {
                    rate: b(BinOp::Div, Expr::Number(-1.0), Expr::Param(0)),
                    drive: b(BinOp::Div, Expr::Number(1.0), Expr::Param(0)),
                }),
            ],
            on_pre: vec![
                Statement::Local {
                    slot: 0,
                    value: b(BinOp::Mul, Expr::Param(1), Expr::State(1)),
                },
                Statement::Assign {
                    var: 1,
                    op: AssignOp::Sub,
                    value: Expr::State(2),
                },
                Statement::Deliver(b(BinOp::Mul, Expr::State(0), Expr::State(2))),
            ],
            on_post: vec![],
            locals: 1,
        }))
    }

    #[test]
    fn a_regular_train_depresses_as_the_recursion_says() {
        let rule = EventRule::new(depressing(), &|_| None, 0.1).unwrap();
        let mut state = Vec::new();
        rule.initial(2.0, &mut state).unwrap();
        let mut scratch = Vec::new();
        // Spikes every 20 ms: x_{n+1} = 1 + (x_n (1 - U) - 1) e^{-20/100}.
        let (mut x, u, decay) = (1.0f64, 0.5, (-20.0f64 / 100.0).exp());
        for n in 0..10u64 {
            if n > 0 {
                rule.advance(&mut state, 200);
            }
            let out = rule.on_pre(&mut state, &mut scratch, n * 200);
            assert!((out - 2.0 * u * x).abs() < 1e-12, "spike {n}: {out}");
            x = 1.0 + (x * (1.0 - u) - 1.0) * decay;
        }
    }

    #[test]
    fn a_growing_variable_is_refused() {
        let rule = EventRule::new(depressing(), &|name| (name == "tau").then_some(-5.0), 0.1);
        assert!(rule.unwrap_err().contains("must decay"));
    }
}
