//! A partition: a contiguous range of target neurons with everything that ends on them —
//! their state (one `NeuronGroup` per population slice), their delay ring buffers, and the
//! synapses whose target they are (static and plastic), stored by source for delivery.
//!
//! A partition is what a thread owns during a step, and what an MPI rank will own later:
//! it reads the global spike list and writes nothing outside itself.
//!
//! Determinism: a neuron's input in a step is the sum over spikes in ascending (emission
//! step, global source id), then projection order, then generation order. That order does not
//! depend on where partition boundaries fall, so results are bit-identical for any number of
//! partitions and threads.

use std::sync::atomic::{AtomicU32, Ordering};

use super::events::EventTable;
use crate::models::neuron::dynamics::{Input, NeuronGroup};
use crate::models::plasticity::stdp::{Stdp, Trace};

/// The state of one population's neurons inside a partition.
pub struct Group {
    /// Index of the population in declaration order.
    pub population: usize,
    /// First neuron of the group, as an index within the partition.
    pub local_start: usize,
    pub len: usize,
    /// Index of the group's first neuron within its population.
    pub first_in_population: usize,
    /// Global id of the group's first neuron.
    pub first_id: u32,
    /// The group's input in a ring slot: `channels` channels (one per receptor of its
    /// model) of `len` values each, from `input_start` on.
    pub input_start: usize,
    pub channels: usize,
    pub dynamics: Box<dyn NeuronGroup>,
}

impl Group {
    /// Where the input of neuron `i` of the group on `channel` lies in a ring slot.
    pub fn slot_index(&self, channel: usize, i: usize) -> usize {
        self.input_start + channel * self.len + i
    }
}

/// Synapses in source-major compressed rows over all global source ids.
#[derive(Default)]
pub struct SynapseTable {
    /// Synapses of source `s` are `row[s]..row[s + 1]`.
    pub row: Vec<u32>,
    /// Index into one ring slot: `Group::slot_index` of the target and receptor.
    pub slot_index: Vec<u32>,
    /// Static synapses: the weight in the target model's units. Plastic synapses: the weight
    /// in the projection's units (what `w_max` bounds), scaled by `factor` on delivery.
    pub weight: Vec<f32>,
    /// Delay in steps, >= 1.
    pub delay: Vec<u16>,
}

impl SynapseTable {
    pub fn len(&self) -> usize {
        self.weight.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weight.is_empty()
    }
}

/// The incoming synapses of each local neuron: a CSR index over a table's per-synapse
/// targets, which the postsynaptic half of a rule walks when a neuron fires.
#[derive(Default)]
pub struct ByTarget {
    /// Synapses onto local neuron `j` are `index[row[j]..row[j + 1]]`, ascending.
    row: Vec<u32>,
    index: Vec<u32>,
}

impl ByTarget {
    /// The index of synapses whose targets (within the partition) are `target`.
    pub fn of(target: &[u32], n_local: usize) -> ByTarget {
        let mut row = vec![0u32; n_local + 1];
        for &j in target {
            row[j as usize + 1] += 1;
        }
        for j in 0..n_local {
            row[j + 1] += row[j];
        }
        let mut fill = row.clone();
        let mut index = vec![0u32; target.len()];
        for (k, &j) in target.iter().enumerate() {
            index[fill[j as usize] as usize] = k as u32;
            fill[j as usize] += 1;
        }
        ByTarget { row, index }
    }

    /// The neurons of the partition starting at `first_id` that are in `spike_lists`, in
    /// order, each with its incoming synapses.
    pub fn fired<'a>(
        &'a self,
        spike_lists: &'a [&'a [u32]],
        first_id: u32,
    ) -> impl Iterator<Item = (usize, &'a [u32])> + 'a {
        let n_local = self.row.len().saturating_sub(1) as u32;
        spike_lists
            .iter()
            .flat_map(|list| list.iter())
            .filter(move |&&id| id >= first_id && id - first_id < n_local)
            .map(move |&id| {
                let j = (id - first_id) as usize;
                (
                    j,
                    &self.index[self.row[j] as usize..self.row[j + 1] as usize],
                )
            })
    }
}

