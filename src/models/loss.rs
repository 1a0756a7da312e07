//! Rate-mode loss functions: the registry of names and the mathematics of each.
//!
//! Reductions follow PyTorch's defaults (`reduction = "mean"`): `mse`, `binary_cross_entropy`
//! and `smooth_l1` average over every output value, `cross_entropy` averages over samples.
//!
//! `cross_entropy` works on logits: with a `softmax` (or `identity`) output it is fused with
//! the softmax through log-sum-exp, so it never takes the log of a rounded-to-zero
//! probability, and its gradient with respect to the logits is `(softmax(z) - t) / batch`.
//! `binary_cross_entropy` is fused the same way with a `sigmoid` output.

pub static NAMES: &[&str] = &["mse", "cross_entropy", "binary_cross_entropy", "smooth_l1"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    Mse,
    CrossEntropy,
    BinaryCrossEntropy,
    /// Huber loss with `beta = 1` (PyTorch `SmoothL1Loss`).
    SmoothL1,
}

/// What the gradient a loss returns is taken with respect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradientOf {
    /// The outputs `y`: the engine multiplies by the activation's derivative.
    Outputs,
    /// The pre-activations `z`: the loss was fused with the output activation.
    Logits,
}

impl Loss {
    pub fn from_name(name: &str) -> Option<Loss> {
        Some(match name {
            "mse" => Loss::Mse,
            "cross_entropy" => Loss::CrossEntropy,
            "binary_cross_entropy" => Loss::BinaryCrossEntropy,
            "smooth_l1" => Loss::SmoothL1,
            _ => return None,
        })
    }

    /// How this loss pairs with an output activation: fused (gradient w.r.t. logits), plain
    /// (gradient w.r.t. outputs), or `None` if the pair makes no sense.
    pub fn pairing(self, activation: super::activation::Activation) -> Option<GradientOf> {
        use super::activation::Activation as A;
        match (self, activation) {
            (Loss::CrossEntropy, A::Softmax | A::Identity) => Some(GradientOf::Logits),
            (Loss::CrossEntropy, _) => None,
            (Loss::BinaryCrossEntropy, A::Sigmoid) => Some(GradientOf::Logits),
            _ => Some(GradientOf::Outputs),
        }
    }

    /// The batch loss and its gradient. `z` are the logits, `y` the outputs, `t` the targets
    /// (all `n_units × batch`, column-major); `grad` receives d loss / d(z or y) as `pairing`
    /// says for `gradient_of`. A column whose target is NaN has no target (a padded step of
    /// a shorter sequence, an empty cell): it adds nothing and gets no gradient, and the
    /// mean is over the other columns (PyTorch's `ignore_index`).
    pub fn evaluate(
        self,
        gradient_of: GradientOf,
        z: &[f32],
        y: &[f32],
        t: &[f32],
        n_units: usize,
        grad: &mut [f32],
    ) -> f64 {
        let n = n_units.max(1);
        let scored = t.chunks_exact(n).filter(|t| !no_target(t)).count().max(1);
        let count = (scored * n) as f32;
        let batch = scored as f32;
        let mut total = 0.0f64;
        for (((g, z), y), t) in grad
            .chunks_exact_mut(n)
            .zip(z.chunks_exact(n))
            .zip(y.chunks_exact(n))
            .zip(t.chunks_exact(n))
        {
            if no_target(t) {
                g.fill(0.0);
                continue;
            }
            self.column(gradient_of, z, y, t, g, count, batch, &mut total);
        }
        match self {
            Loss::CrossEntropy => total / f64::from(batch),
            _ => total / f64::from(count),
        }
    }

