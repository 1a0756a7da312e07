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
    /// says for `gradient_of`.
    pub fn evaluate(
        self,
        gradient_of: GradientOf,
        z: &[f32],
        y: &[f32],
        t: &[f32],
        n_units: usize,
        grad: &mut [f32],
    ) -> f64 {
        let count = y.len().max(1) as f32;
        let batch = (y.len() / n_units.max(1)).max(1) as f32;
        let mut total = 0.0f64;
        match (self, gradient_of) {
            (Loss::Mse, _) => {
                for (((g, &y), &t), _) in grad.iter_mut().zip(y).zip(t).zip(z) {
                    let d = y - t;
                    total += f64::from(d * d);
                    *g = 2.0 * d / count;
                }
                total / f64::from(count)
            }
            (Loss::SmoothL1, _) => {
                for ((g, &y), &t) in grad.iter_mut().zip(y).zip(t) {
                    let d = y - t;
                    if d.abs() < 1.0 {
                        total += f64::from(0.5 * d * d);
                        *g = d / count;
                    } else {
                        total += f64::from(d.abs() - 0.5);
                        *g = d.signum() / count;
                    }
                }
                total / f64::from(count)
            }
            (Loss::CrossEntropy, _) => {
                for ((g, z), t) in grad
                    .chunks_exact_mut(n_units)
                    .zip(z.chunks_exact(n_units))
                    .zip(t.chunks_exact(n_units))
                {
                    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let sum: f32 = z.iter().map(|&z| (z - max).exp()).sum();
                    let lse = max + sum.ln();
                    let t_sum: f32 = t.iter().sum();
                    for ((g, &z), &t) in g.iter_mut().zip(z).zip(t) {
                        total -= f64::from(t * (z - lse));
                        *g = ((z - lse).exp() * t_sum - t) / batch;
                    }
                }
                total / f64::from(batch)
            }
            (Loss::BinaryCrossEntropy, GradientOf::Logits) => {
                for ((g, &z), &t) in grad.iter_mut().zip(z).zip(t) {
                    // max(z, 0) - z t + log(1 + e^-|z|): PyTorch's BCEWithLogits form.
                    total += f64::from(z.max(0.0) - z * t + (-z.abs()).exp().ln_1p());
                    *g = (super::activation::sigmoid(z) - t) / count;
                }
                total / f64::from(count)
            }
            (Loss::BinaryCrossEntropy, GradientOf::Outputs) => {
                const EPS: f32 = 1e-7;
                for ((g, &y), &t) in grad.iter_mut().zip(y).zip(t) {
                    let y = y.clamp(EPS, 1.0 - EPS);
                    total -= f64::from(t * y.ln() + (1.0 - t) * (1.0 - y).ln());
                    *g = (y - t) / (y * (1.0 - y)) / count;
                }
                total / f64::from(count)
            }
        }
    }
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
    fn every_registered_name_has_a_function() {
        for name in NAMES {
            assert!(Loss::from_name(name).is_some(), "{name}");
        }
    }
}
