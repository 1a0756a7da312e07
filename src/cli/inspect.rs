//! `neurosim inspect OUT.h5` (a readable summary of an output file) and `neurosim plot OUT.h5`
//! (its pictures). Both read the file back and recompile the stored `.net` source for
//! population sizes and durations, so they work on any neurosim output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json, json};

use super::CliError;
use super::args::{InspectArgs, PlotArgs};
use super::source::compile_source;
use crate::ir::{Network, Recordable};
use crate::lang::Override;
use crate::models::loss::Loss;
use crate::plot::{self, Series, SpikeTrain};
use crate::record::hdf5::{
    read_arrays, read_evaluation, read_provenance, read_spike_window, read_spikes, read_status,
};
use crate::record::{Layout, Provenance, RecordError, SpikeSelection};

type Arrays = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// The groups of an output file that hold numeric data (docs/OUTPUT.md).
const NUMERIC_GROUPS: &[&str] = &[
    "spikes",
    "training",
    "weights",
    "biases",
    "report",
    "activations",
    "weights_over_time",
];

/// What an output file holds, read back.
struct Contents {
    network: Option<Network>,
    provenance_text: String,
    /// The provenance for `inspect --json`.
    provenance: Json,
    arrays: Arrays,
    spikes: Vec<Spikes>,
    /// The `evaluate` metrics (`/summary` attributes `evaluate_*`).
    evaluation: Vec<(String, f64)>,
}

/// The spikes stored for one population and which of its neurons they were recorded from.
struct Spikes {
    population: String,
    times: Vec<f64>,
    ids: Vec<u64>,
    /// How many neurons were recorded: the slice's size (`record spikes of E[0..1000]`), the
    /// population's, or, when the stored source no longer compiles, the highest id + 1.
    neurons: u64,
    /// The half-open span of neuron ids recorded (`0..size` for a whole population).
    span: (u64, u64),
    /// The stretch of simulated time recorded, in ms: `record ... from T until T` clipped
    /// to the run, or the whole run. Rates divide by its length.
    window_ms: (f64, f64),
}

impl Spikes {
    fn window_length_ms(&self) -> f64 {
        self.window_ms.1 - self.window_ms.0
    }

    /// Mean rate in Hz per recorded neuron over the recorded window.
    fn rate_hz(&self) -> f64 {
        rate_hz(self.times.len(), self.neurons, self.window_length_ms())
    }
}

fn io(path: &Path) -> impl Fn(RecordError) -> CliError + '_ {
    move |e| CliError::Io(format!("cannot read {}: {e}", path.display()))
}

/// Reads an output file back: its provenance, the network recompiled from the stored
/// source, every numeric array, the spikes of each population with the neurons and the
/// window they were recorded from, and the evaluation.
fn read(path: &Path) -> Result<Contents, CliError> {
    let provenance = read_provenance(path).map_err(io(path))?;
    let status = match read_status(path).map_err(io(path))? {
        Ok(status) => status.to_string(),
        Err(text) => text,
    };
    let provenance_json = json!({
        "file": path.display().to_string(),
        "network": provenance.network,
        "source_file": provenance.file_name,
        "version": provenance.version,
        "seed": provenance.seed,
        "status": status,
    });
    let provenance_text = provenance_text(path, &provenance, &status);
    let network = recompile(&provenance);
    let arrays = read_numeric(path)?;
    let spikes = read_all_spikes(path, &arrays, network.as_ref())?;
    let evaluation = read_evaluation(path).map_err(io(path))?;
    Ok(Contents {
        network,
        provenance_text,
        provenance: provenance_json,
        arrays,
        spikes,
        evaluation,
    })
}

/// The first lines of `inspect`: the file, where its network came from, how it ran.
fn provenance_text(path: &Path, provenance: &Provenance, status: &str) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "file {}", path.display());
    let _ = writeln!(
        text,
        "  network {} from {} (neurosim {}, seed {}, {} threads, started {}, status {status})",
        provenance.network,
        provenance.file_name,
        provenance.version,
        provenance.seed,
        provenance.threads,
        provenance.start_time
    );
    if !provenance.overrides.is_empty() {
        let _ = writeln!(text, "  overrides: {}", provenance.overrides.join(", "));
    }
    text
}

