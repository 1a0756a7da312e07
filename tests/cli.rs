//! The command line as a user meets it: exit codes, summaries, refusals and overrides.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn neurosim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurosim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// `neurosim run FILE --json --quiet --force -o o.h5 EXTRA...` in `dir`.
fn run_json(dir: &Path, file: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--json",
        "--quiet",
        "--force",
        "-o",
        "o.h5",
    ];
    args.extend_from_slice(extra);
    neurosim(&args, dir)
}

/// The JSON summary a `--json` run prints last.
fn last_json(out: &Output) -> serde_json::Value {
    let stdout = text(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, source: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, source).expect("temp file");
    path
}

const TINY_SPIKING: &str = "network tiny : spiking {
    seed = 1
    dt = 0.1 ms
    population P : poisson[20] { rate = 50 Hz }
    population N : lif[10] { tau_m = 10 ms }
    P -> N : fixed_indegree(k = 5) { weight = 1 mV, delay = 1 ms }
    record spikes of P, N
    simulate 100 ms
}
";

#[test]
fn version_and_help_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = neurosim(&["--version"], dir.path());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = neurosim(&["run", "--help"], dir.path());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("--set"));
}

#[test]
fn usage_errors_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(neurosim(&[], dir.path()).status.code(), Some(2));
    assert_eq!(
        neurosim(&["run", "--bogus"], dir.path()).status.code(),
        Some(2)
    );
    let file = write(dir.path(), "tiny.net", TINY_SPIKING);
    let out = neurosim(
        &["run", file.to_str().unwrap(), "--set", "novalue"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("PATH=VALUE"));
    let out = neurosim(
        &["check", file.to_str().unwrap(), "--network", "tiyn"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean 'tiny'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = neurosim(&["check", "nowhere.net"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read nowhere.net"));
}

#[test]
fn check_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.net", TINY_SPIKING);
    let out = neurosim(&["check", file.to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("network tiny (spiking"), "{stdout}");
    assert!(stdout.contains("P->N"), "{stdout}");
    assert!(stdout.contains("50 synapses"), "{stdout}");
}

#[test]
fn an_invalid_model_exits_one_with_a_located_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.net",
        &TINY_SPIKING.replace("tau_m = 10 ms", "tau_mem = 10 ms"),
    );
    let out = neurosim(&["check", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.net:5:"), "{stderr}");
    assert!(stderr.contains("tau_m"), "{stderr}");
}

#[test]
fn a_network_too_large_for_memory_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "huge.net",
        "network huge : spiking {
    population A : lif[100000000]
    population B : lif[100000000]
    A -> B : full { weight = 1 mV }
    simulate 1 s
}
",
    );
    let started = std::time::Instant::now();
    let out = neurosim(&["check", file.to_str().unwrap()], dir.path());
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("A->B"), "{stderr}");
    assert!(stderr.contains("1.000e16 synapses"), "{stderr}");
    assert!(stderr.contains("PiB"), "{stderr}");
    // Not a timing assertion on speed, only that nothing was allocated: a run of this size
    // would take hours, so finishing at all within the test proves the refusal came first.
    assert!(elapsed.as_secs() < 60);
}

#[test]
fn a_rate_network_whose_batch_buffers_do_not_fit_is_refused_before_running() {
    // 8,192 LSTM units over 1,000-step sequences in batches of 256: the weights are small,
    // the activations and gradients of every step are not (about 137 GiB).
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "long.net",
        "network long_memory : rate {
    dataset streams = csv(\"streams.csv\", length = 1000, targets = [\"p\"])
    population bit    : input[1]
    population memory : lstm[8192]
    population odd    : dense[1] { activation = sigmoid }
    bit -> memory -> odd : full
    train { data = streams, loss = binary_cross_entropy, batch = 256 }
}
",
    );
    let out = neurosim(
        &["run", file.to_str().unwrap(), "-o", "long.h5"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("E0900") && stderr.contains("GiB"),
        "{stderr}"
    );
    assert!(stderr.contains("long.net:4:5"), "{stderr}");
    assert!(stderr.contains("256000 columns"), "{stderr}");
    assert!(!dir.path().join("long.h5").exists());
}

