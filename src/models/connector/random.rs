//! `random(p)`: each candidate pair is connected independently with probability `p`
//! (NEST `pairwise_bernoulli`, Brian2 `connect(p=...)`).

use rand::Rng;

use super::{Args, ConnectorInfo, Generate, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

pub static INFO: ConnectorInfo = ConnectorInfo::drawn(
    "random",
    "each pair independently with probability p",
    &[ParamSpec {
        name: "p",
        kind: ParamKind::Quantity {
            dim: Dim::NONE,
            default: None,
            range: Range::Between(0.0, 1.0),
            per_element: false,
        },
        doc: "connection probability",
    }],
    |shape: Shape, args: Args| shape.pairs() * args("p").unwrap_or(0.0),
    generate,
);

/// One stream per source; the gaps between connected targets are geometric, so the cost is
/// proportional to the synapses made, not to the pairs examined (as Brian2 and NEST do).
fn generate(g: &Generate) -> Result<Rows, String> {
    let p = match (g.args)("p") {
        Some(p) if (0.0..=1.0).contains(&p) => p,
        Some(p) => return Err(format!("`p` must be between 0 and 1, not {p}")),
        None => return Err("missing argument `p`".into()),
    };
    let Shape { n_pre, n_post, .. } = g.shape;
    // ln(1 - p) computed as ln_1p(-p): for p below about 1.1e-16, `1.0 - p` rounds to 1
    // and its logarithm to 0, which made every skip infinite (or NaN) and the loop endless.
    let log_q = (-p).ln_1p();
    Rows::by_source(g, n_pre, |s, out| {
        if p <= 0.0 {
            return Ok(());
        }
        let skip = g.shape.exclude_autapses.then_some(s);
        if p >= 1.0 {
            out.extend((0..n_post as u32).filter(|&t| Some(t as usize) != skip));
            return Ok(());
        }
        let mut rng = (g.stream)(s as u64);
        let mut t: f64 = -1.0;
        // Each step moves past at least one target, so `n_post + 1` steps always suffice;
        // the bound makes that a guarantee rather than a consequence of the arithmetic.
        for _ in 0..=n_post {
            // 1 - u lies in (0, 1], so its logarithm is finite.
            let u: f64 = rng.random();
            t += 1.0 + ((1.0 - u).ln() / log_q).floor();
            if t >= n_post as f64 {
                break;
            }
            if Some(t as usize) != skip {
                out.push(t as u32);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::models::connector::sequential;

    fn connect(p: f64, n_pre: usize, n_post: usize) -> Rows {
        let args = move |name: &str| (name == "p").then_some(p);
        let stream = |row: u64| Xoshiro256PlusPlus::seed_from_u64(row);
        let g = Generate {
            shape: Shape::between(&[n_pre], &[n_post], false),
            args: &args,
            multapses: false,
            stream: &stream,
            pieces: &sequential,
        };
        generate(&g).expect("valid p")
    }

    #[test]
    fn a_probability_too_small_for_one_minus_p_finishes_with_about_no_synapses() {
        // 1.0 - 1e-17 == 1.0: with ln(1 - p) this never ended.
        let rows = connect(1e-17, 1000, 1000);
        assert_eq!(rows.offsets.len(), 1001);
        assert!(rows.n_synapses() <= 1, "{} synapses", rows.n_synapses());
        let rows = connect(f64::MIN_POSITIVE, 100, 100);
        assert_eq!(rows.n_synapses(), 0);
    }

    #[test]
    fn the_count_follows_p() {
        let rows = connect(0.1, 200, 500);
        let n = rows.n_synapses() as f64;
        // 10,000 expected; the standard deviation is about 95.
        assert!((n - 10_000.0).abs() < 500.0, "{n}");
        for s in 0..200 {
            let row = &rows.targets[rows.offsets[s]..rows.offsets[s + 1]];
            assert!(row.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
            assert!(row.iter().all(|&t| t < 500));
        }
    }
}
