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

use super::partition::{Group, Partition, PlasticState, RuleState, SynapseTable};
use crate::ir::{Interval, Network, Population, RecordTarget, Recordable, Value};
use crate::models::connector::Rows;
use crate::models::neuron::dynamics::{GroupSpec, Values};
use crate::models::plasticity::Learns;
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
    pub plastic: bool,
    pub index: u32,
    pub scale: f32,
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
    receptor: u32,
    dim: Dim,
    /// Index into `Plan::rules` for plastic projections.
    rule: Option<u16>,
    /// Index of the projection's record slot in `weight_refs`, if its weights are recorded.
    recorded: bool,
}

/// Builds the plan with `n_partitions` partitions (fewer if there are fewer neurons).
pub fn build(network: &Network, n_partitions: usize) -> Result<Plan, SimError> {
    let dt = network.dt;
    if !(dt > 0.0 && dt.is_finite()) {
        return Err(unsupported(format!("dt must be > 0, not {dt} ms")));
    }
    let duration = network.simulate.as_ref().map_or(0.0, |s| s.duration);
    if !(duration >= 0.0 && duration.is_finite()) {
        return Err(unsupported(format!("cannot simulate {duration} ms")));
    }
    let n_steps = (duration / dt).round() as u64;
    let graph = &network.graph;

    let mut populations = Vec::new();
    let mut total: u64 = 0;
    for (_, p) in graph.populations() {
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
    let n_total = total as usize;
    let n_parts = n_partitions.clamp(1, n_total.max(1));
    let bounds: Vec<usize> = (0..=n_parts).map(|i| n_total * i / n_parts).collect();
    let pops: Vec<&Population> = graph.populations().map(|(_, p)| p).collect();

    // Neuron state, one group per (partition, population) overlap.
    let partition_groups: Vec<Vec<Group>> = (0..n_parts)
        .into_par_iter()
        .map(|part| build_groups(network, &pops, &populations, bounds[part]..bounds[part + 1]))
        .collect::<Result<_, _>>()?;

    // Synapses, projection by projection.
    let mut generated = Vec::new();
    let mut rules = Vec::new();
    let mut projection_counts = Vec::new();
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
    let mut max_delay: u16 = 1;
    for (id, projection) in graph.projections() {
        let g = generate_projection(network, id.0, projection, &populations, &mut rules)?;
        let g = Generated {
            recorded: recorded_projections.contains(&id.0),
            ..g
        };
        max_delay = max_delay.max(match &g.delay {
            PerSynapse::Same(d) => *d,
            PerSynapse::Each(v) => v.iter().copied().max().unwrap_or(1),
        });
        projection_counts.push((projection.name.clone(), g.rows.n_synapses() as u64));
        generated.push(g);
    }
    let slots = (max_delay as usize + 1).next_power_of_two();

    // Split the synapses by target partition.
    let mut weight_refs: Vec<Vec<WeightRef>> = generated
        .iter()
        .map(|g| {
            if g.recorded {
                vec![
                    WeightRef {
                        partition: 0,
                        plastic: false,
                        index: 0,
                        scale: 1.0,
                    };
                    g.rows.n_synapses()
                ]
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut partitions = Vec::with_capacity(n_parts);
    for (part, groups) in partition_groups.into_iter().enumerate() {
        let range = bounds[part] as u32..bounds[part + 1] as u32;
        let n_local = range.len();
        let mut partition = Partition {
            first_id: range.start,
            n_local,
            groups,
            ring: vec![0.0; slots * 2 * n_local],
            slot_mask: slots - 1,
            synapses: SynapseTable::default(),
            uniform_delay: None,
            plastic: None,
        };
        fill_tables(
            &mut partition,
            part as u32,
            n_total,
            &populations,
            &generated,
            &mut weight_refs,
            &rules,
        )?;
        partitions.push(partition);
    }
    drop(generated);

    let samplers = plan_samplers(network, &partitions, &pops, dt, weight_refs)?;
    Ok(Plan {
        dt,
        n_steps,
        populations,
        partitions,
        rules,
        projections: projection_counts,
        samplers,
    })
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
        let spec = GroupSpec {
            n: hi - lo,
            dt: network.dt,
            param: &param,
            initial: &initial,
            list: &list,
            course: &course,
            neuron_stream: &neuron_stream,
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
            dynamics,
        });
    }
    Ok(groups)
}

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

    // Per-synapse values are drawn row by row, each source from its own stream.
    let per_synapse = |value: &Value, purpose: Purpose| -> Result<PerSynapse<f64>, String> {
        match value {
            Value::Number(x) => Ok(PerSynapse::Same(*x)),
            Value::Dist(_) => {
                let mut out = Vec::with_capacity(rows.n_synapses());
                for s in 0..n_pre {
                    let mut rng = stream(seed, purpose, &[id as u64, s as u64]);
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
    };
    let weight = match &projection.weight {
        Some(w) => per_synapse(w, Purpose::Weight).map_err(fail)?,
        None => return Err(fail("no `weight` given".into())),
    };
    let weight = match weight {
        PerSynapse::Same(x) => PerSynapse::Same(x as f32),
        PerSynapse::Each(v) => PerSynapse::Each(v.into_iter().map(|x| x as f32).collect()),
    };
    let to_steps = |ms: f64| -> Result<u16, String> {
        let steps = (ms / network.dt).round().max(1.0);
        if steps > u16::MAX as f64 - 1.0 || !steps.is_finite() {
            Err(format!(
                "delay {ms} ms is longer than {} steps",
                u16::MAX - 1
            ))
        } else {
            Ok(steps as u16)
        }
    };
    let delay = match &projection.delay {
        None => PerSynapse::Same(1),
        Some(d) => match per_synapse(d, Purpose::Delay).map_err(fail)? {
            PerSynapse::Same(ms) => PerSynapse::Same(to_steps(ms).map_err(fail)?),
            PerSynapse::Each(v) => PerSynapse::Each(
                v.into_iter()
                    .map(to_steps)
                    .collect::<Result<_, _>>()
                    .map_err(fail)?,
            ),
        },
    };
    let rule = match &projection.plasticity {
        None => None,
        Some(p) => {
            let Learns::PairTraces(numbers) = p.rule.learns else {
                return Err(fail(format!(
                    "`{}` is a rate-mode rule; spiking mode needs a spike-timing rule",
                    p.rule.name
                )));
            };
            let rule = numbers(&|name| p.params.numeric(name)).map_err(fail)?;
            let negative = match &weight {
                PerSynapse::Same(w) => *w < 0.0,
                PerSynapse::Each(v) => v.iter().any(|w| *w < 0.0),
            };
            if negative {
                return Err(fail("plastic weights must be >= 0".into()));
            }
            let len = n_pre;
            rules.push(RuleState {
                rule,
                source_first: populations[source].first_id,
                source_len: len as u32,
                pre_value: (0..len).map(|_| AtomicU32::new(0)).collect(),
                pre_last: (0..len).map(|_| AtomicU32::new(0)).collect(),
            });
            Some((rules.len() - 1) as u16)
        }
    };
    Ok(Generated {
        source_population: source,
        target_population: target,
        source_first: populations[source].first_id,
        target_first: populations[target].first_id,
        rows,
        weight,
        delay,
        receptor: match projection.receptor {
            crate::ir::Receptor::Excitatory => 0,
            crate::ir::Receptor::Inhibitory => 1,
        },
        dim: projection.weight_dim,
        rule,
        recorded: false,
    })
}

/// Fills a partition's static and plastic tables from the generated projections.
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
    // Targets of source `s` (index within its population) that fall into this partition.
    let local_span = |g: &Generated, s: usize| -> Range<usize> {
        let (a, b) = (g.rows.offsets[s], g.rows.offsets[s + 1]);
        let row = &g.rows.targets[a..b];
        let t_lo = lo.saturating_sub(g.target_first);
        let t_hi = hi.saturating_sub(g.target_first);
        let start = row.partition_point(|&t| t < t_lo);
        let end = row.partition_point(|&t| t < t_hi);
        a + start..a + end
    };
    let by_source: Vec<Vec<usize>> = (0..populations.len())
        .map(|p| {
            (0..generated.len())
                .filter(|&g| generated[g].source_population == p)
                .collect()
        })
        .collect();
    let group_of_population = |population: usize| {
        partition
            .groups
            .iter()
            .position(|g| g.population == population)
    };

    let mut static_table = SynapseTable {
        row: Vec::with_capacity(n_total + 1),
        ..SynapseTable::default()
    };
    let mut plastic = PlasticState {
        table: SynapseTable {
            row: Vec::with_capacity(n_total + 1),
            ..SynapseTable::default()
        },
        ..PlasticState::default()
    };
    let any_plastic = generated.iter().any(|g| g.rule.is_some());
    static_table.row.push(0);
    plastic.table.row.push(0);
    for (p, plan) in populations.iter().enumerate() {
        for s in 0..plan.size {
            for &gi in &by_source[p] {
                let g = &generated[gi];
                let span = local_span(g, s);
                if span.is_empty() {
                    continue;
                }
                let group_index = group_of_population(g.target_population).ok_or_else(|| {
                    unsupported("internal error: target group missing from its partition".into())
                })?;
                let group = &partition.groups[group_index];
                for k in span {
                    let target_global = g.rows.targets[k] + g.target_first;
                    let j = (target_global - lo) as usize;
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
                    let slot_index = g.receptor * n_local as u32 + j as u32;
                    let (w, d) = (g.weight.at(k), g.delay.at(k));
                    match g.rule {
                        None => {
                            if g.recorded {
                                weight_refs[gi][k] = WeightRef {
                                    partition: part,
                                    plastic: false,
                                    index: static_table.weight.len() as u32,
                                    scale: if factor != 0.0 { 1.0 / factor } else { 0.0 },
                                };
                            }
                            static_table.slot_index.push(slot_index);
                            static_table.weight.push(w * factor);
                            static_table.delay.push(d);
                        }
                        Some(rule) => {
                            if g.recorded {
                                weight_refs[gi][k] = WeightRef {
                                    partition: part,
                                    plastic: true,
                                    index: plastic.table.weight.len() as u32,
                                    scale: 1.0,
                                };
                            }
                            plastic.table.slot_index.push(slot_index);
                            plastic.table.weight.push(w);
                            plastic.table.delay.push(d);
                            plastic.factor.push(factor);
                            plastic.rule.push(rule);
                            plastic.source.push(g.source_first + s as u32);
                            plastic.target.push(j as u32);
                        }
                    }
                }
            }
            let too_many = static_table.weight.len() >= u32::MAX as usize
                || plastic.table.weight.len() >= u32::MAX as usize;
            if too_many {
                return Err(unsupported(
                    "more than 4 billion synapses in one partition; use more threads".into(),
                ));
            }
            static_table.row.push(static_table.weight.len() as u32);
            plastic.table.row.push(plastic.table.weight.len() as u32);
        }
    }
    let first = static_table.delay.first().copied().unwrap_or(1);
    partition.uniform_delay = static_table
        .delay
        .iter()
        .all(|&d| d == first)
        .then_some(first);
    partition.synapses = static_table;
    if any_plastic {
        let mut counts = vec![0u32; n_local + 1];
        for &j in &plastic.target {
            counts[j as usize + 1] += 1;
        }
        for j in 0..n_local {
            counts[j + 1] += counts[j];
        }
        let mut fill = counts.clone();
        let mut index = vec![0u32; plastic.target.len()];
        for (k, &j) in plastic.target.iter().enumerate() {
            index[fill[j as usize] as usize] = k as u32;
            fill[j as usize] += 1;
        }
        plastic.by_target_row = counts;
        plastic.by_target_index = index;
        plastic.post_trace = vec![vec![Trace::default(); n_local]; rules.len()];
        partition.plastic = Some(plastic);
    }
    Ok(())
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