/// The network that ran, compiled again from the stored source with the overrides the run
/// applied (they may change sizes or the duration); `None` if it no longer compiles.
fn recompile(provenance: &Provenance) -> Option<Network> {
    let overrides: Vec<_> = provenance
        .overrides
        .iter()
        .filter_map(|o| Override::parse(o).ok())
        .collect();
    let compilation = compile_source(
        &provenance.file_name,
        provenance.source.as_bytes(),
        &overrides,
    );
    compilation
        .networks
        .into_iter()
        .find(|n| n.name == provenance.network)
}

/// Every array of the groups that hold numeric data; a group the file lacks is skipped.
fn read_numeric(path: &Path) -> Result<Arrays, CliError> {
    let mut arrays = Arrays::new();
    for group in NUMERIC_GROUPS {
        match read_arrays(path, group) {
            Ok(found) => arrays.extend(found),
            Err(RecordError::Missing { .. }) => {}
            Err(e) => return Err(io(path)(e)),
        }
    }
    Ok(arrays)
}

/// The spikes of every population the file holds spikes of (`spikes/NAME/timestamps`).
fn read_all_spikes(
    path: &Path,
    arrays: &Arrays,
    network: Option<&Network>,
) -> Result<Vec<Spikes>, CliError> {
    let populations: Vec<String> = arrays
        .keys()
        .filter_map(|k| {
            k.strip_prefix("spikes/")?
                .strip_suffix("/timestamps")
                .map(str::to_string)
        })
        .collect();
    let layout = network.and_then(|n| Layout::of(n).ok());
    let mut spikes = Vec::new();
    for population in populations {
        spikes.push(read_population_spikes(path, population, layout.as_ref())?);
    }
    // Without attributes or a network, the window ends at the last spike of any population.
    let fallback = duration_ms(None, &spikes);
    for s in &mut spikes {
        if s.window_ms.1.is_nan() {
            s.window_ms.1 = fallback;
        }
    }
    Ok(spikes)
}

/// One population's spikes, the neurons they were recorded from and the window (its end
/// NaN when neither the file nor the network says: the caller fills it in).
fn read_population_spikes(
    path: &Path,
    population: String,
    layout: Option<&Layout>,
) -> Result<Spikes, CliError> {
    let (times, ids) = read_spikes(path, &population).map_err(io(path))?;
    let selection = layout.and_then(|l| l.spikes.values().find(|s| s.population == population));
    let (neurons, span) = match selection {
        Some(selection) => recorded_neurons(path, selection, &ids)?,
        // Without the network only the ids themselves say which neurons there were;
        // nothing is sized from them.
        None => {
            let end = ids.iter().max().map_or(0, |&m| m.saturating_add(1));
            (end, (0, end))
        }
    };
    // What the file says first; for outputs written before windows existed, what the
    // stored source says, which is the whole run.
    let (start, stop) = read_spike_window(path, &population).map_err(io(path))?;
    let run_ms = layout.and_then(|l| l.duration_ms);
    let planned = selection.and_then(|s| run_ms.map(|d| s.window_ms(d)));
    let window_ms = (
        start.or(planned.map(|w| w.0)).unwrap_or(0.0),
        stop.or(planned.map(|w| w.1)).unwrap_or(f64::NAN),
    );
    Ok(Spikes {
        population,
        times,
        ids,
        neurons,
        span,
        window_ms,
    })
}

/// How many neurons `selection` records and the span of their ids; a spike of any other
/// neuron means the file is corrupt.
fn recorded_neurons(
    path: &Path,
    selection: &SpikeSelection,
    ids: &[u64],
) -> Result<(u64, (u64, u64)), CliError> {
    let kept = kept_ranges(selection);
    if let Some(&id) = ids
        .iter()
        .find(|&&id| !kept.iter().any(|&(a, b)| (a..b).contains(&id)))
    {
        let population = &selection.population;
        return Err(CliError::Io(format!(
            "{} is corrupt: spikes/{population}/node_ids holds neuron {id}, which \
             is not among the recorded neurons of {population} ({})",
            path.display(),
            describe_ranges(&kept, selection.size)
        )));
    }
    let neurons = kept.iter().map(|&(a, b)| b - a).sum();
    let span = match (kept.first(), kept.last()) {
        (Some(&(first, _)), Some(&(_, end))) => (first, end),
        _ => (0, 0),
    };
    Ok((neurons, span))
}

