//! Where results go: observers that receive what an engine produces and keep it, either in an
//! HDF5 file ([`hdf5::Hdf5Recorder`], the `neurosim run` output) or in memory
//! ([`memory::MemoryRecorder`], for tests and snapshot summaries).
//!
//! This file holds what every backend shares: the run's [`Provenance`], its final
//! [`RunStatus`], the typed [`RecordError`], and the [`Layout`] that turns the network's
//! `record` statements into named places (which populations' spikes are kept, how the values
//! of one `sample` call split into per-population columns). The HDF5 schema itself is
//! documented in `docs/OUTPUT.md`.

pub mod claim;
pub mod hdf5;
pub mod memory;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::ir::{self, PopulationId, RecordTarget, Recordable, Window};
use crate::models::Mode;
use crate::units::Dim;

/// Named arrays (path without a leading slash → shape and row-major values), as written by
/// `Observer::array` and returned by [`hdf5::read_arrays`].
pub type Arrays = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Everything needed to reproduce a run, stored as root attributes of the output file so
/// that `neurosim run --from OUT.h5` can replay it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Provenance {
    /// The full text of the `.net` file.
    pub source: String,
    /// The `.net` file's name as given on the command line.
    pub file_name: String,
    /// neurosim's version (`CARGO_PKG_VERSION`).
    pub version: String,
    pub seed: u64,
    pub threads: usize,
    /// When the run started, RFC 3339 in UTC (`2026-11-23T18:40:20Z`).
    pub start_time: String,
    /// The command line, arguments joined by spaces.
    pub command_line: String,
    /// Every `--set PATH=VALUE` in the order given.
    pub overrides: Vec<String>,
    /// The name of the network that ran (a file may hold several).
    pub network: String,
}

/// How a run ended; written as the root attribute `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    Complete,
    /// Stopped early by Ctrl-C, SIGTERM or SIGHUP; the file holds everything up to that point.
    Interrupted,
    /// Stopped by an error; the message says which.
    Failed(String),
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunStatus::Complete => f.write_str("complete"),
            RunStatus::Interrupted => f.write_str("interrupted"),
            RunStatus::Failed(message) => write!(f, "failed: {message}"),
        }
    }
}

impl RunStatus {
    /// Reads back what [`Display`](fmt::Display) wrote; `None` for anything else (such as
    /// the `running` a killed run leaves in its temporary file).
    pub fn parse(text: &str) -> Option<RunStatus> {
        match text {
            "complete" => Some(RunStatus::Complete),
            "interrupted" => Some(RunStatus::Interrupted),
            _ => text
                .strip_prefix("failed: ")
                .map(|message| RunStatus::Failed(message.to_string())),
        }
    }
}

/// Why the output could not be created, written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write the output in '{}': {reason}", folder.display())]
    NotWritable { folder: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("HDF5 error in '{}' at '{object}': {message}", path.display())]
    Hdf5 {
        path: PathBuf,
        object: String,
        message: String,
    },
    #[error("'{}' has no '{object}'", path.display())]
    Missing { path: PathBuf, object: String },
    #[error("'{}' is not a neurosim output: {reason}", path.display())]
    NotAnOutput { path: PathBuf, reason: String },
    #[error("a record statement does not fit the network: {0}")]
    Layout(String),
    #[error(
        "{} is in use by another neurosim run{}; wait for it to end or write elsewhere with -o",
        path.display(),
        holder.map(|pid| format!(" (process {pid})")).unwrap_or_default()
    )]
    InUse { path: PathBuf, holder: Option<u32> },
}

/// Where the values of one `sample` call go: the record's targets in order, each a run of
/// consecutive values.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleLayout {
    /// Index into `Network::records`.
    pub record: usize,
    pub kind: SampleKind,
    /// Unit of the values (`mV`, `pA`, `1` for dimensionless).
    pub units: String,
    /// Unit of the `time` the engine passes: `ms` (spiking) or `step` (rate mode's counter).
    pub time_units: &'static str,
    pub columns: Vec<SampleColumns>,
    /// `from`/`until`: samples stamped outside are dropped (`None` keeps all).
    pub window: Option<Window>,
}

