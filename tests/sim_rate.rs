//! The rate engine end to end, on networks built from Rust (the same networks as the
//! `.net` files in `networks/`): gradient checks against finite differences for every
//! activation, loss and connector; XOR and MNIST learning; thread invariance; Hopfield
//! recall; the errors a user meets; the train block's conveniences (schedules, clipping,
//! penalties, early stopping).

use std::collections::BTreeMap;
use std::path::PathBuf;

use neurosim::data::{self, Datasets, Table};
use neurosim::ir::{
    Call, DataOptions, DataSource, Dataset, EarlyStopping, Evaluate, InlineRow, Network, Params,
    Plasticity, Population, PopulationId, Projection, Receptor, Record, RecordTarget, Recordable,
    Train, TrainOptions, Value,
};
use neurosim::models::Mode;
use neurosim::models::connector::{ConnectorInfo, full, one_to_one, random};
use neurosim::models::neuron::{dense, input};
use neurosim::models::plasticity::hebbian;
use neurosim::models::schedule::Schedule;
use neurosim::sim::rate::{self, Model, RateOptions};
use neurosim::sim::{EpochStats, ObserveError, Observer, RunConfig, RunReport, SimError};
use neurosim::units::Dim;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------- building networks

fn params(values: &[(&str, Value)]) -> Params {
    let mut p = Params::new();
    for (k, v) in values {
        p.insert(*k, v.clone());
    }
    p
}

fn sym(s: &str) -> Value {
    Value::Symbol(s.into())
}

fn num(x: f64) -> Value {
    Value::Number(x)
}

fn input_population(net: &mut Network, name: &str, size: usize) -> PopulationId {
    net.graph.add_population(Population {
        name: name.into(),
        model: &input::INFO,
        shape: vec![size],
        params: Params::new(),
        init: Params::new(),
        span: Default::default(),
    })
}

fn dense_population(
    net: &mut Network,
    name: &str,
    size: usize,
    extra: &[(&str, Value)],
) -> PopulationId {
    let mut p = params(&[("bias", Value::Bool(true))]);
    for (k, v) in extra {
        p.insert(*k, v.clone());
    }
    net.graph.add_population(Population {
        name: name.into(),
        model: &dense::INFO,
        shape: vec![size],
        params: p,
        init: Params::new(),
        span: Default::default(),
    })
}

struct Link<'a> {
    connector: &'static ConnectorInfo,
    args: &'a [(&'a str, Value)],
    init: &'a str,
    directed: bool,
    plasticity: Option<Plasticity>,
}

fn full_link(init: &str) -> Link<'_> {
    Link {
        connector: &full::INFO,
        args: &[],
        init,
        directed: true,
        plasticity: None,
    }
}

fn project(net: &mut Network, source: PopulationId, target: PopulationId, link: Link) {
    let name = format!(
        "{}{}{}",
        net.graph.population(source).name,
        if link.directed { "->" } else { "--" },
        net.graph.population(target).name
    );
    net.graph.add_projection(Projection {
        name,
        source,
        target,
        directed: link.directed,
        connector: link.connector,
        connector_args: params(link.args),
        weight: None,
        weight_dim: Dim::NONE,
        delay: None,
        receptor: Receptor::Excitatory,
        init: Some(link.init.into()),
        plasticity: link.plasticity,
        extra: Params::new(),
        span: Default::default(),
    });
}

fn train_block(
    data: &str,
    loss: Option<&str>,
    optimizer: Call,
    epochs: usize,
    batch: usize,
) -> Train {
    Train {
        data: data.into(),
        loss: loss.map(str::to_string),
        optimizer: Some(optimizer),
        epochs,
        batch,
        validate: None,
        options: Default::default(),
        shuffle: true,
        adversarial: None,
        span: Default::default(),
    }
}

fn adam(lr: f64) -> Call {
    Call {
        name: "adam".into(),
        args: params(&[("lr", num(lr))]),
    }
}

fn dataset(name: &str, source: DataSource) -> Dataset {
    Dataset {
        name: name.into(),
        source,
        options: DataOptions::default(),
        span: Default::default(),
        path_spans: Vec::new(),
    }
}

fn project_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `networks/xor.net`, built from Rust.
fn xor() -> Network {
    let mut net = Network::new("xor", Mode::Rate);
    net.seed = 7;
    let x = input_population(&mut net, "x", 2);
    let h = dense_population(&mut net, "h", 8, &[("activation", sym("tanh"))]);
    let y = dense_population(&mut net, "y", 1, &[("activation", sym("sigmoid"))]);
    project(&mut net, x, h, full_link("xavier"));
    project(&mut net, h, y, full_link("xavier"));
    let rows = [
        ([0., 0.], 0.),
        ([0., 1.], 1.),
        ([1., 0.], 1.),
        ([1., 1.], 0.),
    ]
    .iter()
    .map(|(i, t)| InlineRow {
        inputs: i.to_vec(),
        targets: Some(vec![*t]),
    })
    .collect();
    net.datasets
        .push(dataset("truth", DataSource::Inline { rows }));
    net.train = Some(train_block("truth", Some("mse"), adam(0.05), 500, 4));
    net.evaluate = Some(Evaluate {
        data: "truth".into(),
        metrics: vec!["accuracy".into()],
        steps: None,
        span: Default::default(),
    });
    net.records.push(Record {
        what: Recordable::Activation,
        targets: vec![RecordTarget::Population { id: y, range: None }],
        every: None,
        window: None,
        span: Default::default(),
    });
    net
}

