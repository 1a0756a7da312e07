//! `bcm`: the Bienenstock–Cooper–Munro rule, `Δw_ij = rate · y_i (y_i - θ_i) x_j`, with a sliding
//! threshold `θ_i` that tracks the running mean of `y_i²` with time constant `tau` (in samples).

use super::{Args, Batch, Learns, PlasticityInfo, RateLearner};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::scalar("rate", Dim::NONE, 0.01, Range::Positive, "learning rate"),
    ParamSpec::scalar(
        "tau",
        Dim::NONE,
        100.0,
        Range::Positive,
        "threshold averaging constant, in samples",
    ),
    ParamSpec::scalar("theta", Dim::NONE, 1.0, Range::Any, "initial threshold"),
];

pub static INFO: PlasticityInfo = PlasticityInfo {
    name: "bcm",
    learns: Learns::Rate(learner),
    summary: "BCM rule with a sliding threshold",
    params: PARAMS,
};

/// The rule on one projection: its constants and the sliding threshold of every target.
#[derive(Debug)]
struct Bcm {
    rate: f32,
    tau: f32,
    theta: Vec<f32>,
}

fn learner(args: Args, n_post: usize) -> Result<Box<dyn RateLearner>, String> {
    let number = |name| super::number(args, PARAMS, INFO.name, name);
    Ok(Box::new(Bcm {
        rate: number("rate")? as f32,
        tau: number("tau")? as f32,
        theta: vec![number("theta")? as f32; n_post],
    }))
}

impl RateLearner for Bcm {
    fn update(&mut self, b: Batch) {
        update(
            b.w,
            &mut self.theta,
            b.pre,
            b.post,
            b.n_pre,
            b.n_post,
            self.rate,
            self.tau,
        );
    }

    fn state(&self) -> &[f32] {
        &self.theta
    }

    fn state_mut(&mut self) -> &mut [f32] {
        &mut self.theta
    }

    /// On a one-to-one projection the threshold stays at its initial value.
    fn update_diagonal(&mut self, b: Batch) {
        for (u, (hebb, _)) in b.diagonal_sums().into_iter().enumerate() {
            b.w[u] += self.rate * (hebb - self.theta[u] * hebb);
        }
    }
}

/// Applies the rule for a batch, samples in order: `φ = y (y − θ)`, `w += rate · φ xᵀ`,
/// then `θ += (y² − θ) / tau` per sample. Layout as in [`super::hebbian::update`]; `theta`
/// holds one threshold per post unit and is carried between batches.
#[allow(clippy::too_many_arguments)]
pub fn update(
    w: &mut [f32],
    theta: &mut [f32],
    pre: &[f32],
    post: &[f32],
    n_pre: usize,
    n_post: usize,
    rate: f32,
    tau: f32,
) {
    let batch = pre.len() / n_pre.max(1);
    let mut phi = vec![0.0f32; n_post];
    for b in 0..batch {
        let y = &post[b * n_post..(b + 1) * n_post];
        for ((phi, th), &y) in phi.iter_mut().zip(theta.iter_mut()).zip(y) {
            *phi = y * (y - *th);
            *th += (y * y - *th) / tau;
        }
        super::hebbian::update(
            w,
            &pre[b * n_pre..(b + 1) * n_pre],
            &phi,
            n_pre,
            n_post,
            rate,
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn activity_below_threshold_depresses_and_above_potentiates() {
        let (mut w, mut theta) = ([0.5f32], [1.0f32]);
        super::update(&mut w, &mut theta, &[1.0], &[0.5], 1, 1, 0.1, 10.0);
        assert!(w[0] < 0.5, "depressed: {w:?}");
        assert!((theta[0] - (1.0 + (0.25 - 1.0) / 10.0)).abs() < 1e-6);
        let (mut w, mut theta) = ([0.5f32], [1.0f32]);
        super::update(&mut w, &mut theta, &[1.0], &[2.0], 1, 1, 0.1, 10.0);
        assert!((w[0] - 0.7).abs() < 1e-6, "potentiated: {w:?}");
    }
}
