//! The `gru` kernel: per step one GEMM for the hidden part (`U h_{t-1}`, `3H × H`) and an
//! elementwise pass; backpropagation through time carries `dh` through `Uᵀ` and the update
//! gate. Model and parameters: `models/neuron/gru.rs`.

use rand_xoshiro::Xoshiro256PlusPlus;

use super::fast_math::{sigmoid, tanh};
use super::{Backward, Forward, Steps, Tensor, Unit, UnitContext, planes, step, uniform};
use crate::models::neuron::dynamics::with_wide_simd;
use crate::sim::rate::gemm::{View, product};

#[derive(Debug)]
struct Gru {
    h: usize,
    /// The state before the first step, made once (a forward call is one step of a
    /// step-by-step network).
    zeros: Vec<f32>,
}

pub(super) fn build(ctx: &UnitContext) -> Result<Box<dyn Unit>, String> {
    Ok(Box::new(Gru {
        h: ctx.size,
        zeros: vec![0.0; ctx.size],
    }))
}

/// Cache planes: gates `[r u n]`, hidden part `U h + b_h`, and its gradient (backward).
fn widths(h: usize) -> [usize; 3] {
    [3 * h, 3 * h, 3 * h]
}

impl Unit for Gru {
    fn input_width(&self) -> usize {
        3 * self.h
    }

    fn has_bias(&self) -> bool {
        true
    }

    fn tensors(&self) -> Vec<Tensor> {
        vec![
            Tensor {
                name: "recurrent",
                len: 3 * self.h * self.h,
                weight: true,
            },
            Tensor {
                name: "recurrent_bias",
                len: 3 * self.h,
                weight: false,
            },
        ]
    }

    fn init(&self, tensors: &mut [Vec<f32>], rng: &mut Xoshiro256PlusPlus) {
        let bound = 1.0 / (self.h as f32).sqrt();
        uniform(&mut tensors[0], bound, rng);
        uniform(&mut tensors[1], bound, rng);
    }

    fn cache_width(&self) -> usize {
        widths(self.h).iter().sum()
    }

    fn forward(&self, tensors: &[Vec<f32>], io: Forward<'_>, steps: &Steps) {
        let (h, b) = (self.h, steps.b);
        let u = View::new(&tensors[0], 3 * h, h);
        let [gates, hidden, _] = planes(io.cache, widths(h));
        for t in steps.range.clone() {
            let hh = &mut hidden[step(t, 3 * h, b)];
            for col in hh.chunks_exact_mut(3 * h) {
                col.copy_from_slice(&tensors[1]);
            }
            let (before, now) = io.y.split_at_mut(t * b * h);
            let h_prev = (t > 0).then(|| &before[(t - 1) * b * h..]);
            if let Some(h_prev) = h_prev {
                product(hh, 3 * h, b, true, u, View::new(h_prev, h, b), steps.par);
            }
            let z = &io.z[step(t, 3 * h, b)];
            let g = &mut gates[step(t, 3 * h, b)];
            with_wide_simd(
                #[inline(always)]
                || {
                    for j in 0..b {
                        let (gates, unit) = (j * 3 * h..(j + 1) * 3 * h, j * h..(j + 1) * h);
                        let prev = h_prev.map_or(&self.zeros[..], |p| &p[unit.clone()]);
                        let (z, hh) = (&z[gates.clone()], &hh[gates.clone()]);
                        cell_step(z, hh, prev, &mut g[gates], &mut now[unit]);
                    }
                },
            );
        }
    }

