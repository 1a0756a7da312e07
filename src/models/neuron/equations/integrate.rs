//! The integration methods: which systems each can integrate ([`can_integrate`]), which
//! one to take when the definition names none ([`choose_method`]), and the step each
//! compiles to: one lane program whose outputs are the new values of the integrated
//! variables, all computed from the state at the start of the step.
//!
//! | method | step (`f` the right-hand side, `h = dt`) | needs |
//! |---|---|---|
//! | `euler` | `x + h·f(x, t)` | additive noise if any |
//! | `rk2` | `x + h·f(x + h/2·f(x, t), t + h/2)` (midpoint) | no noise |
//! | `heun` | `x + h/2·(f(x, t) + f(x + h·f(x, t), t + h))` | — |
//! | `rk4` | `x + h/6·(k₁ + 2k₂ + 2k₃ + k₄)`, stages at `t`, `t + h/2`, `t + h/2`, `t + h` | no noise |
//! | `exponential_euler` | `x + (A + B·x)·exprel(B·h)·h` per variable, `f = A + B·x` | each `f` affine in its own variable, no noise |
//! | `exact` | `[x; 1] ← expm([[M, c], [0, 0]]·h)·[x; 1]` | `f = M·x + c`, `M`, `c` constant, no noise |
//!
//! Noise: a derivative `f = a(x, t) + Σ g_k(x, t)·xi_k` is linear in its noises
//! (`linear::split_noise`), and each `xi_k` is, for the whole step, one standard normal
//! draw `z_k` divided by `sqrt(h)` (a value the group writes before the step, see
//! `Expr::Noise`). Then `euler` is Euler–Maruyama, `x + h·a + sqrt(h)·g·z`, and `heun` with
//! the same `z` at both stages is the stochastic Heun method (predictor
//! `x + h·a + sqrt(h)·g·z`, corrector averaging drift and diffusion at both ends), which
//! converges to the Stratonovich solution. Brian2's `heun` corrects the noise term only and
//! takes an Euler step of the drift; correcting both keeps Heun's second order without
//! noise and converges to the same solution. For additive noise (`g` free of the state) Itô
//! and Stratonovich agree and Euler–Maruyama is of strong order 1; for multiplicative
//! noise they differ, and `euler` is refused as in Brian2, so an equation means the same
//! whichever method integrates it. The stages of `rk2`, `rk4` and the closed forms of
//! `exact` and `exponential_euler` assume a smooth right-hand side: they refuse noise.
//!
//! `exponential_euler` is Brian2's: `x_new = -A/B + (x + A/B)·exp(B·h)`, written with
//! `exprel` so that `B → 0` is Euler instead of 0/0; `A` and `B` may depend on the other
//! variables and on `t` and are taken at the start of the step, so every variable is updated
//! from the old state. `exact` computes the propagator at build time, per neuron when its
//! coefficients differ between neurons, once otherwise (`expm.rs`).
//!
//! Refractoriness: a `clamped` variable of a refractory neuron has derivative 0 at every
//! stage (the others go on, seeing it held). For `exact` that is a second propagator, of the
//! system with the clamped rows zeroed, used for refractory neurons by the rows it changes.

use super::eval::Op;
use super::expm::expm;
use super::linear::{self, LinearSystem, affine_in, nonlinear_term, show};
use super::program::{Bind, Builder, Operand, Program, TIME};
use super::{BinOp, Expr, Func, Method, System};

/// Whether `method` can integrate `system`, and if not why (naming the derivative and the
/// term). The explicit methods integrate anything.
pub fn can_integrate(system: &System, method: Method) -> Result<(), String> {
    plan(system, method).map(|_| ())
}

/// How the noises of a system enter its derivatives.
#[derive(Debug, Clone, PartialEq)]
pub enum Noise {
    None,
    /// No noise coefficient depends on the state.
    Additive,
    /// The noise term `term` of `d{var}/dt` depends on the state.
    Multiplicative {
        var: String,
        term: String,
    },
}

