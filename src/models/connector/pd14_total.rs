//! `pd14_total(c = 0.1009)`: the total-synapse rule of the Potjans–Diesmann (2014) cortical
//! microcircuit. `c` is the probability that a (source, target) pair is connected at least
//! once; the projection gets
//!
//! ```text
//! K = round(scale · ln(1 − c) / ln(1 − 1/(N_pre·N_post)))
//! ```
//!
//! computed in f64 exactly as the reference computes it (`ln(1 − c) / ln((P − 1)/P)` with
//! P = N_pre·N_post, times `scale`, rounded half to even as NumPy's `round`), so the counts
//! agree with NEST's to the synapse. A down-scaled model (`N_scaling`, `K_scaling` of the
//! reference) passes the full-scale sizes as `n_pre_full`, `n_post_full` (default: the
//! populations' own sizes) and `scale = N_scaling · K_scaling`: the reference scales the
//! full-scale count rather than applying the formula to the smaller populations, which keeps
//! in-degrees at `K_scaling` times their full value.
//!
//! synapses, each with its source and its target drawn independently and uniformly, so a
//! pair may be connected several times and a neuron to itself (multapses and autapses,
//! always: the rule is defined with them). This is how the NEST and INM-6 reference
//! implementations build the model (`helpers.get_total_number_of_synapses`, then
//! `fixed_total_number` with NEST's defaults `allow_autapses = allow_multapses = True`).
//! For L2/3E → L2/3E (20,683 neurons, c = 0.1009) K = 45,499,805 (45.50 M; ln_1p
//! would give 45,499,806).
//!
//! The `autapses` and `multapses` options are not read. Synapses are drawn like
//! `fixed_total(n = K, multapses = true, autapses = true)`, in parallel blocks of targets
//! (`fixed_total::draw_total`).

use super::{Args, ConnectorInfo, Fit, Generate, Misfit, Rows, Shape};
use crate::models::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

pub static INFO: ConnectorInfo = ConnectorInfo {
    fits,
    optional: &["n_pre_full", "n_post_full"],
    ..ConnectorInfo::drawn(
        "pd14_total",
        "scale·ln(1-c)/ln(1-1/(N_pre N_post)) synapses, pre and post drawn independently (Potjans & Diesmann 2014)",
        &[
            ParamSpec {
                name: "c",
                kind: ParamKind::Quantity {
                    dim: Dim::NONE,
                    default: None,
                    range: Range::Between(0.0, 1.0),
                    per_element: false,
                },
                doc: "probability that a pair is connected at least once, 0 ≤ c < 1",
            },
            ParamSpec {
                name: "scale",
                kind: ParamKind::Quantity {
                    dim: Dim::NONE,
                    default: Some(1.0),
                    range: Range::NonNegative,
                    per_element: false,
                },
                doc: "factor on the count (N_scaling · K_scaling of a down-scaled model)",
            },
            ParamSpec {
                name: "n_pre_full",
                kind: ParamKind::Integer {
                    default: None,
                    range: Range::Positive,
                },
                doc: "source size the count is computed for (default: the source's size)",
            },
            ParamSpec {
                name: "n_post_full",
                kind: ParamKind::Integer {
                    default: None,
                    range: Range::Positive,
                },
                doc: "target size the count is computed for (default: the target's size)",
            },
        ],
        expected,
        generate,
    )
};

/// K for connection probability `c` between `n_pre` sources and `n_post` targets, times
/// `scale`: the number of independent uniform draws of a pair after which a given pair has
/// been drawn at least once with probability `c`. `None` unless 0 ≤ c < 1 and `scale` is a
/// finite number ≥ 0.
pub fn total(c: f64, n_pre: usize, n_post: usize, scale: f64) -> Option<u64> {
    if !((0.0..1.0).contains(&c) && scale >= 0.0 && scale.is_finite()) {
        return None;
    }
    let pairs = n_pre as f64 * n_post as f64;
    if c == 0.0 || pairs == 0.0 {
        return Some(0);
    }
    if pairs == 1.0 {
        // ln(1 − 1) = −∞: one pair, connected (once) with any c > 0 in the limit.
        return Some((scale).round_ties_even() as u64);
    }
    // The reference's expression, not ln_1p: the same f64 operations give the same count.
    let k = (1.0 - c).ln() / ((pairs - 1.0) / pairs).ln();
    Some((k * scale).round_ties_even() as u64)
}

/// The count of a projection between `n_pre` and `n_post` neurons with these arguments.
fn count(args: Args, n_pre: usize, n_post: usize) -> Option<u64> {
    let size = |name: &str, own: usize| args(name).map_or(own, |n| n as usize);
    total(
        args("c")?,
        size("n_pre_full", n_pre),
        size("n_post_full", n_post),
        args("scale").unwrap_or(1.0),
    )
}

fn expected(shape: Shape, args: Args) -> f64 {
    count(args, shape.n_pre, shape.n_post).map_or(0.0, |k| k as f64)
}

/// `c` must be below 1: at 1 every pair must be connected, which needs infinitely many
/// independent draws.
fn fits(fit: &Fit) -> Result<(), Misfit> {
    let c = (fit.args)("c").unwrap_or(0.0);
    if (0.0..1.0).contains(&c) {
        return Ok(());
    }
    Err(Misfit {
        message: format!("`c` = {c} gives no finite number of synapses: it must be below 1"),
        label: "ln(1 − c) is −∞ at c = 1".into(),
        help: format!(
            "`c` is the probability that a pair of `{}` and `{}` is connected at least once; use \
             `full` to connect every pair once",
            fit.pre.0, fit.post.0
        ),
    })
}

