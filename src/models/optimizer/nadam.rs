//! `nadam`: Adam with Nesterov momentum (Dozat 2016), as PyTorch's `torch.optim.NAdam`
//! (`_single_tensor_nadam`, weight decay added to the gradient, not decoupled).
//!
//! With g = ∇ + weight_decay·p, at step t (from 1) the momentum coefficient is
//! μ_t = β1·(1 − ½·0.96^(t·momentum_decay)), and the tensor's scalar `mu_product` holds
//! Π_{i≤t} μ_i. The `exp_avg` m ← m + (1 − β1)·(g − m) (PyTorch's `lerp`), the `exp_avg_sq`
//! v ← β2·v + (1 − β2)·g², d = sqrt(v / (1 − β2^t)) + eps, and
//!
//! p ← p − lr·(1 − μ_t) / (1 − Π_{i≤t} μ_i) · g/d − lr·μ_{t+1} / (1 − Π_{i≤t+1} μ_i) · m/d.
//!
//! As in PyTorch, the per-step scalars are computed in double precision and `mu_product`
//! is kept in single precision; the elementwise update is single precision.

use super::{Args, BETA1, BETA2, EPS, OptimizerInfo, Step, Update, WEIGHT_DECAY};
use super::{learning_rate, num};
use crate::models::Range;

pub static INFO: OptimizerInfo = OptimizerInfo {
    name: "nadam",
    params: &[
        learning_rate(2e-3),
        BETA1,
        BETA2,
        EPS,
        WEIGHT_DECAY,
        num(
            "momentum_decay",
            4e-3,
            Range::NonNegative,
            "how fast the momentum coefficient rises from β1/2 to β1",
        ),
    ],
    state: &["exp_avg", "exp_avg_sq"],
    tensor_state: &["mu_product"],
    build,
};

#[derive(Debug)]
struct NAdam {
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    momentum_decay: f32,
}

fn build(args: &Args) -> Result<Box<dyn Update>, String> {
    Ok(Box::new(NAdam {
        beta1: args.number("beta1")?,
        beta2: args.number("beta2")?,
        eps: args.number("eps")?,
        weight_decay: args.number("weight_decay")?,
        momentum_decay: args.number("momentum_decay")?,
    }))
}

impl NAdam {
    /// μ_t.
    fn mu(&self, t: u64) -> f64 {
        let decay = t as f64 * f64::from(self.momentum_decay);
        f64::from(self.beta1) * (1.0 - 0.5 * 0.96f64.powf(decay))
    }
}

impl Update for NAdam {
    fn state_names(&self) -> &'static [&'static str] {
        INFO.state
    }

    fn tensor_state_names(&self) -> &'static [&'static str] {
        INFO.tensor_state
    }

    fn advance(&self, t: u64, scalars: &mut [f32]) {
        let [mu_product] = scalars else {
            panic!("nadam keeps one scalar per tensor");
        };
        // Π μ_i starts at 1 (the state is zero before the first step).
        let before = if t == 1 { 1.0 } else { *mu_product };
        *mu_product = before * self.mu(t) as f32;
    }

    fn step(&self, at: &Step, params: &mut [f32], grads: &[f32], state: &mut [&mut [f32]]) {
        let ([m, v], [mu_product]) = (state, at.scalars) else {
            panic!("nadam keeps two state tensors and one scalar");
        };
        let lr = f64::from(at.lr);
        let (mu, mu_next) = (self.mu(at.t), self.mu(at.t + 1));
        let mu_product = f64::from(*mu_product);
        let grad_step = (-lr * (1.0 - mu) / (1.0 - mu_product)) as f32;
        let avg_step = (-lr * mu_next / (1.0 - mu_product * mu_next)) as f32;
        let bias2 = (1.0 - f64::from(self.beta2).powf(at.t as f64)) as f32;
        let weight = (1.0 - f64::from(self.beta1)) as f32;
        let (beta2, rest2) = (self.beta2, (1.0 - f64::from(self.beta2)) as f32);
        let n = params.len();
        let (grads, m, v) = (&grads[..n], &mut m[..n], &mut v[..n]);
        for i in 0..n {
            let p = params[i];
            let g = grads[i] + self.weight_decay * p;
            m[i] = lerp(m[i], g, weight);
            v[i] = v[i] * beta2 + rest2 * g * g;
            let d = (v[i] / bias2).sqrt() + self.eps;
            let p = p + grad_step * g / d;
            params[i] = p + avg_step * m[i] / d;
        }
    }
}

/// `a + w·(b − a)`, rounded as PyTorch's `lerp` rounds it (from the nearer end).
fn lerp(a: f32, b: f32, w: f32) -> f32 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}
