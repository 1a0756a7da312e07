//! Every example in `networks/` compiles, runs, and its deterministic run summary is pinned
//! with an insta snapshot (the `neurosim::testing` API users get for their own networks).
//!
//! `mnist_mlp.net` and `cnn_mnist.net` take minutes to train; they are covered by the rate
//! engine's tests (a short run in the suite, the full run as an ignored test).

/// Networks whose full run is too slow for the default suite (minutes, not seconds).
const HEAVY: &[&str] = &["mnist_mlp.net", "cnn_mnist.net"];

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
