//! The `attention` kernel: the query, key, value and output projections are GEMMs over every
//! step of the batch at once; the `T × T` attention of each sample and head is a small
//! dense loop. Model and parameters: `models/neuron/attention.rs`.

use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Backward, Forward, Steps, Tensor, Unit, UnitContext, planes, uniform};
use crate::sim::rate::gemm::{View, product};

#[derive(Debug)]
struct Attention {
    d: usize,
    heads: usize,
    causal: bool,
    sinusoidal: bool,
    max_steps: usize,
}

pub(super) fn build(ctx: &UnitContext) -> Result<Box<dyn Unit>, String> {
    let heads = ctx.params.required_number("heads")?.max(1.0) as usize;
    if !ctx.size.is_multiple_of(heads) {
        return Err(format!(
            "population '{}': {heads} heads do not divide its {} units",
            ctx.name, ctx.size
        ));
    }
    Ok(Box::new(Attention {
        d: ctx.size,
        heads,
        causal: ctx.params.required_flag("causal")?,
        sinusoidal: ctx.params.required_symbol("positions")? == "sinusoidal",
        max_steps: ctx.max_steps.max(1),
    }))
}

impl Attention {
    /// Cache planes: tokens with positions, q, k, v, the heads' outputs, the attention
    /// weights (`heads × max_steps` per column), then the gradients of q, k, v and the
    /// heads' outputs (backward).
    fn widths(&self) -> [usize; 10] {
        let d = self.d;
        [d, d, d, d, d, self.heads * self.max_steps, d, d, d, d]
    }

    fn geometry(&self, steps: &Steps) -> Geometry {
        let dh = self.d / self.heads;
        Geometry {
            d: self.d,
            b: steps.b,
            total: steps.total,
            n: steps.total * steps.b,
            dh,
            scale: 1.0 / (dh as f32).sqrt(),
            max_steps: self.max_steps,
            heads: self.heads,
        }
    }

    /// How many steps (from the first) step `i` of a sequence of `length` real steps
    /// attends to: never the padding after it.
    fn visible(&self, i: usize, length: usize) -> usize {
        if self.causal {
            (i + 1).min(length)
        } else {
            length
        }
    }
}

/// Where one call's values sit: `n` columns of `d` rows, heads of `dh` rows.
struct Geometry {
    d: usize,
    b: usize,
    total: usize,
    n: usize,
    dh: usize,
    scale: f32,
    max_steps: usize,
    heads: usize,
}

impl Geometry {
    /// The rows of `head` in the column of `step` of sample `s`.
    fn head(&self, step: usize, s: usize, head: usize) -> std::ops::Range<usize> {
        let col = step * self.b + s;
        col * self.d + head * self.dh..col * self.d + (head + 1) * self.dh
    }

    /// The attention weights of step `i` of sample `s` in `head` (over `total` steps).
    fn weights(&self, i: usize, s: usize, head: usize) -> std::ops::Range<usize> {
        let at = (i * self.b + s) * self.heads * self.max_steps + head * self.max_steps;
        at..at + self.total
    }
}

fn add_bias(plane: &mut [f32], bias: &[f32]) {
    for col in plane.chunks_exact_mut(bias.len()) {
        col.iter_mut().zip(bias).for_each(|(x, &b)| *x += b);
    }
}

