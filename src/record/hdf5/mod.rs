//! The HDF5 output of `neurosim run`: an [`Observer`](crate::sim::Observer) that streams
//! spikes, samples and training curves into a file while the run goes on, plus the readers
//! that load a finished file back (trained weights, provenance, spikes). The only module that
//! uses `hdf5_pure`; the schema is documented in `docs/OUTPUT.md`. This file holds the
//! recorder's life cycle (create, finish, discard); `writer.rs` what goes where in the file,
//! `stream.rs` the appending while the run goes on (the `Observer` side), `read.rs` the
//! readers.
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

mod read;
mod stream;
mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hdf5_pure::{File, FileAccessProperties, SyncPolicy};

pub use read::{
    Samples, read_arrays, read_evaluation, read_provenance, read_samples, read_spike_window,
    read_spikes, read_status, read_training,
};
pub use stream::{DEFAULT_FLUSH_INTERVAL, MAX_FLUSH_INTERVAL};
pub use writer::FORMAT_VERSION;

use super::claim::OutputClaim;
use super::{Layout, Provenance, RecordError, RunStatus};
use crate::ir::{self, PopulationId};
use crate::sim::RunReport;
use stream::{SampleStreams, SpikeStreams, TrainingStreams};

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
        let temp_path = claim.create_temp()?;
        // The builder truncates the (empty) file this claim just created exclusively.
        if let Err(e) = writer::new_file(provenance, network).write(&temp_path) {
            let _ = std::fs::remove_file(&temp_path);
            return Err(match e {
                hdf5_pure::Error::Io(io) => claim.not_writable(io.to_string()),
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

    /// Opens the temporary file for streaming, creates every dataset the layout names and a
    /// stream on each.
    fn open_streams(&mut self) -> Result<(), RecordError> {
        let access = FileAccessProperties::new().with_sync_policy(SyncPolicy::OnClose);
        let file = File::open_rw_with_options(&self.temp_path, access)
            .map_err(|e| hdf5_error(&self.temp_path, "/", e))?;
        self.file = Some(file);
        self.create_datasets()?;
        self.open_stream_handles()
    }

    /// Writes the summary and the status, closes the file and renames it to the final name.
    pub fn finish(mut self, report: &RunReport, status: RunStatus) -> Result<PathBuf, RecordError> {
        self.flush()?;
        self.finish_spike_groups(report.simulated_ms)?;
        self.write_summary(report)?;
        self.write_status(report, &status)?;
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
}