impl SampleLayout {
    /// Whether a sample taken at `time` is kept.
    pub fn keeps_time(&self, time: f64) -> bool {
        self.window.is_none_or(|w| w.contains(time))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SampleKind {
    /// A state variable (`v`, `g_e`, ...) of spiking neurons.
    State(String),
    /// Rate-mode unit outputs.
    Activation,
    /// Weights of one or more projections.
    Weight,
}

/// One target of a sampled record: a place in the output and how many values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleColumns {
    /// Group path without a leading slash (`report/E/v`, `activations/y`,
    /// `weights_over_time/x->h`).
    pub group: String,
    /// Population name or projection name(s).
    pub target: String,
    /// Neuron indices within the population; `None` for weights, whose count is only known
    /// once the engine has built the synapses (it is taken from the first sample).
    pub node_ids: Option<Vec<u64>>,
}

impl SampleColumns {
    pub fn width(&self) -> Option<usize> {
        self.node_ids.as_ref().map(Vec::len)
    }
}

/// What the network's `record` statements ask to keep, resolved to names and places.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Populations whose spikes are kept, by id: name and the neurons kept (`None` = all).
    pub spikes: BTreeMap<PopulationId, SpikeSelection>,
    /// Sampled records (state, activation, weight), by record index.
    pub samples: BTreeMap<usize, SampleLayout>,
    /// Whether any `record loss` / `record accuracy` statement or training is present.
    pub training: bool,
    /// Simulated time of a spiking run (its steps times `dt`), where a window without
    /// `until` ends; `None` without `simulate`.
    pub duration_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpikeSelection {
    pub population: String,
    pub size: usize,
    /// Half-open neuron ranges kept; `None` keeps every neuron.
    pub ranges: Option<Vec<(usize, usize)>>,
    /// When spikes are kept (`None`: the whole run). One per population: every record of
    /// its spikes must ask for the same window (the checker refuses others with E0510).
    pub window: Option<Window>,
}

impl SpikeSelection {
    /// Whether a spike stamped `time_ms` is kept.
    pub fn keeps_time(&self, time_ms: f64) -> bool {
        self.window.is_none_or(|w| w.contains(time_ms))
    }

    /// The recorded stretch of a run of `duration_ms`, as stored in the attributes
    /// `start_ms`/`stop_ms` of `/spikes/<population>`: the window clipped to the run.
    pub fn window_ms(&self, duration_ms: f64) -> (f64, f64) {
        match self.window {
            None => (0.0, duration_ms),
            Some(w) => (w.start_ms, w.end_in(duration_ms)),
        }
    }

    /// The planned window for a run of `duration_ms` (if known): start, and the end when
    /// there is one (`until`, or the run's end).
    pub fn planned_window(&self, duration_ms: Option<f64>) -> (f64, Option<f64>) {
        match duration_ms {
            Some(duration) => {
                let (start, stop) = self.window_ms(duration);
                (start, Some(stop))
            }
            None => self.window.map_or((0.0, None), |w| (w.start_ms, w.stop_ms)),
        }
    }

