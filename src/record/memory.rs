//! An observer that keeps everything in memory: for tests, for snapshot summaries, and for
//! embedding neurosim in a program that wants the results as plain vectors. It follows the
//! same [`Layout`] as the HDF5 output, so what a test sees here is what the file would hold.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Arrays, Layout, RecordError, split_sample};
use crate::ir::{self, PopulationId};
use crate::sim::{EpochStats, ObserveError, Observer};

/// Spikes of one population in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpikeTrain {
    pub times_ms: Vec<f64>,
    pub neurons: Vec<u64>,
}

/// The samples of one record column: one time and `n_columns` values per sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SampleSeries {
    /// The column's place in the HDF5 layout (`report/E/v`).
    pub group: String,
    pub n_columns: usize,
    pub times: Vec<f64>,
    /// Row-major: sample `i` is `values[i * n_columns..(i + 1) * n_columns]`.
    pub values: Vec<f32>,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryRecorder {
    layout: Layout,
    /// Keep the spikes of every population, not only those named in `record spikes`.
    all_spikes: bool,
    names: BTreeMap<PopulationId, String>,
    /// Spikes by population name.
    pub spikes: BTreeMap<String, SpikeTrain>,
    /// Samples by group path (`report/E/v`, `activations/y`, `weights_over_time/x->h`).
    pub samples: BTreeMap<String, SampleSeries>,
    pub epochs: Vec<EpochStats>,
    /// Arrays by path without a leading slash: (shape, row-major values).
    pub arrays: Arrays,
    /// The last progress report.
    pub progress: Option<(f64, String)>,
}

impl MemoryRecorder {
    /// Keeps what the network's `record` statements ask for, as the HDF5 output would.
    pub fn new(network: &ir::Network) -> Result<MemoryRecorder, RecordError> {
        let layout = Layout::of(network)?;
        let names = network
            .graph
            .populations()
            .map(|(id, p)| (id, p.name.clone()))
            .collect();
        let mut recorder = MemoryRecorder {
            layout,
            names,
            ..MemoryRecorder::default()
        };
        for selection in recorder.layout.spikes.values() {
            recorder
                .spikes
                .insert(selection.population.clone(), SpikeTrain::default());
        }
        for sample in recorder.layout.samples.values() {
            for column in &sample.columns {
                recorder.samples.insert(
                    column.group.clone(),
                    SampleSeries {
                        group: column.group.clone(),
                        n_columns: column.width().unwrap_or(0),
                        ..SampleSeries::default()
                    },
                );
            }
        }
        Ok(recorder)
    }

    /// Like [`new`](Self::new), and also keeps the spikes of every population.
    pub fn with_all_spikes(network: &ir::Network) -> Result<MemoryRecorder, RecordError> {
        let mut recorder = MemoryRecorder::new(network)?;
        recorder.all_spikes = true;
        for name in recorder.names.values() {
            recorder.spikes.entry(name.clone()).or_default();
        }
        Ok(recorder)
    }

    /// Deterministic counts for snapshot tests (no wall times).
    pub fn summary(&self) -> MemorySummary {
        MemorySummary {
            spikes: self
                .spikes
                .iter()
                .map(|(name, train)| (name.clone(), train.times_ms.len()))
                .collect(),
            samples: self
                .samples
                .iter()
                .map(|(group, series)| (group.clone(), series.times.len()))
                .collect(),
            epochs: self.epochs.len(),
            final_loss: self.epochs.last().map(|e| e.loss),
            arrays: self
                .arrays
                .iter()
                .map(|(path, (shape, _))| (path.clone(), shape.clone()))
                .collect(),
        }
    }
}

/// What a [`MemoryRecorder`] holds, reduced to counts and shapes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemorySummary {
    /// Spike count per population.
    pub spikes: BTreeMap<String, usize>,
    /// Number of samples per record column.
    pub samples: BTreeMap<String, usize>,
    pub epochs: usize,
    pub final_loss: Option<f64>,
    pub arrays: BTreeMap<String, Vec<usize>>,
}

