//! Criterion benchmark of the spiking step loop: CUBA (4,000 lif neurons, 320k synapses)
//! for 100 ms of biological time, instantiation excluded, on 1 and 2 threads.

#[path = "../tests/support/networks.rs"]
mod networks;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use neurosim::sim::spiking::{self, Partitioning};
use neurosim::sim::{NullObserver, RunConfig};

fn cuba_step_loop(c: &mut Criterion) {
    let net = networks::cuba(4000, 2007, 100.0);
    let mut group = c.benchmark_group("cuba_4000_100ms");
    group.sample_size(20);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        let config = RunConfig::new(threads);
        // Force one worker per thread, to measure the parallel loop itself.
        let partitioning = Partitioning {
            min_neurons_per_worker: 1,
        };
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter_batched(
                || spiking::prepare(&net, &config, partitioning).expect("builds"),
                |prepared| {
                    pool.install(|| prepared.run(&config, &mut NullObserver))
                        .expect("runs")
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, cuba_step_loop);
criterion_main!(benches);