fn sum_columns(grad: &mut [f32], plane: &[f32]) {
    for col in plane.chunks_exact(grad.len()) {
        grad.iter_mut().zip(col).for_each(|(g, &x)| *g += x);
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    y.iter_mut().zip(x).for_each(|(y, &x)| *y += a * x);
}

impl Unit for Attention {
    fn input_width(&self) -> usize {
        self.d
    }

    fn has_bias(&self) -> bool {
        false
    }

    fn tensors(&self) -> Vec<Tensor> {
        let (d, dd) = (self.d, self.d * self.d);
        let t = |name, len, weight| Tensor { name, len, weight };
        vec![
            t("query", dd, true),
            t("key", dd, true),
            t("value", dd, true),
            t("output", dd, true),
            t("query_bias", d, false),
            t("key_bias", d, false),
            t("value_bias", d, false),
            t("output_bias", d, false),
        ]
    }

    fn init(&self, tensors: &mut [Vec<f32>], rng: &mut Xoshiro256PlusPlus) {
        // Xavier-uniform matrices and zero biases, as PyTorch's nn.MultiheadAttention.
        let bound = (6.0 / (2 * self.d) as f32).sqrt();
        for w in &mut tensors[..4] {
            uniform(w, bound, rng);
        }
        for b in &mut tensors[4..] {
            b.fill(0.0);
        }
    }

    fn cache_width(&self) -> usize {
        self.widths().iter().sum()
    }

    fn forward(&self, w: &[Vec<f32>], io: Forward<'_>, steps: &Steps) {
        let g = self.geometry(steps);
        let (d, b, n) = (g.d, g.b, g.n);
        let [xp, q, k, v, c, p, ..] = planes(io.cache, self.widths());
        let xp = &mut xp[..d * n];
        xp.copy_from_slice(&io.z[..d * n]);
        if self.sinusoidal {
            for (col, x) in xp.chunks_exact_mut(d).enumerate() {
                let t = (col / b) as f32;
                for (i, x) in x.iter_mut().enumerate() {
                    let angle = t / 10000f32.powf((i - i % 2) as f32 / d as f32);
                    *x += if i % 2 == 0 { angle.sin() } else { angle.cos() };
                }
            }
        }
        let x = View::new(xp, d, n);
        for (plane, m, bias) in [
            (&mut *q, &w[0], &w[4]),
            (&mut *k, &w[1], &w[5]),
            (&mut *v, &w[2], &w[6]),
        ] {
            let plane = &mut plane[..d * n];
            product(plane, d, n, false, View::new(m, d, d), x, steps.par);
            add_bias(plane, bias);
        }
        for s in 0..b {
            let length = steps.length(s);
            for head in 0..self.heads {
                let at = |step: usize| g.head(step, s, head);
                for i in 0..g.total {
                    let seen = self.visible(i, length);
                    let weights = &mut p[g.weights(i, s, head)];
                    let qi = &q[at(i)];
                    let mut max = f32::NEG_INFINITY;
                    for j in 0..seen {
                        weights[j] = dot(qi, &k[at(j)]) * g.scale;
                        max = max.max(weights[j]);
                    }
                    let mut sum = 0.0;
                    for wj in &mut weights[..seen] {
                        *wj = (*wj - max).exp();
                        sum += *wj;
                    }
                    weights[..seen].iter_mut().for_each(|wj| *wj /= sum);
                    weights[seen..].fill(0.0);
                    let out = &mut c[at(i)];
                    out.fill(0.0);
                    for j in 0..seen {
                        axpy(out, weights[j], &v[at(j)]);
                    }
                }
            }
        }
        let y = &mut io.y[..d * n];
        product(
            y,
            d,
            n,
            false,
            View::new(&w[3], d, d),
            View::new(&c[..d * n], d, n),
            steps.par,
        );
        add_bias(y, &w[7]);
    }

    fn backward(&self, w: &[Vec<f32>], grads: &mut [&mut [f32]], io: Backward<'_>, steps: &Steps) {
        let g = self.geometry(steps);
        let (d, n) = (g.d, g.n);
        let [xp, q, k, v, c, p, dq, dk, dv, dc] = planes(io.cache, self.widths());
        let dy = View::new(&io.dy[..d * n], d, n);
        product(
            grads[3],
            d,
            d,
            true,
            dy,
            View::new(&c[..d * n], d, n).t(),
            steps.par,
        );
        sum_columns(grads[7], &io.dy[..d * n]);
        let dc = &mut dc[..d * n];
        product(dc, d, n, false, View::new(&w[3], d, d).t(), dy, steps.par);
        for plane in [&mut *dq, &mut *dk, &mut *dv] {
            plane[..d * n].fill(0.0);
        }
        let mut dp = vec![0.0f32; g.total];
        for s in 0..g.b {
            let length = steps.length(s);
            for head in 0..self.heads {
                let at = |step: usize| g.head(step, s, head);
                for i in 0..g.total {
                    let seen = self.visible(i, length);
                    let weights = &p[g.weights(i, s, head)];
                    let dci = &dc[at(i)];
                    let mut mean = 0.0;
                    for j in 0..seen {
                        dp[j] = dot(dci, &v[at(j)]);
                        axpy(&mut dv[at(j)], weights[j], dci);
                        mean += weights[j] * dp[j];
                    }
                    for j in 0..seen {
                        let ds = weights[j] * (dp[j] - mean) * g.scale;
                        axpy(&mut dq[at(i)], ds, &k[at(j)]);
                        axpy(&mut dk[at(j)], ds, &q[at(i)]);
                    }
                }
            }
        }
        let x = View::new(&xp[..d * n], d, n);
        let dz = &mut io.dz[..d * n];
        for (m, (plane, wi)) in [(&*dq, 0), (&*dk, 1), (&*dv, 2)].into_iter().enumerate() {
            let plane = &plane[..d * n];
            product(
                grads[wi],
                d,
                d,
                true,
                View::new(plane, d, n),
                x.t(),
                steps.par,
            );
            sum_columns(grads[4 + wi], plane);
            let weights = View::new(&w[wi], d, d).t();
            product(dz, d, n, m > 0, weights, View::new(plane, d, n), steps.par);
        }
    }
}
