//! `oja`: Oja's rule, `Δw_ij = rate · y_i (x_j - y_i w_ij)`: Hebbian growth with a decay that
//! keeps each unit's weight vector at unit norm (it converges to the first principal component).

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
    name: "oja",
    learns: Learns::Rate(learner),
    summary: "Oja's normalised Hebbian rule",
    params: PARAMS,
};

/// The rule on one projection: its learning rate.
#[derive(Debug)]
struct Oja {
    rate: f32,
}

fn learner(args: Args, _n_post: usize) -> Result<Box<dyn RateLearner>, String> {
    let rate = super::number(args, PARAMS, INFO.name, "rate")? as f32;
    Ok(Box::new(Oja { rate }))
}

impl RateLearner for Oja {
    fn update(&mut self, b: Batch) {
        update(b.w, b.pre, b.post, b.n_pre, b.n_post, self.rate);
    }

    fn update_diagonal(&mut self, b: Batch) {
        for (u, (hebb, y2)) in b.diagonal_sums().into_iter().enumerate() {
            b.w[u] += self.rate * (hebb - y2 * b.w[u]);
        }
    }
}

/// Applies the rule for a batch: `w[i, j] += rate · Σ_b y_ib (x_jb − y_ib w[i, j])`, with the
/// layout of [`super::hebbian::update`].
pub fn update(w: &mut [f32], pre: &[f32], post: &[f32], n_pre: usize, n_post: usize, rate: f32) {
    let batch = pre.len() / n_pre.max(1);
    let mut y_squared = vec![0.0f32; n_post];
    for b in 0..batch {
        for (s, &y) in y_squared
            .iter_mut()
            .zip(&post[b * n_post..(b + 1) * n_post])
        {
            *s += y * y;
        }
    }
    for j in 0..n_pre {
        for i in 0..n_post {
            let hebb: f32 = (0..batch)
                .map(|b| post[b * n_post + i] * pre[b * n_pre + j])
                .sum();
            let w = &mut w[j * n_post + i];
            *w += rate * (hebb - y_squared[i] * *w);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn weights_converge_to_the_unit_principal_direction() {
        // Samples along (1, 1)/√2 with a little spread across it.
        let samples = [
            [1.0f32, 0.9],
            [-0.8, -1.0],
            [0.5, 0.6],
            [-1.2, -1.1],
            [0.3, 0.2],
        ];
        let mut w = [0.3f32, -0.1];
        for _ in 0..2000 {
            for s in &samples {
                let y = w[0] * s[0] + w[1] * s[1];
                super::update(&mut w, s, &[y], 2, 1, 0.01);
            }
        }
        let norm = (w[0] * w[0] + w[1] * w[1]).sqrt();
        assert!((norm - 1.0).abs() < 0.05, "norm {norm}");
        assert!(
            (w[0].abs() - w[1].abs()).abs() < 0.1 && w[0] * w[1] > 0.0,
            "{w:?}"
        );
    }
}
