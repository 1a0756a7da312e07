//! `gru`: gated recurrent units (Cho et al. 2014), the formulation of PyTorch's `nn.GRU`.
//!
//! For a population of `H` units the incoming projections deliver `3H` rows (reset, update
//! and candidate pre-activations, with the population's bias); the recurrent part is
//! internal:
//!
//! ```text
//! [a_r a_u a_n] = W x_t + b        [h_r h_u h_n] = U h_{t-1} + b_h
//! r = σ(a_r + h_r)   u = σ(a_u + h_u)   n = tanh(a_n + r ⊙ h_n)
//! h_t = (1 - u) ⊙ n + u ⊙ h_{t-1}
//! ```

use super::{NeuronInfo, RateMemory, Runs};
use crate::models::ParamSpec;

pub static PARAMS: &[ParamSpec] = &[];

pub static INFO: NeuronInfo = NeuronInfo::rate(
    "gru",
    Runs::Unit,
    "gated recurrent units over the steps of a sequence",
    PARAMS,
    RateMemory {
        per_column: |h, _, _| 17.0 * h as f64,
        learned: |h| 3.0 * (h * h + 2 * h) as f64,
    },
);