impl Observer for MemoryRecorder {
    fn spikes(
        &mut self,
        population: PopulationId,
        time_ms: f64,
        neurons: &[u32],
    ) -> Result<(), ObserveError> {
        let selection = self.layout.spikes.get(&population);
        if selection.is_none() && !self.all_spikes {
            return Ok(());
        }
        let Some(name) = self.names.get(&population) else {
            return Err(ObserveError(format!(
                "spikes of unknown population #{}",
                population.0
            )));
        };
        let train = self.spikes.entry(name.clone()).or_default();
        // With `all_spikes`, a population's slice and window do not filter.
        let in_window = self.all_spikes || selection.is_some_and(|s| s.keeps_time(time_ms));
        for &n in neurons {
            if self.all_spikes || (in_window && selection.is_some_and(|s| s.keeps(n))) {
                train.times_ms.push(time_ms);
                train.neurons.push(u64::from(n));
            }
        }
        Ok(())
    }

    fn sample(&mut self, record: usize, time_ms: f64, values: &[f32]) -> Result<(), ObserveError> {
        let Some(layout) = self.layout.samples.get(&record) else {
            return Ok(());
        };
        if !layout.keeps_time(time_ms) {
            return Ok(());
        }
        let parts = split_sample(layout, values).map_err(ObserveError)?;
        for (column, part) in layout.columns.iter().zip(parts) {
            let series = self.samples.entry(column.group.clone()).or_default();
            if series.times.is_empty() && series.n_columns == 0 {
                series.n_columns = part.len();
            }
            if series.n_columns != part.len() {
                return Err(ObserveError(format!(
                    "'{}' takes {} values per sample, got {}",
                    column.group,
                    series.n_columns,
                    part.len()
                )));
            }
            series.times.push(time_ms);
            series.values.extend_from_slice(part);
        }
        Ok(())
    }

    fn epoch(&mut self, stats: &EpochStats) -> Result<(), ObserveError> {
        self.epochs.push(stats.clone());
        Ok(())
    }

    fn array(&mut self, path: &str, shape: &[usize], data: &[f32]) -> Result<(), ObserveError> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(ObserveError(format!(
                "'{path}' has shape {shape:?} but {} values were given",
                data.len()
            )));
        }
        self.arrays.insert(
            path.trim_start_matches('/').to_string(),
            (shape.to_vec(), data.to_vec()),
        );
        Ok(())
    }

    fn progress(&mut self, fraction: f64, what: &str) {
        self.progress = Some((fraction, what.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::ir::{Network, Population, Record, RecordTarget, Recordable, Window};
    use crate::models::Mode;

    #[test]
    fn spikes_and_samples_outside_their_window_are_dropped() {
        let mut net = Network::new("n", Mode::Spiking);
        let e = net.graph.add_population(Population {
            name: "E".into(),
            model: crate::models::neuron::find("lif").expect("lif is registered"),
            shape: vec![2],
            params: Default::default(),
            init: Default::default(),
            span: Span::default(),
        });
        let whole = RecordTarget::Population { id: e, range: None };
        let windowed = |what, start_ms, stop_ms| Record {
            what,
            targets: vec![whole.clone()],
            every: None,
            window: Some(Window { start_ms, stop_ms }),
            span: Span::default(),
        };
        net.records = vec![
            windowed(Recordable::Spikes, 10.0, None),
            windowed(Recordable::State("v".into()), 1.0, Some(2.0)),
        ];
        let mut recorder = MemoryRecorder::new(&net).unwrap();
        for step in 0..30 {
            let t = f64::from(step + 1) * 0.5;
            recorder.spikes(e, t, &[0, 1]).unwrap();
            recorder.sample(1, t, &[-65.0, -64.0]).unwrap();
        }
        let spikes = &recorder.spikes["E"];
        assert!(spikes.times_ms.iter().all(|&t| t >= 10.0), "{spikes:?}");
        // Stamps 10.0, 10.5, ..., 15.0: 11 steps of two spikes.
        assert_eq!(spikes.times_ms.len(), 22);
        assert_eq!(recorder.samples["report/E/v"].times, vec![1.0, 1.5]);
    }
}
