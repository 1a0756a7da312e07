//! The spiking engine: clock-driven neuron updates, event-driven spike delivery through
//! per-synapse delay rings, pair-based STDP applied per spike event.
//!
//! ## Step loop
//!
//! The network is split into partitions, contiguous ranges of neurons, each owning its
//! neurons' state, ring buffers, and every synapse that ends on them (`partition.rs`). Each
//! worker thread owns some partitions. Step `n` (time `n·dt` to `(n+1)·dt`) has two phases,
//! separated by a spinning barrier (`sync.rs`):
//!
//! 1. **update** — every partition advances its neurons (one call per population slice; the
//!    model's loop is monomorphic and vectorises), reading and clearing ring slot `n`, and
//!    writes the ids that fired into its own spike list;
//! 2. **delivery** — every partition reads all spike lists (the per-step exchange) and adds
//!    each synapse's weight into its ring slot `n + delay`, then applies STDP. Meanwhile
//!    worker 0 passes the spikes to the observer.
//!
//! A third phase, only on steps where a record is due, lets worker 0 read state and weights.
//! Nothing allocates inside the loop once the spike lists have grown to their working size.
//!
//! A panic ends the run rather than hanging it: one in the observer is caught on worker 0
//! and returned as an error (the run stops at the end of the step, as for any observer
//! error); one anywhere else poisons the barrier, every worker leaves the loop, and the
//! panic propagates from [`run`].
//!
//! ## Determinism
//!
//! Random numbers come from streams keyed by ids (`sim::rng`), and a neuron's input is summed
//! in an order fixed by the network (see `partition.rs`), so spike trains are bit-identical
//! for any thread count.
//!
//! ## Recorded weights
//!
//! `record weight of A -> B` samples every synapse of the projection in generation order:
//! by source neuron, then by target neuron, ascending (repeated pairs in the order drawn),
//! in the unit the weight was written in.

pub mod build;
pub mod events;
pub mod partition;
pub mod sync;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::report::{PopulationReport, ProjectionReport};
use super::{ObserveError, Observer, RunConfig, RunReport, SimError};
use crate::ir::{Network, PopulationId};
use build::{Plan, Sampler, WeightStore};
use partition::{Partition, RuleState};
use sync::{PhaseCell, PoisonOnPanic, SpinBarrier};

/// How finely to split the work between threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partitioning {
    /// Fewest neurons a worker thread gets. A step of a small network lasts a few
    /// microseconds, about what threads need to meet at a barrier, so small networks run on
    /// fewer threads than allowed (results are the same either way).
    pub min_neurons_per_worker: usize,
}

impl Default for Partitioning {
    fn default() -> Partitioning {
        Partitioning {
            min_neurons_per_worker: 10_000,
        }
    }
}

