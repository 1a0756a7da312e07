//! `poisson`: a Poisson spike source (PyNN `SpikeSourcePoisson`, NEST `poisson_generator`
//! with one independent train per neuron).
//!
//! Each neuron is an independent Poisson process of its `rate`, drawn from its own random
//! stream, while `start <= t < stop`; a step delivers as many spikes as events fell in it.

use super::{NeuronInfo, dynamics};
use crate::models::{ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec::per_element(
        "rate",
        Dim::FREQUENCY,
        1e-3,
        Range::NonNegative,
        "mean firing rate (default 1 Hz)",
    ),
    ParamSpec::scalar(
        "start",
        Dim::TIME,
        0.0,
        Range::NonNegative,
        "time of the first possible spike",
    ),
    ParamSpec::scalar(
        "stop",
        Dim::TIME,
        f64::MAX,
        Range::NonNegative,
        "no spikes at or after this time",
    ),
];

pub static INFO: NeuronInfo = NeuronInfo::source(
    "poisson",
    "Poisson spike source",
    PARAMS,
    &["rate"],
    &DYNAMICS,
);

/// The `poisson` dynamics: every neuron is an independent homogeneous Poisson process of
/// its `rate`, and a step delivers the *number* of its events that fall in the step, each
/// one a spike (the id appears that many times in the step's list, so every synapse of the
/// source delivers its weight that many times: NEST's `poisson_generator` with
/// multiplicity). A 20 kHz source at dt = 0.1 ms therefore averages 2 spikes per step
/// instead of saturating at one.
///
/// Implementation: each neuron keeps the integrated hazard (expected events) still to go
/// before its next event, an Exp(1) draw; a step removes `rate·dt` from it and emits an
/// event each time it crosses zero, adding a fresh Exp(1). Counts per step are then exactly
/// Poisson(rate·dt) and independent between steps, at one draw per spike.
pub struct Poisson;

pub static DYNAMICS: Poisson = Poisson;

/// More expected spikes per neuron and step than this is refused as a mistake (a rate in
/// the MHz range), rather than filling the spike lists.
pub const MAX_SPIKES_PER_STEP: f64 = 1000.0;

struct PoissonGroup {
    /// Expected events still to go before each neuron's next event.
    residual: Vec<f64>,
    hazard: Hazard,
    streams: Vec<rand_xoshiro::Xoshiro256PlusPlus>,
    start: u64,
    stop: u64,
}

/// Expected events per step.
enum Hazard {
    /// `rate·dt` of each neuron.
    PerNeuron(Vec<f64>),
    /// A rate that follows a course in time, the same for every neuron: `rate(t)·dt` at
    /// the start of each step.
    InTime {
        course: crate::models::course::TimeCourse,
        dt: f64,
    },
}

/// Takes one step's `hazard` off a neuron's `residual`, emitting `id` once per event.
#[inline(always)]
fn advance(
    residual: &mut f64,
    stream: &mut rand_xoshiro::Xoshiro256PlusPlus,
    hazard: f64,
    id: u32,
    fired: &mut Vec<u32>,
) {
    let mut left = *residual - hazard;
    while left <= 0.0 {
        fired.push(id);
        left += exponential(stream);
    }
    *residual = left;
}

/// An Exp(1) draw: the hazard between two events of a unit-rate Poisson process.
fn exponential(stream: &mut rand_xoshiro::Xoshiro256PlusPlus) -> f64 {
    use rand::Rng;
    let u: f64 = stream.random();
    -(-u).ln_1p()
}

impl dynamics::SpikingModel for Poisson {
    fn build(&self, spec: &dynamics::GroupSpec) -> Result<Box<dyn dynamics::NeuronGroup>, String> {
        let rate = (spec.param)("rate")?;
        let start = dynamics::steps((spec.param)("start")?.at(0), spec.dt) as u64;
        let stop_ms = (spec.param)("stop")?.at(0);
        let stop = if stop_ms >= f64::MAX / 2.0 {
            u64::MAX
        } else {
            (stop_ms / spec.dt).round().max(0.0) as u64
        };
        let expected = |r: f64| {
            if r < 0.0 || !r.is_finite() {
                Err(format!("`rate` must be >= 0, not {} Hz", r * 1e3))
            } else if r * spec.dt > MAX_SPIKES_PER_STEP {
                Err(format!(
                    "`rate` = {} Hz means {:.0} spikes per step of {} ms; at most {} are allowed",
                    r * 1e3,
                    r * spec.dt,
                    spec.dt,
                    MAX_SPIKES_PER_STEP
                ))
            } else {
                Ok(r * spec.dt)
            }
        };
        let hazard = match (spec.course)("rate") {
            Some(course) => {
                expected(course.max())?;
                Hazard::InTime {
                    course,
                    dt: spec.dt,
                }
            }
            None => Hazard::PerNeuron(
                (0..spec.n)
                    .map(|i| expected(rate.at(i)))
                    .collect::<Result<_, _>>()?,
            ),
        };
        let mut streams: Vec<_> = (0..spec.n).map(|i| (spec.neuron_stream)(i)).collect();
        let residual = streams.iter_mut().map(exponential).collect();
        Ok(Box::new(PoissonGroup {
            residual,
            hazard,
            streams,
            start,
            stop,
        }))
    }
}