    pub fn keeps(&self, neuron: u32) -> bool {
        match &self.ranges {
            None => true,
            Some(ranges) => ranges
                .iter()
                .any(|&(start, end)| (start..end).contains(&(neuron as usize))),
        }
    }
}

impl Layout {
    /// Resolves the network's records. Two records of the same variable of the same
    /// population get distinct groups (`report/E/v`, `report/E/v#2`).
    pub fn of(network: &ir::Network) -> Result<Layout, RecordError> {
        let mut layout = Layout {
            training: network.train.is_some(),
            duration_ms: match network.mode {
                Mode::Spiking => network
                    .simulate
                    .as_ref()
                    .map(|s| (s.duration / network.dt).round() * network.dt),
                Mode::Rate => None,
            },
            ..Layout::default()
        };
        let mut used_groups: Vec<String> = Vec::new();
        let time_units = match network.mode {
            Mode::Spiking => "ms",
            Mode::Rate => "step",
        };
        for (index, record) in network.records.iter().enumerate() {
            if record.window.is_some() && network.mode == Mode::Rate {
                return Err(RecordError::Layout(
                    "a rate network has no simulated time to record a window of".into(),
                ));
            }
            match &record.what {
                Recordable::Spikes => {
                    for target in &record.targets {
                        let RecordTarget::Population { id, range } = target else {
                            return Err(RecordError::Layout(
                                "spikes can only be recorded of populations".into(),
                            ));
                        };
                        let population = checked_population(network, *id)?;
                        let entry = layout.spikes.entry(*id).or_insert_with(|| SpikeSelection {
                            population: population.name.clone(),
                            size: population.size(),
                            ranges: Some(Vec::new()),
                            window: record.window,
                        });
                        if entry.window != record.window {
                            return Err(RecordError::Layout(format!(
                                "the spikes of {} are recorded in two different windows",
                                population.name
                            )));
                        }
                        match (range, &mut entry.ranges) {
                            (None, ranges) => *ranges = None,
                            (Some(r), Some(ranges)) => ranges.push(*r),
                            (Some(_), None) => {}
                        }
                    }
                }
                Recordable::Loss | Recordable::Accuracy => layout.training = true,
                Recordable::State(var) => {
                    let mut units = "1".to_string();
                    let columns =
                        population_columns(network, &record.targets, &mut used_groups, |p| {
                            if let Some(spec) = p.model.state.iter().find(|s| s.name == var) {
                                units = internal_unit(spec.dim);
                            }
                            format!("report/{}/{}", p.name, var)
                        })?;
                    layout.samples.insert(
                        index,
                        SampleLayout {
                            record: index,
                            kind: SampleKind::State(var.clone()),
                            units,
                            time_units,
                            columns,
                            window: record.window,
                        },
                    );
                }
                Recordable::Activation => {
                    let columns =
                        population_columns(network, &record.targets, &mut used_groups, |p| {
                            format!("activations/{}", p.name)
                        })?;
                    layout.samples.insert(
                        index,
                        SampleLayout {
                            record: index,
                            kind: SampleKind::Activation,
                            units: "1".into(),
                            time_units,
                            columns,
                            window: record.window,
                        },
                    );
                }
                Recordable::Weight => {
                    let mut names = Vec::new();
                    let mut units = "1".to_string();
                    for target in &record.targets {
                        let RecordTarget::Projection(id) = target else {
                            return Err(RecordError::Layout(
                                "weights can only be recorded of projections".into(),
                            ));
                        };
                        if id.0 as usize >= network.graph.n_projections() {
                            return Err(RecordError::Layout(format!(
                                "projection #{} does not exist",
                                id.0
                            )));
                        }
                        let projection = network.graph.projection(*id);
                        if network.mode == Mode::Spiking {
                            units = internal_unit(projection.weight_dim);
                        }
                        names.push(projection.name.clone());
                    }
                    // One group per record: the engine sends the weights of all its
                    // projections in one sample, and their synapse counts are not known here.
                    let target = names.join(",");
                    let base = format!("weights_over_time/{target}");
                    layout.samples.insert(
                        index,
                        SampleLayout {
                            record: index,
                            kind: SampleKind::Weight,
                            units,
                            time_units,
                            columns: vec![SampleColumns {
                                group: unique_group(&mut used_groups, base),
                                target,
                                node_ids: None,
                            }],
                            window: record.window,
                        },
                    );
                }
            }
        }
        Ok(layout)
    }
}

fn checked_population(
    network: &ir::Network,
    id: PopulationId,
) -> Result<&ir::Population, RecordError> {
    if (id.0 as usize) < network.graph.n_populations() {
        Ok(network.graph.population(id))
    } else {
        Err(RecordError::Layout(format!(
            "population #{} does not exist",
            id.0
        )))
    }
}

fn population_target<'n>(
    network: &'n ir::Network,
    target: &RecordTarget,
) -> Result<(&'n ir::Population, Vec<u64>), RecordError> {
    let RecordTarget::Population { id, range } = target else {
        return Err(RecordError::Layout(
            "state and activations can only be recorded of populations".into(),
        ));
    };
    let population = checked_population(network, *id)?;
    let (start, end) = range.unwrap_or((0, population.size()));
    if start > end || end > population.size() {
        return Err(RecordError::Layout(format!(
            "slice {}[{start}..{end}] is outside its {} neurons",
            population.name,
            population.size()
        )));
    }
    Ok((population, (start as u64..end as u64).collect()))
}

