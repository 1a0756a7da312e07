//! Changing the parameters: one optimizer step on every gradient-trained tensor, and the
//! projections' local learning rules.

use super::*;

/// Parameter elements per rayon task in the optimizer update.
const UPDATE_CHUNK: usize = 16 * 1024;

impl Model {
    /// One optimizer step on every gradient-trained parameter.
    pub fn update(&mut self) {
        self.update_where(&|_| true, self.step + 1);
    }

    /// Applies every projection's local rule to the current batch (pre = source state,
    /// post = target state), then restores masks and symmetry.
    pub fn local_update(&mut self, b: usize) {
        for (i, link) in self.links.iter_mut().enumerate() {
            let Some(rule) = link.rule.as_mut() else {
                continue;
            };
            let batch = Batch {
                w: self.weights[i].as_mut_slice(),
                pre: &self.buffers.y[link.source][..link.n_pre * b],
                post: &self.buffers.y[link.target][..link.n_post * b],
                n_pre: link.n_pre,
                n_post: link.n_post,
            };
            if link.diagonal {
                // One weight per unit pair (i, i): the rules act on the diagonal.
                rule.update_diagonal(batch);
                continue;
            }
            rule.update(batch);
            let w = self.weights[i].as_mut_slice();
            if !link.directed && link.source == link.target {
                let n = link.n_post;
                for j in 0..n {
                    for k in 0..j {
                        let mean = 0.5 * (w[j * n + k] + w[k * n + j]);
                        w[j * n + k] = mean;
                        w[k * n + j] = mean;
                    }
                }
            }
            if let Some(m) = &link.mask {
                w.iter_mut().zip(m).for_each(|(w, m)| *w *= m);
            }
        }
    }
}

/// One optimizer step on one tensor; elementwise, so chunks on several threads give the
/// same bits as one pass.
pub(super) fn apply(
    optimizer: Optimizer,
    step: u64,
    values: &mut [f32],
    p: &mut Param,
    parallel: bool,
) {
    let grads = &p.grad;
    if !parallel || values.len() < 2 * UPDATE_CHUNK {
        optimizer.step(step, values, grads, &mut p.first, &mut p.second);
        return;
    }
    let pairs = values
        .par_chunks_mut(UPDATE_CHUNK)
        .zip(grads.par_chunks(UPDATE_CHUNK));
    match optimizer.state_slots() {
        0 => pairs.for_each(|(v, g)| optimizer.step(step, v, g, &mut [], &mut [])),
        1 => pairs
            .zip(p.first.par_chunks_mut(UPDATE_CHUNK))
            .for_each(|((v, g), a)| optimizer.step(step, v, g, a, &mut [])),
        _ => pairs
            .zip(p.first.par_chunks_mut(UPDATE_CHUNK))
            .zip(p.second.par_chunks_mut(UPDATE_CHUNK))
            .for_each(|(((v, g), a), s)| optimizer.step(step, v, g, a, s)),
    }
}
