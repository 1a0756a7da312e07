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
    optimizer: &Optimizer,
    step: u64,
    values: &mut [f32],
    p: &mut Param,
    parallel: bool,
) {
    let grads = &p.grad;
    if !parallel || values.len() < 2 * UPDATE_CHUNK {
        optimizer.step(step, values, grads, &mut p.state);
        return;
    }
    let (at, tensors) = optimizer.begin(step, &mut p.state);
    // Chunk k of every state tensor, side by side.
    let mut chunks: Vec<Vec<&mut [f32]>> = (0..values.len().div_ceil(UPDATE_CHUNK))
        .map(|_| Vec::with_capacity(tensors.len()))
        .collect();
    for tensor in tensors.iter_mut() {
        for (chunk, part) in chunks.iter_mut().zip(tensor.chunks_mut(UPDATE_CHUNK)) {
            chunk.push(part);
        }
    }
    values
        .par_chunks_mut(UPDATE_CHUNK)
        .zip(grads.par_chunks(UPDATE_CHUNK))
        .zip(chunks.par_iter_mut())
        .for_each(|((v, g), state)| optimizer.update.step(&at, v, g, state));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::optimizer::REGISTRY;

    /// Every registered optimizer, stepped in chunks on two threads, gives the bits of one
    /// pass over the whole tensor.
    #[test]
    fn chunked_updates_equal_one_pass_for_every_optimizer() {
        let n = 2 * UPDATE_CHUNK + 123;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("thread pool");
        for info in REGISTRY {
            let given = |k: &str| match k {
                "momentum" => Some(0.9),
                "weight_decay" => Some(0.01),
                _ => None,
            };
            let optimizer = Optimizer::from_args(info.name, &given).expect("builds");
            let run = |parallel: bool| {
                let mut values: Vec<f32> = (0..n).map(|i| (i % 97) as f32 / 50.0 - 1.0).collect();
                let mut p = Param {
                    target: ParamOf::Bias(0),
                    grad: Vec::new(),
                    state: optimizer.new_state(n),
                };
                for step in 1..=3u64 {
                    p.grad = (0..n)
                        .map(|i| ((i as u64 * 13 + step * 7) % 29) as f32 / 10.0 - 1.4)
                        .collect();
                    pool.install(|| apply(&optimizer, step, &mut values, &mut p, parallel));
                }
                (values, p.state)
            };
            assert_eq!(run(true), run(false), "{}", info.name);
        }
    }
}
