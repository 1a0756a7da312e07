//! Connectors: rules that say which (source, target) pairs of two populations get a synapse.
//!
//! Each connector is one file holding its `ConnectorInfo` (name, parameters, the expected
//! number of synapses for the memory estimate) and its generation rule (`generate`). `REGISTRY`
//! is the only list.
//!
//! Generation is deterministic and parallel: a connector draws from `Generate::stream(row)`,
//! one random stream per source (or per target, for `fixed_indegree`; per block of targets
//! for `fixed_total` and `pd14_total`), so the result depends only on the seed the engine
//! derived for the projection. The rows are drawn in pieces of consecutive rows that
//! `Generate::pieces` runs (the engine in parallel on rayon, `sim::connect`; tests with
//! [`sequential`]) and joins in order, so a seed gives the same synapses for any thread count.

pub mod avgpool;
pub mod conv;
pub mod fixed_indegree;
pub mod fixed_outdegree;
pub mod fixed_total;
pub mod full;
pub mod grid;
pub mod identity;
pub mod maxpool;
pub mod one_to_one;
pub mod pairwise_poisson;
pub mod pd14_total;
pub mod pooling;
pub mod random;

use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{ParamKind, ParamSpec};

/// Numeric connector arguments by name (`p`, `k`, `n`), already unit-checked.
pub type Args<'a> = &'a dyn Fn(&str) -> Option<f64>;

/// Sizes and options the expected synapse count depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub n_pre: usize,
    pub n_post: usize,
    /// Source and target are the same population and self-connections are excluded.
    pub exclude_autapses: bool,
    /// Feature maps of the source and target (`grid::Grid::channels`; 1 for flat shapes
    /// read as one map). Only spatial connectors look at them.
    pub pre_channels: usize,
    pub post_channels: usize,
}

impl Shape {
    /// The shape of a projection between populations of these shapes (`[n]` or `[C, H, W]`).
    pub fn between(pre: &[usize], post: &[usize], exclude_autapses: bool) -> Shape {
        let channels = |s: &[usize]| grid::Grid::of(s).map_or(1, |g| g.channels);
        Shape {
            n_pre: pre.iter().product(),
            n_post: post.iter().product(),
            exclude_autapses,
            pre_channels: channels(pre),
            post_channels: channels(post),
        }
    }

    /// Number of candidate (source, target) pairs.
    pub fn pairs(&self) -> f64 {
        let n = self.n_pre as f64 * self.n_post as f64;
        if self.exclude_autapses {
            n - self.n_pre.min(self.n_post) as f64
        } else {
            n
        }
    }
}

#[derive(Debug)]
pub struct ConnectorInfo {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
    /// Expected number of synapses, for the memory estimate made before anything is allocated.
    pub expected_synapses: fn(Shape, Args) -> f64,
    /// Draws the synapses. The message of an error says what is wrong with the arguments.
    pub generate: fn(&Generate) -> Result<Rows, String>,
    /// Parameter names that unnamed arguments bind to, in order (`maxpool(2)` = `size = 2`).
    pub positional: &'static [&'static str],
    /// Parameters without a default that may be left out (`stride` of a pool: the size).
    pub optional: &'static [&'static str],
    /// Rate-mode spatial connectors (shared kernels over feature maps) say here how they
    /// read the two shapes; they have no synapse list and are refused in spiking networks.
    pub spatial: Option<&'static grid::SpatialInfo>,
    /// How the rate engine stores the synapses `generate` draws.
    pub rate_weights: RateWeights,
    /// Whether the arguments fit these populations, asked by the checker before anything
    /// is drawn so that the mistake is reported at its place in the source.
    pub fits: fn(&Fit) -> Result<(), Misfit>,
}

impl ConnectorInfo {
    /// A connector between flat populations that draws a synapse list, held by a rate
    /// network as a masked matrix, whose arguments fit any populations (override `fits`).
    pub const fn drawn(
        name: &'static str,
        summary: &'static str,
        params: &'static [ParamSpec],
        expected_synapses: fn(Shape, Args) -> f64,
        generate: fn(&Generate) -> Result<Rows, String>,
    ) -> ConnectorInfo {
        ConnectorInfo {
            name,
            summary,
            params,
            expected_synapses,
            generate,
            positional: &[],
            optional: &[],
            spatial: None,
            rate_weights: RateWeights::Matrix,
            fits: fits_any,
        }
    }
}

