//! Rate-mode activation functions: the registry of names and the mathematics of each.
//!
//! `NAMES` is the registry the language checks against; [`Activation::from_name`] is the one
//! place that turns a name into a function. Batches are column-major matrices with one
//! column per sample (`n_units` values each), so `softmax` normalises each column.
//!
//! | name | y = f(z) | f'(z) |
//! | --- | --- | --- |
//! | `identity` | z | 1 |
//! | `sigmoid` | 1 / (1 + e^-z) | y (1 - y) |
//! | `tanh` | tanh z | 1 - y² |
//! | `relu` | max(z, 0) | 1 if z > 0 |
//! | `leaky_relu` | z if z > 0 else slope·z | 1 or slope |
//! | `softmax` | e^z_i / Σ_k e^z_k (per sample) | Jacobian y_i (δ_ik - y_k) |
//! | `step` | 1 if z > 0 else 0 | none (straight-through: 1 for abs(z) ≤ 1) |
//! | `sign` | 1 if z ≥ 0 else -1 | none (straight-through: 1 for abs(z) ≤ 1) |

/// Every activation the language accepts.
pub static NAMES: &[&str] = &[
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "softmax",
    "step",
    "sign",
];

/// Activations with no useful gradient: training through them is refused unless the
/// population asks for the straight-through estimator.
pub static FORWARD_ONLY: &[&str] = &["step", "sign"];

/// An activation function with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    Identity,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu { slope: f32 },
    Softmax,
    Step,
    Sign,
}

impl Activation {
    /// The activation called `name`; `slope` is `leaky_relu`'s negative slope.
    pub fn from_name(name: &str, slope: f32) -> Option<Activation> {
        Some(match name {
            "identity" => Activation::Identity,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu { slope },
            "softmax" => Activation::Softmax,
            "step" => Activation::Step,
            "sign" => Activation::Sign,
            _ => return None,
        })
    }

    /// True for `step` and `sign`, whose derivative is zero almost everywhere.
    pub fn forward_only(self) -> bool {
        matches!(self, Activation::Step | Activation::Sign)
    }

    /// `y = f(z)` for a batch of columns of `n_units` values.
    pub fn forward(self, z: &[f32], y: &mut [f32], n_units: usize) {
        debug_assert_eq!(z.len(), y.len());
        match self {
            Activation::Identity => y.copy_from_slice(z),
            Activation::Sigmoid => {
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = sigmoid(z);
                }
            }
            Activation::Tanh => {
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = z.tanh();
                }
            }
            Activation::Relu => {
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = z.max(0.0);
                }
            }
            Activation::LeakyRelu { slope } => {
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = if z > 0.0 { z } else { slope * z };
                }
            }
            Activation::Softmax => {
                for (y, z) in y.chunks_exact_mut(n_units).zip(z.chunks_exact(n_units)) {
                    softmax(z, y);
                }
            }
            Activation::Step => {
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = if z > 0.0 { 1.0 } else { 0.0 };
                }
            }
            Activation::Sign => {
                for (y, &z) in y.iter_mut().zip(z) {
                    *y = if z >= 0.0 { 1.0 } else { -1.0 };
                }
            }
        }
    }

    /// `dz = dy · f'(z)` (for softmax the Jacobian-vector product per column). `step` and
    /// `sign` use the straight-through estimator; the engine refuses to train through them
    /// unless the population asked for it.
    pub fn backward(self, z: &[f32], y: &[f32], dy: &[f32], dz: &mut [f32], n_units: usize) {
        match self {
            Activation::Identity => dz.copy_from_slice(dy),
            Activation::Sigmoid => {
                for ((dz, &dy), &y) in dz.iter_mut().zip(dy).zip(y) {
                    *dz = dy * y * (1.0 - y);
                }
            }
            Activation::Tanh => {
                for ((dz, &dy), &y) in dz.iter_mut().zip(dy).zip(y) {
                    *dz = dy * (1.0 - y * y);
                }
            }
            Activation::Relu => {
                for ((dz, &dy), &z) in dz.iter_mut().zip(dy).zip(z) {
                    *dz = if z > 0.0 { dy } else { 0.0 };
                }
            }
            Activation::LeakyRelu { slope } => {
                for ((dz, &dy), &z) in dz.iter_mut().zip(dy).zip(z) {
                    *dz = if z > 0.0 { dy } else { slope * dy };
                }
            }
            Activation::Softmax => {
                for ((dz, dy), y) in dz
                    .chunks_exact_mut(n_units)
                    .zip(dy.chunks_exact(n_units))
                    .zip(y.chunks_exact(n_units))
                {
                    let dot: f32 = dy.iter().zip(y).map(|(a, b)| a * b).sum();
                    for ((dz, &dy), &y) in dz.iter_mut().zip(dy).zip(y) {
                        *dz = y * (dy - dot);
                    }
                }
            }
            Activation::Step | Activation::Sign => {
                for ((dz, &dy), &z) in dz.iter_mut().zip(dy).zip(z) {
                    *dz = if z.abs() <= 1.0 { dy } else { 0.0 };
                }
            }
        }
    }
}

/// The logistic function, written so that neither branch overflows.
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Softmax of one column, shifted by its maximum so large logits do not overflow.
pub fn softmax(z: &[f32], y: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for (y, &z) in y.iter_mut().zip(z) {
        *y = (z - max).exp();
        sum += *y;
    }
    let inv = 1.0 / sum;
    y.iter_mut().for_each(|y| *y *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_name_has_a_function() {
        for name in NAMES {
            let a = Activation::from_name(name, 0.01).expect(name);
            assert_eq!(a.forward_only(), FORWARD_ONLY.contains(name), "{name}");
        }
        assert_eq!(Activation::from_name("swish", 0.01), None);
    }

    #[test]
    fn softmax_is_stable_for_huge_logits() {
        let mut y = [0.0; 3];
        Activation::Softmax.forward(&[1000.0, 1000.0, -1000.0], &mut y, 3);
        assert!((y[0] - 0.5).abs() < 1e-6 && (y[1] - 0.5).abs() < 1e-6 && y[2] == 0.0);
        assert!(sigmoid(-1000.0) == 0.0 && sigmoid(1000.0) == 1.0);
    }
}
