//! The training loop: epochs of shuffled mini-batches (forward, loss, backward, penalties and
//! clipping, update, local rules), per-epoch statistics to the observer, validation, early
//! stopping, `record weight` samples.

use std::time::Instant;

use super::evaluate::{Scores, score};
use super::model::Model;
use super::schedule::{self, EarlyStopper};
use super::{presented, table, targets_fit};
use crate::data::Datasets;
use crate::ir::{Interval, Network, RecordTarget, Recordable, Train};
use crate::sim::{EpochStats, Observer, RunConfig, SimError, TrainReport};

pub(super) struct TrainSummary {
    pub report: TrainReport,
    pub interrupted: bool,
}

pub(super) fn train(
    model: &mut Model,
    network: &Network,
    train: &Train,
    data: &Datasets,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<TrainSummary, SimError> {
    let table = table(data, &train.data)?;
    let layers = presented(network, &train.data, table)?;
    if model.has_loss() && table.targets.is_none() {
        return Err(SimError::Data(format!(
            "dataset '{}' has no targets, but training with a loss needs them",
            train.data
        )));
    }
    let output_width: usize = model.output_sizes().iter().sum();
    if model.has_loss() && !targets_fit(model, table) {
        return Err(SimError::Data(format!(
            "dataset '{}' has {} targets per row, but the outputs have {output_width} units",
            train.data, table.n_targets
        )));
    }
    if !model.has_loss() && !model.has_local_rules() {
        return Err(SimError::Unsupported(
            "nothing to train: give the train block a loss, or a projection a local rule".into(),
        ));
    }
    let validation = match &train.validate {
        Some(name) => Some((table_with_targets(data, name)?, name.as_str())),
        None => None,
    };
    let batch = train.batch.max(1).min(model.capacity());
    let shuffle = train.shuffle;
    let weight_records = weight_records(network, model);
    let n = table.n_rows;
    let mut report = TrainReport::default();
    let mut interrupted = false;
    let in_order: Vec<usize> = (0..n).collect();
    let options = &train.options;
    let base_lr = model.learning_rate();
    let mut stopper = options.early_stopping.map(EarlyStopper::new);
    if stopper.is_some() && validation.is_none() {
        return Err(SimError::Unsupported(
            "early stopping needs a validation dataset (`validate = ...`)".into(),
        ));
    }

    for epoch in 1..=train.epochs {
        let started = Instant::now();
        if let Some(lr) = base_lr {
            schedule::set_epoch_rate(model, options, lr, epoch, train.epochs);
        }
        let order = if shuffle {
            Model::epoch_order(network.seed, epoch, n)
        } else {
            in_order.clone()
        };
        model.set_presented(&layers);
        let (mut loss_sum, mut scores) = (0.0f64, Scores::default());
        for rows in order.chunks(batch) {
            if config.interrupted() {
                interrupted = true;
                break;
            }
            let b = rows.len();
            model.present(table, rows, &layers);
            model.forward_train(b);
            if model.has_loss() {
                let data_loss = model.backward(b);
                let penalty = schedule::before_update(model, options);
                loss_sum += (data_loss + penalty) * b as f64;
                score(model, b, &mut scores);
                model.update();
            }
            if model.has_local_rules() {
                model.local_update(b);
            }
        }
        if interrupted {
            break;
        }
        let loss = if model.has_loss() {
            loss_sum / n as f64
        } else {
            f64::NAN
        };
        if model.has_loss() && !loss.is_finite() {
            return Err(SimError::Diverged(format!(
                "the loss became {loss} in epoch {epoch}; lower the learning rate"
            )));
        }
        let (val_loss, val_accuracy) = match &validation {
            Some((val, name)) => {
                let s = super::evaluate::measure(model, network, val, name)?;
                let penalty = schedule::current_penalty(model, options);
                (s.loss().map(|l| l + penalty), s.accuracy())
            }
            None => (None, None),
        };
        let learning_rate = model.learning_rate().map(f64::from);
        let seconds = started.elapsed().as_secs_f64();
        report.epochs = epoch;
        report.final_loss = loss;
        report.epoch_s.push(seconds);
        observer.epoch(&EpochStats {
            epoch,
            loss,
            accuracy: scores.accuracy(),
            val_loss,
            val_accuracy,
            generator_loss: None,
            learning_rate,
            seconds,
        })?;
        for (record, links, every) in &weight_records {
            if epoch.is_multiple_of(*every) {
                let values: Vec<f32> = links
                    .iter()
                    .flat_map(|&l| model.weight_row_major(l))
                    .collect();
                observer.sample(*record, epoch as f64, &values)?;
            }
        }
        observer.progress(
            epoch as f64 / train.epochs.max(1) as f64,
            &format!("epoch {epoch}/{}", train.epochs),
        );
        if let Some(stopper) = stopper.as_mut()
            && stopper.should_stop(model, epoch, val_loss.unwrap_or(f64::NAN))
        {
            break;
        }
    }
    if let Some(stopper) = stopper
        && !interrupted
    {
        report.early_stopping = Some(stopper.finish(model, report.epochs, train.epochs));
    }
    Ok(TrainSummary {
        report,
        interrupted,
    })
}

fn table_with_targets<'a>(
    data: &'a Datasets,
    name: &str,
) -> Result<&'a crate::data::Table, SimError> {
    let t = table(data, name)?;
    if t.targets.is_none() {
        return Err(SimError::Data(format!(
            "validation dataset '{name}' has no targets"
        )));
    }
    Ok(t)
}

/// `record weight of P, Q` records: (record index, link indices, every so many epochs).
/// A sample holds the row-major weights of every listed projection, one after the other.
fn weight_records(network: &Network, model: &Model) -> Vec<(usize, Vec<usize>, usize)> {
    let mut out = Vec::new();
    for (i, record) in network.records.iter().enumerate() {
        if record.what != Recordable::Weight {
            continue;
        }
        let every = match record.every {
            Some(Interval::Epochs(e)) => e.max(1),
            _ => 1,
        };
        let links = record
            .targets
            .iter()
            .filter_map(|target| match target {
                RecordTarget::Projection(id) => {
                    model.link_index(&network.graph.projection(*id).name)
                }
                RecordTarget::Population { .. } => None,
            })
            .collect();
        out.push((i, links, every));
    }
    out
}
