//! From `ir::Network` to an executable plan (the "physical plan"): neuron state per
//! partition, synapse tables, delay rings, STDP state and the sampling schedule of records.
//!
//! Every random draw comes from a stream keyed by ids (`sim::rng`): initial state and
//! per-neuron parameters by (population, variable, neuron), connectivity by (projection, row),
//! weights and delays by (projection, source). How the neurons are split into partitions
//! changes nothing in the numbers drawn.

use std::ops::Range;
use std::sync::atomic::AtomicU32;

use rayon::prelude::*;

use super::events::EventTable;
use super::partition::{ByTarget, Group, Partition, PlasticState, RuleState, SynapseTable};
use crate::ir::{Interval, Network, Population, RecordTarget, Recordable, Value};
use crate::models::connector::Rows;
use crate::models::neuron::dynamics::{GroupSpec, Values};
use crate::models::plasticity::Learns;
use crate::models::plasticity::equations::EventRule;
use crate::models::plasticity::stdp::Trace;
use crate::sim::SimError;
use crate::sim::rng::{Purpose, name_id, number_or_draw, stream};
use crate::units::Dim;

/// A population as the engine sees it.
pub struct PopulationPlan {
    pub name: String,
    pub first_id: u32,
    pub size: usize,
}

/// Where one recorded weight lives, and the factor back to the projection's unit.
#[derive(Debug, Clone, Copy)]
pub struct WeightRef {
    pub partition: u32,
    pub store: WeightStore,
    pub index: u32,
    pub scale: f32,
}

/// Which of a partition's synapse tables holds a weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightStore {
    Fixed,
    Plastic,
    /// The event table of that index (`Partition::events`).
    Events(u16),
}

/// What to sample for one `record` statement, and how often.
pub enum Sampler {
    /// A state variable of population slices: (partition, group, neurons within the group,
    /// index of the variable in the group's model).
    State {
        record: usize,
        every: u64,
        pieces: Vec<(usize, usize, Range<usize>, usize)>,
    },
    /// Every weight of projections, in the order documented in `mod.rs`.
    Weight {
        record: usize,
        every: u64,
        weights: Vec<WeightRef>,
    },
}

impl Sampler {
    pub fn due(&self, step: u64) -> bool {
        let every = match self {
            Sampler::State { every, .. } | Sampler::Weight { every, .. } => *every,
        };
        (step + 1).is_multiple_of(every)
    }
}

pub struct Plan {
    pub dt: f64,
    pub n_steps: u64,
    pub populations: Vec<PopulationPlan>,
    pub partitions: Vec<Partition>,
    pub rules: Vec<RuleState>,
    /// (projection name, synapse count) in declaration order.
    pub projections: Vec<(String, u64)>,
    pub samplers: Vec<Sampler>,
}

fn unsupported(message: String) -> SimError {
    SimError::Unsupported(message)
}

/// A per-synapse quantity: one value, or one per generated synapse.
enum PerSynapse<T> {
    Same(T),
    Each(Vec<T>),
}

impl<T: Copy> PerSynapse<T> {
    fn at(&self, k: usize) -> T {
        match self {
            PerSynapse::Same(x) => *x,
            PerSynapse::Each(v) => v[k],
        }
    }
}

/// One projection's synapses, generated, before they are split into partitions.
struct Generated {
    source_population: usize,
    target_population: usize,
    source_first: u32,
    target_first: u32,
    rows: Rows,
    weight: PerSynapse<f32>,
    delay: PerSynapse<u16>,
    /// The input channel of the target model it feeds.
    receptor: u32,
    dim: Dim,
    /// Index into `Plan::rules` for plastic projections.
    rule: Option<u16>,
    /// The synapse model of a projection with a user-defined one.
    events: Option<EventRule>,
    /// Index of the projection's record slot in `weight_refs`, if its weights are recorded.
    recorded: bool,
}

