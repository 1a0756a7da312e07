//! The forward pass: presenting data, computing each population's input and activation
//! (all steps at once, or step by step for recurrent networks), and relaxation dynamics.

use super::*;

impl Model {
    /// Sets the data-presented layers (population indices) for the next batches.
    pub fn set_presented(&mut self, layers: &[usize]) {
        self.clamped.iter_mut().for_each(|c| *c = false);
        for &l in layers {
            self.clamped[l] = true;
        }
    }

    /// Copies rows of `table` into the presented layers (inputs) and the output targets.
    /// A sequence row fills one column per step (`t·b + s`); its targets are one block per
    /// step, or a single block for the last step.
    pub fn present(&mut self, table: &Table, rows: &[usize], presented: &[usize]) {
        // Copies split over the pool only when they are large enough to pay for it.
        let parallel = self.par == Threads::Pool && rows.len() * table.n_inputs >= 1 << 16;
        let b = rows.len();
        let steps = table.steps().min(self.max_steps);
        let output_width: usize = self.outputs.iter().map(|&o| self.layers[o].size).sum();
        self.steps = steps;
        self.target_steps = if steps > 1 && table.n_targets == output_width * steps {
            steps
        } else {
            1
        };
        let per_step = table.step_inputs();
        let mut offset = 0;
        for &l in presented {
            let n = self.layers[l].size;
            for t in 0..steps {
                let at = t * per_step + offset;
                let copy = |(column, &r): (&mut [f32], &usize)| {
                    column.copy_from_slice(&table.input_row(r)[at..at + n]);
                };
                let y = &mut self.buffers.y[l][t * b * n..(t + 1) * b * n];
                if parallel {
                    y.par_chunks_mut(n).zip(rows.par_iter()).for_each(copy);
                } else {
                    y.chunks_mut(n).zip(rows).for_each(copy);
                }
            }
            offset += n;
        }
        self.lengths.clear();
        if let Some(lengths) = &table.lengths {
            let full = steps as u32;
            self.lengths
                .extend(rows.iter().map(|&r| lengths[r].clamp(1, full)));
        }
        let Some(targets) = &table.targets else {
            return;
        };
        let width = table.n_targets;
        let per_step = width / self.target_steps;
        let mut offset = 0;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            if offset + n > per_step {
                break;
            }
            for t in 0..self.target_steps {
                let block = &mut self.buffers.t[k][t * b * n..(t + 1) * b * n];
                for (column, &r) in block.chunks_mut(n).zip(rows) {
                    let at = r * width + t * per_step + offset;
                    column.copy_from_slice(&targets[at..at + n]);
                }
            }
            offset += n;
        }
        if !self.lengths.is_empty() && steps > 1 {
            self.target_padded_steps(b);
        }
    }

    /// Padded sequences: the steps after a sample's own length have no target (NaN), and a
    /// sequence-to-one target moves from the last step to the sample's own last step.
    pub(super) fn target_padded_steps(&mut self, b: usize) {
        let steps = self.steps;
        let to_one = self.target_steps == 1;
        for (k, &o) in self.outputs.iter().enumerate() {
            let n = self.layers[o].size;
            let t = &mut self.buffers.t[k];
            for (s, &length) in self.lengths.iter().enumerate() {
                let last = length as usize - 1;
                if to_one && last > 0 {
                    let at = (last * b + s) * n;
                    t.copy_within(s * n..(s + 1) * n, at);
                }
                for step in 0..steps {
                    let padded = step > last || (to_one && step < last);
                    if padded {
                        let at = (step * b + s) * n;
                        t[at..at + n].fill(f32::NAN);
                    }
                }
            }
        }
        self.target_steps = steps;
    }

    /// The calls of one pass: every step at once, or (with recurrent projections) one
    /// step at a time.
    pub(super) fn passes(&self) -> impl DoubleEndedIterator<Item = Range<usize>> + use<> {
        let (calls, width) = if self.step_major {
            (self.steps, 1)
        } else {
            (1, self.steps)
        };
        (0..calls).map(move |c| c * width..(c + 1) * width)
    }

    /// Forward pass over the feed-forward (and recurrent) projections for `b` samples;
    /// clamped layers keep their presented values.
    pub fn forward(&mut self, b: usize) {
        self.run_forward(b, false);
    }

    /// [`Model::forward`] in training mode: dropout layers drop units, with a mask drawn
    /// from (seed, update step, layer, first step of the call).
    pub fn forward_train(&mut self, b: usize) {
        self.run_forward(b, true);
    }

    pub(super) fn run_forward(&mut self, b: usize, train: bool) {
        for span in self.passes() {
            for oi in 0..self.order.len() {
                let l = self.order[oi];
                if self.clamped[l] || self.layers[l].is_input {
                    continue;
                }
                self.compute_z(l, &span, b, false);
                self.activate(l, &span, b);
                if train && self.layers[l].dropout > 0.0 {
                    self.drop_units(l, &span, b);
                }
            }
        }
    }

    pub(super) fn drop_units(&mut self, l: usize, span: &Range<usize>, b: usize) {
        let p = self.layers[l].dropout;
        let n = self.layers[l].size;
        let stream_id =
            stream::DROPOUT + (self.step << 16) + l as u64 + ((span.start as u64) << 48);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, stream_id));
        let scale = 1.0 / (1.0 - p);
        let Buffers {
            y,
            keep,
            pre_dropout,
            ..
        } = &mut self.buffers;
        let range = cols(span, n, b);
        pre_dropout[l][range.clone()].copy_from_slice(&y[l][range.clone()]);
        for (k, y) in keep[l][range.clone()].iter_mut().zip(&mut y[l][range]) {
            *k = if rng.random::<f32>() < p { 0.0 } else { scale };
            *y *= *k;
        }
    }

    /// What a unit call covers.
    pub(super) fn unit_steps<'a>(
        &self,
        span: &Range<usize>,
        b: usize,
        lengths: &'a [u32],
    ) -> units::Steps<'a> {
        units::Steps {
            range: span.clone(),
            b,
            total: self.steps,
            truncate: self.truncate,
            par: self.par,
            lengths,
        }
    }

    /// `z[l] = Σ_incoming W y[source] + b` for the steps `span` of `b` samples; a recurrent
    /// projection reads the source at the step before (nothing before the first step).
    /// With `dynamics`, every projection into the layer counts (recurrent and undirected
    /// ones too), all reading the current state.
    pub(super) fn compute_z(&mut self, l: usize, span: &Range<usize>, b: usize, dynamics: bool) {
        let n = self.layers[l].input_width;
        let n_cols = span.len() * b;
        let Buffers { z, y, .. } = &mut self.buffers;
        let z = &mut z[l][cols(span, n, b)];
        let mut first = true;
        let layer = &self.layers[l];
        let par = self.par;
        let sources = if dynamics {
            &layer.dynamics_in
        } else {
            &layer.incoming
        };
        for &(link_index, transposed) in sources {
            let link = &mut self.links[link_index];
            let w = &self.weights[link_index];
            let src = if transposed { link.target } else { link.source };
            let n_src = self.layers[src].size;
            let read = if dynamics {
                Some(span.clone())
            } else {
                link.source_steps(span)
            };
            let Some(read) = read else { continue };
            let x = &y[src][cols(&read, n_src, b)];
            if let Some(spatial) = &mut link.spatial {
                spatial.forward(w.as_slice(), x, z, n_cols, !first, par);
            } else if link.diagonal {
                let w = w.as_slice();
                for (zc, xc) in z.chunks_exact_mut(n).zip(x.chunks_exact(n_src)) {
                    for ((z, &x), &w) in zc.iter_mut().zip(xc).zip(w) {
                        *z = if first { w * x } else { *z + w * x };
                    }
                }
            } else {
                let wv = View::new(w.as_slice(), link.n_post, link.n_pre);
                let wv = if transposed { wv.t() } else { wv };
                product(
                    z,
                    n,
                    n_cols,
                    !first,
                    wv,
                    View::new(x, n_src, n_cols),
                    self.par,
                );
            }
            first = false;
        }
        if first {
            z.fill(0.0);
        }
        let bias = &self.biases[l];
        let spatial = layer.bias_spatial;
        if !bias.is_empty() {
            for zc in z.chunks_exact_mut(n) {
                if spatial == 1 {
                    zc.iter_mut().zip(bias).for_each(|(z, &b)| *z += b);
                } else {
                    for (map, &b) in zc.chunks_exact_mut(spatial).zip(bias) {
                        map.iter_mut().for_each(|z| *z += b);
                    }
                }
            }
        }
    }

    pub(super) fn activate(&mut self, l: usize, span: &Range<usize>, b: usize) {
        let steps = self.unit_steps(span, b, &self.lengths);
        let Buffers { z, y, cache, .. } = &mut self.buffers;
        let layer = &self.layers[l];
        if let Some(unit) = &layer.unit {
            let io = units::Forward {
                z: &z[l],
                y: &mut y[l],
                cache: &mut cache[l],
            };
            unit.forward(&self.unit_tensors[l], io, &steps);
            return;
        }
        let n = layer.size;
        let activation = layer.activation;
        let range = cols(span, n, b);
        let (z, y) = (&z[l][range.clone()], &mut y[l][range]);
        match samples_per_task(self.par, n, span.len() * b) {
            Some(per) => z
                .par_chunks(n * per)
                .zip(y.par_chunks_mut(n * per))
                .for_each(|(z, y)| activation.forward(z, y, n)),
            None => activation.forward(z, y, n),
        }
    }

    /// Iterates the network's dynamics `steps` times from the presented state: every
    /// non-input layer is updated synchronously from the previous state through every
    /// projection (undirected ones in both directions). Asks `interrupted` before every
    /// step and returns `false` as soon as it says yes (recall may take many steps).
    pub fn relax(&mut self, b: usize, steps: usize, interrupted: &dyn Fn() -> bool) -> bool {
        let updated: Vec<usize> = (0..self.layers.len())
            .filter(|&l| !self.layers[l].is_input)
            .collect();
        for _ in 0..steps {
            if interrupted() {
                return false;
            }
            for &l in &updated {
                self.compute_z(l, &(0..1), b, true);
            }
            for &l in &updated {
                self.activate(l, &(0..1), b);
            }
        }
        true
    }
}
