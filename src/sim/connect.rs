//! A projection's synapses, drawn by its connector: the one place either engine calls
//! `ConnectorInfo::generate`, so a seed gives the same synapses in rate and spiking mode.
//! Row `r` draws from the stream (seed, `Purpose::Connect`, [projection id, r]); the pieces
//! of a generation (`connector::Piece`) run in parallel on the current rayon pool.

use rayon::prelude::*;

use crate::ir::Projection;
use crate::models::connector::{Generate, Piece, PieceFn, Rows, Shape};
use crate::sim::rng::{Purpose, stream};

/// The rows (targets of each source) of projection `id` between `n_pre` sources and
/// `n_post` targets; `self_projection` when both ends are the same population.
pub fn synapses(
    seed: u64,
    id: u64,
    projection: &Projection,
    n_pre: usize,
    n_post: usize,
    self_projection: bool,
) -> Result<Rows, String> {
    let flag = |name: &str| projection.connector_args.required_flag(name);
    let shape = Shape {
        n_pre,
        n_post,
        exclude_autapses: self_projection && !flag("autapses")?,
        pre_channels: 1,
        post_channels: 1,
    };
    let args = |arg: &str| projection.connector_args.number(arg);
    let row_stream = |row: u64| stream(seed, Purpose::Connect, &[id, row]);
    (projection.connector.generate)(&Generate {
        shape,
        args: &args,
        multapses: flag("multapses")?,
        stream: &row_stream,
        pieces: &in_parallel,
    })
}

/// Runs a connector's pieces on the current rayon pool, collected in piece order.
fn in_parallel(n: usize, piece: &PieceFn) -> Result<Vec<Piece>, String> {
    (0..n).into_par_iter().map(piece).collect()
}