/// Builds the plan with `n_partitions` partitions (fewer if there are fewer neurons).
///
/// In steps: the schedule, the populations laid out one after the other in global ids,
/// neuron state per partition (in parallel), every projection's synapses, then the
/// synapses split by target partition, and the samplers of the records.
pub fn build(network: &Network, n_partitions: usize) -> Result<Plan, SimError> {
    let (dt, n_steps) = schedule(network)?;
    let graph = &network.graph;
    let populations = population_plans(network)?;
    let n_total: usize = populations.iter().map(|p| p.size).sum();
    let n_parts = n_partitions.clamp(1, n_total.max(1));
    let bounds: Vec<usize> = (0..=n_parts).map(|i| n_total * i / n_parts).collect();
    let pops: Vec<&Population> = graph.populations().map(|(_, p)| p).collect();

    // Neuron state, one group per (partition, population) overlap.
    let partition_groups: Vec<Vec<Group>> = (0..n_parts)
        .into_par_iter()
        .map(|part| build_groups(network, &pops, &populations, bounds[part]..bounds[part + 1]))
        .collect::<Result<_, _>>()?;

    let synapses = generate_synapses(network, &populations)?;
    let mut weight_refs = recorded_weight_refs(&synapses.generated);
    let mut partitions = Vec::with_capacity(n_parts);
    for (part, groups) in partition_groups.into_iter().enumerate() {
        let range = bounds[part] as u32..bounds[part + 1] as u32;
        let mut partition = empty_partition(range, groups, synapses.slots);
        fill_tables(
            &mut partition,
            part as u32,
            n_total,
            &populations,
            &synapses.generated,
            &mut weight_refs,
            &synapses.rules,
        )?;
        partitions.push(partition);
    }
    let Synapses {
        generated,
        rules,
        counts,
        ..
    } = synapses;
    drop(generated);

    let samplers = plan_samplers(network, &partitions, &pops, dt, weight_refs)?;
    Ok(Plan {
        dt,
        n_steps,
        populations,
        partitions,
        rules,
        projections: counts,
        samplers,
    })
}

/// The step `dt` and how many steps `simulate` runs for.
fn schedule(network: &Network) -> Result<(f64, u64), SimError> {
    let dt = network.dt;
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(unsupported(format!("dt must be > 0, not {dt} ms")));
    }
    let duration = network.simulate.as_ref().map_or(0.0, |s| s.duration);
    if !(duration >= 0.0 && duration.is_finite()) {
        return Err(unsupported(format!("cannot simulate {duration} ms")));
    }
    Ok((dt, (duration / dt).round() as u64))
}

/// The populations in declaration order, each with the first of its global ids; every
/// population needs spiking dynamics, and all of them fewer than 2^32 - 1 neurons.
fn population_plans(network: &Network) -> Result<Vec<PopulationPlan>, SimError> {
    let mut populations = Vec::new();
    let mut total: u64 = 0;
    for (_, p) in network.graph.populations() {
        if p.model.dynamics().is_none() {
            return Err(unsupported(format!(
                "population `{}` uses `{}`, which has no spiking dynamics",
                p.name, p.model.name
            )));
        }
        populations.push(PopulationPlan {
            name: p.name.clone(),
            first_id: total as u32,
            size: p.size(),
        });
        total += p.size() as u64;
        if total >= u32::MAX as u64 {
            return Err(unsupported("more than 4 billion neurons".into()));
        }
    }
    Ok(populations)
}

/// Every projection's synapses, generated, with what the plan keeps of them.
struct Synapses {
    generated: Vec<Generated>,
    rules: Vec<RuleState>,
    /// (projection name, synapse count) in declaration order.
    counts: Vec<(String, u64)>,
    /// Ring slots per partition: a power of two above the longest delay.
    slots: usize,
}

