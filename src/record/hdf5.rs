//! The HDF5 output of `neurosim run`: an [`Observer`] that streams spikes, samples and
//! training curves into a file while the run goes on, plus the readers that load a finished
//! file back (trained weights, provenance, spikes). The only file that uses `hdf5_pure`; the
//! schema is documented in `docs/OUTPUT.md`.
//!
//! Constraints → solution:
//! - *Never a half-written file under the final name*: the recorder writes to a hidden
//!   temporary name in the same folder (`.NAME.PID.tmp`, created exclusively under an
//!   [`OutputClaim`]) and renames it in [`Hdf5Recorder::finish`]; a killed run leaves only
//!   the temporary file, with root attribute `status = "running"`.
//! - *Bounded memory however long the run*: every stream is a chunked, unlimited, rank-1
//!   dataset (hdf5-pure appends in place only to rank 1), and each keeps at most one chunk
//!   of pending values in memory, written to the file a whole chunk at a time. This is what
//!   `Dataset::buffered_appender` does; it borrows its dataset, so a recorder that holds
//!   dozens of streams at once keeps its own per-stream buffer instead.
//! - *A killed run keeps as much as possible*: every few seconds of wall time the partial
//!   chunks are written too. Each such flush costs one rewritten trailing chunk later (dead
//!   bytes), so the interval grows with the run: 5 s at first, a tenth of the elapsed time
//!   later, at most 60 s.
//! - *libsonata reads the spikes*: `sorting` must be an HDF5 enum, which hdf5-pure cannot
//!   build as an attribute; the group carrying it is copied from a 310-byte template file
//!   written by h5py (`sorting_by_time.h5`, made by `tests/py/make_sorting_template.py`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hdf5_pure::{
    AttrValue, Dataset, File, FileAccessProperties, FileBuilder, H5Element, MaxExtent, SyncPolicy,
};

use super::claim::OutputClaim;
use super::{
    Arrays, Layout, Provenance, RecordError, RunStatus, SampleKind, SpikeSelection, split_sample,
};
use crate::ir::{self, PopulationId};
use crate::sim::{EpochStats, ObserveError, Observer, RunReport};

/// A group carrying `sorting = by_time` as libsonata wants it (enum over uint8, members
/// none = 0, by_id = 1, by_time = 2), written by h5py 3.16.
const SORTING_TEMPLATE: &[u8] = include_bytes!("sorting_by_time.h5");
const SORTING_TEMPLATE_GROUP: &str = "sorting_by_time";

/// Spike streams: 4,096 elements per chunk (32 KiB). Spikes are uncompressed by default,
/// and every flush of a partial chunk leaves one chunk's worth of dead bytes behind once the
/// chunk is completed (hdf5-pure rewrites a partial trailing chunk into a fresh allocation),
/// so the chunk is kept small.
const SPIKE_CHUNK: u64 = 4_096;
/// Sample streams aim at this many values per chunk, rounded to whole rows when a row fits.
/// Chunks stay below 65,536 elements: longer chunk dimensions written by hdf5-pure 0.47 are
/// refused by the reference library ("stored chunk dimension encoding length does not match").
const SAMPLE_CHUNK_TARGET: u64 = 16_384;
const SAMPLE_CHUNK_MAX: u64 = 32_768;
const TRAINING_CHUNK: u64 = 256;
const DEFLATE_LEVEL: u32 = 4;
/// Default shortest wall-time interval between flushes of partial chunks.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// The interval grows with the run (a tenth of the elapsed wall time) up to this, so that a
/// long run makes few flushes (each may cost a chunk of dead bytes) and a killed run loses at
/// most about a minute.
pub const MAX_FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// Choices about the file that do not change its layout.
#[derive(Debug, Clone, PartialEq)]
pub struct RecorderOptions {
    /// Deflate the spike datasets. Off by default: libsonata's Python wheel (0.2.2) is built
    /// without the deflate filter and cannot read compressed spikes; uncompressed spikes
    /// take 16 bytes each.
    pub compress_spikes: bool,
    /// Shortest wall time between flushes of partial chunks (what a killed run loses at
    /// most early on); it grows to a tenth of the elapsed time, up to [`MAX_FLUSH_INTERVAL`].
    /// `Duration::ZERO` flushes after every call.
    pub flush_interval: Duration,
}

impl Default for RecorderOptions {
    fn default() -> RecorderOptions {
        RecorderOptions {
            compress_spikes: false,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
        }
    }
}

/// Version of the file layout described in `docs/OUTPUT.md`.
pub const FORMAT_VERSION: u64 = 1;

/// One rank-1 stream with its pending values (at most about one chunk).
struct Stream<T> {
    path: String,
    dataset: Dataset,
    chunk: usize,
    pending: Vec<T>,
    /// Elements already in the file.
    written: u64,
}

impl<T: H5Element + Copy> Stream<T> {
    fn open(file: &File, path: &str, chunk: u64) -> Result<Stream<T>, hdf5_pure::Error> {
        Ok(Stream {
            path: path.to_string(),
            dataset: file.dataset(path)?,
            chunk: chunk as usize,
            pending: Vec::new(),
            written: 0,
        })
    }

    /// Adds values; writes the longest pending prefix that ends on a chunk boundary.
    fn push(&mut self, values: &[T]) -> Result<(), hdf5_pure::Error> {
        self.pending.extend_from_slice(values);
        let partial = (self.written % self.chunk as u64) as usize;
        let to_boundary = self.chunk - partial;
        if self.pending.len() >= to_boundary {
            let take = to_boundary + (self.pending.len() - to_boundary) / self.chunk * self.chunk;
            self.write(take)?;
        }
        Ok(())
    }

    /// Writes everything pending, even a partial chunk.
    fn flush(&mut self) -> Result<(), hdf5_pure::Error> {
        self.write(self.pending.len())
    }

