//! Runs a spiking network into an in-memory recorder on a pool of `threads` threads, one
//! worker per thread however small the network (to exercise the exchange between them),
//! and compares what two runs recorded.

use neurosim::ir::Network;
use neurosim::record::memory::MemoryRecorder;
use neurosim::sim::{RunConfig, spiking};

pub fn run_on(network: &Network, threads: usize) -> MemoryRecorder {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let mut recorder = MemoryRecorder::new(network).expect("recorder");
    pool.install(|| {
        let partitioning = spiking::Partitioning {
            min_neurons_per_worker: 1,
        };
        spiking::run_partitioned(
            network,
            &RunConfig::new(threads),
            &mut recorder,
            partitioning,
        )
    })
    .expect("run succeeds");
    recorder
}

/// The first recorded column whose samples are not the same bits in `a` and `b`.
pub fn differing_samples(a: &MemoryRecorder, b: &MemoryRecorder) -> Option<String> {
    a.samples
        .iter()
        .find(|(group, series)| {
            let other = b.samples.get(*group).map_or(&[][..], |s| &s.values[..]);
            other.len() != series.values.len()
                || series
                    .values
                    .iter()
                    .zip(other)
                    .any(|(x, y)| x.to_bits() != y.to_bits())
        })
        .map(|(group, _)| group.clone())
}
