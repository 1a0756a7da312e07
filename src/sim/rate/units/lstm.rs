//! The `lstm` kernel: a step is one GEMM for the recurrent term (`U h_{t-1}`, `4H × H`
//! times `H × b`) and an elementwise pass over the gates; backpropagation through time
//! walks the steps backwards, carrying `dh` through `Uᵀ` and `dc` through the forget gate.
//! Model and parameters: `models/neuron/lstm.rs`.

use rand_xoshiro::Xoshiro256PlusPlus;

use super::fast_math::{sigmoid, tanh};
use super::{Backward, Forward, Steps, Tensor, Unit, UnitContext, planes, step, uniform};
use crate::models::neuron::dynamics::with_wide_simd;
use crate::sim::rate::gemm::{View, product};

#[derive(Debug)]
struct Lstm {
    h: usize,
    forget_bias: f32,
    /// The cell before the first step, made once (a forward call is one step of a
    /// step-by-step network).
    zeros: Vec<f32>,
}

pub(super) fn build(ctx: &UnitContext) -> Result<Box<dyn Unit>, String> {
    Ok(Box::new(Lstm {
        h: ctx.size,
        forget_bias: ctx.params.required_number("forget_bias")? as f32,
        zeros: vec![0.0; ctx.size],
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
                let (gi, rest) = g[j * 4 * h..(j + 1) * 4 * h].split_at_mut(h);
                let (gf, rest) = rest.split_at_mut(h);
                let (gg, go) = rest.split_at_mut(h);
                let c_prev = if t > 0 {
                    &c_before[(t - 1) * b * h + j * h..][..h]
                } else {
                    &self.zeros[..]
                };
                let unit = j * h..(j + 1) * h;
                cell_step(
                    [gi, gf, gg, go],
                    c_prev,
                    &mut c[unit.clone()],
                    &mut tc[unit.clone()],
                    &mut y[unit],
                );
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
            with_wide_simd(
                #[inline(always)]
                || {
                    for j in 0..b {
                        let unit = j * h..(j + 1) * h;
                        let next = carry.then(|| {
                            let at = (t + 1) * b * 4 * h + j * 4 * h + h;
                            (&gates[at..at + h], &dc_later[unit.clone()])
                        });
                        let c_prev = if t > 0 {
                            &cell[(t - 1) * b * h + j * h..][..h]
                        } else {
                            &self.zeros[..]
                        };
                        cell_gradient(
                            &g[j * 4 * h..(j + 1) * 4 * h],
                            (&dh[unit.clone()], &tc[unit.clone()], c_prev),
                            next,
                            &mut dc[unit],
                            &mut dz[j * 4 * h..(j + 1) * 4 * h],
                        );
                    }
                },
            );
            if t > 0 {
                let h_prev = View::new(&io.y[step(t - 1, h, b)], h, b);
                let dz = View::new(&dz_now[t * b * 4 * h..], 4 * h, b);
                product(grads[0], 4 * h, h, true, dz, h_prev.t(), steps.par);
            }
        }
    }
}

/// One step of one sample's cells: the gate pre-activations `[i f g o]` become the gates in
/// place, then the cell, its tanh and the output. Blocks of sixteen cells (a loop of constant
/// length, which the compiler turns into vector instructions), then the rest.
fn cell_step(
    gates: [&mut [f32]; 4],
    c_prev: &[f32],
    c: &mut [f32],
    tanh_c: &mut [f32],
    y: &mut [f32],
) {
    const LANES: usize = 16;
    let h = c.len();
    let [i, f, g, o] = gates;
    let whole = h - h % LANES;
    with_wide_simd(
        #[inline(always)]
        || {
            let blocks = (0..whole).step_by(LANES).map(|s| s..s + LANES);
            for r in blocks.chain(std::iter::once(whole..h)) {
                let gates = [
                    &mut i[r.clone()],
                    &mut f[r.clone()],
                    &mut g[r.clone()],
                    &mut o[r.clone()],
                ];
                let (c, tanh_c, y) = (&mut c[r.clone()], &mut tanh_c[r.clone()], &mut y[r.clone()]);
                cells(gates, &c_prev[r], c, tanh_c, y);
            }
        },
    );
}

/// [`cell_step`] on slices of one length.
#[inline(always)]
fn cells(gates: [&mut [f32]; 4], c_prev: &[f32], c: &mut [f32], tanh_c: &mut [f32], y: &mut [f32]) {
    let n = c.len();
    let [i, f, g, o] = gates;
    let (i, f, g, o) = (&mut i[..n], &mut f[..n], &mut g[..n], &mut o[..n]);
    let (c_prev, tanh_c, y) = (&c_prev[..n], &mut tanh_c[..n], &mut y[..n]);
    for k in 0..n {
        let (ik, fk, gk, ok) = (sigmoid(i[k]), sigmoid(f[k]), tanh(g[k]), sigmoid(o[k]));
        let ck = fk * c_prev[k] + ik * gk;
        let tck = tanh(ck);
        (i[k], f[k], g[k], o[k]) = (ik, fk, gk, ok);
        c[k] = ck;
        tanh_c[k] = tck;
        y[k] = ok * tck;
    }
}

/// The gradients of one step of one sample's cells: `dc` of the cell (from `dh` through the
/// output gate, plus the next step's `dc` through its forget gate when the gradient
/// carries back), and `dz` of the four gate pre-activations `[i f g o]`.
#[inline(always)]
fn cell_gradient(
    gates: &[f32],
    (dh, tanh_c, c_prev): (&[f32], &[f32], &[f32]),
    next: Option<(&[f32], &[f32])>,
    dc: &mut [f32],
    dz: &mut [f32],
) {
    let h = dc.len();
    let (i, rest) = gates.split_at(h);
    let (f, rest) = rest.split_at(h);
    let (g, o) = rest.split_at(h);
    let (dzi, rest) = dz.split_at_mut(h);
    let (dzf, rest) = rest.split_at_mut(h);
    let (dzg, dzo) = rest.split_at_mut(h);
    let (o, dh, tanh_c, c_prev) = (&o[..h], &dh[..h], &tanh_c[..h], &c_prev[..h]);
    let (dzg, dzo) = (&mut dzg[..h], &mut dzo[..h]);
    for k in 0..h {
        dc[k] = dh[k] * o[k] * (1.0 - tanh_c[k] * tanh_c[k]);
    }
    if let Some((f_next, dc_next)) = next {
        let (f_next, dc_next) = (&f_next[..h], &dc_next[..h]);
        for k in 0..h {
            dc[k] += dc_next[k] * f_next[k];
        }
    }
    for k in 0..h {
        let (ik, fk, gk, ok, dck) = (i[k], f[k], g[k], o[k], dc[k]);
        dzi[k] = dck * gk * ik * (1.0 - ik);
        dzf[k] = dck * c_prev[k] * fk * (1.0 - fk);
        dzg[k] = dck * ik * (1.0 - gk * gk);
        dzo[k] = dh[k] * tanh_c[k] * ok * (1.0 - ok);
    }
}
