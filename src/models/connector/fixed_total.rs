//! `fixed_total(n)`: exactly `n` synapses between pairs drawn uniformly at random.

use rand::Rng;

use super::{Args, ConnectorInfo, Fit, Generate, Misfit, Rows, Shape};
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

/// One stream (row 0) draws `n` indices into the list of candidate pairs, distinct unless
/// multapses are allowed; each index is decoded to (source, target).
fn generate(g: &Generate) -> Result<Rows, String> {
    let n = g.count("n")?;
    let Shape { n_pre, n_post, .. } = g.shape;
    let exclude = g.shape.exclude_autapses;
    // With autapses excluded, source s has n_post - 1 candidates when s < n_post.
    let per_row = if exclude {
        n_post.saturating_sub(1)
    } else {
        n_post
    };
    let diagonal_rows = if exclude { n_pre.min(n_post) } else { 0 };
    let pairs = diagonal_rows * per_row + (n_pre - diagonal_rows) * n_post;
    if n > 0 && pairs == 0 {
        return Err("no candidate pair to connect".into());
    }
    if !g.multapses && n > pairs {
        return Err(format!(
            "{n} synapses requested but only {pairs} distinct pairs exist (set `multapses = true`?)"
        ));
    }
    let mut rng = (g.stream)(0);
    let mut picks: Vec<usize> = if g.multapses {
        (0..n).map(|_| rng.random_range(0..pairs)).collect()
    } else {
        rand::seq::index::sample(&mut rng, pairs, n).into_vec()
    };
    picks.sort_unstable();
    let decode = |i: usize| -> (usize, u32) {
        if i < diagonal_rows * per_row {
            let (s, j) = (i / per_row, i % per_row);
            let t = if j >= s { j + 1 } else { j };
            (s, t as u32)
        } else {
            let rest = i - diagonal_rows * per_row;
            (diagonal_rows + rest / n_post, (rest % n_post) as u32)
        }
    };
    let mut next = 0;
    Rows::by_source(n_pre, |s, out| {
        while next < picks.len() {
            let (source, target) = decode(picks[next]);
            if source != s {
                break;
            }
            out.push(target);
            next += 1;
        }
        Ok(())
    })
}
