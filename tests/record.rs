//! The HDF5 output end to end: what an engine sends through `Observer` comes back unchanged
//! through neurosim's readers, hdf5-pure, h5py and libsonata; the file appears under its
//! final name only when the run finishes; errors are reported before a run starts.

use std::path::{Path, PathBuf};
use std::process::Command;

use neurosim::diag::Span;
use neurosim::ir::{
    Interval, Network, Population, PopulationId, Projection, Receptor, Record, RecordTarget,
    Recordable, Train, Value,
};
use neurosim::models::Mode;
use neurosim::record::hdf5::{
    Hdf5Recorder, RecorderOptions, read_arrays, read_provenance, read_samples, read_spikes,
    read_status, read_training,
};
use neurosim::record::memory::MemoryRecorder;
use neurosim::record::{Provenance, RecordError, RunStatus};
use neurosim::sim::{EpochStats, Observer, PopulationReport, ProjectionReport, RunReport};
use neurosim::units::Dim;

fn population(name: &str, model: &str, size: usize) -> Population {
    Population {
        name: name.into(),
        model: neurosim::models::neuron::find(model).expect("model is registered"),
        shape: vec![size],
        params: Default::default(),
        init: Default::default(),
        span: Span::default(),
    }
}

fn projection(name: &str, source: PopulationId, target: PopulationId) -> Projection {
    Projection {
        name: name.into(),
        source,
        target,
        directed: true,
        connector: neurosim::models::connector::find("full").expect("connector is registered"),
        connector_args: Default::default(),
        weight: Some(Value::Number(0.5)),
        weight_dim: Dim::VOLTAGE,
        delay: None,
        receptor: Receptor::Excitatory,
        init: None,
        plasticity: None,
        extra: Default::default(),
        span: Span::default(),
    }
}

fn record(what: Recordable, targets: Vec<RecordTarget>) -> Record {
    Record {
        what,
        targets,
        every: None,
        window: None,
        span: Span::default(),
    }
}

fn whole(id: PopulationId) -> RecordTarget {
    RecordTarget::Population { id, range: None }
}

fn slice(id: PopulationId, start: usize, end: usize) -> RecordTarget {
    RecordTarget::Population {
        id,
        range: Some((start, end)),
    }
}

/// E (100 lif), I (25 lif, only I[0..10] kept), X (10 poisson, not recorded);
/// v of E[0..5] and of I; weights of E->I.
fn spiking_network() -> Network {
    let mut net = Network::new("balanced", Mode::Spiking);
    net.seed = 42;
    let e = net.graph.add_population(population("E", "lif", 100));
    let i = net.graph.add_population(population("I", "lif", 25));
    let x = net.graph.add_population(population("X", "poisson", 10));
    let ei = net.graph.add_projection(projection("E->I", e, i));
    net.graph.add_projection(projection("X->E", x, e));
    net.records = vec![
        record(Recordable::Spikes, vec![whole(e), slice(i, 0, 10)]),
        record(
            Recordable::State("v".into()),
            vec![slice(e, 0, 5), whole(i)],
        ),
        record(Recordable::Weight, vec![RecordTarget::Projection(ei)]),
    ];
    net
}

fn provenance(network: &str) -> Provenance {
    Provenance {
        source: "network balanced : spiking {\n    // ünïcode survives\n}\n".into(),
        file_name: "balanced.net".into(),
        version: "0.1.0".into(),
        seed: 42,
        threads: 2,
        start_time: "2026-11-23T18:40:20Z".into(),
        command_line: "neurosim run balanced.net --set seed=42".into(),
        overrides: vec!["seed=42".into(), "E.tau_m=15ms".into()],
        network: network.into(),
    }
}

/// A deterministic stand-in for an engine: spikes of every population each step (some
/// neurons outside the recorded slices), samples every 10 steps, one weight sample.
fn feed(observer: &mut dyn Observer, steps: usize) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for step in 0..steps {
        let t = (step + 1) as f64 * 0.1;
        for (pop, size) in [(0u32, 100u64), (1, 25), (2, 10)] {
            let mut fired: Vec<u32> = (0..3).map(|_| (next() % size) as u32).collect();
            fired.sort_unstable();
            fired.dedup();
            observer
                .spikes(PopulationId(pop), t, &fired)
                .expect("spikes accepted");
        }
        if step % 10 == 0 {
            let values: Vec<f32> = (0..30).map(|k| -65.0 + (step + k) as f32 * 0.01).collect();
            observer.sample(1, t, &values).expect("state accepted");
        }
        if step % 500 == 0 {
            let weights: Vec<f32> = (0..2500).map(|k| (k + step) as f32 * 1e-3).collect();
            observer.sample(2, t, &weights).expect("weights accepted");
        }
    }
}

