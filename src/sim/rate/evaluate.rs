//! Evaluation: runs the network on a dataset (one feed-forward pass, or `steps` iterations
//! of the recurrent dynamics for recall), computes the metrics and streams `record
//! activation` samples.
//!
//! Metrics: `accuracy` (argmax over an output population of several units, threshold 0.5
//! for a single unit; a sample counts as right when every output population is right),
//! `loss` (the training loss, `mse` without one) and `overlap` (mean over cues of m·ξ/N,
//! where ξ is the cue's target row, or, without targets, memory row i mod the number of
//! training rows).

use super::model::Model;
use super::{presented, table, targets_fit};
use crate::data::{Datasets, Table};
use crate::ir::{Evaluate, Network, RecordTarget, Recordable};
use crate::models::loss::no_target;
use crate::sim::{EvalReport, Observer, RunConfig, SimError};

/// Running sums of the metrics.
#[derive(Debug, Default, Clone)]
pub(super) struct Scores {
    samples: usize,
    correct: usize,
    loss_sum: f64,
    loss_samples: usize,
    overlap_sum: f64,
    overlap_samples: usize,
}

impl Scores {
    pub fn accuracy(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.correct as f64 / self.samples as f64)
    }

    pub fn loss(&self) -> Option<f64> {
        (self.loss_samples > 0).then(|| self.loss_sum / self.loss_samples as f64)
    }

    pub fn overlap(&self) -> Option<f64> {
        (self.overlap_samples > 0).then(|| self.overlap_sum / self.overlap_samples as f64)
    }
}

/// Adds the accuracy of the last `b` samples (outputs vs presented targets) to `scores`;
/// for sequences with a target at every step, of every step of every sample. A step
/// without a target (NaN: padding) does not count.
pub(super) fn score(model: &Model, b: usize, scores: &mut Scores) {
    for c in 0..model.scored(b) {
        let (mut right, mut scored) = (true, false);
        for (k, &o) in model.outputs().iter().enumerate() {
            let n = model.layer_size(o);
            let y = &model.scored_state(o, b)[c * n..(c + 1) * n];
            let t = &model.targets(k, b)[c * n..(c + 1) * n];
            if no_target(t) {
                continue;
            }
            scored = true;
            right &= if n == 1 {
                (y[0] > 0.5) == (t[0] > 0.5)
            } else {
                argmax(y) == argmax(t)
            };
        }
        scores.correct += usize::from(right && scored);
        scores.samples += usize::from(scored);
    }
}

fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Loss and accuracy of the network on `table` (one feed-forward pass), for validation.
pub(super) fn measure(
    model: &mut Model,
    network: &Network,
    table: &Table,
    name: &str,
) -> Result<Scores, SimError> {
    let layers = presented(network, name, table)?;
    let output_width: usize = model.output_sizes().iter().sum();
    if !targets_fit(model, table) {
        return Err(SimError::Data(format!(
            "dataset '{name}' has {} targets per row, but the outputs have {output_width} units",
            table.n_targets
        )));
    }
    model.set_presented(&layers);
    let rows: Vec<usize> = (0..table.n_rows).collect();
    let mut scores = Scores::default();
    for block in rows.chunks(model.capacity()) {
        let b = block.len();
        model.present(table, block, &layers);
        model.forward(b);
        scores.loss_sum += model.loss_only(b) * b as f64;
        scores.loss_samples += b;
        score(model, b, &mut scores);
    }
    Ok(scores)
}