/// What [`ConnectorInfo::fits`] is asked about: resolved arguments and the two populations.
pub struct Fit<'a> {
    pub args: Args<'a>,
    pub multapses: bool,
    /// Source and target are the same population and self-connections are excluded.
    pub exclude_autapses: bool,
    pub pre: (&'a str, usize),
    pub post: (&'a str, usize),
}

/// Why arguments do not fit: the message, the label under the connector call, and a help.
#[derive(Debug, Clone, PartialEq)]
pub struct Misfit {
    pub message: String,
    pub label: String,
    pub help: String,
}

/// For connectors whose arguments fit any populations.
pub fn fits_any(_: &Fit) -> Result<(), Misfit> {
    Ok(())
}

/// `k` distinct partners out of a pool (`fixed_indegree`: the sources; `fixed_outdegree`:
/// the targets), one fewer on a self-projection without autapses.
pub fn degree_fits(
    fit: &Fit,
    (pool_name, pool): (&str, usize),
    partners: &str,
) -> Result<(), Misfit> {
    let k = (fit.args)("k").unwrap_or(0.0);
    let minus_self = usize::from(fit.exclude_autapses);
    let max = pool.saturating_sub(minus_self);
    if fit.multapses || k <= max as f64 {
        return Ok(());
    }
    let why = if minus_self == 1 {
        format!(" ({pool} minus the neuron itself: autapses are off)")
    } else {
        String::new()
    };
    Err(Misfit {
        message: format!("`k` = {k} is more than the {max} available {partners}"),
        label: format!("`{pool_name}` offers {max} distinct {partners}{why}"),
        help: "lower `k`, or allow repeats with `multapses = true`".into(),
    })
}

/// Equal sizes, for connectors that pair unit `i` with unit `i`.
pub fn same_size(fit: &Fit, connector: &str, help: &str) -> Result<(), Misfit> {
    let ((pre, n_pre), (post, n_post)) = (fit.pre, fit.post);
    if n_pre == n_post {
        return Ok(());
    }
    Err(Misfit {
        message: format!(
            "{connector} needs populations of the same size: `{pre}` has {n_pre}, `{post}` has {n_post}"
        ),
        label: "sizes differ".into(),
        help: help.into(),
    })
}

/// How a rate network holds a (non-spatial) connector's synapses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateWeights {
    /// An `n_post × n_pre` matrix, masked to the pairs `generate` drew (a pair drawn several
    /// times with `multapses` is one weight: a matrix has one entry per pair).
    Matrix,
    /// One learned weight per unit pair `(i, i)`.
    Diagonal,
    /// Source `i` added to target `i` unchanged: unit weights, never trained.
    Unchanged,
}

/// Consecutive rows drawn together: row `i` of the piece holds
/// `values[ends[i - 1]..ends[i]]` (targets of a source, or sources of a target).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Piece {
    pub ends: Vec<usize>,
    pub values: Vec<u32>,
}

/// The work of one piece: its index in, its rows out.
pub type PieceFn<'b> = dyn Fn(usize) -> Result<Piece, String> + Sync + 'b;

/// Runs pieces `0..n` of a generation and returns their results in order (the first error
/// if any fails). Each piece draws from its own streams only, so any schedule gives the
/// same pieces.
pub type Pieces<'a> = &'a (dyn Fn(usize, &PieceFn) -> Result<Vec<Piece>, String> + Sync);

/// Runs pieces one after the other (tests, and users of the models without the engine).
pub fn sequential(n: usize, piece: &PieceFn) -> Result<Vec<Piece>, String> {
    (0..n).map(piece).collect()
}

/// Rows (sources or targets) per piece: fixed, so pieces do not depend on the thread count.
pub const ROWS_PER_PIECE: usize = 1024;

/// What a connector's generation rule gets.
pub struct Generate<'a> {
    pub shape: Shape,
    pub args: &'a (dyn Fn(&str) -> Option<f64> + Sync),
    /// Repeated (source, target) pairs are allowed.
    pub multapses: bool,
    /// The random stream of one row (a source index, or a target index for connectors that
    /// draw per target; a block index for `fixed_total`). Rows never share a stream.
    pub stream: &'a (dyn Fn(u64) -> Xoshiro256PlusPlus + Sync),
    /// Runs the pieces of a generation: in parallel in the engine, [`sequential`] elsewhere.
    pub pieces: Pieces<'a>,
}

impl Generate<'_> {
    /// A numeric argument that must be a whole number >= 0 (`k`, `n`).
    pub fn count(&self, name: &str) -> Result<usize, String> {
        match (self.args)(name) {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x < u32::MAX as f64 => Ok(x as usize),
            Some(x) => Err(format!("`{name}` must be a whole number >= 0, not {x}")),
            None => Err(format!("missing argument `{name}`")),
        }
    }

    /// Candidate targets of one source (or sources of one target): `n` minus the neuron
    /// itself when self-connections are excluded.
    fn candidates(&self, n: usize, own_index: usize) -> (usize, Option<usize>) {
        if self.shape.exclude_autapses && own_index < n {
            (n - 1, Some(own_index))
        } else {
            (n, None)
        }
    }

    /// `k` partners out of `n`, skipping `own_index` when autapses are excluded, drawn from
    /// `rng`; distinct unless multapses are allowed. Sorted ascending.
    pub fn choose(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        n: usize,
        own_index: usize,
        k: usize,
        out: &mut Vec<u32>,
    ) -> Result<(), String> {
        let (m, skip) = self.candidates(n, own_index);
        let start = out.len();
        if self.multapses {
            if m == 0 && k > 0 {
                return Err("no candidate partner to connect to".into());
            }
            for _ in 0..k {
                out.push(rng.random_range(0..m) as u32);
            }
        } else {
            if k > m {
                return Err(format!(
                    "{k} synapses requested but only {m} distinct partners exist (set `multapses = true`?)"
                ));
            }
            out.extend(rand::seq::index::sample(rng, m, k).iter().map(|i| i as u32));
        }
        if let Some(own) = skip {
            for x in &mut out[start..] {
                if *x as usize >= own {
                    *x += 1;
                }
            }
        }
        out[start..].sort_unstable();
        Ok(())
    }
}