fn report() -> RunReport {
    let mut report = RunReport::default();
    report.populations.insert(
        "E".into(),
        PopulationReport {
            size: 100,
            spikes: Some(3000),
            rate_hz: Some(30.0),
        },
    );
    report
        .projections
        .insert("E->I".into(), ProjectionReport { synapses: 2500 });
    report.build_s = 0.25;
    report.run_s = 1.5;
    report
}

fn record_spiking(dir: &Path, steps: usize) -> (PathBuf, MemoryRecorder) {
    let net = spiking_network();
    let out = dir.join("balanced.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("balanced"), &net).unwrap();
    let mut memory = MemoryRecorder::new(&net).unwrap();
    feed(&mut recorder, steps);
    feed(&mut memory, steps);
    let written = recorder.finish(&report(), RunStatus::Complete).unwrap();
    assert_eq!(written, out);
    (out, memory)
}

#[test]
fn spikes_come_back_exactly_and_only_for_recorded_neurons() {
    let dir = tempfile::tempdir().unwrap();
    let (out, memory) = record_spiking(dir.path(), 20_000);

    let (times, ids) = read_spikes(&out, "E").unwrap();
    let expected = &memory.spikes["E"];
    assert!(times.len() > 40_000, "E fired {} times", times.len());
    assert_eq!(times, expected.times_ms);
    assert_eq!(ids, expected.neurons);

    // Only I[0..10] was recorded.
    let (times_i, ids_i) = read_spikes(&out, "I").unwrap();
    assert!(!ids_i.is_empty());
    assert!(ids_i.iter().all(|&n| n < 10));
    assert_eq!(ids_i, memory.spikes["I"].neurons);
    assert_eq!(times_i, memory.spikes["I"].times_ms);
    assert!(times_i.windows(2).all(|w| w[0] <= w[1]));

    // X was never named in a `record spikes` statement.
    assert!(matches!(
        read_spikes(&out, "X"),
        Err(RecordError::Missing { .. })
    ));
}

#[test]
fn samples_are_flattened_rows_with_their_columns_and_times() {
    let dir = tempfile::tempdir().unwrap();
    let (out, memory) = record_spiking(dir.path(), 2_000);
    let file = hdf5_pure::File::open(&out).unwrap();

    let data = file.dataset("report/E/v/data").unwrap();
    let attrs = data.attrs().unwrap();
    assert_eq!(attrs["n_columns"].as_u64(), Some(5));
    assert_eq!(attrs["units"].as_str(), Some("mV"));
    assert_eq!(
        data.read_f32().unwrap(),
        memory.samples["report/E/v"].values
    );
    assert_eq!(
        file.dataset("report/E/v/node_ids")
            .unwrap()
            .read_u64()
            .unwrap(),
        vec![0, 1, 2, 3, 4]
    );
    let time = file.dataset("report/I/v/time").unwrap();
    assert_eq!(time.attrs().unwrap()["units"].as_str(), Some("ms"));
    assert_eq!(time.read_f64().unwrap(), memory.samples["report/I/v"].times);
    assert_eq!(time.read_f64().unwrap().len(), 200);
    let i_values = file.dataset("report/I/v/data").unwrap().read_f32().unwrap();
    assert_eq!(i_values.len(), 200 * 25);
    // The I columns are values 5..30 of each sample.
    assert_eq!(i_values[0], -65.0 + 5.0 * 0.01);

    let weights = file.dataset("weights_over_time/E->I/data").unwrap();
    assert_eq!(weights.attrs().unwrap()["n_columns"].as_u64(), Some(2500));
    assert_eq!(
        weights.read_f32().unwrap(),
        memory.samples["weights_over_time/E->I"].values
    );
    assert_eq!(weights.read_f32().unwrap().len(), 4 * 2500);
}

#[test]
fn provenance_status_and_summary_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = record_spiking(dir.path(), 100);
    assert_eq!(read_provenance(&out).unwrap(), provenance("balanced"));
    assert_eq!(read_status(&out).unwrap(), Ok(RunStatus::Complete));

    let file = hdf5_pure::File::open(&out).unwrap();
    let summary = file.group("summary").unwrap().attrs().unwrap();
    assert_eq!(summary["run_s"].as_f64(), Some(1.5));
    let json: serde_json::Value = serde_json::from_str(summary["json"].as_str().unwrap()).unwrap();
    assert_eq!(json["populations"]["E"]["spikes"], 3000);
    assert_eq!(
        file.dataset("summary/projection_synapses")
            .unwrap()
            .read_u64()
            .unwrap(),
        vec![2500]
    );
}

