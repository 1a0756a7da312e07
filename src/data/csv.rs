//! CSV datasets: a header row names the columns; `target` names an integer class column
//! (one-hot encoded against the output size) or a list of them (one per step of a sequence),
//! `targets` names real-valued target columns,
//! `lengths` names a column of each row's own number of steps (sequences padded to `length`),
//! every other column is an input. An empty target cell is no target (padding after a
//! sequence shorter than `length`): the loss and the accuracy skip that step. Cells are separated by commas; blank lines and lines
//! starting with `#` are skipped; quotes around a cell are removed.

use std::path::Path;

use super::{DataError, Table, encode_label, printable, read};

/// Longest header line read when only the shape of a CSV file is wanted.
const MAX_HEADER_BYTES: u64 = 16 * 1024 * 1024;

/// The columns of a CSV header and what each one is.
struct Header {
    columns: Vec<String>,
    labels: Vec<usize>,
    targets: Vec<usize>,
    length: Option<usize>,
    inputs: Vec<usize>,
}

impl Header {
    fn read(
        dataset: &str,
        path: &Path,
        header: &str,
        target: &[String],
        targets: &[String],
        lengths: Option<&str>,
    ) -> Result<Header, DataError> {
        let columns: Vec<String> = cells(header).map(str::to_string).collect();
        for (i, c) in columns.iter().enumerate() {
            if let Some(j) = columns[..i].iter().position(|d| d == c) {
                return Err(DataError::Format {
                    dataset: dataset.to_string(),
                    path: path.to_path_buf(),
                    reason: format!(
                        "the header names column '{}' twice (columns {} and {})",
                        printable(c),
                        j + 1,
                        i + 1
                    ),
                });
            }
        }
        let find = |name: &str| {
            columns
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| DataError::MissingColumn {
                    dataset: dataset.to_string(),
                    path: path.to_path_buf(),
                    column: name.to_string(),
                    available: printable(&columns.join(", ")),
                })
        };
        let labels = target
            .iter()
            .map(|t| find(t))
            .collect::<Result<Vec<_>, _>>()?;
        let target_columns = targets
            .iter()
            .map(|t| find(t))
            .collect::<Result<Vec<_>, _>>()?;
        let length = lengths.map(find).transpose()?;
        let inputs: Vec<usize> = (0..columns.len())
            .filter(|c| !labels.contains(c) && !target_columns.contains(c))
            .filter(|&c| length != Some(c))
            .collect();
        Ok(Header {
            columns,
            labels,
            targets: target_columns,
            length,
            inputs,
        })
    }

    fn supervised(&self) -> bool {
        !self.labels.is_empty() || !self.targets.is_empty()
    }

    /// A table without rows of the widths this header gives.
    fn shape(&self, classes: usize) -> Table {
        let supervised = self.supervised();
        let n_targets = if !self.labels.is_empty() {
            classes.max(1) * self.labels.len()
        } else {
            self.targets.len()
        };
        Table {
            n_inputs: self.inputs.len(),
            n_targets: if supervised { n_targets } else { 0 },
            targets: supervised.then(Vec::new),
            lengths: self.length.map(|_| Vec::new()),
            ..Table::default()
        }
    }
}

/// The widths of a CSV dataset (inputs, targets) from its header alone: what `check` needs,
/// without reading the rows.
pub(super) fn shape(
    dataset: &str,
    path: &Path,
    target: &[String],
    targets: &[String],
    lengths: Option<&str>,
    classes: usize,
) -> Result<Table, DataError> {
    use std::io::{BufRead, Read};
    let io = |source| DataError::Io {
        dataset: dataset.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let file = super::open(dataset, path)?;
    let mut reader = std::io::BufReader::new(file).take(MAX_HEADER_BYTES);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
            return Err(DataError::Empty {
                dataset: dataset.to_string(),
            });
        }
        if !line.ends_with(b"\n") && reader.limit() == 0 {
            return Err(DataError::Format {
                dataset: dataset.to_string(),
                path: path.to_path_buf(),
                reason: format!(
                    "no header line in its first {} MiB",
                    MAX_HEADER_BYTES / (1024 * 1024)
                ),
            });
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if !text.is_empty() && !text.starts_with('#') {
            let header = Header::read(dataset, path, text, target, targets, lengths)?;
            return Ok(header.shape(classes));
        }
    }
}

