//! `adagrad`: Adagrad (Duchi, Hazan & Singer 2011), as PyTorch's `torch.optim.Adagrad`
//! without learning-rate decay and with a zero initial accumulator.
//!
//! With g = ∇ + weight_decay·p: the `sum` s ← s + g², p ← p − lr·g / (sqrt(s) + eps).

use super::{Args, EPS, OptimizerInfo, Step, Update, WEIGHT_DECAY, learning_rate};

pub static INFO: OptimizerInfo = OptimizerInfo {
    name: "adagrad",
    params: &[learning_rate(0.01), EPS, WEIGHT_DECAY],
    state: &["sum"],
    tensor_state: &[],
    build,
};

#[derive(Debug)]
struct Adagrad {
    eps: f32,
    weight_decay: f32,
}

fn build(args: &Args) -> Result<Box<dyn Update>, String> {
    Ok(Box::new(Adagrad {
        eps: args.number("eps")?,
        weight_decay: args.number("weight_decay")?,
    }))
}

impl Update for Adagrad {
    fn state_names(&self) -> &'static [&'static str] {
        INFO.state
    }

    fn step(&self, at: &Step, params: &mut [f32], grads: &[f32], state: &mut [&mut [f32]]) {
        let [sum] = state else {
            panic!("adagrad keeps one state tensor");
        };
        let (lr, eps, weight_decay) = (at.lr, self.eps, self.weight_decay);
        for ((p, &g), s) in params.iter_mut().zip(grads).zip(sum.iter_mut()) {
            let g = g + weight_decay * *p;
            *s += g * g;
            *p -= lr * g / (s.sqrt() + eps);
        }
    }
}
