//! `spike_source`: emits spikes at given times (PyNN `SpikeSourceArray`, NEST `spike_generator`).
//!
//! Every neuron of the population fires at each time in `times`, rounded to the step grid.

use super::{NeuronInfo, dynamics};
use crate::models::{ParamKind, ParamSpec};
use crate::units::Dim;

pub static PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "times",
    kind: ParamKind::List { dim: Dim::TIME },
    doc: "spike times",
}];

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

struct SpikeSourceGroup {
    /// Steps at which the group fires, ascending, without repeats.
    steps: Vec<u64>,
    next: usize,
    n: usize,
}

impl dynamics::SpikingModel for SpikeSource {
    fn build(&self, spec: &dynamics::GroupSpec) -> Result<Box<dyn dynamics::NeuronGroup>, String> {
        let times = (spec.list)("times").unwrap_or_default();
        let mut steps = Vec::with_capacity(times.len());
        for t in times {
            if !(t >= 0.0 && t.is_finite()) {
                return Err(format!("spike times must be >= 0, not {t} ms"));
            }
            steps.push(((t / spec.dt).round() as u64).saturating_sub(1));
        }
        steps.sort_unstable();
        steps.dedup();
        Ok(Box::new(SpikeSourceGroup {
            steps,
            next: 0,
            n: spec.n,
        }))
    }
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
