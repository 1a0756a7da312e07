//! The arithmetic of one value: every operation a compiled expression performs, as a scalar
//! f64 function. The same functions fold constants at build time, evaluate initial values
//! and run in the lanes of the bytecode (`program.rs`), so a neuron's numbers never depend on
//! which of those paths computed them, nor on its position in a chunk.
//!
//! `exp` and `exprel` are written out (Cody–Waite reduction and a polynomial, only
//! operations the compiler can vectorise) instead of calling the C library once per lane:
//! HH rate functions call them several times per neuron and step. The other functions call
//! the standard library.

use super::{BinOp, Expr, Func};

/// An operation of the bytecode: a binary operator, a function, or one of the two
/// operations the integrators add (`Copy`, `IfFree`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Neg,
    Bin(BinOp),
    Call(Func),
    /// The value itself (materialises an output in a register).
    Copy,
    /// `IfFree(a, b)`: `a` for a neuron that is not refractory, `b` for one that is. Depends
    /// on the lane, so it is never folded.
    IfFree,
    /// `a·b + c`, rounded twice (not a fused multiply-add): a multiplication and the
    /// addition that is its only use, in one pass over a chunk.
    MulAdd,
}

impl Op {
    pub fn arity(self) -> usize {
        match self {
            Op::Neg | Op::Copy => 1,
            Op::Bin(_) | Op::IfFree => 2,
            Op::MulAdd => 3,
            Op::Call(f) => f.arity(),
        }
    }
}

/// `op` applied to `a`, `b`, `c` (the arguments beyond the operation's arity are ignored).
/// `IfFree` is evaluated as for a neuron that is not refractory.
#[inline(always)]
pub fn apply(op: Op, a: f64, b: f64, c: f64) -> f64 {
    match op {
        Op::Neg => -a,
        Op::Copy | Op::IfFree => a,
        Op::MulAdd => a * b + c,
        Op::Bin(op) => binary(op, a, b),
        Op::Call(f) => call(f, a, b, c),
    }
}

#[inline(always)]
pub fn binary(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
    }
}

#[inline(always)]
pub fn call(f: Func, a: f64, b: f64, c: f64) -> f64 {
    match f {
        Func::Exp => exp(a),
        Func::Log => a.ln(),
        Func::Sqrt => a.sqrt(),
        Func::Abs => a.abs(),
        Func::Sin => a.sin(),
        Func::Cos => a.cos(),
        Func::Tan => a.tan(),
        Func::Tanh => a.tanh(),
        Func::Sinh => a.sinh(),
        Func::Cosh => a.cosh(),
        Func::Floor => a.floor(),
        Func::Ceil => a.ceil(),
        Func::Exprel => exprel(a),
        Func::Min => a.min(b),
        Func::Max => a.max(b),
        Func::Pow => pow(a, b),
        // max then min, as numpy's clip: NaN bounds give NaN-free results where possible.
        Func::Clip => a.max(b).min(c),
    }
}

/// `a^b`; the integer powers 2, 3 and 4 are products (`a·a·a`), as a user would write them
/// out and as fast: HH gating is `m³·h` and `n⁴`.
#[inline(always)]
pub fn pow(a: f64, b: f64) -> f64 {
    if b == 2.0 {
        a * a
    } else if b == 3.0 {
        a * a * a
    } else if b == 4.0 {
        let square = a * a;
        square * square
    } else {
        a.powf(b)
    }
}

/// 1/14!, 1/13!, …, 1/1!: the Taylor coefficients of `expm1(r)/r`, highest first.
const EXPM1_TAYLOR: [f64; 14] = [
    1.0 / 87_178_291_200.0,
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    1.0 / 2.0,
    1.0,
];

/// `(2^k, expm1(r))` with `x = k·ln 2 + r`, `|r| <= ln2/2`, for `x` clamped to
/// [-708, 709] (so `2^k` is a normal number).
#[inline(always)]
fn reduce(x: f64) -> (f64, f64) {
    // fdlibm's split of ln 2: `k·LN2_HI` is exact for |k| < 2^11.
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // Adding and subtracting 1.5·2^52 rounds to the nearest integer; the integer is then
    // the low bits of the sum, read without a float-to-integer conversion (which AVX2
    // lacks for 64-bit lanes).
    const ROUNDER: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 709.0);
    let shifted = x * std::f64::consts::LOG2_E + ROUNDER;
    let k = shifted - ROUNDER;
    let k_int = shifted.to_bits().wrapping_sub(ROUNDER.to_bits());
    let scale = f64::from_bits(k_int.wrapping_add(1023) << 52);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // expm1(r) = r + r²/2 + … + r^14/14!, Horner; the first term left out is below
    // 0.347^15/15! < 3e-19 relative to r.
    let mut p = EXPM1_TAYLOR[0];
    for c in &EXPM1_TAYLOR[1..] {
        p = p * r + c;
    }
    (scale, p * r)
}

