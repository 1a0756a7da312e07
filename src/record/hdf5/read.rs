//! Reading a finished output back (or the temporary file of a killed run): the provenance
//! for `run --from`, trained arrays for `--weights`, and the spikes, samples, training curves,
//! status and metrics that `inspect` and `plot` show. Every reader opens the file itself and
//! reports a missing object as [`RecordError::Missing`].

use std::collections::BTreeMap;
use std::path::Path;

use hdf5_pure::{AttrValue, File};

use super::hdf5_error;
use crate::record::{Arrays, Provenance, RecordError, RunStatus};
use crate::sim::EpochStats;

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

/// The provenance written by [`Hdf5Recorder::create`](super::Hdf5Recorder::create) (for
/// `run --from OUT.h5`).
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