#[test]
fn the_file_has_its_final_name_only_after_finish() {
    let dir = tempfile::tempdir().unwrap();
    let net = spiking_network();
    let out = dir.path().join("run.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("balanced"), &net).unwrap();
    let temp = recorder.temp_path().to_path_buf();
    let pid = std::process::id();
    assert_eq!(temp, dir.path().join(format!(".run.h5.{pid}.tmp")));
    feed(&mut recorder, 100);
    assert!(recorder.temp_path().exists());
    assert!(!out.exists());
    recorder.finish(&report(), RunStatus::Interrupted).unwrap();
    assert!(out.exists());
    assert!(!temp.exists());
    assert_eq!(read_status(&out).unwrap(), Ok(RunStatus::Interrupted));
}

#[test]
fn a_killed_run_leaves_only_a_readable_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let net = spiking_network();
    let out = dir.path().join("killed.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("balanced"), &net).unwrap();
    feed(&mut recorder, 300);
    recorder.flush().unwrap();
    let kept = recorder.spike_count(PopulationId(0));
    let temp = recorder.temp_path().to_path_buf();
    // Dropping without `finish` is what a killed process leaves behind.
    drop(recorder);
    assert!(!out.exists());
    assert_eq!(read_status(&temp).unwrap(), Err("running".to_string()));
    let (times, _) = read_spikes(&temp, "E").unwrap();
    assert_eq!(times.len() as u64, kept);
    assert!(kept > 0);
}

#[test]
fn periodic_flushes_put_partial_chunks_in_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flushed.h5");
    let options = RecorderOptions {
        flush_interval: std::time::Duration::ZERO,
        ..RecorderOptions::default()
    };
    let mut recorder =
        Hdf5Recorder::create_with_options(&out, &provenance("x"), &spiking_network(), &options)
            .unwrap();
    recorder.spikes(PopulationId(0), 0.1, &[4, 7]).unwrap();
    recorder.spikes(PopulationId(0), 0.2, &[9]).unwrap();
    // Read while the recorder is still open, as after a hard kill.
    let (times, ids) = read_spikes(recorder.temp_path(), "E").unwrap();
    assert_eq!(ids, vec![4, 7, 9]);
    assert_eq!(times, vec![0.1, 0.1, 0.2]);
    recorder.discard().unwrap();
}

#[test]
fn the_memory_recorder_can_keep_every_population() {
    let net = spiking_network();
    let mut only_recorded = MemoryRecorder::new(&net).unwrap();
    let mut everything = MemoryRecorder::with_all_spikes(&net).unwrap();
    feed(&mut only_recorded, 50);
    feed(&mut everything, 50);
    assert!(!only_recorded.spikes.contains_key("X"));
    assert!(!everything.spikes["X"].neurons.is_empty());
    assert!(everything.spikes["I"].neurons.len() > only_recorded.spikes["I"].neurons.len());
    let summary = only_recorded.summary();
    assert_eq!(summary.samples["report/E/v"], 5);
    assert_eq!(
        summary.spikes["E"],
        only_recorded.spikes["E"].times_ms.len()
    );
}

/// Set in the child process of `a_hard_kill_mid_run_leaves_a_readable_temporary_file`.
const CHILD_OUTPUT: &str = "NEUROSIM_RECORD_TEST_CHILD_OUTPUT";

#[test]
#[ignore = "the child half of a_hard_kill_mid_run_leaves_a_readable_temporary_file"]
fn hard_kill_child() {
    let Ok(out) = std::env::var(CHILD_OUTPUT) else {
        eprintln!("only runs as a child process");
        return;
    };
    let options = RecorderOptions {
        flush_interval: std::time::Duration::ZERO,
        ..RecorderOptions::default()
    };
    let mut recorder = Hdf5Recorder::create_with_options(
        Path::new(&out),
        &provenance("balanced"),
        &spiking_network(),
        &options,
    )
    .unwrap();
    use std::io::Write;
    for step in 0u64.. {
        let t = step as f64 * 0.1;
        recorder
            .spikes(PopulationId(0), t, &[(step % 100) as u32])
            .unwrap();
        if step == 500 {
            println!("ready {}", recorder.spike_count(PopulationId(0)));
            std::io::stdout().flush().unwrap();
        }
    }
}

