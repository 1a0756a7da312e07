//! Synapses of a user-defined synapse model (`models::plasticity::equations`) that end in
//! one partition: per-synapse state, run at events.
//!
//! A presynaptic spike emitted at step `e` reaches a synapse of delay `d` at step `e + d`;
//! the synapse's `on_pre` runs then (in the delivery phase of step `e + d − 1`, so that what
//! it delivers is the input of step `e + d`, the step the static synapses' input with the same
//! delay lands in). `on_post` runs in the delivery phase of the step its target fired, before
//! the arrivals of the next step: within a step, presynaptic arrivals come first, as in
//! Brian2. Each event first decays the synapse's state exactly from its last event.
//!
//! Determinism: a target's input is summed per table in (delay, emission order, source id,
//! generation order) — an order fixed by the network, not by where partitions start.

use super::partition::ByTarget;
use crate::models::plasticity::equations::EventRule;

/// One projection's event-driven synapses onto a partition.
pub struct EventTable {
    pub rule: EventRule,
    /// Global id of the first source neuron and the number of sources.
    pub source_first: u32,
    pub source_len: u32,
    /// Synapses of source `s` (index within its population) are `row[s]..row[s + 1]`,
    /// sorted by delay (generation order within one delay).
    pub row: Vec<u32>,
    /// Index into one ring slot: `receptor · n_local + local target`.
    pub slot_index: Vec<u32>,
    pub delay: Vec<u16>,
    /// Target-model units per weight unit.
    pub factor: Vec<f32>,
    /// Target neuron within the partition.
    pub target: Vec<u32>,
    /// `rule.width()` values per synapse, synapse after synapse.
    pub state: Vec<f64>,
    /// Step of each synapse's last event (its state is as of that step).
    pub last: Vec<u32>,
    /// Incoming synapses of each local neuron.
    pub by_target: ByTarget,
    /// Sources that fired at step `e`, in `history[e % history.len()]` for the last
    /// `max_delay` steps.
    pub history: Vec<Vec<u32>>,
    pub scratch: Vec<f64>,
}

impl EventTable {
    /// The longest delay of the table, in steps.
    pub fn max_delay(&self) -> usize {
        self.history.len()
    }

    /// Runs the events of the delivery phase of `step`: `on_post` of every synapse onto a
    /// local neuron in `spike_lists`, then `on_pre` of the spikes that arrive at `step + 1`,
    /// adding what they deliver into ring slot `step + 1` (`slot`, of `stride` values).
    pub fn deliver(&mut self, step: u64, spike_lists: &[&[u32]], slot: &mut [f32], first_id: u32) {
        let width = self.rule.width();
        let now = step as u32;
        for (_, incoming) in self.by_target.fired(spike_lists, first_id) {
            for &k in incoming {
                let k = k as usize;
                let state = &mut self.state[k * width..(k + 1) * width];
                self.rule.advance(state, now - self.last[k]);
                self.last[k] = now;
                self.rule.on_post(state, &mut self.scratch, step);
            }
        }
        let len = self.history.len();
        let (first, n_sources) = (self.source_first, self.source_len);
        let fired = &mut self.history[step as usize % len];
        fired.clear();
        for list in spike_lists {
            fired.extend(
                list.iter()
                    .filter(|&&id| id >= first && id - first < n_sources)
                    .map(|&id| id - first),
            );
        }
        let arrival = step + 1;
        for d in 1..=len as u64 {
            let Some(emitted) = arrival.checked_sub(d) else {
                break;
            };
            let fired = &self.history[emitted as usize % len];
            for &s in fired {
                let (a, b) = (
                    self.row[s as usize] as usize,
                    self.row[s as usize + 1] as usize,
                );
                let row = &self.delay[a..b];
                let lo = a + row.partition_point(|&x| (x as u64) < d);
                let hi = a + row.partition_point(|&x| (x as u64) <= d);
                for k in lo..hi {
                    let state = &mut self.state[k * width..(k + 1) * width];
                    self.rule.advance(state, arrival as u32 - self.last[k]);
                    self.last[k] = arrival as u32;
                    let out = self.rule.on_pre(state, &mut self.scratch, arrival);
                    slot[self.slot_index[k] as usize] += (out * self.factor[k] as f64) as f32;
                }
            }
        }
    }

    /// The weight of synapse `k`, in the projection's unit.
    pub fn weight(&self, k: usize) -> f32 {
        let width = self.rule.width();
        self.state[k * width + self.rule.system().weight] as f32
    }
}
