//! The `lstm` kernel: a step is one GEMM for the recurrent term (`U h_{t-1}`, `4H × H`
//! times `H × b`) and an elementwise pass over the gates; backpropagation through time
//! walks the steps backwards, carrying `dh` through `Uᵀ` and `dc` through the forget gate.
//! Model and parameters: `models/neuron/lstm.rs`.

use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Backward, Forward, Steps, Tensor, Unit, UnitContext, planes, sigmoid, step, uniform};
use crate::sim::rate::gemm::{View, product};

#[derive(Debug)]
struct Lstm {
    h: usize,
    forget_bias: f32,
}

pub(super) fn build(ctx: &UnitContext) -> Result<Box<dyn Unit>, String> {
    Ok(Box::new(Lstm {
        h: ctx.size,
        forget_bias: ctx.params.number("forget_bias").unwrap_or(1.0) as f32,
    }))
}

/// Cache planes: activated gates `[i f g o]`, cell `c`, `tanh c`, and `dc` (backward).
fn widths(h: usize) -> [usize; 4] {
    [4 * h, h, h, h]
}

impl Unit for Lstm {
    fn input_width(&self) -> usize {
        4 * self.h
    }

    fn has_bias(&self) -> bool {
        true
    }

    fn init_bias(&self, bias: &mut [f32]) {
        bias[self.h..2 * self.h].fill(self.forget_bias);
    }

    fn tensors(&self) -> Vec<Tensor> {
        vec![Tensor {
            name: "recurrent",
            len: 4 * self.h * self.h,
            weight: true,
        }]
    }

    fn init(&self, tensors: &mut [Vec<f32>], rng: &mut Xoshiro256PlusPlus) {
        // PyTorch's default: U(-1/√H, 1/√H).
        uniform(&mut tensors[0], 1.0 / (self.h as f32).sqrt(), rng);
    }

    fn cache_width(&self) -> usize {
        widths(self.h).iter().sum()
    }

    fn forward(&self, tensors: &[Vec<f32>], io: Forward<'_>, steps: &Steps) {
        let (h, b) = (self.h, steps.b);
        let u = View::new(&tensors[0], 4 * h, h);
        let [gates, cell, tanh_c, _] = planes(io.cache, widths(h));
        for t in steps.range.clone() {
            let g = &mut gates[step(t, 4 * h, b)];
            g.copy_from_slice(&io.z[step(t, 4 * h, b)]);
            let (before, now) = io.y.split_at_mut(t * b * h);
            if t > 0 {
                let h_prev = &before[(t - 1) * b * h..];
                product(g, 4 * h, b, true, u, View::new(h_prev, h, b), steps.par);
            }
            let (c_before, c_now) = cell.split_at_mut(t * b * h);
            let y = &mut now[..b * h];
            let c = &mut c_now[..b * h];
            let tc = &mut tanh_c[step(t, h, b)];
            for j in 0..b {
                let g = &mut g[j * 4 * h..(j + 1) * 4 * h];
                for k in 0..h {
                    let i = sigmoid(g[k]);
                    let f = sigmoid(g[h + k]);
                    let gg = g[2 * h + k].tanh();
                    let o = sigmoid(g[3 * h + k]);
                    let c_prev = if t > 0 {
                        c_before[(t - 1) * b * h + j * h + k]
                    } else {
                        0.0
                    };
                    let cj = f * c_prev + i * gg;
                    let tcj = cj.tanh();
                    (g[k], g[h + k], g[2 * h + k], g[3 * h + k]) = (i, f, gg, o);
                    c[j * h + k] = cj;
                    tc[j * h + k] = tcj;
                    y[j * h + k] = o * tcj;
                }
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
        let (h, b) = (self.h, steps.b);
        let u = View::new(&tensors[0], 4 * h, h);
        let [gates, cell, tanh_c, dcell] = planes(io.cache, widths(h));
        for t in steps.range.clone().rev() {
            let carry = t + 1 < steps.total && steps.carries_back(t + 1);
            let (dz_now, dz_later) = io.dz.split_at_mut((t + 1) * b * 4 * h);
            let dz = &mut dz_now[t * b * 4 * h..];
            let dh = &mut io.dy[step(t, h, b)];
            if carry {
                let dz_next = View::new(&dz_later[..b * 4 * h], 4 * h, b);
                product(dh, h, b, true, u.t(), dz_next, steps.par);
            }
            let (dc_now, dc_later) = dcell.split_at_mut((t + 1) * b * h);
            let dc = &mut dc_now[t * b * h..];
            let g = &gates[step(t, 4 * h, b)];
            let tc = &tanh_c[step(t, h, b)];
            for j in 0..b {
                let g = &g[j * 4 * h..(j + 1) * 4 * h];
                let dz = &mut dz[j * 4 * h..(j + 1) * 4 * h];
                for k in 0..h {
                    let (i, f, gg, o) = (g[k], g[h + k], g[2 * h + k], g[3 * h + k]);
                    let (dhk, tck) = (dh[j * h + k], tc[j * h + k]);
                    let mut dck = dhk * o * (1.0 - tck * tck);
                    if carry {
                        let f_next = gates[(t + 1) * b * 4 * h + j * 4 * h + h + k];
                        dck += dc_later[j * h + k] * f_next;
                    }
                    let c_prev = if t > 0 {
                        cell[(t - 1) * b * h + j * h + k]
                    } else {
                        0.0
                    };
                    dc[j * h + k] = dck;
                    dz[k] = dck * gg * i * (1.0 - i);
                    dz[h + k] = dck * c_prev * f * (1.0 - f);
                    dz[2 * h + k] = dck * i * (1.0 - gg * gg);
                    dz[3 * h + k] = dhk * tck * o * (1.0 - o);
                }
            }
            if t > 0 {
                let h_prev = View::new(&io.y[step(t - 1, h, b)], h, b);
                let dz = View::new(&dz_now[t * b * 4 * h..], 4 * h, b);
                product(grads[0], 4 * h, h, true, dz, h_prev.t(), steps.par);
            }
        }
    }
}
