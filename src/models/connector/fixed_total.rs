//! `fixed_total(n)`: exactly `n` synapses between pairs drawn uniformly at random (NEST
//! `fixed_total_number`), drawn in parallel blocks of targets (see [`draw_total`]).

use rand::Rng;
use rand_distr::{Binomial, Distribution as _, Hypergeometric};

use super::{Args, ConnectorInfo, Fit, Generate, Misfit, Piece, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: ConnectorInfo = ConnectorInfo {
    fits,
    ..ConnectorInfo::drawn(
        "fixed_total",
        "n synapses between random pairs",
        &[ParamSpec {
            name: "n",
            kind: ParamKind::Integer {
                default: None,
                range: Range::NonNegative,
            },
            doc: "total number of synapses",
        }],
        |_: Shape, args: Args| args("n").unwrap_or(0.0),
        generate,
    )
};

/// At most one synapse per pair unless multapses are allowed.
fn fits(fit: &Fit) -> Result<(), Misfit> {
    let n = (fit.args)("n").unwrap_or(0.0);
    let ((pre, n_pre), (post, n_post)) = (fit.pre, fit.post);
    let pairs = n_pre as f64 * n_post as f64
        - if fit.exclude_autapses {
            n_pre as f64
        } else {
            0.0
        };
    if fit.multapses || n <= pairs {
        return Ok(());
    }
    Err(Misfit {
        message: format!("`n` = {n} is more than the {pairs} possible pairs"),
        label: format!("`{pre}` × `{post}` has {pairs} distinct pairs"),
        help: "lower `n`, or allow repeats with `multapses = true`".into(),
    })
}

/// Targets per block of the split (fixed, so the network does not depend on the threads).
pub const TARGETS_PER_BLOCK: usize = 1024;

/// The stream row of the split; blocks use rows `0..n_blocks`, far below it.
const SPLIT_ROW: u64 = u64::MAX;

/// Exactly `n` synapses, distinct pairs unless multapses are allowed.
fn generate(g: &Generate) -> Result<Rows, String> {
    let n = g.count("n")?;
    draw_total(g, n as u64, g.multapses, g.shape.exclude_autapses)
}

/// `n` synapses between pairs drawn uniformly (with replacement if `multapses`, else
/// distinct), over the candidate pairs (`exclude_autapses`: minus (i, i)). Shared with
/// `pd14_total`.
///
/// The scheme, parallel and the same for any thread count: the targets are cut into blocks
/// of [`TARGETS_PER_BLOCK`]. One stream (row `u64::MAX`) splits `n` over the blocks in block
/// order, each block's count drawn given what earlier blocks took: binomial with the
/// block's share of the remaining pairs (with replacement: the counts are multinomial), or
/// hypergeometric (distinct pairs: multivariate hypergeometric). Then block `b` draws its
/// count of pairs among its own (target-major: target, then source) from stream row `b`, in
/// parallel, and the blocks are transposed into source-major rows. The result has the
/// distribution of `n` draws over all pairs at once.
pub fn draw_total(
    g: &Generate,
    n: u64,
    multapses: bool,
    exclude_autapses: bool,
) -> Result<Rows, String> {
    let Shape { n_pre, n_post, .. } = g.shape;
    // Candidate sources of target t: n_pre, minus t itself if excluded.
    let candidates = |t: usize| (n_pre - usize::from(exclude_autapses && t < n_pre)) as u64;
    let n_blocks = n_post.div_ceil(TARGETS_PER_BLOCK);
    let block = |b: usize| b * TARGETS_PER_BLOCK..((b + 1) * TARGETS_PER_BLOCK).min(n_post);
    let block_pairs: Vec<u64> = (0..n_blocks)
        .map(|b| block(b).map(candidates).sum())
        .collect();
    let pairs: u64 = block_pairs.iter().sum();
    if n > 0 && pairs == 0 {
        return Err("no candidate pair to connect".into());
    }
    if !multapses && n > pairs {
        return Err(format!(
            "{n} synapses requested but only {pairs} distinct pairs exist (set `multapses = true`?)"
        ));
    }
    let mut split = (g.stream)(SPLIT_ROW);
    let (mut left, mut left_pairs) = (n, pairs);
    let mut counts = Vec::with_capacity(n_blocks);
    for &c in &block_pairs {
        let k = if left == 0 || c == 0 {
            0
        } else if c == left_pairs {
            left
        } else if multapses {
            Binomial::new(left, c as f64 / left_pairs as f64)
                .map_err(|e| format!("split of {n} synapses: {e}"))?
                .sample(&mut split)
        } else {
            Hypergeometric::new(left_pairs, c, left)
                .map_err(|e| format!("split of {n} synapses: {e}"))?
                .sample(&mut split)
        };
        counts.push(k);
        left -= k;
        left_pairs -= c;
    }
    let pieces = (g.pieces)(n_blocks, &|b| {
        let targets = block(b);
        let (k, c) = (counts[b] as usize, block_pairs[b] as usize);
        let mut rng = (g.stream)(b as u64);
        let mut picks: Vec<usize> = if multapses {
            (0..k).map(|_| rng.random_range(0..c)).collect()
        } else {
            rand::seq::index::sample(&mut rng, c, k).into_vec()
        };
        picks.sort_unstable();
        // Pair index → (target, source): targets in order, each with its candidates.
        let mut piece = Piece {
            ends: Vec::with_capacity(targets.len()),
            values: Vec::with_capacity(k),
        };
        let mut next = 0;
        let mut first_pair = 0usize;
        for t in targets {
            let m = candidates(t) as usize;
            while next < picks.len() && picks[next] < first_pair + m {
                let j = picks[next] - first_pair;
                let excluded = exclude_autapses && t < n_pre;
                piece
                    .values
                    .push((j + usize::from(excluded && j >= t)) as u32);
                next += 1;
            }
            first_pair += m;
            piece.ends.push(piece.values.len());
        }
        Ok(piece)
    })?;
    Ok(Rows::from_target_pieces(n_pre, &pieces))
}