/// Generates the synapses of every projection, in declaration order.
fn generate_synapses(
    network: &Network,
    populations: &[PopulationPlan],
) -> Result<Synapses, SimError> {
    let recorded_projections: Vec<u32> = network
        .records
        .iter()
        .filter(|r| r.what == Recordable::Weight)
        .flat_map(|r| r.targets.iter())
        .filter_map(|t| match t {
            RecordTarget::Projection(id) => Some(id.0),
            _ => None,
        })
        .collect();
    let mut synapses = Synapses {
        generated: Vec::new(),
        rules: Vec::new(),
        counts: Vec::new(),
        slots: 0,
    };
    let mut max_delay: u16 = 1;
    for (id, projection) in network.graph.projections() {
        let g = generate_projection(network, id.0, projection, populations, &mut synapses.rules)?;
        let g = Generated {
            recorded: recorded_projections.contains(&id.0),
            ..g
        };
        max_delay = max_delay.max(match &g.delay {
            PerSynapse::Same(d) => *d,
            PerSynapse::Each(v) => v.iter().copied().max().unwrap_or(1),
        });
        synapses
            .counts
            .push((projection.name.clone(), g.rows.n_synapses() as u64));
        synapses.generated.push(g);
    }
    synapses.slots = (max_delay as usize + 1).next_power_of_two();
    Ok(synapses)
}

/// A slot per synapse of every projection whose weights are recorded (none for the
/// others), filled in as the synapses are split into partitions.
fn recorded_weight_refs(generated: &[Generated]) -> Vec<Vec<WeightRef>> {
    generated
        .iter()
        .map(|g| {
            if g.recorded {
                vec![
                    WeightRef {
                        partition: 0,
                        store: WeightStore::Fixed,
                        index: 0,
                        scale: 1.0,
                    };
                    g.rows.n_synapses()
                ]
            } else {
                Vec::new()
            }
        })
        .collect()
}

/// A partition of the neurons `range` with their groups and an empty delay ring.
fn empty_partition(range: Range<u32>, mut groups: Vec<Group>, slots: usize) -> Partition {
    let n_local = range.len();
    let mut slot_len = 0;
    for group in &mut groups {
        group.input_start = slot_len;
        slot_len += group.channels * group.len;
    }
    Partition {
        first_id: range.start,
        n_local,
        groups,
        ring: vec![0.0; slots * slot_len],
        slot_len,
        slot_mask: slots - 1,
        synapses: SynapseTable::default(),
        uniform_delay: None,
        plastic: None,
        events: Vec::new(),
    }
}

/// The value of a parameter for neurons `range` of a population of `size`: the given
/// number, a draw per neuron from the neuron's own stream, the neuron's entry of a list or
/// its point of a `linspace`, or the model's default.
fn resolve(
    seed: u64,
    population: usize,
    purpose: Purpose,
    name: &str,
    value: Option<&Value>,
    range: Range<usize>,
    size: usize,
) -> Result<Option<Values>, String> {
    match value {
        None => Ok(None),
        Some(Value::Number(x)) => Ok(Some(Values::Same(*x))),
        // The model follows the course itself (`GroupSpec::course`); this is its start.
        Some(Value::Timed(c)) => Ok(Some(Values::Same(c.at(0.0)))),
        Some(Value::Dist(d)) => {
            let key = name_id(name);
            Ok(Some(Values::Each(
                range
                    .map(|i| {
                        let mut rng = stream(seed, purpose, &[population as u64, key, i as u64]);
                        crate::sim::rng::draw(d, &mut rng)
                    })
                    .collect(),
            )))
        }
        Some(Value::Linear { low, high }) => {
            let step = if size > 1 {
                (high - low) / (size - 1) as f64
            } else {
                0.0
            };
            Ok(Some(Values::Each(
                range.map(|i| low + step * i as f64).collect(),
            )))
        }
        Some(Value::List(items)) if items.len() == size => Ok(Some(Values::Each(
            range
                .map(|i| {
                    items[i]
                        .as_number()
                        .ok_or_else(|| format!("`{name}`: not a number"))
                })
                .collect::<Result<_, _>>()?,
        ))),
        Some(Value::List(items)) => Err(format!(
            "`{name}` has {} values for {size} neurons",
            items.len()
        )),
        Some(other) => Err(format!("`{name}` must be a number, not {other:?}")),
    }
}

