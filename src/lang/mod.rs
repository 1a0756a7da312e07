//! Text to network: the `.net` language's parser, semantic checks and lowering to `ir`.
//! The only module that knows pest.
//!
//! ```text
//! text ─prescan─▶ pest pairs ─parse.rs─▶ ast::File ─imports, --set─▶ check/ + lower.rs ─▶ ir::Network
//! ```
//! Every stage reports `Diagnostic`s and carries on where it safely can, so one run shows
//! every independent mistake. Nothing here does file IO: imports go through the `Loader`.
//!
//! ```
//! use neurosim::lang::{self, Override};
//! let text = "network n : spiking {\n population E : lif[10] { tau_mem = 20 ms }\n simulate 1 s\n}\n";
//! let mut loader = |p: &std::path::Path| std::fs::read_to_string(p);
//! let c = lang::compile("n.net", text, &mut loader, &[]);
//! assert!(c.networks.is_empty());
//! let shown = neurosim::diag::render::render(&c.diagnostics, &c.sources);
//! assert!(shown.contains("error[E0102]: unknown parameter `tau_mem` for lif"));
//! assert!(shown.contains("= help: did you mean `tau_m`?"));
//!
//! // The same file, fixed, with a `--set` override.
//! let fixed = text.replace("tau_mem", "tau_m");
//! let set = [Override::parse("E.tau_m=15 ms").unwrap()];
//! let c = lang::compile("n.net", &fixed, &mut loader, &set);
//! let e = c.networks[0].graph.find_population("E").unwrap();
//! assert_eq!(c.networks[0].graph.population(e).params.number("tau_m"), Some(15.0));
//! ```

pub mod ast;
mod check;
pub mod dump;
mod lower;
pub mod parse;
mod syntax;

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, FileId, SourceMap, Span};
use crate::ir::Network;
use ast::{Ident, Item, Let, Stmt};
use lower::PreparedOverride;

/// A `--set PATH=VALUE` override, applied to the checked file as if it had been written there.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: String,
}

impl Override {
    /// Parses a command-line `PATH=VALUE`: split at the first `=` (values may contain more:
    /// `"E.v=normal(mean = -60 mV, sd = 2 mV)"`), both sides trimmed and non-empty. The one
    /// parser of `--set` arguments; whether PATH names something is checked by [`compile`].
    pub fn parse(arg: &str) -> Result<Override, OverrideError> {
        let (path, value) = arg.split_once('=').ok_or(OverrideError::MissingEquals)?;
        let (path, value) = (path.trim(), value.trim());
        if path.is_empty() {
            return Err(OverrideError::EmptyPath);
        }
        if value.is_empty() {
            return Err(OverrideError::EmptyValue);
        }
        Ok(Override {
            path: path.to_string(),
            value: value.to_string(),
        })
    }
}

/// Why a `--set` argument is not `PATH=VALUE` (see [`Override::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("there is no `=` between PATH and VALUE")]
    MissingEquals,
    #[error("the PATH before `=` is empty")]
    EmptyPath,
    #[error("the VALUE after `=` is empty")]
    EmptyValue,
}