/// One column per target of a record of state or activations, each in the group that
/// `base` names for its population (made unique).
fn population_columns<'n>(
    network: &'n ir::Network,
    targets: &[RecordTarget],
    used_groups: &mut Vec<String>,
    mut base: impl FnMut(&'n ir::Population) -> String,
) -> Result<Vec<SampleColumns>, RecordError> {
    let mut columns = Vec::new();
    for target in targets {
        let (population, node_ids) = population_target(network, target)?;
        columns.push(SampleColumns {
            group: unique_group(used_groups, base(population)),
            target: population.name.clone(),
            node_ids: Some(node_ids),
        });
    }
    Ok(columns)
}

fn unique_group(used: &mut Vec<String>, base: String) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}#{n}");
        n += 1;
    }
    used.push(name.clone());
    name
}

/// The internal unit (see `units.rs`) a value of this dimension is stored in.
pub fn internal_unit(dim: Dim) -> String {
    match dim {
        Dim::NONE => "1".into(),
        Dim::TIME => "ms".into(),
        Dim::VOLTAGE => "mV".into(),
        Dim::CURRENT => "pA".into(),
        Dim::CONDUCTANCE => "nS".into(),
        Dim::CAPACITANCE => "pF".into(),
        Dim::RESISTANCE => "GOhm".into(),
        Dim::FREQUENCY => "1/ms".into(),
        Dim::VOLTAGE_RATE => "mV/ms".into(),
        other => other.internal_symbol(),
    }
}

