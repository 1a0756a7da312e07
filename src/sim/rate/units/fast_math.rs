//! Branch-free f32 `sigmoid` and `tanh` for the gate loops of `lstm` and `gru`. The
//! standard library calls libm once per value, which took most of an LSTM step; these are
//! plain arithmetic on the spiking models' library-free `exp` (and Cephes' `tanhf`
//! polynomial near 0), which the compiler vectorises. Every CPU computes the same bits, so
//! results still depend on the seed only. Accuracy (tested): within 3·10⁻⁷ of the standard
//! library.

use crate::models::neuron::dynamics::fast_exp as exp;

/// 1 / (1 + e^-x).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// tanh x: an odd polynomial below 0.625 (where 1 - 2/(e^2x + 1) would lose digits),
/// that form above.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let small =
        ((((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1) * z
            - 3.333_328e-1)
            * z
            * x
            + x;
    let large = (1.0 - 2.0 / (exp(2.0 * a) + 1.0)).copysign(x);
    if a < 0.625 { small } else { large }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 1/1000 between -20 and 20, and the ends of the ranges.
    fn grid() -> impl Iterator<Item = f32> {
        (-20_000..=20_000)
            .map(|i| i as f32 / 1000.0)
            .chain([-100.0, -87.5, 88.5, 100.0, 1e-30, -1e-30, 0.0])
    }

    #[test]
    fn sigmoid_and_tanh_match_the_standard_library() {
        for x in grid() {
            let (s, t) = (sigmoid(x), tanh(x));
            let (ws, wt) = (1.0 / (1.0 + (-x).exp()), x.tanh());
            assert!((s - ws).abs() < 3e-7, "sigmoid({x}) = {s}, want {ws}");
            assert!((t - wt).abs() < 3e-7, "tanh({x}) = {t}, want {wt}");
            assert!(t.abs() <= 1.0 && (0.0..=1.0).contains(&s));
        }
        assert_eq!(tanh(0.0), 0.0);
        assert!(tanh(1e-30) > 0.0 && tanh(-1e-30) < 0.0);
    }
}
