//! `train adversarial`: a generative adversarial network (Goodfellow et al. 2014) in one
//! network. The generator is every population up to the `generator` population, fed
//! standard normal noise at its `input` populations; the discriminator is what follows, up
//! to its one output. Every batch does, as PyTorch's DCGAN example:
//!
//! 1. discriminator step: real rows shown in place of the generator's output with target 1,
//!    then a batch of generated samples with target 0; the two gradients add up and only
//!    the discriminator's parameters are updated;
//! 2. generator step: a fresh batch of noise with target 1 (the non-saturating loss),
//!    backpropagated through the discriminator; only the generator's parameters move.
//!
//! `generator_lr` and `discriminator_lr` give the parts their own learning rates (the two
//! time-scale update rule); a schedule scales both alike. With `discriminator_steps = k`
//! the generator step follows every k-th batch only (WGAN's n_critic).
//!
//! `evaluate` then generates one sample per row of its dataset, streams them to `record
//! activation of <generator>` and reports the squared maximum mean discrepancy between
//! generated and real rows (Gretton et al. 2012; Gaussian kernels at 1/16, 1/4 and 1 of
//! the median distance between real rows): 0 when the distributions match.

use std::time::Instant;

use super::evaluate::{activation_records, emit_activations};
use super::model::Model;
use super::schedule;
use super::table;
use super::train::TrainSummary;
use crate::data::Datasets;
use crate::ir::{Adversarial, Evaluate, Network, Train};
use crate::sim::{EpochStats, EvalReport, Observer, RunConfig, SimError, TrainReport};

/// Noise draws per batch: fake batch of the discriminator step, batch of the generator step.
const DRAWS_PER_BATCH: u64 = 2;

/// The generator population's layer, once the discriminator is checked to be the one
/// output, of one unit.
fn generator_layer(model: &Model, adversarial: &Adversarial) -> Result<usize, SimError> {
    let generator = adversarial.generator.0 as usize;
    let discriminator = adversarial.discriminator.0 as usize;
    if model.outputs() != [discriminator] {
        return Err(SimError::Unsupported(
            "train adversarial: the discriminator population must be the network's one \
             output (the one population that feeds no other)"
                .into(),
        ));
    }
    if model.layer_size(discriminator) != 1 {
        return Err(SimError::Unsupported(
            "train adversarial: the discriminator's output must be one unit (the \
             probability that its input is real)"
                .into(),
        ));
    }
    Ok(generator)
}