/// The STDP state of a partition's plastic synapses.
#[derive(Default)]
pub struct PlasticState {
    pub table: SynapseTable,
    /// Per synapse: target-model units per projection unit.
    pub factor: Vec<f32>,
    /// Per synapse: index into `Network`-wide rules.
    pub rule: Vec<u16>,
    /// Per synapse: global id of the source (to read its trace).
    pub source: Vec<u32>,
    /// Per synapse: target neuron index within the partition.
    pub target: Vec<u32>,
    /// Incoming plastic synapses of each local neuron.
    pub by_target: ByTarget,
    /// Postsynaptic trace per (rule, local neuron): `post_trace[rule][j]`.
    pub post_trace: Vec<Vec<Trace>>,
}

/// A plastic projection's rule and the presynaptic traces of its sources, which every
/// partition reads. Each trace is written only by the partition that owns the source, in the
/// update phase, and read by others in the delivery phase (relaxed atomics; the barrier
/// between the phases orders them).
pub struct RuleState {
    pub rule: Stdp,
    /// Global id of the first source neuron and the number of sources.
    pub source_first: u32,
    pub source_len: u32,
    pub pre_value: Vec<AtomicU32>,
    pub pre_last: Vec<AtomicU32>,
}

impl RuleState {
    pub fn pre_trace(&self, source: u32) -> Trace {
        let i = (source - self.source_first) as usize;
        Trace {
            value: f32::from_bits(self.pre_value[i].load(Ordering::Relaxed)),
            last_step: self.pre_last[i].load(Ordering::Relaxed),
        }
    }

    fn set_pre_trace(&self, source: u32, trace: Trace) {
        let i = (source - self.source_first) as usize;
        self.pre_value[i].store(trace.value.to_bits(), Ordering::Relaxed);
        self.pre_last[i].store(trace.last_step, Ordering::Relaxed);
    }

    fn has_source(&self, id: u32) -> bool {
        id >= self.source_first && id - self.source_first < self.source_len
    }
}

pub struct Partition {
    /// Global ids `first_id..first_id + n_local`.
    pub first_id: u32,
    pub n_local: usize,
    pub groups: Vec<Group>,
    /// `slots` ring slots of `slot_len` values: each group's input channels, group after
    /// group (`Group::input_start`).
    pub ring: Vec<f32>,
    pub slot_len: usize,
    pub slot_mask: usize,
    pub synapses: SynapseTable,
    /// The delay shared by every static synapse, if there is one (saves a load per event).
    pub uniform_delay: Option<u16>,
    pub plastic: Option<PlasticState>,
    /// Synapses of user-defined synapse models, one table per projection.
    pub events: Vec<EventTable>,
}

impl Partition {
    /// Advances every neuron by one step and writes the ids that fired, ascending, into
    /// `spikes`. Updates the presynaptic traces of the neurons that fired.
    pub fn update(&mut self, step: u64, dt: f64, spikes: &mut Vec<u32>, rules: &[RuleState]) {
        spikes.clear();
        let slot = (step as usize & self.slot_mask) * self.slot_len;
        for group in &mut self.groups {
            let start = slot + group.input_start;
            let values = &mut self.ring[start..start + group.channels * group.len];
            group
                .dynamics
                .step(step, Input::new(values, group.len), group.first_id, spikes);
        }
        if !rules.is_empty() && !spikes.is_empty() {
            let step = step as u32;
            for rule in rules {
                for &id in spikes.iter().filter(|&&id| rule.has_source(id)) {
                    let trace = rule.pre_trace(id).spike(step, dt, rule.rule.tau_plus);
                    rule.set_pre_trace(id, trace);
                }
            }
        }
    }

