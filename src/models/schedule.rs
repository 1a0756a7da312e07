//! Learning-rate schedules for rate-mode training: the registry of names and parameters, and
//! the learning rate of every epoch as a pure function.
//!
//! `schedule = step(every = 10, gamma = 0.5)` in a `train { ... }` block; `warmup = N` is a
//! separate option of the block that works with any schedule (or none). With `lr` the
//! optimizer's learning rate and `e` the 0-based epoch index counted from the end of warmup:
//!
//! | name | parameters (defaults) | learning rate at `e` | PyTorch |
//! | --- | --- | --- | --- |
//! | `step` | `every` (required), `gamma = 0.1` | lr · gamma^⌊e / every⌋ | `StepLR(step_size, gamma)` |
//! | `cosine` | `epochs` (train epochs − warmup), `min_lr = 0` | min_lr + (lr − min_lr)·(1 + cos(π·e / epochs))/2 for e ≤ epochs, then min_lr | `CosineAnnealingLR(T_max, eta_min)` |
//! | `exponential` | `gamma` (required) | lr · gamma^e | `ExponentialLR(gamma)` |
//!
//! Warmup: epoch k = 1..=warmup trains with lr · k / warmup (a linear ramp that reaches `lr` in
//! the last warmup epoch); the schedule then starts at its own epoch 0. Unlike PyTorch's
//! closed form, `cosine` stays at `min_lr` after its `epochs` instead of rising again (as
//! Keras' `CosineDecay` does). Rates change once per epoch, never within one.

use super::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

#[derive(Debug)]
pub struct ScheduleInfo {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    /// Parameters without a default that may be left out (their value is derived).
    pub optional: &'static [&'static str],
}

pub static REGISTRY: &[ScheduleInfo] = &[
    ScheduleInfo {
        name: "step",
        params: &[
            ParamSpec {
                name: "every",
                kind: ParamKind::Integer {
                    default: None,
                    range: Range::Positive,
                },
                doc: "epochs between two decays",
            },
            ParamSpec::scalar(
                "gamma",
                Dim::NONE,
                0.1,
                Range::Positive,
                "factor applied to the learning rate at every decay",
            ),
        ],
        optional: &[],
    },
    ScheduleInfo {
        name: "cosine",
        params: &[
            ParamSpec {
                name: "epochs",
                kind: ParamKind::Integer {
                    default: None,
                    range: Range::Positive,
                },
                doc: "epochs from `lr` down to `min_lr` (default: the training epochs after warmup)",
            },
            ParamSpec::scalar(
                "min_lr",
                Dim::NONE,
                0.0,
                Range::NonNegative,
                "learning rate at the end of the half cosine",
            ),
        ],
        optional: &["epochs"],
    },
    ScheduleInfo {
        name: "exponential",
        params: &[ParamSpec {
            name: "gamma",
            kind: ParamKind::Quantity {
                dim: Dim::NONE,
                default: None,
                range: Range::Positive,
                per_element: false,
            },
            doc: "factor applied to the learning rate after every epoch",
        }],
        optional: &[],
    },
];

pub fn find(name: &str) -> Option<&'static ScheduleInfo> {
    REGISTRY.iter().find(|s| s.name == name)
}

/// A configured schedule: one registry entry with its arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    Step {
        every: usize,
        gamma: f64,
    },
    /// `epochs: None` anneals over the training epochs that follow warmup.
    Cosine {
        epochs: Option<usize>,
        min_lr: f64,
    },
    Exponential {
        gamma: f64,
    },
}

/// Numeric arguments of a schedule call by name; missing ones take the registry default.
pub type Args<'a> = &'a dyn Fn(&str) -> Option<f64>;

impl Schedule {
    /// The schedule `name` with the given arguments; `None` for an unknown name or a missing
    /// required argument (the checker reports both before this is called).
    pub fn from_args(name: &str, args: Args) -> Option<Schedule> {
        let info = find(name)?;
        let get = |param: &str| -> Option<f64> {
            args(param).or_else(|| super::find_param(info.params, param)?.default_number())
        };
        Some(match name {
            "step" => Schedule::Step {
                every: get("every")? as usize,
                gamma: get("gamma")?,
            },
            "cosine" => Schedule::Cosine {
                epochs: get("epochs").map(|e| e as usize),
                min_lr: get("min_lr")?,
            },
            "exponential" => Schedule::Exponential {
                gamma: get("gamma")?,
            },
            _ => return None,
        })
    }

    /// The learning rate `e` epochs (0-based) after the schedule started; `span` is what
    /// `cosine` anneals over when its `epochs` is not given.
    pub fn at(&self, lr: f64, e: usize, span: usize) -> f64 {
        match *self {
            Schedule::Step { every, gamma } => lr * gamma.powi(exponent(e / every.max(1))),
            Schedule::Cosine { epochs, min_lr } => {
                let t_max = epochs.unwrap_or(span).max(1);
                if e >= t_max {
                    return min_lr;
                }
                let phase = std::f64::consts::PI * e as f64 / t_max as f64;
                min_lr + (lr - min_lr) * (1.0 + phase.cos()) / 2.0
            }
            Schedule::Exponential { gamma } => lr * gamma.powi(exponent(e)),
        }
    }
}

fn exponent(n: usize) -> i32 {
    n.min(i32::MAX as usize) as i32
}