fn build_groups(
    network: &Network,
    pops: &[&Population],
    plans: &[PopulationPlan],
    range: Range<usize>,
) -> Result<Vec<Group>, SimError> {
    let mut groups = Vec::new();
    for (index, (population, plan)) in pops.iter().zip(plans).enumerate() {
        let first = plan.first_id as usize;
        let lo = range.start.max(first);
        let hi = range.end.min(first + plan.size);
        if lo >= hi {
            continue;
        }
        let in_population = lo - first..hi - first;
        let info = population.model;
        let Some(model) = info.dynamics() else {
            continue;
        };
        let seed = network.seed;
        let param = |name: &str| -> Result<Values, String> {
            let given = resolve(
                seed,
                index,
                Purpose::Parameter,
                name,
                population.params.get(name),
                in_population.clone(),
                population.size(),
            )?;
            match given {
                Some(values) => Ok(values),
                None => Err(crate::ir::Unresolved(name.to_string()).into()),
            }
        };
        let initial = |name: &str| {
            resolve(
                seed,
                index,
                Purpose::InitialState,
                name,
                population.init.get(name),
                in_population.clone(),
                population.size(),
            )
        };
        let list = |name: &str| match population.params.get(name) {
            Some(Value::List(items)) => items.iter().map(Value::as_number).collect(),
            Some(Value::Number(x)) => Some(vec![*x]),
            _ => None,
        };
        let course = |name: &str| match population.params.get(name) {
            Some(Value::Timed(c)) => Some(c.clone()),
            _ => None,
        };
        let start = in_population.start;
        let neuron_stream =
            |i: usize| stream(seed, Purpose::Spikes, &[index as u64, (start + i) as u64]);
        let noise_stream =
            |i: usize| stream(seed, Purpose::Noise, &[index as u64, (start + i) as u64]);
        let spec = GroupSpec {
            n: hi - lo,
            dt: network.dt,
            param: &param,
            initial: &initial,
            list: &list,
            course: &course,
            neuron_stream: &neuron_stream,
            noise_stream: &noise_stream,
        };
        let dynamics = model
            .build(&spec)
            .map_err(|e| unsupported(format!("population `{}`: {e}", population.name)))?;
        groups.push(Group {
            population: index,
            local_start: lo - range.start,
            len: hi - lo,
            first_in_population: in_population.start,
            first_id: lo as u32,
            input_start: 0,
            channels: info.receptors.len(),
            dynamics,
        });
    }
    Ok(groups)
}

/// Draws one projection's synapses, weights and delays, and registers its rule's state.
fn generate_projection(
    network: &Network,
    id: u32,
    projection: &crate::ir::Projection,
    populations: &[PopulationPlan],
    rules: &mut Vec<RuleState>,
) -> Result<Generated, SimError> {
    let graph = &network.graph;
    let name = &projection.name;
    let fail = |message: String| unsupported(format!("projection `{name}`: {message}"));
    let (source, target) = (projection.source.0 as usize, projection.target.0 as usize);
    let target_model = graph.population(projection.target).model;
    if !target_model.accepts_input() {
        return Err(fail(format!(
            "`{}` neurons take no synaptic input",
            target_model.name
        )));
    }
    let receptor = target_model
        .channel(projection.receptor.name())
        .ok_or_else(|| {
            fail(format!(
                "`{}` reads no receptor `{}`",
                target_model.name, projection.receptor
            ))
        })? as u32;
    let (n_pre, n_post) = (populations[source].size, populations[target].size);
    let seed = network.seed;
    let rows =
        crate::sim::connect::synapses(seed, id as u64, projection, n_pre, n_post, source == target)
            .map_err(fail)?;
    if !projection.directed {
        return Err(fail(
            "undirected projections (`--`) are not supported in spiking mode".into(),
        ));
    }
    let draws = Draws {
        seed,
        projection: id,
        rows: &rows,
        n_pre,
    };
    let weight = match &projection.weight {
        Some(w) => match draws.per_synapse(w, Purpose::Weight).map_err(fail)? {
            PerSynapse::Same(x) => PerSynapse::Same(x as f32),
            PerSynapse::Each(v) => PerSynapse::Each(v.into_iter().map(|x| x as f32).collect()),
        },
        None => return Err(fail("no `weight` given".into())),
    };
    let to_steps = |ms: f64| delay_steps(ms, network.dt);
    let delay = match &projection.delay {
        None => PerSynapse::Same(1),
        Some(d) => match draws.per_synapse(d, Purpose::Delay).map_err(fail)? {
            PerSynapse::Same(ms) => PerSynapse::Same(to_steps(ms).map_err(fail)?),
            PerSynapse::Each(v) => PerSynapse::Each(
                v.into_iter()
                    .map(to_steps)
                    .collect::<Result<_, _>>()
                    .map_err(fail)?,
            ),
        },
    };
    let (rule, events) = match &projection.plasticity {
        None => (None, None),
        Some(p) => match p.rule.learns {
            Learns::Events(system) => {
                let lookup = |name: &str| p.params.numeric(name);
                let rule = EventRule::new(system, &lookup, network.dt).map_err(fail)?;
                (None, Some(rule))
            }
            _ => (
                Some(pair_rule(p, &weight, &populations[source], rules).map_err(fail)?),
                None,
            ),
        },
    };
    Ok(Generated {
        source_population: source,
        target_population: target,
        source_first: populations[source].first_id,
        target_first: populations[target].first_id,
        rows,
        weight,
        delay,
        receptor,
        dim: projection.weight_dim,
        rule,
        events,
        recorded: false,
    })
}

