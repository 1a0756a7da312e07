//! Kernels of the spatial projections (`conv`, `maxpool`, `avgpool`) over a batch: forward
//! into a target's pre-activation, backward into weight gradients and the source's gradient.
//!
//! Layout: a sample's units are channel-major (`c·H·W + y·W + x`), one sample per column of
//! the batch buffers. Convolution is im2col + one GEMM for the whole batch: the patches of
//! all samples form a `K × (P·b)` column-major matrix (K = C_in·k² taps, P output
//! positions), so `Zᵀ (C_out × P·b) = W · patches` and, backward, `dW = dZᵀ · patchesᵀ` and
//! `dpatches = Wᵀ · dZᵀ` are single large products that the blocked GEMM splits over
//! threads with a fixed accumulation order (the same bits on any thread count). Building
//! patches, scattering them back and turning `Zᵀ` into the channel-major layout run in
//! parallel over samples.

use rayon::prelude::*;

use super::gemm::{Threads, View, product};
use crate::models::connector::grid::{SpatialOp, Window};

/// A spatial projection's geometry and its scratch buffers (allocated once, for the
/// largest batch).
#[derive(Debug)]
pub(super) struct Spatial {
    pub op: SpatialOp,
    pub window: Window,
    /// Conv: the patches of every sample of the batch (`K × (P·capacity)`, sample-major).
    patches: Vec<f32>,
    /// Conv: `Zᵀ` or `dZᵀ`, position-major (`C_out × (P·capacity)`).
    transposed: Vec<f32>,
    /// Maxpool: the winning input unit of every output unit of every sample.
    argmax: Vec<u32>,
}

impl Spatial {
    pub fn new(op: SpatialOp, window: Window, capacity: usize) -> Spatial {
        let (p, k) = (window.output.area(), window.input.channels * window.taps());
        let n_out = window.output.size();
        Spatial {
            op,
            window,
            patches: if op == SpatialOp::Conv {
                vec![0.0; capacity * p * k]
            } else {
                Vec::new()
            },
            transposed: if op == SpatialOp::Conv {
                vec![0.0; capacity * n_out]
            } else {
                Vec::new()
            },
            argmax: if op == SpatialOp::MaxPool {
                vec![0; capacity * n_out]
            } else {
                Vec::new()
            },
        }
    }

    /// Rows and columns of the weight matrix (`C_out × C_in·k²`; pooling has none).
    pub fn weight_dims(&self) -> (usize, usize) {
        match self.op {
            SpatialOp::Conv => (
                self.window.output.channels,
                self.window.input.channels * self.window.taps(),
            ),
            SpatialOp::MaxPool | SpatialOp::AvgPool => (0, 0),
        }
    }

    /// `z [+]= op(x)` for `b` samples; `weights` is the `C_out × K` column-major kernel matrix.
    pub fn forward(
        &mut self,
        weights: &[f32],
        x: &[f32],
        z: &mut [f32],
        b: usize,
        accumulate: bool,
        threads: Threads,
    ) {
        let w = self.window;
        let (n_in, n_out) = (w.input.size(), w.output.size());
        let (x, z) = (&x[..n_in * b], &mut z[..n_out * b]);
        let parallel = threads == Threads::Pool && b > 1;
        match self.op {
            SpatialOp::Conv => {
                let (p, k) = (w.output.area(), w.input.channels * w.taps());
                let c_out = w.output.channels;
                let patches = &mut self.patches[..b * p * k];
                let zt = &mut self.transposed[..b * n_out];
                each_sample(parallel, patches, p * k, x, n_in, |(ps, xs)| {
                    im2col(&w, xs, ps)
                });
                product(
                    zt,
                    c_out,
                    p * b,
                    false,
                    View::new(weights, c_out, k),
                    View::new(patches, k, p * b),
                    threads,
                );
                let one = |(zs, ts): (&mut [f32], &[f32])| {
                    for (c, map) in zs.chunks_exact_mut(p).enumerate() {
                        let from = ts[c..].iter().step_by(c_out);
                        if accumulate {
                            map.iter_mut().zip(from).for_each(|(z, &v)| *z += v);
                        } else {
                            map.iter_mut().zip(from).for_each(|(z, &v)| *z = v);
                        }
                    }
                };
                each_sample(parallel, z, n_out, zt, n_out, one);
            }
            SpatialOp::MaxPool => {
                let one = |((zs, am), xs): ((&mut [f32], &mut [u32]), &[f32])| {
                    max_pool(&w, xs, zs, am, accumulate);
                };
                let argmax = &mut self.argmax[..b * n_out];
                each_sample_with(parallel, (z, n_out), (argmax, n_out), (x, n_in), one);
            }
            SpatialOp::AvgPool => {
                let one = |(zs, xs): (&mut [f32], &[f32])| avg_pool(&w, xs, zs, accumulate);
                each_sample(parallel, z, n_out, x, n_in, one);
            }
        }
    }