#[test]
fn graph_renders_dot_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.net", TINY_SPIKING);
    let out = neurosim(
        &["graph", file.to_str().unwrap(), "--format", "dot"],
        dir.path(),
    );
    assert!(out.status.success());
    let dot = text(&out.stdout);
    assert!(dot.starts_with("digraph \"tiny\""), "{dot}");
    assert!(dot.contains("p0 -> p1"), "{dot}");
    let out = neurosim(
        &["graph", file.to_str().unwrap(), "--format", "json"],
        dir.path(),
    );
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(json["populations"][1]["name"], "N");
    assert_eq!(json["projections"][0]["expected_synapses"], 50.0);
    assert_eq!(json["populations"][1]["params"]["tau_m"], 10.0);
}

#[test]
fn run_writes_json_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.net", TINY_SPIKING);
    let out = neurosim(
        &["run", file.to_str().unwrap(), "--json", "--quiet"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let last = stdout.lines().last().unwrap_or("");
    let json: serde_json::Value = serde_json::from_str(last).expect("JSON last line");
    assert_eq!(json["network"], "tiny");
    assert_eq!(json["mode"], "spiking");
    assert_eq!(json["projections"]["P->N"]["synapses"], 50);
    assert!(json["timing"]["run_s"].is_number());
    assert!(dir.path().join("tiny.h5").exists());

    let again = neurosim(&["run", file.to_str().unwrap(), "--quiet"], dir.path());
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("--force"));
    let forced = neurosim(
        &["run", file.to_str().unwrap(), "--quiet", "--force"],
        dir.path(),
    );
    assert!(forced.status.success(), "{}", text(&forced.stderr));
}

#[test]
fn overrides_and_seed_change_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.net", TINY_SPIKING);
    let run = |extra: &[&str]| {
        let out = run_json(dir.path(), &file, extra);
        assert!(out.status.success(), "{}", text(&out.stderr));
        last_json(&out)
    };
    let base = run(&[]);
    assert_eq!(base["seed"], 1);
    let seeded = run(&["--seed", "9"]);
    assert_eq!(seeded["seed"], 9);
    let silent = run(&["--set", "P.rate=0 Hz"]);
    assert_eq!(silent["populations"]["P"]["spikes"], 0);
    let out = neurosim(
        &["run", file.to_str().unwrap(), "--set", "P.rate=5 mV"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
}

const TINY_RATE: &str = "network and_gate : rate {
    seed = 5
    population x : input[2]
    population y : dense[1] { activation = sigmoid }
    x -> y : full { init = xavier }
    dataset truth = inline {
        [0, 0] -> [0]
        [0, 1] -> [0]
        [1, 0] -> [0]
        [1, 1] -> [1]
    }
    train { data = truth, loss = mse, optimizer = adam(lr = 0.1), epochs = 200, batch = 4 }
    evaluate { data = truth, metrics = [accuracy] }
    record loss every 1 epoch
}
";

