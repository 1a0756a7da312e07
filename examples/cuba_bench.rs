//! Builds the CUBA (or COBA) benchmark network from Rust (no `.net` file) and times the
//! spiking engine.
//!
//! `cargo run --release --example cuba_bench -- [N] [THREADS] [DURATION_MS] [SEED] [cuba|coba] [stats]`
//! (defaults: 4000 neurons, 1 thread, 1000 ms, seed 2007, cuba). Prints one JSON line with
//! the build and simulation times, the rates and the synaptic events per second; with
//! `stats`, also the mean CV of inter-spike intervals (neurons with at least 3 spikes).

#[path = "../tests/support/networks.rs"]
mod networks;

use neurosim::ir::PopulationId;
use neurosim::sim::{NullObserver, ObserveError, Observer, RunConfig, spiking};

/// Keeps every spike time per neuron, for the CV of inter-spike intervals.
struct Trains {
    times: Vec<Vec<Vec<f64>>>,
}

impl Observer for Trains {
    fn spikes(
        &mut self,
        population: PopulationId,
        t: f64,
        ids: &[u32],
    ) -> Result<(), ObserveError> {
        for &i in ids {
            self.times[population.0 as usize][i as usize].push(t);
        }
        Ok(())
    }
}

fn mean_cv(trains: &[Vec<f64>]) -> f64 {
    let cvs: Vec<f64> = trains
        .iter()
        .filter(|t| t.len() >= 3)
        .map(|t| {
            let isi: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
            let mean = isi.iter().sum::<f64>() / isi.len() as f64;
            let var = isi.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / isi.len() as f64;
            var.sqrt() / mean
        })
        .collect();
    cvs.iter().sum::<f64>() / cvs.len().max(1) as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| -> f64 {
        args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
    };
    let n = arg(0, 4000.0) as usize;
    let threads = arg(1, 1.0) as usize;
    let duration = arg(2, 1000.0);
    let seed = arg(3, 2007.0) as u64;
    let which = args.get(4).map_or("cuba", String::as_str);
    let stats = args.get(5).is_some_and(|s| s == "stats");
    let net = match which {
        "coba" => networks::coba(n, seed, duration),
        _ => networks::cuba(n, seed, duration),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let mut trains = Trains {
        times: net
            .graph
            .populations()
            .map(|(_, p)| vec![Vec::new(); p.size()])
            .collect(),
    };
    let report = pool.install(|| {
        let config = RunConfig::new(threads);
        if stats {
            spiking::run(&net, &config, &mut trains)
        } else {
            spiking::run(&net, &config, &mut NullObserver)
        }
    })?;
    let spikes: u64 = report.populations.values().filter_map(|p| p.spikes).sum();
    let synapses: u64 = report.projections.values().map(|p| p.synapses).sum();
    // Each spike is delivered to its source's out-degree, synapses / n on average.
    let events = spikes as f64 * synapses as f64 / n as f64;
    let rate = |name: &str| report.populations[name].rate_hz.unwrap_or(0.0);
    let cv = if stats {
        format!(
            ", \"cv_isi_e\": {:.4}, \"cv_isi_i\": {:.4}",
            mean_cv(&trains.times[0]),
            mean_cv(&trains.times[1])
        )
    } else {
        String::new()
    };
    println!(
        "{{\"network\": \"{which}\", \"seed\": {seed}, \"n\": {n}, \"threads\": {threads}, \"synapses\": {synapses}, \"build_s\": {:.4}, \"sim_s\": {:.4}, \"rate_e_hz\": {:.3}, \"rate_i_hz\": {:.3}, \"events_per_s\": {:.4e}{cv}}}",
        report.build_s,
        report.run_s,
        rate("E"),
        rate("I"),
        events / report.run_s
    );
    Ok(())
}