/// Whether a training accuracy means something for `network`: it is trained with a
/// classification loss, or accuracy is asked for (`record accuracy`, `evaluate { metrics =
/// [accuracy] }`). The engine counts argmax/threshold hits for any loss; for a regression
/// (`mse`, `smooth_l1`) that figure is noise, so the epoch lines, `inspect` and `plot` leave
/// it out.
pub(super) fn reports_accuracy(network: &Network) -> bool {
    let asked = network
        .records
        .iter()
        .any(|r| r.what == Recordable::Accuracy)
        || network
            .evaluate
            .as_ref()
            .is_some_and(|e| e.metrics.iter().any(|m| m == "accuracy"));
    let classifies = network
        .train
        .as_ref()
        .and_then(|t| t.loss.as_deref())
        .and_then(Loss::from_name)
        .is_some_and(|loss| match loss {
            Loss::CrossEntropy | Loss::BinaryCrossEntropy => true,
            Loss::Mse | Loss::SmoothL1 => false,
        });
    asked || classifies
}

/// The neurons a spike record keeps, as sorted, disjoint, half-open ranges within the
/// population (overlapping slices of several `record` statements merged).
fn kept_ranges(selection: &SpikeSelection) -> Vec<(u64, u64)> {
    let size = selection.size as u64;
    let mut ranges: Vec<(u64, u64)> = match &selection.ranges {
        None => vec![(0, size)],
        Some(ranges) => ranges
            .iter()
            .map(|&(a, b)| ((a as u64).min(size), (b as u64).min(size)))
            .filter(|(a, b)| a < b)
            .collect(),
    };
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

fn describe_ranges(ranges: &[(u64, u64)], size: usize) -> String {
    if ranges == [(0, size as u64)] {
        return format!("0..{size}");
    }
    let text: Vec<String> = ranges.iter().map(|(a, b)| format!("{a}..{b}")).collect();
    format!("{} of {size}", text.join(", "))
}

fn duration_ms(network: Option<&Network>, spikes: &[Spikes]) -> f64 {
    network
        .and_then(|n| n.simulate.as_ref().map(|s| s.duration))
        .unwrap_or_else(|| {
            spikes
                .iter()
                .flat_map(|s| s.times.iter().copied())
                .fold(0.0, f64::max)
        })
}

/// Mean over neurons (with at least three spikes) of the coefficient of variation of their
/// ISIs. Spikes are grouped by sorting, so no buffer is sized from the ids.
fn cv_isi(times: &[f64], ids: &[u64]) -> Option<f64> {
    let mut order: Vec<(u64, f64)> = ids.iter().copied().zip(times.iter().copied()).collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let cvs: Vec<f64> = order
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|spikes| spikes.len() >= 3)
        .map(|spikes| {
            let isi: Vec<f64> = spikes.windows(2).map(|w| w[1].1 - w[0].1).collect();
            let mean = isi.iter().sum::<f64>() / isi.len() as f64;
            let var = isi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / isi.len() as f64;
            if mean > 0.0 { var.sqrt() / mean } else { 0.0 }
        })
        .collect();
    (!cvs.is_empty()).then(|| cvs.iter().sum::<f64>() / cvs.len() as f64)
}

/// Mean rate in Hz of `spikes` fired by `neurons` neurons over `t_ms`.
fn rate_hz(spikes: usize, neurons: u64, t_ms: f64) -> f64 {
    if t_ms > 0.0 && neurons > 0 {
        spikes as f64 / neurons as f64 / (t_ms / 1000.0)
    } else {
        0.0
    }
}

