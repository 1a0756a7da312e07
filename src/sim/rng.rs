//! Seeding: every random draw of a run comes from a stream identified by (master seed,
//! purpose, owner ids), so results depend on the seed only, never on thread count, partition
//! boundaries or the order in which work is scheduled.
//!
//! A stream is a `Xoshiro256PlusPlus` seeded by hashing its key with SplitMix64. One stream
//! per neuron (initial state, per-neuron parameters, Poisson trains, white noise) or per connector row
//! (synapse generation, weights, delays) means any part of the network can be built by
//! whichever thread owns it and still get the same numbers.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution as _, LogNormal, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::ir::{DistKind, Distribution, Value};

/// What a stream is used for; part of its key so that two uses never share numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Initial value of a state variable (`v = uniform(...)`).
    InitialState = 1,
    /// A per-neuron parameter given as a distribution.
    Parameter = 2,
    /// Which pairs a connector connects.
    Connect = 3,
    /// Per-synapse weights.
    Weight = 4,
    /// Per-synapse delays.
    Delay = 5,
    /// A neuron's own spike train (Poisson sources).
    Spikes = 6,
    /// A neuron's white noise (`xi` in the equations of a user-defined model), drawn in
    /// step order, the noises of a step in the order of `System::noises`.
    Noise = 7,
}

/// SplitMix64's finaliser: a bijective 64-bit mix with good avalanche.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit key folded from the master seed, the purpose and any number of ids.
pub fn key(seed: u64, purpose: Purpose, ids: &[u64]) -> u64 {
    let mut h = splitmix64(seed ^ splitmix64(purpose as u64));
    for &id in ids {
        h = splitmix64(h ^ id);
    }
    h
}

/// The stream for `key(seed, purpose, ids)`.
pub fn stream(seed: u64, purpose: Purpose, ids: &[u64]) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(key(seed, purpose, ids))
}