/// What per-synapse values of one projection are drawn from: row by row, each source
/// from its own stream keyed by (projection, source).
struct Draws<'a> {
    seed: u64,
    projection: u32,
    rows: &'a Rows,
    n_pre: usize,
}

impl Draws<'_> {
    /// One value for every synapse, or one drawn per synapse from a distribution.
    fn per_synapse(&self, value: &Value, purpose: Purpose) -> Result<PerSynapse<f64>, String> {
        match value {
            Value::Number(x) => Ok(PerSynapse::Same(*x)),
            Value::Dist(_) => {
                let rows = self.rows;
                let mut out = Vec::with_capacity(rows.n_synapses());
                for s in 0..self.n_pre {
                    let mut rng = stream(self.seed, purpose, &[self.projection as u64, s as u64]);
                    for _ in rows.offsets[s]..rows.offsets[s + 1] {
                        out.push(number_or_draw(value, &mut rng).unwrap_or(0.0));
                    }
                }
                Ok(PerSynapse::Each(out))
            }
            other => Err(format!(
                "expected a number or a distribution, not {other:?}"
            )),
        }
    }
}

/// A delay in whole steps of `dt`, at least one, at most what a `u16` ring index holds.
fn delay_steps(ms: f64, dt: f64) -> Result<u16, String> {
    let steps = (ms / dt).round().max(1.0);
    if steps > u16::MAX as f64 - 1.0 || !steps.is_finite() {
        Err(format!(
            "delay {ms} ms is longer than {} steps",
            u16::MAX - 1
        ))
    } else {
        Ok(steps as u16)
    }
}

/// The spike-timing rule of a plastic projection, registered with the presynaptic traces
/// of its sources; returns its index into `rules`. Plastic weights must be >= 0.
fn pair_rule(
    p: &crate::ir::Plasticity,
    weight: &PerSynapse<f32>,
    source: &PopulationPlan,
    rules: &mut Vec<RuleState>,
) -> Result<u16, String> {
    let Learns::PairTraces(numbers) = p.rule.learns else {
        return Err(format!(
            "`{}` is a rate-mode rule; spiking mode needs a spike-timing rule",
            p.rule.name
        ));
    };
    let rule = numbers(&|name| p.params.numeric(name))?;
    let negative = match weight {
        PerSynapse::Same(w) => *w < 0.0,
        PerSynapse::Each(v) => v.iter().any(|w| *w < 0.0),
    };
    if negative {
        return Err("plastic weights must be >= 0".into());
    }
    let len = source.size;
    rules.push(RuleState {
        rule,
        source_first: source.first_id,
        source_len: len as u32,
        pre_value: (0..len).map(|_| AtomicU32::new(0)).collect(),
        pre_last: (0..len).map(|_| AtomicU32::new(0)).collect(),
    });
    Ok((rules.len() - 1) as u16)
}

