//! Datasets for rate mode (inline rows, CSV files, MNIST IDX files): reads files and hands
//! `sim` plain row-major matrices. The only part of the library below `cli` that does file
//! IO, because a dataset is part of the experiment the `.net` file describes.
//!
//! Every failure is a typed [`DataError`] that names the dataset, the file and, where there
//! is one, the line, so a user can fix the data without reading the code.

mod check;
mod csv;
mod idx;

pub use check::check;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::ir::{DataSource, Dataset, Network, PopulationId};

/// One loaded dataset: `n_rows` samples, row-major inputs and (optional) targets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub n_rows: usize,
    pub n_inputs: usize,
    pub inputs: Vec<f32>,
    pub n_targets: usize,
    pub targets: Option<Vec<f32>>,
    /// Steps per row of a sequence dataset (0 or 1: not a sequence). A row's inputs are
    /// step-major: `n_inputs / steps` values per step.
    pub steps: usize,
    /// Each row's own number of steps (1 to `steps`), when the sequences are padded to
    /// `steps`; `None`: every row has all of them.
    pub lengths: Option<Vec<u32>>,
}

impl Table {
    /// Steps per row: 1 unless the dataset is a sequence.
    pub fn steps(&self) -> usize {
        self.steps.max(1)
    }

    /// Inputs per step.
    pub fn step_inputs(&self) -> usize {
        self.n_inputs / self.steps()
    }

    /// Inputs of row `i`.
    pub fn input_row(&self, i: usize) -> &[f32] {
        &self.inputs[i * self.n_inputs..(i + 1) * self.n_inputs]
    }

    /// Targets of row `i`, if the table has targets.
    pub fn target_row(&self, i: usize) -> Option<&[f32]> {
        self.targets
            .as_ref()
            .map(|t| &t[i * self.n_targets..(i + 1) * self.n_targets])
    }

    /// Keeps the rows listed in `order`, in that order.
    fn select(&mut self, order: &[usize]) {
        let pick = |values: &[f32], width: usize| -> Vec<f32> {
            order
                .iter()
                .flat_map(|&i| values[i * width..(i + 1) * width].iter().copied())
                .collect()
        };
        self.inputs = pick(&self.inputs, self.n_inputs);
        if let Some(t) = &self.targets {
            self.targets = Some(pick(t, self.n_targets));
        }
        if let Some(lengths) = &self.lengths {
            self.lengths = Some(order.iter().map(|&i| lengths[i]).collect());
        }
        self.n_rows = order.len();
    }
}

/// Every dataset of a network, by name.
pub type Datasets = BTreeMap<String, Table>;

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("dataset '{dataset}': cannot read {}: {source}", path.display())]
    Io {
        dataset: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("dataset '{dataset}': {}:{line}: expected {expected} cells, found {found}", path.display())]
    Ragged {
        dataset: String,
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("dataset '{dataset}': {}:{line}: column '{column}' holds '{cell}', which is not a number", path.display())]
    NotNumeric {
        dataset: String,
        path: PathBuf,
        line: usize,
        column: String,
        cell: String,
    },
    #[error("dataset '{dataset}': {}:{line}: column '{column}' holds '{cell}', which is not a finite number (within ±3.4e38)", path.display())]
    NotFinite {
        dataset: String,
        path: PathBuf,
        line: usize,
        column: String,
        cell: String,
    },
    #[error("dataset '{dataset}': {} has no column '{column}' (columns: {available})", path.display())]
    MissingColumn {
        dataset: String,
        path: PathBuf,
        column: String,
        available: String,
    },
    #[error("dataset '{dataset}': {}:{line}: class label {label} is not an integer in 0..{classes}", path.display())]
    BadLabel {
        dataset: String,
        path: PathBuf,
        line: usize,
        label: String,
        classes: usize,
    },
    #[error("dataset '{dataset}': {}: {reason}", path.display())]
    Format {
        dataset: String,
        path: PathBuf,
        reason: String,
    },
    #[error("dataset '{dataset}': row {row}: {reason}")]
    Inline {
        dataset: String,
        row: usize,
        reason: String,
    },
    #[error("dataset '{dataset}' has {width} {what}, but {expected}")]
    Width {
        dataset: String,
        what: &'static str,
        width: usize,
        expected: String,
    },
    #[error("dataset '{dataset}' is empty")]
    Empty { dataset: String },
    #[error("dataset '{dataset}': {}:{line}: length '{cell}' is not a whole number of steps (1 or more)", path.display())]
    BadLength {
        dataset: String,
        path: PathBuf,
        line: usize,
        cell: String,
    },
    #[error(
        "dataset '{dataset}': row {row} is {length} steps long, longer than the dataset's `length = {steps}`"
    )]
    TooLong {
        dataset: String,
        row: usize,
        length: usize,
        steps: usize,
    },
}