/// `networks/mnist_mlp.net`, built from Rust, for `epochs` epochs.
fn mnist_mlp(epochs: usize) -> Network {
    let mut net = Network::new("mnist_mlp", Mode::Rate);
    net.seed = 1;
    let idx = |images: &str, labels: &str| DataSource::Idx {
        images: project_file(&format!("networks/data/{images}")),
        labels: Some(project_file(&format!("networks/data/{labels}"))),
    };
    let scaled = |mut d: Dataset| {
        d.options.scale = Some(1.0 / 255.0);
        d
    };
    net.datasets.push(scaled(dataset(
        "train",
        idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    )));
    net.datasets.push(scaled(dataset(
        "test",
        idx("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    )));
    let pixels = input_population(&mut net, "pixels", 784);
    let h1 = dense_population(&mut net, "h1", 128, &[("activation", sym("relu"))]);
    let h2 = dense_population(&mut net, "h2", 128, &[("activation", sym("relu"))]);
    let digit = dense_population(&mut net, "digit", 10, &[("activation", sym("softmax"))]);
    project(&mut net, pixels, h1, full_link("he"));
    project(&mut net, h1, h2, full_link("he"));
    project(&mut net, h2, digit, full_link("he"));
    let mut train = train_block("train", Some("cross_entropy"), adam(1e-3), epochs, 128);
    train.validate = Some("test".into());
    net.train = Some(train);
    net.evaluate = Some(Evaluate {
        data: "test".into(),
        metrics: vec!["accuracy".into()],
        steps: None,
        span: Default::default(),
    });
    net
}

/// `networks/hopfield.net`, built from Rust.
fn hopfield() -> Network {
    let mut net = Network::new("hopfield", Mode::Rate);
    net.seed = 3;
    let m = dense_population(
        &mut net,
        "m",
        100,
        &[("activation", sym("sign")), ("bias", Value::Bool(false))],
    );
    project(
        &mut net,
        m,
        m,
        Link {
            connector: &full::INFO,
            args: &[],
            init: "zeros",
            directed: false,
            plasticity: Some(Plasticity {
                rule: &hebbian::INFO,
                params: params(&[("rate", num(0.01))]),
            }),
        },
    );
    let csv = |file: &str| DataSource::Csv {
        path: project_file(&format!("networks/data/{file}")),
        target: Vec::new(),
        targets: Vec::new(),
        lengths: None,
    };
    net.datasets.push(dataset("memories", csv("patterns.csv")));
    net.datasets.push(dataset("cues", csv("noisy.csv")));
    let mut train = train_block("memories", None, adam(1e-3), 1, 1);
    train.optimizer = None;
    net.train = Some(train);
    net.evaluate = Some(Evaluate {
        data: "cues".into(),
        metrics: vec!["overlap".into()],
        steps: Some(20),
        span: Default::default(),
    });
    net.records.push(Record {
        what: Recordable::Activation,
        targets: vec![RecordTarget::Population { id: m, range: None }],
        every: None,
        window: None,
        span: Default::default(),
    });
    net
}

// ---------------------------------------------------------------- running

#[derive(Default)]
struct Capture {
    epochs: Vec<EpochStats>,
    arrays: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    samples: Vec<(usize, f64, Vec<f32>)>,
}

impl Observer for Capture {
    fn epoch(&mut self, stats: &EpochStats) -> Result<(), ObserveError> {
        self.epochs.push(stats.clone());
        Ok(())
    }

    fn array(&mut self, path: &str, shape: &[usize], data: &[f32]) -> Result<(), ObserveError> {
        self.arrays
            .insert(path.to_string(), (shape.to_vec(), data.to_vec()));
        Ok(())
    }

    fn sample(&mut self, record: usize, time: f64, values: &[f32]) -> Result<(), ObserveError> {
        self.samples.push((record, time, values.to_vec()));
        Ok(())
    }
}

fn run_on(net: &Network, data: &Datasets, threads: usize) -> (RunReport, Capture) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let mut capture = Capture::default();
    let report = pool
        .install(|| rate::run(net, data, &RunConfig::new(threads), &mut capture))
        .expect("run succeeds");
    (report, capture)
}

fn run(net: &Network, threads: usize) -> (RunReport, Capture) {
    let data = data::load(net).expect("data loads");
    run_on(net, &data, threads)
}

/// Asserts that two runs of the same network ended with the same bits in every array and
/// the same per-epoch losses (what thread invariance promises).
fn assert_bit_identical(one: &Capture, two: &Capture) {
    assert_eq!(
        one.arrays.keys().collect::<Vec<_>>(),
        two.arrays.keys().collect::<Vec<_>>()
    );
    for (key, (_, values)) in &one.arrays {
        let other = &two.arrays[key].1;
        let same = values.len() == other.len()
            && values
                .iter()
                .zip(other)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{key} differs between the runs");
    }
    let loss = |c: &Capture| {
        c.epochs
            .iter()
            .map(|e| e.loss.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(loss(one), loss(two));
}

// ---------------------------------------------------------------- gradient checks

/// Compares every analytic gradient of `net` on `table` with central finite differences.
fn check_gradients(net: &Network, table: &Table) {
    check_gradients_in(net, table, false);
}

/// As [`check_gradients`]; `training` runs the training-mode forward pass (dropout on; its
/// mask stays fixed until the next optimizer step, so finite differences see the same one).
fn check_gradients_in(net: &Network, table: &Table, training: bool) {
    let ids: Vec<usize> = data::presented(net, table.step_inputs())
        .expect("presented populations")
        .iter()
        .map(|id| id.0 as usize)
        .collect();
    let options = RateOptions {
        steps: table.steps(),
        ..RateOptions::default()
    };
    let mut model = Model::build(net, &options, table.n_rows, 1).expect("model builds");
    let rows: Vec<usize> = (0..table.n_rows).collect();
    let b = rows.len();
    model.set_presented(&ids);
    model.present(table, &rows, &ids);
    let forward = |model: &mut Model| {
        if training {
            model.forward_train(b)
        } else {
            model.forward(b)
        }
    };
    forward(&mut model);
    let loss = model.backward(b);
    assert!(loss.is_finite() && loss > 0.0, "{}: loss {loss}", net.name);
    let keys: Vec<String> = model.arrays().into_iter().map(|(k, _, _)| k).collect();
    let mut checked = 0;
    for key in keys {
        let Some(grad) = model.gradient(&key).map(<[f32]>::to_vec) else {
            continue;
        };
        let n = grad.len();
        for index in (0..n).step_by((n / 7).max(1)) {
            let original = model.parameter_mut(&key).expect("parameter")[index];
            if original == 0.0 && key.starts_with("weights/") && grad[index] == 0.0 {
                continue; // no synapse there (sparse connector or no self-connection)
            }
            let h = 5e-3f32;
            let at = |value: f32, model: &mut Model| {
                model.parameter_mut(&key).expect("parameter")[index] = value;
                forward(model);
                model.loss_only(b)
            };
            let up = at(original + h, &mut model);
            let down = at(original - h, &mut model);
            at(original, &mut model);
            let numeric = (up - down) / (2.0 * f64::from(h));
            let analytic = f64::from(grad[index]);
            assert!(
                (numeric - analytic).abs() <= 2e-3 + 2e-2 * analytic.abs(),
                "{}: d loss / d {key}[{index}]: analytic {analytic}, numeric {numeric}",
                net.name
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 8,
        "{}: only {checked} gradients checked",
        net.name
    );
}

/// A random table of `n` rows; targets drawn by `target`.
fn random_table(
    seed: u64,
    n: usize,
    n_inputs: usize,
    n_targets: usize,
    target: &dyn Fn(&mut rand_xoshiro::Xoshiro256PlusPlus, usize) -> Vec<f32>,
) -> Table {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let inputs = (0..n * n_inputs)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let targets = (0..n).flat_map(|_| target(&mut rng, n_targets)).collect();
    Table {
        n_rows: n,
        n_inputs,
        inputs,
        n_targets,
        targets: Some(targets),
        steps: 1,
        lengths: None,
    }
}

fn one_hot(rng: &mut rand_xoshiro::Xoshiro256PlusPlus, n: usize) -> Vec<f32> {
    let mut t = vec![0.0; n];
    t[rng.random_range(0..n)] = 1.0;
    t
}

fn reals(rng: &mut rand_xoshiro::Xoshiro256PlusPlus, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect()
}

fn bits(rng: &mut rand_xoshiro::Xoshiro256PlusPlus, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| f32::from(u8::from(rng.random::<bool>())))
        .collect()
}

/// x:input[3] -> h:dense[5]{hidden} -> y:dense[outputs]{output}, trained with `loss`.
fn two_layer(hidden: &str, output: &str, loss: &str, outputs: usize) -> Network {
    let mut net = Network::new(format!("{hidden}/{output}/{loss}"), Mode::Rate);
    net.seed = 11;
    let x = input_population(&mut net, "x", 3);
    let h = dense_population(
        &mut net,
        "h",
        5,
        &[("activation", sym(hidden)), ("slope", num(0.1))],
    );
    let y = dense_population(&mut net, "y", outputs, &[("activation", sym(output))]);
    project(&mut net, x, h, full_link("xavier"));
    project(&mut net, h, y, full_link("xavier"));
    net.train = Some(train_block("d", Some(loss), adam(0.01), 1, 6));
    net
}

#[test]
fn gradients_of_every_activation_match_finite_differences() {
    let table = random_table(1, 6, 3, 2, &reals);
    for activation in [
        "identity",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "softmax",
    ] {
        check_gradients(&two_layer(activation, "identity", "mse", 2), &table);
    }
    // softmax as an output under a loss it is not fused with (mse): the Jacobian path.
    check_gradients(&two_layer("tanh", "softmax", "mse", 2), &table);
}

#[test]
fn gradients_of_every_loss_match_finite_differences() {
    let classes = random_table(2, 6, 3, 4, &one_hot);
    check_gradients(&two_layer("tanh", "softmax", "cross_entropy", 4), &classes);
    check_gradients(&two_layer("tanh", "identity", "cross_entropy", 4), &classes);
    let binary = random_table(3, 6, 3, 2, &bits);
    check_gradients(
        &two_layer("tanh", "sigmoid", "binary_cross_entropy", 2),
        &binary,
    );
    check_gradients(&two_layer("tanh", "sigmoid", "mse", 2), &binary);
    // Targets far from the outputs reach both branches of smooth_l1.
    let wide = random_table(4, 6, 3, 2, &reals);
    check_gradients(&two_layer("tanh", "identity", "smooth_l1", 2), &wide);
}

#[test]
fn gradients_through_dropout_match_and_dropout_drops() {
    let mut net = two_layer("tanh", "identity", "mse", 2);
    let h = net.graph.find_population("h").expect("h");
    net.graph
        .population_mut(h)
        .params
        .insert("dropout", num(0.5));
    let table = random_table(7, 6, 3, 2, &reals);
    check_gradients_in(&net, &table, true);
    // Evaluation runs without dropout; training drops some hidden units.
    let mut model = Model::build(&net, &RateOptions::default(), 6, 1).expect("builds");
    let rows: Vec<usize> = (0..6).collect();
    model.set_presented(&[0]);
    model.present(&table, &rows, &[0]);
    model.forward(6);
    assert!(model.state(1, 6).iter().all(|&y| y != 0.0));
    model.forward_train(6);
    let dropped = model.state(1, 6).iter().filter(|&&y| y == 0.0).count();
    assert!(dropped > 3 && dropped < 27, "{dropped} of 30 dropped");
    // Dropout on an output is refused.
    let y = net.graph.find_population("y").expect("y");
    net.graph
        .population_mut(y)
        .params
        .insert("dropout", num(0.5));
    let err = Model::build(&net, &RateOptions::default(), 6, 1).expect_err("refused");
    assert!(err.to_string().contains("output population 'y'"), "{err}");
}

/// Two inputs, a skip connection, a population summing two projections, every connector,
/// two outputs.
#[test]
fn gradients_through_every_connector_and_a_branching_graph_match() {
    let mut net = Network::new("graph", Mode::Rate);
    net.seed = 5;
    let a = input_population(&mut net, "a", 2);
    let b = input_population(&mut net, "b", 3);
    let h = dense_population(&mut net, "h", 6, &[("activation", sym("tanh"))]);
    let g = dense_population(&mut net, "g", 6, &[("activation", sym("sigmoid"))]);
    let y = dense_population(&mut net, "y", 2, &[("activation", sym("identity"))]);
    let z = dense_population(&mut net, "z", 1, &[("activation", sym("sigmoid"))]);
    project(&mut net, a, h, full_link("xavier"));
    let sparse = [("p", num(0.6))];
    project(
        &mut net,
        b,
        h,
        Link {
            connector: &random::INFO,
            args: &sparse,
            init: "uniform",
            directed: true,
            plasticity: None,
        },
    );
    project(
        &mut net,
        h,
        g,
        Link {
            connector: &one_to_one::INFO,
            args: &[],
            init: "normal",
            directed: true,
            plasticity: None,
        },
    );
    project(&mut net, g, y, full_link("xavier"));
    project(&mut net, a, y, full_link("he")); // skip connection
    project(&mut net, h, z, full_link("xavier"));
    net.train = Some(train_block("d", Some("mse"), adam(0.01), 1, 5));
    let table = random_table(6, 5, 5, 3, &reals);
    check_gradients(&net, &table);

    // The sparse mask is drawn from the seed and respected: masked weights stay zero.
    let model = Model::build(&net, &RateOptions::default(), 4, 1).expect("builds");
    let w = model.weights("b->h").expect("weights");
    let zeros = w.iter().filter(|&&x| x == 0.0).count();
    assert!(
        zeros > 0 && zeros < w.len(),
        "{zeros} of {} masked",
        w.len()
    );
    let again = Model::build(&net, &RateOptions::default(), 4, 1).expect("builds");
    assert_eq!(again.weights("b->h"), model.weights("b->h"));
    assert_eq!(model.weights("h->g").map(|w| w.len()), Some(6));
}

/// The one network of `source`, compiled as if it were the file `networks/<name>` (so data
/// paths resolve against `networks/`).
fn compile_net(name: &str, source: &str) -> Network {
    let path = project_file("networks").join(name);
    let mut loader = |p: &std::path::Path| std::fs::read_to_string(p);
    let c = neurosim::lang::compile(&path.display().to_string(), source, &mut loader, &[]);
    assert!(!c.has_errors(), "{name}: {:?}", c.diagnostics);
    c.networks.into_iter().next().expect("one network")
}

#[test]
fn gradients_through_conv_and_pooling_match_finite_differences() {
    // Same-padded, strided and valid convolutions, max and average pooling, a per-map
    // bias, a merge of two branches and an implied flatten.
    let net = compile_net(
        "conv_gradients.net",
        r#"network conv_gradients : rate {
            seed = 4
            population x : input[2, 6, 6]
            population c : dense[3, 6, 6] { activation = tanh }
            population p : dense[3, 3, 3]
            population s : dense[4, 2, 2] { activation = sigmoid }
            population a : dense[3, 1, 1]
            population y : dense[2] { activation = identity }
            x -> c : conv(kernel = 3, padding = same) { init = he }
            c -> p : maxpool(2)
            x -> s : conv(kernel = 3, stride = 2, padding = valid) { init = xavier }
            p -> a : avgpool(size = 3, stride = 1)
            p, s, a -> y : full { init = xavier }
        }"#,
    );
    let mut net = net;
    net.train = Some(train_block("d", Some("mse"), adam(0.01), 1, 4));
    let table = random_table(9, 4, 72, 2, &reals);
    check_gradients(&net, &table);
    let model = Model::build(&net, &RateOptions::default(), 4, 1).expect("builds");
    let arrays: BTreeMap<String, Vec<usize>> = model
        .arrays()
        .into_iter()
        .map(|(k, shape, _)| (k, shape))
        .collect();
    assert_eq!(arrays["weights/x->c"], vec![3, 2, 3, 3]);
    assert_eq!(arrays["biases/c"], vec![3], "one bias per map");
    assert!(!arrays.contains_key("biases/p"), "pooling has no bias");
    assert!(
        !arrays.contains_key("weights/c->p"),
        "pooling has no weights"
    );
    assert_eq!(arrays["weights/p->y"], vec![2, 27]);
}

/// The shipped `cnn_mnist.net` on `limit` training digits drawn at random (the files are
/// ordered by digit).
fn cnn_mnist(limit: usize, epochs: usize) -> Network {
    let text = std::fs::read_to_string(project_file("networks/cnn_mnist.net")).expect("readable");
    let text = text
        .replace(
            "labels = \"data/train-labels-idx1-ubyte.gz\", scale = 1/255)",
            &format!(
                "labels = \"data/train-labels-idx1-ubyte.gz\", scale = 1/255, shuffle = true, limit = {limit})"
            ),
        )
        .replace("epochs = 20,", &format!("epochs = {epochs},"));
    compile_net("cnn_mnist.net", &text)
}

/// [`cnn_mnist`] with a faster schedule for short runs: batches of 32 at lr 3e-3.
fn cnn_mnist_quick(limit: usize) -> Network {
    let mut net = cnn_mnist(limit, 1);
    let train = net.train.as_mut().expect("train block");
    train.batch = 32;
    train.optimizer = Some(adam(3e-3));
    net
}

#[test]
fn a_small_cnn_learns_digits_and_is_thread_invariant() {
    let net = cnn_mnist_quick(1500);
    let (one, first) = run(&net, 1);
    let (two, second) = run(&net, 2);
    let accuracy = one.evaluate.and_then(|e| e.accuracy).expect("accuracy");
    eprintln!("CNN test accuracy after one epoch of 1500 digits: {accuracy}");
    // 47 updates of 32 digits: chance is 10 %.
    assert!(accuracy > 0.8, "test accuracy {accuracy}");
    assert_eq!(two.evaluate.and_then(|e| e.accuracy), Some(accuracy));
    assert_bit_identical(&first, &second);
}

#[test]
#[ignore = "twenty epochs of the CNN on 8,000 digits: run with --ignored (about 45 s in release)"]
fn cnn_mnist_reaches_98_percent() {
    let (report, _) = run(&cnn_mnist(8000, 20), 2);
    let accuracy = report.evaluate.and_then(|e| e.accuracy).expect("accuracy");
    eprintln!("CNN test accuracy after 20 epochs: {accuracy}");
    // With the training digits shuffled, as here: 98.5 %. The file as shipped reaches
    // 98.30 % (seeds 2 and 3: 98.20 %, 98.15 %).
    assert!(accuracy >= 0.98, "test accuracy {accuracy}");
}

// ---------------------------------------------------------------- learning

#[test]
fn xor_reaches_full_accuracy() {
    let net = xor();
    let (report, capture) = run(&net, 1);
    let eval = report.evaluate.expect("evaluated");
    assert_eq!(eval.accuracy, Some(1.0));
    let train = report.train.expect("trained");
    assert_eq!(train.epochs, 500);
    assert!(train.final_loss < 0.02, "final loss {}", train.final_loss);
    assert_eq!(capture.epochs.len(), 500);
    assert!(capture.epochs[0].loss > 5.0 * train.final_loss);
    // One activation sample per evaluated row, outputs on the right side of 0.5.
    let outputs: Vec<f32> = capture.samples.iter().map(|s| s.2[0]).collect();
    assert_eq!(outputs.len(), 4);
    assert!(outputs[0] < 0.5 && outputs[1] > 0.5 && outputs[2] > 0.5 && outputs[3] < 0.5);
    assert_eq!(capture.arrays["weights/x->h"].0, vec![8, 2]);
    assert_eq!(capture.arrays["biases/y"].0, vec![1]);
    assert_eq!(report.projections["x->h"].synapses, 16);
    assert_eq!(report.populations["h"].size, 8);
}

#[test]
fn mnist_mlp_learns_in_two_epochs() {
    let net = mnist_mlp(2);
    let (report, capture) = run(&net, 2);
    let accuracy = report.evaluate.and_then(|e| e.accuracy).expect("accuracy");
    eprintln!("MNIST MLP test accuracy after 2 epochs: {accuracy}");
    // Chance is 10 %; two epochs of 63 batches already reach ~90 %.
    assert!(accuracy > 0.85, "test accuracy {accuracy}");
    assert_eq!(capture.epochs.len(), 2);
    assert!(capture.epochs[1].loss < capture.epochs[0].loss);
    assert!(capture.epochs[1].val_accuracy.expect("validated") > 0.85);
    assert_eq!(capture.arrays["weights/pixels->h1"].0, vec![128, 784]);
}

#[test]
#[ignore = "ten epochs of MNIST: run with --ignored (about 10 s in release)"]
fn mnist_mlp_reaches_pytorch_accuracy_in_ten_epochs() {
    let (report, _) = run(&mnist_mlp(10), 2);
    let accuracy = report.evaluate.and_then(|e| e.accuracy).expect("accuracy");
    eprintln!("MNIST MLP test accuracy after 10 epochs: {accuracy}");
    // PyTorch, same network and data: 92.75–93.15 % (seeds 0–2).
    assert!(accuracy >= 0.93, "test accuracy {accuracy}");
}

#[test]
fn results_are_bit_identical_on_one_and_two_threads() {
    // The MNIST MLP's shapes on random data: big enough that GEMMs are split in blocks.
    let mut net = mnist_mlp(2);
    net.datasets.clear();
    net.evaluate = None;
    net.train.as_mut().expect("train").validate = None;
    let mut data = Datasets::new();
    data.insert("train".into(), random_table(9, 384, 784, 10, &one_hot));
    let (_, one) = run_on(&net, &data, 1);
    let (_, two) = run_on(&net, &data, 2);
    assert_eq!(one.arrays.len(), 6);
    assert_bit_identical(&one, &two);
}

#[test]
fn hopfield_recalls_memories_from_noisy_cues() {
    let net = hopfield();
    let (report, capture) = run(&net, 1);
    let overlap = report.evaluate.and_then(|e| e.overlap).expect("overlap");
    assert!(overlap >= 0.95, "overlap {overlap}");
    // The cues themselves overlap 0.8 with their memories (10 % flipped).
    let w = &capture.arrays["weights/m--m"].1;
    for i in 0..100 {
        assert_eq!(w[i * 100 + i], 0.0, "self-connection {i}");
        for j in 0..i {
            assert_eq!(w[i * 100 + j], w[j * 100 + i], "symmetry {i},{j}");
        }
    }
    assert_eq!(capture.samples.len(), 10);
    assert!(
        capture
            .samples
            .iter()
            .all(|s| s.2.iter().all(|&x| x == 1.0 || x == -1.0))
    );
    assert_eq!(report.projections["m--m"].synapses, 100 * 99);
}

// ---------------------------------------------------------------- errors

#[test]
fn training_through_a_step_activation_needs_straight_through() {
    let mut net = xor();
    let h = net.graph.find_population("h").expect("h");
    net.graph
        .population_mut(h)
        .params
        .insert("activation", sym("sign"));
    let data = data::load(&net).expect("loads");
    let err =
        rate::run(&net, &data, &RunConfig::new(1), &mut Capture::default()).expect_err("refused");
    assert!(
        matches!(&err, SimError::Unsupported(m) if m.contains("straight_through") && m.contains("'h'")),
        "{err}"
    );
    net.graph
        .population_mut(h)
        .params
        .insert("straight_through", Value::Bool(true));
    let (report, _) = run(&net, 1);
    let train = report.train.expect("trained");
    assert!(train.final_loss.is_finite() && train.final_loss < 0.25);
}

#[test]
fn a_dataset_of_the_wrong_width_names_both_sizes() {
    let mut net = xor();
    net.datasets[0].source = DataSource::Inline {
        rows: vec![InlineRow {
            inputs: vec![1.0, 2.0, 3.0],
            targets: Some(vec![1.0]),
        }],
    };
    let err = data::load(&net).expect_err("width mismatch");
    let message = err.to_string();
    assert!(
        message.contains("3 inputs") && message.contains("'x' has 2"),
        "{message}"
    );
    let mut net = xor();
    net.datasets[0].source = DataSource::Csv {
        path: project_file("networks/data/does-not-exist.csv"),
        target: Vec::new(),
        targets: Vec::new(),
        lengths: None,
    };
    let message = data::load(&net).expect_err("missing").to_string();
    assert!(message.contains("does-not-exist.csv"), "{message}");
}

#[test]
fn initial_weights_replace_the_drawn_ones() {
    let net = xor();
    let data = data::load(&net).expect("loads");
    let (_, trained) = run_on(&net, &data, 1);
    let initial: BTreeMap<String, Vec<f32>> = trained
        .arrays
        .iter()
        .map(|(k, (_, v))| (k.clone(), v.clone()))
        .collect();
    let mut no_training = net.clone();
    no_training.train = None;
    let mut capture = Capture::default();
    let options = RateOptions {
        initial: Some(initial),
        ..RateOptions::default()
    };
    let report = rate::run_with(
        &no_training,
        &data,
        &RunConfig::new(1),
        &options,
        &mut capture,
    )
    .expect("runs");
    assert_eq!(report.evaluate.and_then(|e| e.accuracy), Some(1.0));
    assert_eq!(capture.arrays, trained.arrays);
}

#[test]
fn an_interrupt_stops_training_at_a_batch_boundary() {
    let net = xor();
    let data = data::load(&net).expect("loads");
    let config = RunConfig::new(1);
    config
        .interrupt
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let mut capture = Capture::default();
    let report = rate::run(&net, &data, &config, &mut capture).expect("stops cleanly");
    assert!(report.interrupted);
    assert_eq!(report.train.map(|t| t.epochs), Some(0));
    assert!(report.evaluate.is_none() && capture.epochs.is_empty());
    // What there is still comes out: the (untrained) weights.
    assert!(capture.arrays.contains_key("weights/h->y"));
}

#[test]
fn an_undirected_projection_cannot_be_trained_by_backpropagation() {
    // A directed `h -> h` is a recurrent connection trained through time (XOR rows are
    // sequences of one step, so it sees the zero state and XOR still learns) ...
    let mut net = xor();
    let h = net.graph.find_population("h").expect("h");
    project(&mut net, h, h, full_link("zeros"));
    let (report, _) = run(&net, 1);
    assert_eq!(report.evaluate.and_then(|e| e.accuracy), Some(1.0));
    // ... an undirected `h -- h` has no direction for time to run in.
    let mut net = xor();
    let h = net.graph.find_population("h").expect("h");
    let undirected = Link {
        directed: false,
        ..full_link("zeros")
    };
    project(&mut net, h, h, undirected);
    let data = data::load(&net).expect("loads");
    let err =
        rate::run(&net, &data, &RunConfig::new(1), &mut Capture::default()).expect_err("refused");
    assert!(err.to_string().contains("local rule"), "{err}");
}

#[test]
fn oja_rule_on_a_projection_finds_the_principal_direction() {
    let mut net = Network::new("pca", Mode::Rate);
    net.seed = 2;
    let x = input_population(&mut net, "x", 2);
    let y = dense_population(
        &mut net,
        "y",
        1,
        &[
            ("activation", sym("identity")),
            ("bias", Value::Bool(false)),
        ],
    );
    project(
        &mut net,
        x,
        y,
        Link {
            connector: &full::INFO,
            args: &[],
            init: "uniform",
            directed: true,
            plasticity: Some(Plasticity {
                rule: &neurosim::models::plasticity::oja::INFO,
                params: params(&[("rate", num(0.005))]),
            }),
        },
    );
    // Points spread along (1, 2)/√5 with a little noise across it.
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
    let rows = (0..400)
        .map(|_| {
            let (along, across) = (rng.random_range(-1.0..1.0), rng.random_range(-0.1..0.1));
            InlineRow {
                inputs: vec![along - 2.0 * across, 2.0 * along + across],
                targets: None,
            }
        })
        .collect();
    net.datasets
        .push(dataset("points", DataSource::Inline { rows }));
    let mut train = train_block("points", None, adam(1e-3), 20, 1);
    train.optimizer = None;
    net.train = Some(train);
    let (report, capture) = run(&net, 1);
    assert!(
        report.train.expect("trained").final_loss.is_nan(),
        "no loss"
    );
    let w = &capture.arrays["weights/x->y"].1;
    let norm = (w[0] * w[0] + w[1] * w[1]).sqrt();
    assert!((norm - 1.0).abs() < 0.05, "norm {norm}");
    let cosine = (w[0] + 2.0 * w[1]).abs() / (norm * 5f32.sqrt());
    assert!(cosine > 0.99, "cosine {cosine}, weights {w:?}");
}

#[test]
fn a_diverging_run_is_reported() {
    let mut net = xor();
    let y = net.graph.find_population("y").expect("y");
    net.graph
        .population_mut(y)
        .params
        .insert("activation", sym("identity"));
    let mut train = train_block("truth", Some("mse"), adam(0.05), 50, 4);
    train.optimizer = Some(Call {
        name: "sgd".into(),
        args: params(&[("lr", num(1e30))]),
    });
    net.train = Some(train);
    let data = data::load(&net).expect("loads");
    let err =
        rate::run(&net, &data, &RunConfig::new(1), &mut Capture::default()).expect_err("diverges");
    assert!(matches!(err, SimError::Diverged(_)), "{err}");
}

/// A `.net` network trains with every registered optimizer at `lr = 0.01` (so also with
/// `optimizer = nadam(lr = 0.01)`), and its loss falls.
#[test]
fn every_optimizer_trains_a_network_written_in_the_language() {
    for info in neurosim::models::optimizer::REGISTRY {
        let net = compile_net(
            "optimizers.net",
            &format!(
                "network fit : rate {{
                    seed = 3
                    population x : input[2]
                    population y : dense[1] {{ activation = identity }}
                    x -> y : full {{ init = xavier }}
                    dataset d = inline {{
                        [0, 0] -> [0.5]
                        [0, 1] -> [-0.5]
                        [1, 0] -> [2.5]
                        [1, 1] -> [1.5]
                    }}
                    train {{ data = d, loss = mse, optimizer = {}(lr = 0.01), epochs = 200,
                             batch = 4 }}
                }}",
                info.name
            ),
        );
        let (_, capture) = run(&net, 1);
        let losses: Vec<f64> = capture.epochs.iter().map(|e| e.loss).collect();
        let (first, last) = (losses[0], losses[losses.len() - 1]);
        println!("{}: loss {first:.4} -> {last:.4}", info.name);
        assert!(last < 0.75 * first, "{}: {losses:?}", info.name);
    }
}

// ---------------------------------------------------------------- training conveniences

/// `x: input[2] -> y: dense[1]` (identity, with bias), trained with plain SGD on `rows`;
/// every parameter starts from `weights` and `bias`.
fn single_unit(rows: &[([f64; 2], f64)], lr: f64, epochs: usize, options: TrainOptions) -> Network {
    let mut net = Network::new("unit", Mode::Rate);
    let x = input_population(&mut net, "x", 2);
    let y = dense_population(&mut net, "y", 1, &[("activation", sym("identity"))]);
    project(&mut net, x, y, full_link("zeros"));
    let inline = |rows: &[([f64; 2], f64)]| DataSource::Inline {
        rows: rows
            .iter()
            .map(|(i, t)| InlineRow {
                inputs: i.to_vec(),
                targets: Some(vec![*t]),
            })
            .collect(),
    };
    net.datasets.push(dataset("d", inline(rows)));
    let sgd = Call {
        name: "sgd".into(),
        args: params(&[("lr", num(lr))]),
    };
    let mut train = train_block("d", Some("mse"), sgd, epochs, rows.len());
    train.options = options;
    net.train = Some(train);
    net
}

fn run_from(net: &Network, weights: [f32; 2], bias: f32) -> (RunReport, Capture) {
    let data = data::load(net).expect("data loads");
    let initial = BTreeMap::from([
        ("weights/x->y".to_string(), weights.to_vec()),
        ("biases/y".to_string(), vec![bias]),
    ]);
    let options = RateOptions {
        initial: Some(initial),
        ..RateOptions::default()
    };
    let mut capture = Capture::default();
    let report = rate::run_with(net, &data, &RunConfig::new(1), &options, &mut capture)
        .expect("run succeeds");
    (report, capture)
}

fn array(c: &Capture, key: &str) -> Vec<f32> {
    c.arrays[key].1.clone()
}

fn near(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn l1_and_l2_change_one_sgd_step_as_hand_computed() {
    // x = (1, 0), t = 1, w = (0.5, -2), b = 0.25: y = 0.75, mse = 0.0625, dL/dy = -0.5,
    // so the data gradient is -0.5 for w1 and b, 0 for w2. The penalty adds
    // l1·sign(w) + 2·l2·w = (0.1 + 0.01, -0.1 - 0.04) to the weights only; lr = 0.1.
    let options = TrainOptions {
        l1: 0.1,
        l2: 0.01,
        ..TrainOptions::default()
    };
    let net = single_unit(&[([1.0, 0.0], 1.0)], 0.1, 1, options);
    let (_, penalised) = run_from(&net, [0.5, -2.0], 0.25);
    let w = array(&penalised, "weights/x->y");
    assert!(near(w[0], 0.5 - 0.1 * (-0.5 + 0.11)), "w1 = {}", w[0]);
    assert!(near(w[1], -2.0 - 0.1 * (-0.14)), "w2 = {}", w[1]);
    // Biases are not penalised: the same step as without a penalty.
    assert!(near(array(&penalised, "biases/y")[0], 0.3));
    let plain = single_unit(&[([1.0, 0.0], 1.0)], 0.1, 1, TrainOptions::default());
    let (_, plain) = run_from(&plain, [0.5, -2.0], 0.25);
    assert_eq!(array(&plain, "biases/y"), array(&penalised, "biases/y"));
    assert!(near(array(&plain, "weights/x->y")[0], 0.55));
    // The reported loss includes the penalty at the weights of the forward pass (Keras):
    // 0.0625 + 0.1·(0.5 + 2) + 0.01·(0.25 + 4).
    assert!((penalised.epochs[0].loss - 0.355).abs() < 1e-6);
    assert!((plain.epochs[0].loss - 0.0625).abs() < 1e-9);
}

#[test]
fn a_step_schedule_and_warmup_set_each_epochs_learning_rate() {
    // Zero input: the only gradient is l1·sign(w) = 1 on each weight, so every epoch moves
    // w by exactly -lr(epoch). Warmup 2 (lr/2, lr), then step(every = 2, gamma = 0.5):
    // lr, lr, lr/2, lr/2 → w = 1 - 0.01·(0.5 + 1 + 1 + 1 + 0.5 + 0.5) = 0.955.
    let options = TrainOptions {
        l1: 1.0,
        warmup: 2,
        schedule: Some(Schedule::Step {
            every: 2,
            gamma: 0.5,
        }),
        ..TrainOptions::default()
    };
    let net = single_unit(&[([0.0, 0.0], 0.0)], 0.01, 6, options);
    let (_, c) = run_from(&net, [1.0, 2.0], 0.0);
    let w = array(&c, "weights/x->y");
    assert!(near(w[0], 0.955), "w1 = {}", w[0]);
    assert!(near(w[1], 1.955), "w2 = {}", w[1]);
    // Each epoch reports the rate it trained at.
    let rates: Vec<f64> = c.epochs.iter().filter_map(|e| e.learning_rate).collect();
    let want = [0.005, 0.01, 0.01, 0.01, 0.005, 0.005];
    assert_eq!(rates.len(), want.len());
    for (got, want) in rates.iter().zip(want) {
        assert!((got - want).abs() < 1e-9, "{rates:?}");
    }
}

#[test]
fn clipping_bounds_the_step_of_every_parameter() {
    // y = 10·1 + 0 - 0 = 10 against t = 0: dL/dy = 20, gradients (20, 0) and 20 for the bias;
    // their global norm is 20·√2.
    let rows = [([1.0, 0.0], 0.0)];
    let by_norm = TrainOptions {
        clip_norm: Some(1.0),
        ..TrainOptions::default()
    };
    let (_, c) = run_from(&single_unit(&rows, 1.0, 1, by_norm), [10.0, 0.0], 0.0);
    let (w, b) = (array(&c, "weights/x->y"), array(&c, "biases/y")[0]);
    let step = std::f32::consts::FRAC_1_SQRT_2;
    assert!(near(w[0], 10.0 - step) && near(b, -step), "{w:?} {b}");
    assert_eq!(w[1], 0.0);
    let by_value = TrainOptions {
        clip_value: Some(0.5),
        ..TrainOptions::default()
    };
    let (_, c) = run_from(&single_unit(&rows, 1.0, 1, by_value), [10.0, 0.0], 0.0);
    assert!(near(array(&c, "weights/x->y")[0], 9.5));
    assert!(near(array(&c, "biases/y")[0], -0.5));
}

/// Trains towards t = 1 but validates against t = 0.5 (both at x = (1, 0)): the validation
/// loss falls while the output approaches 0.5 and rises after it passes.
fn overshooting(epochs: usize, early: Option<EarlyStopping>) -> Network {
    let options = TrainOptions {
        early_stopping: early,
        ..TrainOptions::default()
    };
    let mut net = single_unit(&[([1.0, 0.0], 1.0)], 0.05, epochs, options);
    net.datasets.push(dataset(
        "v",
        DataSource::Inline {
            rows: vec![InlineRow {
                inputs: vec![1.0, 0.0],
                targets: Some(vec![0.5]),
            }],
        },
    ));
    net.train.as_mut().expect("train").validate = Some("v".into());
    net
}

#[test]
fn early_stopping_stops_after_patience_and_restores_the_best_epoch() {
    // From y = 0 with lr = 0.05 on w1 and b, the output after epoch k is 1 - 0.8^k:
    // 0.2, 0.36, 0.488, 0.590, ... so epoch 3 (|0.488 - 0.5| = 0.012) is the best.
    let (_, reference) = run_from(&overshooting(12, None), [0.0, 0.0], 0.0);
    let val: Vec<f64> = reference
        .epochs
        .iter()
        .map(|e| e.val_loss.expect("validated"))
        .collect();
    let best = 1
        + (0..val.len())
            .min_by(|&a, &b| val[a].total_cmp(&val[b]))
            .expect("epochs");
    assert_eq!(best, 3, "validation losses {val:?}");

    let rule = EarlyStopping {
        patience: 4,
        min_delta: 0.0,
        restore_best: true,
    };
    let (report, stopped) = run_from(&overshooting(12, Some(rule)), [0.0, 0.0], 0.0);
    let train = report.train.expect("trained");
    assert_eq!(train.epochs, 3 + 4);
    assert_eq!(stopped.epochs.len(), 7);
    let stop = train.early_stopping.expect("early stopping report");
    assert!(stop.stopped && stop.restored);
    assert_eq!((stop.best_epoch, stop.patience), (3, 4));
    assert_eq!(stop.best_val_loss, val[2]);
    // The parameters that come out are those after epoch 3, bit for bit.
    let (_, three) = run_from(&overshooting(3, None), [0.0, 0.0], 0.0);
    assert_eq!(stopped.arrays, three.arrays);
    assert!(near(array(&stopped, "biases/y")[0], 0.244));

    // Without restoring, the run ends with the weights of epoch 7.
    let keep_last = EarlyStopping {
        restore_best: false,
        ..rule
    };
    let (report, last) = run_from(&overshooting(12, Some(keep_last)), [0.0, 0.0], 0.0);
    let (_, seven) = run_from(&overshooting(7, None), [0.0, 0.0], 0.0);
    assert_eq!(last.arrays, seven.arrays);
    let stop = report.train.and_then(|t| t.early_stopping).expect("report");
    assert!(stop.stopped && !stop.restored);

    // A patience longer than the run never stops, but still ends with the best epoch.
    let patient = EarlyStopping {
        patience: 20,
        ..rule
    };
    let (report, ran) = run_from(&overshooting(12, Some(patient)), [0.0, 0.0], 0.0);
    let train = report.train.expect("trained");
    assert_eq!(train.epochs, 12);
    let stop = train.early_stopping.expect("report");
    assert!(!stop.stopped && stop.restored);
    assert_eq!(ran.arrays, three.arrays);
}

#[test]
fn conveniences_keep_results_bit_identical_on_one_and_two_threads() {
    let mut net = mnist_mlp(2);
    net.datasets.clear();
    net.evaluate = None;
    let train = net.train.as_mut().expect("train");
    train.validate = None;
    train.options = TrainOptions {
        schedule: Some(Schedule::Cosine {
            epochs: None,
            min_lr: 1e-5,
        }),
        warmup: 1,
        clip_norm: Some(0.5),
        clip_value: Some(0.01),
        l1: 1e-5,
        l2: 1e-4,
        early_stopping: None,
        truncate: None,
    };
    let mut data = Datasets::new();
    data.insert("train".into(), random_table(11, 384, 784, 10, &one_hot));
    let (_, one) = run_on(&net, &data, 1);
    let (_, two) = run_on(&net, &data, 2);
    assert_eq!(one.arrays.len(), 6);
    assert_bit_identical(&one, &two);
    // The options are in effect: without them the same run ends elsewhere.
    net.train.as_mut().expect("train").options = TrainOptions::default();
    let (_, plain) = run_on(&net, &data, 2);
    assert_ne!(plain.arrays, one.arrays);
}

// ---------------------------------------------------------------- sequences

/// A random table of `n` sequences of `steps` steps with `n_inputs` inputs per step and
/// `n_targets` targets per step (`every_step`) or for the last step only.
fn sequence_table(
    seed: u64,
    n: usize,
    steps: usize,
    n_inputs: usize,
    n_targets: usize,
    every_step: bool,
    target: &dyn Fn(&mut rand_xoshiro::Xoshiro256PlusPlus, usize) -> Vec<f32>,
) -> Table {
    let per_row = if every_step { steps } else { 1 };
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut t = random_table(seed, n, steps * n_inputs, n_targets * per_row, &|_, _| {
        Vec::new()
    });
    t.targets = Some(
        (0..n * per_row)
            .flat_map(|_| target(&mut rng, n_targets))
            .collect(),
    );
    t.steps = steps;
    t
}

/// `source` with a train block on dataset `d` minimising `loss`.
fn sequence_net(source: &str, loss: &str) -> Network {
    let mut net = compile_net("sequence.net", source);
    net.train = Some(train_block("d", Some(loss), adam(0.01), 1, 4));
    net
}

#[test]
fn backprop_through_time_matches_finite_differences() {
    // A self projection: the tanh RNN of Elman (1990), a target at every step.
    let rnn = sequence_net(
        "network rnn : rate {
            seed = 3
            population x : input[2]
            population h : dense[4] { activation = tanh }
            population y : dense[2]
            x -> h : full { init = xavier }
            h -> h : full { init = xavier }
            h -> y : full { init = xavier }
        }",
        "mse",
    );
    check_gradients(&rnn, &sequence_table(5, 3, 4, 2, 2, true, &reals));
    // A cycle through two populations (b -> a closes it), one target at the last step.
    let cycle = sequence_net(
        "network cycle : rate {
            seed = 4
            population x : input[3]
            population a : dense[4] { activation = tanh }
            population b : dense[3] { activation = sigmoid }
            population y : dense[3] { activation = softmax }
            x -> a : full { init = xavier }
            a -> b : full { init = xavier }
            b -> a : full { init = xavier }
            b -> y : full { init = xavier }
        }",
        "cross_entropy",
    );
    check_gradients(&cycle, &sequence_table(6, 3, 3, 3, 3, false, &one_hot));
}

#[test]
fn lstm_and_gru_gradients_match_finite_differences() {
    let lstm = sequence_net(
        "network lstm : rate {
            seed = 5
            population x : input[3]
            population l : lstm[4]
            population y : dense[3] { activation = softmax }
            x -> l : full { init = xavier }
            l -> y : full { init = xavier }
        }",
        "cross_entropy",
    );
    check_gradients(&lstm, &sequence_table(7, 3, 4, 3, 3, true, &one_hot));
    // A GRU feeding an LSTM, read at the last step only.
    let stacked = sequence_net(
        "network stacked : rate {
            seed = 6
            population x : input[2]
            population g : gru[3]
            population l : lstm[3]
            population y : dense[2]
            x -> g : full { init = xavier }
            g -> l : full { init = xavier }
            l -> y : full { init = xavier }
        }",
        "mse",
    );
    check_gradients(&stacked, &sequence_table(8, 3, 5, 2, 2, false, &reals));
}