    fn write(&mut self, count: usize) -> Result<(), hdf5_pure::Error> {
        if count == 0 {
            return Ok(());
        }
        self.dataset.append(&self.pending[..count])?;
        self.pending.drain(..count);
        self.written += count as u64;
        Ok(())
    }

    fn len(&self) -> u64 {
        self.written + self.pending.len() as u64
    }
}

struct SpikeStreams {
    selection: SpikeSelection,
    timestamps: Stream<f64>,
    node_ids: Stream<u64>,
    last_time: f64,
    /// False once a spike arrived earlier than the one before it: `sorting` is then removed.
    in_time_order: bool,
}

struct SampleStreams {
    group: String,
    data: Stream<f32>,
    time: Stream<f64>,
    /// Values per sample; for weights, set by the first sample.
    n_columns: Option<usize>,
}

struct TrainingStreams {
    epoch: Stream<u64>,
    columns: Vec<(TrainingField, Stream<f64>)>,
}

#[derive(Clone, Copy)]
enum TrainingField {
    Loss,
    Accuracy,
    ValLoss,
    ValAccuracy,
    GeneratorLoss,
    LearningRate,
    Seconds,
}

const TRAINING_FIELDS: [(TrainingField, &str, &str); 7] = [
    (TrainingField::Loss, "loss", "1"),
    (TrainingField::Accuracy, "accuracy", "1"),
    (TrainingField::ValLoss, "val_loss", "1"),
    (TrainingField::ValAccuracy, "val_accuracy", "1"),
    (TrainingField::GeneratorLoss, "generator_loss", "1"),
    (TrainingField::LearningRate, "learning_rate", "1"),
    (TrainingField::Seconds, "epoch_s", "s"),
];

impl TrainingField {
    fn value(self, stats: &EpochStats) -> f64 {
        match self {
            TrainingField::Loss => stats.loss,
            TrainingField::Accuracy => stats.accuracy.unwrap_or(f64::NAN),
            TrainingField::ValLoss => stats.val_loss.unwrap_or(f64::NAN),
            TrainingField::ValAccuracy => stats.val_accuracy.unwrap_or(f64::NAN),
            TrainingField::GeneratorLoss => stats.generator_loss.unwrap_or(f64::NAN),
            TrainingField::LearningRate => stats.learning_rate.unwrap_or(f64::NAN),
            TrainingField::Seconds => stats.seconds,
        }
    }
}

/// Streams a run into an HDF5 file. Create it before the run (so an unwritable folder is
/// reported before any work), pass it to the engine as the `Observer`, then call
/// [`finish`](Self::finish) (or [`discard`](Self::discard) if nothing ran).
pub struct Hdf5Recorder {
    final_path: PathBuf,
    temp_path: PathBuf,
    /// Held until the file has its final name (or is discarded).
    claim: Option<OutputClaim>,
    file: Option<File>,
    layout: Layout,
    spikes: BTreeMap<PopulationId, SpikeStreams>,
    samples: BTreeMap<usize, Vec<SampleStreams>>,
    training: Option<TrainingStreams>,
    /// Groups that exist in the file, without a leading slash ("" is the root).
    groups: BTreeSet<String>,
    /// Datasets written by `array`, so a second call replaces rather than collides.
    arrays: BTreeSet<String>,
    last_flush: Instant,
    created: Instant,
    flush_interval: Duration,
    compress_spikes: bool,
    /// Reused buffers for the spikes of one call.
    scratch_times: Vec<f64>,
    scratch_ids: Vec<u64>,
}

fn hdf5_error(path: &Path, object: &str, error: hdf5_pure::Error) -> RecordError {
    RecordError::Hdf5 {
        path: path.to_path_buf(),
        object: object.to_string(),
        message: error.to_string(),
    }
}

fn observe_error(object: &str, error: impl std::fmt::Display) -> ObserveError {
    ObserveError(format!("writing '{object}': {error}"))
}

fn string(value: &str) -> AttrValue {
    AttrValue::VarLenString(value.to_string())
}

/// The chunk length of a sample stream with `width` values per row.
fn sample_chunk(width: Option<usize>) -> u64 {
    match width {
        Some(w) if w > 0 => {
            let w = w as u64;
            let rows = SAMPLE_CHUNK_TARGET.div_ceil(w).max(1);
            (rows * w).min(SAMPLE_CHUNK_MAX)
        }
        _ => SAMPLE_CHUNK_TARGET,
    }
}

impl Hdf5Recorder {
    /// Claims `final_path` ([`OutputClaim::acquire`]: fails when another run writes it,
    /// or the folder does not exist or is not writable) and creates the temporary file
    /// beside it with the provenance as root attributes and an empty, extendable dataset
    /// for every recorded stream.
    pub fn create(
        final_path: &Path,
        provenance: &Provenance,
        network: &ir::Network,
    ) -> Result<Hdf5Recorder, RecordError> {
        Hdf5Recorder::create_with_options(
            final_path,
            provenance,
            network,
            &RecorderOptions::default(),
        )
    }

    /// [`create`](Self::create) with non-default [`RecorderOptions`].
    pub fn create_with_options(
        final_path: &Path,
        provenance: &Provenance,
        network: &ir::Network,
        options: &RecorderOptions,
    ) -> Result<Hdf5Recorder, RecordError> {
        let claim = OutputClaim::acquire(final_path)?;
        Hdf5Recorder::create_claimed(claim, provenance, network, options)
    }