#[test]
fn a_hard_kill_mid_run_leaves_a_readable_temporary_file() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("killed.h5");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hard_kill_child", "--ignored", "--nocapture"])
        .env(CHILD_OUTPUT, &out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("ready ").map(str::to_string));
    // SIGKILL: no destructor, no finish.
    child.kill().unwrap();
    child.wait().unwrap();
    let written: usize = ready.expect("the child got going").parse().unwrap();

    assert!(!out.exists(), "nothing under the final name");
    let temp = dir.path().join(format!(".killed.h5.{}.tmp", child.id()));
    assert_eq!(read_status(&temp).unwrap(), Err("running".to_string()));
    assert_eq!(read_provenance(&temp).unwrap(), provenance("balanced"));
    let (times, ids) = read_spikes(&temp, "E").unwrap();
    assert!(times.len() >= written, "{} < {written}", times.len());
    assert_eq!(times.len(), ids.len());
    assert!(ids.iter().enumerate().all(|(k, &id)| id == k as u64 % 100));
    assert!(times.iter().enumerate().all(|(k, &t)| t == k as f64 * 0.1));
    // The datasets themselves differ by at most the one spike being flushed when killed.
    let file = hdf5_pure::File::open(&temp).unwrap();
    let n_times = file
        .dataset("spikes/E/timestamps")
        .unwrap()
        .shape()
        .unwrap()[0];
    let n_ids = file.dataset("spikes/E/node_ids").unwrap().shape().unwrap()[0];
    assert!(n_times.abs_diff(n_ids) <= 1, "{n_times} vs {n_ids}");
}

#[test]
fn failed_status_carries_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("failed.h5");
    let recorder = Hdf5Recorder::create(&out, &provenance("x"), &spiking_network()).unwrap();
    recorder
        .finish(
            &RunReport::default(),
            RunStatus::Failed("training diverged: loss is NaN".into()),
        )
        .unwrap();
    assert_eq!(
        read_status(&out).unwrap(),
        Ok(RunStatus::Failed("training diverged: loss is NaN".into()))
    );
}