#[test]
fn attention_and_layer_norm_gradients_match_finite_differences() {
    // One transformer-encoder block: attention and a feed-forward layer, each with a
    // residual (identity) projection into a layer norm.
    for causal in [false, true] {
        let net = sequence_net(
            &format!(
                "network block : rate {{
                    seed = 7
                    population x : input[3]
                    population e : dense[4]
                    population a : attention[4] {{ heads = 2, causal = {causal} }}
                    population n1 : layer_norm[4]
                    population f : dense[6] {{ activation = tanh }}
                    population g : dense[4]
                    population n2 : layer_norm[4]
                    population y : dense[3] {{ activation = softmax }}
                    x -> e : full {{ init = xavier }}
                    e -> a : identity
                    e -> n1 : identity
                    a -> n1 : identity
                    n1 -> f : full {{ init = xavier }}
                    f -> g : full {{ init = xavier }}
                    n1 -> n2 : identity
                    g -> n2 : identity
                    n2 -> y : full {{ init = xavier }}
                }}"
            ),
            "cross_entropy",
        );
        check_gradients(&net, &sequence_table(9, 2, 5, 3, 3, true, &one_hot));
    }
}

#[test]
fn truncation_cuts_the_gradient_only_across_its_boundaries() {
    let source = "network rnn : rate {
        seed = 3
        population x : input[2]
        population h : lstm[3]
        population y : dense[1]
        x -> h : full
        h -> y : full
    }";
    let table = sequence_table(5, 3, 6, 2, 1, true, &reals);
    let gradient = |truncate: Option<usize>| {
        let mut net = sequence_net(source, "mse");
        net.train.as_mut().expect("train").options.truncate = truncate;
        let options = RateOptions {
            steps: 6,
            ..RateOptions::default()
        };
        let mut model = Model::build(&net, &options, 3, 1).expect("builds");
        let rows = [0, 1, 2];
        model.set_presented(&[0]);
        model.present(&table, &rows, &[0]);
        model.forward(3);
        model.backward(3);
        model.gradient("weights/x->h").expect("trained").to_vec()
    };
    let full = gradient(None);
    assert_eq!(
        gradient(Some(6)),
        full,
        "a window as long as the sequence cuts nothing"
    );
    let cut = gradient(Some(2));
    assert_ne!(cut, full, "windows of two steps drop the longer paths");
    assert!(cut.iter().all(|g| g.is_finite()));
}