    /// [`create_with_options`](Self::create_with_options) for an output already claimed;
    /// the recorder holds the claim until [`finish`](Self::finish) or
    /// [`discard`](Self::discard).
    pub fn create_claimed(
        claim: OutputClaim,
        provenance: &Provenance,
        network: &ir::Network,
        options: &RecorderOptions,
    ) -> Result<Hdf5Recorder, RecordError> {
        let layout = Layout::of(network)?;
        let final_path = claim.final_path().to_path_buf();
        let folder = match final_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let not_writable = |reason: String| RecordError::NotWritable {
            folder: folder.clone(),
            reason,
        };
        let temp_path = claim.create_temp()?;

        let mut builder = FileBuilder::new();
        builder.set_attr("format", string("neurosim"));
        builder.set_attr("format_version", AttrValue::U64(FORMAT_VERSION));
        builder.set_attr("mode", string(network.mode.name()));
        builder.set_attr("status", string("running"));
        builder.set_attr("source", string(&provenance.source));
        builder.set_attr("file_name", string(&provenance.file_name));
        builder.set_attr("version", string(&provenance.version));
        builder.set_attr("seed", AttrValue::U64(provenance.seed));
        builder.set_attr("threads", AttrValue::U64(provenance.threads as u64));
        builder.set_attr("start_time", string(&provenance.start_time));
        builder.set_attr("command_line", string(&provenance.command_line));
        builder.set_attr(
            "overrides",
            AttrValue::VarLenStringArray(provenance.overrides.clone()),
        );
        builder.set_attr("network", string(&provenance.network));
        // The builder truncates the (empty) file this claim just created exclusively.
        if let Err(e) = builder.write(&temp_path) {
            let _ = std::fs::remove_file(&temp_path);
            return Err(match e {
                hdf5_pure::Error::Io(io) => not_writable(io.to_string()),
                other => hdf5_error(&temp_path, "/", other),
            });
        }

        let mut recorder = Hdf5Recorder {
            final_path,
            temp_path,
            claim: Some(claim),
            file: None,
            layout,
            spikes: BTreeMap::new(),
            samples: BTreeMap::new(),
            training: None,
            groups: BTreeSet::from([String::new()]),
            arrays: BTreeSet::new(),
            last_flush: Instant::now(),
            created: Instant::now(),
            flush_interval: options.flush_interval,
            compress_spikes: options.compress_spikes,
            scratch_times: Vec::new(),
            scratch_ids: Vec::new(),
        };
        if let Err(error) = recorder.open_streams() {
            recorder.remove_temp();
            return Err(error);
        }
        Ok(recorder)
    }

    /// The final path given to [`create`](Self::create).
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Where the file is while the run goes on.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// The shortest interval between flushes of partial chunks (see [`RecorderOptions`]).
    pub fn set_flush_interval(&mut self, interval: Duration) {
        self.flush_interval = interval;
    }

    fn file(&self) -> Result<&File, RecordError> {
        self.file.as_ref().ok_or_else(|| RecordError::Hdf5 {
            path: self.temp_path.clone(),
            object: "/".into(),
            message: "the file is already closed".into(),
        })
    }

