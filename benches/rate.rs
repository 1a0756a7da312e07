//! Criterion benchmarks of the rate engine: one training batch (forward, backward, Adam
//! update) of the MNIST MLP (784-128-128-10, batch 128), a 256-sample inference block, and
//! one training batch (64) and inference block of `networks/cnn_mnist.net` (two 3×3
//! convolutions with max pooling), and an LSTM of 128 units (a 20-step training batch of
//! 32 sequences with backpropagation through time, and one step of 64 sequences), on the
//! calling thread. The end-to-end samples/s comparison with PyTorch lives in
//! `examples/mlp_throughput.rs` and `benches/compare/pytorch_mlp.py`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use neurosim::data::Table;
use neurosim::ir::{Call, Network, Params, Population, Projection, Receptor, Train, Value};
use neurosim::models::Mode;
use neurosim::models::connector::full;
use neurosim::models::neuron::{dense, input};
use neurosim::sim::rate::{Model, RateOptions};
use neurosim::units::Dim;

const BATCH: usize = 128;

fn mlp() -> Network {
    let mut net = Network::new("mlp", Mode::Rate);
    net.seed = 1;
    let mut ids = Vec::new();
    for (name, size, activation) in [
        ("pixels", 784, None),
        ("h1", 128, Some("relu")),
        ("h2", 128, Some("relu")),
        ("digit", 10, Some("softmax")),
    ] {
        let mut params = Params::new();
        if let Some(a) = activation {
            params.insert("activation", Value::Symbol(a.into()));
        }
        ids.push(net.graph.add_population(Population {
            name: name.into(),
            model: if activation.is_some() {
                &dense::INFO
            } else {
                &input::INFO
            },
            shape: vec![size],
            params,
            init: Params::new(),
            span: Default::default(),
        }));
    }
    for pair in ids.windows(2) {
        net.graph.add_projection(Projection {
            name: format!("{}->{}", pair[0].0, pair[1].0),
            source: pair[0],
            target: pair[1],
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
    net.train = Some(Train {
        data: "train".into(),
        loss: Some("cross_entropy".into()),
        optimizer: Some(Call {
            name: "adam".into(),
            args: Params::new(),
        }),
        epochs: 1,
        batch: BATCH,
        validate: None,
        options: Default::default(),
        shuffle: true,
        adversarial: None,
        span: Default::default(),
    });
    net
}

fn table(rows: usize) -> Table {
    let inputs = (0..rows * 784).map(|i| (i % 255) as f32 / 255.0).collect();
    let mut targets = vec![0.0; rows * 10];
    for r in 0..rows {
        targets[r * 10 + r % 10] = 1.0;
    }
    Table {
        n_rows: rows,
        n_inputs: 784,
        inputs,
        n_targets: 10,
        targets: Some(targets),
        steps: 1,
        lengths: None,
    }
}

fn bench(c: &mut Criterion) {
    let net = mlp();
    let data = table(256);
    let mut model = Model::build(&net, &RateOptions::default(), 256, 1).expect("model");
    model.set_presented(&[0]);
    let rows: Vec<usize> = (0..BATCH).collect();
    model.present(&data, &rows, &[0]);
    c.bench_function("mlp_train_batch_128", |b| {
        b.iter(|| {
            model.forward(BATCH);
            black_box(model.backward(BATCH));
            model.update();
        })
    });
    let block: Vec<usize> = (0..256).collect();
    model.present(&data, &block, &[0]);
    c.bench_function("mlp_inference_256", |b| {
        b.iter(|| {
            model.forward(256);
            black_box(model.state(3, 256)[0]);
        })
    });
}

/// `networks/cnn_mnist.net`, compiled from the file.
fn cnn() -> Network {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/networks/cnn_mnist.net");
    let text = std::fs::read_to_string(path).expect("cnn_mnist.net readable");
    let mut loader = |p: &std::path::Path| std::fs::read_to_string(p);
    let c = neurosim::lang::compile(path, &text, &mut loader, &[]);
    c.networks.into_iter().next().expect("cnn_mnist compiles")
}

fn bench_cnn(c: &mut Criterion) {
    const CNN_BATCH: usize = 64;
    let net = cnn();
    let data = table(256);
    let mut model = Model::build(&net, &RateOptions::default(), 256, 1).expect("model");
    model.set_presented(&[0]);
    let rows: Vec<usize> = (0..CNN_BATCH).collect();
    model.present(&data, &rows, &[0]);
    c.bench_function("cnn_train_batch_64", |b| {
        b.iter(|| {
            model.forward(CNN_BATCH);
            black_box(model.backward(CNN_BATCH));
            model.update();
        })
    });
    let block: Vec<usize> = (0..256).collect();
    model.present(&data, &block, &[0]);
    c.bench_function("cnn_inference_256", |b| {
        b.iter(|| {
            model.forward(256);
            black_box(model.state(5, 256)[0]);
        })
    });
}

/// A recurrent population (`lstm[128]` or `gru[128]`) reading 32 inputs per step,
/// classifying at every step.
fn recurrent(model: &str) -> Network {
    let row = format!("[{}] -> [1{}]", vec!["0"; 32].join(", "), ", 0".repeat(9));
    let source = format!(
        "network recurrent_bench : rate {{
            population x : input[32]
            population h : {model}[128]
            population y : dense[10] {{ activation = softmax }}
            x -> h -> y : full {{ init = xavier }}
            dataset d = inline {{ {row} }}
            train {{ data = d, loss = cross_entropy, optimizer = adam(lr = 1e-3), batch = 32 }}
        }}"
    );
    let mut loader = |p: &std::path::Path| std::fs::read_to_string(p);
    let c = neurosim::lang::compile("recurrent_bench.net", &source, &mut loader, &[]);
    c.networks
        .into_iter()
        .next()
        .expect("the bench network compiles")
}

/// `rows` sequences of `steps` steps of 32 inputs, a one-hot target of 10 at every step.
fn sequences(rows: usize, steps: usize) -> Table {
    let inputs = (0..rows * steps * 32)
        .map(|i| ((i * 7) % 13) as f32 / 13.0)
        .collect();
    let mut targets = vec![0.0; rows * steps * 10];
    for (k, t) in targets.chunks_mut(10).enumerate() {
        t[k % 10] = 1.0;
    }
    Table {
        n_rows: rows,
        n_inputs: steps * 32,
        inputs,
        n_targets: steps * 10,
        targets: Some(targets),
        steps,
        lengths: None,
    }
}

fn bench_lstm(c: &mut Criterion) {
    const STEPS: usize = 20;
    const SEQ_BATCH: usize = 32;
    let net = recurrent("lstm");
    let options = RateOptions {
        steps: STEPS,
        ..RateOptions::default()
    };
    let mut model = Model::build(&net, &options, 64, 1).expect("model");
    model.set_presented(&[0]);
    let rows: Vec<usize> = (0..SEQ_BATCH).collect();
    model.present(&sequences(SEQ_BATCH, STEPS), &rows, &[0]);
    c.bench_function("lstm_train_20_steps_batch_32", |b| {
        b.iter(|| {
            model.forward(SEQ_BATCH);
            black_box(model.backward(SEQ_BATCH));
            model.update();
        })
    });
    let rows: Vec<usize> = (0..64).collect();
    model.present(&sequences(64, 1), &rows, &[0]);
    c.bench_function("lstm_step_batch_64", |b| {
        b.iter(|| {
            model.forward(64);
            black_box(model.state(1, 64)[0]);
        })
    });
    let mut gru = Model::build(&recurrent("gru"), &options, 64, 1).expect("model");
    gru.set_presented(&[0]);
    let rows: Vec<usize> = (0..SEQ_BATCH).collect();
    gru.present(&sequences(SEQ_BATCH, STEPS), &rows, &[0]);
    c.bench_function("gru_train_20_steps_batch_32", |b| {
        b.iter(|| {
            gru.forward(SEQ_BATCH);
            black_box(gru.backward(SEQ_BATCH));
            gru.update();
        })
    });
}

criterion_group!(benches, bench, bench_cnn, bench_lstm);
criterion_main!(benches);