#[test]
fn discard_removes_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.h5");
    let recorder = Hdf5Recorder::create(&out, &provenance("x"), &spiking_network()).unwrap();
    let temp = recorder.temp_path().to_path_buf();
    assert!(temp.exists());
    recorder.discard().unwrap();
    assert!(!temp.exists());
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_unusable_folder_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let net = spiking_network();
    let missing = dir.path().join("no/such/folder/out.h5");
    let err = Hdf5Recorder::create(&missing, &provenance("x"), &net)
        .err()
        .expect("a missing folder is refused");
    assert!(matches!(err, RecordError::NotWritable { .. }), "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");

    let a_file = dir.path().join("plain.txt");
    std::fs::write(&a_file, "x").unwrap();
    let err = Hdf5Recorder::create(&a_file.join("out.h5"), &provenance("x"), &net)
        .err()
        .expect("a file as folder is refused");
    assert!(matches!(err, RecordError::NotWritable { .. }), "{err}");

    let err = Hdf5Recorder::create(dir.path(), &provenance("x"), &net)
        .err()
        .expect("a folder as output is refused");
    assert!(matches!(err, RecordError::NotWritable { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn a_read_only_folder_is_refused_before_the_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Permission bits do not bind the superuser: nothing to check then.
    if std::fs::write(locked.join("probe"), "x").is_ok() {
        eprintln!("skipped: running with permissions that ignore a read-only folder");
        return;
    }
    let err = Hdf5Recorder::create(&locked.join("out.h5"), &provenance("x"), &spiking_network())
        .err()
        .expect("a read-only folder is refused");
    assert!(matches!(err, RecordError::NotWritable { .. }), "{err}");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn spikes_out_of_time_order_drop_the_sorting_claim() {
    let dir = tempfile::tempdir().unwrap();
    let net = spiking_network();
    let out = dir.path().join("unsorted.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("x"), &net).unwrap();
    recorder.spikes(PopulationId(0), 2.0, &[1, 2]).unwrap();
    recorder.spikes(PopulationId(0), 1.0, &[3]).unwrap();
    recorder.spikes(PopulationId(1), 1.0, &[3]).unwrap();
    recorder.finish(&report(), RunStatus::Complete).unwrap();
    let file = hdf5_pure::File::open(&out).unwrap();
    let e = file.group("spikes/E").unwrap().attrs().unwrap();
    let i = file.group("spikes/I").unwrap().attrs().unwrap();
    assert!(!e.contains_key("sorting"));
    assert_eq!(i["sorting"].as_u64(), Some(2), "by_time = 2");
}

/// Rate mode: x (2 inputs) -> h (3) -> y (1); activations of y, training, trained arrays.
fn rate_network() -> Network {
    let mut net = Network::new("xor", Mode::Rate);
    let x = net.graph.add_population(population("x", "input", 2));
    let h = net.graph.add_population(population("h", "dense", 3));
    let y = net.graph.add_population(population("y", "dense", 1));
    net.graph.add_projection(projection("x->h", x, h));
    net.graph.add_projection(projection("h->y", h, y));
    net.train = Some(Train {
        data: "truth".into(),
        loss: Some("mse".into()),
        optimizer: None,
        epochs: 3,
        batch: 4,
        validate: None,
        options: Default::default(),
        shuffle: true,
        adversarial: None,
        span: Span::default(),
    });
    net.records = vec![
        Record {
            every: Some(Interval::Epochs(1)),
            window: None,
            ..record(Recordable::Loss, vec![])
        },
        record(Recordable::Activation, vec![whole(y)]),
    ];
    net
}

fn feed_rate(observer: &mut dyn Observer) {
    for epoch in 1..=3 {
        for sample in 0..4 {
            let t = ((epoch - 1) * 4 + sample) as f64;
            observer.sample(1, t, &[0.1 * t as f32]).unwrap();
        }
        observer
            .epoch(&EpochStats {
                epoch,
                loss: 1.0 / epoch as f64,
                accuracy: Some(0.25 * epoch as f64),
                val_loss: None,
                val_accuracy: None,
                generator_loss: None,
                learning_rate: Some(1e-3 / epoch as f64),
                seconds: 0.01,
            })
            .unwrap();
    }
    let w: Vec<f32> = (0..6).map(|k| k as f32 * 0.5).collect();
    observer.array("weights/x->h", &[2, 3], &w).unwrap();
    observer.array("/biases/h", &[3], &[0.1, 0.2, 0.3]).unwrap();
    // A later write of the same array replaces the first.
    observer.array("biases/h", &[3], &[1.0, 2.0, 3.0]).unwrap();
}

#[test]
fn rate_mode_training_curves_activations_and_trained_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let net = rate_network();
    let out = dir.path().join("xor.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("xor"), &net).unwrap();
    feed_rate(&mut recorder);
    let rate_report = RunReport {
        train: Some(neurosim::sim::TrainReport {
            epochs: 3,
            final_loss: 1.0 / 3.0,
            epoch_s: vec![0.01; 3],
            early_stopping: None,
        }),
        ..RunReport::default()
    };
    recorder.finish(&rate_report, RunStatus::Complete).unwrap();

    let file = hdf5_pure::File::open(&out).unwrap();
    assert_eq!(
        file.dataset("training/epoch").unwrap().read_u64().unwrap(),
        vec![1, 2, 3]
    );
    assert_eq!(
        file.dataset("training/loss").unwrap().read_f64().unwrap(),
        vec![1.0, 0.5, 1.0 / 3.0]
    );
    let val = file
        .dataset("training/val_loss")
        .unwrap()
        .read_f64()
        .unwrap();
    assert!(val.len() == 3 && val.iter().all(|v| v.is_nan()));
    assert_eq!(
        file.dataset("training/learning_rate")
            .unwrap()
            .read_f64()
            .unwrap(),
        vec![1e-3, 1e-3 / 2.0, 1e-3 / 3.0]
    );
    let act = file.dataset("activations/y/data").unwrap();
    assert_eq!(act.attrs().unwrap()["n_columns"].as_u64(), Some(1));
    assert_eq!(act.read_f32().unwrap().len(), 12);
    assert_eq!(
        file.dataset("activations/y/time").unwrap().attrs().unwrap()["units"].as_str(),
        Some("step")
    );

    let curves = read_training(&out).unwrap();
    assert_eq!(curves.len(), 3);
    assert_eq!(curves[1].accuracy, Some(0.5));
    assert_eq!(curves[1].val_loss, None);
    let activations = read_samples(&out, "activations/y").unwrap();
    assert_eq!(activations.n_columns, 1);
    assert_eq!(activations.node_ids, Some(vec![0]));
    assert_eq!(activations.times, memory_times(&net));
    let weights = read_arrays(&out, "weights").unwrap();
    assert_eq!(weights.len(), 1);
    let (shape, values) = &weights["weights/x->h"];
    assert_eq!(shape, &vec![2, 3]);
    assert_eq!(values, &vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
    let biases = read_arrays(&out, "/biases").unwrap();
    assert_eq!(biases["biases/h"], (vec![3], vec![1.0, 2.0, 3.0]));
    assert!(matches!(
        read_arrays(&out, "nothing"),
        Err(RecordError::Missing { .. })
    ));
    let memory = {
        let mut m = MemoryRecorder::new(&net).unwrap();
        feed_rate(&mut m);
        m
    };
    assert_eq!(memory.summary().epochs, 3);
    assert_eq!(memory.arrays["biases/h"], biases["biases/h"]);
}

fn memory_times(net: &Network) -> Vec<f64> {
    let mut memory = MemoryRecorder::new(net).unwrap();
    feed_rate(&mut memory);
    memory.samples["activations/y"].times.clone()
}

#[test]
fn malformed_data_is_refused_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let net = spiking_network();
    let out = dir.path().join("bad.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("x"), &net).unwrap();
    assert!(recorder.sample(1, 0.1, &[1.0; 7]).is_err());
    assert!(recorder.array("weights/a", &[2, 2], &[1.0; 3]).is_err());
    assert!(recorder.array("weights//a", &[1], &[1.0]).is_err());
    // A weight record takes its width from the first sample and holds it.
    recorder.sample(2, 0.1, &[1.0; 4]).unwrap();
    assert!(recorder.sample(2, 0.2, &[1.0; 5]).is_err());
    let mut memory = MemoryRecorder::new(&net).unwrap();
    assert!(memory.sample(1, 0.1, &[1.0; 7]).is_err());
    recorder.discard().unwrap();
}

// ---------------------------------------------------------------------------------------
// Cross-checks with the reference HDF5 library (h5py) and libsonata; skipped when absent.

fn python_script(script: &str, args: &[&str]) -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(script);
    let output = match Command::new("python3").arg(&script).args(args).output() {
        Ok(output) => output,
        Err(_) => {
            eprintln!("skipped: python3 is not installed");
            return None;
        }
    };
    if output.status.code() == Some(3) {
        eprintln!("skipped: the Python package {script:?} needs is not installed");
        return None;
    }
    assert!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).unwrap())
}

fn bits(value: &serde_json::Value) -> Vec<u64> {
    serde_json::from_value(value.clone()).expect("a list of bit patterns")
}

#[test]
fn h5py_reads_every_dataset_and_attribute_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let (out, memory) = record_spiking(dir.path(), 3_000);
    let Some(json) = python_script("read_output.py", &[out.to_str().unwrap()]) else {
        return;
    };
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    let root = &summary["root_attrs"];
    let p = provenance("balanced");
    assert_eq!(root["source"]["value"], p.source.as_str());
    assert_eq!(root["seed"]["value"], 42);
    assert_eq!(root["status"]["value"], "complete");
    assert_eq!(
        root["overrides"]["value"],
        serde_json::json!(["seed=42", "E.tau_m=15ms"])
    );

    let ds = &summary["datasets"];
    let e = &memory.spikes["E"];
    let times = &ds["spikes/E/timestamps"];
    assert_eq!(times["dtype"], "<f8");
    assert_eq!(times["maxshape"], serde_json::json!([-1]));
    // Uncompressed by default so that libsonata (built without deflate) reads it.
    assert_eq!(times["compression"], serde_json::Value::Null);
    assert_eq!(ds["report/E/v/data"]["compression"], "gzip");
    assert_eq!(times["attrs"]["units"]["value"], "ms");
    assert!(
        bits(&times["bits"]) == e.times_ms.iter().map(|t| t.to_bits()).collect::<Vec<_>>(),
        "spike times differ"
    );
    assert_eq!(ds["spikes/E/node_ids"]["dtype"], "<u8");
    let h5py_ids: Vec<u64> =
        serde_json::from_value(ds["spikes/E/node_ids"]["values"].clone()).unwrap();
    assert!(h5py_ids == e.neurons, "spike ids differ");

    let sorting = &summary["groups"]["spikes/E"]["attrs"]["sorting"];
    assert_eq!(sorting["value"], 2);
    assert_eq!(
        sorting["enum"],
        serde_json::json!({"none": 0, "by_id": 1, "by_time": 2})
    );
    assert_eq!(sorting["enum_base_size"], 1);

    let v = &ds["report/E/v/data"];
    assert_eq!(v["dtype"], "<f4");
    assert_eq!(v["attrs"]["n_columns"]["value"], 5);
    let written: Vec<u64> = memory.samples["report/E/v"]
        .values
        .iter()
        .map(|v| u64::from(v.to_bits()))
        .collect();
    assert!(bits(&v["bits"]) == written, "samples differ");
    assert_eq!(
        ds["summary/population_names"]["values"],
        serde_json::json!(["E"])
    );

    // Rate mode: 2-D arrays keep their shape, curves their values.
    let net = rate_network();
    let out = dir.path().join("xor.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("xor"), &net).unwrap();
    feed_rate(&mut recorder);
    recorder
        .finish(&RunReport::default(), RunStatus::Complete)
        .unwrap();
    let json = python_script("read_output.py", &[out.to_str().unwrap()]).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ds = &summary["datasets"];
    assert_eq!(ds["weights/x->h"]["shape"], serde_json::json!([2, 3]));
    assert_eq!(
        ds["weights/x->h"]["values"],
        serde_json::json!([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    );
    assert_eq!(ds["biases/h"]["shape"], serde_json::json!([3]));
    assert_eq!(ds["training/epoch"]["values"], serde_json::json!([1, 2, 3]));
    assert_eq!(
        ds["training/accuracy"]["values"],
        serde_json::json!([0.25, 0.5, 0.75])
    );
    assert_eq!(
        ds["training/val_loss"]["values"],
        serde_json::json!(["nan", "nan", "nan"])
    );
    assert_eq!(summary["root_attrs"]["mode"]["value"], "rate");
}

#[test]
fn rows_wider_than_a_chunk_still_read_back_everywhere() {
    // 40,000 synapses per sample: a chunk then holds less than one row.
    let dir = tempfile::tempdir().unwrap();
    let net = spiking_network();
    let out = dir.path().join("wide.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("x"), &net).unwrap();
    let mut sum = 0.0f64;
    for sample in 0..3 {
        let weights: Vec<f32> = (0..40_000).map(|k| (k % 1000 + sample) as f32).collect();
        sum += weights.iter().map(|&w| f64::from(w)).sum::<f64>();
        recorder.sample(2, sample as f64, &weights).unwrap();
    }
    recorder
        .finish(&RunReport::default(), RunStatus::Complete)
        .unwrap();
    let samples = read_samples(&out, "weights_over_time/E->I").unwrap();
    assert_eq!(samples.n_columns, 40_000);
    assert_eq!(samples.values.len(), 120_000);
    assert_eq!(samples.values[40_000 + 999], 1000.0);
    let Some(json) = python_script("read_output.py", &[out.to_str().unwrap()]) else {
        return;
    };
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    let data = &summary["datasets"]["weights_over_time/E->I/data"];
    assert_eq!(data["shape"], serde_json::json!([120_000]));
    assert_eq!(data["sum"].as_f64(), Some(sum));
}

#[test]
fn libsonata_reads_the_spike_report() {
    let dir = tempfile::tempdir().unwrap();
    let (out, memory) = record_spiking(dir.path(), 2_000);
    let Some(json) = python_script("read_sonata.py", &[out.to_str().unwrap(), "E"]) else {
        return;
    };
    let sonata: serde_json::Value = serde_json::from_str(&json).unwrap();
    let e = &memory.spikes["E"];
    let ids: Vec<u64> = serde_json::from_value(sonata["node_ids"].clone()).unwrap();
    let times: Vec<u64> = serde_json::from_value(sonata["timestamp_bits"].clone()).unwrap();
    assert_eq!(ids.len(), e.neurons.len());
    assert!(ids == e.neurons, "libsonata's node ids differ");
    let written: Vec<u64> = e.times_ms.iter().map(|t| t.to_bits()).collect();
    assert!(times == written, "libsonata's timestamps differ");
    assert!(sonata["sorting"].as_str().unwrap().contains("by_time"));
}

// ---------------------------------------------------------------------------------------
// Heavy: memory stays bounded however many spikes stream through.

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
#[ignore = "streams 10 million sampled values (a few seconds); run with --ignored --nocapture"]
fn ten_million_sample_values_stream_in_bounded_memory() {
    // `record v of E` for 1,000 neurons, every step for 10,000 steps.
    let dir = tempfile::tempdir().unwrap();
    let mut net = Network::new("big", Mode::Spiking);
    let e = net.graph.add_population(population("E", "lif", 1_000));
    net.records = vec![record(Recordable::State("v".into()), vec![whole(e)])];
    let out = dir.path().join("v.h5");
    let mut recorder = Hdf5Recorder::create(&out, &provenance("big"), &net).unwrap();
    let before = rss_kib();
    let start = std::time::Instant::now();
    let mut values = vec![0.0f32; 1_000];
    let mut peak = 0;
    for step in 0..10_000usize {
        for (k, v) in values.iter_mut().enumerate() {
            *v = -65.0 + ((step * 31 + k * 17) % 1500) as f32 * 0.01;
        }
        recorder.sample(0, step as f64 * 0.1, &values).unwrap();
        if step % 1_000 == 0 {
            peak = peak.max(rss_kib().unwrap_or(0));
        }
    }
    recorder
        .finish(&RunReport::default(), RunStatus::Complete)
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let size = std::fs::metadata(&out).unwrap().len();
    println!(
        "10M samples values: {seconds:.2} s, {:.1} MB/s payload, file {:.1} MB, RSS before {before:?} KiB, peak {peak} KiB",
        40e6 / seconds / 1e6,
        size as f64 / 1e6
    );
    let samples = read_samples(&out, "report/E/v").unwrap();
    assert_eq!(samples.values.len(), 10_000_000);
    assert_eq!(samples.times.len(), 10_000);
    if let Some(before) = before {
        assert!(
            peak < before + 64 * 1024,
            "RSS grew from {before} KiB to {peak} KiB"
        );
    }
}

#[test]
#[ignore = "streams 10 million spikes twice (about 10 s); run with --ignored --nocapture"]
fn ten_million_spikes_stream_in_bounded_memory() {
    for compress_spikes in [false, true] {
        stream_ten_million_spikes(compress_spikes);
    }
}

fn stream_ten_million_spikes(compress_spikes: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Network::new("big", Mode::Spiking);
    let e = net.graph.add_population(population("E", "lif", 100_000));
    net.records = vec![record(Recordable::Spikes, vec![whole(e)])];
    let out = dir.path().join("big.h5");
    let options = RecorderOptions {
        compress_spikes,
        ..RecorderOptions::default()
    };
    let mut recorder =
        Hdf5Recorder::create_with_options(&out, &provenance("big"), &net, &options).unwrap();
    let before = rss_kib();
    let start = std::time::Instant::now();
    let mut ids = Vec::with_capacity(100);
    let mut peak = 0;
    for step in 0..100_000u64 {
        ids.clear();
        ids.extend((0..100u64).map(|k| ((step * 7919 + k * 104_729) % 100_000) as u32));
        ids.sort_unstable();
        recorder.spikes(e, step as f64 * 0.1, &ids).unwrap();
        if step % 10_000 == 0 {
            peak = peak.max(rss_kib().unwrap_or(0));
        }
    }
    recorder
        .finish(&RunReport::default(), RunStatus::Complete)
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    peak = peak.max(rss_kib().unwrap_or(0));
    let size = std::fs::metadata(&out).unwrap().len();
    let payload = 10_000_000.0 * 16.0;
    println!(
        "10M spikes, compress_spikes = {compress_spikes}: {seconds:.2} s, {:.1} MB/s payload, file {:.1} MB, RSS before {:?} KiB, peak {peak} KiB",
        payload / seconds / 1e6,
        size as f64 / 1e6,
        before
    );
    let (times, ids) = read_spikes(&out, "E").unwrap();
    assert_eq!(times.len(), 10_000_000);
    assert_eq!(ids.len(), 10_000_000);
    // 160 MB went through; the process grew by far less than that.
    if let Some(before) = before {
        assert!(
            peak < before + 64 * 1024,
            "RSS grew from {before} KiB to {peak} KiB"
        );
    }
}

#[test]
fn recorders_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Hdf5Recorder>();
    assert_send::<MemoryRecorder>();
}

#[test]
fn a_second_recorder_on_the_same_output_is_refused_and_leaves_the_first_alone() {
    let dir = tempfile::tempdir().unwrap();
    let net = spiking_network();
    let out = dir.path().join("shared.h5");
    let mut first = Hdf5Recorder::create(&out, &provenance("balanced"), &net).unwrap();
    feed(&mut first, 100);
    first.flush().unwrap();
    let kept = first.spike_count(PopulationId(0));
    let err = Hdf5Recorder::create(&out, &provenance("balanced"), &net)
        .err()
        .expect("the output is taken");
    assert!(
        matches!(err, neurosim::record::RecordError::InUse { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("in use by another neurosim run"),
        "{err}"
    );
    let (times, _) = read_spikes(first.temp_path(), "E").unwrap();
    assert_eq!(
        times.len() as u64,
        kept,
        "the first run's file is untouched"
    );
    first.finish(&report(), RunStatus::Complete).unwrap();
    assert_eq!(read_status(&out).unwrap(), Ok(RunStatus::Complete));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["shared.h5".to_string()],
        "no lock or temporary file is left"
    );
}
