//! `adamw`: Adam with decoupled weight decay (Loshchilov & Hutter 2019), as PyTorch's
//! `torch.optim.AdamW`: p ← p·(1 − lr·weight_decay), then the `adam` update (`adam.rs`)
//! without weight decay. Its state is Adam's: `exp_avg`, `exp_avg_sq`.

use super::adam::{self, Decay};
use super::{Args, BETA1, BETA2, EPS, OptimizerInfo, Update, learning_rate, num};
use crate::models::Range;

pub static INFO: OptimizerInfo = OptimizerInfo {
    name: "adamw",
    params: &[
        learning_rate(1e-3),
        BETA1,
        BETA2,
        EPS,
        num(
            "weight_decay",
            0.01,
            Range::NonNegative,
            "decoupled weight decay",
        ),
    ],
    state: adam::STATE,
    tensor_state: &[],
    build,
};

fn build(args: &Args) -> Result<Box<dyn Update>, String> {
    adam::configured(args, Decay::Decoupled)
}
