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
pub(crate) const BLOCK_MACS: usize = 1 << 22;

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
