//! Pin a network's behaviour in a test: run a `.net` file and get a deterministic,
//! human-readable summary (rounded statistics, not raw floats) made for
//! `insta::assert_snapshot!`.
//!
//! ```no_run
//! let summary = neurosim::testing::run_summary("networks/xor.net", 1).unwrap();
//! // insta::assert_snapshot!(summary);
//! assert!(summary.contains("accuracy"));
//! ```

use std::fmt::Write as _;
use std::path::Path;

use crate::ir::Network;
use crate::models::Mode;
use crate::sim::{self, RunConfig, RunReport};

/// Why a summary could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Run(String),
}

/// Compiles `.net` source `text` (named `name`, imports read from disk relative to it) with
/// `--set` overrides (`"simulate=400 ms"`): its networks, or every error as one message.
pub fn compile(name: &str, text: &str, overrides: &[&str]) -> Result<Vec<Network>, SummaryError> {
    let overrides = overrides
        .iter()
        .map(|o| {
            crate::lang::Override::parse(o)
                .map_err(|e| SummaryError::Invalid(format!("`{o}` is not PATH=VALUE: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut loader = |p: &Path| std::fs::read_to_string(p);
    let compilation = crate::lang::compile(name, text, &mut loader, &overrides);
    let errors: Vec<String> = compilation
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    if !errors.is_empty() {
        return Err(SummaryError::Invalid(errors.join("\n")));
    }
    Ok(compilation.networks)
}

/// Compiles and runs every network of the file at `path` on `threads` threads and returns
/// the summary of all of them.
pub fn run_summary(path: impl AsRef<Path>, threads: usize) -> Result<String, SummaryError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SummaryError::Io(path.display().to_string(), e))?;
    let networks = compile(&path.display().to_string(), &text, &[])?;
    let config = RunConfig::new(threads.max(1));
    let mut out = String::new();
    for network in &networks {
        let data = match network.mode {
            Mode::Rate => {
                Some(crate::data::load(network).map_err(|e| SummaryError::Run(e.to_string()))?)
            }
            Mode::Spiking => None,
        };
        let start = sim::Start {
            data: data.as_ref(),
            initial: None,
        };
        let mut recorder = crate::record::memory::MemoryRecorder::new(network)
            .map_err(|e| SummaryError::Run(e.to_string()))?;
        let report = sim::run(network, start, &config, &mut recorder)
            .map_err(|e| SummaryError::Run(e.to_string()))?;
        out += &summarize(network, &report);
        out += &sampled(&recorder);
    }
    Ok(out)
}

/// Every sampled record (state, weights, activations) in a line: its size, the smallest and
/// largest value over the run and the mean of the last sample, so a summary pins what the
/// records hold too (the weights a plastic network ends with, the peak of a trace).
fn sampled(recorder: &crate::record::memory::MemoryRecorder) -> String {
    let mut out = String::new();
    for (path, series) in &recorder.samples {
        let n = series.n_columns.max(1);
        let Some(last) = series.values.chunks(n).last() else {
            continue;
        };
        let mean = last.iter().map(|&x| x as f64).sum::<f64>() / last.len() as f64;
        let (lo, hi) = series
            .values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let _ = writeln!(
            out,
            "  record {path}: {} samples of {n}, min {}, max {}, last mean {}",
            series.values.len() / n,
            significant(lo as f64, 5),
            significant(hi as f64, 5),
            significant(mean, 5)
        );
    }
    out
}

/// The deterministic text summary of one run: no wall times, numbers rounded.
pub fn summarize(network: &Network, report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "network {} ({}, seed {})",
        network.name,
        network.mode.name(),
        network.seed
    );
    for (name, p) in &report.populations {
        let _ = write!(
            out,
            "  population {name}: {} neuron{}",
            p.size,
            if p.size == 1 { "" } else { "s" }
        );
        if let Some(spikes) = p.spikes {
            let _ = write!(out, ", {spikes} spikes");
        }
        if let Some(rate) = p.rate_hz {
            let _ = write!(out, ", {} Hz", round(rate, 2));
        }
        out.push('\n');
    }
    for (name, p) in &report.projections {
        let _ = writeln!(out, "  projection {name}: {} synapses", p.synapses);
    }
    if let Some(train) = &report.train {
        let _ = writeln!(
            out,
            "  train: {} epochs, final loss {}",
            train.epochs,
            significant(train.final_loss, 3)
        );
        if let Some(stop) = &train.early_stopping {
            let _ = writeln!(
                out,
                "  early stopping: {}, best epoch {}, best validation loss {}{}",
                if stop.stopped {
                    "stopped"
                } else {
                    "ran every epoch"
                },
                stop.best_epoch,
                significant(stop.best_val_loss, 3),
                if stop.restored { ", restored" } else { "" }
            );
        }
    }
    if let Some(eval) = &report.evaluate {
        if let Some(a) = eval.accuracy {
            let _ = writeln!(out, "  evaluate: accuracy {} %", round(100.0 * a, 1));
        }
        if let Some(l) = eval.loss {
            let _ = writeln!(out, "  evaluate: loss {}", significant(l, 3));
        }
        if let Some(o) = eval.overlap {
            let _ = writeln!(out, "  evaluate: overlap {}", round(o, 3));
        }
        if let Some(m) = eval.mmd {
            let _ = writeln!(out, "  evaluate: mmd {}", significant(m, 2));
        }
    }
    out
}

fn round(x: f64, decimals: i32) -> String {
    let f = 10f64.powi(decimals);
    format!("{:.*}", decimals as usize, (x * f).round() / f)
}

fn significant(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    format!("{:.*e}", digits.saturating_sub(1), x)
}