/// Everything a compilation produced. `networks` is empty if any error was reported.
#[derive(Debug, Default)]
pub struct Compilation {
    pub networks: Vec<Network>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The items `pick` selects from every file, in order (imports first, then the file).
fn items_of<'a, T>(
    files: &[&'a ast::File],
    pick: impl Fn(&'a Item) -> Option<&'a T>,
) -> Vec<&'a T> {
    files
        .iter()
        .flat_map(|f| f.items.iter())
        .filter_map(pick)
        .collect()
}

/// The registry entries of the definitions that check; the names of those that do not go to
/// `broken`, so that using one reports nothing more.
fn define_all<D, E>(
    definitions: &[&D],
    name: impl Fn(&D) -> &ast::Ident,
    define: impl Fn(&D, &mut Vec<Diagnostic>) -> Option<E>,
    broken: &mut Vec<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<E> {
    let mut defined = Vec::new();
    for d in definitions {
        match define(d, diags) {
            Some(entry) => defined.push(entry),
            None => broken.push(name(d).name.clone()),
        }
    }
    defined
}

/// Reads an imported file (paths already resolved against the importing file's folder).
pub type Loader<'a> = &'a mut dyn FnMut(&Path) -> std::io::Result<String>;

/// Parses one file without checking it: the syntax tree (if the syntax is valid) and the
/// syntax errors. The file gets `FileId(0)`.
pub fn parse(text: &str) -> (Option<ast::File>, Vec<Diagnostic>) {
    parse::parse_file(FileId(0), text)
}

/// Compiles raw bytes: invalid UTF-8 is reported with its line and column instead of being
/// refused before the compiler sees it.
pub fn compile_bytes(
    name: &str,
    bytes: &[u8],
    loader: Loader,
    overrides: &[Override],
) -> Compilation {
    match std::str::from_utf8(bytes) {
        Ok(text) => compile(name, text, loader, overrides),
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let start = e.valid_up_to();
            let mut sources = SourceMap::new();
            let file = sources.add(name, text);
            let (line, col) = sources.line_col(file, start as u32);
            let d = Diagnostic::error("E0005", "the file is not valid UTF-8")
                .with_label(
                    Span::new(file, start, start + '\u{FFFD}'.len_utf8()),
                    format!("invalid byte at line {line}, column {col}"),
                )
                .with_help("save the file as UTF-8");
            Compilation {
                networks: Vec::new(),
                diagnostics: vec![d],
                sources,
            }
        }
    }
}

/// Compiles the `.net` file `name` with contents `text`.
pub fn compile(name: &str, text: &str, loader: Loader, overrides: &[Override]) -> Compilation {
    let mut sources = SourceMap::new();
    let root = sources.add(name, text);
    let mut diags = Vec::new();
    let (file, mut parse_diags) = parse::parse_file(root, text);
    diags.append(&mut parse_diags);
    // Checking a tree with placeholders in it would only add noise to the syntax errors.
    let parsed_cleanly = !diags.iter().any(Diagnostic::is_error);
    let Some(mut file) = file.filter(|_| parsed_cleanly) else {
        return Compilation {
            networks: Vec::new(),
            diagnostics: diags,
            sources,
        };
    };

    // Imports: their file-level templates join this file's.
    let mut imported: Vec<ast::File> = Vec::new();
    let mut stack = vec![normalize(Path::new(name))];
    let mut seen = stack.clone();
    load_imports(
        &file,
        Path::new(name),
        loader,
        &mut sources,
        &mut stack,
        &mut seen,
        &mut imported,
        &mut diags,
    );
    let mut overrides = prepare_overrides(overrides, &mut sources, &mut diags);
    let mut used = vec![false; overrides.len()];
    // Constants and tables become values, `connect` statements projections.
    check::values::resolve(
        &mut imported,
        &mut file,
        &mut overrides,
        &mut used,
        &mut diags,
    );
    let files: Vec<&ast::File> = imported.iter().chain(std::iter::once(&file)).collect();
    let file_templates: Vec<&Let> = items_of(&files, |item| match item {
        Item::Let(l) => Some(l),
        _ => None,
    });
    let _ = check::names::declare(
        "template",
        file_templates.iter().map(|l| (&l.name, ())),
        &mut diags,
    );

    let definitions = items_of(&files, |item| match item {
        Item::Neuron(n) => Some(n),
        _ => None,
    });
    let _ = check::names::declare(
        "neuron model",
        definitions.iter().map(|n| (&n.name, ())),
        &mut diags,
    );
    let mut broken = Vec::new();
    let models = define_all(
        &definitions,
        |d| &d.name,
        check::equations::define,
        &mut broken,
        &mut diags,
    );
    let synapse_definitions = items_of(&files, |item| match item {
        Item::Synapse(n) => Some(n),
        _ => None,
    });
    let _ = check::names::declare(
        "synapse model",
        synapse_definitions.iter().map(|n| (&n.name, ())),
        &mut diags,
    );
    let synapses = define_all(
        &synapse_definitions,
        |d| &d.name,
        check::synapse::define,
        &mut broken,
        &mut diags,
    );

    let file_scope = check::names::Templates {
        lets: file_templates.clone(),
        models: models.clone(),
        synapses: synapses.clone(),
        broken: broken.clone(),
    };
    for l in &file_templates {
        lower::check_template(l, &file_scope, &mut diags);
    }

    let base = Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    let networks: Vec<&ast::NetworkDecl> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Network(n) => Some(n),
            _ => None,
        })
        .collect();
    let _ = check::names::declare(
        "network",
        networks.iter().map(|n| (&n.name, ())),
        &mut diags,
    );
    if networks.is_empty() {
        diags.push(
            Diagnostic::warning("W0001", "this file declares no network")
                .with_label(Span::new(root, 0, 0), "nothing to run")
                .with_help("add `network NAME : rate { ... }` or `network NAME : spiking { ... }`"),
        );
    }
    let mut out = Vec::new();
    for net in &networks {
        if let Some(n) =
            lower::lower_network(net, &file_scope, &overrides, &mut used, &base, &mut diags)
        {
            out.push(n);
        }
    }
    if !overrides.is_empty() {
        let mut known: Vec<String> = file_templates.iter().map(|l| l.name.name.clone()).collect();
        for f in imported.iter().chain(std::iter::once(&file)) {
            for item in &f.items {
                if let Item::Const(c) = item {
                    known.push(c.name.name.clone());
                }
            }
        }
        for net in &networks {
            for stmt in &net.body {
                match stmt {
                    Stmt::Population(p) => known.push(p.name.name.clone()),
                    Stmt::Let(l) => known.push(l.name.name.clone()),
                    Stmt::Const(c) => known.push(c.name.name.clone()),
                    Stmt::Projection(p) => {
                        for (i, (arrow, _)) in p.arrows.iter().enumerate() {
                            for s in &p.stages[i] {
                                for t in &p.stages[i + 1] {
                                    known.push(format!("{}{}{}", s.name, arrow.symbol(), t.name));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        lower::unused_overrides(&overrides, &used, &known, &mut diags);
    }

    dedup(&mut diags);
    // Read top to bottom: by file, then by position (a stable sort keeps the order of
    // diagnostics at the same place).
    diags.sort_by_key(|d| {
        d.primary_span()
            .map_or((u32::MAX, 0), |s| (s.file.0, s.start))
    });
    let networks = if diags.iter().any(Diagnostic::is_error) {
        Vec::new()
    } else {
        out
    };
    Compilation {
        networks,
        diagnostics: diags,
        sources,
    }
}

/// Expansion of lists and chains can report one mistake once per pair: keep the first.
fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    for d in diags.drain(..) {
        if !kept.contains(&d) {
            kept.push(d);
        }
    }
    *diags = kept;
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    check::settings::resolve_path(Path::new(""), &path.to_string_lossy())
}

#[allow(clippy::too_many_arguments)]
fn load_imports(
    file: &ast::File,
    path: &Path,
    loader: Loader,
    sources: &mut SourceMap,
    stack: &mut Vec<PathBuf>,
    seen: &mut Vec<PathBuf>,
    out: &mut Vec<ast::File>,
    diags: &mut Vec<Diagnostic>,
) {
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for item in &file.items {
        let Item::Import(import) = item else { continue };
        let target = check::settings::resolve_path(&base, &import.path);
        if let Some(pos) = stack.iter().position(|p| *p == target) {
            let cycle: Vec<String> = stack[pos..]
                .iter()
                .chain(std::iter::once(&target))
                .map(|p| p.display().to_string())
                .collect();
            diags.push(
                Diagnostic::error("E0601", format!("import cycle: {}", cycle.join(" → ")))
                    .with_label(import.span, "this import closes the cycle")
                    .with_help("move the shared templates into a file that imports nothing"),
            );
            continue;
        }
        if seen.contains(&target) {
            continue;
        }
        seen.push(target.clone());
        let text = match loader(&target) {
            Ok(t) => t,
            Err(e) => {
                diags.push(
                    Diagnostic::error("E0602", format!("cannot read `{}`: {e}", target.display()))
                        .with_label(import.path_span, "imported here"),
                );
                continue;
            }
        };
        let id = sources.add(target.display().to_string(), text.clone());
        let (parsed, mut errs) = parse::parse_file(id, &text);
        diags.append(&mut errs);
        let Some(parsed) = parsed else { continue };
        if parsed.items.iter().any(|i| matches!(i, Item::Network(_))) {
            diags.push(
                Diagnostic::warning(
                    "W0003",
                    format!("the networks of `{}` are not imported", target.display()),
                )
                .with_label(import.span, "only its file-level `let` templates are"),
            );
        }
        stack.push(target.clone());
        load_imports(&parsed, &target, loader, sources, stack, seen, out, diags);
        stack.pop();
        out.push(parsed);
    }
}

/// Parses each override's value (as its own small source file, so errors point into it).
fn prepare_overrides(
    overrides: &[Override],
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Vec<PreparedOverride> {
    let mut out = Vec::new();
    for o in overrides {
        // The whole argument is the override's source, so messages show `PATH=VALUE`.
        let id = sources.add("--set", format!("{}={}", o.path, o.value));
        let value_at = o.path.len() + 1;
        let path_span = Span::new(id, 0, o.path.len());
        let path = o.path.trim();
        let (target, param) = match path.rsplit_once('.') {
            Some((t, p)) => (Some(t.trim().to_string()), p.trim()),
            None => (None, path),
        };
        let valid_name = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !valid_name(param) || target.as_deref().is_some_and(str::is_empty) {
            diags.push(
                Diagnostic::error(
                    "E0604",
                    format!("`--set {path}`: expected NAME.PARAM, A->B.PARAM or a setting"),
                )
                .with_label(path_span, "not a valid path")
                .with_help(
                    "e.g. `--set E.tau_m=15ms`, `--set \"E->I.weight=2 mV\"`, `--set seed=3`",
                ),
            );
            continue;
        }
        match parse::parse_value(id, &o.value, value_at) {
            Ok(value) => out.push(PreparedOverride {
                path: path.to_string(),
                target,
                param: Ident {
                    name: param.to_string(),
                    span: path_span,
                },
                value,
            }),
            Err(d) => diags.push(d),
        }
    }
    out
}
