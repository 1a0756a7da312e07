//! `rmsprop`: RMSprop (Hinton 2012), as PyTorch's `torch.optim.RMSprop` without momentum
//! and not centred.
//!
//! With g = ∇ + weight_decay·p: the `square_avg` v ← alpha·v + (1 − alpha)·g²,
//! p ← p − lr·g / (sqrt(v) + eps).

use super::{Args, EPS, OptimizerInfo, Step, Update, WEIGHT_DECAY, learning_rate, num};
use crate::models::Range;

pub static INFO: OptimizerInfo = OptimizerInfo {
    name: "rmsprop",
    params: &[
        learning_rate(0.01),
        num(
            "alpha",
            0.99,
            Range::Between(0.0, 1.0),
            "smoothing constant",
        ),
        EPS,
        WEIGHT_DECAY,
    ],
    state: &["square_avg"],
    tensor_state: &[],
    build,
};

#[derive(Debug)]
struct RmsProp {
    alpha: f32,
    eps: f32,
    weight_decay: f32,
}

fn build(args: &Args) -> Result<Box<dyn Update>, String> {
    Ok(Box::new(RmsProp {
        alpha: args.number("alpha")?,
        eps: args.number("eps")?,
        weight_decay: args.number("weight_decay")?,
    }))
}

impl Update for RmsProp {
    fn state_names(&self) -> &'static [&'static str] {
        INFO.state
    }

    fn step(&self, at: &Step, params: &mut [f32], grads: &[f32], state: &mut [&mut [f32]]) {
        let [square_avg] = state else {
            panic!("rmsprop keeps one state tensor");
        };
        let (lr, alpha, eps, weight_decay) = (at.lr, self.alpha, self.eps, self.weight_decay);
        for ((p, &g), v) in params.iter_mut().zip(grads).zip(square_avg.iter_mut()) {
            let g = g + weight_decay * *p;
            *v = alpha * *v + (1.0 - alpha) * g * g;
            *p -= lr * g / (v.sqrt() + eps);
        }
    }
}