/// How the noises enter (`Err` naming the term of a derivative that is not linear in them).
pub fn noise(system: &System) -> Result<Noise, String> {
    let mut kind = Noise::None;
    for (i, derivative) in system.derivatives.iter().enumerate() {
        let Some(f) = derivative else { continue };
        let name = &system.states[i].name;
        let split = linear::split_noise(f, system.noises.len()).map_err(|term| {
            format!(
                "in d{name}/dt the white noise enters through `{}`: a derivative must be \
                 linear in its noises",
                show(term, system)
            )
        })?;
        for (k, g) in &split.diffusion {
            if kind == Noise::None {
                kind = Noise::Additive;
            }
            if kind == Noise::Additive && linear::depends_on_state(g) {
                let term = linear::mul(g.clone(), Expr::Noise(*k));
                kind = Noise::Multiplicative {
                    var: name.clone(),
                    term: show(&term, system),
                };
            }
        }
    }
    Ok(kind)
}

/// The method for a definition that names none, in the spirit of Brian2's automatic choice:
/// `exact` when the system is linear with constant coefficients, else `exponential_euler`
/// when each derivative is linear in its own variable (HH), else `rk4`. (Brian2's
/// `NeuronGroup` tries `exact`, `euler`, `heun`; without noise we prefer the more accurate
/// explicit method, and exponential Euler, which is stable for the fast gating variables.)
/// With noise, Brian2's choice: `euler` (Euler–Maruyama) for additive noise, `heun` for
/// multiplicative noise.
pub fn choose_method(system: &System) -> Method {
    match noise(system) {
        Ok(Noise::None) => {}
        Ok(Noise::Additive) => return Method::Euler,
        // A noise that is not linear: no method integrates it, `can_integrate` says why.
        Ok(Noise::Multiplicative { .. }) | Err(_) => return Method::Heun,
    }
    [Method::Exact, Method::ExponentialEuler]
        .into_iter()
        .find(|&m| can_integrate(system, m).is_ok())
        .unwrap_or(Method::Rk4)
}

/// What a method needs of a system, found once per definition.
#[derive(Debug, Clone)]
pub enum Plan {
    Euler,
    Heun,
    Rk2,
    Rk4,
    /// `(A, B)` of `f = A + B·x` for each variable with a derivative.
    ExponentialEuler(Vec<Option<(Expr, Expr)>>),
    Exact(LinearSystem),
}

pub fn plan(system: &System, method: Method) -> Result<Plan, String> {
    let refuse = |why: String| format!("`{}` cannot integrate this model: {why}", method.name());
    match noise(system)? {
        Noise::None => {}
        Noise::Additive if matches!(method, Method::Euler | Method::Heun) => {}
        Noise::Multiplicative { .. } if method == Method::Heun => {}
        Noise::Multiplicative { var, term } if method == Method::Euler => {
            return Err(refuse(format!(
                "it integrates additive noise only, and the noise term `{term}` of d{var}/dt \
                 depends on the state (multiplicative noise, which `heun` integrates in \
                 Stratonovich's sense)"
            )));
        }
        Noise::Additive | Noise::Multiplicative { .. } => {
            let noisy = system
                .derivatives
                .iter()
                .position(|f| f.as_ref().is_some_and(linear::depends_on_noise))
                .map_or("?", |i| system.states[i].name.as_str());
            return Err(refuse(format!(
                "d{noisy}/dt has white noise, and only `euler` and `heun` integrate \
                 stochastic equations"
            )));
        }
    }
    Ok(match method {
        Method::Euler => Plan::Euler,
        Method::Heun => Plan::Heun,
        Method::Rk2 => Plan::Rk2,
        Method::Rk4 => Plan::Rk4,
        Method::ExponentialEuler => {
            let mut parts = Vec::with_capacity(system.derivatives.len());
            for (i, derivative) in system.derivatives.iter().enumerate() {
                let Some(f) = derivative else {
                    parts.push(None);
                    continue;
                };
                let name = &system.states[i].name;
                match affine_in(f, i) {
                    Some(ab) => parts.push(Some(ab)),
                    None => {
                        let term = nonlinear_term(f, i).unwrap_or(f);
                        return Err(refuse(format!(
                            "each derivative must be linear in its own variable, and in \
                             d{name}/dt the term `{}` is not linear in `{name}`",
                            show(term, system)
                        )));
                    }
                }
            }
            Plan::ExponentialEuler(parts)
        }
        Method::Exact => Plan::Exact(linear::linear_system(system).map_err(|why| {
            refuse(format!(
                "it needs linear equations with constant coefficients, and {why}"
            ))
        })?),
    })
}