/// The learning rate of epoch `epoch` (1-based) of a run of `epochs` epochs whose optimizer
/// was given `lr`: linear warmup over the first `warmup` epochs, then `schedule` (constant
/// without one).
pub fn learning_rate(
    schedule: Option<&Schedule>,
    warmup: usize,
    lr: f64,
    epoch: usize,
    epochs: usize,
) -> f64 {
    let epoch = epoch.max(1);
    if epoch <= warmup {
        return lr * epoch as f64 / warmup as f64;
    }
    let e = epoch - 1 - warmup;
    match schedule {
        Some(s) => s.at(lr, e, epochs.saturating_sub(warmup)),
        None => lr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    fn make(name: &str, args: &[(&str, f64)]) -> Schedule {
        let lookup = |k: &str| args.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        Schedule::from_args(name, &lookup).expect(name)
    }

    #[test]
    fn step_decays_every_so_many_epochs_like_step_lr() {
        let s = make("step", &[("every", 10.0), ("gamma", 0.5)]);
        assert_eq!(
            s,
            Schedule::Step {
                every: 10,
                gamma: 0.5
            }
        );
        // Epochs 1..=10 at lr, 11..=20 at lr/2, 21 at lr/4 (StepLR's e = 0..9, 10..19, 20).
        let lr = |epoch| learning_rate(Some(&s), 0, 0.1, epoch, 50);
        assert!(close(lr(1), 0.1));
        assert!(close(lr(10), 0.1));
        assert!(close(lr(11), 0.05));
        assert!(close(lr(20), 0.05));
        assert!(close(lr(21), 0.025));
        // gamma defaults to PyTorch's 0.1.
        assert_eq!(
            make("step", &[("every", 3.0)]),
            Schedule::Step {
                every: 3,
                gamma: 0.1
            }
        );
    }

    #[test]
    fn cosine_anneals_to_min_lr_like_cosine_annealing_lr() {
        let s = make("cosine", &[("epochs", 4.0), ("min_lr", 0.01)]);
        let lr = |epoch| learning_rate(Some(&s), 0, 0.1, epoch, 100);
        // e = 0: lr; e = 1: 0.01 + 0.09·(1 + cos(π/4))/2; e = 2: the midpoint 0.055; e = 4: min_lr.
        assert!(close(lr(1), 0.1));
        let quarter = 0.01 + 0.09 * (1.0 + std::f64::consts::FRAC_1_SQRT_2) / 2.0;
        assert!(close(lr(2), quarter));
        assert!(close(lr(3), 0.055));
        assert!(close(lr(5), 0.01));
        // After `epochs` it stays at min_lr.
        assert!(close(lr(9), 0.01));
        // Without `epochs` it spans the training run after warmup: 10 epochs, 2 of warmup → 8.
        let s = make("cosine", &[]);
        assert_eq!(
            s,
            Schedule::Cosine {
                epochs: None,
                min_lr: 0.0
            }
        );
        assert!(close(learning_rate(Some(&s), 2, 1.0, 3, 10), 1.0));
        assert!(close(learning_rate(Some(&s), 2, 1.0, 7, 10), 0.5));
    }

    #[test]
    fn exponential_multiplies_every_epoch() {
        let s = make("exponential", &[("gamma", 0.95)]);
        let lr = |epoch| learning_rate(Some(&s), 0, 0.2, epoch, 10);
        assert!(close(lr(1), 0.2));
        assert!(close(lr(2), 0.19));
        assert!(close(lr(4), 0.2 * 0.857375));
        // gamma is required.
        assert!(Schedule::from_args("exponential", &|_| None).is_none());
    }

    #[test]
    fn warmup_ramps_linearly_then_hands_over_to_the_schedule() {
        let s = make("step", &[("every", 2.0), ("gamma", 0.5)]);
        let lr = |epoch| learning_rate(Some(&s), 4, 0.1, epoch, 20);
        assert!(close(lr(1), 0.025));
        assert!(close(lr(2), 0.05));
        assert!(close(lr(4), 0.1));
        // The schedule's epochs 0, 1 are epochs 5, 6; its first decay comes at epoch 7.
        assert!(close(lr(5), 0.1));
        assert!(close(lr(6), 0.1));
        assert!(close(lr(7), 0.05));
        // Warmup without a schedule, and neither.
        assert!(close(learning_rate(None, 2, 0.1, 1, 5), 0.05));
        assert!(close(learning_rate(None, 2, 0.1, 3, 5), 0.1));
        assert!(close(learning_rate(None, 0, 0.1, 1, 5), 0.1));
    }

    #[test]
    fn every_registered_schedule_builds_from_its_required_arguments() {
        for info in REGISTRY {
            let required: Vec<(&str, f64)> = info
                .params
                .iter()
                .filter(|p| !info.optional.contains(&p.name))
                .filter(|p| {
                    matches!(
                        p.kind,
                        ParamKind::Integer { default: None, .. }
                            | ParamKind::Quantity { default: None, .. }
                    )
                })
                .map(|p| (p.name, 2.0))
                .collect();
            let s = make(info.name, &required);
            let lr = s.at(1.0, 0, 10);
            assert!(close(lr, 1.0), "{}: first epoch runs at lr", info.name);
        }
    }
}
