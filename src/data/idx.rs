//! The IDX format of the MNIST database (gzipped or not): a big-endian header with a type
//! code and the dimensions, then the raw values. Images become rows of `prod(dims[1..])`
//! inputs; labels are one-hot encoded against the output size.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::{DataError, Table, encode_label};

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
        check_label_count(dataset, images, labels, n_rows, label_idx.dims[0])?;
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

/// Most values an IDX file may declare (4 GiB as 32-bit floats; MNIST holds 47 million).
/// Refused from the header, before anything is inflated or allocated.
const MAX_VALUES: usize = 1 << 30;

/// The header of an IDX file: value type code and dimensions.
struct Header {
    type_code: u8,
    dims: Vec<usize>,
}

impl Header {
    /// Values the header declares.
    fn count(&self) -> Option<usize> {
        self.dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }

    /// Bytes per value.
    fn width(&self) -> Option<usize> {
        match self.type_code {
            0x08 | 0x09 => Some(1),
            0x0B => Some(2),
            0x0C | 0x0D => Some(4),
            0x0E => Some(8),
            _ => None,
        }
    }
}

/// The file's bytes as a stream: inflated on the fly when gzipped (several gzip members, as
/// pigz and bgzip write, are one stream), so only what is read is ever inflated.
fn open(dataset: &str, path: &Path) -> Result<(Box<dyn Read>, bool), DataError> {
    let mut reader = BufReader::new(super::open(dataset, path)?);
    let gzip = reader
        .fill_buf()
        .map_err(|source| DataError::Io {
            dataset: dataset.to_string(),
            path: path.to_path_buf(),
            source,
        })?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        (Box::new(flate2::read::MultiGzDecoder::new(reader)), true)
    } else {
        (Box::new(reader), false)
    })
}

/// Reads the header from the start of `reader` and checks what it declares.
fn header(
    reader: &mut dyn Read,
    gzip: bool,
    bad: &dyn Fn(String) -> DataError,
) -> Result<Header, DataError> {
    let broken = |e: std::io::Error, what: &str| {
        if gzip && e.kind() != std::io::ErrorKind::UnexpectedEof {
            bad(format!("not a valid gzip file: {e}"))
        } else {
            bad(what.to_string())
        }
    };
    let mut magic = [0u8; 4];
    reader
        .read_exact(&mut magic)
        .map_err(|e| broken(e, "not an IDX file (bad magic number)"))?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()));
    }
    let rank = magic[3] as usize;
    if rank == 0 {
        return Err(bad("truncated IDX header".into()));
    }
    let mut raw = vec![0u8; 4 * rank];
    reader
        .read_exact(&mut raw)
        .map_err(|e| broken(e, "truncated IDX header"))?;
    let dims = raw
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let header = Header {
        type_code: magic[2],
        dims,
    };
    let Some(width) = header.width() else {
        return Err(bad(format!(
            "unknown IDX value type 0x{:02x}",
            header.type_code
        )));
    };
    match header.count() {
        Some(count) if count <= MAX_VALUES && count.checked_mul(width).is_some() => Ok(header),
        _ => Err(bad(format!(
            "dimensions {:?} declare more than {MAX_VALUES} values, the limit for an IDX file",
            header.dims
        ))),
    }
}

/// The widths of an IDX dataset from the headers of its files alone (images, then labels).
pub(super) fn shape(
    dataset: &str,
    images: &Path,
    labels: Option<&Path>,
    classes: usize,
) -> Result<Table, DataError> {
    let read_header = |path: &Path| {
        let bad = |reason: String| DataError::Format {
            dataset: dataset.to_string(),
            path: path.to_path_buf(),
            reason,
        };
        let (mut reader, gzip) = open(dataset, path)?;
        header(&mut reader, gzip, &bad)
    };
    let images_header = read_header(images)?;
    let n_rows = images_header.dims[0];
    let mut table = Table {
        n_rows,
        n_inputs: images_header.dims[1..].iter().product(),
        ..Table::default()
    };
    if let Some(labels) = labels {
        let labels_header = read_header(labels)?;
        check_label_count(dataset, images, labels, n_rows, labels_header.dims[0])?;
        table.n_targets = classes.max(1);
        table.targets = Some(Vec::new());
    }
    Ok(table)
}

fn check_label_count(
    dataset: &str,
    images: &Path,
    labels: &Path,
    n_rows: usize,
    n_labels: usize,
) -> Result<(), DataError> {
    if n_labels == n_rows {
        return Ok(());
    }
    Err(DataError::Format {
        dataset: dataset.to_string(),
        path: labels.to_path_buf(),
        reason: format!(
            "{n_labels} labels for {n_rows} images in {}",
            images.display()
        ),
    })
}

