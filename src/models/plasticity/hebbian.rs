//! `hebbian`: the plain Hebb rule, `Δw_ij = rate · y_i · x_j` per presented sample.
//!
//! On an undirected projection (`m -- m`) the update is symmetric and self-connections
//! stay zero: storing ±1 patterns gives the Hopfield network's outer-product rule.

use super::{Args, Batch, Learns, PlasticityInfo, RateLearner};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[ParamSpec::scalar(
    "rate",
    Dim::NONE,
    0.01,
    Range::Positive,
    "learning rate",
)];

pub static INFO: PlasticityInfo = PlasticityInfo {
    name: "hebbian",
    learns: Learns::Rate(learner),
    summary: "Hebb's rule: Δw = rate · post · pre",
    params: PARAMS,
};

/// The rule on one projection: its learning rate.
#[derive(Debug)]
struct Hebbian {
    rate: f32,
}

fn learner(args: Args, _n_post: usize) -> Result<Box<dyn RateLearner>, String> {
    let rate = super::number(args, PARAMS, INFO.name, "rate")? as f32;
    Ok(Box::new(Hebbian { rate }))
}

impl RateLearner for Hebbian {
    fn update(&mut self, b: Batch) {
        update(b.w, b.pre, b.post, b.n_pre, b.n_post, self.rate);
    }

    fn update_diagonal(&mut self, b: Batch) {
        for (u, (hebb, _)) in b.diagonal_sums().into_iter().enumerate() {
            b.w[u] += self.rate * hebb;
        }
    }
}

/// Applies the rule for a batch: `w[i, j] += rate · Σ_b post[i, b] · pre[j, b]`.
/// `w` is `n_post × n_pre`, `pre` is `n_pre × batch`, `post` is `n_post × batch`, all
/// column-major (one column per sample).
pub fn update(w: &mut [f32], pre: &[f32], post: &[f32], n_pre: usize, n_post: usize, rate: f32) {
    let batch = pre.len() / n_pre.max(1);
    for j in 0..n_pre {
        let column = &mut w[j * n_post..(j + 1) * n_post];
        for b in 0..batch {
            let x = rate * pre[b * n_pre + j];
            if x == 0.0 {
                continue;
            }
            for (w, &y) in column.iter_mut().zip(&post[b * n_post..(b + 1) * n_post]) {
                *w += x * y;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn storing_a_pattern_gives_its_outer_product() {
        let xi = [1.0, -1.0, 1.0];
        let mut w = [0.0f32; 9];
        super::update(&mut w, &xi, &xi, 3, 3, 0.5);
        for i in 0..3 {
            for j in 0..3 {
                assert_eq!(w[j * 3 + i], 0.5 * xi[i] * xi[j]);
            }
        }
    }
}
