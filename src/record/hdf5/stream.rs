//! Writing while the run goes on: the recorder as the engine's [`Observer`]. Each recorded
//! dataset is a [`Stream`] that holds at most about one chunk of pending values and appends
//! whole chunks; every few seconds of wall time the partial chunks are written too, so a
//! killed run keeps nearly everything. The datasets themselves are created by `writer.rs`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdf5_pure::{AttrValue, Dataset, File, H5Element};

use super::{Hdf5Recorder, hdf5_error};
use crate::ir::PopulationId;
use crate::record::{RecordError, SampleColumns, SpikeSelection, split_sample};
use crate::sim::{EpochStats, ObserveError, Observer};

/// Spike streams: 4,096 elements per chunk (32 KiB). Spikes are uncompressed by default,
/// and every flush of a partial chunk leaves one chunk's worth of dead bytes behind once the
/// chunk is completed (hdf5-pure rewrites a partial trailing chunk into a fresh allocation),
/// so the chunk is kept small.
pub(super) const SPIKE_CHUNK: u64 = 4_096;
/// Sample streams aim at this many values per chunk, rounded to whole rows when a row fits.
/// Chunks stay below 65,536 elements: longer chunk dimensions written by hdf5-pure 0.47 are
/// refused by the reference library ("stored chunk dimension encoding length does not match").
const SAMPLE_CHUNK_TARGET: u64 = 16_384;
const SAMPLE_CHUNK_MAX: u64 = 32_768;
/// Sample time streams: one f64 per sample.
pub(super) const SAMPLE_TIME_CHUNK: u64 = 4_096;
pub(super) const TRAINING_CHUNK: u64 = 256;
/// Default shortest wall-time interval between flushes of partial chunks.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// The interval grows with the run (a tenth of the elapsed wall time) up to this, so that a
/// long run makes few flushes (each may cost a chunk of dead bytes) and a killed run loses at
/// most about a minute.
pub const MAX_FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// One rank-1 stream with its pending values (at most about one chunk).
pub(super) struct Stream<T> {
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

pub(super) struct SpikeStreams {
    pub(super) selection: SpikeSelection,
    pub(super) timestamps: Stream<f64>,
    pub(super) node_ids: Stream<u64>,
    last_time: f64,
    /// False once a spike arrived earlier than the one before it: `sorting` is then removed.
    pub(super) in_time_order: bool,
}

impl SpikeStreams {
    /// The streams of `group`'s `timestamps` and `node_ids`, which the writer created.
    fn open(
        file: &File,
        group: &str,
        selection: SpikeSelection,
    ) -> Result<SpikeStreams, hdf5_pure::Error> {
        Ok(SpikeStreams {
            selection,
            timestamps: Stream::open(file, &format!("{group}/timestamps"), SPIKE_CHUNK)?,
            node_ids: Stream::open(file, &format!("{group}/node_ids"), SPIKE_CHUNK)?,
            last_time: f64::NEG_INFINITY,
            in_time_order: true,
        })
    }
}

pub(super) struct SampleStreams {
    group: String,
    data: Stream<f32>,
    time: Stream<f64>,
    /// Values per sample; for weights, set by the first sample.
    n_columns: Option<usize>,
}

impl SampleStreams {
    /// The streams of `column`'s `data` and `time`, which the writer created.
    fn open(file: &File, column: &SampleColumns) -> Result<SampleStreams, hdf5_pure::Error> {
        Ok(SampleStreams {
            group: column.group.clone(),
            data: Stream::open(
                file,
                &format!("{}/data", column.group),
                sample_chunk(column.width()),
            )?,
            time: Stream::open(file, &format!("{}/time", column.group), SAMPLE_TIME_CHUNK)?,
            n_columns: column.width(),
        })
    }
}

pub(super) struct TrainingStreams {
    epoch: Stream<u64>,
    columns: Vec<(TrainingField, Stream<f64>)>,
}

#[derive(Clone, Copy)]
pub(super) enum TrainingField {
    Loss,
    Accuracy,
    ValLoss,
    ValAccuracy,
    GeneratorLoss,
    LearningRate,
    Seconds,
}

pub(super) const TRAINING_FIELDS: [(TrainingField, &str, &str); 7] = [
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

fn observe_error(object: &str, error: impl std::fmt::Display) -> ObserveError {
    ObserveError(format!("writing '{object}': {error}"))
}

/// The chunk length of a sample stream with `width` values per row.
pub(super) fn sample_chunk(width: Option<usize>) -> u64 {
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
    /// Opens a stream on every spike and sample dataset of the layout (created by
    /// `create_datasets`).
    pub(super) fn open_stream_handles(&mut self) -> Result<(), RecordError> {
        let file = self.file()?;
        let mut spikes = BTreeMap::new();
        for (id, selection) in &self.layout.spikes {
            let group = format!("spikes/{}", selection.population);
            let streams = SpikeStreams::open(file, &group, selection.clone())
                .map_err(|e| hdf5_error(&self.temp_path, &group, e))?;
            spikes.insert(*id, streams);
        }
        let mut samples = BTreeMap::new();
        for (record, sample) in &self.layout.samples {
            let mut streams = Vec::new();
            for column in &sample.columns {
                streams.push(
                    SampleStreams::open(file, column)
                        .map_err(|e| hdf5_error(&self.temp_path, &column.group, e))?,
                );
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
            self.create_training_datasets()?;
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
        self.write_array(path, shape, data)
            .map_err(|e| observe_error(path, e))
    }
}
