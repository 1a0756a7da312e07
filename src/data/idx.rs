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
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {dims:?} are too large")))?;
    let width = match type_code {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        0x0E => 8,
        other => return Err(bad(format!("unknown IDX value type 0x{other:02x}"))),
    };
    let body = &bytes[header..];
    if body.len() / width < count {
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn idx_bytes(type_code: u8, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, type_code, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(body);
        out
    }

    fn file(bytes: &[u8], gzip: bool) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        if gzip {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(bytes).expect("gzip");
            f.write_all(&enc.finish().expect("gzip")).expect("write");
        } else {
            f.write_all(bytes).expect("write");
        }
        f
    }

    #[test]
    fn images_and_labels_load_gzipped_or_not() {
        let images = idx_bytes(0x08, &[2, 2, 2], &[0, 255, 10, 20, 1, 2, 3, 4]);
        let labels = idx_bytes(0x08, &[2], &[2, 0]);
        for gzip in [false, true] {
            let (i, l) = (file(&images, gzip), file(&labels, !gzip));
            let t = load("d", i.path(), Some(l.path()), 3).expect("loads");
            assert_eq!((t.n_rows, t.n_inputs, t.n_targets), (2, 4, 3));
            assert_eq!(t.input_row(0), &[0.0, 255.0, 10.0, 20.0]);
            assert_eq!(t.target_row(0), Some(&[0.0, 0.0, 1.0][..]));
            assert_eq!(t.target_row(1), Some(&[1.0, 0.0, 0.0][..]));
        }
    }

    #[test]
    fn broken_files_are_reported_not_panicked_on() {
        let truncated = file(&idx_bytes(0x08, &[3, 2], &[1, 2, 3]), false);
        let e = load("d", truncated.path(), None, 1).expect_err("truncated");
        assert!(e.to_string().contains("expected 6 values"), "{e}");
        let garbage = file(b"hello world", false);
        assert!(load("d", garbage.path(), None, 1).is_err());
        let images = file(&idx_bytes(0x08, &[2, 1], &[1, 2]), false);
        let labels = file(&idx_bytes(0x08, &[2], &[1, 9]), false);
        let e = load("d", images.path(), Some(labels.path()), 3).expect_err("label 9");
        assert!(matches!(e, DataError::BadLabel { line: 2, .. }), "{e}");
    }
}