/// Splits the values of one sample into the record's columns. Weights (width unknown) take
/// everything; a length that does not match the layout is reported, not guessed at.
pub(crate) fn split_sample<'v>(
    layout: &SampleLayout,
    values: &'v [f32],
) -> Result<Vec<&'v [f32]>, String> {
    let known: Option<usize> = layout.columns.iter().map(SampleColumns::width).sum();
    match known {
        None => Ok(vec![values]),
        Some(total) if total == values.len() => {
            let mut parts = Vec::with_capacity(layout.columns.len());
            let mut rest = values;
            for column in &layout.columns {
                let (head, tail) = rest.split_at(column.width().unwrap_or(0));
                parts.push(head);
                rest = tail;
            }
            Ok(parts)
        }
        Some(total) => Err(format!(
            "record #{} expects {total} values per sample, got {}",
            layout.record,
            values.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::ir::{Network, Population, Record};

    fn lif(name: &str, size: usize) -> Population {
        Population {
            name: name.into(),
            model: crate::models::neuron::find("lif").expect("lif is registered"),
            shape: vec![size],
            params: Default::default(),
            init: Default::default(),
            span: Span::default(),
        }
    }

    fn record(what: Recordable, targets: Vec<RecordTarget>) -> Record {
        Record {
            what,
            targets,
            every: None,
            window: None,
            span: Span::default(),
        }
    }

    #[test]
    fn run_status_reads_back_what_it_writes() {
        for status in [
            RunStatus::Complete,
            RunStatus::Interrupted,
            RunStatus::Failed("disk full: no space left".into()),
        ] {
            assert_eq!(RunStatus::parse(&status.to_string()), Some(status));
        }
        assert_eq!(RunStatus::parse("running"), None);
    }

    #[test]
    fn layout_merges_spike_slices_and_names_repeated_records_apart() {
        let mut net = Network::new("n", Mode::Spiking);
        let e = net.graph.add_population(lif("E", 20));
        let i = net.graph.add_population(lif("I", 5));
        let slice = |id, a, b| RecordTarget::Population {
            id,
            range: Some((a, b)),
        };
        net.records = vec![
            record(Recordable::Spikes, vec![slice(e, 0, 3), slice(e, 10, 12)]),
            record(
                Recordable::Spikes,
                vec![RecordTarget::Population { id: i, range: None }],
            ),
            record(Recordable::State("v".into()), vec![slice(e, 2, 4)]),
            record(Recordable::State("v".into()), vec![slice(e, 5, 6)]),
        ];
        let layout = Layout::of(&net).unwrap();
        let spikes_e = &layout.spikes[&e];
        assert!(spikes_e.keeps(2) && spikes_e.keeps(11));
        assert!(!spikes_e.keeps(3) && !spikes_e.keeps(12));
        assert!(layout.spikes[&i].keeps(4));
        assert_eq!(layout.samples[&2].columns[0].group, "report/E/v");
        assert_eq!(layout.samples[&3].columns[0].group, "report/E/v#2");
        assert_eq!(layout.samples[&2].columns[0].node_ids, Some(vec![2, 3]));
        assert_eq!(layout.samples[&2].units, "mV");
    }

    #[test]
    fn layout_keeps_one_spike_window_per_population() {
        let mut net = Network::new("n", Mode::Spiking);
        net.dt = 0.1;
        net.simulate = Some(crate::ir::Simulate {
            duration: 500.0,
            span: Span::default(),
        });
        let e = net.graph.add_population(lif("E", 20));
        let slice = |a, b| RecordTarget::Population {
            id: e,
            range: Some((a, b)),
        };
        let window = |start_ms, stop_ms| Window { start_ms, stop_ms };
        let windowed = |targets, w: Window| Record {
            window: Some(w),
            ..record(Recordable::Spikes, targets)
        };
        // Two records of E with the same window merge their slices and keep the window.
        net.records = vec![
            windowed(vec![slice(0, 3)], window(200.0, None)),
            windowed(vec![slice(10, 12)], window(200.0, None)),
        ];
        let layout = Layout::of(&net).unwrap();
        let spikes = &layout.spikes[&e];
        assert!(spikes.keeps(2) && spikes.keeps(11) && !spikes.keeps(5));
        // Spikes are stamped at the end of their step: 200 ms is the first one kept, even
        // when the stamp comes out a few ulps short of it.
        assert!(!spikes.keeps_time(199.9));
        assert!(spikes.keeps_time(2000.0 * 0.1) && spikes.keeps_time(199.999_999_999_999_97));
        assert!(spikes.keeps_time(500.0));
        assert_eq!(spikes.window_ms(500.0), (200.0, 500.0));
        assert_eq!(layout.duration_ms, Some(500.0));

        // `until` is excluded, and past the run's end the window stops with the run.
        net.records = vec![windowed(vec![slice(0, 3)], window(100.0, Some(300.0)))];
        let layout = Layout::of(&net).unwrap();
        assert!(layout.spikes[&e].keeps_time(299.9) && !layout.spikes[&e].keeps_time(300.0));
        assert_eq!(layout.spikes[&e].window_ms(250.0), (100.0, 250.0));

        // Two different windows on one population: each would need its own duration, so
        // the layout refuses them (the checker reports them first, with spans: E0510).
        net.records = vec![
            windowed(vec![slice(0, 3)], window(200.0, None)),
            windowed(vec![slice(10, 12)], window(0.0, Some(100.0))),
        ];
        assert!(matches!(Layout::of(&net), Err(RecordError::Layout(_))));
        net.records = vec![
            windowed(vec![slice(0, 3)], window(200.0, None)),
            record(Recordable::Spikes, vec![slice(10, 12)]),
        ];
        assert!(matches!(Layout::of(&net), Err(RecordError::Layout(_))));

        // Samples carry their own record's window.
        net.records = vec![Record {
            window: Some(window(50.0, Some(60.0))),
            ..record(Recordable::State("v".into()), vec![slice(0, 2)])
        }];
        let layout = Layout::of(&net).unwrap();
        assert!(!layout.samples[&0].keeps_time(49.0));
        assert!(layout.samples[&0].keeps_time(50.0) && !layout.samples[&0].keeps_time(60.0));
    }

    #[test]
    fn a_slice_past_the_population_is_a_layout_error() {
        let mut net = Network::new("n", Mode::Spiking);
        let e = net.graph.add_population(lif("E", 4));
        net.records = vec![record(
            Recordable::State("v".into()),
            vec![RecordTarget::Population {
                id: e,
                range: Some((2, 9)),
            }],
        )];
        assert!(matches!(Layout::of(&net), Err(RecordError::Layout(_))));
    }

    #[test]
    fn samples_split_into_their_columns() {
        let layout = SampleLayout {
            record: 0,
            kind: SampleKind::Activation,
            units: "1".into(),
            time_units: "step",
            columns: vec![
                SampleColumns {
                    group: "a".into(),
                    target: "a".into(),
                    node_ids: Some(vec![0, 1]),
                },
                SampleColumns {
                    group: "b".into(),
                    target: "b".into(),
                    node_ids: Some(vec![0]),
                },
            ],
            window: None,
        };
        let parts = split_sample(&layout, &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(parts, vec![&[1.0, 2.0][..], &[3.0][..]]);
        assert!(split_sample(&layout, &[1.0]).is_err());
    }
}