    fn backward(
        &self,
        tensors: &[Vec<f32>],
        grads: &mut [&mut [f32]],
        io: Backward<'_>,
        steps: &Steps,
    ) {
        let (h, b) = (self.h, steps.b);
        let u_view = View::new(&tensors[0], 3 * h, h);
        let [gates, hidden, dhidden] = planes(io.cache, widths(h));
        for t in steps.range.clone().rev() {
            let (dy_now, dy_later) = io.dy.split_at_mut((t + 1) * b * h);
            let dh = &mut dy_now[t * b * h..];
            if t + 1 < steps.total && steps.carries_back(t + 1) {
                let next = step(t + 1, 3 * h, b);
                let dhh_next = View::new(&dhidden[next.clone()], 3 * h, b);
                product(dh, h, b, true, u_view.t(), dhh_next, steps.par);
                let g_next = &gates[next];
                for j in 0..b {
                    for k in 0..h {
                        dh[j * h + k] += g_next[j * 3 * h + h + k] * dy_later[j * h + k];
                    }
                }
            }
            let g = &gates[step(t, 3 * h, b)];
            let hh = &hidden[step(t, 3 * h, b)];
            let dhh = &mut dhidden[step(t, 3 * h, b)];
            let dz = &mut io.dz[step(t, 3 * h, b)];
            with_wide_simd(
                #[inline(always)]
                || {
                    for j in 0..b {
                        let (gates, unit) = (j * 3 * h..(j + 1) * 3 * h, j * h..(j + 1) * h);
                        let prev = if t > 0 {
                            &io.y[(t - 1) * b * h + j * h..][..h]
                        } else {
                            &self.zeros[..]
                        };
                        cell_gradient(
                            (&g[gates.clone()], &hh[gates.clone()]),
                            (&dh[unit], prev),
                            &mut dz[gates.clone()],
                            &mut dhh[gates],
                        );
                    }
                },
            );
            for col in dhh.chunks_exact(3 * h) {
                grads[1].iter_mut().zip(col).for_each(|(g, &d)| *g += d);
            }
            if t > 0 {
                let h_prev = View::new(&io.y[step(t - 1, h, b)], h, b);
                let dhh = View::new(dhh, 3 * h, b);
                product(grads[0], 3 * h, h, true, dhh, h_prev.t(), steps.par);
            }
        }
    }
}

/// The three rows `[r u n]` of one sample's gates: split into equal slices, so the loops
/// below have no bounds checks and vectorise.
#[inline(always)]
fn rows(x: &[f32], h: usize) -> (&[f32], &[f32], &[f32]) {
    let (r, rest) = x[..3 * h].split_at(h);
    let (u, n) = rest.split_at(h);
    (r, u, n)
}

/// One step of one sample's units: gates `[r u n]` from the projections' `z` and the
/// recurrent term `hh`, and the new state `y` from the previous one.
#[inline(always)]
fn cell_step(z: &[f32], hh: &[f32], prev: &[f32], g: &mut [f32], y: &mut [f32]) {
    let h = y.len();
    let ((zr, zu, zn), (hr, hu, hn)) = (rows(z, h), rows(hh, h));
    let (gr, rest) = g[..3 * h].split_at_mut(h);
    let (gu, gn) = rest.split_at_mut(h);
    let prev = &prev[..h];
    for k in 0..h {
        let r = sigmoid(zr[k] + hr[k]);
        let u = sigmoid(zu[k] + hu[k]);
        let n = tanh(zn[k] + r * hn[k]);
        (gr[k], gu[k], gn[k]) = (r, u, n);
        y[k] = (1.0 - u) * n + u * prev[k];
    }
}

/// The gradients of one step of one sample's units: `dz` of the three gate
/// pre-activations and `dhh` of the recurrent term, from `dh` of the state.
#[inline(always)]
fn cell_gradient(
    (g, hh): (&[f32], &[f32]),
    (dh, prev): (&[f32], &[f32]),
    dz: &mut [f32],
    dhh: &mut [f32],
) {
    let h = dh.len();
    let ((r, u, n), (_, _, hn)) = (rows(g, h), rows(hh, h));
    let prev = &prev[..h];
    let (dzr, rest) = dz[..3 * h].split_at_mut(h);
    let (dzu, dzn) = rest.split_at_mut(h);
    let (dhr, rest) = dhh[..3 * h].split_at_mut(h);
    let (dhu, dhn) = rest.split_at_mut(h);
    for k in 0..h {
        let d = dh[k];
        let da_n = d * (1.0 - u[k]) * (1.0 - n[k] * n[k]);
        let da_r = da_n * hn[k] * r[k] * (1.0 - r[k]);
        let da_u = d * (prev[k] - n[k]) * u[k] * (1.0 - u[k]);
        (dzr[k], dzu[k], dzn[k]) = (da_r, da_u, da_n);
        (dhr[k], dhu[k], dhn[k]) = (da_r, da_u, da_n * r[k]);
    }
}