/// Which populations data is presented to (inputs) and compared with (outputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// `input` populations in declaration order; their sizes add up to a row's inputs.
    pub inputs: Vec<PopulationId>,
    /// Populations that feed no other population (self and undirected projections aside),
    /// in declaration order; their sizes add up to a row's targets.
    pub outputs: Vec<PopulationId>,
}

/// The input and output populations of `network`.
pub fn roles(network: &Network) -> Roles {
    Roles {
        inputs: network.graph.inputs(),
        outputs: network.graph.outputs(),
    }
}

/// The populations rows of `width` values are presented to: the `input` populations, or,
/// in a network without any (a Hopfield memory), the first population of that size. In an
/// adversarial network, rows are real samples: they go where the generator's samples
/// appear.
pub fn presented(network: &Network, width: usize) -> Option<Vec<PopulationId>> {
    if let Some(adversarial) = network.train.as_ref().and_then(|t| t.adversarial) {
        let generator = adversarial.generator;
        return (network.graph.population(generator).size() == width).then(|| vec![generator]);
    }
    let r = roles(network);
    if !r.inputs.is_empty() {
        let total: usize = r
            .inputs
            .iter()
            .map(|&i| network.graph.population(i).size())
            .sum();
        return (total == width).then_some(r.inputs);
    }
    network
        .graph
        .populations()
        .find(|(_, p)| p.size() == width)
        .map(|(id, _)| vec![id])
}

/// Loads every dataset of `network` and checks its widths against the populations.
pub fn load(network: &Network) -> Result<Datasets, DataError> {
    let r = roles(network);
    let output_size = output_size(network, &r);
    let mut out = Datasets::new();
    for (index, dataset) in network.datasets.iter().enumerate() {
        let table = load_one(dataset, output_size, network.seed, index as u64)?;
        check_widths(network, &r, output_size, dataset, &table)?;
        out.insert(dataset.name.clone(), table);
    }
    Ok(out)
}

/// Units of the output populations together: what a row's targets are compared with.
fn output_size(network: &Network, roles: &Roles) -> usize {
    roles
        .outputs
        .iter()
        .map(|&o| network.graph.population(o).size())
        .sum()
}

/// Loads one dataset and applies its options (scale, shuffle, split, limit, in that order).
/// `classes` is the number of output units integer labels are one-hot encoded against;
/// `seed` and `stream` seed the shuffle.
pub fn load_one(
    dataset: &Dataset,
    classes: usize,
    seed: u64,
    stream: u64,
) -> Result<Table, DataError> {
    let name = &dataset.name;
    let mut table = match &dataset.source {
        DataSource::Inline { rows } => inline(name, rows)?,
        DataSource::Csv {
            path,
            target,
            targets,
            lengths,
        } => csv::load(name, path, target, targets, lengths.as_deref(), classes)?,
        DataSource::Idx { images, labels } => idx::load(name, images, labels.as_deref(), classes)?,
    };
    let options = &dataset.options;
    if let Some(scale) = options.scale {
        let scale = scale as f32;
        table.inputs.iter_mut().for_each(|x| *x *= scale);
    }
    if options.shuffle {
        let mut order: Vec<usize> = (0..table.n_rows).collect();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(seed, 0x5348_5546 + stream));
        order.shuffle(&mut rng);
        table.select(&order);
    }
    let mut keep = table.n_rows;
    if let Some(split) = options.split {
        keep = ((table.n_rows as f64) * split.clamp(0.0, 1.0)).round() as usize;
    }
    if let Some(limit) = options.limit {
        keep = keep.min(limit);
    }
    if keep < table.n_rows {
        let order: Vec<usize> = (0..keep).collect();
        table.select(&order);
    }
    if table.n_rows == 0 {
        return Err(DataError::Empty {
            dataset: name.clone(),
        });
    }
    apply_length(name, &mut table, options.length)?;
    if let Some(lengths) = &table.lengths
        && let Some(row) = lengths.iter().position(|&l| l as usize > table.steps())
    {
        return Err(DataError::TooLong {
            dataset: name.clone(),
            row: row + 1,
            length: lengths[row] as usize,
            steps: table.steps(),
        });
    }
    Ok(table)
}

