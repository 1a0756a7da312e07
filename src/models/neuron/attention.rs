//! `attention`: multi-head scaled dot-product self-attention over the steps of a sequence
//! (Vaswani et al. 2017), with learned query, key, value and output projections.
//!
//! A population of `d` units takes the `d`-wide sum of its incoming projections at every
//! step as its tokens `x_1 … x_T` (plus a sinusoidal position code unless
//! `positions = none`), and for each of `heads` heads of width `d / heads`:
//!
//! ```text
//! q = W_q x + b_q,  k = W_k x + b_k,  v = W_v x + b_v
//! a_ij = softmax_j(q_i · k_j / √(d/heads))      (j ≤ i only if causal)
//! y_i = W_o concat_heads(Σ_j a_ij v_j) + b_o
//! ```
//!
//! Residual connections and layer normalisation are separate populations
//! (`identity` projections into a `layer_norm` population).

use super::{NeuronInfo, ParamProblem, RateMemory, Runs};
use crate::models::{ParamKind, ParamSpec, Range};

pub static POSITIONS: &[&str] = &["sinusoidal", "none"];

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "heads",
        kind: ParamKind::Integer {
            default: Some(1),
            range: Range::Positive,
        },
        doc: "attention heads; must divide the population size",
    },
    ParamSpec {
        name: "causal",
        kind: ParamKind::Flag { default: false },
        doc: "a step attends only to itself and earlier steps",
    },
    ParamSpec {
        name: "positions",
        kind: ParamKind::Choice {
            options: POSITIONS,
            default: Some("sinusoidal"),
        },
        doc: "position code added to the tokens before attention",
    },
];

pub static INFO: NeuronInfo = NeuronInfo {
    check: Some(heads_divide_width),
    whole_sequence: true,
    ..NeuronInfo::rate(
        "attention",
        Runs::Unit,
        "multi-head self-attention over the steps of a sequence",
        PARAMS,
        RateMemory {
            per_column: |d, steps, param| {
                13.0 * d as f64 + param("heads").unwrap_or(1.0) * steps as f64
            },
            learned: |d| 4.0 * (d * d + d) as f64,
        },
    )
};

fn heads_divide_width(
    size: usize,
    number: &dyn Fn(&str) -> Option<f64>,
) -> Result<(), ParamProblem> {
    let heads = number("heads").unwrap_or(1.0) as usize;
    if heads > 0 && size.is_multiple_of(heads) {
        return Ok(());
    }
    Err(ParamProblem {
        param: "heads",
        message: format!("{heads} heads do not divide the {size} units"),
        help: "each head takes an equal share of the units: choose a divisor of the size".into(),
    })
}