pub(super) fn load(
    dataset: &str,
    path: &Path,
    target: &[String],
    targets: &[String],
    lengths: Option<&str>,
    classes: usize,
) -> Result<Table, DataError> {
    let bytes = read(dataset, path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(DataError::Empty {
            dataset: dataset.to_string(),
        });
    };
    let header = Header::read(dataset, path, header, target, targets, lengths)?;
    let Header {
        columns,
        labels: label_columns,
        targets: target_columns,
        length: length_column,
        inputs: input_columns,
    } = &header;
    let length_column = *length_column;
    let mut table = header.shape(classes);
    let supervised = header.supervised();
    let mut target_values = Vec::new();
    let mut row = Vec::with_capacity(columns.len());
    for (line, text) in lines {
        row.clear();
        for (c, cell) in cells(text).enumerate() {
            if cell.is_empty() && (label_columns.contains(&c) || target_columns.contains(&c)) {
                // No target here: a padded step of a shorter sequence.
                row.push(f64::NAN);
                continue;
            }
            let column = || {
                printable(
                    &columns
                        .get(c)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", c + 1)),
                )
            };
            let value = cell.parse::<f64>().map_err(|_| DataError::NotNumeric {
                dataset: dataset.to_string(),
                path: path.to_path_buf(),
                line,
                column: column(),
                cell: printable(cell),
            })?;
            // NaN and infinities (also numbers like 1e400 that overflow) would train
            // silently into NaN; values are used as f32, so its range is the limit.
            if !value.is_finite() || value.abs() > f64::from(f32::MAX) {
                return Err(DataError::NotFinite {
                    dataset: dataset.to_string(),
                    path: path.to_path_buf(),
                    line,
                    column: column(),
                    cell: printable(cell),
                });
            }
            row.push(value);
        }
        if row.len() != columns.len() {
            return Err(DataError::Ragged {
                dataset: dataset.to_string(),
                path: path.to_path_buf(),
                line,
                expected: columns.len(),
                found: row.len(),
            });
        }
        table
            .inputs
            .extend(input_columns.iter().map(|&c| row[c] as f32));
        for &c in label_columns {
            encode_label(row[c], classes, &mut target_values).map_err(|()| {
                DataError::BadLabel {
                    dataset: dataset.to_string(),
                    path: path.to_path_buf(),
                    line,
                    label: row[c].to_string(),
                    classes,
                }
            })?;
        }
        target_values.extend(target_columns.iter().map(|&c| row[c] as f32));
        if let (Some(c), Some(lengths)) = (length_column, table.lengths.as_mut()) {
            let steps = row[c];
            if steps.fract() != 0.0 || !(1.0..=f64::from(u32::MAX)).contains(&steps) {
                return Err(DataError::BadLength {
                    dataset: dataset.to_string(),
                    path: path.to_path_buf(),
                    line,
                    cell: steps.to_string(),
                });
            }
            lengths.push(steps as u32);
        }
        table.n_rows += 1;
    }
    table.targets = supervised.then_some(target_values);
    Ok(table)
}