/// The shipped network `name`, with `edit` applied to its text.
fn shipped(name: &str, edit: &dyn Fn(String) -> String) -> Network {
    let text =
        std::fs::read_to_string(project_file(&format!("networks/{name}"))).expect("readable");
    compile_net(name, &edit(text))
}

fn test_accuracy(net: &Network) -> f64 {
    let (report, _) = run(net, 2);
    report.evaluate.and_then(|e| e.accuracy).expect("accuracy")
}

#[test]
fn recurrent_networks_learn_running_parity_and_a_feed_forward_one_cannot() {
    // The LSTM of rnn_sequence.net, a GRU, and an Elman network (a tanh population with a
    // self projection) all reach (nearly) every answer on the held-out streams.
    let lstm = shipped("rnn_sequence.net", &|t| t);
    let gru = shipped("rnn_sequence.net", &|t| t.replace("lstm[16]", "gru[16]"));
    let elman = shipped("rnn_sequence.net", &|t| {
        t.replace(
            "population memory : lstm[16]",
            "population memory : dense[16] { activation = tanh }\n memory -> memory : full",
        )
    });
    for (name, net) in [("lstm", lstm), ("gru", gru), ("elman", elman)] {
        let accuracy = test_accuracy(&net);
        eprintln!("running parity, {name}: {accuracy}");
        assert!(accuracy >= 0.99, "{name}: test accuracy {accuracy}");
    }
    // Without the recurrence only the first step (parity = the bit) is knowable:
    // 0.1 + 0.9 · 0.5 = 55 %.
    let feed_forward = shipped("rnn_sequence.net", &|t| {
        t.replace("lstm[16]", "dense[16] { activation = tanh }")
    });
    let accuracy = test_accuracy(&feed_forward);
    assert!(accuracy < 0.6, "feed-forward test accuracy {accuracy}");
}

