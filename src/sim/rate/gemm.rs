//! The one place the rate engine multiplies matrices: faer's GEMM on borrowed column-major
//! slices (zero-copy views of nalgebra storage and of the engine's batch buffers).
//!
//! Thread invariance: faer parallelises a product over blocks of the output and keeps the
//! order of every dot product's accumulation, so `Par::Seq` and `Par::rayon(n)` give the
//! same bits (checked by `tests/sim_rate.rs`).

use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

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
    par: Par,
) {
    let dst = MatMut::from_column_major_slice_mut(&mut dst[..rows * cols], rows, cols);
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    matmul(dst, accum, lhs.faer(), rhs.faer(), 1.0f32, par);
}
