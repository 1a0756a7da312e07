//! `lstm`: long short-term memory units (Hochreiter & Schmidhuber 1997, with the forget gate
//! of Gers et al. 2000), the gate layout of PyTorch's `nn.LSTM`.
//!
//! For a population of `H` units the incoming projections deliver `4H` rows, the
//! pre-activations of the input, forget, cell and output gates (in that order), to which the
//! population adds its own recurrent term and bias:
//!
//! ```text
//! [i f g o] = W x_t + U h_{t-1} + b
//! c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)        h_t = σ(o) ⊙ tanh(c_t)
//! ```
//!
//! `U` (`4H × H`) is internal: the population is recurrent without a `h -> h` projection.

use super::{NeuronInfo, RateMemory, Runs};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[ParamSpec::scalar(
    "forget_bias",
    Dim::NONE,
    1.0,
    Range::Any,
    "initial bias of the forget gate (Jozefowicz et al. 2015; Keras' unit_forget_bias)",
)];

pub static INFO: NeuronInfo = NeuronInfo::rate(
    "lstm",
    Runs::Unit,
    "long short-term memory units over the steps of a sequence",
    PARAMS,
    RateMemory {
        per_column: |h, _, _| 17.0 * h as f64,
        learned: |h| 4.0 * (h * h + h) as f64,
    },
);