#[test]
fn self_attention_learns_to_reverse_and_per_step_layers_cannot() {
    let accuracy = test_accuracy(&shipped("attention.net", &|t| t));
    eprintln!("reversal with attention: {accuracy}");
    assert!(accuracy >= 0.99, "test accuracy {accuracy}");
    let without = shipped("attention.net", &|t| {
        t.replace("population attend : attention[32] { heads = 4 }", "")
            .replace("embed -> attend : identity", "")
            .replace("embed, attend -> norm1", "embed -> norm1")
    });
    let accuracy = test_accuracy(&without);
    // Chance is 1 in 6.
    assert!(
        accuracy < 0.25,
        "without attention: test accuracy {accuracy}"
    );
}

#[test]
fn sequence_training_is_thread_invariant() {
    let short = |t: String| {
        t.replace("length = 10,", "length = 10, limit = 300,")
            .replace("length = 8,", "length = 8, limit = 300,")
    };
    for name in ["rnn_sequence.net", "attention.net"] {
        let net = shipped(name, &short);
        let (_, one) = run(&net, 1);
        let (_, two) = run(&net, 2);
        assert_bit_identical(&one, &two);
    }
}

// ---------------------------------------------------------------- adversarial training

/// Generated points of `capture` (the `record activation of sample` samples).
fn generated_points(capture: &Capture) -> Vec<[f32; 2]> {
    capture
        .samples
        .iter()
        .map(|(_, _, v)| [v[0], v[1]])
        .collect()
}

