//! The IDX format of the MNIST database (gzipped or not): a big-endian header with a type
//! code and the dimensions, then the raw values. Images become rows of `prod(dims[1..])`
//! inputs; labels are one-hot encoded against the output size.

use std::io::Read;
use std::path::Path;

use super::{DataError, Table, encode_label, read};

/// The values of an IDX file and its dimensions.
struct Idx {
    dims: Vec<usize>,
    values: Vec<f32>,
}

pub(super) fn load(
    dataset: &str,
    images: &Path,
    labels: Option<&Path>,
    classes: usize,
) -> Result<Table, DataError> {
    let images_idx = parse(dataset, images)?;
    let n_rows = images_idx.dims.first().copied().unwrap_or(0);
    let n_inputs = images_idx.dims.iter().skip(1).product::<usize>();
    let mut table = Table {
        n_rows,
        n_inputs,
        inputs: images_idx.values,
        ..Table::default()
    };
    if let Some(labels) = labels {
        let label_idx = parse(dataset, labels)?;
        if label_idx.dims.first().copied() != Some(n_rows) {
            return Err(DataError::Format {
                dataset: dataset.to_string(),
                path: labels.to_path_buf(),
                reason: format!(
                    "{} labels for {n_rows} images in {}",
                    label_idx.dims.first().copied().unwrap_or(0),
                    images.display()
                ),
            });
        }
        let mut targets = Vec::with_capacity(n_rows * classes.max(1));
        for (i, &label) in label_idx.values.iter().enumerate() {
            encode_label(f64::from(label), classes, &mut targets).map_err(|()| {
                DataError::BadLabel {
                    dataset: dataset.to_string(),
                    path: labels.to_path_buf(),
                    line: i + 1,
                    label: label.to_string(),
                    classes,
                }
            })?;
        }
        table.n_targets = classes.max(1);
        table.targets = Some(targets);
    }
    Ok(table)
}

fn parse(dataset: &str, path: &Path) -> Result<Idx, DataError> {
    let raw = read(dataset, path)?;
    let bad = |reason: String| DataError::Format {
        dataset: dataset.to_string(),
        path: path.to_path_buf(),
        reason,
    };
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("not a valid gzip file: {e}")))?;
        out
    } else {
        raw
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()));
    }
    let (type_code, rank) = (bytes[2], bytes[3] as usize);
    let header = 4 + 4 * rank;
    if bytes.len() < header || rank == 0 {
        return Err(bad("truncated IDX header".into()));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|d| {
            let b = &bytes[4 + 4 * d..8 + 4 * d];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let count: usize = dims.iter().product();
    let width = match type_code {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        0x0E => 8,
        other => return Err(bad(format!("unknown IDX value type 0x{other:02x}"))),
    };
    let body = &bytes[header..];
    if body.len() < count * width {
        return Err(bad(format!(
            "expected {count} values of {width} bytes, the file holds {} bytes",
            body.len()
        )));
    }
    let values = body[..count * width]
        .chunks_exact(width)
        .map(|c| match type_code {
            0x08 => f32::from(c[0]),
            0x09 => f32::from(c[0] as i8),
            0x0B => f32::from(i16::from_be_bytes([c[0], c[1]])),
            0x0C => i32::from_be_bytes([c[0], c[1], c[2], c[3]]) as f32,
            0x0D => f32::from_be_bytes([c[0], c[1], c[2], c[3]]),
            _ => f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32,
        })
        .collect();
    Ok(Idx { dims, values })
}
