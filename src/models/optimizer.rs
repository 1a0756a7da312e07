//! Optimizers for rate-mode training: the registry of names and parameters.
//!
//! `sgd(lr, momentum, nesterov)`, `adagrad`, `rmsprop`, `adam`, `adamw`; every optimizer
//! takes `weight_decay` (L2 added to the gradient; decoupled for `adamw`). Defaults follow PyTorch.
//!
//! Update rules, as in PyTorch's `torch.optim` (g = gradient + weight_decay · p unless noted):
//!
//! | name | state | update |
//! | --- | --- | --- |
//! | `sgd` | b (momentum ≠ 0) | b ← g (first step) or momentum·b + g; p ← p − lr·(nesterov ? g + momentum·b : b) |
//! | `adagrad` | s | s ← s + g²; p ← p − lr·g / (sqrt(s) + eps) |
//! | `rmsprop` | v | v ← alpha·v + (1 − alpha)·g²; p ← p − lr·g / (sqrt(v) + eps) |
//! | `adam` | m, v | m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − lr/(1 − β1^t) · m / (sqrt(v/(1 − β2^t)) + eps) |
//! | `adamw` | m, v | p ← p·(1 − lr·weight_decay), then `adam` without weight decay |
//!
//! [`Optimizer::step`] is elementwise, so the engine may apply it to chunks of a parameter
//! tensor on several threads and get the same bits as on one.

use super::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

#[derive(Debug)]
pub struct OptimizerInfo {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
}

const fn num(name: &'static str, default: f64, range: Range, doc: &'static str) -> ParamSpec {
    ParamSpec::scalar(name, Dim::NONE, default, range, doc)
}

const LR: ParamSpec = num("lr", 0.01, Range::Positive, "learning rate");
const WEIGHT_DECAY: ParamSpec = num("weight_decay", 0.0, Range::NonNegative, "L2 penalty");
const EPS: ParamSpec = num(
    "eps",
    1e-8,
    Range::Positive,
    "term added to the denominator",
);

pub static REGISTRY: &[OptimizerInfo] = &[
    OptimizerInfo {
        name: "sgd",
        params: &[
            LR,
            num("momentum", 0.0, Range::Between(0.0, 1.0), "momentum factor"),
            ParamSpec {
                name: "nesterov",
                kind: ParamKind::Flag { default: false },
                doc: "Nesterov momentum",
            },
            WEIGHT_DECAY,
        ],
    },
    OptimizerInfo {
        name: "adagrad",
        params: &[LR, EPS, WEIGHT_DECAY],
    },
    OptimizerInfo {
        name: "rmsprop",
        params: &[
            LR,
            num(
                "alpha",
                0.99,
                Range::Between(0.0, 1.0),
                "smoothing constant",
            ),
            EPS,
            WEIGHT_DECAY,
        ],
    },
    OptimizerInfo {
        name: "adam",
        params: &[
            num("lr", 1e-3, Range::Positive, "learning rate"),
            num("beta1", 0.9, Range::Between(0.0, 1.0), "first-moment decay"),
            num(
                "beta2",
                0.999,
                Range::Between(0.0, 1.0),
                "second-moment decay",
            ),
            EPS,
            WEIGHT_DECAY,
        ],
    },
    OptimizerInfo {
        name: "adamw",
        params: &[
            num("lr", 1e-3, Range::Positive, "learning rate"),
            num("beta1", 0.9, Range::Between(0.0, 1.0), "first-moment decay"),
            num(
                "beta2",
                0.999,
                Range::Between(0.0, 1.0),
                "second-moment decay",
            ),
            EPS,
            num(
                "weight_decay",
                0.01,
                Range::NonNegative,
                "decoupled weight decay",
            ),
        ],
    },
];

pub fn find(name: &str) -> Option<&'static OptimizerInfo> {
    REGISTRY.iter().find(|o| o.name == name)
}

/// A configured optimizer: the update rule of one registry entry with its hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    Sgd {
        lr: f32,
        momentum: f32,
        nesterov: bool,
        weight_decay: f32,
    },
    Adagrad {
        lr: f32,
        eps: f32,
        weight_decay: f32,
    },
    RmsProp {
        lr: f32,
        alpha: f32,
        eps: f32,
        weight_decay: f32,
    },
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: f32,
        decoupled: bool,
    },
}

/// Numeric and flag arguments of an optimizer call by name (`lr`, `momentum`, `nesterov`
/// as 0/1); missing ones take the registry default.
pub type Args<'a> = &'a dyn Fn(&str) -> Option<f64>;