    fn err(&self, object: &str) -> impl Fn(hdf5_pure::Error) -> RecordError + '_ {
        let object = object.to_string();
        move |e| hdf5_error(&self.temp_path, &object, e)
    }

    /// Stages every group on the way to `path` (a group path) that does not exist yet.
    fn stage_groups(&mut self, path: &str) -> Result<(), RecordError> {
        let mut prefix = String::new();
        for part in path.split('/') {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !self.groups.contains(&prefix) {
                self.file()?
                    .root()
                    .create_group(&prefix)
                    .map_err(self.err(&prefix))?;
                self.groups.insert(prefix.clone());
            }
        }
        Ok(())
    }

    fn commit(&self) -> Result<(), RecordError> {
        self.file()?.commit().map_err(self.err("/"))
    }

    /// Opens the temporary file for streaming and creates every stream the layout names.
    fn open_streams(&mut self) -> Result<(), RecordError> {
        let access = FileAccessProperties::new().with_sync_policy(SyncPolicy::OnClose);
        let file = File::open_rw_with_options(&self.temp_path, access)
            .map_err(|e| hdf5_error(&self.temp_path, "/", e))?;
        self.file = Some(file);

        let spike_groups: Vec<(PopulationId, String)> = self
            .layout
            .spikes
            .iter()
            .map(|(id, s)| (*id, format!("spikes/{}", s.population)))
            .collect();
        let sample_groups: Vec<String> = self
            .layout
            .samples
            .values()
            .flat_map(|s| s.columns.iter().map(|c| c.group.clone()))
            .collect();

        // 1. Parent groups.
        if !spike_groups.is_empty() {
            self.stage_groups("spikes")?;
        }
        for group in &sample_groups {
            if let Some((parent, _)) = group.rsplit_once('/') {
                self.stage_groups(parent)?;
            }
        }
        self.commit()?;

        // 2. Spike groups, copied with their enum `sorting` attribute; sample groups.
        let template = File::from_bytes(SORTING_TEMPLATE.to_vec())
            .map_err(|e| hdf5_error(Path::new("sorting_by_time.h5"), "/", e))?;
        for (_, group) in &spike_groups {
            self.file()?
                .copy_from(&template, SORTING_TEMPLATE_GROUP, group)
                .map_err(self.err(group))?;
            self.groups.insert(group.clone());
        }
        for group in &sample_groups {
            self.stage_groups(group)?;
        }
        self.commit()?;
        // The recorded stretch of time, which rates over these spikes divide by.
        for (id, group) in &spike_groups {
            let (start, stop) = self.layout.spikes[id].planned_window(self.layout.duration_ms);
            let g = self.file()?.group(group).map_err(self.err(group))?;
            g.set_attr("start_ms", AttrValue::F64(start))
                .map_err(self.err(group))?;
            if let Some(stop) = stop {
                g.set_attr("stop_ms", AttrValue::F64(stop))
                    .map_err(self.err(group))?;
            }
        }
        self.commit()?;

        // 3. Datasets.
        let root = self.file()?.root();
        let compress = self.compress_spikes;
        for (_, group) in &spike_groups {
            let path = format!("{group}/timestamps");
            root.create_dataset(&path, |b| {
                b.with_f64_data(&[])
                    .with_shape(&[0])
                    .with_maxshape(&[MaxExtent::Unlimited])
                    .with_chunks(&[SPIKE_CHUNK])
                    .set_attr("units", AttrValue::AsciiString("ms".into()));
                if compress {
                    b.with_shuffle().with_deflate(DEFLATE_LEVEL);
                }
            })
            .map_err(self.err(&path))?;
            let path = format!("{group}/node_ids");
            root.create_dataset(&path, |b| {
                b.with_u64_data(&[])
                    .with_shape(&[0])
                    .with_maxshape(&[MaxExtent::Unlimited])
                    .with_chunks(&[SPIKE_CHUNK]);
                if compress {
                    b.with_shuffle().with_deflate(DEFLATE_LEVEL);
                }
            })
            .map_err(self.err(&path))?;
        }
        for sample in self.layout.samples.values() {
            for column in &sample.columns {
                let chunk = sample_chunk(column.width());
                let path = format!("{}/data", column.group);
                root.create_dataset(&path, |b| {
                    b.with_f32_data(&[])
                        .with_shape(&[0])
                        .with_maxshape(&[MaxExtent::Unlimited])
                        .with_chunks(&[chunk])
                        .with_shuffle()
                        .with_deflate(DEFLATE_LEVEL)
                        .set_attr("units", string(&sample.units));
                    if let Some(width) = column.width() {
                        b.set_attr("n_columns", AttrValue::U64(width as u64));
                    }
                })
                .map_err(self.err(&path))?;
                let path = format!("{}/time", column.group);
                root.create_dataset(&path, |b| {
                    b.with_f64_data(&[])
                        .with_shape(&[0])
                        .with_maxshape(&[MaxExtent::Unlimited])
                        .with_chunks(&[4096])
                        .with_shuffle()
                        .with_deflate(DEFLATE_LEVEL)
                        .set_attr("units", string(sample.time_units));
                })
                .map_err(self.err(&path))?;
                if let Some(ids) = &column.node_ids {
                    let path = format!("{}/node_ids", column.group);
                    root.create_dataset(&path, |b| {
                        b.with_u64_data(ids);
                    })
                    .map_err(self.err(&path))?;
                }
                let group = root.group(&column.group).map_err(self.err(&column.group))?;
                group
                    .set_attr("target", string(&column.target))
                    .map_err(self.err(&column.group))?;
                let kind = match &sample.kind {
                    SampleKind::State(var) => format!("state {var}"),
                    SampleKind::Activation => "activation".to_string(),
                    SampleKind::Weight => "weight".to_string(),
                };
                group
                    .set_attr("kind", string(&kind))
                    .map_err(self.err(&column.group))?;
            }
        }
        drop(root);
        self.commit()?;

        // 4. Stream handles.
        let file = self.file()?;
        let mut spikes = BTreeMap::new();
        for (id, group) in &spike_groups {
            let open_err = |e| hdf5_error(&self.temp_path, group, e);
            spikes.insert(
                *id,
                SpikeStreams {
                    selection: self.layout.spikes[id].clone(),
                    timestamps: Stream::open(file, &format!("{group}/timestamps"), SPIKE_CHUNK)
                        .map_err(open_err)?,
                    node_ids: Stream::open(file, &format!("{group}/node_ids"), SPIKE_CHUNK)
                        .map_err(open_err)?,
                    last_time: f64::NEG_INFINITY,
                    in_time_order: true,
                },
            );
        }
        let mut samples = BTreeMap::new();
        for (record, sample) in &self.layout.samples {
            let mut streams = Vec::new();
            for column in &sample.columns {
                let open_err = |e| hdf5_error(&self.temp_path, &column.group, e);
                streams.push(SampleStreams {
                    group: column.group.clone(),
                    data: Stream::open(
                        file,
                        &format!("{}/data", column.group),
                        sample_chunk(column.width()),
                    )
                    .map_err(open_err)?,
                    time: Stream::open(file, &format!("{}/time", column.group), 4096)
                        .map_err(open_err)?,
                    n_columns: column.width(),
                });
            }
            samples.insert(*record, streams);
        }
        self.spikes = spikes;
        self.samples = samples;
        Ok(())
    }

    /// Creates `/training` on the first epoch.
    fn training_streams(&mut self) -> Result<&mut TrainingStreams, RecordError> {
        if self.training.is_none() {
            self.stage_groups("training")?;
            let root = self.file()?.root();
            root.create_dataset("training/epoch", |b| {
                b.with_u64_data(&[])
                    .with_shape(&[0])
                    .with_maxshape(&[MaxExtent::Unlimited])
                    .with_chunks(&[TRAINING_CHUNK]);
            })
            .map_err(self.err("training/epoch"))?;
            for (_, name, units) in TRAINING_FIELDS {
                let path = format!("training/{name}");
                root.create_dataset(&path, |b| {
                    b.with_f64_data(&[])
                        .with_shape(&[0])
                        .with_maxshape(&[MaxExtent::Unlimited])
                        .with_chunks(&[TRAINING_CHUNK])
                        .set_attr("units", string(units));
                })
                .map_err(self.err(&path))?;
            }
            drop(root);
            self.commit()?;
            let file = self.file()?;
            let open_err = |e| hdf5_error(&self.temp_path, "training", e);
            let epoch = Stream::open(file, "training/epoch", TRAINING_CHUNK).map_err(open_err)?;
            let mut columns = Vec::new();
            for (field, name, _) in TRAINING_FIELDS {
                columns.push((
                    field,
                    Stream::open(file, &format!("training/{name}"), TRAINING_CHUNK)
                        .map_err(open_err)?,
                ));
            }
            self.training = Some(TrainingStreams { epoch, columns });
        }
        self.training.as_mut().ok_or_else(|| RecordError::Hdf5 {
            path: self.temp_path.clone(),
            object: "training".into(),
            message: "training streams missing".into(),
        })
    }

    /// Writes every pending value, partial chunks included.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        let temp = self.temp_path.clone();
        let err = |path: &str| {
            let path = path.to_string();
            let temp = temp.clone();
            move |e| hdf5_error(&temp, &path, e)
        };
        for s in self.spikes.values_mut() {
            s.timestamps.flush().map_err(err(&s.timestamps.path))?;
            s.node_ids.flush().map_err(err(&s.node_ids.path))?;
        }
        for streams in self.samples.values_mut() {
            for s in streams {
                s.data.flush().map_err(err(&s.data.path))?;
                s.time.flush().map_err(err(&s.time.path))?;
            }
        }
        if let Some(t) = &mut self.training {
            t.epoch.flush().map_err(err(&t.epoch.path))?;
            for (_, s) in &mut t.columns {
                s.flush().map_err(err(&s.path))?;
            }
        }
        self.last_flush = Instant::now();
        Ok(())
    }

    fn flush_if_due(&mut self) -> Result<(), ObserveError> {
        let interval = if self.flush_interval.is_zero() {
            Duration::ZERO
        } else {
            (self.created.elapsed() / 10).clamp(
                self.flush_interval,
                MAX_FLUSH_INTERVAL.max(self.flush_interval),
            )
        };
        if self.last_flush.elapsed() >= interval {
            self.flush().map_err(|e| ObserveError(e.to_string()))?;
        }
        Ok(())
    }

    /// Writes the summary and the status, closes the file and renames it to the final name.
    pub fn finish(mut self, report: &RunReport, status: RunStatus) -> Result<PathBuf, RecordError> {
        self.flush()?;
        for s in self.spikes.values() {
            if !s.in_time_order {
                let group = format!("spikes/{}", s.selection.population);
                self.file()?
                    .group(&group)
                    .and_then(|g| g.remove_attr("sorting"))
                    .map_err(self.err(&group))?;
            }
        }
        // A run that stopped early recorded its windows only up to where it got.
        if let Some(reached) = report.simulated_ms {
            for (id, s) in &self.spikes {
                let planned = self.layout.spikes[id].planned_window(self.layout.duration_ms);
                if let (start, Some(stop)) = planned
                    && reached < stop
                {
                    let group = format!("spikes/{}", s.selection.population);
                    self.file()?
                        .group(&group)
                        .and_then(|g| g.set_attr("stop_ms", AttrValue::F64(reached.max(start))))
                        .map_err(self.err(&group))?;
                }
            }
        }
        self.write_summary(report)?;
        let root = self.file()?.root();
        root.set_attr("status", string(&status.to_string()))
            .map_err(self.err("/"))?;
        root.set_attr("build_s", AttrValue::F64(report.build_s))
            .map_err(self.err("/"))?;
        root.set_attr("run_s", AttrValue::F64(report.run_s))
            .map_err(self.err("/"))?;
        drop(root);
        self.commit()?;
        self.close()?;
        std::fs::rename(&self.temp_path, &self.final_path).map_err(|source| RecordError::Io {
            path: self.final_path.clone(),
            source,
        })?;
        self.claim = None;
        Ok(self.final_path.clone())
    }

    /// Closes and deletes the temporary file: for a run that failed before recording
    /// anything worth keeping.
    pub fn discard(mut self) -> Result<(), RecordError> {
        let closed = self.close();
        self.remove_temp();
        closed
    }

    fn remove_temp(&mut self) {
        self.release_handles();
        self.file = None;
        // The temporary file is this recorder's own: its claim created it exclusively.
        let _ = std::fs::remove_file(&self.temp_path);
        self.claim = None;
    }

    /// Drops every dataset handle: each holds the file (and its lock) open.
    fn release_handles(&mut self) {
        self.spikes.clear();
        self.samples.clear();
        self.training = None;
    }

    fn close(&mut self) -> Result<(), RecordError> {
        self.release_handles();
        match self.file.take() {
            Some(file) => file
                .close()
                .map_err(|e| hdf5_error(&self.temp_path, "/", e)),
            None => Ok(()),
        }
    }

    fn write_summary(&mut self, report: &RunReport) -> Result<(), RecordError> {
        self.stage_groups("summary")?;
        let root = self.file()?.root();
        let json = serde_json::to_string(report).unwrap_or_default();
        let summary = root.group("summary").map_err(self.err("summary"))?;
        let set = |name: &str, value: AttrValue| {
            summary
                .set_attr(name, value)
                .map_err(self.err(&format!("summary@{name}")))
        };
        set("json", string(&json))?;
        set("build_s", AttrValue::F64(report.build_s))?;
        set("run_s", AttrValue::F64(report.run_s))?;
        set("interrupted", AttrValue::U8(u8::from(report.interrupted)))?;
        if !report.populations.is_empty() {
            let names: Vec<String> = report.populations.keys().cloned().collect();
            let sizes: Vec<u64> = report.populations.values().map(|p| p.size as u64).collect();
            let spikes: Vec<u64> = report
                .populations
                .values()
                .map(|p| p.spikes.unwrap_or(0))
                .collect();
            let rates: Vec<f64> = report
                .populations
                .values()
                .map(|p| p.rate_hz.unwrap_or(f64::NAN))
                .collect();
            root.create_dataset("summary/population_names", |b| {
                b.with_vlen_strings(&names.iter().map(String::as_str).collect::<Vec<_>>());
            })
            .map_err(self.err("summary/population_names"))?;
            root.create_dataset("summary/population_size", |b| {
                b.with_u64_data(&sizes);
            })
            .map_err(self.err("summary/population_size"))?;
            root.create_dataset("summary/population_spikes", |b| {
                b.with_u64_data(&spikes);
            })
            .map_err(self.err("summary/population_spikes"))?;
            root.create_dataset("summary/population_rate_hz", |b| {
                b.with_f64_data(&rates).set_attr("units", string("Hz"));
            })
            .map_err(self.err("summary/population_rate_hz"))?;
        }
        if !report.projections.is_empty() {
            let names: Vec<String> = report.projections.keys().cloned().collect();
            let synapses: Vec<u64> = report.projections.values().map(|p| p.synapses).collect();
            root.create_dataset("summary/projection_names", |b| {
                b.with_vlen_strings(&names.iter().map(String::as_str).collect::<Vec<_>>());
            })
            .map_err(self.err("summary/projection_names"))?;
            root.create_dataset("summary/projection_synapses", |b| {
                b.with_u64_data(&synapses);
            })
            .map_err(self.err("summary/projection_synapses"))?;
        }
        if let Some(train) = &report.train {
            set("train_epochs", AttrValue::U64(train.epochs as u64))?;
            set("train_final_loss", AttrValue::F64(train.final_loss))?;
        }
        if let Some(evaluate) = &report.evaluate {
            for (name, value) in [
                ("evaluate_accuracy", evaluate.accuracy),
                ("evaluate_loss", evaluate.loss),
                ("evaluate_overlap", evaluate.overlap),
                ("evaluate_mmd", evaluate.mmd),
            ] {
                if let Some(v) = value {
                    set(name, AttrValue::F64(v))?;
                }
            }
        }
        Ok(())
    }

    fn record_spikes(
        &mut self,
        population: PopulationId,
        time_ms: f64,
        neurons: &[u32],
    ) -> Result<(), ObserveError> {
        let Some(streams) = self.spikes.get_mut(&population) else {
            return Ok(());
        };
        self.scratch_ids.clear();
        if !streams.selection.keeps_time(time_ms) {
            return Ok(());
        }
        for &n in neurons {
            if streams.selection.keeps(n) {
                self.scratch_ids.push(u64::from(n));
            }
        }
        if self.scratch_ids.is_empty() {
            return Ok(());
        }
        if time_ms < streams.last_time {
            streams.in_time_order = false;
        }
        streams.last_time = time_ms;
        self.scratch_times.clear();
        self.scratch_times.resize(self.scratch_ids.len(), time_ms);
        streams
            .timestamps
            .push(&self.scratch_times)
            .map_err(|e| observe_error(&streams.timestamps.path, e))?;
        streams
            .node_ids
            .push(&self.scratch_ids)
            .map_err(|e| observe_error(&streams.node_ids.path, e))?;
        Ok(())
    }

    fn record_sample(
        &mut self,
        record: usize,
        time_ms: f64,
        values: &[f32],
    ) -> Result<(), ObserveError> {
        let Some(layout) = self.layout.samples.get(&record) else {
            return Ok(());
        };
        if !layout.keeps_time(time_ms) {
            return Ok(());
        }
        let parts = split_sample(layout, values).map_err(ObserveError)?;
        let mut newly_sized = Vec::new();
        let Some(streams) = self.samples.get_mut(&record) else {
            return Ok(());
        };
        for (stream, part) in streams.iter_mut().zip(parts) {
            match stream.n_columns {
                None => {
                    stream.n_columns = Some(part.len());
                    newly_sized.push((stream.group.clone(), part.len()));
                }
                Some(n) if n != part.len() => {
                    return Err(ObserveError(format!(
                        "'{}' takes {n} values per sample, got {}",
                        stream.group,
                        part.len()
                    )));
                }
                Some(_) => {}
            }
            stream
                .data
                .push(part)
                .map_err(|e| observe_error(&stream.data.path, e))?;
            stream
                .time
                .push(&[time_ms])
                .map_err(|e| observe_error(&stream.time.path, e))?;
        }
        for (group, width) in newly_sized {
            let path = format!("{group}/data");
            let file = self.file().map_err(|e| ObserveError(e.to_string()))?;
            file.dataset(&path)
                .and_then(|mut d| d.set_attr("n_columns", AttrValue::U64(width as u64)))
                .and_then(|()| file.commit())
                .map_err(|e| observe_error(&path, e))?;
        }
        Ok(())
    }

    fn record_epoch(&mut self, stats: &EpochStats) -> Result<(), RecordError> {
        let temp = self.temp_path.clone();
        let training = self.training_streams()?;
        training
            .epoch
            .push(&[stats.epoch as u64])
            .map_err(|e| hdf5_error(&temp, "training/epoch", e))?;
        for (field, stream) in &mut training.columns {
            stream
                .push(&[field.value(stats)])
                .map_err(|e| hdf5_error(&temp, &stream.path, e))?;
        }
        Ok(())
    }

    fn record_array(&mut self, path: &str, shape: &[usize], data: &[f32]) -> Result<(), String> {
        let path = path.trim_start_matches('/').to_string();
        if path.is_empty() || path.split('/').any(|part| part.is_empty() || part == ".") {
            return Err(format!("'{path}' is not a usable dataset path"));
        }
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(format!(
                "'{path}' has shape {shape:?} ({expected} values) but {} values were given",
                data.len()
            ));
        }
        if self.groups.contains(&path) {
            return Err(format!("'{path}' is already a group"));
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.stage_groups(parent).map_err(|e| e.to_string())?;
        }
        let root = self.file().map_err(|e| e.to_string())?.root();
        if self.arrays.contains(&path) {
            root.delete(&path).map_err(|e| e.to_string())?;
        }
        let shape: Vec<u64> = shape.iter().map(|&n| n as u64).collect();
        root.create_dataset(&path, |b| {
            b.with_f32_data(data).with_shape(&shape);
        })
        .map_err(|e| e.to_string())?;
        drop(root);
        self.commit().map_err(|e| e.to_string())?;
        self.arrays.insert(path);
        Ok(())
    }

    /// Number of spikes recorded so far for `population` (tests and progress display).
    pub fn spike_count(&self, population: PopulationId) -> u64 {
        self.spikes
            .get(&population)
            .map_or(0, |s| s.timestamps.len())
    }
}