impl dynamics::NeuronGroup for PoissonGroup {
    fn step(&mut self, step: u64, input: dynamics::Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        let _ = input;
        if step < self.start || step >= self.stop {
            return;
        }
        let neurons = self.residual.iter_mut().zip(&mut self.streams);
        match &self.hazard {
            Hazard::PerNeuron(hazard) => {
                for (i, ((residual, stream), &h)) in neurons.zip(hazard).enumerate() {
                    advance(residual, stream, h, first_id + i as u32, fired);
                }
            }
            Hazard::InTime { course, dt } => {
                let h = course.at(step as f64 * dt).max(0.0) * dt;
                for (i, (residual, stream)) in neurons.enumerate() {
                    advance(residual, stream, h, first_id + i as u32, fired);
                }
            }
        }
    }

    fn weight_factor(&self, _: Dim, _: usize) -> Option<f32> {
        None
    }

    fn read_state(&self, _: usize, _: std::ops::Range<usize>, _: &mut Vec<f32>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::neuron::dynamics::{GroupSpec, Input, SpikingModel, Values};
    use rand::SeedableRng;

    /// Spike counts per step of `n` neurons at `rate_hz`, over `steps` steps of `dt` ms.
    fn counts(rate_hz: f64, dt: f64, n: usize, steps: u64) -> Vec<u32> {
        let param = |name: &str| -> Result<Values, String> {
            Ok(Values::Same(match name {
                "rate" => rate_hz * 1e-3,
                "start" => 0.0,
                _ => f64::MAX,
            }))
        };
        let stream = |i: usize| rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(17 + i as u64);
        let spec = GroupSpec {
            n,
            dt,
            param: &param,
            initial: &|_| Ok(None),
            list: &|_| None,
            course: &|_| None,
            neuron_stream: &stream,
            noise_stream: &stream,
        };
        let mut group = DYNAMICS.build(&spec).expect("builds");
        let mut input = Vec::new();
        let mut per_step = Vec::new();
        let mut fired = Vec::new();
        for step in 0..steps {
            fired.clear();
            group.step(step, Input::new(&mut input, n), 0, &mut fired);
            assert!(fired.windows(2).all(|w| w[0] <= w[1]), "ids ascending");
            per_step.push(fired.len() as u32);
        }
        per_step
    }

    #[test]
    fn a_20_khz_source_delivers_20_khz_not_one_spike_per_step() {
        // 0.1 ms steps: 2 expected spikes per step; the old one-per-step cap gave 8.6 kHz.
        let (n, steps, dt) = (100, 10_000u64, 0.1);
        let per_step = counts(20_000.0, dt, n, steps);
        let total: u64 = per_step.iter().map(|&c| c as u64).sum();
        let rate_hz = total as f64 / n as f64 / (steps as f64 * dt * 1e-3);
        // 2e6 expected events: sd of the rate estimate 14 Hz.
        assert!((rate_hz - 20_000.0).abs() < 100.0, "rate {rate_hz} Hz");
        // The count of one neuron in one step is Poisson(2): variance equals mean.
        let single = counts(20_000.0, dt, 1, 200_000);
        let mean = single.iter().map(|&c| c as f64).sum::<f64>() / single.len() as f64;
        let var = single
            .iter()
            .map(|&c| (c as f64 - mean).powi(2))
            .sum::<f64>()
            / single.len() as f64;
        assert!((mean - 2.0).abs() < 0.02, "mean count {mean}");
        assert!((var - 2.0).abs() < 0.05, "variance {var}");
        let p0 = single.iter().filter(|&&c| c == 0).count() as f64 / single.len() as f64;
        assert!((p0 - (-2.0f64).exp()).abs() < 0.005, "P(0) = {p0}");
    }

    #[test]
    fn low_rates_are_unchanged_in_distribution() {
        let per_step = counts(15.0, 0.1, 1000, 20_000);
        let total: u64 = per_step.iter().map(|&c| c as u64).sum();
        let rate_hz = total as f64 / 1000.0 / 2.0;
        assert!((rate_hz - 15.0).abs() < 0.5, "rate {rate_hz} Hz");
    }

    #[test]
    fn an_absurd_rate_is_refused_not_allocated() {
        let param = |name: &str| -> Result<Values, String> {
            Ok(Values::Same(if name == "rate" { 1e9 } else { 0.0 }))
        };
        let stream = |_: usize| rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
        let spec = GroupSpec {
            n: 1,
            dt: 0.1,
            param: &param,
            initial: &|_| Ok(None),
            list: &|_| None,
            course: &|_| None,
            neuron_stream: &stream,
            noise_stream: &stream,
        };
        let error = DYNAMICS.build(&spec).err().expect("refused");
        assert!(error.contains("spikes per step"), "{error}");
    }
}