/// Makes rows sequences of `length` steps (`None`: not a sequence).
fn apply_length(name: &str, table: &mut Table, length: Option<usize>) -> Result<(), DataError> {
    if let Some(length) = length {
        if length == 0 || !table.n_inputs.is_multiple_of(length) {
            return Err(DataError::Width {
                dataset: name.to_string(),
                what: "inputs per row",
                width: table.n_inputs,
                expected: format!("`length = {length}` needs a multiple of {length}"),
            });
        }
        table.steps = length;
    }
    Ok(())
}

/// SplitMix64 finaliser over (seed, stream): independent seeds for independent streams.
pub fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn inline(name: &str, rows: &[crate::ir::InlineRow]) -> Result<Table, DataError> {
    let Some(first) = rows.first() else {
        return Err(DataError::Empty {
            dataset: name.to_string(),
        });
    };
    let n_inputs = first.inputs.len();
    let n_targets = first.targets.as_ref().map_or(0, Vec::len);
    let supervised = first.targets.is_some();
    let mut inputs = Vec::with_capacity(rows.len() * n_inputs);
    let mut targets = Vec::with_capacity(rows.len() * n_targets);
    for (i, row) in rows.iter().enumerate() {
        let bad = |reason: String| DataError::Inline {
            dataset: name.to_string(),
            row: i + 1,
            reason,
        };
        if row.inputs.len() != n_inputs {
            return Err(bad(format!(
                "{} inputs where the first row has {n_inputs}",
                row.inputs.len()
            )));
        }
        match (&row.targets, supervised) {
            (Some(t), true) if t.len() == n_targets => targets.extend(t.iter().map(|&x| x as f32)),
            (Some(t), true) => {
                return Err(bad(format!(
                    "{} targets where the first row has {n_targets}",
                    t.len()
                )));
            }
            (None, false) => {}
            _ => {
                return Err(bad(
                    "every row must have targets (`-> [...]`) or none may".into()
                ));
            }
        }
        inputs.extend(row.inputs.iter().map(|&x| x as f32));
    }
    Ok(Table {
        n_rows: rows.len(),
        n_inputs,
        inputs,
        n_targets,
        targets: supervised.then_some(targets),
        steps: 1,
        lengths: None,
    })
}

fn check_widths(
    network: &Network,
    roles: &Roles,
    output_size: usize,
    dataset: &Dataset,
    table: &Table,
) -> Result<(), DataError> {
    let g = &network.graph;
    let describe = |ids: &[PopulationId]| {
        ids.iter()
            .map(|&i| format!("'{}' has {}", g.population(i).name, g.population(i).size()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let steps = table.steps();
    if presented(network, table.step_inputs()).is_none() {
        let expected = if let Some(a) = network.train.as_ref().and_then(|t| t.adversarial) {
            let g = g.population(a.generator);
            format!(
                "the generator's samples ('{}') have {} values",
                g.name,
                g.size()
            )
        } else if roles.inputs.is_empty() {
            "no population has that size".to_string()
        } else {
            format!("the input population {}", describe(&roles.inputs))
        };
        return Err(DataError::Width {
            dataset: dataset.name.clone(),
            what: if steps > 1 {
                "inputs per step"
            } else {
                "inputs per row"
            },
            width: table.step_inputs(),
            expected,
        });
    }
    // A sequence has a target per step, or one for its last step (many-to-one).
    let every_step = table.n_targets == output_size * steps;
    if table.targets.is_some() && table.n_targets != output_size && !every_step {
        let expected = format!("the output population {}", describe(&roles.outputs));
        return Err(DataError::Width {
            dataset: dataset.name.clone(),
            what: "targets per row",
            width: table.n_targets,
            expected: if steps > 1 {
                format!(
                    "{expected} ({steps} steps: {} targets for every step, or {output_size} for \
                     the last)",
                    output_size * steps
                )
            } else {
                expected
            },
        });
    }
    Ok(())
}

/// Opens a dataset file: a regular file only (a FIFO would block, a device never end).
fn open(dataset: &str, path: &Path) -> Result<std::fs::File, DataError> {
    let io = |source| DataError::Io {
        dataset: dataset.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a directory",
        )));
    }
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a device, FIFO or socket)",
        )));
    }
    std::fs::File::open(path).map_err(io)
}