fn cells(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(|c| c.trim().trim_matches('"').trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(text.as_bytes()).expect("write");
        f
    }

    #[test]
    fn label_column_is_one_hot_encoded_and_the_rest_are_inputs() {
        let f = write("a,label,b\n1,2,3\n4,0,5\n");
        let t = load("d", f.path(), &["label".to_string()], &[], None, 3).expect("loads");
        assert_eq!(t.n_rows, 2);
        assert_eq!(t.inputs, vec![1.0, 3.0, 4.0, 5.0]);
        assert_eq!(t.targets, Some(vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]));
    }

    #[test]
    fn a_list_of_label_columns_gives_one_one_hot_block_each() {
        let f = write("x0,x1,y0,y1\n1,2,0,1\n");
        let labels = ["y0".to_string(), "y1".to_string()];
        let t = load("d", f.path(), &labels, &[], None, 2).expect("loads");
        assert_eq!(t.inputs, vec![1.0, 2.0]);
        assert_eq!(
            (t.n_targets, t.targets),
            (4, Some(vec![1.0, 0.0, 0.0, 1.0]))
        );
    }

    #[test]
    fn empty_target_cells_are_no_target_and_empty_inputs_an_error() {
        let f = write("x0,x1,y0,y1\n1,0,1,\n");
        let labels = ["y0".to_string(), "y1".to_string()];
        let t = load("d", f.path(), &labels, &[], None, 2).expect("loads");
        let targets = t.targets.expect("targets");
        assert_eq!(&targets[..2], &[0.0, 1.0]);
        assert!(targets[2..].iter().all(|v| v.is_nan()), "{targets:?}");
        let f = write("x0,y0\n,1\n");
        let e = load("d", f.path(), &["y0".to_string()], &[], None, 2).expect_err("empty input");
        assert!(e.to_string().contains(":2: column 'x0'"), "{e}");
    }

    #[test]
    fn a_lengths_column_is_no_input_and_must_hold_whole_steps() {
        let f = write("x0,x1,n,p\n1,0,1,1\n0,1,2,0\n");
        let t = load("d", f.path(), &[], &["p".to_string()], Some("n"), 1).expect("loads");
        assert_eq!((t.n_inputs, t.lengths), (2, Some(vec![1, 2])));
        let f = write("x0,x1,n,p\n1,0,1.5,1\n");
        let e = load("d", f.path(), &[], &["p".to_string()], Some("n"), 1).expect_err("1.5");
        assert!(e.to_string().contains(":2: length '1.5'"), "{e}");
    }

    #[test]
    fn non_finite_cells_and_labels_are_refused_with_line_and_column() {
        for bad in ["NaN", "nan", "inf", "-infinity", "1e400", "1e39"] {
            let f = write(&format!("a,b\n1,2\n3,{bad}\n"));
            let e = load("d", f.path(), &[], &[], None, 1).expect_err(bad);
            assert!(
                matches!(&e, DataError::NotFinite { line: 3, column, .. } if column == "b"),
                "{bad}: {e}"
            );
            assert!(
                e.to_string().contains(&f.path().display().to_string()),
                "{e}"
            );
            let f = write(&format!("a,label\n1,0\n3,{bad}\n"));
            let e = load("d", f.path(), &["label".to_string()], &[], None, 2).expect_err(bad);
            assert!(
                matches!(e, DataError::NotFinite { line: 3, .. }),
                "{bad}: {e}"
            );
        }
        // An empty target cell is still "no target", not an error.
        let f = write("a,label\n1,\n");
        assert!(load("d", f.path(), &["label".to_string()], &[], None, 2).is_ok());
    }

    #[test]
    fn duplicate_columns_are_refused_and_binary_headers_escaped() {
        let f = write("a,b,a\n1,2,3\n");
        let e = load("d", f.path(), &[], &[], None, 1).expect_err("duplicate");
        assert!(
            e.to_string().contains("column 'a' twice (columns 1 and 3)"),
            "{e}"
        );
        let f = write("a\u{1b}[31m,b\n1,2\n");
        let e = load("d", f.path(), &["c".to_string()], &[], None, 1).expect_err("no column c");
        let shown = e.to_string();
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.contains("a\\u{1b}[31m"), "{shown}");
    }

    #[test]
    fn errors_name_the_line() {
        let f = write("a,b\n1,2\n3\n");
        let e = load("d", f.path(), &[], &[], None, 1).expect_err("ragged");
        assert!(
            matches!(
                e,
                DataError::Ragged {
                    line: 3,
                    expected: 2,
                    found: 1,
                    ..
                }
            ),
            "{e}"
        );
        let f = write("a,b\n1,x\n");
        let e = load("d", f.path(), &[], &[], None, 1).expect_err("not numeric");
        assert!(
            e.to_string().contains(":2:") && e.to_string().contains("'x'"),
            "{e}"
        );
        let f = write("a,label\n1,7\n");
        let e = load("d", f.path(), &["label".to_string()], &[], None, 3).expect_err("label");
        assert!(matches!(e, DataError::BadLabel { line: 2, .. }), "{e}");
        let e = load("d", f.path(), &["class".to_string()], &[], None, 3).expect_err("column");
        assert!(e.to_string().contains("no column 'class'"), "{e}");
    }
}
