//! `poisson`: a Poisson spike source (PyNN `SpikeSourcePoisson`, NEST `poisson_generator`
//! with one independent train per neuron).
//!
//! In each step of length dt a neuron fires with probability `1 - exp(-rate·dt)`, drawn
//! from its own counter-based random stream, while `start <= t < stop`.

use super::{NeuronInfo, StateSpec, dynamics};
use crate::models::{Mode, ParamSpec, Range};
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

pub static STATE: &[StateSpec] = &[];

pub static INFO: NeuronInfo = NeuronInfo {
    name: "poisson",
    mode: Mode::Spiking,
    summary: "Poisson spike source",
    params: PARAMS,
    state: STATE,
    spikes: true,
    accepts_input: false,
    check: None,
    whole_sequence: false,
    rate_memory: None,
};

/// The `poisson` dynamics: each neuron keeps the step of its next spike and draws the gap
/// after each spike from a geometric distribution with success probability
/// `p = 1 - exp(-rate·dt)`, which is exactly "fire with probability p in every step", at the
/// cost of one draw per spike instead of one per step.
pub struct Poisson;

pub static DYNAMICS: Poisson = Poisson;

struct PoissonGroup {
    /// Step of each neuron's next spike (`u64::MAX`: never).
    next: Vec<u64>,
    /// ln(1 - p) per neuron (0 for a silent neuron).
    log_q: Vec<f64>,
    streams: Vec<rand_xoshiro::Xoshiro256PlusPlus>,
    start: u64,
    stop: u64,
}

impl PoissonGroup {
    /// Steps until the next spike, at least 1.
    fn gap(&mut self, i: usize) -> u64 {
        use rand::Rng;
        let log_q = self.log_q[i];
        if log_q == 0.0 {
            return u64::MAX;
        }
        if log_q == f64::NEG_INFINITY {
            return 1;
        }
        let u: f64 = self.streams[i].random();
        let gap = 1.0 + ((1.0 - u).ln() / log_q).floor();
        if gap >= u64::MAX as f64 / 2.0 {
            u64::MAX / 2
        } else {
            gap as u64
        }
    }
}

impl dynamics::SpikingModel for Poisson {
    fn info(&self) -> &'static NeuronInfo {
        &INFO
    }

    fn build(&self, spec: &dynamics::GroupSpec) -> Result<Box<dyn dynamics::NeuronGroup>, String> {
        let rate = (spec.param)("rate")?;
        let start = dynamics::steps((spec.param)("start")?.at(0), spec.dt) as u64;
        let stop_ms = (spec.param)("stop")?.at(0);
        let stop = if stop_ms >= f64::MAX / 2.0 {
            u64::MAX
        } else {
            (stop_ms / spec.dt).round().max(0.0) as u64
        };
        let log_q = (0..spec.n)
            .map(|i| {
                let r = rate.at(i);
                if r < 0.0 || !r.is_finite() {
                    Err(format!("`rate` must be >= 0, not {} Hz", r * 1e3))
                } else {
                    // ln(1 - p) = -rate·dt exactly.
                    Ok(-r * spec.dt)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut group = PoissonGroup {
            next: vec![u64::MAX; spec.n],
            log_q,
            streams: (0..spec.n).map(|i| (spec.neuron_stream)(i)).collect(),
            start,
            stop,
        };
        for i in 0..spec.n {
            group.next[i] = start.saturating_add(group.gap(i) - 1);
        }
        Ok(Box::new(group))
    }
}

impl dynamics::NeuronGroup for PoissonGroup {
    fn step(&mut self, step: u64, input: dynamics::Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        let _ = input;
        if step < self.start || step >= self.stop {
            return;
        }
        for i in 0..self.next.len() {
            if self.next[i] == step {
                fired.push(first_id + i as u32);
                self.next[i] = step.saturating_add(self.gap(i));
            }
        }
    }

    fn weight_factor(&self, _: Dim, _: usize) -> Option<f32> {
        None
    }

    fn read_state(&self, _: usize, _: std::ops::Range<usize>, _: &mut Vec<f32>) {}
}
