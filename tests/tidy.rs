//! House rules checked as tests: every source file documents itself, and the module layers
//! only depend downwards (see ARCHITECTURE.md).

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn files(top: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(top), &mut out);
    out.sort();
    out
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut missing = Vec::new();
    for top in ["src", "tests", "benches", "examples"] {
        for path in files(top) {
            let text = fs::read_to_string(&path).unwrap_or_default();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if !first.starts_with("//!") {
                missing.push(path.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a leading //! paragraph:\n{}",
        missing.join("\n")
    );
}

/// `crate::X` paths a module (folder or file under src/) must never use.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "diag",
        &[
            "units", "models", "ir", "lang", "data", "sim", "record", "cli",
        ],
    ),
    (
        "units",
        &["models", "ir", "lang", "data", "sim", "record", "cli"],
    ),
    ("models", &["ir", "lang", "data", "sim", "record", "cli"]),
    ("ir", &["lang", "data", "sim", "record", "cli"]),
    ("lang", &["data", "sim", "record", "cli"]),
    ("data", &["lang", "sim", "record", "cli"]),
    ("sim", &["lang", "record", "cli"]),
    ("record", &["lang", "cli"]),
];

/// External crates only one place may name.
const CONFINED: &[(&str, &str)] = &[
    ("petgraph", "src/ir/graph.rs"),
    ("pest", "src/lang/"),
    ("hdf5_pure", "src/record/hdf5/"),
    ("clap", "src/cli/"),
];

/// Whether `text` has a path starting with `krate::` (not `other_krate::` or `krate_x::`).
fn names_crate(text: &str, krate: &str) -> bool {
    let needle = format!("{krate}::");
    text.match_indices(&needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

#[test]
fn layers_depend_only_downwards() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    for path in files("src") {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let module = rel
            .trim_start_matches("src/")
            .split(['/', '.'])
            .next()
            .unwrap_or("");
        let text = fs::read_to_string(&path).unwrap_or_default();
        if let Some((_, forbidden)) = FORBIDDEN.iter().find(|(m, _)| *m == module) {
            for other in *forbidden {
                if text.contains(&format!("crate::{other}::"))
                    || text.contains(&format!("crate::{other};"))
                {
                    violations.push(format!("{rel} uses crate::{other}"));
                }
            }
        }
        for (krate, home) in CONFINED {
            if names_crate(&text, krate) && !rel.starts_with(home) {
                violations.push(format!("{rel} names {krate} (only {home} may)"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}
