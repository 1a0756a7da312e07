//! What `train adversarial` needs of a [`Model`] beyond one training step (and the
//! optimizer step itself, which `Model::update` applies to every part): the split of the
//! parameters into generator and discriminator, noise at the generator's inputs, constant
//! targets (real = 1, fake = 0), gradients summed over two passes, and an update of one
//! part only. Kept in its own file so the GAN protocol touches `model.rs` by one `mod` line.

use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::update::apply;
use super::{Model, ParamOf, stream};
use crate::data::mix;

impl Model {
    /// For every trained parameter (in `params` order), true if it belongs to the generator:
    /// it feeds `generator` or a population the generator's output depends on.
    pub(in crate::sim::rate) fn generator_params(&self, generator: usize) -> Vec<bool> {
        let mut upstream = vec![false; self.layers.len()];
        let mut stack = vec![generator];
        while let Some(l) = stack.pop() {
            if std::mem::replace(&mut upstream[l], true) {
                continue;
            }
            stack.extend(
                self.layers[l]
                    .incoming
                    .iter()
                    .map(|&(i, _)| self.links[i].source),
            );
        }
        self.params
            .iter()
            .map(|p| match p.target {
                ParamOf::Weight(i) => upstream[self.links[i].target],
                ParamOf::Bias(l) | ParamOf::Unit(l, _) => upstream[l],
            })
            .collect()
    }

    /// Fills every `input` population with standard normal noise for `b` samples, drawn
    /// from (seed, `draw`).
    pub(in crate::sim::rate) fn present_noise(&mut self, b: usize, draw: u64) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, stream::NOISE + draw));
        self.steps = 1;
        self.target_steps = 1;
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.is_input {
                for x in &mut self.buffers.y[l][..layer.size * b] {
                    *x = StandardNormal.sample(&mut rng);
                }
            }
        }
    }

    /// Sets every output target of `b` samples to `value`.
    pub(in crate::sim::rate) fn set_targets(&mut self, value: f32, b: usize) {
        for (k, &o) in self.outputs.iter().enumerate() {
            self.buffers.t[k][..self.layers[o].size * b].fill(value);
        }
    }

    /// One optimizer step (number `step`: a GAN counts per part) on the parameters marked
    /// in `selected`.
    pub(in crate::sim::rate) fn update_selected(&mut self, selected: &[bool], step: u64) {
        self.update_where(&|i| selected[i], step);
    }

    /// One optimizer step (number `step`) on the parameters whose index passes `keep`.
    pub(in crate::sim::rate) fn update_where(&mut self, keep: &dyn Fn(usize) -> bool, step: u64) {
        if self.optimizer.is_none() {
            return;
        }
        self.step = step;
        let parallel = self.threads > 1;
        let Model {
            params,
            weights,
            biases,
            unit_tensors,
            optimizer: Some(optimizer),
            ..
        } = self
        else {
            return;
        };
        for (_, p) in params.iter_mut().enumerate().filter(|(i, _)| keep(*i)) {
            let values: &mut [f32] = match p.target {
                ParamOf::Weight(i) => weights[i].as_mut_slice(),
                ParamOf::Bias(i) => &mut biases[i],
                ParamOf::Unit(l, k) => &mut unit_tensors[l][k],
            };
            apply(optimizer, step, values, p, parallel);
        }
    }
}