    /// From `dz` (the gradient w.r.t. the target's pre-activation, `b` samples): the weight
    /// gradient (`grad +=`, as every kernel: the engine zeroes gradients once per backward
    /// pass) if asked, then `dx += ∂z/∂x · dz` if asked. Uses the
    /// patches and winners of the last [`Spatial::forward`].
    pub fn backward(
        &mut self,
        weights: &[f32],
        dz: &[f32],
        b: usize,
        grad: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
        threads: Threads,
    ) {
        let w = self.window;
        let (n_in, n_out) = (w.input.size(), w.output.size());
        let dz = &dz[..n_out * b];
        let parallel = threads == Threads::Pool && b > 1;
        match self.op {
            SpatialOp::Conv => {
                let (p, k) = (w.output.area(), w.input.channels * w.taps());
                let c_out = w.output.channels;
                let patches = &mut self.patches[..b * p * k];
                let dzt = &mut self.transposed[..b * n_out];
                let one = |(ts, dzs): (&mut [f32], &[f32])| {
                    for (c, map) in dzs.chunks_exact(p).enumerate() {
                        let to = ts[c..].iter_mut().step_by(c_out);
                        to.zip(map).for_each(|(t, &v)| *t = v);
                    }
                };
                each_sample(parallel, dzt, n_out, dz, n_out, one);
                if let Some(grad) = grad {
                    product(
                        grad,
                        c_out,
                        k,
                        true,
                        View::new(dzt, c_out, p * b),
                        View::new(patches, k, p * b).t(),
                        threads,
                    );
                }
                if let Some(dx) = dx {
                    // The patches are no longer needed: they take ∂loss/∂patches now.
                    product(
                        patches,
                        k,
                        p * b,
                        false,
                        View::new(weights, c_out, k).t(),
                        View::new(dzt, c_out, p * b),
                        threads,
                    );
                    let dx = &mut dx[..n_in * b];
                    let patches = &*patches;
                    each_sample(parallel, dx, n_in, patches, p * k, |(dxs, ps)| {
                        col2im(&w, ps, dxs)
                    });
                }
            }
            SpatialOp::MaxPool => {
                let Some(dx) = dx else { return };
                // Read only here; `each_sample_with` hands out its middle operand mutably.
                let argmax = &mut self.argmax[..b * n_out];
                let one = |((dxs, am), dzs): ((&mut [f32], &mut [u32]), &[f32])| {
                    for (&i, &d) in am.iter().zip(dzs) {
                        if i != u32::MAX {
                            dxs[i as usize] += d;
                        }
                    }
                };
                let dx = &mut dx[..n_in * b];
                each_sample_with(parallel, (dx, n_in), (argmax, n_out), (dz, n_out), one);
            }
            SpatialOp::AvgPool => {
                let Some(dx) = dx else { return };
                let one = |(dxs, dzs): (&mut [f32], &[f32])| avg_pool_backward(&w, dzs, dxs);
                let dx = &mut dx[..n_in * b];
                each_sample(parallel, dx, n_in, dz, n_out, one);
            }
        }
    }
}

/// `f((out_s, in_s))` for every sample `s` of the batch (`out` in chunks of `n_out`, `input`
/// in chunks of `n_in`), over the rayon pool when `parallel`. Samples are independent, so
/// the result is the same either way.
fn each_sample<T: Send, U: Sync>(
    parallel: bool,
    out: &mut [T],
    n_out: usize,
    input: &[U],
    n_in: usize,
    f: impl Fn((&mut [T], &[U])) + Sync + Send,
) {
    if parallel {
        out.par_chunks_mut(n_out)
            .zip(input.par_chunks(n_in))
            .for_each(f);
    } else {
        out.chunks_mut(n_out).zip(input.chunks(n_in)).for_each(f);
    }
}