    /// One column's terms of the loss (added to `total`, element by element) and its
    /// gradient, for a batch of `count` scored values in `batch` scored columns.
    #[allow(clippy::too_many_arguments)]
    fn column(
        self,
        gradient_of: GradientOf,
        z: &[f32],
        y: &[f32],
        t: &[f32],
        g: &mut [f32],
        count: f32,
        batch: f32,
        total: &mut f64,
    ) {
        match (self, gradient_of) {
            (Loss::Mse, _) => {
                for ((g, &y), &t) in g.iter_mut().zip(y).zip(t) {
                    let d = y - t;
                    *total += f64::from(d * d);
                    *g = 2.0 * d / count;
                }
            }
            (Loss::SmoothL1, _) => {
                for ((g, &y), &t) in g.iter_mut().zip(y).zip(t) {
                    let d = y - t;
                    if d.abs() < 1.0 {
                        *total += f64::from(0.5 * d * d);
                        *g = d / count;
                    } else {
                        *total += f64::from(d.abs() - 0.5);
                        *g = d.signum() / count;
                    }
                }
            }
            (Loss::CrossEntropy, _) => {
                let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = z.iter().map(|&z| (z - max).exp()).sum();
                let lse = max + sum.ln();
                let t_sum: f32 = t.iter().sum();
                for ((g, &z), &t) in g.iter_mut().zip(z).zip(t) {
                    *total -= f64::from(t * (z - lse));
                    *g = ((z - lse).exp() * t_sum - t) / batch;
                }
            }
            (Loss::BinaryCrossEntropy, GradientOf::Logits) => {
                for ((g, &z), &t) in g.iter_mut().zip(z).zip(t) {
                    // max(z, 0) - z t + log(1 + e^-|z|): PyTorch's BCEWithLogits form.
                    *total += f64::from(z.max(0.0) - z * t + (-z.abs()).exp().ln_1p());
                    *g = (super::activation::sigmoid(z) - t) / count;
                }
            }
            (Loss::BinaryCrossEntropy, GradientOf::Outputs) => {
                const EPS: f32 = 1e-7;
                for ((g, &y), &t) in g.iter_mut().zip(y).zip(t) {
                    let y = y.clamp(EPS, 1.0 - EPS);
                    *total -= f64::from(t * y.ln() + (1.0 - t) * (1.0 - y).ln());
                    *g = (y - t) / (y * (1.0 - y)) / count;
                }
            }
        }
    }
}

/// A column without a target: its values are NaN.
pub fn no_target(t: &[f32]) -> bool {
    t.first().is_some_and(|v| v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_of_confident_right_answer_is_small_and_finite() {
        let z = [50.0, -50.0, 0.0];
        let t = [1.0, 0.0, 0.0];
        let mut g = [0.0; 3];
        let l = Loss::CrossEntropy.evaluate(GradientOf::Logits, &z, &z, &t, 3, &mut g);
        assert!(l.is_finite() && l < 1e-10, "{l}");
        let z = [-50.0, 50.0, 0.0];
        let l = Loss::CrossEntropy.evaluate(GradientOf::Logits, &z, &z, &t, 3, &mut g);
        assert!((l - 100.0).abs() < 1e-3, "{l}");
    }

    #[test]
    fn columns_without_targets_add_nothing_and_get_no_gradient() {
        // Two columns of 2 units, and the same two with a NaN column between them.
        let (z, t) = ([0.3, -0.2, 1.5, 0.1], [1.0, 0.0, 0.0, 1.0]);
        let nan = f32::NAN;
        let zm = [0.3, -0.2, 9.0, 9.0, 1.5, 0.1];
        let tm = [1.0, 0.0, nan, nan, 0.0, 1.0];
        for name in NAMES {
            let loss = Loss::from_name(name).expect("registered");
            let of = loss
                .pairing(crate::models::activation::Activation::Identity)
                .unwrap_or(GradientOf::Outputs);
            let (mut g, mut gm) = ([0.0; 4], [1.0; 6]);
            let l = loss.evaluate(of, &z, &z, &t, 2, &mut g);
            let lm = loss.evaluate(of, &zm, &zm, &tm, 2, &mut gm);
            assert_eq!(l, lm, "{name}");
            assert_eq!(&g[..2], &gm[..2], "{name}");
            assert_eq!(&gm[2..4], &[0.0, 0.0], "{name}");
            assert_eq!(&g[2..], &gm[4..], "{name}");
        }
    }

    #[test]
    fn every_registered_name_has_a_function() {
        for name in NAMES {
            assert!(Loss::from_name(name).is_some(), "{name}");
        }
    }
}
