//! `pairwise_poisson(mean)`: every candidate pair gets a Poisson-distributed number of
//! synapses with the given mean (NEST `pairwise_poisson`, `pairwise_avg_num_conns`). Pairs
//! connected several times are multapses, so it needs `multapses = true`, as in NEST.

use rand::Rng;
use rand_distr::{Distribution, Poisson};

use super::{Args, ConnectorInfo, Fit, Generate, Misfit, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

pub static INFO: ConnectorInfo = ConnectorInfo {
    fits,
    ..ConnectorInfo::drawn(
        "pairwise_poisson",
        "a Poisson number of synapses (mean `mean`) for every pair; needs multapses",
        &[ParamSpec {
            name: "mean",
            kind: ParamKind::Quantity {
                dim: Dim::NONE,
                default: None,
                range: Range::NonNegative,
                per_element: false,
            },
            doc: "expected number of synapses per pair",
        }],
        |shape: Shape, args: Args| shape.pairs() * args("mean").unwrap_or(0.0),
        generate,
    )
};

/// A pair drawn several times is a multapse: refused unless they are allowed, as in NEST.
fn fits(fit: &Fit) -> Result<(), Misfit> {
    if fit.multapses || (fit.args)("mean").is_some_and(|m| m == 0.0) {
        return Ok(());
    }
    Err(Misfit {
        message: "pairwise_poisson connects a pair several times, and multapses are off".into(),
        label: "draws a Poisson number of synapses per pair".into(),
        help: "add `multapses = true` to the connector's arguments".into(),
    })
}

/// One stream per source. Independent Poisson counts per pair are, given their sum, a
/// uniform multinomial over the pairs; so a row draws its total from Poisson(mean · c) for
/// its `c` candidate targets and then that many targets uniformly with replacement. Exactly
/// the same distribution as one draw per pair, at a cost proportional to the synapses made.
fn generate(g: &Generate) -> Result<Rows, String> {
    let mean = match (g.args)("mean") {
        Some(m) if m.is_finite() && m >= 0.0 => m,
        Some(m) => return Err(format!("`mean` must be a finite number ≥ 0, not {m}")),
        None => return Err("missing argument `mean`".into()),
    };
    if !g.multapses && mean > 0.0 {
        return Err(
            "pairwise_poisson connects a pair several times: set `multapses = true`".into(),
        );
    }
    let Shape { n_pre, n_post, .. } = g.shape;
    Rows::by_source(g, n_pre, |s, out| {
        let skip = (g.shape.exclude_autapses && s < n_post).then_some(s as u32);
        let candidates = n_post - usize::from(skip.is_some());
        let row_mean = mean * candidates as f64;
        if row_mean <= 0.0 {
            return Ok(());
        }
        let mut rng = (g.stream)(s as u64);
        let total = Poisson::new(row_mean)
            .map_err(|e| format!("mean {mean} per pair: {e}"))?
            .sample(&mut rng) as usize;
        let start = out.len();
        for _ in 0..total {
            let mut t = rng.random_range(0..candidates) as u32;
            if skip.is_some_and(|d| t >= d) {
                t += 1;
            }
            out.push(t);
        }
        out[start..].sort_unstable();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::models::connector::sequential;

    fn connect(mean: f64, n: usize, exclude_autapses: bool) -> Result<Rows, String> {
        let args = move |name: &str| (name == "mean").then_some(mean);
        let stream = |row: u64| Xoshiro256PlusPlus::seed_from_u64(row);
        generate(&Generate {
            shape: Shape::between(&[n], &[n], exclude_autapses),
            args: &args,
            multapses: true,
            stream: &stream,
            pieces: &sequential,
        })
    }

    #[test]
    fn the_count_follows_the_mean_and_a_pair_may_repeat() {
        let rows = connect(0.5, 300, true).expect("valid mean");
        let expected =
            (INFO.expected_synapses)(Shape::between(&[300], &[300], true), &|_| Some(0.5));
        // 300 · 299 · 0.5 = 44,850 expected; the standard deviation is about 212.
        assert_eq!(expected, 44_850.0);
        let n = rows.n_synapses() as f64;
        assert!((n - expected).abs() < 5.0 * expected.sqrt(), "{n}");
        let mut repeats = 0;
        for s in 0..300 {
            let row = &rows.targets[rows.offsets[s]..rows.offsets[s + 1]];
            assert!(row.windows(2).all(|w| w[0] <= w[1]), "sorted");
            assert!(!row.contains(&(s as u32)), "no autapse");
            repeats += row.windows(2).filter(|w| w[0] == w[1]).count();
        }
        // P(count ≥ 2) = 1 − e^−0.5·1.5 ≈ 0.09 of the pairs.
        assert!(repeats > 1000, "{repeats} repeated pairs");
    }

    #[test]
    fn without_multapses_it_says_what_to_set() {
        let args = |name: &str| (name == "mean").then_some(1.0);
        let stream = |row: u64| Xoshiro256PlusPlus::seed_from_u64(row);
        let err = generate(&Generate {
            shape: Shape::between(&[3], &[3], false),
            args: &args,
            multapses: false,
            stream: &stream,
            pieces: &sequential,
        })
        .unwrap_err();
        assert!(err.contains("multapses = true"), "{err}");
    }
}
