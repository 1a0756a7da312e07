//! Symbolic linearity of expressions: what `exponential_euler` and `exact` need to know
//! before they can integrate a system.
//!
//! `affine_in(f, x)` writes `f = A + B·x` with `A`, `B` free of `x` (Brian2's
//! `get_conditionally_linear_system`), and `linear_system` peels every state variable off
//! every derivative in turn to get `dx/dt = M·x + c` with `M`, `c` free of the state and of
//! time (Brian2's `get_linear_system`). The decomposition is structural (a product of two
//! factors that both contain `x` is not linear even if a parameter makes one of them
//! constant), so the answer depends on the equations only, never on parameter values.
//! The smart constructors fold numbers and drop zero terms and unit factors, so the
//! coefficients stay as short as the equations. The same peeling splits a stochastic
//! derivative into drift and noise terms (`split_noise`, Brian2's `split_stochastic`).

use super::{BinOp, Expr, System};

fn is_number(e: &Expr, x: f64) -> bool {
    matches!(e, Expr::Number(y) if *y == x)
}

pub fn neg(a: Expr) -> Expr {
    match a {
        Expr::Number(x) => Expr::Number(-x),
        Expr::Neg(inner) => *inner,
        a => Expr::Neg(Box::new(a)),
    }
}

fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::Binary(op, Box::new(a), Box::new(b))
}

pub fn add(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Number(x), Expr::Number(y)) => Expr::Number(x + y),
        (a, b) if is_number(&b, 0.0) => a,
        (a, b) if is_number(&a, 0.0) => b,
        (a, b) => binary(BinOp::Add, a, b),
    }
}

pub fn sub(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Number(x), Expr::Number(y)) => Expr::Number(x - y),
        (a, b) if is_number(&b, 0.0) => a,
        (a, b) if is_number(&a, 0.0) => neg(b),
        (a, b) => binary(BinOp::Sub, a, b),
    }
}

pub fn mul(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Number(x), Expr::Number(y)) => Expr::Number(x * y),
        (a, b) if is_number(&a, 0.0) || is_number(&b, 0.0) => Expr::Number(0.0),
        (a, b) if is_number(&a, 1.0) => b,
        (a, b) if is_number(&b, 1.0) => a,
        (a, b) => binary(BinOp::Mul, a, b),
    }
}

pub fn div(a: Expr, b: Expr) -> Expr {
    match (a, b) {
        (Expr::Number(x), Expr::Number(y)) => Expr::Number(x / y),
        (a, _) if is_number(&a, 0.0) => Expr::Number(0.0),
        (a, b) if is_number(&b, 1.0) => a,
        (a, b) => binary(BinOp::Div, a, b),
    }
}

/// Whether `expr` mentions anything `pred` selects.
fn any(expr: &Expr, pred: &dyn Fn(&Expr) -> bool) -> bool {
    pred(expr)
        || match expr {
            Expr::Neg(a) => any(a, pred),
            Expr::Binary(_, a, b) => any(a, pred) || any(b, pred),
            Expr::Call(_, args) => args.iter().any(|a| any(a, pred)),
            _ => false,
        }
}

/// Whether `expr` mentions state variable `var`.
pub fn contains_state(expr: &Expr, var: usize) -> bool {
    contains(expr, Leaf::State(var))
}

/// Whether `expr` mentions any state variable.
pub fn depends_on_state(expr: &Expr) -> bool {
    any(expr, &|e| matches!(e, Expr::State(_)))
}

/// Whether `expr` mentions the time `t`.
pub fn depends_on_time(expr: &Expr) -> bool {
    any(expr, &|e| matches!(e, Expr::Time))
}

/// What `affine_in` and `nonlinear_term` peel off: a state variable or a noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    State(usize),
    Noise(usize),
    /// Every noise at once (is `f` linear in the noises jointly?).
    AnyNoise,
}

/// Whether `expr` mentions `leaf`.
pub fn contains(expr: &Expr, leaf: Leaf) -> bool {
    any(expr, &|e| match (e, leaf) {
        (Expr::State(s), Leaf::State(v)) | (Expr::Noise(s), Leaf::Noise(v)) => *s == v,
        (Expr::Noise(_), Leaf::AnyNoise) => true,
        _ => false,
    })
}

/// Whether `expr` mentions any noise.
pub fn depends_on_noise(expr: &Expr) -> bool {
    contains(expr, Leaf::AnyNoise)
}

