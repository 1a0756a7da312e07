//! An exclusive claim on an output path, so that two runs writing the same output cannot
//! damage each other.
//!
//! Constraints → solution:
//! - *The final file must not exist before the run ends* (it appears by rename), so it
//!   cannot carry the lock itself. The claim is an OS advisory lock (`flock`) on a hidden
//!   lock file beside it, `.NAME.lock`, created without truncation and locked before
//!   anything else is touched; a second run finds it locked and stops, having created or
//!   truncated nothing.
//! - *A killed run must not block the output forever*: the OS drops the lock with the
//!   process, so a leftover lock file is simply locked again. A finishing run deletes the
//!   lock file while it still holds the lock; a run that locked the deleted file meanwhile
//!   sees that the path no longer names the file it locked and starts over.
//! - *Never overwrite a file this process did not create*: every temporary file is created
//!   exclusively (`O_EXCL`) under a name holding the process id, `.NAME.PID.tmp`.
//! - *A killed run's partial result must be found*: while a claim is held no live run can be
//!   writing to the output, so every `.NAME.PID.tmp` (or the older `.NAME.tmp`) beside it
//!   was left by a run that died ([`OutputClaim::leftovers`]).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::RecordError;

/// The right to write one output path, held until dropped (or the process ends).
#[derive(Debug)]
pub struct OutputClaim {
    final_path: PathBuf,
    folder: PathBuf,
    /// The final file name, `NAME` in `.NAME.lock` and `.NAME.PID.tmp`.
    name: String,
    lock_path: PathBuf,
    /// Open while the claim is held; `None` when the file system cannot lock files.
    lock: Option<File>,
}

/// How often acquiring starts over when the lock file it locked was deleted meanwhile by
/// a finishing run (each retry means another run finished in between).
const ATTEMPTS: usize = 16;

impl OutputClaim {
    /// Claims `final_path` for this process. Fails with [`RecordError::InUse`] when another
    /// run holds it, and with [`RecordError::NotWritable`] when the folder does not exist or
    /// no file can be created in it.
    pub fn acquire(final_path: &Path) -> Result<OutputClaim, RecordError> {
        let folder = match final_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let not_writable = |reason: String| RecordError::NotWritable {
            folder: folder.clone(),
            reason,
        };
        let Some(name) = final_path.file_name() else {
            return Err(not_writable(format!(
                "'{}' names no file",
                final_path.display()
            )));
        };
        let name = name.to_string_lossy().into_owned();
        if !folder.is_dir() {
            return Err(not_writable("the folder does not exist".into()));
        }
        if final_path.is_dir() {
            return Err(not_writable(format!(
                "'{}' is a folder",
                final_path.display()
            )));
        }
        let lock_path = final_path.with_file_name(format!(".{name}.lock"));
        for _ in 0..ATTEMPTS {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)
                .map_err(|e| not_writable(e.to_string()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&lock_path)
                        .ok()
                        .and_then(|text| text.trim().parse::<u32>().ok());
                    return Err(RecordError::InUse {
                        path: final_path.to_path_buf(),
                        holder,
                    });
                }
                // Some network file systems cannot lock; exclusive temporary names still
                // keep runs from destroying each other's files there.
                Err(std::fs::TryLockError::Error(e))
                    if e.kind() == std::io::ErrorKind::Unsupported =>
                {
                    return Ok(OutputClaim {
                        final_path: final_path.to_path_buf(),
                        folder,
                        name,
                        lock_path,
                        lock: None,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(not_writable(e.to_string())),
            }
            if !still_named(&file, &lock_path) {
                continue;
            }
            let mut file = file;
            // The holder's process id, for the message another run prints.
            let _ = file
                .set_len(0)
                .and_then(|()| write!(file, "{}", std::process::id()));
            return Ok(OutputClaim {
                final_path: final_path.to_path_buf(),
                folder,
                name,
                lock_path,
                lock: Some(file),
            });
        }
        Err(not_writable(format!(
            "'{}' kept changing while it was being locked",
            lock_path.display()
        )))
    }

    /// The claimed output path.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Temporary files of earlier runs to the same output that never finished (killed):
    /// `.NAME.PID.tmp`, `.NAME.PID-N.tmp` and the older `.NAME.tmp`, sorted.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.folder) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| is_temp_name(&e.file_name().to_string_lossy(), &self.name))
            .map(|e| self.final_path.with_file_name(e.file_name()))
            .collect();
        out.sort();
        out
    }