/// Simulates a spiking network for its `simulate` duration.
///
/// Uses up to `min(config.threads, rayon::current_num_threads())` worker threads of the
/// current rayon pool (call it inside `ThreadPool::install` to choose the pool), fewer for
/// small networks (see [`Partitioning`]). Stops cleanly at the next step when
/// `config.interrupt` is set, with `interrupted = true` in the report.
pub fn run(
    network: &Network,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<RunReport, SimError> {
    run_partitioned(network, config, observer, Partitioning::default())
}

/// [`run`] with an explicit partitioning (tests use it to force several workers onto small
/// networks).
pub fn run_partitioned(
    network: &Network,
    config: &RunConfig,
    observer: &mut dyn Observer,
    partitioning: Partitioning,
) -> Result<RunReport, SimError> {
    prepare(network, config, partitioning)?.run(config, observer)
}

/// A network instantiated and ready to run: synapses drawn, state initialised.
pub struct Prepared {
    plan: Plan,
    workers: usize,
    build_s: f64,
}

/// Instantiates `network` for up to `config.threads` workers (see [`run`]), without running
/// it; benchmarks use this to time the step loop alone.
pub fn prepare(
    network: &Network,
    config: &RunConfig,
    partitioning: Partitioning,
) -> Result<Prepared, SimError> {
    let started = Instant::now();
    let neurons: usize = network.graph.populations().map(|(_, p)| p.size()).sum();
    let by_size = (neurons / partitioning.min_neurons_per_worker.max(1)).max(1);
    let workers = config
        .threads
        .clamp(1, rayon::current_num_threads().max(1))
        .min(by_size);
    let plan = build::build(network, workers)?;
    Ok(Prepared {
        plan,
        workers,
        build_s: started.elapsed().as_secs_f64(),
    })
}

impl Prepared {
    /// Total synapses of the instantiated network.
    pub fn synapses(&self) -> u64 {
        self.plan.projections.iter().map(|(_, n)| n).sum()
    }

    /// Runs the simulation (inside the rayon pool it was prepared for).
    pub fn run(
        self,
        config: &RunConfig,
        observer: &mut dyn Observer,
    ) -> Result<RunReport, SimError> {
        run_prepared(self, config, observer)
    }
}

fn run_prepared(
    prepared: Prepared,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<RunReport, SimError> {
    let Prepared {
        plan,
        workers,
        build_s,
    } = prepared;
    observer.started()?;
    let started = Instant::now();
    let outcome = execute(plan, workers, config, observer)?;
    let run_s = started.elapsed().as_secs_f64();
    let seconds = outcome.steps_done as f64 * outcome.dt / 1000.0;
    let mut report = RunReport {
        build_s,
        run_s,
        interrupted: outcome.interrupted,
        simulated_ms: Some(outcome.steps_done as f64 * outcome.dt),
        ..RunReport::default()
    };
    for ((name, size), spikes) in outcome.populations.into_iter().zip(outcome.spikes) {
        let rate_hz = if seconds > 0.0 && size > 0 {
            spikes as f64 / size as f64 / seconds
        } else {
            0.0
        };
        report.populations.insert(
            name,
            PopulationReport {
                size,
                spikes: Some(spikes),
                rate_hz: Some(rate_hz),
            },
        );
    }
    for (name, synapses) in outcome.projections {
        report
            .projections
            .insert(name, ProjectionReport { synapses });
    }
    Ok(report)
}

/// What a finished (or interrupted) run hands back.
struct Outcome {
    dt: f64,
    steps_done: u64,
    interrupted: bool,
    populations: Vec<(String, usize)>,
    spikes: Vec<u64>,
    projections: Vec<(String, u64)>,
}

/// Everything the workers share during the loop.
struct Shared<'a> {
    dt: f64,
    n_steps: u64,
    workers: usize,
    partitions: Vec<PhaseCell<Partition>>,
    /// Spike lists per partition, two buffers (even and odd steps).
    spikes: [Vec<PhaseCell<Vec<u32>>>; 2],
    rules: &'a [RuleState],
    samplers: &'a [Sampler],
    barrier: SpinBarrier,
    stop: AtomicBool,
}

/// Worker 0's extra duties: talking to the observer and counting.
struct Main<'o> {
    observer: &'o mut dyn Observer,
    config: &'o RunConfig,
    /// (global id of the first neuron, size) per population.
    populations: Vec<(u32, usize)>,
    spikes: Vec<u64>,
    ids: Vec<u32>,
    values: Vec<f32>,
    steps_done: u64,
    interrupted: bool,
    error: Option<ObserveError>,
    progress_every: u64,
}