fn parse(dataset: &str, path: &Path) -> Result<Idx, DataError> {
    let bad = |reason: String| DataError::Format {
        dataset: dataset.to_string(),
        path: path.to_path_buf(),
        reason,
    };
    let (mut reader, gzip) = open(dataset, path)?;
    let header = header(&mut reader, gzip, &bad)?;
    let (count, width) = (
        header.count().unwrap_or(usize::MAX),
        header.width().unwrap_or(1),
    );
    let expected = count * width;
    // Read (inflate) only what the header declares; a file that ends early is reported, one
    // that goes on is not read further. The buffer grows with what arrives, so a header that
    // lies about a short file allocates nothing up front.
    let mut body = Vec::with_capacity(expected.min(64 << 20));
    reader
        .take(expected as u64)
        .read_to_end(&mut body)
        .map_err(|e| {
            if gzip {
                bad(format!("not a valid gzip file: {e}"))
            } else {
                DataError::Io {
                    dataset: dataset.to_string(),
                    path: path.to_path_buf(),
                    source: e,
                }
            }
        })?;
    if body.len() < expected {
        return Err(bad(format!(
            "expected {count} values of {width} bytes, the file holds {} bytes",
            body.len()
        )));
    }
    let type_code = header.type_code;
    let values = body
        .chunks_exact(width)
        .map(|c| match type_code {
            0x08 => f32::from(c[0]),
            0x09 => f32::from(c[0] as i8),
            0x0B => f32::from(i16::from_be_bytes([c[0], c[1]])),
            0x0C => i32::from_be_bytes([c[0], c[1], c[2], c[3]]) as f32,
            0x0D => f32::from_be_bytes([c[0], c[1], c[2], c[3]]),
            _ => f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32,
        })
        .collect::<Vec<f32>>();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "value {} is {}, not a finite number",
            i + 1,
            values[i]
        )));
    }
    Ok(Idx {
        dims: header.dims,
        values,
    })
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

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).expect("gzip");
        enc.finish().expect("gzip")
    }

    #[test]
    fn multi_member_gzip_as_pigz_and_bgzip_write_it_loads() {
        let images = idx_bytes(0x08, &[2, 2, 2], &[0, 255, 10, 20, 1, 2, 3, 4]);
        let (head, tail) = images.split_at(7);
        let mut two_members = gzip(head);
        two_members.extend(gzip(tail));
        let f = file(&two_members, false);
        let t = load("d", f.path(), None, 1).expect("loads");
        assert_eq!(t.inputs, vec![0.0, 255.0, 10.0, 20.0, 1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn a_gzip_bomb_is_refused_from_its_header_or_inflated_only_as_far_as_declared() {
        // A header that declares 2^48 values is refused before the body is inflated.
        let mut huge = idx_bytes(0x08, &[65_536, 65_536, 65_536], &[]);
        huge.extend(std::iter::repeat_n(0u8, 1 << 20));
        let f = file(&huge, true);
        let e = load("d", f.path(), None, 1).expect_err("too large");
        assert!(e.to_string().contains("declare more than"), "{e}");
        let e = shape("d", f.path(), None, 1).expect_err("check sees it too");
        assert!(e.to_string().contains("declare more than"), "{e}");
        // A small header followed by 32 MiB of zeros: only the 4 declared values are read.
        let mut bomb = idx_bytes(0x08, &[1, 4], &[1, 2, 3, 4]);
        bomb.extend(std::iter::repeat_n(0u8, 32 << 20));
        let f = file(&gzip(&bomb), false);
        let t = load("d", f.path(), None, 1).expect("loads");
        assert_eq!((t.n_rows, t.inputs), (1, vec![1.0, 2.0, 3.0, 4.0]));
        // Floats must be finite.
        let nan = f32::NAN.to_be_bytes();
        let f = file(&idx_bytes(0x0D, &[1, 1], &nan), false);
        let e = load("d", f.path(), None, 1).expect_err("NaN");
        assert!(e.to_string().contains("value 1 is NaN"), "{e}");
        // A header that claims more than the file holds allocates nothing up front.
        let f = file(&gzip(&idx_bytes(0x0D, &[1 << 14, 1 << 14], &[0; 8])), false);
        let e = load("d", f.path(), None, 1).expect_err("truncated");
        assert!(e.to_string().contains("the file holds 8 bytes"), "{e}");
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