fn stats(values: &[f32]) -> (f64, f64, f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let sd = (values
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let min = values.iter().copied().fold(f32::INFINITY, f32::min);
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    (mean, sd, f64::from(min), f64::from(max))
}

pub fn inspect(args: &InspectArgs) -> Result<(), CliError> {
    let contents = read(&args.file)?;
    if args.json {
        println!("{}", inspect_json(&contents));
    } else {
        print!("{}", inspect_text(&contents));
    }
    Ok(())
}

/// What `inspect --json` prints: the provenance, and per recorded population the neurons
/// recorded, spikes, mean rate and CV ISI (the figures of the text table).
fn inspect_json(c: &Contents) -> Json {
    let network = c.network.as_ref();
    let t_ms = duration_ms(network, &c.spikes);
    let spikes: Map<String, Json> = c
        .spikes
        .iter()
        .map(|s| {
            let entry = json!({
                "neurons": s.neurons,
                "node_ids": [s.span.0, s.span.1],
                "spikes": s.times.len(),
                "window_ms": [s.window_ms.0, s.window_ms.1],
                "rate_hz": s.rate_hz(),
                "cv_isi": cv_isi(&s.times, &s.ids),
            });
            (s.population.clone(), entry)
        })
        .collect();
    let mut out = c.provenance.clone();
    out["duration_ms"] = json!(t_ms);
    out["spikes"] = Json::Object(spikes);
    if let Some((_, epochs)) = c.arrays.get("training/epoch") {
        out["training"] = json!({ "epochs": epochs.len() });
    }
    if !c.evaluation.is_empty() {
        let metrics: Map<String, Json> = c
            .evaluation
            .iter()
            .map(|(metric, value)| (metric.clone(), json!(value)))
            .collect();
        out["evaluation"] = Json::Object(metrics);
    }
    out
}

/// What `inspect` prints: the provenance, then a table per kind of data the file holds.
fn inspect_text(c: &Contents) -> String {
    let mut out = c.provenance_text.clone();
    spike_table(&mut out, c);
    training_table(&mut out, c);
    if !c.evaluation.is_empty() {
        let _ = writeln!(out, "  evaluation:");
        for (metric, value) in &c.evaluation {
            let _ = writeln!(out, "    {metric:<12} {value:.6}");
        }
    }
    let weights: Vec<_> = c
        .arrays
        .iter()
        .filter(|(k, _)| k.starts_with("weights/") || k.starts_with("biases/"))
        .collect();
    if !weights.is_empty() {
        let _ = writeln!(out, "  trained parameters:");
        for (name, (shape, values)) in weights {
            let shape = shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("×");
            let _ = writeln!(out, "    {name:<24} [{shape}]  {}", stats_text(values));
        }
    }
    let samples: Vec<_> = c
        .arrays
        .iter()
        .filter(|(k, _)| k.ends_with("/data"))
        .collect();
    if !samples.is_empty() {
        let _ = writeln!(out, "  sampled recordings:");
        for (name, (_, values)) in samples {
            let _ = writeln!(
                out,
                "    {name:<24} {} values  {}",
                values.len(),
                stats_text(values)
            );
        }
    }
    out
}

/// Per recorded population: size, spikes, mean rate and CV ISI, with a window column only
/// when some population was recorded for less than the run.
fn spike_table(out: &mut String, c: &Contents) {
    if c.spikes.is_empty() {
        return;
    }
    let t_ms = duration_ms(c.network.as_ref(), &c.spikes);
    let windowed = c.spikes.iter().any(|s| s.window_ms != (0.0, t_ms));
    if windowed {
        let _ = writeln!(out, "  spikes (run of {t_ms} ms; rates over each window):");
    } else {
        let _ = writeln!(out, "  spikes over {} ms:", t_ms);
    }
    let window_header = if windowed {
        format!(" {:>18}", "window (ms)")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "    {:<12} {:>8}{window_header} {:>12} {:>10} {:>8}",
        "population", "size", "spikes", "rate (Hz)", "CV ISI"
    );
    for s in &c.spikes {
        let rate = s.rate_hz();
        let cv = cv_isi(&s.times, &s.ids).map_or("-".to_string(), |cv| format!("{cv:.3}"));
        let window = if windowed {
            format!(" {:>18}", format!("{}..{}", s.window_ms.0, s.window_ms.1))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "    {:<12} {:>8}{window} {:>12} {rate:>10.3} {cv:>8}",
            s.population,
            s.neurons,
            s.times.len()
        );
    }
}

/// The training curves as a compact table: at most 12 rows, evenly spaced, always
/// including the last epoch.
fn training_table(out: &mut String, c: &Contents) {
    let Some((_, epochs)) = c.arrays.get("training/epoch") else {
        return;
    };
    let accuracy = c.network.as_ref().is_none_or(reports_accuracy);
    let names = ["loss", "accuracy", "val_loss", "val_accuracy"];
    let columns: Vec<(&str, &[f32])> = names
        .iter()
        .filter(|n| accuracy || !n.ends_with("accuracy"))
        .filter_map(|n| curve(&c.arrays, n).map(|v| (*n, v)))
        .collect();
    if columns.is_empty() {
        // Local rules only (Hopfield, Hebbian): no loss, no accuracy, nothing to tabulate.
        let _ = writeln!(
            out,
            "  training ({} epochs, local rules: no loss)",
            epochs.len()
        );
        return;
    }
    let _ = writeln!(out, "  training ({} epochs):", epochs.len());
    let mut header = format!("    {:>6}", "epoch");
    for (name, _) in &columns {
        let _ = write!(header, " {name:>13}");
    }
    let _ = writeln!(out, "{header}");
    let n = epochs.len();
    let step = n.div_ceil(12).max(1);
    let rows: Vec<usize> = (0..n)
        .step_by(step)
        .chain((n > 0 && (n - 1) % step != 0).then(|| n - 1))
        .collect();
    for i in rows {
        let mut line = format!("    {:>6}", epochs[i]);
        for (_, v) in &columns {
            let _ = write!(line, " {:>13.6}", v.get(i).copied().unwrap_or(f32::NAN));
        }
        let _ = writeln!(out, "{line}");
    }
}

/// A training curve (`training/loss`, ...) that holds at least one number: a curve of NaN
/// only is a figure the run did not compute.
fn curve<'a>(arrays: &'a Arrays, name: &str) -> Option<&'a [f32]> {
    arrays
        .get(&format!("training/{name}"))
        .map(|(_, v)| v.as_slice())
        .filter(|v| v.iter().any(|x| x.is_finite()))
}

