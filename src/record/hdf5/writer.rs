//! The layout of an output file, as docs/OUTPUT.md describes it: the root attributes that
//! record the provenance, the groups and empty extendable datasets of every recorded stream
//! (created before the run starts), `/training` on the first epoch, whole arrays written by
//! `Observer::array`, and `/summary` and the status stamped when the run ends.

use std::path::Path;

use hdf5_pure::{AttrValue, File, FileBuilder, Group, MaxExtent};

use super::stream::{
    SAMPLE_TIME_CHUNK, SPIKE_CHUNK, TRAINING_CHUNK, TRAINING_FIELDS, sample_chunk,
};
use super::{Hdf5Recorder, hdf5_error};
use crate::ir;
use crate::record::{Provenance, RecordError, RunStatus, SampleColumns, SampleKind, SampleLayout};
use crate::sim::RunReport;

/// A group carrying `sorting = by_time` as libsonata wants it (enum over uint8, members
/// none = 0, by_id = 1, by_time = 2), written by h5py 3.16.
const SORTING_TEMPLATE: &[u8] = include_bytes!("../sorting_by_time.h5");
const SORTING_TEMPLATE_GROUP: &str = "sorting_by_time";
const DEFLATE_LEVEL: u32 = 4;

/// Version of the file layout described in `docs/OUTPUT.md`.
pub const FORMAT_VERSION: u64 = 1;

fn string(value: &str) -> AttrValue {
    AttrValue::VarLenString(value.to_string())
}

/// A new output file's root attributes: the format, the mode, `status = running` and the
/// provenance that `run --from` replays.
pub(super) fn new_file(provenance: &Provenance, network: &ir::Network) -> FileBuilder {
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
    builder
}