    /// Creates a new temporary file for this output, exclusively, so that no existing file
    /// is ever truncated: `.NAME.PID.tmp`, or `.NAME.PID-N.tmp` if that name is taken.
    pub fn create_temp(&self) -> Result<PathBuf, RecordError> {
        let pid = std::process::id();
        for n in 0..1000 {
            let file_name = if n == 0 {
                format!(".{}.{pid}.tmp", self.name)
            } else {
                format!(".{}.{pid}-{n}.tmp", self.name)
            };
            let path = self.final_path.with_file_name(file_name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(self.not_writable(e.to_string())),
            }
        }
        Err(self.not_writable(format!(
            "1000 temporary names for '{}' are taken",
            self.name
        )))
    }

    /// [`RecordError::NotWritable`] for the claimed output's folder.
    pub(super) fn not_writable(&self, reason: String) -> RecordError {
        RecordError::NotWritable {
            folder: self.folder.clone(),
            reason,
        }
    }
}

impl Drop for OutputClaim {
    fn drop(&mut self) {
        // Delete the lock file while still holding the lock, and only if it is still the
        // file this claim locked (see the module doc).
        if let Some(file) = &self.lock
            && still_named(file, &self.lock_path)
        {
            let _ = std::fs::remove_file(&self.lock_path);
        }
    }
}

/// Whether `path` still names the open `file` (not deleted, not replaced).
#[cfg(unix)]
fn still_named(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
        _ => false,
    }
}

/// Without inode numbers the lock file is kept (never deleted), so it is always the one named.
#[cfg(not(unix))]
fn still_named(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// Whether `file_name` is a temporary file of the output `name`: `.NAME.tmp`,
/// `.NAME.PID.tmp` or `.NAME.PID-N.tmp`.
fn is_temp_name(file_name: &str, name: &str) -> bool {
    let Some(rest) = file_name
        .strip_prefix('.')
        .and_then(|r| r.strip_prefix(name))
        .and_then(|r| r.strip_suffix(".tmp"))
    else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(id) = rest.strip_prefix('.') else {
        return false;
    };
    let (pid, n) = id.split_once('-').unwrap_or((id, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(pid) && digits(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_of_an_output_are_recognised_and_no_others() {
        assert!(is_temp_name(".run.h5.tmp", "run.h5"));
        assert!(is_temp_name(".run.h5.123.tmp", "run.h5"));
        assert!(is_temp_name(".run.h5.123-4.tmp", "run.h5"));
        assert!(!is_temp_name(".run.h5.lock", "run.h5"));
        assert!(!is_temp_name(".run.h5.5.h5.123.tmp", "run.h5"));
        assert!(!is_temp_name(".run.h5x.tmp", "run.h5"));
        assert!(!is_temp_name(".run.h5.-1.tmp", "run.h5"));
        assert!(!is_temp_name("run.h5.123.tmp", "run.h5"));
    }

    #[test]
    fn a_second_claim_on_the_same_output_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.h5");
        let first = OutputClaim::acquire(&out).unwrap();
        match OutputClaim::acquire(&out) {
            Err(RecordError::InUse { path, holder }) => {
                assert_eq!(path, out);
                assert_eq!(holder, Some(std::process::id()));
            }
            other => panic!("expected InUse, got {other:?}"),
        }
        drop(first);
        assert!(
            !dir.path().join(".x.h5.lock").exists(),
            "the lock file goes with the claim"
        );
        let again = OutputClaim::acquire(&out).unwrap();
        assert_eq!(again.final_path(), out);
    }

    #[test]
    fn temporary_files_are_created_exclusively_and_found_as_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.h5");
        let claim = OutputClaim::acquire(&out).unwrap();
        let pid = std::process::id();
        // A file already under this process's first name (a dead run with the same pid).
        let taken = dir.path().join(format!(".x.h5.{pid}.tmp"));
        std::fs::write(&taken, b"keep me").unwrap();
        let temp = claim.create_temp().unwrap();
        assert_eq!(temp, dir.path().join(format!(".x.h5.{pid}-1.tmp")));
        assert_eq!(std::fs::read(&taken).unwrap(), b"keep me");
        std::fs::write(dir.path().join(".x.h5.tmp"), b"").unwrap();
        std::fs::write(dir.path().join(".y.h5.7.tmp"), b"").unwrap();
        let mut expected = vec![dir.path().join(".x.h5.tmp"), taken, temp];
        expected.sort();
        assert_eq!(claim.leftovers(), expected);
    }
}