#[test]
fn set_overrides_the_train_blocks_options() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "and.net", TINY_RATE);
    let run = |extra: &[&str]| run_json(dir.path(), &file, extra);
    let out = run(&[
        "--set",
        "train.epochs=7",
        "--set",
        "train.optimizer=sgd(lr = 0.5)",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = last_json(&out);
    assert_eq!(json["train"]["epochs"], 7, "{json}");
    let out = run(&["--set", "train.epoch=7"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("E0102") && stderr.contains("did you mean `epochs`?"),
        "{stderr}"
    );
}

#[test]
fn inspect_and_plot_read_a_run_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "and.net", TINY_RATE);
    let out = neurosim(
        &["run", file.to_str().unwrap(), "--quiet", "--plot"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("and_loss.png").exists());
    assert!(dir.path().join("and_weights_x_to_y.png").exists());

    let out = neurosim(&["inspect", "and.h5"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("network and_gate"), "{stdout}");
    assert!(stdout.contains("status complete"), "{stdout}");
    assert!(stdout.contains("training (200 epochs)"), "{stdout}");
    assert!(stdout.contains("weights/x->y"), "{stdout}");

    let out = neurosim(
        &["plot", "and.h5", "--format", "svg", "-o", "pictures"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let svg =
        std::fs::read_to_string(dir.path().join("pictures/and_loss.svg")).expect("svg written");
    assert!(svg.contains("epoch"));

    let out = neurosim(&["inspect", "missing.h5"], dir.path());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn from_replays_a_stored_run_and_weights_continue_training() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tiny.net", TINY_SPIKING);
    let out = neurosim(
        &[
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--set",
            "P.rate=80 Hz",
            "--seed",
            "4",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The .net file may change or vanish: the output carries the experiment.
    std::fs::remove_file(&file).unwrap();
    let out = neurosim(
        &[
            "run", "--from", "tiny.h5", "-o", "again.h5", "--quiet", "--json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap_or("")).expect("JSON");
    assert_eq!(json["seed"], 4);
    let first =
        neurosim::record::hdf5::read_spikes(&dir.path().join("tiny.h5"), "P").expect("spikes");
    let again =
        neurosim::record::hdf5::read_spikes(&dir.path().join("again.h5"), "P").expect("spikes");
    assert!(!first.0.is_empty());
    assert_eq!(
        first, again,
        "a replay must reproduce the run spike for spike"
    );

    let file = write(dir.path(), "and.net", TINY_RATE);
    let out = neurosim(
        &["run", file.to_str().unwrap(), "--quiet", "--json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap_or("")).unwrap();
    let out = neurosim(
        &[
            "run",
            "and.net",
            "--weights",
            "and.h5",
            "-o",
            "more.h5",
            "--quiet",
            "--json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let more: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap_or("")).unwrap();
    let (a, b) = (
        first["train"]["final_loss"].as_f64().unwrap(),
        more["train"]["final_loss"].as_f64().unwrap(),
    );
    assert!(
        b < a,
        "continuing from trained weights lowers the loss further: {a} -> {b}"
    );
    let out = neurosim(&["run", "tiny.h5", "--weights", "and.h5"], dir.path());
    assert_ne!(out.status.code(), Some(0));
}

/// A run long enough to be interrupted: 100 s of 2,000 Poisson sources.
const LONG_SPIKING: &str = "network long : spiking {
    seed = 3
    population P : poisson[2000] { rate = 20 Hz }
    record spikes of P
    simulate 100 s
}
";

fn wait_for(path: &Path) {
    for _ in 0..200 {
        if path.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    // Let it record something beyond the empty file.
    std::thread::sleep(std::time::Duration::from_millis(300));
}

#[test]
fn ctrl_c_leaves_a_complete_file_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "long.net", LONG_SPIKING);
    let child = Command::new(env!("CARGO_BIN_EXE_neurosim"))
        .args(["run", file.to_str().unwrap(), "--quiet", "--json"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join(".long.h5.tmp"));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let path = dir.path().join("long.h5");
    let status = neurosim::record::hdf5::read_status(&path).expect("a readable file");
    assert_eq!(status, Ok(neurosim::record::RunStatus::Interrupted));
    let (times, ids) = neurosim::record::hdf5::read_spikes(&path, "P").expect("spikes");
    assert_eq!(times.len(), ids.len());
    assert!(
        !times.is_empty(),
        "the spikes recorded before Ctrl-C are kept"
    );
    assert!(times.last().copied().unwrap_or(0.0) < 100_000.0);
    let json: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap_or("")).expect("JSON");
    assert_eq!(json["interrupted"], true);
}

#[test]
fn a_killed_run_never_leaves_a_file_under_the_final_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "long.net", LONG_SPIKING);
    let mut child = Command::new(env!("CARGO_BIN_EXE_neurosim"))
        .args(["run", file.to_str().unwrap(), "--quiet"])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let temp = dir.path().join(".long.h5.tmp");
    wait_for(&temp);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.path().join("long.h5").exists());
    assert!(temp.exists(), "the partial run stays in the temporary file");
}

#[test]
fn early_stopping_reports_the_epochs_run_and_why_it_stopped() {
    // Trains towards 1 but validates against 0.5: the output 1 - 0.8^k passes 0.5 after
    // epoch 3, so patience 4 stops training after epoch 7 and restores epoch 3.
    let source = "network overshoot : rate {
    population x : input[2]
    population y : dense[1] { activation = identity }
    x -> y : full { init = zeros }
    dataset fit = inline { [1, 0] -> [1] }
    dataset held_out = inline { [1, 0] -> [0.5] }
    train { data = fit, validate = held_out, loss = mse, optimizer = sgd(lr = 0.05)
            epochs = 50, early_stopping = 4, schedule = exponential(gamma = 1) }
}
";
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "overshoot.net", source);
    let out = neurosim(&["run", file.to_str().unwrap(), "--json"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "training stopped early after epoch 7: the validation loss did not improve for 4 \
             epochs (best 0.00014 at epoch 3); restored the parameters of epoch 3"
        ),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    let json: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).expect("JSON last line");
    assert_eq!(json["train"]["epochs"], 7);
    assert_eq!(json["train"]["early_stopping"]["stopped"], true);
    assert_eq!(json["train"]["early_stopping"]["best_epoch"], 3);
    assert_eq!(json["train"]["early_stopping"]["restored"], true);
}

/// 100 Poisson neurons at 40 Hz, of which only `P[10..20]` is recorded.
const SLICE_SPIKING: &str = "network slice : spiking {
    seed = 2
    dt = 0.1 ms
    population P : poisson[100] { rate = 40 Hz }
    record spikes of P[10..20]
    simulate 500 ms
}
";

#[test]
fn inspect_and_plot_rates_of_a_recorded_slice_divide_by_the_slice() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "slice.net", SLICE_SPIKING);
    let out = run_json(dir.path(), &file, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (times, ids) =
        neurosim::record::hdf5::read_spikes(&dir.path().join("o.h5"), "P").expect("spikes");
    assert!(ids.iter().all(|&id| (10..20).contains(&id)), "{ids:?}");
    // The slice's rate from its own spikes: count / 10 neurons / 0.5 s.
    let expected = times.len() as f64 / 10.0 / 0.5;
    assert!(expected > 20.0, "too few spikes to tell: {expected} Hz");

    let out = neurosim(&["inspect", "o.h5", "--json"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = last_json(&out);
    let p = &json["spikes"]["P"];
    assert_eq!(p["neurons"], 10, "{json}");
    assert_eq!(p["node_ids"], serde_json::json!([10, 20]), "{json}");
    assert_eq!(p["spikes"], times.len(), "{json}");
    let rate = p["rate_hz"].as_f64().expect("a rate");
    assert!(
        (rate - expected).abs() < 1e-9,
        "{rate} Hz, expected {expected} Hz"
    );
    // Not the whole population's division (ten times smaller).
    assert!(rate > 5.0 * times.len() as f64 / 100.0 / 0.5, "{rate} Hz");

    let out = neurosim(&["inspect", "o.h5"], dir.path());
    let stdout = text(&out.stdout);
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("P "))
        .unwrap_or_else(|| panic!("no row for P in {stdout}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], "10", "{row}");
    assert_eq!(cells[3], format!("{expected:.3}"), "{row}");
}

/// A regression (mse, no accuracy asked for): a line through three points.
const TINY_REGRESSION: &str = "network line : rate {
    seed = 5
    population x : input[1]
    population y : dense[1] { activation = identity }
    x -> y : full { init = xavier }
    dataset points = inline {
        [0] -> [0.5]
        [1] -> [1.5]
        [2] -> [2.5]
    }
    train { data = points, loss = mse, optimizer = sgd(lr = 0.05), epochs = 5, batch = 3 }
    evaluate { data = points, metrics = [loss] }
}
";

/// A Hopfield network of 6 units storing 2 patterns: a local rule, no loss.
const TINY_HOPFIELD: &str = "network memory : rate {
    seed = 3
    population m : dense[6] { activation = sign, bias = false }
    m -- m : full { init = zeros, plasticity = hebbian(rate = 0.1) }
    dataset memories = inline {
        [1, -1, 1, -1, 1, -1]
        [1, 1, 1, -1, -1, -1]
    }
    train { data = memories, epochs = 3 }
    evaluate { data = memories, steps = 5, metrics = [overlap] }
    record activation of m
}
";

/// The epoch lines `run` prints to stderr (not a terminal here: plain lines).
fn epoch_lines(dir: &Path, file: &Path) -> Vec<String> {
    let out = neurosim(
        &["run", file.to_str().unwrap(), "--force", "-o", "o.h5"],
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let lines: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains(" epoch "))
        .map(str::to_string)
        .collect();
    assert!(!lines.is_empty(), "no epoch lines in {stderr}");
    lines
}

#[test]
fn epoch_lines_show_accuracy_only_where_it_means_something() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "line.net", TINY_REGRESSION);
    for line in epoch_lines(dir.path(), &file) {
        assert!(line.contains("loss "), "{line}");
        assert!(
            !line.contains("acc"),
            "a regression shows an accuracy: {line}"
        );
    }
    // inspect and plot leave the regression's accuracy column out too.
    let out = neurosim(&["inspect", "o.h5"], dir.path());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("training (5 epochs)"), "{stdout}");
    assert!(!stdout.contains("accuracy"), "{stdout}");
    let out = neurosim(&["plot", "o.h5", "-o", "pictures"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.path().join("pictures/o_loss.png").exists());
    assert!(!dir.path().join("pictures/o_accuracy.png").exists());

    // Accuracy asked for (`evaluate { metrics = [accuracy] }`): shown.
    let file = write(dir.path(), "and.net", TINY_RATE);
    let lines = epoch_lines(dir.path(), &file);
    assert!(lines.iter().all(|l| l.contains("  acc ")), "{lines:?}");
}

#[test]
fn a_local_rule_prints_no_nan_loss_and_inspect_shows_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "memory.net", TINY_HOPFIELD);
    for line in epoch_lines(dir.path(), &file) {
        assert!(!line.contains("NaN") && !line.contains("loss"), "{line}");
    }
    let out = neurosim(&["inspect", "o.h5", "--json"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = last_json(&out);
    let overlap = json["evaluation"]["overlap"].as_f64().expect("overlap");
    // Two stored patterns recalled from themselves: perfect overlap.
    assert!((overlap - 1.0).abs() < 1e-9, "{json}");
    let out = neurosim(&["inspect", "o.h5"], dir.path());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("training (3 epochs, local rules: no loss)\n  evaluation:"),
        "{stdout}"
    );
    assert!(stdout.contains("overlap      1.000000"), "{stdout}");
}

#[test]
fn record_activation_samples_each_evaluation_row_once_after_recall() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "memory.net", TINY_HOPFIELD);
    let out = run_json(dir.path(), &file, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let samples = neurosim::record::hdf5::read_samples(&dir.path().join("o.h5"), "activations/m")
        .expect("activations");
    // Nothing from the three training epochs: one sample per row of the evaluate dataset,
    // its time the row index, its values the state after the `steps` of recall.
    assert_eq!(samples.times, vec![0.0, 1.0]);
    assert_eq!(samples.n_columns, 6);
    assert_eq!(
        samples.values,
        vec![
            1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0
        ]
    );
}

