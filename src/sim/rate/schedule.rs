//! What a training run does around every update besides the optimizer step, as the
//! `train { ... }` block's conveniences say: the learning rate of each epoch (schedule and
//! warmup from `models::schedule`), L1/L2 penalties, gradient clipping, and early stopping
//! on the validation loss.
//!
//! Between `Model::backward` and `Model::update`, in this order (the order of a PyTorch loop
//! whose loss includes the penalty, followed by `clip_grad_norm_` and `clip_grad_value_`):
//!
//! 1. penalties: g ← g + l1·sign(w) + 2·l2·w on every gradient-trained weight, never a bias;
//!    the reported loss includes l1·Σ|w| + l2·Σw² at the weights of the forward pass, as
//!    Keras' regularisers do;
//! 2. `clip_norm`: if the global L2 norm of every gradient (weights and biases) exceeds the
//!    limit, all of them are scaled by limit / norm (TensorFlow's `clip_by_global_norm`;
//!    PyTorch adds 1e-6 to the norm first);
//! 3. `clip_value`: every element is clamped to [−limit, limit].
//!
//! All of this runs on one thread in a fixed order (the norm is summed in f64 over the
//! tensors in `Model::trained` order), so results stay bit-identical for any thread count.

use super::model::{Model, Snapshot};
use crate::ir::{EarlyStopping, TrainOptions};
use crate::models::schedule;
use crate::sim::report::EarlyStopReport;

/// Sets the learning rate for epoch `epoch` (1-based) of `epochs`; `lr` is the optimizer's
/// own rate. Without a schedule or warmup the rate stays as it is.
pub(super) fn set_epoch_rate(
    model: &mut Model,
    options: &TrainOptions,
    lr: f32,
    epoch: usize,
    epochs: usize,
) {
    if options.schedule.is_none() && options.warmup == 0 {
        return;
    }
    let rate = schedule::learning_rate(
        options.schedule.as_ref(),
        options.warmup,
        f64::from(lr),
        epoch,
        epochs,
    );
    model.set_learning_rate(rate as f32);
}

/// Penalises and clips the gradients of the last `backward`; returns the penalty at the
/// current weights (what the reported loss adds to the data loss).
pub(super) fn before_update(model: &mut Model, options: &TrainOptions) -> f64 {
    let (l1, l2) = (options.l1, options.l2);
    if l1 == 0.0 && l2 == 0.0 && options.clip_norm.is_none() && options.clip_value.is_none() {
        return 0.0; // the common case: nothing to do, and nothing allocated per batch
    }
    let mut trained = model.trained();
    let mut total = 0.0;
    if l1 != 0.0 || l2 != 0.0 {
        for t in trained.iter_mut().filter(|t| t.is_weight) {
            total += penalty(t.values, l1, l2);
            add_penalty_gradient(t.values, t.grad, l1 as f32, l2 as f32);
        }
    }
    let mut grads: Vec<&mut [f32]> = trained.into_iter().map(|t| t.grad).collect();
    if let Some(limit) = options.clip_norm {
        clip_global_norm(&mut grads, limit);
    }
    if let Some(limit) = options.clip_value {
        let limit = limit as f32;
        for g in grads.iter_mut() {
            clip_elementwise(g, limit);
        }
    }
    total
}

/// The penalty of the model's gradient-trained weights as they are now.
pub(super) fn current_penalty(model: &Model, options: &TrainOptions) -> f64 {
    if options.l1 == 0.0 && options.l2 == 0.0 {
        return 0.0;
    }
    model
        .trained_weights()
        .map(|w| penalty(w, options.l1, options.l2))
        .sum()
}

/// l1·Σ|w| + l2·Σw², summed in f64 in element order.
pub fn penalty(weights: &[f32], l1: f64, l2: f64) -> f64 {
    let (mut abs, mut squares) = (0.0f64, 0.0f64);
    for &w in weights {
        let w = f64::from(w);
        abs += w.abs();
        squares += w * w;
    }
    l1 * abs + l2 * squares
}

/// g ← g + l1·sign(w) + 2·l2·w, the gradient of [`penalty`]; sign(0) = 0, so weights held at
/// zero (absent synapses of a sparse connector) keep a zero gradient.
pub fn add_penalty_gradient(weights: &[f32], grad: &mut [f32], l1: f32, l2: f32) {
    for (g, &w) in grad.iter_mut().zip(weights) {
        let sign = if w > 0.0 {
            1.0
        } else if w < 0.0 {
            -1.0
        } else {
            0.0
        };
        *g += l1 * sign + 2.0 * l2 * w;
    }
}

/// The L2 norm of all `grads` together, summed in f64 tensor by tensor, element by element.
pub fn global_norm(grads: &[&mut [f32]]) -> f64 {
    let mut sum = 0.0f64;
    for g in grads {
        for &x in g.iter() {
            sum += f64::from(x) * f64::from(x);
        }
    }
    sum.sqrt()
}