fn generate(g: &Generate) -> Result<Rows, String> {
    let c = (g.args)("c").ok_or("missing argument `c`")?;
    let k = count(g.args, g.shape.n_pre, g.shape.n_post).ok_or_else(|| {
        format!("`c` must be at least 0 and below 1 and `scale` finite and ≥ 0 (c = {c})")
    })?;
    super::fixed_total::draw_total(g, k, true, false)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use super::*;
    use crate::models::connector::sequential;

    /// Populations and the connection probabilities of ANCHORS_SPIKING §3.1–3.2 (rows
    /// target, columns source, order L23E L23I L4E L4I L5E L5I L6E L6I).
    const N: [usize; 8] = [20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948];
    const C: [[f64; 8]; 8] = [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
        [
            0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252,
        ],
        [
            0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443,
        ],
    ];
    /// ANCHORS_SPIKING §3.3, in millions, two decimals.
    const MILLIONS: [[f64; 8]; 8] = [
        [45.50, 22.32, 20.25, 9.67, 3.29, 0.0, 2.27, 0.0],
        [17.44, 5.02, 4.11, 1.69, 2.22, 0.0, 0.35, 0.0],
        [3.50, 0.76, 24.48, 17.41, 0.71, 0.01, 14.62, 0.0],
        [8.11, 0.09, 9.93, 5.22, 0.09, 0.0, 8.81, 0.0],
        [10.61, 1.82, 5.51, 0.15, 2.04, 2.41, 1.44, 0.0],
        [1.24, 0.17, 0.61, 0.01, 0.32, 0.43, 0.13, 0.0],
        [4.68, 0.56, 6.73, 1.32, 4.11, 0.31, 8.37, 10.83],
        [2.26, 0.02, 0.22, 0.01, 0.40, 0.03, 2.89, 1.35],
    ];

    #[test]
    fn full_scale_counts_are_those_of_the_reference() {
        let mut sum = 0u64;
        for t in 0..8 {
            for s in 0..8 {
                let k = total(C[t][s], N[s], N[t], 1.0).expect("c below 1");
                let shape = Shape::between(&[N[s]], &[N[t]], false);
                let estimate =
                    (INFO.expected_synapses)(shape, &|name| (name == "c").then_some(C[t][s]));
                assert_eq!(estimate, k as f64, "the estimate is the count drawn");
                let millions = (k as f64 / 1e6 * 100.0).round() / 100.0;
                assert_eq!(millions, MILLIONS[t][s], "{t} <- {s}: {k}");
                sum += k;
            }
        }
        assert_eq!(total(0.1009, 20683, 20683, 1.0), Some(45_499_805));
        // 10 % of the neurons, full in-degrees: a tenth of the full-scale count.
        let args = |name: &str| match name {
            "c" => Some(0.1009),
            "scale" => Some(0.1),
            _ => Some(20683.0),
        };
        assert_eq!(count(&args, 2068, 2068), Some(4_549_980));
        // Total recurrent synapses 2.989e8.
        assert_eq!((sum as f64 / 1e5).round() / 1e3, 2.989, "{sum}");
    }

    #[test]
    fn c_outside_zero_to_one_has_no_count() {
        assert_eq!(total(1.0, 10, 10, 1.0), None);
        assert_eq!(total(-0.1, 10, 10, 1.0), None);
        assert_eq!(total(0.5, 10, 10, f64::NAN), None);
        assert_eq!(total(0.0, 10, 10, 1.0), Some(0));
        assert_eq!(total(0.5, 1, 1, 1.0), Some(1));
    }

    #[test]
    fn a_small_scale_generation_draws_k_synapses_with_autapses_and_multapses() {
        // 2068 neurons onto themselves, c = 0.1009: K = 454,866 of 4.28e6 pairs.
        let n = 2068;
        let k = total(0.1009, n, n, 1.0).expect("c below 1") as usize;
        let args = |name: &str| (name == "c").then_some(0.1009);
        let stream = |row: u64| Xoshiro256PlusPlus::seed_from_u64(row ^ 0x5eed);
        let rows = generate(&Generate {
            shape: Shape::between(&[n], &[n], true),
            args: &args,
            multapses: false,
            stream: &stream,
            pieces: &sequential,
        })
        .expect("valid c");
        assert_eq!(rows.n_synapses(), k);
        let (mut autapses, mut repeats) = (0usize, 0usize);
        let mut in_degree = vec![0usize; n];
        for s in 0..n {
            let row = &rows.targets[rows.offsets[s]..rows.offsets[s + 1]];
            assert!(row.windows(2).all(|w| w[0] <= w[1]), "sorted");
            autapses += row.iter().filter(|&&t| t as usize == s).count();
            repeats += row.windows(2).filter(|w| w[0] == w[1]).count();
            for &t in row {
                in_degree[t as usize] += 1;
            }
        }
        // Each pair is drawn Poisson(λ = K/N² = −ln(1 − c) ≈ 0.1064) times: about N·λ = 220
        // autapses, and N²·c = 431,511 pairs connected, so K − 431,511 = 23,355 synapses
        // repeat a pair (sd ≈ 150).
        assert!((150..300).contains(&autapses), "{autapses} autapses");
        assert!((22_700..24_300).contains(&repeats), "{repeats} repeats");
        // The fraction of pairs connected at least once is c.
        let connected = k - repeats;
        let fraction = connected as f64 / (n * n) as f64;
        assert!((fraction - 0.1009).abs() < 0.001, "{fraction}");
        // In-degrees are binomial(K, 1/N): mean 220, variance ≈ 220.
        let mean = k as f64 / n as f64;
        let var = in_degree
            .iter()
            .map(|&d| (d as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!(
            (var / mean - 1.0).abs() < 0.15,
            "variance {var}, mean {mean}"
        );
    }
}
