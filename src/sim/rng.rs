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

/// One draw from a distribution, clamped to its `clip` interval if it has one.
pub fn draw(dist: &Distribution, rng: &mut impl Rng) -> f64 {
    let x = match dist.kind {
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
    };
    match dist.clip {
        Some((lo, hi)) => x.clamp(lo, hi),
        None => x,
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
        };
        assert!((0..1000).all(|_| (0.1..=2.0).contains(&draw(&clipped, &mut rng))));
        let lognormal = Distribution {
            kind: DistKind::LogNormal { mean: 2.0, sd: 0.5 },
            clip: None,
        };
        let n = 20_000;
        let mean: f64 = (0..n).map(|_| draw(&lognormal, &mut rng)).sum::<f64>() / n as f64;
        assert!((mean - 2.0).abs() < 0.03, "mean {mean}");
    }
}