/// Which variables hold still while their neuron is refractory.
fn clamps(system: &System) -> Vec<bool> {
    let mut clamped = vec![false; system.states.len()];
    if system.refractory.is_some() {
        for &c in &system.clamped {
            clamped[c] = true;
        }
    }
    clamped
}

/// The step program of a group and the variable each output is written to.
pub fn step_program(system: &System, plan: &Plan, b: &mut Builder) -> (Program, Vec<usize>) {
    let n = system.states.len();
    let x: Vec<Operand> = (0..n).map(|i| Operand::State(i as u32)).collect();
    let clamped = clamps(system);
    let dt = b.dt();
    let new: Vec<Option<Operand>> = match plan {
        Plan::Euler => {
            let f = derivatives(system, b, &x, TIME, &clamped);
            step(b, &x, &f, dt)
        }
        Plan::Heun => {
            let f1 = derivatives(system, b, &x, TIME, &clamped);
            let predicted = stage(b, &x, &f1, dt);
            let t_end = b.apply(Op::Bin(BinOp::Add), &[TIME, Operand::Scalar(dt)]);
            let f2 = derivatives(system, b, &predicted, t_end, &clamped);
            let sum: Vec<Option<Operand>> = f1
                .iter()
                .zip(&f2)
                .map(|(k1, k2)| Some(b.apply(Op::Bin(BinOp::Add), &[(*k1)?, (*k2)?])))
                .collect();
            step(b, &x, &sum, dt / 2.0)
        }
        Plan::Rk2 => {
            let f1 = derivatives(system, b, &x, TIME, &clamped);
            let mid = stage(b, &x, &f1, dt / 2.0);
            let t_mid = b.apply(Op::Bin(BinOp::Add), &[TIME, Operand::Scalar(dt / 2.0)]);
            let f2 = derivatives(system, b, &mid, t_mid, &clamped);
            step(b, &x, &f2, dt)
        }
        Plan::Rk4 => {
            let add = Op::Bin(BinOp::Add);
            let t_mid = b.apply(add, &[TIME, Operand::Scalar(dt / 2.0)]);
            let t_end = b.apply(add, &[TIME, Operand::Scalar(dt)]);
            let f1 = derivatives(system, b, &x, TIME, &clamped);
            let s2 = stage(b, &x, &f1, dt / 2.0);
            let f2 = derivatives(system, b, &s2, t_mid, &clamped);
            let s3 = stage(b, &x, &f2, dt / 2.0);
            let f3 = derivatives(system, b, &s3, t_mid, &clamped);
            let s4 = stage(b, &x, &f3, dt);
            let f4 = derivatives(system, b, &s4, t_end, &clamped);
            let two = Operand::Scalar(2.0);
            let sum: Vec<Option<Operand>> = (0..n)
                .map(|i| {
                    let (k1, k2, k3, k4) = (f1[i]?, f2[i]?, f3[i]?, f4[i]?);
                    let k2 = b.apply(Op::Bin(BinOp::Mul), &[two, k2]);
                    let k3 = b.apply(Op::Bin(BinOp::Mul), &[two, k3]);
                    let s = b.apply(add, &[k1, k2]);
                    let s = b.apply(add, &[s, k3]);
                    Some(b.apply(add, &[s, k4]))
                })
                .collect();
            step(b, &x, &sum, dt / 6.0)
        }
        Plan::ExponentialEuler(parts) => {
            let bind = Bind {
                states: &x,
                time: TIME,
            };
            let mul = Op::Bin(BinOp::Mul);
            let add = Op::Bin(BinOp::Add);
            (0..n)
                .map(|i| {
                    let (a, coefficient) = parts[i].as_ref()?;
                    let a = b.lower(a, &bind);
                    let new = if *coefficient == Expr::Number(0.0) {
                        let increment = b.apply(mul, &[a, Operand::Scalar(dt)]);
                        b.apply(add, &[x[i], increment])
                    } else {
                        let coefficient = b.lower(coefficient, &bind);
                        let bx = b.apply(mul, &[coefficient, x[i]]);
                        let f = b.apply(add, &[a, bx]);
                        let bh = b.apply(mul, &[coefficient, Operand::Scalar(dt)]);
                        let e = b.apply(Op::Call(Func::Exprel), &[bh]);
                        let eh = b.apply(mul, &[e, Operand::Scalar(dt)]);
                        let increment = b.apply(mul, &[f, eh]);
                        b.apply(add, &[x[i], increment])
                    };
                    Some(hold(b, clamped[i], new, x[i]))
                })
                .collect()
        }
        Plan::Exact(linear) => exact(system, linear, b, &clamped),
    };
    let outputs: Vec<(Operand, usize)> = new
        .into_iter()
        .enumerate()
        .filter_map(|(i, o)| o.map(|o| (o, i)))
        .filter(|&(o, i)| o != x[i])
        .collect();
    // The group writes every variable that has an output or receives input, in order.
    let mut written = vec![false; n];
    for &(_, i) in &outputs {
        written[i] = true;
    }
    for on_pre in &system.on_pre {
        written[on_pre.var] = true;
    }
    let targets: Vec<(Operand, Option<usize>)> =
        outputs.iter().map(|&(o, i)| (o, Some(i))).collect();
    let program = b.program_writing(&targets, Some(&written));
    (program, outputs.into_iter().map(|(_, i)| i).collect())
}