/// Scales every gradient by limit / norm if their global norm is above `limit`; returns the
/// norm before clipping.
pub fn clip_global_norm(grads: &mut [&mut [f32]], limit: f64) -> f64 {
    let norm = global_norm(grads);
    if norm > limit && norm.is_finite() {
        let scale = (limit / norm) as f32;
        for g in grads.iter_mut() {
            g.iter_mut().for_each(|x| *x *= scale);
        }
    }
    norm
}

/// Clamps every element to [−limit, limit].
pub fn clip_elementwise(grad: &mut [f32], limit: f32) {
    grad.iter_mut().for_each(|x| *x = x.clamp(-limit, limit));
}

/// Early stopping as Keras' `EarlyStopping(monitor = "val_loss")` does it: an epoch improves
/// when its validation loss is below the best by more than `min_delta`; training stops once
/// `patience` epochs in a row have not improved.
pub(super) struct EarlyStopper {
    rule: EarlyStopping,
    best_loss: f64,
    best_epoch: usize,
    /// Epochs since the last improvement.
    waited: usize,
    best: Option<Snapshot>,
}

impl EarlyStopper {
    pub fn new(rule: EarlyStopping) -> EarlyStopper {
        EarlyStopper {
            rule,
            best_loss: f64::INFINITY,
            best_epoch: 0,
            waited: 0,
            best: None,
        }
    }

    /// Takes the validation loss after epoch `epoch`; true if training should stop now.
    pub fn should_stop(&mut self, model: &Model, epoch: usize, val_loss: f64) -> bool {
        if val_loss < self.best_loss - self.rule.min_delta {
            self.best_loss = val_loss;
            self.best_epoch = epoch;
            self.waited = 0;
            if self.rule.restore_best {
                self.best = Some(model.snapshot());
            }
            return false;
        }
        self.waited += 1;
        self.waited >= self.rule.patience
    }

    /// Ends training after `epochs_run` epochs of `epochs`: puts back the best parameters
    /// (if asked to and they are not the current ones) and says what happened.
    pub fn finish(self, model: &mut Model, epochs_run: usize, epochs: usize) -> EarlyStopReport {
        let restore = self.best.is_some() && self.best_epoch != epochs_run;
        if restore && let Some(best) = &self.best {
            model.restore(best);
        }
        EarlyStopReport {
            stopped: epochs_run < epochs,
            patience: self.rule.patience,
            best_epoch: self.best_epoch,
            best_val_loss: self.best_loss,
            restored: restore,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_norm_scales_the_global_norm_to_the_limit() {
        let (mut a, mut b) = (vec![3.0f32, -4.0], vec![12.0f32]);
        {
            let mut grads: Vec<&mut [f32]> = vec![&mut a, &mut b];
            // ‖(3, −4, 12)‖ = 13.
            let before = clip_global_norm(&mut grads, 1.0);
            assert_eq!(before, 13.0);
            let after = global_norm(&grads);
            assert!((after - 1.0).abs() < 1e-6, "norm after clipping {after}");
        }
        // Directions are kept: every element is scaled by 1/13.
        assert!((a[0] - 3.0 / 13.0).abs() < 1e-7);
        assert!((a[1] + 4.0 / 13.0).abs() < 1e-7);
        assert!((b[0] - 12.0 / 13.0).abs() < 1e-7);
        // A norm below the limit is left alone.
        let mut c = vec![0.3f32, 0.4];
        let mut grads: Vec<&mut [f32]> = vec![&mut c];
        assert!((clip_global_norm(&mut grads, 1.0) - 0.5).abs() < 1e-7);
        assert_eq!(c, vec![0.3, 0.4]);
    }

    #[test]
    fn clip_value_clamps_each_element() {
        let mut g = vec![-2.0f32, -0.25, 0.0, 0.5, 7.0];
        clip_elementwise(&mut g, 0.5);
        assert_eq!(g, vec![-0.5, -0.25, 0.0, 0.5, 0.5]);
    }

    #[test]
    fn penalties_and_their_gradients_match_hand_computation() {
        let w = [0.5f32, -2.0, 0.0];
        // l1·(0.5 + 2) + l2·(0.25 + 4) with l1 = 0.1, l2 = 0.01.
        assert!((penalty(&w, 0.1, 0.01) - (0.25 + 0.0425)).abs() < 1e-12);
        let mut g = [1.0f32, 1.0, 1.0];
        add_penalty_gradient(&w, &mut g, 0.1, 0.01);
        // 1 + 0.1·sign(w) + 0.02·w; a zero weight gets no L1 push.
        assert!((g[0] - 1.11).abs() < 1e-6);
        assert!((g[1] - (1.0 - 0.1 - 0.04)).abs() < 1e-6);
        assert_eq!(g[2], 1.0);
    }
}