/// Fills a partition's static and plastic tables from the generated projections: one row
/// per source neuron (every population's neurons in order), holding the synapses of every
/// projection from it onto this partition's neurons.
fn fill_tables(
    partition: &mut Partition,
    part: u32,
    n_total: usize,
    populations: &[PopulationPlan],
    generated: &[Generated],
    weight_refs: &mut [Vec<WeightRef>],
    rules: &[RuleState],
) -> Result<(), SimError> {
    let lo = partition.first_id;
    let hi = lo + partition.n_local as u32;
    let n_local = partition.n_local;
    let by_source: Vec<Vec<usize>> = (0..populations.len())
        .map(|p| {
            (0..generated.len())
                .filter(|&g| generated[g].source_population == p)
                .collect()
        })
        .collect();
    let mut tables = Tables::new(n_total);
    for (p, plan) in populations.iter().enumerate() {
        for s in 0..plan.size {
            for &gi in &by_source[p] {
                let g = &generated[gi];
                if g.events.is_some() {
                    continue;
                }
                let span = local_span(g, s, lo..hi);
                if span.is_empty() {
                    continue;
                }
                let group = target_group(&partition.groups, g.target_population)?;
                for k in span {
                    let landing = land(g, k, group, lo, populations)?;
                    let weight = tables.push(g, k, s, landing, part);
                    if g.recorded {
                        weight_refs[gi][k] = weight;
                    }
                }
            }
            tables.end_row()?;
        }
    }
    let Tables { fixed, mut plastic } = tables;
    let first = fixed.delay.first().copied().unwrap_or(1);
    partition.uniform_delay = fixed.delay.iter().all(|&d| d == first).then_some(first);
    partition.synapses = fixed;
    if generated.iter().any(|g| g.rule.is_some()) {
        plastic.by_target = ByTarget::of(&plastic.target, n_local);
        plastic.post_trace = vec![vec![Trace::default(); n_local]; rules.len()];
        partition.plastic = Some(plastic);
    }
    for (gi, g) in generated.iter().enumerate() {
        let Some(rule) = &g.events else { continue };
        let store = WeightStore::Events(partition.events.len() as u16);
        let table = event_table(partition, g, rule, populations, |k, index| {
            if g.recorded {
                weight_refs[gi][k] = WeightRef {
                    partition: part,
                    store,
                    index,
                    scale: 1.0,
                };
            }
        })?;
        partition.events.push(table);
    }
    Ok(())
}

/// The synapses of `g` that end in `partition`, with their initial state: rows by source,
/// each sorted by delay. `placed(k, index)` is told where synapse `k` of `g` went.
fn event_table(
    partition: &Partition,
    g: &Generated,
    rule: &EventRule,
    populations: &[PopulationPlan],
    mut placed: impl FnMut(usize, u32),
) -> Result<EventTable, SimError> {
    let lo = partition.first_id;
    let n_local = partition.n_local;
    let n_sources = populations[g.source_population].size;
    let mut table = EventTable {
        rule: rule.clone(),
        source_first: g.source_first,
        source_len: n_sources as u32,
        row: Vec::with_capacity(n_sources + 1),
        slot_index: Vec::new(),
        delay: Vec::new(),
        factor: Vec::new(),
        target: Vec::new(),
        state: Vec::new(),
        last: Vec::new(),
        by_target: ByTarget::default(),
        history: Vec::new(),
        scratch: Vec::new(),
    };
    table.row.push(0);
    let mut order: Vec<usize> = Vec::new();
    let mut max_delay = 1;
    for s in 0..n_sources {
        order.clear();
        order.extend(local_span(g, s, lo..lo + n_local as u32));
        order.sort_by_key(|&k| g.delay.at(k));
        for &k in &order {
            let group = target_group(&partition.groups, g.target_population)?;
            let landing = land(g, k, group, lo, populations)?;
            placed(k, table.delay.len() as u32);
            let delay = g.delay.at(k);
            max_delay = max_delay.max(delay as usize);
            table.slot_index.push(landing.slot_index);
            table.delay.push(delay);
            table.factor.push(landing.factor);
            table.target.push(landing.local);
            rule.initial(g.weight.at(k) as f64, &mut table.state)
                .map_err(unsupported)?;
        }
        if table.delay.len() >= u32::MAX as usize {
            return Err(unsupported(
                "more than 4 billion synapses in one partition; use more threads".into(),
            ));
        }
        table.row.push(table.delay.len() as u32);
    }
    table.last = vec![0; table.delay.len()];
    table.by_target = ByTarget::of(&table.target, n_local);
    table.history = vec![Vec::new(); max_delay];
    Ok(table)
}

