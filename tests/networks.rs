//! Every example in `networks/` compiles, runs, and its deterministic run summary is pinned
//! with an insta snapshot (the `neurosim::testing` API users get for their own networks).
//!
//! `mnist_mlp.net` and `cnn_mnist.net` take minutes to train; they are covered by the rate
//! engine's tests (a short run in the suite, the full run as an ignored test).
//! `microcircuit.net` (3e8 synapses, 6 GB) is pinned at 1 % of its size below.

/// Networks whose full run is too slow for the default suite (minutes, not seconds).
const HEAVY: &[&str] = &["mnist_mlp.net", "cnn_mnist.net", "microcircuit.net"];

#[test]
fn every_example_network_has_a_pinned_summary() {
    insta::glob!("../networks", "*.net", |path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if HEAVY.contains(&name) {
            return;
        }
        let summary =
            neurosim::testing::run_summary(path, 2).unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(summary);
    });
}

#[test]
fn summaries_do_not_depend_on_the_thread_count() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("networks");
    for name in ["cuba.net", "xor.net", "cuba_equations.net", "cobahh.net"] {
        let path = root.join(name);
        let one = neurosim::testing::run_summary(&path, 1).expect("runs on one thread");
        let two = neurosim::testing::run_summary(&path, 2).expect("runs on two threads");
        assert_eq!(one, two, "{name}");
    }
}

/// `networks/microcircuit.net` as written, at 1 % of its neurons and synapses: every
/// population size times 0.01 (rounded), `scale = 0.01`, so the synapse counts are the
/// reference's full-scale counts scaled down.
#[test]
fn the_microcircuit_at_one_percent_has_a_pinned_summary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("networks");
    let mut text = std::fs::read_to_string(root.join("microcircuit.net")).expect("the file");
    assert!(
        text.contains("let scale = 1\n"),
        "the file's scale constant"
    );
    text = text.replace("let scale = 1\n", "let scale = 0.01\n");
    for n in [20683u32, 5834, 21915, 5479, 4850, 1065, 14395, 2948] {
        let written = format!("[{n} * scale]");
        assert!(text.contains(&written), "population size {written}");
        text = text.replace(&written, &format!("[{}]", (n as f64 * 0.01).round()));
    }
    let dir = std::env::temp_dir().join(format!("neurosim-microcircuit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("microcircuit_1pct.net");
    std::fs::write(&path, text).expect("write");
    let summary = neurosim::testing::run_summary(&path, 2).expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    insta::assert_snapshot!(summary);
}