fn execute(
    plan: Plan,
    workers: usize,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<Outcome, SimError> {
    let Plan {
        dt,
        n_steps,
        populations,
        partitions,
        rules,
        projections,
        samplers,
    } = plan;
    let workers = workers.clamp(1, partitions.len().max(1));
    let shared = Shared {
        dt,
        n_steps,
        workers,
        spikes: [0, 1].map(|_| {
            partitions
                .iter()
                .map(|p| PhaseCell::new(Vec::with_capacity(p.n_local.min(4096))))
                .collect()
        }),
        partitions: partitions.into_iter().map(PhaseCell::new).collect(),
        rules: &rules,
        samplers: &samplers,
        barrier: SpinBarrier::new(workers),
        stop: AtomicBool::new(false),
    };
    let mut main = Main {
        observer,
        config,
        populations: populations.iter().map(|p| (p.first_id, p.size)).collect(),
        spikes: vec![0; populations.len()],
        ids: Vec::new(),
        values: Vec::new(),
        steps_done: 0,
        interrupted: false,
        error: None,
        progress_every: (n_steps / 100).max(1),
    };
    if n_steps > 0 && !shared.partitions.is_empty() {
        rayon::in_place_scope(|scope| {
            for w in 1..workers {
                let shared = &shared;
                scope.spawn(move |_| work(shared, w, None));
            }
            work(&shared, 0, Some(&mut main));
        });
    }
    if let Some(error) = main.error {
        return Err(SimError::Observe(error));
    }
    // A state that became NaN or infinite would leave wrong numbers without a word.
    for cell in &shared.partitions {
        // SAFETY: every worker has finished (the scope above joined them).
        let partition = unsafe { cell.get() };
        for group in &partition.groups {
            if let Some((var, i)) = group.dynamics.diverged() {
                let population = &populations[group.population].name;
                return Err(SimError::NotFinite(format!(
                    "state `{var}` of population '{population}' (neuron {}) is not a finite \
                     number at the end of the run: an equation divides by zero or the method \
                     is unstable at this dt",
                    group.first_in_population + i
                )));
            }
        }
    }
    main.observer.progress(1.0, "done");
    Ok(Outcome {
        dt,
        steps_done: main.steps_done,
        interrupted: main.interrupted,
        populations: populations.into_iter().map(|p| (p.name, p.size)).collect(),
        spikes: main.spikes,
        projections,
    })
}

/// The step loop of worker `w`; worker 0 also serves the observer.
///
/// Without plasticity the two phases are pipelined: in one phase a partition first delivers
/// the spikes of step `n - 1`, then updates step `n` (its ring slot `n` is complete, since
/// every delay is at least one step), writing its spikes into the other of two spike-list
/// buffers. One barrier per step instead of two. STDP needs the presynaptic traces of step
/// `n` to stay fixed while other partitions read them, so plastic networks take two barriers.
fn work(shared: &Shared, w: usize, mut main: Option<&mut Main>) {
    let _poison = PoisonOnPanic(&shared.barrier);
    let owned: Vec<usize> = (w..shared.partitions.len())
        .step_by(shared.workers)
        .collect();
    let mut lists: Vec<&[u32]> = Vec::with_capacity(shared.partitions.len());
    let pipelined = shared.rules.is_empty();
    let n_steps = shared.n_steps;
    for step in 0..=n_steps {
        if pipelined {
            if step > 0 {
                deliver(shared, &owned, step - 1, &mut lists, main.as_deref_mut());
            }
            if step < n_steps {
                update(shared, &owned, step);
            }
            if shared.barrier.wait().is_err() {
                return;
            }
        } else {
            if step == n_steps {
                break;
            }
            update(shared, &owned, step);
            if shared.barrier.wait().is_err() {
                return;
            }
            deliver(shared, &owned, step, &mut lists, main.as_deref_mut());
            if shared.barrier.wait().is_err() {
                return;
            }
        }
        if step < n_steps && shared.samplers.iter().any(|s| s.due(step)) {
            if let Some(main) = main.as_deref_mut() {
                main.sample(shared, step);
            }
            if shared.barrier.wait().is_err() {
                return;
            }
        }
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
    }
}

/// Delivery phase of `step` for the partitions `owned`.
fn deliver<'s>(
    shared: &'s Shared,
    owned: &[usize],
    step: u64,
    lists: &mut Vec<&'s [u32]>,
    main: Option<&mut Main>,
) {
    let buffer = &shared.spikes[(step % 2) as usize];
    // SAFETY: the spike lists of `step` are only read in this phase; their owners write
    // them again only two steps later (pipelined) or after the next barrier.
    lists.extend(buffer.iter().map(|s| unsafe { s.get() }.as_slice()));
    for &p in owned {
        // SAFETY: partition `p` belongs to this worker; spike lists are separate cells.
        let partition = unsafe { shared.partitions[p].get_mut() };
        partition.deliver(step, shared.dt, lists, shared.rules);
    }
    if let Some(main) = main {
        main.after_step(shared, step, lists);
    }
    lists.clear();
}

