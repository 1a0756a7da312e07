//! `dense`: rate units `y = activation(Σ_projections W x + b)`.
//!
//! Every incoming projection contributes `W x`; a population with several incoming
//! projections sums them before the activation (skip connections, merges).

use super::{NeuronInfo, RateMemory, Runs};
use crate::models::{ParamKind, ParamSpec, Range, activation};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "activation",
        kind: ParamKind::Choice {
            options: activation::NAMES,
            default: Some("identity"),
        },
        doc: "activation function",
    },
    ParamSpec {
        name: "bias",
        kind: ParamKind::FlagOrValue { default: true },
        doc: "learn a bias per unit (`true`, from zero; a number or distribution: from those values)",
    },
    ParamSpec::scalar(
        "dropout",
        Dim::NONE,
        0.0,
        Range::Between(0.0, 0.999),
        "inverted-dropout probability during training",
    ),
    ParamSpec::scalar(
        "slope",
        Dim::NONE,
        0.01,
        Range::Any,
        "negative slope of leaky_relu",
    ),
    ParamSpec {
        name: "straight_through",
        kind: ParamKind::Flag { default: false },
        doc: "train through step/sign with the straight-through estimator (gradient 1 for |x| <= 1)",
    },
];

pub static INFO: NeuronInfo = NeuronInfo::rate(
    "dense",
    Runs::Dense,
    "rate units: activation(sum of weighted inputs + bias)",
    PARAMS,
    RateMemory::plain(|size, _, _| 7.0 * size as f64),
);
