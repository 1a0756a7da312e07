//! Weight initialisers for rate-mode projections: the registry of names and the draws.
//!
//! | name | distribution | reference |
//! | --- | --- | --- |
//! | `zeros` | 0 | |
//! | `uniform` | U(±1/sqrt(fan_in)) | PyTorch `nn.Linear` default |
//! | `normal` | N(0, 0.01²) | |
//! | `xavier` | U(±sqrt(6/(fan_in+fan_out))) | Glorot & Bengio 2010 |
//! | `he` | N(0, 2/fan_in) | He et al. 2015 (Kaiming normal) |
//!
//! The engine seeds one generator per projection from the network seed, so a projection's
//! initial weights do not depend on how many projections come before it or on threads.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

pub static NAMES: &[&str] = &["zeros", "uniform", "normal", "xavier", "he"];

/// The initialiser of a projection that names none (PyTorch's `nn.Linear` default).
pub const DEFAULT: &str = "uniform";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    Zeros,
    Uniform,
    Normal,
    Xavier,
    He,
}

impl Init {
    pub fn from_name(name: &str) -> Option<Init> {
        Some(match name {
            "zeros" => Init::Zeros,
            "uniform" => Init::Uniform,
            "normal" => Init::Normal,
            "xavier" => Init::Xavier,
            "he" => Init::He,
            _ => return None,
        })
    }

    /// Fills `weights` with draws for a layer of `fan_in` inputs and `fan_out` outputs.
    pub fn fill(self, weights: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut impl Rng) {
        let fan_in = fan_in.max(1) as f64;
        let fan_out = fan_out.max(1) as f64;
        match self {
            Init::Zeros => weights.fill(0.0),
            Init::Uniform => uniform(weights, 1.0 / fan_in.sqrt(), rng),
            Init::Xavier => uniform(weights, (6.0 / (fan_in + fan_out)).sqrt(), rng),
            Init::Normal => normal(weights, 0.01, rng),
            Init::He => normal(weights, (2.0 / fan_in).sqrt(), rng),
        }
    }
}

fn uniform(weights: &mut [f32], bound: f64, rng: &mut impl Rng) {
    for w in weights.iter_mut() {
        *w = ((rng.random::<f64>() * 2.0 - 1.0) * bound) as f32;
    }
}

fn normal(weights: &mut [f32], sd: f64, rng: &mut impl Rng) {
    for w in weights.iter_mut() {
        let x: f64 = StandardNormal.sample(rng);
        *w = (x * sd) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_have_the_documented_spread() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
        let mut w = vec![0.0f32; 20_000];
        Init::Xavier.fill(&mut w, 100, 50, &mut rng);
        let bound = (6.0f32 / 150.0).sqrt();
        assert!(w.iter().all(|x| x.abs() <= bound));
        assert!(w.iter().any(|x| x.abs() > 0.9 * bound));
        Init::He.fill(&mut w, 200, 10, &mut rng);
        let var = w.iter().map(|x| f64::from(x * x)).sum::<f64>() / w.len() as f64;
        assert!((var - 0.01).abs() < 0.001, "variance {var}");
        for name in NAMES {
            assert!(Init::from_name(name).is_some(), "{name}");
        }
    }
}
