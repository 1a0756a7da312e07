//! What `neurosim check` (and `run`, before it creates its output) finds wrong with the
//! dataset files of a network, as located diagnostics: a path that does not exist (with the
//! closest file name in its folder), that cannot be read or is not a regular file (E0507),
//! a header that does not name the columns the `.net` file names (E0508), and widths that do
//! not fit the input or output populations (E0506). Only headers are read here (the first
//! line of a CSV file, the first bytes of an IDX file), so checking stays fast for any size
//! of data; cells are checked when the rows are loaded.

use std::path::Path;

use super::{
    DataError, Table, apply_length, check_widths, csv, idx, output_size, printable, roles,
};
use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{DataSource, Dataset, Network};

/// Every problem with the dataset files of `network` (inline datasets are checked by `lang`).
pub fn check(network: &Network) -> Vec<Diagnostic> {
    let roles = roles(network);
    let output_size = output_size(network, &roles);
    let mut out = Vec::new();
    for dataset in &network.datasets {
        let files = dataset.files();
        let missing: Vec<Diagnostic> = files
            .iter()
            .filter_map(|&(path, span)| check_file(dataset, path, span))
            .collect();
        if !missing.is_empty() {
            out.extend(missing);
            continue;
        }
        let shape = match &dataset.source {
            DataSource::Inline { .. } => continue,
            DataSource::Csv {
                path,
                target,
                targets,
                lengths,
            } => csv::shape(
                &dataset.name,
                path,
                target,
                targets,
                lengths.as_deref(),
                output_size,
            ),
            DataSource::Idx { images, labels } => {
                idx::shape(&dataset.name, images, labels.as_deref(), output_size)
            }
        };
        let fits = |mut table: Table| {
            apply_length(&dataset.name, &mut table, dataset.options.length)?;
            check_widths(network, &roles, output_size, dataset, &table)
        };
        if let Err(e) = shape.and_then(fits) {
            let mut d = diagnostic(dataset, &files, &e);
            if let DataError::Width { what, .. } = &e {
                let shown = if what.contains("target") {
                    &roles.outputs
                } else {
                    &roles.inputs
                };
                for &id in shown {
                    let p = network.graph.population(id);
                    d = d.with_label(p.span, format!("{} units", p.size()));
                }
            }
            out.push(d);
        }
    }
    out
}

/// A file that cannot be opened as a regular file, reported at its path string.
fn check_file(dataset: &Dataset, path: &Path, span: Span) -> Option<Diagnostic> {
    let shown = printable(&path.display().to_string());
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut d = Diagnostic::error(
                "E0507",
                format!("dataset `{}`: file `{shown}` does not exist", dataset.name),
            )
            .with_label(span, "no such file");
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let names: Vec<String> = std::fs::read_dir(folder)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let wanted = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            d = match suggest(&wanted, names.iter().map(String::as_str)) {
                Some(s) => d.with_help(format!(
                    "did you mean `{}`?",
                    printable(&path.with_file_name(s).display().to_string())
                )),
                None if !folder.is_dir() => d.with_note(format!(
                    "the folder `{}` does not exist either (paths are relative to the `.net` file's folder)",
                    printable(&folder.display().to_string())
                )),
                None => d.with_note("paths are relative to the `.net` file's folder"),
            };
            Some(d)
        }
        _ => match super::open(&dataset.name, path) {
            Ok(_) => None,
            Err(DataError::Io { source, .. }) => Some(
                Diagnostic::error(
                    "E0507",
                    format!(
                        "dataset `{}`: cannot read `{shown}`: {source}",
                        dataset.name
                    ),
                )
                .with_label(span, "cannot be read"),
            ),
            Err(other) => Some(
                Diagnostic::error("E0507", printable(&other.to_string()))
                    .with_label(span, "cannot be read"),
            ),
        },
    }
}

/// A header or width problem as a diagnostic at the path of the file it is about.
fn diagnostic(dataset: &Dataset, files: &[(&Path, Span)], e: &DataError) -> Diagnostic {
    let at = |path: &Path| {
        files
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(dataset.span, |&(_, s)| s)
    };
    let first = files.first().map_or(dataset.span, |&(_, s)| s);
    let message = printable(&e.to_string());
    match e {
        DataError::Width { width, what, .. } => {
            // The targets come from the labels file of an IDX dataset.
            let span = match (what.contains("target"), files) {
                (true, [_, (_, labels)]) => *labels,
                _ => first,
            };
            Diagnostic::error("E0506", message)
                .with_label(span, format!("{width} {what}"))
                .with_help(
                    "check the populations' sizes against the file's columns (or dimensions)",
                )
        }
        DataError::Io { path, .. } => {
            Diagnostic::error("E0507", message).with_label(at(path), "cannot be read")
        }
        DataError::MissingColumn {
            path,
            column,
            available,
            ..
        } => {
            let d = Diagnostic::error("E0508", message).with_label(at(path), "in this file");
            match suggest(column, available.split(", ")) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d,
            }
        }
        DataError::Format { path, .. } => {
            Diagnostic::error("E0508", message).with_label(at(path), "in this file")
        }
        _ => Diagnostic::error("E0508", message).with_label(first, "in this file"),
    }
}