impl Observer for Hdf5Recorder {
    fn spikes(
        &mut self,
        population: PopulationId,
        time_ms: f64,
        neurons: &[u32],
    ) -> Result<(), ObserveError> {
        self.record_spikes(population, time_ms, neurons)?;
        self.flush_if_due()
    }

    fn sample(&mut self, record: usize, time_ms: f64, values: &[f32]) -> Result<(), ObserveError> {
        self.record_sample(record, time_ms, values)?;
        self.flush_if_due()
    }

    fn epoch(&mut self, stats: &EpochStats) -> Result<(), ObserveError> {
        self.record_epoch(stats)
            .map_err(|e| ObserveError(e.to_string()))?;
        self.flush_if_due()
    }

    fn array(&mut self, path: &str, shape: &[usize], data: &[f32]) -> Result<(), ObserveError> {
        self.record_array(path, shape, data)
            .map_err(|e| observe_error(path, e))
    }
}

// ---------------------------------------------------------------------------------------
// Readers

fn open_for_reading(path: &Path) -> Result<File, RecordError> {
    if !path.exists() {
        return Err(RecordError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    File::open_streaming(path).map_err(|e| hdf5_error(path, "/", e))
}

/// Every dataset under the group `prefix` (`"weights"`, `"/biases"`; `""` for the whole
/// file) as `(shape, values)` converted to f32, keyed by its path without a leading slash
/// (`weights/x->h`), the same path `Observer::array` was given.
pub fn read_arrays(path: &Path, prefix: &str) -> Result<Arrays, RecordError> {
    let file = open_for_reading(path)?;
    let prefix = prefix.trim_matches('/');
    let mut out = BTreeMap::new();
    let mut pending = vec![prefix.to_string()];
    while let Some(group_path) = pending.pop() {
        let group = if group_path.is_empty() {
            file.root()
        } else {
            file.group(&group_path).map_err(|_| RecordError::Missing {
                path: path.to_path_buf(),
                object: format!("/{group_path}"),
            })?
        };
        let join = |name: &str| {
            if group_path.is_empty() {
                name.to_string()
            } else {
                format!("{group_path}/{name}")
            }
        };
        for name in group
            .datasets()
            .map_err(|e| hdf5_error(path, &group_path, e))?
        {
            let full = join(&name);
            let dataset = file
                .dataset(&full)
                .map_err(|e| hdf5_error(path, &full, e))?;
            let shape = dataset
                .shape()
                .map_err(|e| hdf5_error(path, &full, e))?
                .into_iter()
                .map(|n| n as usize)
                .collect();
            let values = dataset.read_f32().map_err(|e| hdf5_error(path, &full, e))?;
            out.insert(full, (shape, values));
        }
        for name in group
            .groups()
            .map_err(|e| hdf5_error(path, &group_path, e))?
        {
            pending.push(join(&name));
        }
    }
    Ok(out)
}

fn root_attrs(
    path: &Path,
    file: &File,
) -> Result<std::collections::HashMap<String, AttrValue>, RecordError> {
    file.root().attrs().map_err(|e| hdf5_error(path, "/", e))
}

/// The provenance written by [`Hdf5Recorder::create`] (for `run --from OUT.h5`).
pub fn read_provenance(path: &Path) -> Result<Provenance, RecordError> {
    let file = open_for_reading(path)?;
    let attrs = root_attrs(path, &file)?;
    if attrs.get("format").and_then(AttrValue::as_str) != Some("neurosim") {
        return Err(RecordError::NotAnOutput {
            path: path.to_path_buf(),
            reason: "the root attribute 'format' is not \"neurosim\"".into(),
        });
    }
    let text = |name: &str| -> Result<String, RecordError> {
        attrs
            .get(name)
            .and_then(AttrValue::as_str)
            .map(str::to_string)
            .ok_or_else(|| RecordError::Missing {
                path: path.to_path_buf(),
                object: format!("/@{name}"),
            })
    };
    let number = |name: &str| -> Result<u64, RecordError> {
        attrs
            .get(name)
            .and_then(AttrValue::as_u64)
            .ok_or_else(|| RecordError::Missing {
                path: path.to_path_buf(),
                object: format!("/@{name}"),
            })
    };
    let overrides = match attrs.get("overrides") {
        Some(value) => value
            .as_strings()
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| {
                value
                    .as_str()
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default()
            }),
        None => Vec::new(),
    };
    Ok(Provenance {
        source: text("source")?,
        file_name: text("file_name")?,
        version: text("version")?,
        seed: number("seed")?,
        threads: number("threads")? as usize,
        start_time: text("start_time")?,
        command_line: text("command_line")?,
        overrides,
        network: text("network")?,
    })
}

/// The root attribute `status`: `complete`, `interrupted`, `failed: ...`, or `running` for
/// a temporary file left by a killed run (returned as `Err(text)` since it is no final status).
pub fn read_status(path: &Path) -> Result<Result<RunStatus, String>, RecordError> {
    let file = open_for_reading(path)?;
    let attrs = root_attrs(path, &file)?;
    let text = attrs
        .get("status")
        .and_then(AttrValue::as_str)
        .ok_or_else(|| RecordError::Missing {
            path: path.to_path_buf(),
            object: "/@status".into(),
        })?;
    Ok(RunStatus::parse(text).ok_or_else(|| text.to_string()))
}

/// The `evaluate` metrics of the run (`accuracy`, `loss`, `overlap`, `mmd`: the `/summary`
/// attributes `evaluate_*` without the prefix), in name order; empty when the run evaluated
/// nothing or its summary was never written (a killed run).
pub fn read_evaluation(path: &Path) -> Result<Vec<(String, f64)>, RecordError> {
    let file = open_for_reading(path)?;
    let Ok(summary) = file.group("summary") else {
        return Ok(Vec::new());
    };
    let attrs = summary
        .attrs()
        .map_err(|e| hdf5_error(path, "summary", e))?;
    let mut metrics: Vec<(String, f64)> = attrs
        .iter()
        .filter_map(|(name, value)| {
            let metric = name.strip_prefix("evaluate_")?;
            Some((metric.to_string(), value.as_f64()?))
        })
        .collect();
    metrics.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(metrics)
}

/// The spikes of `population`: (times in ms, neuron indices within the population). In the
/// temporary file of a killed run the two datasets may differ in length by the last flush;
/// only the spikes present in both are returned.
pub fn read_spikes(path: &Path, population: &str) -> Result<(Vec<f64>, Vec<u64>), RecordError> {
    let file = open_for_reading(path)?;
    let group = format!("spikes/{population}");
    let missing = |object: String| RecordError::Missing {
        path: path.to_path_buf(),
        object,
    };
    let times = file
        .dataset(&format!("{group}/timestamps"))
        .map_err(|_| missing(format!("/{group}/timestamps")))?
        .read_f64()
        .map_err(|e| hdf5_error(path, &group, e))?;
    let mut ids = file
        .dataset(&format!("{group}/node_ids"))
        .map_err(|_| missing(format!("/{group}/node_ids")))?
        .read_u64()
        .map_err(|e| hdf5_error(path, &group, e))?;
    // A run killed between the two appends of one flush leaves one dataset longer than the
    // other; the common prefix is what both agree on.
    let mut times = times;
    let common = times.len().min(ids.len());
    times.truncate(common);
    ids.truncate(common);
    Ok((times, ids))
}

/// The recorded stretch of `/spikes/<population>`, from its attributes `start_ms` and
/// `stop_ms`; `None` for what the file does not say (outputs written before windows).
pub fn read_spike_window(
    path: &Path,
    population: &str,
) -> Result<(Option<f64>, Option<f64>), RecordError> {
    let file = open_for_reading(path)?;
    let group = format!("spikes/{population}");
    let g = file.group(&group).map_err(|_| RecordError::Missing {
        path: path.to_path_buf(),
        object: format!("/{group}"),
    })?;
    let attrs = g.attrs().map_err(|e| hdf5_error(path, &group, e))?;
    let get = |name: &str| attrs.get(name).and_then(AttrValue::as_f64);
    Ok((get("start_ms"), get("stop_ms")))
}

/// One sampled record column read back: `values` holds `times.len()` rows of `n_columns`.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    pub n_columns: usize,
    pub units: String,
    /// Neuron indices of the columns; `None` for weights.
    pub node_ids: Option<Vec<u64>>,
    pub times: Vec<f64>,
    pub values: Vec<f32>,
}