/// Reads a whole file, naming it in the error.
fn read(dataset: &str, path: &Path) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open(dataset, path)?
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Io {
            dataset: dataset.to_string(),
            path: path.to_path_buf(),
            source,
        })?;
    Ok(bytes)
}

/// `text` with control characters and other non-printable characters escaped (`\u{1b}`),
/// so a binary file's bytes quoted in a message cannot drive the terminal.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{FFFD}' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One-hot encodes `label` against `classes` outputs (or keeps it as a value for one output).
fn encode_label(label: f64, classes: usize, out: &mut Vec<f32>) -> Result<(), ()> {
    if classes <= 1 || label.is_nan() {
        // A missing label (NaN) is a block of NaN: no target.
        out.resize(out.len() + classes.max(1), label as f32);
        return Ok(());
    }
    if label.fract() != 0.0 || label < 0.0 || label >= classes as f64 {
        return Err(());
    }
    let start = out.len();
    out.resize(start + classes, 0.0);
    out[start + label as usize] = 1.0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{DataOptions, InlineRow};

    fn rows(n: usize) -> Dataset {
        Dataset {
            name: "d".into(),
            source: DataSource::Inline {
                rows: (0..n)
                    .map(|i| InlineRow {
                        inputs: vec![i as f64, 1.0],
                        targets: Some(vec![i as f64]),
                    })
                    .collect(),
            },
            options: DataOptions::default(),
            span: Default::default(),
            path_spans: Vec::new(),
        }
    }

    #[test]
    fn length_makes_rows_sequences_of_that_many_steps() {
        let mut d = rows(3);
        d.options.length = Some(2);
        let t = load_one(&d, 1, 42, 0).expect("loads");
        assert_eq!((t.steps(), t.step_inputs()), (2, 1));
        d.options.length = Some(3);
        let e = load_one(&d, 1, 42, 0).expect_err("two inputs are not three steps");
        assert!(e.to_string().contains("multiple of 3"), "{e}");
    }

    #[test]
    fn options_scale_shuffle_split_and_limit_in_that_order() {
        let mut d = rows(10);
        d.options = DataOptions {
            scale: Some(2.0),
            shuffle: true,
            split: Some(0.5),
            limit: Some(4),
            length: None,
        };
        let t = load_one(&d, 1, 42, 0).expect("loads");
        assert_eq!(t.n_rows, 4);
        // Inputs scaled, targets not, rows still paired after the shuffle.
        for r in 0..4 {
            assert_eq!(
                t.input_row(r)[0],
                2.0 * t.target_row(r).expect("targets")[0]
            );
            assert_eq!(t.input_row(r)[1], 2.0);
        }
        let again = load_one(&d, 1, 42, 0).expect("loads");
        assert_eq!(t, again, "same seed, same shuffle");
        let other = load_one(&d, 1, 43, 0).expect("loads");
        assert_ne!(t.targets, other.targets, "another seed, another order");
    }

    #[test]
    fn inline_rows_must_agree() {
        let mut d = rows(3);
        if let DataSource::Inline { rows } = &mut d.source {
            rows[2].targets = None;
        }
        let e = load_one(&d, 1, 0, 0).expect_err("mixed");
        assert!(matches!(e, DataError::Inline { row: 3, .. }), "{e}");
    }
}