/// The fraction of `points` within 3 sd of one of the ring's 8 modes, and how many of the
/// modes hold at least 2 % of the points.
fn ring_quality(points: &[[f32; 2]]) -> (f64, usize) {
    let mut per_mode = [0usize; 8];
    for p in points {
        for (k, count) in per_mode.iter_mut().enumerate() {
            let angle = std::f32::consts::TAU * k as f32 / 8.0;
            let (dx, dy) = (p[0] - 2.0 * angle.cos(), p[1] - 2.0 * angle.sin());
            if (dx * dx + dy * dy).sqrt() < 0.15 {
                *count += 1;
            }
        }
    }
    let near: usize = per_mode.iter().sum();
    let covered = per_mode
        .iter()
        .filter(|&&c| c as f64 >= 0.02 * points.len() as f64)
        .count();
    (near as f64 / points.len() as f64, covered)
}

#[test]
fn a_gan_learns_the_ring_of_gaussians() {
    let trained = shipped("gan.net", &|t| t);
    // As good as untrained: one epoch at a vanishing learning rate.
    let untrained = shipped("gan.net", &|t| {
        t.replace("epochs = 150", "epochs = 1")
            .replace("lr = 5e-4", "lr = 1e-12")
    });
    let (report, capture) = run(&trained, 2);
    let (before, untrained_capture) = run(&untrained, 2);
    let mmd = report.evaluate.and_then(|e| e.mmd).expect("mmd");
    let mmd_before = before.evaluate.and_then(|e| e.mmd).expect("mmd");
    let (quality, covered) = ring_quality(&generated_points(&capture));
    let (quality_before, _) = ring_quality(&generated_points(&untrained_capture));
    eprintln!(
        "GAN: mmd {mmd_before} -> {mmd}, near a mode {quality_before} -> {quality}, \
         {covered} of 8 modes covered"
    );
    assert!(mmd < mmd_before, "mmd {mmd_before} -> {mmd}");
    assert!(
        quality_before < 0.05,
        "untrained: {quality_before} near a mode"
    );
    // Full coverage, as the same GAN reaches in PyTorch (benches/compare/pytorch_gan.py):
    // with the file's seed 69 % of the samples lie within 3 sd of a mode and every mode
    // holds at least 2 %; over seeds 1 to 10, 9 cover all 8 modes and one 7.
    assert!(quality > 0.6, "{quality} of the samples near a mode");
    assert_eq!(covered, 8, "modes covered");
}