/// The synapses of source `s` (index within its population) whose targets fall into the
/// global ids `ids`: a range of `g.rows.targets`, whose rows are sorted.
fn local_span(g: &Generated, s: usize, ids: Range<u32>) -> Range<usize> {
    let (a, b) = (g.rows.offsets[s], g.rows.offsets[s + 1]);
    let row = &g.rows.targets[a..b];
    let t_lo = ids.start.saturating_sub(g.target_first);
    let t_hi = ids.end.saturating_sub(g.target_first);
    let start = row.partition_point(|&t| t < t_lo);
    let end = row.partition_point(|&t| t < t_hi);
    a + start..a + end
}

/// The partition's group of the target population.
fn target_group(groups: &[Group], population: usize) -> Result<&Group, SimError> {
    groups
        .iter()
        .find(|g| g.population == population)
        .ok_or_else(|| {
            unsupported("internal error: target group missing from its partition".into())
        })
}

/// Where one synapse lands in its target partition.
struct Landing {
    /// The target neuron, within the partition.
    local: u32,
    /// The ring slot its input goes to: `Group::slot_index` of receptor and neuron.
    slot_index: u32,
    /// Target-model units per projection unit (the target model converts the weight).
    factor: f32,
}

/// Where synapse `k` of `g` lands in the partition that starts at global id `lo`.
fn land(
    g: &Generated,
    k: usize,
    group: &Group,
    lo: u32,
    populations: &[PopulationPlan],
) -> Result<Landing, SimError> {
    let target_global = g.rows.targets[k] + g.target_first;
    let j = (target_global - lo) as usize;
    let channel = g.receptor as usize;
    if channel >= group.channels {
        return Err(unsupported(format!(
            "internal error: population `{}` has no input channel {channel}",
            populations[g.target_population].name
        )));
    }
    let factor = group
        .dynamics
        .weight_factor(g.dim, j - group.local_start)
        .ok_or_else(|| {
            unsupported(format!(
                "population `{}` does not take weights that are {}",
                populations[g.target_population].name,
                g.dim.name()
            ))
        })?;
    Ok(Landing {
        local: j as u32,
        slot_index: u32::try_from(group.slot_index(channel, j - group.local_start))
            .map_err(|_| unsupported("a partition's input exceeds 2^32 values".into()))?,
        factor,
    })
}

/// A partition's static and plastic synapse tables while they are filled, row by row.
struct Tables {
    fixed: SynapseTable,
    plastic: PlasticState,
}

impl Tables {
    /// Empty tables with room for a row per neuron of the network.
    fn new(n_total: usize) -> Tables {
        let rows = || {
            let mut row = Vec::with_capacity(n_total + 1);
            row.push(0);
            row
        };
        Tables {
            fixed: SynapseTable {
                row: rows(),
                ..SynapseTable::default()
            },
            plastic: PlasticState {
                table: SynapseTable {
                    row: rows(),
                    ..SynapseTable::default()
                },
                ..PlasticState::default()
            },
        }
    }

