//! House rules checked as tests: every source file documents itself, the module layers
//! only depend downwards (see ARCHITECTURE.md), the engines never compare a registry
//! member's name, and the language reference lists every optimizer with its registry
//! defaults.

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
    ("plot", &["lang", "sim", "record", "cli"]),
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

/// The top-level modules a file names through `crate::`, including every member of a
/// grouped import (`use crate::{ir::Network, sim};`).
fn crate_modules(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut item_start, mut at_item_start) = (0usize, true, true);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    _ => {}
                }
                if item_start && at_item_start && (c.is_alphabetic() || c == '_') {
                    let name: String = group[j..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.push(name);
                    item_start = false;
                }
                at_item_start = !(c.is_alphanumeric() || c == '_');
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn grouped_imports_are_seen_by_the_layer_check() {
    let text = "use crate::{diag::Span, ir::{Network, Value}, sim};\nuse crate::units::Dim;";
    assert_eq!(crate_modules(text), ["diag", "ir", "sim", "units"]);
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
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            let used = crate_modules(&code);
            for other in *forbidden {
                if used.iter().any(|u| u == other) {
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

/// Every registry member's name: neuron models, connectors, plasticity rules, optimizers
/// and learning-rate schedules.
fn registry_names() -> Vec<&'static str> {
    use neurosim::models::{connector, neuron, optimizer, plasticity, schedule};
    let mut names: Vec<&str> = neuron::REGISTRY.iter().map(|m| m.name).collect();
    names.extend(connector::REGISTRY.iter().map(|c| c.name));
    names.extend(plasticity::REGISTRY.iter().map(|r| r.name));
    names.extend(optimizer::REGISTRY.iter().map(|o| o.name));
    names.extend(schedule::REGISTRY.iter().map(|s| s.name));
    names
}

/// The string literals of `text` with their line numbers, outside `//` comments.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let (mut out, mut line, mut current) = (Vec::new(), 1, None::<String>);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (&mut current, c) {
            (_, '\n') => line += 1,
            (None, '/') if chars.peek() == Some(&'/') => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
                continue;
            }
            (None, '\'') => {
                // A char literal ('"') or a lifetime: skip an escaped or single character.
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                chars.next();
                if chars.peek() == Some(&'\'') {
                    chars.next();
                }
                continue;
            }
            (None, '"') => {
                current = Some(String::new());
                continue;
            }
            (Some(s), '"') => {
                out.push((line, std::mem::take(s)));
                current = None;
                continue;
            }
            (Some(s), '\\') => {
                s.push('\\');
                if let Some(next) = chars.next() {
                    s.push(next);
                }
                continue;
            }
            _ => {}
        }
        if let Some(s) = &mut current {
            s.push(c);
        }
    }
    out
}

#[test]
fn string_literals_are_found_outside_comments() {
    let text = "let a = \"lif\"; // \"stdp\"\nlet c = '\"'; f(\"x\\\"y\", 'a');";
    let found = string_literals(text);
    assert_eq!(found, [(1, "lif".to_string()), (2, "x\\\"y".to_string())]);
}

#[test]
fn engines_never_decide_by_a_registry_members_name() {
    // Behaviour belongs to the registry entry (`NeuronInfo::runs`, `ConnectorInfo::generate`,
    // `PlasticityInfo::learns`, ...): an engine that compares a name string has a second
    // copy of what the entry says.
    let names = registry_names();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for path in files("src/sim") {
        let text = fs::read_to_string(&path).unwrap_or_default();
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for (line, literal) in string_literals(text) {
            if names.contains(&literal.as_str()) {
                let rel = path.strip_prefix(root).unwrap_or(&path).display();
                found.push(format!("{rel}:{line}: \"{literal}\""));
            }
        }
    }
    assert!(
        found.is_empty(),
        "registry member names in the engines:\n{}",
        found.join("\n")
    );
}

/// `docs/LANGUAGE.md` lists every registered optimizer in a table row of its own, with each
/// parameter as `` `name = default` `` and the registry's default.
#[test]
fn the_language_reference_lists_every_optimizer_with_its_defaults() {
    use neurosim::models::ParamKind;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/LANGUAGE.md");
    let text = fs::read_to_string(path).expect("docs/LANGUAGE.md");
    let mut problems = Vec::new();
    for info in neurosim::models::optimizer::REGISTRY {
        let start = format!("| `{}` |", info.name);
        let Some(row) = text.lines().find(|l| l.trim_start().starts_with(&start)) else {
            problems.push(format!("no row for `{}`", info.name));
            continue;
        };
        for spec in info.params {
            let key = format!("`{} = ", spec.name);
            let documented = row
                .split_once(&key)
                .and_then(|(_, rest)| rest.split_once('`'))
                .map(|(value, _)| value);
            let agrees = match (documented, spec.kind) {
                (Some(v), ParamKind::Flag { default }) => v.parse() == Ok(default),
                (Some(v), _) => v.parse::<f64>().ok() == spec.default_number(),
                (None, _) => false,
            };
            if !agrees {
                problems.push(format!(
                    "`{}`: `{}` documented as {documented:?}",
                    info.name, spec.name
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "docs/LANGUAGE.md:\n{}",
        problems.join("\n")
    );
}