#[test]
fn gan_training_is_thread_invariant() {
    let net = shipped("gan.net", &|t| {
        t.replace("epochs = 150", "epochs = 2")
            .replace("ring_train.csv\")", "ring_train.csv\", limit = 512)")
    });
    let (_, one) = run(&net, 1);
    let (_, two) = run(&net, 2);
    assert_bit_identical(&one, &two);
    assert_eq!(generated_points(&one), generated_points(&two));
}

#[test]
fn mmd_is_zero_for_equal_sets_and_grows_with_distance() {
    let a: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin()).collect();
    let shifted: Vec<f32> = a.iter().map(|x| x + 0.5).collect();
    let far: Vec<f32> = a.iter().map(|x| x + 3.0).collect();
    let same = rate::mmd(&a, &a, 2);
    assert!(same.abs() < 1e-12, "{same}");
    let (near, away) = (rate::mmd(&a, &shifted, 2), rate::mmd(&a, &far, 2));
    assert!(0.0 < near && near < away, "{near} {away}");
}

#[test]
fn inline_sequences_are_checked_per_step_and_train() {
    // Two-step sequences of one input: the target at each step is the input of step 0
    // (a one-step memory).
    let net = compile_net(
        "inline_sequences.net",
        "network remember : rate {
            seed = 2
            dataset d = inline(length = 2) {
                [1, 0] -> [1, 1]
                [0, 1] -> [0, 0]
                [1, 1] -> [1, 1]
                [0, 0] -> [0, 0]
            }
            population x : input[1]
            population h : lstm[4]
            population y : dense[1] { activation = sigmoid }
            x -> h -> y : full { init = xavier }
            train { data = d, loss = binary_cross_entropy, optimizer = adam(lr = 0.05),
                    epochs = 200, batch = 4 }
            evaluate { data = d, metrics = [accuracy] }
        }",
    );
    assert_eq!(test_accuracy(&net), 1.0);
}

/// Rows of 3 random bits and their parity (at every step, or of the whole stream), padded
/// to `padded` steps with zeros; with `lengths`, a column `n` says each row has 3 steps.
/// Padded steps' targets are empty cells, or wrong values when `lengths` is given.
fn padded_csv(
    dir: &std::path::Path,
    name: &str,
    padded: usize,
    per_step: bool,
    lengths: bool,
) -> PathBuf {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
    let mut header: Vec<String> = (0..padded).map(|t| format!("x{t}")).collect();
    if per_step {
        header.extend((0..padded).map(|t| format!("p{t}")));
    } else {
        header.push("p".into());
    }
    if lengths {
        header.push("n".into());
    }
    let mut text = header.join(",") + "\n";
    for _ in 0..24 {
        let bits: Vec<u32> = (0..3).map(|_| rng.random_range(0..2)).collect();
        let mut cells: Vec<String> = (0..padded)
            .map(|t| bits.get(t).map_or("0".into(), |b| b.to_string()))
            .collect();
        let running: Vec<u32> = bits
            .iter()
            .scan(0, |odd, b| {
                *odd ^= b;
                Some(*odd)
            })
            .collect();
        if per_step {
            // Padded steps get no target (an empty cell), or with `lengths` a wrong one
            // that the lengths must make the loss ignore.
            let padding = if lengths { "1" } else { "" };
            cells.extend(
                (0..padded).map(|t| running.get(t).map_or(padding.into(), |p| p.to_string())),
            );
        } else {
            cells.push(running[2].to_string());
        }
        if lengths {
            cells.push("3".into());
        }
        text += &(cells.join(",") + "\n");
    }
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temporary file writable");
    path
}

/// Trains the populations of `body` on the parity data of `path` (3 steps, or padded to
/// `length`) and returns the run.
fn train_padded(
    path: &std::path::Path,
    length: usize,
    per_step: bool,
    lengths: bool,
    body: &str,
) -> (RunReport, Capture) {
    let targets = if per_step {
        let names: Vec<String> = (0..length).map(|t| format!("\"p{t}\"")).collect();
        names.join(", ")
    } else {
        "\"p\"".into()
    };
    let lengths = if lengths { ", lengths = \"n\"" } else { "" };
    let net = compile_net(
        "padded.net",
        &format!(
            "network padded : rate {{
                seed = 3
                dataset d = csv(\"{}\", length = {length}, targets = [{targets}]{lengths})
                population bit : input[1]
                {body}
                train {{ data = d, loss = binary_cross_entropy,
                        optimizer = adam(lr = 1e-2), epochs = 3, batch = 8 }}
                evaluate {{ data = d, metrics = [accuracy, loss] }}
            }}",
            path.display()
        ),
    );
    run(&net, 2)
}

fn assert_same_training(a: &(RunReport, Capture), b: &(RunReport, Capture)) {
    let (ea, eb) = (
        a.0.evaluate.as_ref().expect("evaluated"),
        b.0.evaluate.as_ref().expect("evaluated"),
    );
    assert_eq!(ea.accuracy, eb.accuracy);
    let (la, lb) = (ea.loss.expect("loss"), eb.loss.expect("loss"));
    assert!((la - lb).abs() < 1e-6 * la.abs().max(1.0), "{la} vs {lb}");
    for (key, (_, values)) in &a.1.arrays {
        let (_, other) = &b.1.arrays[key];
        for (x, y) in values.iter().zip(other) {
            assert!((x - y).abs() < 1e-5, "{key}: {x} vs {y}");
        }
    }
}

#[test]
fn padded_steps_without_targets_change_nothing() {
    // Streams of 3 bits, once as they are and once padded to 5 steps with empty targets:
    // the loss, the accuracy and every trained weight come out the same, because a step
    // without a target adds no loss and no gradient, and the recurrence is causal.
    let dir = tempfile::tempdir().expect("temporary folder");
    let body = "population memory : lstm[4]
                population odd : dense[1] { activation = sigmoid }
                bit -> memory -> odd : full { init = xavier }";
    let plain = padded_csv(dir.path(), "plain.csv", 3, true, false);
    let padded = padded_csv(dir.path(), "padded.csv", 5, true, false);
    assert_same_training(
        &train_padded(&plain, 3, true, false, body),
        &train_padded(&padded, 5, true, false, body),
    );
}

#[test]
fn a_lengths_column_hides_the_padding_from_attention_and_the_loss() {
    // Non-causal attention would look at padded steps, and the padded steps have wrong
    // targets: with `lengths`, the padded run trains exactly as the unpadded one.
    let dir = tempfile::tempdir().expect("temporary folder");
    let body = "population embed : dense[4]
                population attend : attention[4] { heads = 2 }
                population odd : dense[1] { activation = sigmoid }
                bit -> embed : full { init = xavier }
                embed -> attend : identity
                attend -> odd : full { init = xavier }";
    let plain = padded_csv(dir.path(), "plain.csv", 3, true, false);
    let padded = padded_csv(dir.path(), "padded.csv", 5, true, true);
    assert_same_training(
        &train_padded(&plain, 3, true, false, body),
        &train_padded(&padded, 5, true, true, body),
    );
}

#[test]
fn a_lengths_column_reads_a_sequence_to_one_answer_at_each_rows_last_step() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let body = "population memory : lstm[4]
                population odd : dense[1] { activation = sigmoid }
                bit -> memory -> odd : full { init = xavier }";
    let plain = padded_csv(dir.path(), "plain.csv", 3, false, false);
    let padded = padded_csv(dir.path(), "padded.csv", 5, false, true);
    assert_same_training(
        &train_padded(&plain, 3, false, false, body),
        &train_padded(&padded, 5, false, true, body),
    );
}

/// gan.net for one epoch of 512 rows (4 batches), edited by `edit`.
fn short_gan(edit: &dyn Fn(String) -> String) -> Network {
    shipped("gan.net", &|t| {
        edit(
            t.replace("epochs = 150", "epochs = 1")
                .replace("ring_train.csv\")", "ring_train.csv\", limit = 512)"),
        )
    })
}