/// The metrics `evaluate` asks for, streaming its activation records; `None` when
/// `config.interrupt` stopped it (checked before every block of rows and every relaxation
/// step).
pub(super) fn evaluate(
    model: &mut Model,
    network: &Network,
    evaluate: &Evaluate,
    data: &Datasets,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<Option<EvalReport>, SimError> {
    let table = table(data, &evaluate.data)?;
    let layers = presented(network, &evaluate.data, table)?;
    let wants = |m: &str| evaluate.metrics.iter().any(|x| x == m);
    let (want_accuracy, want_loss, want_overlap) = if evaluate.metrics.is_empty() {
        (table.targets.is_some(), table.targets.is_some(), false)
    } else {
        (wants("accuracy"), wants("loss"), wants("overlap"))
    };
    if (want_accuracy || want_loss) && table.targets.is_none() {
        return Err(SimError::Data(format!(
            "dataset '{}' has no targets, so accuracy and loss cannot be measured on it",
            evaluate.data
        )));
    }
    let output_width: usize = model.output_sizes().iter().sum();
    if (want_accuracy || want_loss) && !targets_fit(model, table) {
        return Err(SimError::Data(format!(
            "dataset '{}' has {} targets per row, but the outputs have {output_width} units",
            evaluate.data, table.n_targets
        )));
    }
    let memories = if want_overlap {
        Some(memories(network, data, table, &evaluate.data)?)
    } else {
        None
    };
    if let Some((m, _)) = &memories
        && m.n != output_width
    {
        return Err(SimError::Data(format!(
            "overlap compares outputs of {output_width} units with patterns of {} values",
            m.n
        )));
    }
    let steps = evaluate.steps.unwrap_or(usize::from(model.is_recurrent()));
    let records = activation_records(network);
    let mut values = Vec::new();

    model.set_presented(&layers);
    let rows: Vec<usize> = (0..table.n_rows).collect();
    let mut scores = Scores::default();
    let mut output = vec![0.0f32; output_width];
    let interrupted = || config.interrupted();
    for block in rows.chunks(model.capacity()) {
        if interrupted() {
            return Ok(None);
        }
        let b = block.len();
        model.present(table, block, &layers);
        if steps > 0 {
            if !model.relax(b, steps, &interrupted) {
                return Ok(None);
            }
        } else {
            model.forward(b);
        }
        if want_loss {
            scores.loss_sum += model.loss_only(b) * b as f64;
            scores.loss_samples += b;
        }
        if want_accuracy {
            score(model, b, &mut scores);
        }
        for (c, &row) in block.iter().enumerate() {
            if let Some((m, source)) = &memories {
                let mut at = 0;
                for &o in model.outputs() {
                    let n = model.layer_size(o);
                    output[at..at + n].copy_from_slice(&model.state(o, b)[c * n..(c + 1) * n]);
                    at += n;
                }
                let xi = m.pattern(source, row);
                let dot: f64 = output
                    .iter()
                    .zip(xi)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum();
                scores.overlap_sum += dot / m.n as f64;
                scores.overlap_samples += 1;
            }
            emit_activations(model, &records, b, c, row, &mut values, observer)?;
        }
    }
    Ok(Some(EvalReport {
        accuracy: if want_accuracy {
            scores.accuracy()
        } else {
            None
        },
        loss: if want_loss { scores.loss() } else { None },
        overlap: if want_overlap { scores.overlap() } else { None },
        mmd: None,
    }))
}

/// Where the stored pattern of each cue comes from.
enum PatternSource<'a> {
    /// The cue's own target row.
    Targets(&'a Table),
    /// Row `i mod n_rows` of the training dataset.
    Memories(&'a Table),
}

struct Patterns {
    n: usize,
}

impl Patterns {
    fn pattern<'a>(&self, source: &PatternSource<'a>, row: usize) -> &'a [f32] {
        match source {
            PatternSource::Targets(t) => t.target_row(row).unwrap_or(&[]),
            PatternSource::Memories(t) => t.input_row(row % t.n_rows),
        }
    }
}

fn memories<'a>(
    network: &Network,
    data: &'a Datasets,
    cues: &'a Table,
    name: &str,
) -> Result<(Patterns, PatternSource<'a>), SimError> {
    if cues.targets.is_some() {
        return Ok((Patterns { n: cues.n_targets }, PatternSource::Targets(cues)));
    }
    let train = network.train.as_ref().ok_or_else(|| {
        SimError::Data(format!(
            "overlap on '{name}' needs the stored patterns: give the cues targets or train \
             the network on the memories"
        ))
    })?;
    let memories = table(data, &train.data)?;
    Ok((
        Patterns {
            n: memories.n_inputs,
        },
        PatternSource::Memories(memories),
    ))
}

/// `record activation of ...`: (record index, [(layer, start, end)]).
/// Streams the `record activation` samples of sample `c` (dataset row `row`) of the last
/// batch of `b`.
pub(super) fn emit_activations(
    model: &Model,
    records: &[ActivationRecord],
    b: usize,
    c: usize,
    row: usize,
    values: &mut Vec<f32>,
    observer: &mut dyn Observer,
) -> Result<(), SimError> {
    for (record, targets) in records {
        values.clear();
        for &(l, start, end) in targets {
            let n = model.layer_size(l);
            let column = &model.state(l, b)[c * n..(c + 1) * n];
            values.extend_from_slice(&column[start.min(n)..end.min(n)]);
        }
        observer.sample(*record, row as f64, values)?;
    }
    Ok(())
}

pub(super) type ActivationRecord = (usize, Vec<(usize, usize, usize)>);

pub(super) fn activation_records(network: &Network) -> Vec<ActivationRecord> {
    network
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.what == Recordable::Activation)
        .map(|(i, r)| {
            let targets = r
                .targets
                .iter()
                .filter_map(|t| match t {
                    RecordTarget::Population { id, range } => {
                        let size = network.graph.population(*id).size();
                        let (start, end) = range.unwrap_or((0, size));
                        Some((id.0 as usize, start, end))
                    }
                    RecordTarget::Projection(_) => None,
                })
                .collect();
            (i, targets)
        })
        .collect()
}