/// Update phase of `step` for the partitions `owned`.
fn update(shared: &Shared, owned: &[usize], step: u64) {
    let buffer = &shared.spikes[(step % 2) as usize];
    for &p in owned {
        // SAFETY: partition `p` and its spike list of this parity belong to this worker;
        // nobody reads that list until the next barrier.
        let (partition, spikes) = unsafe { (shared.partitions[p].get_mut(), buffer[p].get_mut()) };
        partition.update(step, shared.dt, spikes, shared.rules);
    }
}

impl Main<'_> {
    /// Spikes to the observer, counting, progress and the interrupt check.
    fn after_step(&mut self, shared: &Shared, step: u64, lists: &[&[u32]]) {
        self.steps_done = step + 1;
        let t = (step + 1) as f64 * shared.dt;
        let mut population = 0;
        let flush = |main: &mut Main, population: usize| {
            if !main.ids.is_empty() && main.error.is_none() {
                main.spikes[population] += main.ids.len() as u64;
                let id = PopulationId(population as u32);
                let observer = &mut main.observer;
                let ids = &main.ids;
                if let Err(e) = guarded(|| observer.spikes(id, t, ids)) {
                    main.error = Some(e);
                }
            }
            main.ids.clear();
        };
        for list in lists {
            for &id in *list {
                while id >= self.populations[population].0 + self.populations[population].1 as u32 {
                    flush(self, population);
                    population += 1;
                }
                self.ids.push(id - self.populations[population].0);
            }
        }
        flush(self, population);
        if (step + 1).is_multiple_of(self.progress_every) && self.error.is_none() {
            let fraction = (step + 1) as f64 / shared.n_steps as f64;
            let observer = &mut self.observer;
            let what = format!("t = {:.3} s", t / 1000.0);
            if let Err(e) = guarded(|| {
                observer.progress(fraction, &what);
                Ok(())
            }) {
                self.error = Some(e);
            }
        }
        if self.config.interrupted() {
            self.interrupted = step + 1 < shared.n_steps;
            shared.stop.store(true, Ordering::Release);
        }
        if self.error.is_some() {
            shared.stop.store(true, Ordering::Release);
        }
    }

    /// Samples every record due at this step (sampling phase: the other workers wait).
    fn sample(&mut self, shared: &Shared, step: u64) {
        let t = (step + 1) as f64 * shared.dt;
        for sampler in shared.samplers.iter().filter(|s| s.due(step)) {
            self.values.clear();
            let record = match sampler {
                Sampler::State { record, pieces, .. } => {
                    for (p, g, range, var) in pieces {
                        // SAFETY: sampling phase — only worker 0 runs; it only reads.
                        let partition = unsafe { shared.partitions[*p].get() };
                        partition.groups[*g].dynamics.read_state(
                            *var,
                            range.clone(),
                            &mut self.values,
                        );
                    }
                    *record
                }
                Sampler::Weight {
                    record, weights, ..
                } => {
                    for r in weights {
                        // SAFETY: sampling phase — only worker 0 runs; it only reads.
                        let partition = unsafe { shared.partitions[r.partition as usize].get() };
                        let w = match r.store {
                            WeightStore::Fixed => partition.synapses.weight[r.index as usize],
                            WeightStore::Plastic => partition
                                .plastic
                                .as_ref()
                                .map_or(0.0, |p| p.table.weight[r.index as usize]),
                            WeightStore::Events(t) => {
                                partition.events[t as usize].weight(r.index as usize)
                            }
                        };
                        self.values.push(w * r.scale);
                    }
                    *record
                }
            };
            let (observer, values) = (&mut self.observer, &self.values);
            if self.error.is_none()
                && let Err(e) = guarded(|| observer.sample(record, t, values))
            {
                self.error = Some(e);
                shared.stop.store(true, Ordering::Release);
            }
        }
    }
}

/// Calls the observer, turning a panic in it into an error: worker 0 must reach the next
/// barrier, or the other workers would wait for it forever.
fn guarded(call: impl FnOnce() -> Result<(), ObserveError>) -> Result<(), ObserveError> {
    catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(ObserveError(format!("the observer panicked: {message}")))
    })
}
