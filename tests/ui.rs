//! UI tests: every `tests/ui/*.net` is a mistake users really make. Each snapshot shows the
//! source and the rendered diagnostics together, as `neurosim check` prints them: the
//! compiler's, then those of the dataset files (`neurosim::data::check`; the files a case
//! reads are in `tests/ui/data/`).

use neurosim::diag::render::render;
use neurosim::lang;

#[test]
fn every_bad_file_is_reported_as_snapshotted() {
    insta::glob!("ui/*.net", |path| {
        let bytes = std::fs::read(path).expect("test file readable");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let mut loader = |p: &std::path::Path| std::fs::read_to_string(root.join(p));
        let c = lang::compile_bytes(&name, &bytes, &mut loader, &[]);
        let mut diagnostics = c.diagnostics.clone();
        for network in &c.networks {
            diagnostics.extend(neurosim::data::check(network));
        }
        assert!(!diagnostics.is_empty(), "{name}: no diagnostic");
        assert!(
            c.networks.is_empty() || !c.has_errors(),
            "{name}: networks despite errors"
        );
        let rendered = render(&diagnostics, &c.sources);
        let source = String::from_utf8_lossy(&bytes);
        insta::assert_snapshot!(format!(
            "{source}\n======== neurosim check ========\n{rendered}"
        ));
    });
}