/// As [`each_sample`] with a second per-sample buffer: `f(((out_s, side_s), in_s))`, each
/// operand given with its per-sample length.
fn each_sample_with<T: Send, V: Send, U: Sync>(
    parallel: bool,
    (out, n_out): (&mut [T], usize),
    (side, n_side): (&mut [V], usize),
    (input, n_in): (&[U], usize),
    f: impl Fn(((&mut [T], &mut [V]), &[U])) + Sync + Send,
) {
    if parallel {
        out.par_chunks_mut(n_out)
            .zip(side.par_chunks_mut(n_side))
            .zip(input.par_chunks(n_in))
            .for_each(f);
    } else {
        out.chunks_mut(n_out)
            .zip(side.chunks_mut(n_side))
            .zip(input.chunks(n_in))
            .for_each(f);
    }
}

/// The input coordinate a window tap reads, if it lies inside the map (not in the padding).
#[inline]
fn tap(out: usize, offset: usize, w: &Window, extent: usize) -> Option<usize> {
    (out * w.stride + offset)
        .checked_sub(w.padding)
        .filter(|&i| i < extent)
}

/// Where the window of output position (`oy`, `ox`) starts in its map (`y·W + x` of its
/// top-left tap), if the whole window lies inside the map (no tap in the padding).
#[inline]
fn interior_origin(w: &Window, oy: usize, ox: usize) -> Option<usize> {
    let (h_in, w_in, ks) = (w.input.height, w.input.width, w.kernel);
    let y0 = (oy * w.stride).checked_sub(w.padding)?;
    let x0 = (ox * w.stride).checked_sub(w.padding)?;
    (y0 + ks <= h_in && x0 + ks <= w_in).then_some(y0 * w_in + x0)
}