/// `e^x`, within 2 ulp of the exact value. Arguments beyond [-708, 709] are clamped, so
/// the result is a large finite number or about 3e-308 instead of infinity or 0; NaN stays
/// NaN.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let (scale, m) = reduce(x);
    scale * (1.0 + m)
}

/// `(e^x - 1)/x`, 1 at 0, accurate also near 0 (no cancellation): the rate functions of
/// HH models and the exponential Euler step.
#[inline(always)]
pub fn exprel(x: f64) -> f64 {
    let (scale, m) = reduce(x);
    // expm1(x) = 2^k·(1 + m) - 1 = 2^k·m + (2^k - 1); 2^k - 1 is exact for |k| < 53 and
    // rounds harmlessly beyond.
    let expm1 = scale * m + (scale - 1.0);
    if x == 0.0 { 1.0 } else { expm1 / x }
}

/// The value of `expr` with its leaves (numbers, names, `t`, `dt`, noise) given by `leaf`:
/// the one scalar walk of an expression tree, shared by the paths below.
fn evaluate(expr: &Expr, leaf: &dyn Fn(&Expr) -> Result<f64, String>) -> Result<f64, String> {
    Ok(match expr {
        Expr::Neg(a) => -evaluate(a, leaf)?,
        Expr::Binary(op, a, b) => binary(*op, evaluate(a, leaf)?, evaluate(b, leaf)?),
        Expr::Call(f, args) => {
            let mut values = [0.0; 3];
            for (value, arg) in values.iter_mut().zip(args) {
                *value = evaluate(arg, leaf)?;
            }
            call(*f, values[0], values[1], values[2])
        }
        leaf_expr => leaf(leaf_expr)?,
    })
}

/// The value of a parameter-only expression for one neuron (`param(i)` gives parameter
/// `i`); time is 0. Used for initial values and the refractory period. Fails on a state
/// variable.
pub fn eval_params(expr: &Expr, param: &dyn Fn(usize) -> f64, dt: f64) -> Result<f64, String> {
    evaluate(expr, &|leaf| match leaf {
        Expr::Number(x) => Ok(*x),
        Expr::Param(p) => Ok(param(*p)),
        Expr::Time => Ok(0.0),
        Expr::Dt => Ok(dt),
        Expr::State(_) => Err("depends on a state variable".into()),
        Expr::Noise(_) => Err("depends on white noise".into()),
        _ => unreachable!("evaluate passes leaves only"),
    })
}

/// The value of an expression at time `t` (ms) for one set of values: `state[i]` for
/// `Expr::State(i)`, `params[i]` for `Expr::Param(i)`. The scalar path of event-driven
/// code (a synapse's `on_pre`), with the same arithmetic as the lanes.
pub fn eval(expr: &Expr, state: &[f64], params: &[f64], t: f64, dt: f64) -> f64 {
    let leaf = |leaf: &Expr| {
        Ok(match leaf {
            Expr::Number(x) => *x,
            Expr::State(i) => state[*i],
            Expr::Param(p) => params[*p],
            Expr::Time => t,
            Expr::Dt => dt,
            // Event-driven code has no white noise: the checker refuses it there.
            Expr::Noise(_) => f64::NAN,
            _ => unreachable!("evaluate passes leaves only"),
        })
    };
    evaluate(expr, &leaf).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_within_two_ulp_of_the_library() {
        let mut worst = 0;
        for i in -70_000..=70_000 {
            let x = i as f64 * 0.01 + 0.003_7;
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2, "worst {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f64::NAN).is_nan());
        assert!(exp(1000.0).is_finite() && exp(-1000.0) >= 0.0);
    }

    #[test]
    fn exprel_is_accurate_near_zero_and_far_from_it() {
        assert_eq!(exprel(0.0), 1.0);
        for x in [
            1e-300f64, -1e-300, 1e-12, -1e-9, 1e-5, -3e-3, 0.1, -0.5, 0.7, 3.0, -20.0, 50.0,
        ] {
            let expected = if x.abs() < 1e-3 {
                1.0 + x / 2.0 + x * x / 6.0 + x * x * x / 24.0
            } else {
                x.exp_m1() / x
            };
            let rel = ((exprel(x) - expected) / expected).abs();
            assert!(rel < 1e-15, "exprel({x}) = {} vs {expected}", exprel(x));
        }
        assert!(exprel(-1000.0) > 0.0 && exprel(1000.0).is_finite());
    }

    #[test]
    fn parameter_expressions_evaluate_per_neuron() {
        let expr = Expr::Binary(
            BinOp::Div,
            Box::new(Expr::Param(0)),
            Box::new(Expr::Call(Func::Max, vec![Expr::Param(1), Expr::Dt])),
        );
        let values = [3.0, 0.5];
        assert_eq!(eval_params(&expr, &|p| values[p], 0.1), Ok(6.0));
        assert!(eval_params(&Expr::State(0), &|_| 0.0, 0.1).is_err());
    }
}
