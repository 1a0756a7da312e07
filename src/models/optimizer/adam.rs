//! `adam`: Adam (Kingma & Ba 2015), as PyTorch's `torch.optim.Adam` without `amsgrad`.
//!
//! With g = ∇ + weight_decay·p, at step t: the `exp_avg` m ← β1·m + (1 − β1)·g, the
//! `exp_avg_sq` v ← β2·v + (1 − β2)·g², p ← p − lr/(1 − β1^t) · m / (sqrt(v/(1 − β2^t)) + eps).
//! `adamw` (`adamw.rs`) runs the same update with the weight decay decoupled.

use super::{Args, BETA1, BETA2, EPS, OptimizerInfo, Step, Update, WEIGHT_DECAY, learning_rate};

pub static INFO: OptimizerInfo = OptimizerInfo {
    name: "adam",
    params: &[learning_rate(1e-3), BETA1, BETA2, EPS, WEIGHT_DECAY],
    state: STATE,
    tensor_state: &[],
    build,
};

/// Adam's per-element state (also `adamw`'s).
pub(super) const STATE: &[&str] = &["exp_avg", "exp_avg_sq"];

/// How `weight_decay` enters the update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decay {
    /// Added to the gradient as weight_decay·p (`adam`).
    L2,
    /// The parameters shrink by the factor 1 − lr·weight_decay before the step (`adamw`,
    /// Loshchilov & Hutter 2019).
    Decoupled,
}

#[derive(Debug)]
struct Adam {
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    decay: Decay,
}

fn build(args: &Args) -> Result<Box<dyn Update>, String> {
    configured(args, Decay::L2)
}

/// Adam from `args`, its weight decay entering as `decay`.
pub(super) fn configured(args: &Args, decay: Decay) -> Result<Box<dyn Update>, String> {
    Ok(Box::new(Adam {
        beta1: args.number("beta1")?,
        beta2: args.number("beta2")?,
        eps: args.number("eps")?,
        weight_decay: args.number("weight_decay")?,
        decay,
    }))
}

impl Update for Adam {
    fn state_names(&self) -> &'static [&'static str] {
        STATE
    }

    fn step(&self, at: &Step, params: &mut [f32], grads: &[f32], state: &mut [&mut [f32]]) {
        let [m, v] = state else {
            panic!("adam keeps two state tensors");
        };
        let Adam {
            beta1,
            beta2,
            eps,
            weight_decay,
            decay,
        } = *self;
        let lr = at.lr;
        let t = at.t.min(i32::MAX as u64) as i32;
        let bias1 = 1.0 - beta1.powi(t);
        let bias2_sqrt = (1.0 - beta2.powi(t)).sqrt();
        let (l2, shrink) = match decay {
            Decay::Decoupled => (0.0, 1.0 - lr * weight_decay),
            Decay::L2 => (weight_decay, 1.0),
        };
        let constants = AdamStep {
            beta1,
            beta2,
            step_size: lr / bias1,
            inv_bias2_sqrt: 1.0 / bias2_sqrt,
            eps,
            l2,
            shrink,
        };
        adam(&constants, params, grads, m, v);
    }
}

/// The per-step constants of Adam's update.
struct AdamStep {
    beta1: f32,
    beta2: f32,
    step_size: f32,
    inv_bias2_sqrt: f32,
    eps: f32,
    l2: f32,
    shrink: f32,
}

/// Adam's elementwise update, compiled for the widest vector unit the CPU has. The
/// arithmetic is the same in every version (Rust never fuses a multiply and an add on its
/// own), so the result does not depend on which one runs.
fn adam(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F, checked just above.
            unsafe { adam_avx512(c, params, grads, m, v) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { adam_avx2(c, params, grads, m, v) };
            return;
        }
    }
    adam_kernel(c, params, grads, m, v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn adam_avx512(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_kernel(c, params, grads, m, v);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn adam_avx2(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    adam_kernel(c, params, grads, m, v);
}

#[inline(always)]
fn adam_kernel(c: &AdamStep, params: &mut [f32], grads: &[f32], m: &mut [f32], v: &mut [f32]) {
    let n = params.len();
    let (grads, m, v) = (&grads[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let p = params[i];
        let g = grads[i] + c.l2 * p;
        let mi = c.beta1 * m[i] + (1.0 - c.beta1) * g;
        let vi = c.beta2 * v[i] + (1.0 - c.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        params[i] = p * c.shrink - c.step_size * mi / (vi.sqrt() * c.inv_bias2_sqrt + c.eps);
    }
}