impl Hdf5Recorder {
    fn err(&self, object: &str) -> impl Fn(hdf5_pure::Error) -> RecordError + '_ {
        let object = object.to_string();
        move |e| hdf5_error(&self.temp_path, &object, e)
    }

    fn commit(&self) -> Result<(), RecordError> {
        self.file()?.commit().map_err(self.err("/"))
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

    /// Creates the group and the empty datasets of every stream the layout names.
    pub(super) fn create_datasets(&mut self) -> Result<(), RecordError> {
        let spike_groups: Vec<String> = self
            .layout
            .spikes
            .values()
            .map(|s| format!("spikes/{}", s.population))
            .collect();
        self.create_groups(&spike_groups)?;
        self.write_spike_windows()?;
        let root = self.file()?.root();
        for group in &spike_groups {
            self.create_spike_datasets(&root, group)?;
        }
        for sample in self.layout.samples.values() {
            for column in &sample.columns {
                self.create_sample_datasets(&root, sample, column)?;
            }
        }
        drop(root);
        self.commit()
    }

    /// The parent groups, then the spike groups (copied with their enum `sorting`
    /// attribute) and the sample groups.
    fn create_groups(&mut self, spike_groups: &[String]) -> Result<(), RecordError> {
        let sample_groups: Vec<String> = self
            .layout
            .samples
            .values()
            .flat_map(|s| s.columns.iter().map(|c| c.group.clone()))
            .collect();
        if !spike_groups.is_empty() {
            self.stage_groups("spikes")?;
        }
        for group in &sample_groups {
            if let Some((parent, _)) = group.rsplit_once('/') {
                self.stage_groups(parent)?;
            }
        }
        self.commit()?;

        let template = File::from_bytes(SORTING_TEMPLATE.to_vec())
            .map_err(|e| hdf5_error(Path::new("sorting_by_time.h5"), "/", e))?;
        for group in spike_groups {
            self.file()?
                .copy_from(&template, SORTING_TEMPLATE_GROUP, group)
                .map_err(self.err(group))?;
            self.groups.insert(group.clone());
        }
        for group in &sample_groups {
            self.stage_groups(group)?;
        }
        self.commit()
    }

    /// The recorded stretch of time of every spike group, which rates over these spikes
    /// divide by.
    fn write_spike_windows(&self) -> Result<(), RecordError> {
        for selection in self.layout.spikes.values() {
            let group = format!("spikes/{}", selection.population);
            let (start, stop) = selection.planned_window(self.layout.duration_ms);
            let g = self.file()?.group(&group).map_err(self.err(&group))?;
            g.set_attr("start_ms", AttrValue::F64(start))
                .map_err(self.err(&group))?;
            if let Some(stop) = stop {
                g.set_attr("stop_ms", AttrValue::F64(stop))
                    .map_err(self.err(&group))?;
            }
        }
        self.commit()
    }

    /// `timestamps` and `node_ids` of one spike group, deflated only if asked.
    fn create_spike_datasets(&self, root: &Group, group: &str) -> Result<(), RecordError> {
        let compress = self.compress_spikes;
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
        Ok(())
    }

    /// `data`, `time` and (for neurons) `node_ids` of one sampled column, and the group's
    /// `target` and `kind` attributes.
    fn create_sample_datasets(
        &self,
        root: &Group,
        sample: &SampleLayout,
        column: &SampleColumns,
    ) -> Result<(), RecordError> {
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
                .with_chunks(&[SAMPLE_TIME_CHUNK])
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
        Ok(())
    }

    /// `/training`: the epoch counter and one column per [`TRAINING_FIELDS`] entry.
    pub(super) fn create_training_datasets(&mut self) -> Result<(), RecordError> {
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
        self.commit()
    }

    /// `Observer::array`: a whole dataset at `path`, replacing one written before.
    pub(super) fn write_array(
        &mut self,
        path: &str,
        shape: &[usize],
        data: &[f32],
    ) -> Result<(), String> {
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

    /// What the end of the run says about the spike groups: `sorting` removed where spikes
    /// came out of time order, and `stop_ms` cut back to `simulated_ms` for a run that
    /// stopped early (it recorded its windows only up to where it got).
    pub(super) fn finish_spike_groups(
        &mut self,
        simulated_ms: Option<f64>,
    ) -> Result<(), RecordError> {
        for s in self.spikes.values() {
            if !s.in_time_order {
                let group = format!("spikes/{}", s.selection.population);
                self.file()?
                    .group(&group)
                    .and_then(|g| g.remove_attr("sorting"))
                    .map_err(self.err(&group))?;
            }
        }
        if let Some(reached) = simulated_ms {
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
        Ok(())
    }

    /// The root attributes `status`, `build_s` and `run_s`, committed.
    pub(super) fn write_status(
        &self,
        report: &RunReport,
        status: &RunStatus,
    ) -> Result<(), RecordError> {
        let root = self.file()?.root();
        root.set_attr("status", string(&status.to_string()))
            .map_err(self.err("/"))?;
        root.set_attr("build_s", AttrValue::F64(report.build_s))
            .map_err(self.err("/"))?;
        root.set_attr("run_s", AttrValue::F64(report.run_s))
            .map_err(self.err("/"))?;
        drop(root);
        self.commit()
    }

    /// `/summary`: the report as JSON and as attributes, and the per-population and
    /// per-projection tables.
    pub(super) fn write_summary(&mut self, report: &RunReport) -> Result<(), RecordError> {
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
        self.write_population_table(&root, report)?;
        self.write_projection_table(&root, report)?;
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

    /// `/summary/population_*`: names, sizes, spike counts and rates (none without
    /// populations).
    fn write_population_table(&self, root: &Group, report: &RunReport) -> Result<(), RecordError> {
        if report.populations.is_empty() {
            return Ok(());
        }
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
        Ok(())
    }

    /// `/summary/projection_*`: names and synapse counts (none without projections).
    fn write_projection_table(&self, root: &Group, report: &RunReport) -> Result<(), RecordError> {
        if report.projections.is_empty() {
            return Ok(());
        }
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
        Ok(())
    }
}