/// Replaces the one occurrence of `ids[..4]` (as stored: little-endian u64) in `file` by
/// `u64::MAX` followed by the other three, corrupting the first stored node id.
fn corrupt_first_node_id(file: &Path, ids: &[u64]) {
    let mut bytes = std::fs::read(file).unwrap();
    let pattern: Vec<u8> = ids[..4].iter().flat_map(|id| id.to_le_bytes()).collect();
    let at: Vec<usize> = bytes
        .windows(pattern.len())
        .enumerate()
        .filter(|(_, w)| *w == pattern.as_slice())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "the node ids are stored once, uncompressed");
    bytes[at[0]..at[0] + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(file, bytes).unwrap();
}

#[test]
fn corrupt_node_ids_are_refused_or_bounded_never_sized_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "slice.net", SLICE_SPIKING);
    let out = run_json(dir.path(), &file, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let output = dir.path().join("o.h5");
    let (_, ids) = neurosim::record::hdf5::read_spikes(&output, "P").expect("spikes");
    corrupt_first_node_id(&output, &ids);
    let (_, corrupted) = neurosim::record::hdf5::read_spikes(&output, "P").expect("spikes");
    assert_eq!(corrupted[0], u64::MAX);

    for command in ["inspect", "plot"] {
        let out = neurosim(&[command, "o.h5"], dir.path());
        assert_eq!(
            out.status.code(),
            Some(1),
            "{command}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("is corrupt")
                && stderr.contains("neuron 18446744073709551615")
                && stderr.contains("10..20 of 100"),
            "{command}: {stderr}"
        );
    }
    assert!(!dir.path().join("o_raster.png").exists());

    // A stored source that no longer compiles (its import is gone): no sizes to check
    // against, and nothing is sized from the ids either.
    let dir = tempfile::tempdir().unwrap();
    let lib = write(
        dir.path(),
        "lib.net",
        "let source = poisson { rate = 40 Hz }\n",
    );
    let source = SLICE_SPIKING.replace("poisson[100] { rate = 40 Hz }", "source[100]");
    let file = write(
        dir.path(),
        "imports.net",
        &format!("import \"lib.net\"\n{source}"),
    );
    let out = run_json(dir.path(), &file, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::remove_file(lib).unwrap();
    let output = dir.path().join("o.h5");
    let (_, ids) = neurosim::record::hdf5::read_spikes(&output, "P").expect("spikes");
    corrupt_first_node_id(&output, &ids);
    let out = neurosim(&["inspect", "o.h5", "--json"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = last_json(&out);
    assert_eq!(json["spikes"]["P"]["spikes"], ids.len(), "{json}");
    assert_eq!(json["spikes"]["P"]["neurons"], u64::MAX, "{json}");
    let out = neurosim(&["plot", "o.h5"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn plot_replaces_pictures_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "slice.net", SLICE_SPIKING);
    let out = run_json(dir.path(), &file, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = neurosim(&["plot", "o.h5"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let raster = dir.path().join("o_raster.png");
    let rate = dir.path().join("o_rate.png");
    assert!(rate.exists());
    std::fs::write(&raster, b"a picture of my own").unwrap();
    std::fs::remove_file(&rate).unwrap();

    let out = neurosim(&["plot", "o.h5"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("o_raster.png exists; pass --force"),
        "{stderr}"
    );
    // Refused as a whole: nothing replaced, nothing added, no temporary file left.
    assert_eq!(std::fs::read(&raster).unwrap(), b"a picture of my own");
    assert!(!rate.exists());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp")), "{names:?}");

    let out = neurosim(&["plot", "o.h5", "--force"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&raster).unwrap().starts_with(b"\x89PNG"));
    assert!(rate.exists());
}
