//! The one place the rate engine multiplies matrices: faer's GEMM on borrowed column-major
//! slices (zero-copy views of nalgebra storage and of the engine's batch buffers).
//!
//! Thread invariance by construction: a product's output is cut into column blocks whose
//! number depends on the product's shape only (one block per [`BLOCK_MACS`] multiply-adds,
//! at most [`MAX_BLOCKS`]), never on the thread count, and each block is one sequential
//! faer product. Threads only decide which block runs where, so every output element is
//! computed by the same kernel with the same accumulation order on 1 or N threads (checked
//! by `tests/sim_rate.rs`). One rayon task per block also costs far less than faer's own
//! fine-grained parallel GEMM at these sizes on a busy machine.

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Multiply-adds per block: big enough that a block's own packing and dispatch are noise.
pub(crate) const BLOCK_MACS: usize = 1 << 21;

/// Most blocks a product is cut into.
pub(crate) const MAX_BLOCKS: usize = 8;

/// Block widths are multiples of this many columns (whole microkernel tiles).
const COLUMN_ALIGN: usize = 16;

/// How products run: on the calling thread, or split over the current rayon pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    One,
    Pool,
}

/// A column-major matrix borrowed from a slice, optionally used transposed.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub transposed: bool,
}

impl<'a> View<'a> {
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> View<'a> {
        View {
            data: &data[..rows * cols],
            rows,
            cols,
            transposed: false,
        }
    }

    pub fn t(self) -> View<'a> {
        View {
            transposed: !self.transposed,
            ..self
        }
    }

    fn faer(&self) -> MatRef<'a, f32> {
        let m = MatRef::from_column_major_slice(self.data, self.rows, self.cols);
        if self.transposed { m.transpose() } else { m }
    }
}

/// `dst (rows × cols) = [dst +] lhs · rhs`.
pub(crate) fn product(
    dst: &mut [f32],
    rows: usize,
    cols: usize,
    accumulate: bool,
    lhs: View,
    rhs: View,
    threads: Threads,
) {
    let (lhs, rhs) = (lhs.faer(), rhs.faer());
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    if rows == 0 || cols == 0 {
        return;
    }
    let macs = rows * cols * lhs.ncols();
    let n_blocks = (macs / BLOCK_MACS)
        .clamp(1, MAX_BLOCKS)
        .min(cols.div_ceil(COLUMN_ALIGN));
    let width = cols.div_ceil(n_blocks).div_ceil(COLUMN_ALIGN) * COLUMN_ALIGN;
    let block = |(index, chunk): (usize, &mut [f32])| {
        let start = index * width;
        let this_width = chunk.len() / rows;
        let dst = MatMut::from_column_major_slice_mut(chunk, rows, this_width);
        matmul(
            dst,
            accum,
            lhs,
            rhs.subcols(start, this_width),
            1.0f32,
            Par::Seq,
        );
    };
    let dst = &mut dst[..rows * cols];
    if threads == Threads::Pool && width < cols {
        dst.par_chunks_mut(rows * width).enumerate().for_each(block);
    } else {
        dst.chunks_mut(rows * width).enumerate().for_each(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn blocked_products_are_right_and_identical_on_any_pool() {
        // Shapes that cut into several uneven blocks, with transposed operands.
        for &(m, k, n) in &[(37, 300, 500), (128, 128, 784), (10, 128, 128), (3, 2, 1)] {
            let a = values(m * k, 1);
            let b = values(n * k, 2);
            let mut one = vec![0.0f32; m * n];
            let lhs = View::new(&a, m, k);
            let rhs = View::new(&b, n, k).t();
            product(&mut one, m, n, false, lhs, rhs, Threads::One);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .expect("pool");
            let mut many = vec![0.0f32; m * n];
            pool.install(|| product(&mut many, m, n, false, lhs, rhs, Threads::Pool));
            assert!(
                one.iter()
                    .zip(&many)
                    .all(|(x, y)| x.to_bits() == y.to_bits())
            );
            for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 3)] {
                let exact: f64 = (0..k)
                    .map(|p| f64::from(a[p * m + i]) * f64::from(b[p * n + j]))
                    .sum();
                assert!(
                    (f64::from(one[j * m + i]) - exact).abs() < 1e-3,
                    "{m}x{k}x{n}"
                );
            }
            // Accumulating adds the same product again.
            product(&mut one, m, n, true, lhs, rhs, Threads::One);
            assert!((one[0] - 2.0 * many[0]).abs() <= 1e-5 * many[0].abs().max(1.0));
        }
    }
}
