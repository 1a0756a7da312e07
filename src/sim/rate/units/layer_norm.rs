//! The `layer_norm` kernel: per column, normalise the summed input to zero mean and unit
//! variance, then scale by `γ` and shift by `β`. Model and parameters:
//! `models/neuron/layer_norm.rs`.

use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Backward, Forward, Steps, Tensor, Unit, UnitContext, cols, planes};

#[derive(Debug)]
struct LayerNorm {
    n: usize,
    eps: f32,
}

pub(super) fn build(ctx: &UnitContext) -> Result<Box<dyn Unit>, String> {
    Ok(Box::new(LayerNorm {
        n: ctx.size,
        eps: ctx.params.required_number("eps")? as f32,
    }))
}

impl Unit for LayerNorm {
    fn input_width(&self) -> usize {
        self.n
    }

    fn has_bias(&self) -> bool {
        false
    }

    fn tensors(&self) -> Vec<Tensor> {
        vec![
            Tensor {
                name: "gain",
                len: self.n,
                weight: false,
            },
            Tensor {
                name: "shift",
                len: self.n,
                weight: false,
            },
        ]
    }

    fn init(&self, tensors: &mut [Vec<f32>], _rng: &mut Xoshiro256PlusPlus) {
        tensors[0].fill(1.0);
        tensors[1].fill(0.0);
    }

    /// Normalised input `x̂` and `1/σ` per column.
    fn cache_width(&self) -> usize {
        self.n + 1
    }

    fn forward(&self, tensors: &[Vec<f32>], io: Forward<'_>, steps: &Steps) {
        let n = self.n;
        let [xhat, inv] = planes(io.cache, [n, 1]);
        let (gain, shift) = (&tensors[0], &tensors[1]);
        let range = cols(&steps.range, n, steps.b);
        let first = steps.range.start * steps.b;
        let columns = io.z[range.clone()]
            .chunks_exact(n)
            .zip(io.y[range.clone()].chunks_exact_mut(n))
            .zip(xhat[range].chunks_exact_mut(n));
        for (c, ((z, y), xhat)) in columns.enumerate() {
            let mean = z.iter().sum::<f32>() / n as f32;
            let var = z.iter().map(|&x| (x - mean) * (x - mean)).sum::<f32>() / n as f32;
            let s = 1.0 / (var + self.eps).sqrt();
            inv[first + c] = s;
            for k in 0..n {
                xhat[k] = (z[k] - mean) * s;
                y[k] = gain[k] * xhat[k] + shift[k];
            }
        }
    }

    fn backward(
        &self,
        tensors: &[Vec<f32>],
        grads: &mut [&mut [f32]],
        io: Backward<'_>,
        steps: &Steps,
    ) {
        let n = self.n;
        let [xhat, inv] = planes(io.cache, [n, 1]);
        let gain = &tensors[0];
        let range = cols(&steps.range, n, steps.b);
        let first = steps.range.start * steps.b;
        let columns = io.dy[range.clone()]
            .chunks_exact(n)
            .zip(io.dz[range.clone()].chunks_exact_mut(n))
            .zip(xhat[range].chunks_exact(n));
        for (c, ((dy, dz), xhat)) in columns.enumerate() {
            let (mut sum, mut dot) = (0.0f32, 0.0f32);
            for k in 0..n {
                grads[0][k] += dy[k] * xhat[k];
                grads[1][k] += dy[k];
                let dx = dy[k] * gain[k];
                sum += dx;
                dot += dx * xhat[k];
            }
            let s = inv[first + c] / n as f32;
            for k in 0..n {
                let dx = dy[k] * gain[k];
                dz[k] = s * (n as f32 * dx - sum - xhat[k] * dot);
            }
        }
    }
}