/// The samples stored in `group` (`report/E/v`, `activations/y`, `weights_over_time/x->h`).
pub fn read_samples(path: &Path, group: &str) -> Result<Samples, RecordError> {
    let file = open_for_reading(path)?;
    let group = group.trim_matches('/');
    let missing = |object: String| RecordError::Missing {
        path: path.to_path_buf(),
        object,
    };
    let data_path = format!("{group}/data");
    let data = file
        .dataset(&data_path)
        .map_err(|_| missing(format!("/{data_path}")))?;
    let attrs = data.attrs().map_err(|e| hdf5_error(path, &data_path, e))?;
    let values = data
        .read_f32()
        .map_err(|e| hdf5_error(path, &data_path, e))?;
    let time_path = format!("{group}/time");
    let times = file
        .dataset(&time_path)
        .map_err(|_| missing(format!("/{time_path}")))?
        .read_f64()
        .map_err(|e| hdf5_error(path, &time_path, e))?;
    let node_ids = match file.dataset(&format!("{group}/node_ids")) {
        Ok(ids) => Some(ids.read_u64().map_err(|e| hdf5_error(path, group, e))?),
        Err(_) => None,
    };
    // A weight record that never received a sample has no width yet.
    let n_columns = attrs
        .get("n_columns")
        .and_then(AttrValue::as_u64)
        .unwrap_or(0) as usize;
    // As for spikes, a killed run may leave `data` and `time` of different lengths: keep the
    // whole rows both hold.
    let (mut times, mut values) = (times, values);
    if let Some(full_rows) = values.len().checked_div(n_columns) {
        let rows = times.len().min(full_rows);
        times.truncate(rows);
        values.truncate(rows * n_columns);
    }
    Ok(Samples {
        n_columns,
        units: attrs
            .get("units")
            .and_then(AttrValue::as_str)
            .unwrap_or("1")
            .to_string(),
        node_ids,
        times,
        values,
    })
}