/// `mean … sd … min … max …` of an array, for the tables of `inspect`.
fn stats_text(values: &[f32]) -> String {
    let (mean, sd, min, max) = stats(values);
    format!("mean {mean:.4}  sd {sd:.4}  min {min:.4}  max {max:.4}")
}

pub fn plot(args: &PlotArgs) -> Result<(), CliError> {
    let written = plot_file(
        &args.file,
        args.out_dir.as_deref(),
        &args.format,
        args.force,
    )?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}

/// Pictures drawn under temporary names (`.NAME.tmp.png` beside `NAME.png`) and renamed
/// to their own names only once every one is drawn, so a failed plot (a full disk) never
/// leaves a truncated picture, and a refused one changes nothing. Dropped before
/// [`Pictures::finish`], it removes what it drew.
struct Pictures {
    drawn: Vec<(PathBuf, PathBuf)>,
}

impl Pictures {
    /// The temporary name to draw `picture` under.
    fn draw_as(&mut self, picture: PathBuf) -> PathBuf {
        let name = picture
            .file_stem()
            .map_or("picture".into(), |s| s.to_string_lossy().into_owned());
        let ext = picture
            .extension()
            .map_or("png".into(), |s| s.to_string_lossy().into_owned());
        let temp = picture.with_file_name(format!(".{name}.tmp.{ext}"));
        self.drawn.push((temp.clone(), picture));
        temp
    }

    /// Renames every picture to its own name; refuses, before renaming any, to replace an
    /// existing file unless `force`.
    fn finish(mut self, force: bool) -> Result<Vec<PathBuf>, CliError> {
        if !force {
            let existing: Vec<String> = self
                .drawn
                .iter()
                .filter(|(_, picture)| picture.exists())
                .map(|(_, picture)| picture.display().to_string())
                .collect();
            if !existing.is_empty() {
                return Err(CliError::Run(format!(
                    "{} exist{}; pass --force to overwrite or -o to write elsewhere",
                    existing.join(", "),
                    if existing.len() == 1 { "s" } else { "" }
                )));
            }
        }
        let drawn = std::mem::take(&mut self.drawn);
        let mut written = Vec::with_capacity(drawn.len());
        for (i, (temp, picture)) in drawn.iter().enumerate() {
            if let Err(e) = std::fs::rename(temp, picture) {
                self.drawn = drawn[i..].to_vec();
                return Err(CliError::Io(format!(
                    "cannot write {}: {e}",
                    picture.display()
                )));
            }
            written.push(picture.clone());
        }
        Ok(written)
    }
}

