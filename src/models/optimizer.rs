//! Optimizers for rate-mode training: the registry of names and parameters.
//!
//! `sgd(lr, momentum, nesterov)`, `adagrad`, `rmsprop`, `adam`, `adamw`; every optimizer
//! takes `weight_decay` (L2 added to the gradient; decoupled for `adamw`). Defaults follow PyTorch.

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