/// One sample's patches, position-major: `patches[p·K + k]` = the input tap
/// `k = (c, ky, kx)` of output position `p`, zero in the padding.
fn im2col(w: &Window, x: &[f32], patches: &mut [f32]) {
    let (h_in, w_in) = (w.input.height, w.input.width);
    let w_out = w.output.width;
    let ks = w.kernel;
    let k_all = w.input.channels * ks * ks;
    for (pos, column) in patches.chunks_exact_mut(k_all).enumerate() {
        let (oy, ox) = (pos / w_out, pos % w_out);
        if let Some(origin) = interior_origin(w, oy, ox) {
            match ks {
                3 => gather::<3>(x, h_in * w_in, w_in, origin, column),
                5 => gather::<5>(x, h_in * w_in, w_in, origin, column),
                _ => {
                    for (c, taps) in column.chunks_exact_mut(ks * ks).enumerate() {
                        let map = &x[c * h_in * w_in..(c + 1) * h_in * w_in];
                        for (ky, row) in taps.chunks_exact_mut(ks).enumerate() {
                            let start = origin + ky * w_in;
                            row.copy_from_slice(&map[start..start + ks]);
                        }
                    }
                }
            }
            continue;
        }
        for (c, taps) in column.chunks_exact_mut(ks * ks).enumerate() {
            let map = &x[c * h_in * w_in..(c + 1) * h_in * w_in];
            for (ky, row) in taps.chunks_exact_mut(ks).enumerate() {
                let Some(iy) = tap(oy, ky, w, h_in) else {
                    row.fill(0.0);
                    continue;
                };
                for (kx, r) in row.iter_mut().enumerate() {
                    *r = tap(ox, kx, w, w_in).map_or(0.0, |ix| map[iy * w_in + ix]);
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: `dx += ` every patch gradient at the input it was read from.
fn col2im(w: &Window, patches: &[f32], dx: &mut [f32]) {
    let (h_in, w_in) = (w.input.height, w.input.width);
    let w_out = w.output.width;
    let ks = w.kernel;
    let k_all = w.input.channels * ks * ks;
    for (pos, column) in patches.chunks_exact(k_all).enumerate() {
        let (oy, ox) = (pos / w_out, pos % w_out);
        if ks == 3
            && let Some(origin) = interior_origin(w, oy, ox)
        {
            scatter::<3>(dx, h_in * w_in, w_in, origin, column);
            continue;
        }
        for (c, taps) in column.chunks_exact(ks * ks).enumerate() {
            let map = &mut dx[c * h_in * w_in..(c + 1) * h_in * w_in];
            for (ky, row) in taps.chunks_exact(ks).enumerate() {
                let Some(iy) = tap(oy, ky, w, h_in) else {
                    continue;
                };
                for (kx, &g) in row.iter().enumerate() {
                    if let Some(ix) = tap(ox, kx, w, w_in) {
                        map[iy * w_in + ix] += g;
                    }
                }
            }
        }
    }
}

/// The `K × K` window at `origin` of every map of `x` (maps `area` apart, rows `width`
/// apart) into `column`, map by map, row by row; the window lies inside the maps.
#[inline]
fn gather<const K: usize>(x: &[f32], area: usize, width: usize, origin: usize, column: &mut [f32]) {
    for (c, taps) in column.chunks_exact_mut(K * K).enumerate() {
        let start = c * area + origin;
        for ky in 0..K {
            let from: &[f32; K] = x[start + ky * width..][..K].try_into().expect("K taps");
            let to: &mut [f32; K] = (&mut taps[ky * K..][..K]).try_into().expect("K taps");
            *to = *from;
        }
    }
}

/// The adjoint of [`gather`]: adds `column` back onto the window at `origin`.
#[inline]
fn scatter<const K: usize>(
    dx: &mut [f32],
    area: usize,
    width: usize,
    origin: usize,
    column: &[f32],
) {
    for (c, taps) in column.chunks_exact(K * K).enumerate() {
        let start = c * area + origin;
        for ky in 0..K {
            let to = &mut dx[start + ky * width..][..K];
            for (t, &g) in to.iter_mut().zip(&taps[ky * K..(ky + 1) * K]) {
                *t += g;
            }
        }
    }
}

/// Per map and window: the largest input (ties: the first), and where it was.
fn max_pool(w: &Window, x: &[f32], z: &mut [f32], argmax: &mut [u32], accumulate: bool) {
    let (h_in, w_in) = (w.input.height, w.input.width);
    let (h_out, w_out) = (w.output.height, w.output.width);
    if w.padding == 0 && w.kernel == 2 && w.stride == 2 {
        // The common 2×2 pool: two input rows make one output row.
        let mut o = 0;
        for c in 0..w.input.channels {
            let base = c * h_in * w_in;
            for oy in 0..h_out {
                let top = base + 2 * oy * w_in;
                let (upper, lower) = (&x[top..top + w_in], &x[top + w_in..top + 2 * w_in]);
                for ox in 0..w_out {
                    let i = 2 * ox;
                    let (mut best, mut at) = (upper[i], top + i);
                    if upper[i + 1] > best {
                        (best, at) = (upper[i + 1], top + i + 1);
                    }
                    if lower[i] > best {
                        (best, at) = (lower[i], top + w_in + i);
                    }
                    if lower[i + 1] > best {
                        (best, at) = (lower[i + 1], top + w_in + i + 1);
                    }
                    z[o] = if accumulate { z[o] + best } else { best };
                    argmax[o] = at as u32;
                    o += 1;
                }
            }
        }
        return;
    }
    if w.padding == 0 {
        // Every window lies inside its map: no bounds to test.
        let mut o = 0;
        for c in 0..w.input.channels {
            let base = c * h_in * w_in;
            for oy in 0..h_out {
                for ox in 0..w_out {
                    let first = base + oy * w.stride * w_in + ox * w.stride;
                    let (mut best, mut at) = (x[first], first);
                    for ky in 0..w.kernel {
                        let row = first + ky * w_in;
                        for (kx, &v) in x[row..row + w.kernel].iter().enumerate() {
                            if v > best {
                                (best, at) = (v, row + kx);
                            }
                        }
                    }
                    z[o] = if accumulate { z[o] + best } else { best };
                    argmax[o] = at as u32;
                    o += 1;
                }
            }
        }
        return;
    }
    for c in 0..w.input.channels {
        let base = c * h_in * w_in;
        for oy in 0..h_out {
            for ox in 0..w_out {
                let (mut best, mut at) = (f32::NEG_INFINITY, u32::MAX);
                for ky in 0..w.kernel {
                    let Some(iy) = tap(oy, ky, w, h_in) else {
                        continue;
                    };
                    for kx in 0..w.kernel {
                        if let Some(ix) = tap(ox, kx, w, w_in) {
                            let i = base + iy * w_in + ix;
                            if x[i] > best || at == u32::MAX {
                                (best, at) = (x[i], i as u32);
                            }
                        }
                    }
                }
                let o = (c * h_out + oy) * w_out + ox;
                let value = if at == u32::MAX { 0.0 } else { best };
                z[o] = if accumulate { z[o] + value } else { value };
                argmax[o] = at;
            }
        }
    }
}

/// Per map and window: the mean, padding counted as zeros (PyTorch's default).
fn avg_pool(w: &Window, x: &[f32], z: &mut [f32], accumulate: bool) {
    let (h_in, w_in) = (w.input.height, w.input.width);
    let (h_out, w_out) = (w.output.height, w.output.width);
    let scale = 1.0 / w.taps() as f32;
    for c in 0..w.input.channels {
        let base = c * h_in * w_in;
        for oy in 0..h_out {
            for ox in 0..w_out {
                let mut sum = 0.0f32;
                for ky in 0..w.kernel {
                    let Some(iy) = tap(oy, ky, w, h_in) else {
                        continue;
                    };
                    for kx in 0..w.kernel {
                        if let Some(ix) = tap(ox, kx, w, w_in) {
                            sum += x[base + iy * w_in + ix];
                        }
                    }
                }
                let o = (c * h_out + oy) * w_out + ox;
                z[o] = if accumulate {
                    z[o] + sum * scale
                } else {
                    sum * scale
                };
            }
        }
    }
}

fn avg_pool_backward(w: &Window, dz: &[f32], dx: &mut [f32]) {
    let (h_in, w_in) = (w.input.height, w.input.width);
    let (h_out, w_out) = (w.output.height, w.output.width);
    let scale = 1.0 / w.taps() as f32;
    for c in 0..w.input.channels {
        let base = c * h_in * w_in;
        for oy in 0..h_out {
            for ox in 0..w_out {
                let g = dz[(c * h_out + oy) * w_out + ox] * scale;
                for ky in 0..w.kernel {
                    let Some(iy) = tap(oy, ky, w, h_in) else {
                        continue;
                    };
                    for kx in 0..w.kernel {
                        if let Some(ix) = tap(ox, kx, w, w_in) {
                            dx[base + iy * w_in + ix] += g;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::connector::grid::Grid;

    fn grid(c: usize, h: usize, w: usize) -> Grid {
        Grid {
            channels: c,
            height: h,
            width: w,
        }
    }

    /// Direct convolution, for reference: out[co, oy, ox] = Σ w[co, ci, ky, kx] · x[ci, iy, ix].
    fn direct(w: &Window, kernel: &[f32], x: &[f32]) -> Vec<f32> {
        let (ci_n, co_n, ks) = (w.input.channels, w.output.channels, w.kernel);
        let mut out = vec![0.0; w.output.size()];
        for co in 0..co_n {
            for oy in 0..w.output.height {
                for ox in 0..w.output.width {
                    let mut s = 0.0;
                    for ci in 0..ci_n {
                        for ky in 0..ks {
                            for kx in 0..ks {
                                let (Some(iy), Some(ix)) = (
                                    tap(oy, ky, w, w.input.height),
                                    tap(ox, kx, w, w.input.width),
                                ) else {
                                    continue;
                                };
                                let tap = (ci * ks + ky) * ks + kx;
                                s += kernel[tap * co_n + co]
                                    * x[(ci * w.input.height + iy) * w.input.width + ix];
                            }
                        }
                    }
                    out[(co * w.output.height + oy) * w.output.width + ox] = s;
                }
            }
        }
        out
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 997) as f32 / 498.5 - 1.0)
            .collect()
    }

    #[test]
    fn conv_matches_direct_convolution_with_stride_and_padding() {
        for (stride, padding) in [(1, 1), (2, 0), (2, 1), (1, 0)] {
            let w = Window::new(grid(3, 7, 6), 4, 3, stride, padding).unwrap();
            let (co, k) = (4, 3 * 9);
            let kernel = values(co * k, 1);
            let b = 3;
            let x = values(w.input.size() * b, 2);
            let mut s = Spatial::new(SpatialOp::Conv, w, b);
            let mut z = vec![0.0; w.output.size() * b];
            s.forward(&kernel, &x, &mut z, b, false, Threads::One);
            for i in 0..b {
                let n_in = w.input.size();
                let want = direct(&w, &kernel, &x[i * n_in..(i + 1) * n_in]);
                let got = &z[i * w.output.size()..(i + 1) * w.output.size()];
                for (a, e) in got.iter().zip(&want) {
                    assert!((a - e).abs() < 1e-4, "stride {stride} padding {padding}");
                }
            }
        }
    }

    #[test]
    fn pools_pick_the_max_and_the_mean() {
        let w = Window::new(grid(1, 4, 4), 1, 2, 2, 0).unwrap();
        let x: Vec<f32> = (0..16).map(|i| i as f32).collect();
        let mut max = Spatial::new(SpatialOp::MaxPool, w, 1);
        let mut z = vec![0.0; 4];
        max.forward(&[], &x, &mut z, 1, false, Threads::One);
        assert_eq!(z, [5.0, 7.0, 13.0, 15.0]);
        let mut dx = vec![0.0; 16];
        max.backward(
            &[],
            &[1.0, 2.0, 3.0, 4.0],
            1,
            None,
            Some(&mut dx),
            Threads::One,
        );
        assert_eq!(
            (dx[5], dx[7], dx[13], dx[15], dx[0]),
            (1.0, 2.0, 3.0, 4.0, 0.0)
        );
        let mut avg = Spatial::new(SpatialOp::AvgPool, w, 1);
        avg.forward(&[], &x, &mut z, 1, false, Threads::One);
        assert_eq!(z, [2.5, 4.5, 10.5, 12.5]);
    }

    #[test]
    fn conv_gradients_match_finite_differences() {
        let w = Window::new(grid(2, 5, 5), 3, 3, 2, 1).unwrap();
        let (co, k) = (3, 2 * 9);
        let b = 10; // more than one group of samples
        let mut kernel = values(co * k, 3);
        let mut x = values(w.input.size() * b, 4);
        let r = values(w.output.size() * b, 5); // loss = Σ r·z
        let loss = |kernel: &[f32], x: &[f32]| -> f64 {
            let mut s = Spatial::new(SpatialOp::Conv, w, b);
            let mut z = vec![0.0; w.output.size() * b];
            s.forward(kernel, x, &mut z, b, false, Threads::One);
            z.iter().zip(&r).map(|(z, r)| f64::from(z * r)).sum()
        };
        let mut s = Spatial::new(SpatialOp::Conv, w, b);
        let mut z = vec![0.0; w.output.size() * b];
        s.forward(&kernel, &x, &mut z, b, false, Threads::One);
        let mut grad = vec![0.0; co * k];
        let mut dx = vec![0.0; x.len()];
        s.backward(&kernel, &r, b, Some(&mut grad), Some(&mut dx), Threads::One);
        let h = 1e-2f32;
        for i in [0, 7, co * k - 1] {
            let keep = kernel[i];
            kernel[i] = keep + h;
            let up = loss(&kernel, &x);
            kernel[i] = keep - h;
            let down = loss(&kernel, &x);
            kernel[i] = keep;
            let numeric = (up - down) / (2.0 * f64::from(h));
            assert!((numeric - f64::from(grad[i])).abs() < 2e-2, "dW[{i}]");
        }
        for i in [0, 13, x.len() - 1] {
            let keep = x[i];
            x[i] = keep + h;
            let up = loss(&kernel, &x);
            x[i] = keep - h;
            let down = loss(&kernel, &x);
            x[i] = keep;
            let numeric = (up - down) / (2.0 * f64::from(h));
            assert!((numeric - f64::from(dx[i])).abs() < 2e-2, "dx[{i}]");
        }
    }

    #[test]
    fn weight_gradients_are_identical_on_one_and_several_threads() {
        let w = Window::new(grid(2, 6, 6), 4, 3, 1, 1).unwrap();
        let b = 19;
        let kernel = values(4 * 18, 6);
        let x = values(w.input.size() * b, 7);
        let dz = values(w.output.size() * b, 8);
        let run = |threads: Threads| {
            let mut s = Spatial::new(SpatialOp::Conv, w, b);
            let mut z = vec![0.0; w.output.size() * b];
            s.forward(&kernel, &x, &mut z, b, false, threads);
            let mut grad = vec![0.0; 4 * 18];
            let mut dx = vec![0.0; x.len()];
            s.backward(&kernel, &dz, b, Some(&mut grad), Some(&mut dx), threads);
            (z, grad, dx)
        };
        let one = run(Threads::One);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        let many = pool.install(|| run(Threads::Pool));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one.0), bits(&many.0));
        assert_eq!(bits(&one.1), bits(&many.1));
        assert_eq!(bits(&one.2), bits(&many.2));
    }
}