#[test]
fn each_part_of_a_gan_can_have_its_own_learning_rate() {
    // A generator rate of 1e-20 freezes the generator (its weights stay where they were
    // drawn) while the discriminator learns at the optimizer's rate.
    let frozen = short_gan(&|t| t.replace("lr = 5e-4", "lr = 1e-20"));
    let slow_generator =
        short_gan(&|t| t.replace("batch = 128 }", "batch = 128, generator_lr = 1e-20 }"));
    let (_, frozen) = run(&frozen, 1);
    let (_, slow) = run(&slow_generator, 1);
    let largest_change = |key: &str| {
        let (a, b) = (&frozen.arrays[key].1, &slow.arrays[key].1);
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    assert!(largest_change("weights/noise->g1") < 1e-6);
    assert!(largest_change("weights/g2->sample") < 1e-6);
    assert!(largest_change("weights/sample->d1") > 1e-3);
}

#[test]
fn an_lstm_classifies_streams_of_different_lengths() {
    // One answer per stream, read at the stream's own last step (2 to 12 bits, padded to
    // 12). A feed-forward network sees only that last bit: chance.
    let lstm = shipped("rnn_variable_length.net", &|t| t);
    let feed_forward = shipped("rnn_variable_length.net", &|t| {
        t.replace("lstm[32]", "dense[32] { activation = tanh }")
    });
    let (lstm, ff) = (test_accuracy(&lstm), test_accuracy(&feed_forward));
    eprintln!("variable-length parity: lstm {lstm}, feed-forward {ff}");
    assert!(lstm >= 0.99, "lstm {lstm}");
    assert!(ff < 0.6, "feed-forward {ff}");
}

#[test]
fn discriminator_steps_space_out_the_generators_steps() {
    // 4 batches an epoch: with 8 discriminator steps per generator step the generator never
    // learns in one epoch, and no generator loss is reported; with 2 it learns.
    let with_steps = |k: usize| {
        short_gan(&|t| {
            t.replace(
                "batch = 128 }",
                &format!("batch = 128, discriminator_steps = {k} }}"),
            )
        })
    };
    let frozen = short_gan(&|t| t.replace("lr = 5e-4", "lr = 1e-20"));
    let (_, frozen) = run(&frozen, 1);
    let (_, never) = run(&with_steps(8), 1);
    let (_, every_other) = run(&with_steps(2), 1);
    let change = |c: &Capture, key: &str| {
        let (a, b) = (&frozen.arrays[key].1, &c.arrays[key].1);
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    assert!(change(&never, "weights/noise->g1") < 1e-6);
    assert!(change(&never, "weights/sample->d1") > 1e-3);
    assert_eq!(never.epochs[0].generator_loss, None);
    assert!(change(&every_other, "weights/noise->g1") > 1e-4);
    assert!(every_other.epochs[0].generator_loss.is_some());
}

/// Compiles `.net` source text (one network, no imports).
fn compile_text(text: &str) -> Network {
    let networks = neurosim::testing::compile("hand_set.net", text, &[]);
    networks
        .expect("compiles")
        .into_iter()
        .next()
        .expect("one network")
}

#[test]
fn hand_set_weights_and_biases_are_the_initial_values() {
    // The tutorial's 2-3-2 perceptron, every weight and bias set by hand, checked by hand.
    let net = compile_text(
        "network hand : rate {
            population x : input[2]
            population h : dense[3] { activation = relu, bias = 0.1 }
            population y : dense[2] { activation = identity, bias = -0.2 }
            x -> h : full { weight = 0.5 }
            h -> y : full { weight = -0.25 }
            dataset probe = inline { [1, 2] -> [0, 0] }
            evaluate { data = probe, metrics = [loss] }
            record activation of y
        }",
    );
    let (_, capture) = run(&net, 1);
    let (shape, w1) = &capture.arrays["weights/x->h"];
    assert_eq!(shape, &[3, 2]);
    assert!(w1.iter().all(|&w| w == 0.5), "{w1:?}");
    assert!(capture.arrays["weights/h->y"].1.iter().all(|&w| w == -0.25));
    assert!(capture.arrays["biases/h"].1.iter().all(|&b| b == 0.1));
    assert!(capture.arrays["biases/y"].1.iter().all(|&b| b == -0.2));
    // h = relu(0.5·1 + 0.5·2 + 0.1) = 1.6 each; y = -0.25·3·1.6 - 0.2 = -1.4.
    let (_, _, y) = capture.samples.last().expect("activation of y recorded");
    assert_eq!(y.len(), 2);
    assert!(y.iter().all(|&v| (v + 1.4).abs() < 1e-6), "{y:?}");
}

#[test]
fn a_bias_distribution_is_drawn_per_unit() {
    let net = compile_text(
        "network drawn : rate {
            population x : input[1]
            population y : dense[200] { bias = uniform(-1, -0.5) }
            x -> y : full { weight = 0 }
            dataset probe = inline { [0] }
            evaluate { data = probe, metrics = [] }
        }",
    );
    let (_, capture) = run(&net, 1);
    let b = &capture.arrays["biases/y"].1;
    assert_eq!(b.len(), 200);
    assert!(b.iter().all(|&x| (-1.0..-0.5).contains(&x)), "{b:?}");
    assert!(b.windows(2).any(|p| p[0] != p[1]), "draws differ");
}

#[test]
fn a_weight_distribution_is_drawn_per_weight() {
    let zeros = ["0"; 1000].join(", ");
    let net = compile_text(&format!(
        "network drawn : rate {{
            population x : input[1000]
            population y : dense[1]
            x -> y : full {{ weight = uniform(2, 3) }}
            dataset probe = inline {{ [{zeros}] -> [0] }}
            evaluate {{ data = probe, metrics = [loss] }}
        }}"
    ));
    let (_, capture) = run(&net, 1);
    let w = &capture.arrays["weights/x->y"].1;
    assert_eq!(w.len(), 1000);
    assert!(
        w.iter().all(|&x| (2.0..3.0).contains(&x)),
        "every draw in [2, 3)"
    );
    let mean = w.iter().sum::<f32>() / w.len() as f32;
    assert!((mean - 2.5).abs() < 0.05, "mean {mean}");
    assert!(w.windows(2).any(|p| p[0] != p[1]), "draws differ");
}

/// Sets the interrupt flag when training's last epoch ends, as a Ctrl-C arriving during
/// evaluation would, and notes the order of the calls it gets.
struct InterruptAfterTraining {
    interrupt: std::sync::Arc<std::sync::atomic::AtomicBool>,
    calls: Vec<&'static str>,
}

impl Observer for InterruptAfterTraining {
    fn started(&mut self) -> Result<(), ObserveError> {
        self.calls.push("started");
        Ok(())
    }

    fn epoch(&mut self, _: &EpochStats) -> Result<(), ObserveError> {
        self.calls.push("epoch");
        self.interrupt
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    fn sample(&mut self, _: usize, _: f64, _: &[f32]) -> Result<(), ObserveError> {
        self.calls.push("sample");
        Ok(())
    }

    fn array(&mut self, _: &str, _: &[usize], _: &[f32]) -> Result<(), ObserveError> {
        self.calls.push("array");
        Ok(())
    }
}

#[test]
fn an_interrupt_stops_evaluation_and_reports_no_metrics() {
    // RELIABILITY 4: evaluation (Hopfield recall here) never looked at the flag.
    let net = hopfield();
    let data = data::load(&net).expect("loads");
    let config = RunConfig::new(1);
    let mut observer = InterruptAfterTraining {
        interrupt: config.interrupt.clone(),
        calls: Vec::new(),
    };
    let report = rate::run(&net, &data, &config, &mut observer).expect("runs");
    assert!(report.interrupted);
    assert!(report.evaluate.is_none(), "{:?}", report.evaluate);
    assert_eq!(
        observer.calls,
        vec!["started", "epoch", "array"],
        "started first; no recall sample after the interrupt; the trained weights still go out"
    );
}

#[test]
fn a_connector_draws_the_same_synapses_in_rate_and_spiking_mode() {
    // Both engines draw a projection's rows through `sim::connect::synapses` from the
    // streams (seed, Connect, [projection id, row]); equal counts over several seeds of a
    // Bernoulli connector (56 pairs, p = 0.5) would be a coincidence otherwise.
    let config = neurosim::sim::RunConfig::new(1);
    let zeros = ["0"; 8].join(", ");
    let mut counts = Vec::new();
    for seed in 1..=4 {
        let rate = compile_text(&format!(
            "network r : rate {{
                seed = {seed}
                population a : input[8]
                population b : dense[7]
                a -> b : random(p = 0.5)
                dataset d = inline {{ [{zeros}] -> [0, 0, 0, 0, 0, 0, 0] }}
                evaluate {{ data = d, metrics = [loss] }}
            }}"
        ));
        let spiking = compile_text(&format!(
            "network s : spiking {{
                seed = {seed}
                population a : poisson[8] {{ rate = 10 Hz }}
                population b : lif[7]
                a -> b : random(p = 0.5) {{ weight = 1 mV }}
                simulate 1 ms
            }}"
        ));
        let data = data::load(&rate).expect("data loads");
        let rate_report =
            neurosim::sim::rate::run(&rate, &data, &config, &mut neurosim::sim::NullObserver)
                .expect("rate run");
        let spiking_report =
            neurosim::sim::spiking::run(&spiking, &config, &mut neurosim::sim::NullObserver)
                .expect("spiking run");
        let rate_count = rate_report.projections["a->b"].synapses;
        assert_eq!(
            rate_count, spiking_report.projections["a->b"].synapses,
            "seed {seed}"
        );
        counts.push(rate_count);
    }
    counts.dedup();
    assert!(
        counts.len() > 1,
        "the seeds drew different networks: {counts:?}"
    );
}

#[test]
fn pairwise_poisson_runs_in_both_modes_from_one_registration() {
    // Added as one file plus its registry line: the checker asks its `fits`, both engines
    // draw through `generate`. Spiking keeps every multapse; a rate matrix has one weight per
    // pair, so it counts the distinct pairs of the same draw.
    let config = neurosim::sim::RunConfig::new(1);
    let connector = "pairwise_poisson(mean = 0.5, multapses = true)";
    let rate = compile_text(&format!(
        "network r : rate {{
            population a : input[30]
            population b : dense[20]
            a -> b : {connector}
            dataset d = inline {{ [{}] -> [{}] }}
            evaluate {{ data = d, metrics = [loss] }}
        }}",
        ["0"; 30].join(", "),
        ["0"; 20].join(", ")
    ));
    let spiking = compile_text(&format!(
        "network s : spiking {{
            population a : poisson[30] {{ rate = 10 Hz }}
            population b : lif[20]
            a -> b : {connector} {{ weight = 0.1 mV }}
            simulate 1 ms
        }}"
    ));
    let data = data::load(&rate).expect("data loads");
    let null = &mut neurosim::sim::NullObserver;
    let rate = neurosim::sim::rate::run(&rate, &data, &config, null).expect("rate run");
    let spiking = neurosim::sim::spiking::run(&spiking, &config, null).expect("spiking run");
    let all = spiking.projections["a->b"].synapses as f64;
    let distinct = rate.projections["a->b"].synapses as f64;
    // 600 pairs · 0.5 = 300 expected synapses (sd ≈ 17); P(pair used) = 1 − e^−0.5 ≈ 0.39.
    assert!((all - 300.0).abs() < 5.0 * 300f64.sqrt(), "{all} synapses");
    assert!((distinct - 236.0).abs() < 60.0, "{distinct} distinct pairs");
    assert!(distinct < all);
}