    /// Adds synapse `k` of `g` from source `s` to the current row: a static synapse holds
    /// its weight in the target model's units, a plastic one in the projection's (what
    /// `w_max` bounds) with the factor beside it. Returns where the weight lives.
    fn push(&mut self, g: &Generated, k: usize, s: usize, at: Landing, part: u32) -> WeightRef {
        let (w, d) = (g.weight.at(k), g.delay.at(k));
        match g.rule {
            None => {
                let weight = WeightRef {
                    partition: part,
                    store: WeightStore::Fixed,
                    index: self.fixed.weight.len() as u32,
                    scale: if at.factor != 0.0 {
                        1.0 / at.factor
                    } else {
                        0.0
                    },
                };
                self.fixed.slot_index.push(at.slot_index);
                self.fixed.weight.push(w * at.factor);
                self.fixed.delay.push(d);
                weight
            }
            Some(rule) => {
                let plastic = &mut self.plastic;
                let weight = WeightRef {
                    partition: part,
                    store: WeightStore::Plastic,
                    index: plastic.table.weight.len() as u32,
                    scale: 1.0,
                };
                plastic.table.slot_index.push(at.slot_index);
                plastic.table.weight.push(w);
                plastic.table.delay.push(d);
                plastic.factor.push(at.factor);
                plastic.rule.push(rule);
                plastic.source.push(g.source_first + s as u32);
                plastic.target.push(at.local);
                weight
            }
        }
    }

    /// Ends the row of one source neuron; synapse indices must fit in a `u32`.
    fn end_row(&mut self) -> Result<(), SimError> {
        let too_many = self.fixed.weight.len() >= u32::MAX as usize
            || self.plastic.table.weight.len() >= u32::MAX as usize;
        if too_many {
            return Err(unsupported(
                "more than 4 billion synapses in one partition; use more threads".into(),
            ));
        }
        self.fixed.row.push(self.fixed.weight.len() as u32);
        self.plastic
            .table
            .row
            .push(self.plastic.table.weight.len() as u32);
        Ok(())
    }
}

fn plan_samplers(
    network: &Network,
    partitions: &[Partition],
    pops: &[&Population],
    dt: f64,
    mut weight_refs: Vec<Vec<WeightRef>>,
) -> Result<Vec<Sampler>, SimError> {
    let mut samplers = Vec::new();
    for (record, r) in network.records.iter().enumerate() {
        let every = match r.every {
            None => 1,
            Some(Interval::Time(ms)) => ((ms / dt).round() as u64).max(1),
            Some(Interval::Epochs(_)) => {
                return Err(unsupported(
                    "`every N epochs` has no meaning in spiking mode".into(),
                ));
            }
        };
        match &r.what {
            Recordable::State(var) => {
                let mut pieces = Vec::new();
                for target in &r.targets {
                    let RecordTarget::Population { id, range } = target else {
                        return Err(unsupported(format!(
                            "`record {var}` needs populations, not projections"
                        )));
                    };
                    let population = pops[id.0 as usize];
                    let Some(index) = population.model.state.iter().position(|s| s.name == var)
                    else {
                        return Err(unsupported(format!(
                            "`{}` has no state variable `{var}`",
                            population.model.name
                        )));
                    };
                    let (lo, hi) = range.unwrap_or((0, population.size()));
                    let hi = hi.min(population.size());
                    for (part, partition) in partitions.iter().enumerate() {
                        for (gi, group) in partition.groups.iter().enumerate() {
                            if group.population != id.0 as usize {
                                continue;
                            }
                            let a = lo.max(group.first_in_population);
                            let b = hi.min(group.first_in_population + group.len);
                            if a < b {
                                let offset = group.first_in_population;
                                pieces.push((part, gi, a - offset..b - offset, index));
                            }
                        }
                    }
                }
                samplers.push(Sampler::State {
                    record,
                    every,
                    pieces,
                });
            }
            Recordable::Weight => {
                let mut weights = Vec::new();
                for target in &r.targets {
                    if let RecordTarget::Projection(id) = target {
                        weights.extend_from_slice(&weight_refs[id.0 as usize]);
                    }
                }
                samplers.push(Sampler::Weight {
                    record,
                    every,
                    weights,
                });
            }
            // Spikes go to `Observer::spikes` every step; rate-mode records do not apply.
            _ => {}
        }
    }
    weight_refs.clear();
    Ok(samplers)
}