/// `expr = A + B·x` for `x = states[var]`, with `A` and `B` free of `x` (they may contain
/// the other variables, parameters and time); `None` if `expr` is not of that form.
pub fn affine_in(expr: &Expr, var: usize) -> Option<(Expr, Expr)> {
    affine_in_leaf(expr, Leaf::State(var))
}

/// `affine_in` for a state variable or a noise.
pub fn affine_in_leaf(expr: &Expr, leaf: Leaf) -> Option<(Expr, Expr)> {
    if !contains(expr, leaf) {
        return Some((expr.clone(), Expr::Number(0.0)));
    }
    match expr {
        // Only `leaf` itself contains `leaf`.
        Expr::State(_) | Expr::Noise(_) => Some((Expr::Number(0.0), Expr::Number(1.0))),
        Expr::Neg(a) => affine_in_leaf(a, leaf).map(|(a, b)| (neg(a), neg(b))),
        Expr::Binary(op, l, r) => match op {
            BinOp::Add | BinOp::Sub => {
                let ((la, lb), (ra, rb)) = (affine_in_leaf(l, leaf)?, affine_in_leaf(r, leaf)?);
                Some(if *op == BinOp::Add {
                    (add(la, ra), add(lb, rb))
                } else {
                    (sub(la, ra), sub(lb, rb))
                })
            }
            BinOp::Mul if !contains(l, leaf) => {
                let (a, b) = affine_in_leaf(r, leaf)?;
                Some((mul((**l).clone(), a), mul((**l).clone(), b)))
            }
            BinOp::Mul | BinOp::Div if !contains(r, leaf) => {
                let (a, b) = affine_in_leaf(l, leaf)?;
                let scale = if *op == BinOp::Mul { mul } else { div };
                Some((scale(a, (**r).clone()), scale(b, (**r).clone())))
            }
            BinOp::Mul | BinOp::Div => None,
        },
        Expr::Call(..) => None,
        Expr::Number(_) | Expr::Param(_) | Expr::Time | Expr::Dt => {
            unreachable!("affine_in_leaf: a leaf other than a variable cannot contain one")
        }
    }
}

/// The smallest subterm of `expr` that keeps it from being affine in `states[var]` (a
/// product of two factors with `x`, a division by `x`, a function of `x`); `None` exactly
/// when `affine_in` succeeds.
pub fn nonlinear_term(expr: &Expr, var: usize) -> Option<&Expr> {
    nonlinear_term_in(expr, Leaf::State(var))
}

/// `nonlinear_term` for a state variable or a noise.
pub fn nonlinear_term_in(expr: &Expr, leaf: Leaf) -> Option<&Expr> {
    if !contains(expr, leaf) {
        return None;
    }
    match expr {
        Expr::Neg(a) => nonlinear_term_in(a, leaf),
        Expr::Binary(op, l, r) => {
            let (in_l, in_r) = (contains(l, leaf), contains(r, leaf));
            match op {
                BinOp::Add | BinOp::Sub => {
                    nonlinear_term_in(l, leaf).or_else(|| nonlinear_term_in(r, leaf))
                }
                BinOp::Mul if in_l && in_r => Some(expr),
                BinOp::Div if in_r => Some(expr),
                BinOp::Mul | BinOp::Div => nonlinear_term_in(if in_l { l } else { r }, leaf),
            }
        }
        Expr::Call(..) => Some(expr),
        _ => None,
    }
}

/// A derivative split into its drift and its noise terms: `f = drift + Σ g·xi_k`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stochastic {
    pub drift: Expr,
    /// `(k, g)`: the coefficient `g` of `noises[k]`, free of every noise.
    pub diffusion: Vec<(usize, Expr)>,
}

/// `f` as drift plus noise terms, or the smallest term that is not linear in a noise (a
/// product of two noises, a noise in a function or a denominator). Stochastic equations
/// are linear in their noises in Brian2 as here: `xi` is the derivative of a Wiener
/// process, which only exists multiplied by something.
pub fn split_noise(f: &Expr, n_noises: usize) -> Result<Stochastic, &Expr> {
    // Linear in the noises jointly (so `xi_1*xi_2` is refused), then each one peeled off.
    if let Some(term) = nonlinear_term_in(f, Leaf::AnyNoise) {
        return Err(term);
    }
    let mut drift = f.clone();
    let mut diffusion = Vec::new();
    for k in 0..n_noises {
        let Some((a, b)) = affine_in_leaf(&drift, Leaf::Noise(k)) else {
            unreachable!("split_noise: an expression linear in the noises is linear in each")
        };
        if b != Expr::Number(0.0) {
            diffusion.push((k, b));
        }
        drift = a;
    }
    Ok(Stochastic { drift, diffusion })
}

