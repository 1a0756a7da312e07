//! Builds the CUBA benchmark network from Rust (no `.net` file) and times the spiking engine.
//!
//! `cargo run --release --example cuba_bench -- [N] [THREADS] [DURATION_MS] [SEED]`
//! (defaults: 4000 neurons, 1 thread, 1000 ms, seed 2007). Prints one JSON line with the
//! build and simulation times, the rates and the synaptic events per second.

#[path = "../tests/support/networks.rs"]
mod networks;

use neurosim::sim::{NullObserver, RunConfig, spiking};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| -> f64 {
        args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    let n = arg(0, 4000.0) as usize;
    let threads = arg(1, 1.0) as usize;
    let duration = arg(2, 1000.0);
    let seed = arg(3, 2007.0) as u64;
    let net = networks::cuba(n, seed, duration);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let report =
        pool.install(|| spiking::run(&net, &RunConfig::new(threads), &mut NullObserver))?;
    let spikes: u64 = report.populations.values().filter_map(|p| p.spikes).sum();
    let synapses: u64 = report.projections.values().map(|p| p.synapses).sum();
    // Each spike is delivered to its source's out-degree, synapses / n on average.
    let events = spikes as f64 * synapses as f64 / n as f64;
    let rate = spikes as f64 / n as f64 / (duration / 1000.0);
    println!(
        "{{\"n\": {n}, \"threads\": {threads}, \"synapses\": {synapses}, \"build_s\": {:.4}, \"sim_s\": {:.4}, \"rate_hz\": {rate:.3}, \"events_per_s\": {:.4e}}}",
        report.build_s,
        report.run_s,
        events / report.run_s
    );
    Ok(())
}