/// A stable 64-bit id for a name (FNV-1a), so that streams can be keyed by variable names.
pub fn name_id(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// Draws before a value still outside a redraw interval is clamped into it instead. The
/// checker refuses intervals holding less than `ir::MIN_REDRAW_SHARE` of the values, for
/// which this many misses have a probability below e^-100.
pub const MAX_REDRAWS: usize = 100_000;

/// One draw from a distribution: drawn again while outside its `redraw` interval (the
/// draws of one value come one after the other from `rng`), then clamped to its `clip`
/// interval if it has one.
pub fn draw(dist: &Distribution, rng: &mut impl Rng) -> f64 {
    let x = match dist.redraw {
        None => sample(dist, rng),
        Some((lo, hi)) => {
            let mut x = sample(dist, rng);
            for _ in 1..MAX_REDRAWS {
                if lo <= x && x <= hi {
                    break;
                }
                x = sample(dist, rng);
            }
            x.clamp(lo, hi)
        }
    };
    match dist.clip {
        Some((lo, hi)) => x.clamp(lo, hi),
        None => x,
    }
}

/// One value of the distribution itself, before redraws and clipping.
fn sample(dist: &Distribution, rng: &mut impl Rng) -> f64 {
    match dist.kind {
        DistKind::Uniform { low, high } => {
            if high > low {
                rng.random_range(low..high)
            } else {
                low
            }
        }
        DistKind::Normal { mean, sd } => match Normal::new(mean, sd) {
            Ok(normal) => normal.sample(rng),
            Err(_) => mean,
        },
        DistKind::LogNormal { mean, sd } => {
            // Parameters of the underlying normal from the mean and sd of the values.
            if mean <= 0.0 {
                mean
            } else {
                let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
                let mu = mean.ln() - 0.5 * sigma2;
                match LogNormal::new(mu, sigma2.sqrt()) {
                    Ok(lognormal) => lognormal.sample(rng),
                    Err(_) => mean,
                }
            }
        }
    }
}

/// The value of a number or one draw of a distribution; `None` for any other kind of value.
pub fn number_or_draw(value: &Value, rng: &mut impl Rng) -> Option<f64> {
    match value {
        Value::Number(x) => Some(*x),
        Value::Dist(d) => Some(draw(d, rng)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_every_part_of_their_key() {
        let a = key(1, Purpose::Weight, &[0, 5]);
        assert_ne!(a, key(2, Purpose::Weight, &[0, 5]));
        assert_ne!(a, key(1, Purpose::Delay, &[0, 5]));
        assert_ne!(a, key(1, Purpose::Weight, &[0, 6]));
        assert_ne!(a, key(1, Purpose::Weight, &[5, 0]));
        assert_eq!(a, key(1, Purpose::Weight, &[0, 5]));
    }

    #[test]
    fn clipped_normal_stays_inside_its_bounds_and_lognormal_has_its_mean() {
        let mut rng = stream(3, Purpose::Weight, &[]);
        let clipped = Distribution {
            kind: DistKind::Normal { mean: 1.5, sd: 3.0 },
            clip: Some((0.1, 2.0)),
            redraw: None,
        };
        assert!((0..1000).all(|_| (0.1..=2.0).contains(&draw(&clipped, &mut rng))));
        let lognormal = Distribution {
            kind: DistKind::LogNormal { mean: 2.0, sd: 0.5 },
            clip: None,
            redraw: None,
        };
        let n = 20_000;
        let mean: f64 = (0..n).map(|_| draw(&lognormal, &mut rng)).sum::<f64>() / n as f64;
        assert!((mean - 2.0).abs() < 0.03, "mean {mean}");
    }

    #[test]
    fn redrawn_values_follow_the_truncated_distribution() {
        // NEST's PD14 weights: normal(87.81 pA, 8.78 pA) redrawn below 0, and a wide normal
        // truncated to [0, ∞), whose mean is μ + σ·φ(α)/(1 − Φ(α)), α = −μ/σ.
        let mut rng = stream(11, Purpose::Weight, &[]);
        let n = 200_000;
        let (mean, sd) = (0.5, 1.0);
        let truncated = Distribution {
            kind: DistKind::Normal { mean, sd },
            clip: None,
            redraw: Some((0.0, f64::INFINITY)),
        };
        let values: Vec<f64> = (0..n).map(|_| draw(&truncated, &mut rng)).collect();
        assert!(values.iter().all(|&x| x >= 0.0));
        let sample_mean = values.iter().sum::<f64>() / n as f64;
        let alpha = -mean / sd;
        let analytic = mean
            + sd * crate::ir::value::normal_pdf(alpha)
                / (1.0 - crate::ir::value::normal_cdf(alpha));
        assert!((analytic - 1.0091).abs() < 1e-3, "analytic {analytic}");
        assert!((truncated.mean() - analytic).abs() < 1e-9);
        // The sd of the truncated values is about 0.72: the sample mean is within 0.005.
        assert!(
            (sample_mean - analytic).abs() < 0.005,
            "{sample_mean} vs {analytic}"
        );
        // Clipping instead piles the cut-off share, Φ(−0.5) = 0.31, onto the bound.
        let clipped = Distribution {
            redraw: None,
            clip: Some((0.0, f64::INFINITY)),
            ..truncated
        };
        let zeros = (0..n).filter(|_| draw(&clipped, &mut rng) == 0.0).count() as f64 / n as f64;
        assert!((zeros - 0.3085).abs() < 0.005, "{zeros}");
        // An inhibitory weight redrawn above 0 keeps its sign; its share inside is Φ(10).
        let inhibitory = Distribution {
            kind: DistKind::Normal {
                mean: -351.2,
                sd: 35.12,
            },
            clip: None,
            redraw: Some((f64::NEG_INFINITY, 0.0)),
        };
        assert!((inhibitory.mass_inside(f64::NEG_INFINITY, 0.0) - 1.0).abs() < 1e-9);
        assert!((0..1000).all(|_| draw(&inhibitory, &mut rng) <= 0.0));
    }

    #[test]
    fn the_normal_distribution_function_has_its_known_values() {
        use crate::ir::value::normal_cdf;
        for (x, phi) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.96, 0.024_997_895),
            (3.0, 0.998_650_102),
        ] {
            assert!(
                (normal_cdf(x) - phi).abs() < 1e-7,
                "Φ({x}) = {}",
                normal_cdf(x)
            );
        }
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
    }
}