/// `dx/dt = M·x + c`: `matrix[i][j]` is the coefficient of `states[j]` in the derivative of
/// `states[i]`, `constant[i]` what remains; both are expressions of the parameters (and
/// `dt`) only. A variable without a derivative has a zero row.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSystem {
    pub matrix: Vec<Vec<Expr>>,
    pub constant: Vec<Expr>,
}

/// The system as `dx/dt = M·x + c` with constant coefficients, or why it is not: the message
/// names the derivative and the term.
pub fn linear_system(system: &System) -> Result<LinearSystem, String> {
    let n = system.states.len();
    let mut matrix = vec![vec![Expr::Number(0.0); n]; n];
    let mut constant = vec![Expr::Number(0.0); n];
    for (i, derivative) in system.derivatives.iter().enumerate() {
        let Some(f) = derivative else { continue };
        let name = &system.states[i].name;
        let mut rest = f.clone();
        for (j, coefficient) in matrix[i].iter_mut().enumerate() {
            let var = &system.states[j].name;
            let Some((a, b)) = affine_in(&rest, j) else {
                let term = nonlinear_term(&rest, j).unwrap_or(&rest);
                return Err(format!(
                    "in d{name}/dt, the term `{}` is not linear in `{var}`",
                    show(term, system)
                ));
            };
            if depends_on_state(&b) || depends_on_time(&b) {
                let what = if depends_on_time(&b) {
                    "the time `t`".to_string()
                } else {
                    "the state".to_string()
                };
                return Err(format!(
                    "in d{name}/dt, the coefficient of `{var}` is `{}`, which depends on {what}",
                    show(&b, system)
                ));
            }
            *coefficient = b;
            rest = a;
        }
        if depends_on_time(&rest) {
            return Err(format!(
                "in d{name}/dt, the term `{}` depends on the time `t`",
                show(&rest, system)
            ));
        }
        constant[i] = rest;
    }
    Ok(LinearSystem { matrix, constant })
}

/// `expr` as a user would write it, with the system's names and as few parentheses as the
/// precedence needs (for messages).
pub fn show(expr: &Expr, system: &System) -> String {
    fn go(e: &Expr, s: &System, out: &mut String) {
        let prec = |e: &Expr| match e {
            Expr::Binary(BinOp::Add | BinOp::Sub, ..) => 1,
            Expr::Binary(BinOp::Mul | BinOp::Div, ..) => 2,
            Expr::Neg(_) => 3,
            _ => 4,
        };
        let operand = |child: &Expr, min: u8, out: &mut String| {
            if prec(child) < min {
                out.push('(');
                go(child, s, out);
                out.push(')');
            } else {
                go(child, s, out);
            }
        };
        match e {
            Expr::Number(x) => out.push_str(&format!("{x}")),
            Expr::State(i) => out.push_str(s.states.get(*i).map_or("?", |d| &d.name)),
            Expr::Param(i) => out.push_str(s.params.get(*i).map_or("?", |d| &d.name)),
            Expr::Time => out.push('t'),
            Expr::Dt => out.push_str("dt"),
            Expr::Noise(k) => out.push_str(s.noises.get(*k).map_or("xi", |n| n.as_str())),
            Expr::Neg(a) => {
                out.push('-');
                operand(a, 3, out);
            }
            Expr::Binary(op, a, b) => {
                let (p, symbol) = match op {
                    BinOp::Add => (1, " + "),
                    BinOp::Sub => (1, " - "),
                    BinOp::Mul => (2, "*"),
                    BinOp::Div => (2, "/"),
                };
                operand(a, p, out);
                out.push_str(symbol);
                // The right operand of `-` and `/` needs parentheses at equal precedence.
                let right = if matches!(op, BinOp::Sub | BinOp::Div) {
                    p + 1
                } else {
                    p
                };
                operand(b, right, out);
            }
            Expr::Call(f, args) => {
                out.push_str(f.name());
                out.push('(');
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    go(a, s, out);
                }
                out.push(')');
            }
        }
    }
    let mut out = String::new();
    go(expr, system, &mut out);
    out
}
