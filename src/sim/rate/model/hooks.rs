//! The narrow view of a [`Model`] that the training conveniences (`../schedule.rs`) work
//! through: the optimizer's learning rate, the trained tensors with their gradients, and a
//! copy of every parameter for early stopping. Kept in its own file so that the
//! conveniences touch `model.rs` by one `mod` line.

use super::{Model, ParamOf};

/// One gradient-trained tensor between `backward` and `update`.
pub(in crate::sim::rate) struct Trained<'a> {
    /// A projection's weights (penalised by `l1`/`l2`), not a bias.
    pub is_weight: bool,
    pub values: &'a [f32],
    pub grad: &'a mut [f32],
}

/// Every weight matrix and bias as it was at one moment.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::sim::rate) struct Snapshot {
    weights: Vec<Vec<f32>>,
    biases: Vec<Vec<f32>>,
    units: Vec<Vec<Vec<f32>>>,
    /// What each projection's local rule carries (BCM's thresholds), one list per projection.
    rule_states: Vec<Vec<f32>>,
}

impl Model {
    /// The optimizer's current learning rate, if the model trains by gradient descent.
    pub(in crate::sim::rate) fn learning_rate(&self) -> Option<f32> {
        self.optimizer.as_ref().map(|o| o.lr)
    }

    /// Sets the learning rate of the following updates.
    pub(in crate::sim::rate) fn set_learning_rate(&mut self, lr: f32) {
        if let Some(o) = self.optimizer.as_mut() {
            o.lr = lr;
        }
    }

    /// The gradient-trained tensors in a fixed order (the order of `params`: weights in
    /// projection order, then biases in population order), with the gradients of the last
    /// `backward`.
    pub(in crate::sim::rate) fn trained(&mut self) -> Vec<Trained<'_>> {
        let Model {
            params,
            weights,
            biases,
            unit_tensors,
            layers,
            ..
        } = self;
        params
            .iter_mut()
            .map(|p| match p.target {
                ParamOf::Weight(i) => Trained {
                    is_weight: true,
                    values: weights[i].as_slice(),
                    grad: &mut p.grad,
                },
                ParamOf::Bias(i) => Trained {
                    is_weight: false,
                    values: &biases[i],
                    grad: &mut p.grad,
                },
                ParamOf::Unit(l, k) => Trained {
                    is_weight: unit_weight(layers, l, k),
                    values: &unit_tensors[l][k],
                    grad: &mut p.grad,
                },
            })
            .collect()
    }

    /// The weights of every gradient-trained projection and unit, in the order of
    /// [`Model::trained`].
    pub(in crate::sim::rate) fn trained_weights(&self) -> impl Iterator<Item = &[f32]> {
        self.params.iter().filter_map(|p| match p.target {
            ParamOf::Weight(i) => Some(self.weights[i].as_slice()),
            ParamOf::Bias(_) => None,
            ParamOf::Unit(l, k) => {
                unit_weight(&self.layers, l, k).then(|| self.unit_tensors[l][k].as_slice())
            }
        })
    }

    /// A copy of every weight and bias (trained by gradients, local rules, or not at all).
    pub(in crate::sim::rate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            weights: self.weights.iter().map(|w| w.as_slice().to_vec()).collect(),
            biases: self.biases.clone(),
            units: self.unit_tensors.clone(),
            rule_states: self
                .links
                .iter()
                .map(|l| l.rule.as_ref().map_or(Vec::new(), |r| r.state().to_vec()))
                .collect(),
        }
    }

    /// Puts back the parameters of a [`Model::snapshot`] of this model.
    pub(in crate::sim::rate) fn restore(&mut self, snapshot: &Snapshot) {
        for (w, saved) in self.weights.iter_mut().zip(&snapshot.weights) {
            w.as_mut_slice().copy_from_slice(saved);
        }
        for (b, saved) in self.biases.iter_mut().zip(&snapshot.biases) {
            b.copy_from_slice(saved);
        }
        self.unit_tensors.clone_from(&snapshot.units);
        for (l, saved) in self.links.iter_mut().zip(&snapshot.rule_states) {
            if let Some(rule) = l.rule.as_mut() {
                rule.state_mut().copy_from_slice(saved);
            }
        }
    }
}

/// True if tensor `k` of layer `l`'s unit is a weight matrix.
fn unit_weight(layers: &[super::Layer], l: usize, k: usize) -> bool {
    layers[l].tensors.get(k).is_some_and(|t| t.weight)
}