/// The training curves (`/training`), one entry per epoch; empty when nothing was trained.
/// `seconds` is the stored wall time; NaN columns come back as `None`.
pub fn read_training(path: &Path) -> Result<Vec<EpochStats>, RecordError> {
    let file = open_for_reading(path)?;
    let Ok(epochs) = file.dataset("training/epoch") else {
        return Ok(Vec::new());
    };
    let epochs = epochs
        .read_u64()
        .map_err(|e| hdf5_error(path, "training/epoch", e))?;
    let column = |name: &str| -> Result<Vec<f64>, RecordError> {
        let full = format!("training/{name}");
        file.dataset(&full)
            .and_then(|d| d.read_f64())
            .map_err(|e| hdf5_error(path, &full, e))
    };
    let (loss, accuracy) = (column("loss")?, column("accuracy")?);
    let (val_loss, val_accuracy) = (column("val_loss")?, column("val_accuracy")?);
    let seconds = column("epoch_s")?;
    // Files written before adversarial training have no generator loss.
    let generator_loss = column("generator_loss").unwrap_or_default();
    let learning_rate = column("learning_rate").unwrap_or_default();
    let optional = |v: f64| (!v.is_nan()).then_some(v);
    Ok(epochs
        .iter()
        .enumerate()
        .map(|(i, &epoch)| EpochStats {
            epoch: epoch as usize,
            loss: loss.get(i).copied().unwrap_or(f64::NAN),
            accuracy: accuracy.get(i).copied().and_then(optional),
            val_loss: val_loss.get(i).copied().and_then(optional),
            val_accuracy: val_accuracy.get(i).copied().and_then(optional),
            generator_loss: generator_loss.get(i).copied().and_then(optional),
            learning_rate: learning_rate.get(i).copied().and_then(optional),
            seconds: seconds.get(i).copied().unwrap_or(f64::NAN),
        })
        .collect())
}