/// `new` for a neuron that is free, `old` for a refractory one if the variable is clamped.
fn hold(b: &mut Builder, clamped: bool, new: Operand, old: Operand) -> Operand {
    if clamped {
        b.apply(Op::IfFree, &[new, old])
    } else {
        new
    }
}

/// The derivatives at stage state `x`, time `t` (0 for a clamped variable of a refractory
/// neuron); `None` for a variable without one.
fn derivatives(
    system: &System,
    b: &mut Builder,
    x: &[Operand],
    t: Operand,
    clamped: &[bool],
) -> Vec<Option<Operand>> {
    let bind = Bind { states: x, time: t };
    system
        .derivatives
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = b.lower(f.as_ref()?, &bind);
            Some(hold(b, clamped[i], f, Operand::Scalar(0.0)))
        })
        .collect()
}

/// `x + h·f` for the variables with a derivative, `x` for the others.
fn stage(b: &mut Builder, x: &[Operand], f: &[Option<Operand>], h: f64) -> Vec<Operand> {
    step(b, x, f, h)
        .into_iter()
        .zip(x)
        .map(|(s, &x)| s.unwrap_or(x))
        .collect()
}

fn step(b: &mut Builder, x: &[Operand], f: &[Option<Operand>], h: f64) -> Vec<Option<Operand>> {
    x.iter()
        .zip(f)
        .map(|(&x, f)| {
            let increment = b.apply(Op::Bin(BinOp::Mul), &[Operand::Scalar(h), (*f)?]);
            Some(b.apply(Op::Bin(BinOp::Add), &[x, increment]))
        })
        .collect()
}

/// `reach[j][k]`: whether `states[k]` can influence `states[j]` through `matrix` (itself
/// included), from the structure of the equations (a coefficient that is not the number 0).
fn reach(matrix: &[Vec<Expr>], rows: &[bool]) -> Vec<Vec<bool>> {
    let n = matrix.len();
    let mut reach: Vec<Vec<bool>> = (0..n)
        .map(|j| {
            (0..n)
                .map(|k| j == k || (rows[j] && matrix[j][k] != Expr::Number(0.0)))
                .collect()
        })
        .collect();
    // Warshall's transitive closure.
    for m in 0..n {
        let through = reach[m].clone();
        for row in reach.iter_mut().filter(|row| row[m]) {
            row.iter_mut().zip(&through).for_each(|(r, &t)| *r |= t);
        }
    }
    reach
}

