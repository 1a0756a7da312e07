//! Data-driven tests of the language front end: every file under `tests/data/parse/ok`
//! compiles without errors and its lowered networks are snapshotted; every file under
//! `tests/data/parse/err` yields at least one error. Plus pathological inputs, overrides
//! and imports.

use std::path::Path;

use neurosim::cli::render::render;
use neurosim::lang::{self, Compilation, Override};

fn compile_file(path: &Path, overrides: &[Override]) -> Compilation {
    let text = std::fs::read_to_string(path).expect("test file readable");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = path.strip_prefix(root).unwrap_or(path).display().to_string();
    let mut loader = |p: &Path| std::fs::read_to_string(root.join(p));
    lang::compile(&name, &text, &mut loader, overrides)
}

#[test]
fn ok_files_compile_and_lower_as_snapshotted() {
    insta::glob!("data/parse/ok/*.net", |path| {
        let c = compile_file(path, &[]);
        let errors = render(&c.diagnostics, &c.sources);
        assert!(!c.has_errors(), "{}: {errors}", path.display());
        assert!(!c.networks.is_empty(), "{}: no network lowered", path.display());
        let summary: String = c.networks.iter().map(lang::dump::summary).collect();
        insta::assert_snapshot!(summary);
    });
}