impl Optimizer {
    /// The optimizer `name` with the given arguments; `None` for an unknown name.
    pub fn from_args(name: &str, args: Args) -> Option<Optimizer> {
        let info = find(name)?;
        let get = |param: &str| -> f32 {
            if let Some(x) = args(param) {
                return x as f32;
            }
            match info.params.iter().find(|p| p.name == param).map(|p| p.kind) {
                Some(ParamKind::Quantity {
                    default: Some(d), ..
                }) => d as f32,
                Some(ParamKind::Flag { default }) => f32::from(u8::from(default)),
                _ => 0.0,
            }
        };
        let weight_decay = get("weight_decay");
        Some(match name {
            "sgd" => Optimizer::Sgd {
                lr: get("lr"),
                momentum: get("momentum"),
                nesterov: get("nesterov") != 0.0,
                weight_decay,
            },
            "adagrad" => Optimizer::Adagrad {
                lr: get("lr"),
                eps: get("eps"),
                weight_decay,
            },
            "rmsprop" => Optimizer::RmsProp {
                lr: get("lr"),
                alpha: get("alpha"),
                eps: get("eps"),
                weight_decay,
            },
            "adam" | "adamw" => Optimizer::Adam {
                lr: get("lr"),
                beta1: get("beta1"),
                beta2: get("beta2"),
                eps: get("eps"),
                weight_decay,
                decoupled: name == "adamw",
            },
            _ => return None,
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f32 {
        match *self {
            Optimizer::Sgd { lr, .. }
            | Optimizer::Adagrad { lr, .. }
            | Optimizer::RmsProp { lr, .. }
            | Optimizer::Adam { lr, .. } => lr,
        }
    }

    /// The same optimizer with another learning rate (what a schedule sets every epoch).
    pub fn with_lr(mut self, new: f32) -> Optimizer {
        match &mut self {
            Optimizer::Sgd { lr, .. }
            | Optimizer::Adagrad { lr, .. }
            | Optimizer::RmsProp { lr, .. }
            | Optimizer::Adam { lr, .. } => *lr = new,
        }
        self
    }

    /// How many state values the optimizer keeps per parameter (0, 1 or 2).
    pub fn state_slots(&self) -> usize {
        match self {
            Optimizer::Sgd { momentum, .. } => usize::from(*momentum != 0.0),
            Optimizer::Adagrad { .. } | Optimizer::RmsProp { .. } => 1,
            Optimizer::Adam { .. } => 2,
        }
    }

    /// One update of `params` from `grads`; `step` counts from 1. `first` and `second` are
    /// the state slots (empty slices when the optimizer keeps fewer).
    pub fn step(
        &self,
        step: u64,
        params: &mut [f32],
        grads: &[f32],
        first: &mut [f32],
        second: &mut [f32],
    ) {
        match *self {
            Optimizer::Sgd {
                lr,
                momentum,
                nesterov,
                weight_decay,
            } => {
                if momentum == 0.0 {
                    for (p, &g) in params.iter_mut().zip(grads) {
                        *p -= lr * (g + weight_decay * *p);
                    }
                    return;
                }
                for ((p, &g), b) in params.iter_mut().zip(grads).zip(first.iter_mut()) {
                    let g = g + weight_decay * *p;
                    *b = if step == 1 { g } else { momentum * *b + g };
                    let d = if nesterov { g + momentum * *b } else { *b };
                    *p -= lr * d;
                }
            }
            Optimizer::Adagrad {
                lr,
                eps,
                weight_decay,
            } => {
                for ((p, &g), s) in params.iter_mut().zip(grads).zip(first.iter_mut()) {
                    let g = g + weight_decay * *p;
                    *s += g * g;
                    *p -= lr * g / (s.sqrt() + eps);
                }
            }
            Optimizer::RmsProp {
                lr,
                alpha,
                eps,
                weight_decay,
            } => {
                for ((p, &g), v) in params.iter_mut().zip(grads).zip(first.iter_mut()) {
                    let g = g + weight_decay * *p;
                    *v = alpha * *v + (1.0 - alpha) * g * g;
                    *p -= lr * g / (v.sqrt() + eps);
                }
            }
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                decoupled,
            } => {
                let t = step.min(i32::MAX as u64) as i32;
                let bias1 = 1.0 - beta1.powi(t);
                let bias2_sqrt = (1.0 - beta2.powi(t)).sqrt();
                let (l2, shrink) = if decoupled {
                    (0.0, 1.0 - lr * weight_decay)
                } else {
                    (weight_decay, 1.0)
                };
                let constants = AdamStep {
                    beta1,
                    beta2,
                    step_size: lr / bias1,
                    inv_bias2_sqrt: 1.0 / bias2_sqrt,
                    eps,
                    l2,
                    shrink,
                };
                adam(&constants, params, grads, first, second);
            }
        }
    }
}

/// The per-step constants of Adam's update.
struct AdamStep {
    beta1: f32,
    beta2: f32,
    step_size: f32,
    inv_bias2_sqrt: f32,
    eps: f32,
    l2: f32,
    shrink: f32,
}

/// Adam's elementwise update, compiled for the widest vector unit the CPU has. The
/// arithmetic is the same in every version (Rust never fuses a multiply and an add on its
/// own), so the result does not depend on which one runs.
fn adam(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { adam_avx512(c, params, grads, m, v) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { adam_avx2(c, params, grads, m, v) };
            return;
        }
    }
    adam_kernel(c, params, grads, m, v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn adam_avx512(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_kernel(c, params, grads, m, v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn adam_avx2(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_kernel(c, params, grads, m, v);
}

#[inline(always)]
fn adam_kernel(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = params.len();
    let (grads, m, v) = (&grads[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let p = params[i];
        let g = grads[i] + c.l2 * p;
        let mi = c.beta1 * m[i] + (1.0 - c.beta1) * g;
        let vi = c.beta2 * v[i] + (1.0 - c.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = p * c.shrink - c.step_size * mi / (vi.sqrt() * c.inv_bias2_sqrt + c.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(name: &str, args: &[(&str, f64)]) -> Optimizer {
        let lookup = |k: &str| args.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        Optimizer::from_args(name, &lookup).expect(name)
    }

    fn run(opt: Optimizer, p0: f32, grads: &[f32]) -> f32 {
        let (mut p, mut a, mut b) = ([p0], [0.0f32], [0.0f32]);
        for (t, &g) in grads.iter().enumerate() {
            let (a, b) = (
                &mut a[..opt.state_slots().min(1)],
                &mut b[..opt.state_slots().saturating_sub(1)],
            );
            opt.step(t as u64 + 1, &mut p, &[g], a, b);
        }
        p[0]
    }

    #[test]
    fn defaults_follow_pytorch() {
        assert_eq!(
            make("adam", &[]),
            Optimizer::Adam {
                lr: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.0,
                decoupled: false
            }
        );
        assert_eq!(make("adamw", &[]).state_slots(), 2);
        assert_eq!(make("sgd", &[]).state_slots(), 0);
        assert!(Optimizer::from_args("lbfgs", &|_| None).is_none());
    }

    #[test]
    fn with_lr_changes_the_learning_rate_only() {
        let opt = make("rmsprop", &[("lr", 0.1), ("alpha", 0.5)]);
        let slower = opt.with_lr(0.05);
        assert_eq!(slower.lr(), 0.05);
        assert_eq!(opt.lr(), 0.1);
        assert_eq!(slower, make("rmsprop", &[("lr", 0.05), ("alpha", 0.5)]));
    }

    #[test]
    fn sgd_with_momentum_and_decay_matches_hand_computation() {
        // p=1, g=0.5, wd=0.1 → g'=0.6, b=0.6, p=1-0.1*0.6=0.94; then g'=0.5+0.094=0.594,
        // b=0.9*0.6+0.594=1.134, p=0.94-0.1134=0.8266.
        let opt = make(
            "sgd",
            &[("lr", 0.1), ("momentum", 0.9), ("weight_decay", 0.1)],
        );
        assert!((run(opt, 1.0, &[0.5, 0.5]) - 0.8266).abs() < 1e-6);
        // Nesterov: first step d = g + 0.9 g = 1.9·0.5 = 0.95 → p = 1 - 0.095.
        let opt = make("sgd", &[("lr", 0.1), ("momentum", 0.9), ("nesterov", 1.0)]);
        assert!((run(opt, 1.0, &[0.5]) - 0.905).abs() < 1e-6);
    }

    #[test]
    fn adaptive_optimizers_match_hand_computation() {
        // Adam's first step moves by lr·sign(g) (bias correction makes m̂/sqrt(v̂) = 1).
        let opt = make("adam", &[("lr", 0.01)]);
        assert!((run(opt, 1.0, &[3.0]) - 0.99).abs() < 1e-6);
        // Second step with g = 3 then 1: m = 0.9·0.3 + 0.1 = 0.37, v = 0.999·0.009 + 0.001 = 0.009991,
        // m̂ = 0.37/0.19, v̂ = 0.009991/0.001999.
        let expected = 0.99 - 0.01 * (0.37 / 0.19) / ((0.009991f64 / 0.001999).sqrt() + 1e-8);
        assert!((f64::from(run(opt, 1.0, &[3.0, 1.0])) - expected).abs() < 1e-6);
        // AdamW shrinks first: 1·(1 - 0.01·0.5) - 0.01.
        let opt = make("adamw", &[("lr", 0.01), ("weight_decay", 0.5)]);
        assert!((run(opt, 1.0, &[3.0]) - 0.985).abs() < 1e-6);
        // Adagrad: s = 4, p = 1 - 0.1·2/2 = 0.9.
        let opt = make("adagrad", &[("lr", 0.1)]);
        assert!((run(opt, 1.0, &[2.0]) - 0.9).abs() < 1e-6);
        // RMSprop: v = 0.01·4 = 0.04, p = 1 - 0.01·2/0.2 = 0.9.
        let opt = make("rmsprop", &[("lr", 0.01)]);
        assert!((run(opt, 1.0, &[2.0]) - 0.9).abs() < 1e-5);
    }
}
