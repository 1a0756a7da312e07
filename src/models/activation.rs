//! Rate-mode activation functions.
//!
//! `NAMES` is the registry the language checks against; the rate engine implements each
//! function and its derivative.

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