    /// Delivers the spikes of step `step` (all partitions' lists, in partition order) into
    /// this partition's ring buffers, then applies STDP for the spikes of this step.
    pub fn deliver(&mut self, step: u64, dt: f64, spike_lists: &[&[u32]], rules: &[RuleState]) {
        let stride = self.slot_len;
        let mask = self.slot_mask;
        let table = &self.synapses;
        let ring = &mut self.ring[..];
        if let Some(delay) = self.uniform_delay {
            let base = ((step as usize + delay as usize) & mask) * stride;
            let slot = &mut ring[base..base + stride];
            for list in spike_lists {
                for &s in *list {
                    let (a, b) = (
                        table.row[s as usize] as usize,
                        table.row[s as usize + 1] as usize,
                    );
                    for (&index, &w) in table.slot_index[a..b].iter().zip(&table.weight[a..b]) {
                        debug_assert!((index as usize) < slot.len());
                        // SAFETY: `fill_tables` builds every `slot_index` as
                        // `Group::slot_index(channel, i)` with channel < `channels` and
                        // i < `len` of the target's group, so it is below
                        // `slot.len() = slot_len`, the sum of the groups' channels · len.
                        unsafe { *slot.get_unchecked_mut(index as usize) += w };
                    }
                }
            }
        } else {
            for list in spike_lists {
                for &s in *list {
                    let (a, b) = (
                        table.row[s as usize] as usize,
                        table.row[s as usize + 1] as usize,
                    );
                    for k in a..b {
                        let base = ((step as usize + table.delay[k] as usize) & mask) * stride;
                        ring[base + table.slot_index[k] as usize] += table.weight[k];
                    }
                }
            }
        }
        if let Some(plastic) = &mut self.plastic {
            plastic.deliver(
                step,
                dt,
                spike_lists,
                rules,
                ring,
                stride,
                mask,
                self.first_id,
            );
        }
        if !self.events.is_empty() {
            let base = ((step as usize + 1) & mask) * stride;
            let slot = &mut self.ring[base..base + stride];
            for table in &mut self.events {
                table.deliver(step, spike_lists, slot, self.first_id);
            }
        }
    }
}

impl PlasticState {
    /// Presynaptic spikes: depress with the postsynaptic trace as it stood before this step's
    /// postsynaptic spikes, then deliver. Postsynaptic spikes of local neurons: potentiate
    /// every incoming plastic synapse with its presynaptic trace (which includes this step's
    /// presynaptic spikes, so a simultaneous pair counts as causal, as in Brian2), then
    /// update the postsynaptic trace.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        step: u64,
        dt: f64,
        spike_lists: &[&[u32]],
        rules: &[RuleState],
        ring: &mut [f32],
        stride: usize,
        mask: usize,
        first_id: u32,
    ) {
        let now = step as u32;
        let table = &mut self.table;
        for list in spike_lists {
            for &s in *list {
                let (a, b) = (
                    table.row[s as usize] as usize,
                    table.row[s as usize + 1] as usize,
                );
                for k in a..b {
                    let r = self.rule[k] as usize;
                    let rule = &rules[r].rule;
                    let y = self.post_trace[r][self.target[k] as usize].at(now, dt, rule.tau_minus);
                    let w = rule.depress(table.weight[k], y);
                    table.weight[k] = w;
                    let base = ((step as usize + table.delay[k] as usize) & mask) * stride;
                    ring[base + table.slot_index[k] as usize] += w * self.factor[k];
                }
            }
        }
        for (j, incoming) in self.by_target.fired(spike_lists, first_id) {
            for &k in incoming {
                let k = k as usize;
                let r = self.rule[k] as usize;
                let state = &rules[r];
                let x = state
                    .pre_trace(self.source[k])
                    .at(now, dt, state.rule.tau_plus);
                table.weight[k] = state.rule.potentiate(table.weight[k], x);
            }
            for (r, traces) in self.post_trace.iter_mut().enumerate() {
                traces[j] = traces[j].spike(now, dt, rules[r].rule.tau_minus);
            }
        }
    }
}
