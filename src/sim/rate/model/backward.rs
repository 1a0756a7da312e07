//! The loss and the reverse-mode backward pass over the population graph (backpropagation
//! through time for recurrent networks).

use super::*;

impl Model {
    /// The columns that have targets: every step's, or the last step's.
    pub(super) fn scored_columns(&self, n: usize, b: usize) -> Range<usize> {
        let first = self.steps - self.target_steps;
        first * b * n..self.steps * b * n
    }

    /// Loss of the last forward pass against the presented targets, and the gradient of
    /// every trained parameter (averaged over the batch and the steps with targets, as the
    /// loss is).
    pub fn backward(&mut self, b: usize) -> f64 {
        for p in &mut self.params {
            p.grad.fill(0.0);
        }
        self.backward_adding(b)
    }

    /// [`Model::backward`] adding to the gradients already there (the discriminator of a
    /// GAN learns from a real and a fake batch).
    pub(in crate::sim::rate) fn backward_adding(&mut self, b: usize) -> f64 {
        let Some(loss) = self.loss else {
            return f64::NAN;
        };
        let all = self.steps * b;
        self.ready.iter_mut().for_each(|r| *r = false);
        for (l, layer) in self.layers.iter().enumerate() {
            if !layer.is_input {
                self.buffers.dy[l][..layer.size * all].fill(0.0);
            }
        }
        let mut total = 0.0;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            let scored = self.scored_columns(n, b);
            let Buffers {
                z, y, dy, dz, t, ..
            } = &mut self.buffers;
            let grad = match self.pairing[k] {
                GradientOf::Logits => {
                    self.ready[o] = true;
                    // Steps without targets get no gradient.
                    dz[o][..self.layers[o].input_width * all].fill(0.0);
                    &mut dz[o][scored.clone()]
                }
                GradientOf::Outputs => &mut dy[o][scored.clone()],
            };
            total += loss.evaluate(
                self.pairing[k],
                &z[o][scored.clone()],
                &y[o][scored.clone()],
                &t[k][..scored.len()],
                n,
                grad,
            );
        }
        for span in self.passes().rev() {
            for oi in (0..self.order.len()).rev() {
                let l = self.order[oi];
                if self.layers[l].is_input || self.clamped[l] {
                    continue;
                }
                self.backward_layer(l, &span, b);
            }
        }
        total
    }

    /// The backward pass through layer `l` for the steps `span`: its `dz` from `dy`, then
    /// the gradients of its bias and incoming weights and the `dy` of its sources.
    pub(super) fn backward_layer(&mut self, l: usize, span: &Range<usize>, b: usize) {
        let steps = self.unit_steps(span, b, &self.lengths);
        let layer = &self.layers[l];
        let (n, width) = (layer.size, layer.input_width);
        let n_cols = span.len() * b;
        let Model {
            buffers,
            params,
            unit_tensors,
            ..
        } = self;
        let Buffers {
            z,
            y,
            dy,
            dz,
            keep,
            pre_dropout,
            cache,
            ..
        } = buffers;
        let out = cols(span, n, b);
        if !self.ready[l] {
            if layer.dropout > 0.0 {
                for (d, &k) in dy[l][out.clone()].iter_mut().zip(&keep[l][out.clone()]) {
                    *d *= k;
                }
            }
            if let Some(unit) = &layer.unit {
                // A unit without tensors has no entry: its slice is empty.
                let first = self.unit_param[l].unwrap_or(0);
                let mut grads: Vec<&mut [f32]> = params[first..first + layer.tensors.len()]
                    .iter_mut()
                    .map(|p| p.grad.as_mut_slice())
                    .collect();
                let io = units::Backward {
                    y: &y[l],
                    cache: &mut cache[l],
                    dy: &mut dy[l],
                    dz: &mut dz[l],
                };
                unit.backward(&unit_tensors[l], &mut grads, io, &steps);
            } else {
                let activations = if layer.dropout > 0.0 {
                    &pre_dropout[l][out.clone()]
                } else {
                    &y[l][out.clone()]
                };
                let activation = layer.activation;
                let (z, dy, dz) = (&z[l][out.clone()], &dy[l][out.clone()], &mut dz[l][out]);
                match samples_per_task(self.par, n, n_cols) {
                    Some(per) => dz
                        .par_chunks_mut(n * per)
                        .zip(z.par_chunks(n * per))
                        .zip(activations.par_chunks(n * per))
                        .zip(dy.par_chunks(n * per))
                        .for_each(|(((dz, z), y), dy)| activation.backward(z, y, dy, dz, n)),
                    None => activation.backward(z, activations, dy, dz, n),
                }
            }
        }
        let dzl = &dz[l][cols(span, width, b)];
        if let Some(p) = self.bias_param[l] {
            let grad = &mut params[p].grad;
            let spatial = layer.bias_spatial;
            for col in dzl.chunks_exact(width) {
                if spatial == 1 {
                    grad.iter_mut().zip(col).for_each(|(g, &d)| *g += d);
                } else {
                    for (g, map) in grad.iter_mut().zip(col.chunks_exact(spatial)) {
                        *g += map.iter().sum::<f32>();
                    }
                }
            }
        }
        for &(li, _) in &layer.incoming {
            let link = &mut self.links[li];
            let src = link.source;
            let n_src = self.layers[src].size;
            let Some(read) = link.source_steps(span) else {
                continue;
            };
            let source_cols = cols(&read, n_src, b);
            let x = &y[src][source_cols.clone()];
            // A truncated recurrent projection passes no gradient back to the step before.
            let cut = link.delayed && !steps.carries_back(span.start);
            let propagate = !(self.layers[src].is_input || self.clamped[src] || cut);
            if let Some(spatial) = &mut link.spatial {
                let grad = self.weight_param[li].map(|p| params[p].grad.as_mut_slice());
                let dx = propagate.then(|| &mut dy[src][source_cols]);
                spatial.backward(self.weights[li].as_slice(), dzl, n_cols, grad, dx, self.par);
                continue;
            }
            if let Some(p) = self.weight_param[li] {
                let grad = &mut params[p].grad;
                if link.diagonal {
                    for (dc, xc) in dzl.chunks_exact(width).zip(x.chunks_exact(n_src)) {
                        for ((g, &d), &x) in grad.iter_mut().zip(dc).zip(xc) {
                            *g += d * x;
                        }
                    }
                } else {
                    product(
                        grad,
                        width,
                        n_src,
                        true,
                        View::new(dzl, width, n_cols),
                        View::new(x, n_src, n_cols).t(),
                        self.par,
                    );
                    if let Some(m) = &link.mask {
                        grad.iter_mut().zip(m).for_each(|(g, m)| *g *= m);
                    }
                }
            }
            if !propagate {
                continue;
            }
            let w = &self.weights[li];
            let dys = &mut dy[src][source_cols];
            if link.diagonal {
                let w = w.as_slice();
                for (dc, gc) in dzl.chunks_exact(width).zip(dys.chunks_exact_mut(n_src)) {
                    for ((g, &d), &w) in gc.iter_mut().zip(dc).zip(w) {
                        *g += w * d;
                    }
                }
            } else {
                product(
                    dys,
                    n_src,
                    n_cols,
                    true,
                    View::new(w.as_slice(), width, n_src).t(),
                    View::new(dzl, width, n_cols),
                    self.par,
                );
            }
        }
    }

    /// The loss of the last forward pass against the presented targets, without gradients
    /// (the training loss, or `mse` for a network trained without one).
    pub fn loss_only(&mut self, b: usize) -> f64 {
        let loss = self.loss.unwrap_or(Loss::Mse);
        let mut total = 0.0;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            let scored = self.scored_columns(n, b);
            let pairing = loss
                .pairing(self.layers[o].activation)
                .unwrap_or(GradientOf::Outputs);
            let Buffers { z, y, dz, t, .. } = &mut self.buffers;
            total += loss.evaluate(
                pairing,
                &z[o][scored.clone()],
                &y[o][scored.clone()],
                &t[k][..scored.len()],
                n,
                &mut dz[o][scored],
            );
        }
        total
    }
}
