//! `sgd`: stochastic gradient descent with optional (Nesterov) momentum, as PyTorch's
//! `torch.optim.SGD` with `dampening = 0`.
//!
//! With g = ∇ + weight_decay·p: without momentum p ← p − lr·g and no state; with momentum
//! the `momentum_buffer` b ← g on the first step and momentum·b + g after, and
//! p ← p − lr·(nesterov ? g + momentum·b : b).

use super::{Args, OptimizerInfo, Step, Update, WEIGHT_DECAY, learning_rate, num};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: OptimizerInfo = OptimizerInfo {
    name: "sgd",
    params: &[
        learning_rate(0.01),
        num("momentum", 0.0, Range::Between(0.0, 1.0), "momentum factor"),
        ParamSpec {
            name: "nesterov",
            kind: ParamKind::Flag { default: false },
            doc: "Nesterov momentum",
        },
        WEIGHT_DECAY,
    ],
    state: &["momentum_buffer"],
    tensor_state: &[],
    build,
};

#[derive(Debug)]
struct Sgd {
    momentum: f32,
    nesterov: bool,
    weight_decay: f32,
}

fn build(args: &Args) -> Result<Box<dyn Update>, String> {
    Ok(Box::new(Sgd {
        momentum: args.number("momentum")?,
        nesterov: args.flag("nesterov")?,
        weight_decay: args.number("weight_decay")?,
    }))
}

impl Update for Sgd {
    fn state_names(&self) -> &'static [&'static str] {
        if self.momentum == 0.0 {
            &[]
        } else {
            INFO.state
        }
    }

    fn step(&self, at: &Step, params: &mut [f32], grads: &[f32], state: &mut [&mut [f32]]) {
        let (lr, momentum, weight_decay) = (at.lr, self.momentum, self.weight_decay);
        if momentum == 0.0 {
            for (p, &g) in params.iter_mut().zip(grads) {
                *p -= lr * (g + weight_decay * *p);
            }
            return;
        }
        let [buffer] = state else {
            panic!("sgd with momentum keeps one state tensor");
        };
        for ((p, &g), b) in params.iter_mut().zip(grads).zip(buffer.iter_mut()) {
            let g = g + weight_decay * *p;
            *b = if at.t == 1 { g } else { momentum * *b + g };
            let d = if self.nesterov { g + momentum * *b } else { *b };
            *p -= lr * d;
        }
    }
}