/// Synapses in source-major order: the targets of source `s` are
/// `targets[offsets[s]..offsets[s + 1]]`, ascending (repeated for multapses).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    pub offsets: Vec<usize>,
    pub targets: Vec<u32>,
}

impl Rows {
    pub fn n_synapses(&self) -> usize {
        self.targets.len()
    }

    /// Builds rows one source at a time: `row(s, out)` appends the sorted targets of `s`.
    /// Sources are drawn in pieces of [`ROWS_PER_PIECE`] by `g.pieces` and joined in order.
    pub fn by_source(
        g: &Generate,
        n_pre: usize,
        row: impl Fn(usize, &mut Vec<u32>) -> Result<(), String> + Sync,
    ) -> Result<Rows, String> {
        let pieces = rows_in_pieces(g, n_pre, &row)?;
        let total = pieces.iter().map(|p| p.values.len()).sum();
        let mut offsets = Vec::with_capacity(n_pre + 1);
        let mut targets = Vec::with_capacity(total);
        offsets.push(0);
        for piece in pieces {
            let base = targets.len();
            offsets.extend(piece.ends.iter().map(|e| base + e));
            targets.extend_from_slice(&piece.values);
        }
        Ok(Rows { offsets, targets })
    }

    /// Source-major rows from target-major lists: `sources_of(t, out)` appends the sources
    /// of target `t`. Targets are drawn in pieces like [`Rows::by_source`]'s sources.
    pub fn by_target(
        g: &Generate,
        n_pre: usize,
        n_post: usize,
        sources_of: impl Fn(usize, &mut Vec<u32>) -> Result<(), String> + Sync,
    ) -> Result<Rows, String> {
        let pieces = rows_in_pieces(g, n_post, &sources_of)?;
        Ok(Rows::from_target_pieces(n_pre, &pieces))
    }

    /// Source-major rows from pieces of consecutive target rows (piece after piece, each
    /// holding the sources of its targets). A stable counting sort keeps targets ascending
    /// within each row, and repeated pairs in the order drawn.
    pub fn from_target_pieces(n_pre: usize, pieces: &[Piece]) -> Rows {
        let mut offsets = vec![0usize; n_pre + 1];
        for piece in pieces {
            for &s in &piece.values {
                offsets[s as usize + 1] += 1;
            }
        }
        for s in 0..n_pre {
            offsets[s + 1] += offsets[s];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; offsets[n_pre]];
        let mut t = 0u32;
        for piece in pieces {
            let mut start = 0;
            for &end in &piece.ends {
                for &s in &piece.values[start..end] {
                    targets[fill[s as usize]] = t;
                    fill[s as usize] += 1;
                }
                start = end;
                t += 1;
            }
        }
        Rows { offsets, targets }
    }
}

/// Draws row `r` into `out`.
type RowFn<'b> = dyn Fn(usize, &mut Vec<u32>) -> Result<(), String> + Sync + 'b;

/// Rows `0..n` drawn by `row(r, out)`, in pieces of [`ROWS_PER_PIECE`] rows.
fn rows_in_pieces(g: &Generate, n: usize, row: &RowFn) -> Result<Vec<Piece>, String> {
    (g.pieces)(n.div_ceil(ROWS_PER_PIECE), &|i| {
        let rows = i * ROWS_PER_PIECE..((i + 1) * ROWS_PER_PIECE).min(n);
        let mut piece = Piece {
            ends: Vec::with_capacity(rows.len()),
            values: Vec::new(),
        };
        for r in rows {
            row(r, &mut piece.values)?;
            piece.ends.push(piece.values.len());
        }
        Ok(piece)
    })
}

/// Options every connector takes.
pub static COMMON_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "autapses",
        kind: ParamKind::Flag { default: false },
        doc: "allow self-connections when source and target are the same population",
    },
    ParamSpec {
        name: "multapses",
        kind: ParamKind::Flag { default: false },
        doc: "allow repeated (source, target) pairs",
    },
];

pub static REGISTRY: &[&ConnectorInfo] = &[
    &full::INFO,
    &one_to_one::INFO,
    &identity::INFO,
    &random::INFO,
    &fixed_indegree::INFO,
    &fixed_outdegree::INFO,
    &fixed_total::INFO,
    &pd14_total::INFO,
    &pairwise_poisson::INFO,
    &conv::INFO,
    &maxpool::INFO,
    &avgpool::INFO,
];

pub fn find(name: &str) -> Option<&'static ConnectorInfo> {
    REGISTRY.iter().copied().find(|c| c.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|c| c.name)
}
