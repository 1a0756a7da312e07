//! Rate-mode loss functions (registry of names; the rate engine implements them).
//!
//! `cross_entropy` expects a `softmax` output and is fused with it (numerically stable
//! log-sum-exp); `binary_cross_entropy` expects `sigmoid` outputs.

pub static NAMES: &[&str] = &["mse", "cross_entropy", "binary_cross_entropy", "smooth_l1"];
