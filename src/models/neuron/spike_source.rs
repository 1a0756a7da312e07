//! `spike_source`: emits spikes at given times (PyNN `SpikeSourceArray`, NEST `spike_generator`).
//!
//! Every neuron of the population fires at each time in `times`, rounded to the step grid.
//! With a `period` (Brian2's `SpikeGeneratorGroup(period = ...)`), the times repeat every
//! period — `repeats` times, or until the run ends — and each neuron may have its own
//! period and count: one population is a pairing protocol at several frequencies.

use super::{NeuronInfo, dynamics};
use crate::models::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "times",
        kind: ParamKind::List { dim: Dim::TIME },
        doc: "spike times",
    },
    ParamSpec::per_element(
        "period",
        Dim::TIME,
        0.0,
        Range::NonNegative,
        "the times repeat every period (0: once); every time must be below it",
    ),
    ParamSpec::per_element(
        "repeats",
        Dim::NONE,
        0.0,
        Range::NonNegative,
        "how often the times are emitted with a period (0: until the run ends)",
    ),
];

pub static INFO: NeuronInfo = NeuronInfo::source(
    "spike_source",
    "spike source with given spike times",
    PARAMS,
    &[],
    &DYNAMICS,
);

/// The `spike_source` dynamics: a spike at time `T` is emitted in the step that ends at
/// `T` rounded to the step grid (`round(T/dt) - 1`, at least step 0), by every neuron.
pub struct SpikeSource;

pub static DYNAMICS: SpikeSource = SpikeSource;

impl dynamics::SpikingModel for SpikeSource {
    fn build(&self, spec: &dynamics::GroupSpec) -> Result<Box<dyn dynamics::NeuronGroup>, String> {
        let mut times = (spec.list)("times").unwrap_or_default();
        if let Some(t) = times.iter().find(|t| !(**t >= 0.0 && t.is_finite())) {
            return Err(format!("spike times must be >= 0, not {t} ms"));
        }
        times.sort_by(f64::total_cmp);
        let period = (spec.param)("period")?;
        let repeats = (spec.param)("repeats")?;
        let periodic = (0..spec.n).any(|i| period.at(i) > 0.0);
        if !periodic {
            let mut steps: Vec<u64> = times.iter().map(|&t| step_of(t, spec.dt)).collect();
            steps.dedup();
            return Ok(Box::new(SpikeSourceGroup {
                steps,
                next: 0,
                n: spec.n,
            }));
        }
        let mut neurons = Vec::with_capacity(spec.n);
        for i in 0..spec.n {
            let (p, r) = (period.at(i), repeats.at(i));
            if r.fract() != 0.0 {
                return Err(format!("`repeats` must be a whole number, not {r}"));
            }
            // A period below the step would emit several cycles per step (and take as long
            // to skip them as there are).
            if p > 0.0 && p < spec.dt {
                return Err(format!(
                    "the period {p} ms of neuron {i} is shorter than the step dt = {} ms",
                    spec.dt
                ));
            }
            if let Some(&last) = times.last()
                && p > 0.0
                && last >= p
            {
                return Err(format!(
                    "spike time {last} ms is not below the period {p} ms of neuron {i}"
                ));
            }
            neurons.push(Periodic {
                period: p,
                repeats: if p > 0.0 { r as u64 } else { 1 },
                cycle: 0,
                next: 0,
                last_step: None,
            });
        }
        Ok(Box::new(PeriodicGroup {
            times,
            dt: spec.dt,
            neurons,
        }))
    }
}

/// The step a spike at `t` ms is emitted in: the one that ends at `t` on the step grid.
fn step_of(t: f64, dt: f64) -> u64 {
    ((t / dt).round() as u64).saturating_sub(1)
}

/// One neuron of a periodic source: where it is in its schedule.
struct Periodic {
    period: f64,
    /// Cycles to emit; 0 for no end.
    repeats: u64,
    cycle: u64,
    /// Index into `times` within the current cycle.
    next: usize,
    /// The step of the last spike, so two times in one step fire once.
    last_step: Option<u64>,
}

impl Periodic {
    /// The step of the next scheduled spike, if any remain.
    fn upcoming(&self, times: &[f64], dt: f64) -> Option<u64> {
        if times.is_empty() || (self.repeats > 0 && self.cycle >= self.repeats) {
            return None;
        }
        Some(step_of(
            times[self.next] + self.cycle as f64 * self.period,
            dt,
        ))
    }

    fn advance(&mut self, times: &[f64]) {
        self.next += 1;
        if self.next == times.len() {
            self.next = 0;
            self.cycle += 1;
        }
    }
}

struct PeriodicGroup {
    times: Vec<f64>,
    dt: f64,
    neurons: Vec<Periodic>,
}

impl dynamics::NeuronGroup for PeriodicGroup {
    fn step(&mut self, step: u64, input: dynamics::Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        let _ = input;
        for (i, neuron) in self.neurons.iter_mut().enumerate() {
            let mut fires = false;
            while let Some(at) = neuron.upcoming(&self.times, self.dt) {
                if at > step {
                    break;
                }
                fires |= at == step && neuron.last_step != Some(step);
                neuron.advance(&self.times);
            }
            if fires {
                neuron.last_step = Some(step);
                fired.push(first_id + i as u32);
            }
        }
    }

    fn weight_factor(&self, _: Dim, _: usize) -> Option<f32> {
        None
    }

    fn read_state(&self, _: usize, _: std::ops::Range<usize>, _: &mut Vec<f32>) {}
}

struct SpikeSourceGroup {
    /// Steps at which the group fires, ascending, without repeats.
    steps: Vec<u64>,
    next: usize,
    n: usize,
}

impl dynamics::NeuronGroup for SpikeSourceGroup {
    fn step(&mut self, step: u64, input: dynamics::Input<'_>, first_id: u32, fired: &mut Vec<u32>) {
        let _ = input;
        while self.next < self.steps.len() && self.steps[self.next] < step {
            self.next += 1;
        }
        if self.steps.get(self.next) == Some(&step) {
            fired.extend((0..self.n as u32).map(|i| first_id + i));
            self.next += 1;
        }
    }

    fn weight_factor(&self, _: Dim, _: usize) -> Option<f32> {
        None
    }

    fn read_state(&self, _: usize, _: std::ops::Range<usize>, _: &mut Vec<f32>) {}
}