impl Drop for Pictures {
    fn drop(&mut self) {
        for (temp, _) in &self.drawn {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Draws every picture the file supports next to it (or in `out_dir`); returns the files.
/// An existing picture is replaced only with `force`.
pub fn plot_file(
    file: &Path,
    out_dir: Option<&Path>,
    format: &str,
    force: bool,
) -> Result<Vec<PathBuf>, CliError> {
    if !matches!(format, "png" | "svg") {
        return Err(CliError::Usage(format!(
            "--format must be png or svg, not `{format}`"
        )));
    }
    let c = read(file)?;
    let dir = picture_dir(file, out_dir)?;
    let stem = file
        .file_stem()
        .map_or("out".into(), |s| s.to_string_lossy().into_owned());
    let network = c.network.as_ref();
    let mut canvas = Canvas {
        pictures: Pictures { drawn: Vec::new() },
        dir,
        name: network.map_or(stem.clone(), |n| n.name.clone()),
        stem,
        format,
        network,
    };
    plot_spikes(&mut canvas, &c)?;
    plot_training(&mut canvas, &c)?;
    plot_traces(&mut canvas, &c)?;
    plot_weights(&mut canvas, &c)?;
    plot_weights_over_time(&mut canvas, &c)?;
    if canvas.pictures.drawn.is_empty() {
        return Err(CliError::Run(format!(
            "{} holds nothing to plot",
            file.display()
        )));
    }
    canvas.pictures.finish(force)
}

/// The folder pictures go into (`out_dir`, else the file's own), created if missing.
fn picture_dir(file: &Path, out_dir: Option<&Path>) -> Result<PathBuf, CliError> {
    let dir = out_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.parent().map(Path::to_path_buf).unwrap_or_default());
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::Io(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// What the pictures of one file share: where they go (`DIR/STEM_KIND.FORMAT`), what their
/// titles start with, the network when the stored source still compiles, and the pictures
/// drawn so far.
struct Canvas<'a> {
    pictures: Pictures,
    dir: PathBuf,
    stem: String,
    format: &'a str,
    /// The network's name, or the file's stem.
    name: String,
    network: Option<&'a Network>,
}

impl Canvas<'_> {
    /// The file to draw the picture of `kind` into (its temporary name).
    fn target(&mut self, kind: &str) -> PathBuf {
        let picture = self
            .dir
            .join(format!("{}_{kind}.{}", self.stem, self.format));
        self.pictures.draw_as(picture)
    }
}

fn plot_err(e: plot::PlotError) -> CliError {
    CliError::Run(e.to_string())
}

/// The raster and the population rate of the recorded spikes.
fn plot_spikes(canvas: &mut Canvas, c: &Contents) -> Result<(), CliError> {
    if c.spikes.is_empty() {
        return Ok(());
    }
    let name = canvas.name.clone();
    let t_ms = duration_ms(canvas.network, &c.spikes);
    let trains: Vec<SpikeTrain> = c
        .spikes
        .iter()
        .map(|s| SpikeTrain {
            population: &s.population,
            neurons: s.neurons,
            ids: s.span.0..s.span.1,
            window_ms: s.window_ms,
            times_ms: &s.times,
            node_ids: &s.ids,
        })
        .collect();
    let path = canvas.target("raster");
    plot::raster(&path, &format!("{name}: spike raster"), &trains, t_ms).map_err(plot_err)?;
    let bin = (t_ms / 200.0).clamp(1.0, 50.0);
    let path = canvas.target("rate");
    plot::population_rate(
        &path,
        &format!("{name}: population rate"),
        &trains,
        t_ms,
        bin,
    )
    .map_err(plot_err)
}

/// Loss and accuracy per epoch, training and validation, each where the run computed it.
fn plot_training(canvas: &mut Canvas, c: &Contents) -> Result<(), CliError> {
    let Some((_, epochs)) = c.arrays.get("training/epoch") else {
        return Ok(());
    };
    let x: Vec<f64> = epochs.iter().map(|&e| f64::from(e)).collect();
    for (kind, names, y_desc) in [
        ("loss", ["loss", "val_loss"], "loss"),
        ("accuracy", ["accuracy", "val_accuracy"], "accuracy"),
    ] {
        if kind == "accuracy" && !canvas.network.is_none_or(reports_accuracy) {
            continue;
        }
        let columns: Vec<(&str, Vec<f64>)> = names
            .iter()
            .filter_map(|n| {
                curve(&c.arrays, n).map(|v| (*n, v.iter().map(|&y| f64::from(y)).collect()))
            })
            .collect();
        if columns.is_empty() {
            continue;
        }
        let series: Vec<Series> = columns
            .iter()
            .map(|(label, y)| Series { label, x: &x, y })
            .collect();
        let path = canvas.target(kind);
        let title = format!("{}: {kind} per epoch", canvas.name);
        plot::lines(&path, &title, "epoch", y_desc, &series).map_err(plot_err)?;
    }
    Ok(())
}

/// The time series stored under `group`: (`NAME`, `group/NAME/data`, `group/NAME/time`)
/// for every name with both.
fn time_series<'a>(
    arrays: &'a Arrays,
    group: &'a str,
) -> impl Iterator<Item = (&'a str, &'a [f32], &'a [f32])> + 'a {
    arrays.iter().filter_map(move |(key, (_, values))| {
        let name = key
            .strip_prefix(group)?
            .strip_prefix('/')?
            .strip_suffix("/data")?;
        let (_, times) = arrays.get(&format!("{group}/{name}/time"))?;
        Some((name, values.as_slice(), times.as_slice()))
    })
}

/// The sampled state of the first few recorded neurons, one picture per `record`.
fn plot_traces(canvas: &mut Canvas, c: &Contents) -> Result<(), CliError> {
    for (rest, values, times) in time_series(&c.arrays, "report") {
        let columns = c
            .arrays
            .get(&format!("report/{rest}/node_ids"))
            .map_or(1, |(_, ids)| ids.len().max(1));
        let x: Vec<f64> = times.iter().map(|&t| f64::from(t)).collect();
        let shown = columns.min(5);
        let traces: Vec<(String, Vec<f64>)> = (0..shown)
            .map(|col| {
                (
                    format!("{}[{col}]", rest),
                    values
                        .iter()
                        .skip(col)
                        .step_by(columns)
                        .map(|&v| f64::from(v))
                        .collect(),
                )
            })
            .collect();
        let series: Vec<Series> = traces
            .iter()
            .map(|(l, y)| Series { label: l, x: &x, y })
            .collect();
        let path = canvas.target(&format!("trace_{}", rest.replace('/', "_")));
        let var = rest.rsplit('/').next().unwrap_or(rest);
        let population = rest.split('/').next().unwrap_or(rest);
        let time_axis = if canvas
            .network
            .is_some_and(|n| n.mode == crate::models::Mode::Rate)
        {
            "sample"
        } else {
            "time (ms)"
        };
        plot::lines(
            &path,
            &format!("{}: {rest} (first {shown} of {columns})", canvas.name),
            time_axis,
            &format!("{var} ({})", state_unit(canvas.network, population, var)),
            &series,
        )
        .map_err(plot_err)?;
    }
    Ok(())
}

/// The unit a state variable is written in. State variables are stored in internal units,
/// which are the ones a person would write.
fn state_unit(network: Option<&Network>, population: &str, var: &str) -> String {
    network
        .and_then(|n| {
            n.graph
                .find_population(population)
                .map(|id| n.graph.population(id).model)
        })
        .and_then(|model| model.state.iter().find(|s| s.name == var))
        .map_or_else(|| "internal units".to_string(), |s| s.dim.example_unit())
}

/// A histogram of each projection's trained weights (`weights/NAME`).
fn plot_weights(canvas: &mut Canvas, c: &Contents) -> Result<(), CliError> {
    for (key, (_, values)) in &c.arrays {
        let Some(projection) = key.strip_prefix("weights/") else {
            continue;
        };
        let values: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        let path = canvas.target(&format!("weights_{}", sanitize(projection)));
        let title = format!("{}: weights of {projection}", canvas.name);
        plot::histogram(&path, &title, "weight", &values, 50).map_err(plot_err)?;
    }
    Ok(())
}

/// A histogram of each recorded projection's weights at the last sample.
fn plot_weights_over_time(canvas: &mut Canvas, c: &Contents) -> Result<(), CliError> {
    for (projection, values, times) in time_series(&c.arrays, "weights_over_time") {
        let (Some(&t_last), rows) = (times.last(), times.len()) else {
            continue;
        };
        let columns = values.len() / rows.max(1);
        let last: Vec<f64> = values[values.len() - columns..]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let path = canvas.target(&format!("weights_{}", sanitize(projection)));
        let unit = canvas
            .network
            .and_then(|n| {
                n.graph
                    .find_projection(projection)
                    .map(|id| n.graph.projection(id).weight_dim)
            })
            .map_or_else(|| "internal units".to_string(), |d| d.example_unit());
        let title = format!(
            "{}: weights of {projection} at t = {} s",
            canvas.name,
            t_last / 1000.0
        );
        plot::histogram(&path, &title, &format!("weight ({unit})"), &last, 50).map_err(plot_err)?;
    }
    Ok(())
}

fn sanitize(name: &str) -> String {
    name.replace("->", "_to_")
        .replace("--", "_with_")
        .replace(|c: char| !c.is_alphanumeric() && c != '_', "_")
}
