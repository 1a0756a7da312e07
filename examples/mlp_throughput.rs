//! Training throughput of the MNIST MLP (784-128-128-10, relu/softmax, he init, Adam 1e-3,
//! batch 128, cross-entropy) on 60,000 random MNIST-shaped samples, built from Rust without
//! a `.net` file. Prints samples/s per thread count; `benches/compare/pytorch_mlp.py` runs
//! the same workload in PyTorch and compares.
//!
//! `cargo run --release --example mlp_throughput -- [THREADS...] [--epochs N]`

use std::collections::BTreeMap;

use neurosim::data::{Datasets, Table};
use neurosim::ir::{Call, Network, Params, Population, Projection, Receptor, Train, Value};
use neurosim::models::Mode;
use neurosim::models::connector::full;
use neurosim::models::neuron::{dense, input};
use neurosim::sim::{NullObserver, RunConfig, rate};
use neurosim::units::Dim;
use rand::{Rng, SeedableRng};

const SAMPLES: usize = 60_000;

fn population(net: &mut Network, name: &str, size: usize, activation: Option<&str>) {
    let mut params = Params::new();
    let model = match activation {
        Some(a) => {
            params.insert("activation", Value::Symbol(a.into()));
            params.insert("bias", Value::Bool(true));
            &dense::INFO
        }
        None => &input::INFO,
    };
    net.graph.add_population(Population {
        name: name.into(),
        model,
        shape: vec![size],
        params,
        init: Params::new(),
        span: Default::default(),
    });
}

fn full_projection(net: &mut Network, source: &str, target: &str) {
    let (s, t) = (
        net.graph.find_population(source).expect("source"),
        net.graph.find_population(target).expect("target"),
    );
    net.graph.add_projection(Projection {
        name: format!("{source}->{target}"),
        source: s,
        target: t,
        directed: true,
        connector: &full::INFO,
        connector_args: Params::new(),
        weight: None,
        weight_dim: Dim::NONE,
        delay: None,
        receptor: Receptor::Excitatory,
        init: Some("he".into()),
        plasticity: None,
        extra: Params::new(),
        span: Default::default(),
    });
}

fn mlp(epochs: usize) -> Network {
    let mut net = Network::new("mlp", Mode::Rate);
    net.seed = 1;
    population(&mut net, "pixels", 784, None);
    population(&mut net, "h1", 128, Some("relu"));
    population(&mut net, "h2", 128, Some("relu"));
    population(&mut net, "digit", 10, Some("softmax"));
    full_projection(&mut net, "pixels", "h1");
    full_projection(&mut net, "h1", "h2");
    full_projection(&mut net, "h2", "digit");
    let mut lr = Params::new();
    lr.insert("lr", Value::Number(1e-3));
    net.train = Some(Train {
        data: "train".into(),
        loss: Some("cross_entropy".into()),
        optimizer: Some(Call {
            name: "adam".into(),
            args: lr,
        }),
        epochs,
        batch: 128,
        validate: None,
        options: Default::default(),
        shuffle: true,
        adversarial: None,
        span: Default::default(),
    });
    net
}

fn random_data() -> Datasets {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    let inputs = (0..SAMPLES * 784).map(|_| rng.random::<f32>()).collect();
    let mut targets = vec![0.0f32; SAMPLES * 10];
    for i in 0..SAMPLES {
        targets[i * 10 + rng.random_range(0..10)] = 1.0;
    }
    let mut data = BTreeMap::new();
    data.insert(
        "train".to_string(),
        Table {
            n_rows: SAMPLES,
            n_inputs: 784,
            inputs,
            n_targets: 10,
            targets: Some(targets),
            steps: 1,
            lengths: None,
        },
    );
    data
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut epochs = 3;
    let mut threads = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--epochs" {
            epochs = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(3);
            i += 1;
        } else if let Ok(t) = args[i].parse::<usize>() {
            threads.push(t);
        }
        i += 1;
    }
    if threads.is_empty() {
        threads = vec![1, 2];
    }
    let data = random_data();
    let net = mlp(epochs);
    for t in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("thread pool");
        let report = pool
            .install(|| rate::run(&net, &data, &RunConfig::new(t), &mut NullObserver))
            .expect("training runs");
        let train = report.train.expect("trained");
        let mut times = train.epoch_s.clone();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "neurosim threads={t} epochs={} epoch_s min={:.3} median={:.3} samples_per_s={:.0} final_loss={:.4}",
            train.epochs,
            times[0],
            median,
            SAMPLES as f64 / median,
            train.final_loss
        );
    }
}