/// The `exact` step: `x_j ← q_j + Σ_k P_jk·x_k` over the structurally non-zero entries.
fn exact(
    system: &System,
    linear: &LinearSystem,
    b: &mut Builder,
    clamped: &[bool],
) -> Vec<Option<Operand>> {
    let n = system.states.len();
    let integrated: Vec<bool> = system.derivatives.iter().map(Option::is_some).collect();
    let free_rows = propagator(linear, b, &integrated);
    // While refractory, a clamped variable is held, and the rows it influences follow the
    // system with its row zeroed; the other rows are those of the free system.
    let influenced = reach(&linear.matrix, &integrated);
    let needs_second: Vec<bool> = (0..n)
        .map(|j| !clamped[j] && (0..n).any(|k| k != j && clamped[k] && influenced[j][k]))
        .collect();
    let held_rows: Vec<bool> = (0..n).map(|j| integrated[j] && !clamped[j]).collect();
    let held = needs_second
        .iter()
        .any(|&s| s)
        .then(|| propagator(linear, b, &held_rows));
    (0..n)
        .map(|j| {
            if !integrated[j] {
                return None;
            }
            let x = Operand::State(j as u32);
            let free = row(b, &free_rows[j]);
            Some(match &held {
                _ if clamped[j] => b.apply(Op::IfFree, &[free, x]),
                Some(held) if needs_second[j] => {
                    let other = row(b, &held[j]);
                    b.apply(Op::IfFree, &[free, other])
                }
                _ => free,
            })
        })
        .collect()
}

/// `q + Σ_k P_k·x_k` for one row `(P_0, …, P_{n-1}, q)`, skipping structural zeros.
fn row(b: &mut Builder, entries: &[Option<Operand>]) -> Operand {
    let n = entries.len() - 1;
    // q first, then the terms: each addition fuses with its product (`MulAdd`).
    let mut sum = entries[n];
    for (k, p) in entries[..n].iter().enumerate() {
        let Some(p) = p else { continue };
        let term = b.apply(Op::Bin(BinOp::Mul), &[*p, Operand::State(k as u32)]);
        sum = Some(match sum {
            None => term,
            Some(s) => b.apply(Op::Bin(BinOp::Add), &[s, term]),
        });
    }
    sum.unwrap_or(Operand::Scalar(0.0))
}

/// The propagator of `dx/dt = M·x + c` restricted to `rows` (the others have derivative 0)
/// over one step, as operands: `P[j][k]` for `k < n`, then `q_j` at `k = n`; `None` where
/// the entry is structurally zero.
fn propagator(linear: &LinearSystem, b: &mut Builder, rows: &[bool]) -> Vec<Vec<Option<Operand>>> {
    let n = rows.len();
    let m = n + 1;
    let zero = Expr::Number(0.0);
    let bind = Bind {
        states: &[],
        time: TIME,
    };
    // [[M, c], [0, 0]]·dt as operands (Scalar or Column: the plan made sure of that).
    let mut entries = vec![None; m * m];
    for j in (0..n).filter(|&j| rows[j]) {
        for k in 0..m {
            let e = if k < n {
                &linear.matrix[j][k]
            } else {
                &linear.constant[j]
            };
            if *e != zero {
                entries[j * m + k] = Some(b.lower(e, &bind));
            }
        }
    }
    let reach = reach(&linear.matrix, rows);
    let nonzero = |j: usize, k: usize| {
        if k < n {
            reach[j][k]
        } else {
            (0..n).any(|l| reach[j][l] && rows[l] && linear.constant[l] != zero)
        }
    };
    let dt = b.dt();
    let matrix_at = |b: &Builder, i: usize| -> Vec<f64> {
        entries
            .iter()
            .map(|e| e.map_or(0.0, |o| b.value_at(o, i).unwrap_or(f64::NAN) * dt))
            .collect()
    };
    let uniform = entries
        .iter()
        .flatten()
        .all(|o| matches!(o, Operand::Scalar(_)));
    let mut out = vec![vec![None; m]; n];
    if uniform {
        let p = expm(&matrix_at(b, 0), m);
        for j in 0..n {
            for k in (0..m).filter(|&k| nonzero(j, k)) {
                out[j][k] = Some(Operand::Scalar(p[j * m + k]));
            }
        }
    } else {
        let n_neurons = b.neurons();
        let mut columns = vec![vec![0.0; n_neurons]; m * m];
        for i in 0..n_neurons {
            let p = expm(&matrix_at(b, i), m);
            for (column, value) in columns.iter_mut().zip(p) {
                column[i] = value;
            }
        }
        for (index, column) in columns.into_iter().enumerate() {
            let (j, k) = (index / m, index % m);
            if j < n && nonzero(j, k) {
                out[j][k] = Some(b.column(column));
            }
        }
    }
    out
}