pub(super) fn train(
    model: &mut Model,
    network: &Network,
    train: &Train,
    adversarial: &Adversarial,
    data: &Datasets,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<TrainSummary, SimError> {
    let table = table(data, &train.data)?;
    let generator = generator_layer(model, adversarial)?;
    let is_generator = model.generator_params(generator);
    if !is_generator.iter().any(|&g| g) || is_generator.iter().all(|&g| g) {
        return Err(SimError::Unsupported(
            "train adversarial: the generator and the discriminator each need parameters \
             (projections into their populations)"
                .into(),
        ));
    }
    let is_discriminator: Vec<bool> = is_generator.iter().map(|g| !g).collect();
    let batch = train.batch.max(1).min(model.capacity());
    let n = table.n_rows;
    let base_lr = model.learning_rate();
    let mut report = TrainReport::default();
    let mut interrupted = false;
    let critic_steps = adversarial.discriminator_steps.max(1) as u64;
    // Each part's optimizer counts its own steps.
    let (mut step, mut generator_step, mut draw) = (0u64, 0u64, 0u64);
    for epoch in 1..=train.epochs {
        let started = Instant::now();
        // Each part's rate this epoch: its own (or the optimizer's), scaled by the schedule.
        let mut rates = None;
        if let Some(lr) = base_lr {
            model.set_learning_rate(lr);
            schedule::set_epoch_rate(model, &train.options, lr, epoch, train.epochs);
            let now = model.learning_rate().unwrap_or(lr);
            let part = |own: Option<f64>| own.map_or(now, |r| r as f32 * now / lr);
            rates = Some((
                part(adversarial.discriminator_lr),
                part(adversarial.generator_lr),
            ));
        }
        let order = Model::epoch_order(network.seed, epoch, n);
        let (mut d_sum, mut g_sum, mut g_rows) = (0.0f64, 0.0f64, 0usize);
        for rows in order.chunks(batch) {
            if config.interrupted() {
                interrupted = true;
                break;
            }
            let b = rows.len();
            step += 1;
            model.set_presented(&[generator]);
            model.present(table, rows, &[generator]);
            model.set_targets(1.0, b);
            model.forward_train(b);
            let real = model.backward(b);
            model.set_presented(&[]);
            model.present_noise(b, draw);
            model.set_targets(0.0, b);
            model.forward_train(b);
            let fake = model.backward_adding(b);
            schedule::before_update(model, &train.options);
            if let Some((d_rate, _)) = rates {
                model.set_learning_rate(d_rate);
            }
            model.update_selected(&is_discriminator, step);
            d_sum += (real + fake) * b as f64;

            if step.is_multiple_of(critic_steps) {
                generator_step += 1;
                model.present_noise(b, draw + 1);
                model.set_targets(1.0, b);
                model.forward_train(b);
                let fooled = model.backward(b);
                schedule::before_update(model, &train.options);
                if let Some((_, g_rate)) = rates {
                    model.set_learning_rate(g_rate);
                }
                model.update_selected(&is_generator, generator_step);
                g_sum += fooled * b as f64;
                g_rows += b;
            }
            draw += DRAWS_PER_BATCH;
        }
        if interrupted {
            break;
        }
        // An epoch may have no generator step (more discriminator steps than batches).
        let g_loss = (g_rows > 0).then(|| g_sum / g_rows as f64);
        let d_loss = d_sum / n as f64;
        if !d_loss.is_finite() || g_loss.is_some_and(|l| !l.is_finite()) {
            let g_loss = g_loss.unwrap_or(f64::NAN);
            return Err(SimError::Diverged(format!(
                "the losses became {d_loss} (discriminator) and {g_loss} (generator) in \
                 epoch {epoch}; lower the learning rate"
            )));
        }
        let seconds = started.elapsed().as_secs_f64();
        report.epochs = epoch;
        report.final_loss = d_loss;
        report.epoch_s.push(seconds);
        observer.epoch(&EpochStats {
            epoch,
            loss: d_loss,
            accuracy: None,
            val_loss: None,
            val_accuracy: None,
            generator_loss: g_loss,
            learning_rate: rates.map(|(d, _)| f64::from(d)),
            seconds,
        })?;
        observer.progress(
            epoch as f64 / train.epochs.max(1) as f64,
            &format!("epoch {epoch}/{}", train.epochs),
        );
    }
    Ok(TrainSummary {
        report,
        interrupted,
    })
}

/// Noise draws of `evaluate`, apart from those of training.
const EVALUATE_DRAWS: u64 = 1 << 40;

pub(super) fn evaluate(
    model: &mut Model,
    network: &Network,
    adversarial: &Adversarial,
    evaluate: &Evaluate,
    data: &Datasets,
    config: &RunConfig,
    observer: &mut dyn Observer,
) -> Result<Option<EvalReport>, SimError> {
    let table = table(data, &evaluate.data)?;
    let generator = generator_layer(model, adversarial)?;
    let width = model.layer_size(generator);
    let records = activation_records(network);
    let mut generated = Vec::with_capacity(table.n_rows * width);
    let mut values = Vec::new();
    model.set_presented(&[]);
    let rows: Vec<usize> = (0..table.n_rows).collect();
    for (k, block) in rows.chunks(model.capacity()).enumerate() {
        if config.interrupted() {
            return Ok(None);
        }
        let b = block.len();
        model.present_noise(b, EVALUATE_DRAWS + k as u64);
        model.forward(b);
        generated.extend_from_slice(model.state(generator, b));
        for (c, &row) in block.iter().enumerate() {
            emit_activations(model, &records, b, c, row, &mut values, observer)?;
        }
    }
    Ok(Some(EvalReport {
        mmd: Some(mmd(&table.inputs, &generated, width)),
        ..EvalReport::default()
    }))
}

/// Bandwidths of the MMD kernel, in units of the median distance between real points.
const BANDWIDTHS: [f64; 3] = [1.0 / 16.0, 0.25, 1.0];

/// Squared maximum mean discrepancy (biased estimate) between two sets of `width`-wide
/// points, with a mixture of Gaussian kernels whose bandwidths are fractions of the median
/// distance between points of `real` (1/16, 1/4, 1).
pub fn mmd(real: &[f32], generated: &[f32], width: usize) -> f64 {
    let points = |v: &[f32]| -> Vec<Vec<f64>> {
        v.chunks_exact(width)
            .map(|p| p.iter().map(|&x| f64::from(x)).collect())
            .collect()
    };
    let (x, y) = (points(real), points(generated));
    let d2 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum::<f64>();
    let mut distances: Vec<f64> = Vec::new();
    for (i, a) in x.iter().enumerate() {
        for b in &x[i + 1..] {
            distances.push(d2(a, b).sqrt());
        }
    }
    distances.sort_by(f64::total_cmp);
    let sigma = distances
        .get(distances.len() / 2)
        .copied()
        .filter(|&s| s > 0.0)
        .unwrap_or(1.0);
    // Several bandwidths, so that both the overall spread and the fine structure (a point
    // between two modes is not near either) count.
    let kernel = |a: &[f64], b: &[f64]| {
        let d = d2(a, b);
        BANDWIDTHS
            .iter()
            .map(|s| (-d / (2.0 * (s * sigma).powi(2))).exp())
            .sum::<f64>()
            / BANDWIDTHS.len() as f64
    };
    let mean = |p: &[Vec<f64>], q: &[Vec<f64>]| {
        let mut sum = 0.0;
        for a in p {
            for b in q {
                sum += kernel(a, b);
            }
        }
        sum / (p.len() * q.len()).max(1) as f64
    };
    mean(&x, &x) + mean(&y, &y) - 2.0 * mean(&x, &y)
}
