//! Reading `.net` files for the CLI: the only place it touches source files. Compiling goes
//! through [`lang::compile_bytes`], the library's one front door from bytes to diagnostics,
//! so `neurosim check` reports exactly what a user of the Rust API sees; what stays here is
//! the CLI's part: reading files (bounded, regular files only), `--set` arguments, choosing
//! `--network`, printing diagnostics and the exit code.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::args::SourceArgs;
use super::{CliError, Reported};
use crate::diag::render::render;
use crate::diag::{Diagnostic, FileId, SourceMap};
use crate::ir::Network;
use crate::lang::{self, Compilation, Override};

/// A compiled file: the networks asked for, the full source text and how long it took.
pub struct Compiled {
    pub path: PathBuf,
    pub text: String,
    pub networks: Vec<Network>,
    pub sources: SourceMap,
    pub overrides: Vec<String>,
    pub parse_s: f64,
    /// Warnings to show even though compilation succeeded.
    pub warnings: Vec<Diagnostic>,
}

/// A `--set PATH=VALUE` argument through [`Override::parse`], its error as a usage error.
pub fn parse_override(text: &str) -> Result<Override, CliError> {
    Override::parse(text).map_err(|e| {
        CliError::Usage(format!(
            "--set expects PATH=VALUE (for example `--set E.tau_m=15ms`), got `{text}`: {e}"
        ))
    })
}

/// Reads and compiles the file of `args`, rendering diagnostics to stderr on failure.
pub fn compile(args: &SourceArgs) -> Result<Compiled, CliError> {
    compile_file(&args.file, args.network.as_deref(), &args.overrides)
}

/// Largest `.net` source (or import) read: far above any real network description, and
/// small enough that `neurosim check /dev/zero`-like mistakes end at once instead of
/// reading until memory runs out.
pub const MAX_SOURCE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a source file: only a regular file (a FIFO would block forever, a device could be
/// endless) of at most [`MAX_SOURCE_BYTES`].
pub fn read_source(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(Error::new(ErrorKind::InvalidInput, "it is a directory"));
    }
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "it is not a regular file (a device, FIFO or socket)",
        ));
    }
    let too_large = || {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "it is larger than {} MiB, the limit for a source file",
                MAX_SOURCE_BYTES / (1024 * 1024)
            ),
        )
    };
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The size can change between the stat and the read (or be reported as 0, as in /proc).
    std::fs::File::open(path)?
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Reads an imported file for `lang`: bounded like the main source, and UTF-8.
fn load_import(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read_source(path)?).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not valid UTF-8 (byte {} is not)",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The CLI's only way from source bytes to a compilation: [`lang::compile_bytes`] with the
/// CLI's loader for imports. Reports nothing itself; `inspect` and `plot` use it directly
/// for a stored source, which may no longer compile.
pub fn compile_source(name: &str, bytes: &[u8], overrides: &[Override]) -> Compilation {
    let mut loader = load_import;
    lang::compile_bytes(name, bytes, &mut loader, overrides)
}

/// Reads and compiles `file`, keeping only `network` if given.
pub fn compile_file(
    file: &Path,
    network: Option<&str>,
    overrides: &[String],
) -> Result<Compiled, CliError> {
    let bytes = read_source(file)
        .map_err(|e| CliError::Io(format!("cannot read {}: {e}", file.display())))?;
    compile_bytes(file, &bytes, network, overrides)
}

/// Compiles source bytes that claim to be `file` (paths in it resolve against its folder)
/// with [`compile_source`]; on errors prints every diagnostic and fails with
/// [`Reported::InvalidModel`].
pub fn compile_bytes(
    file: &Path,
    bytes: &[u8],
    network: Option<&str>,
    overrides: &[String],
) -> Result<Compiled, CliError> {
    let parsed = overrides
        .iter()
        .map(|s| parse_override(s))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let compilation = compile_source(&file.display().to_string(), bytes, &parsed);
    let parse_s = started.elapsed().as_secs_f64();
    let (errors, warnings): (Vec<_>, Vec<_>) = compilation
        .diagnostics
        .into_iter()
        .partition(Diagnostic::is_error);
    if !errors.is_empty() {
        eprint!("{}", render(&errors, &compilation.sources));
        eprint!("{}", render(&warnings, &compilation.sources));
        let n = errors.len();
        eprintln!(
            "error: could not compile {} ({n} error{})",
            file.display(),
            if n == 1 { "" } else { "s" }
        );
        return Err(CliError::Reported(Reported::InvalidModel));
    }
    let networks = select_network(compilation.networks, network, file)?;
    // The root file's text as the compiler read it (valid UTF-8: invalid bytes are an error).
    let text = compilation
        .sources
        .get(FileId(0))
        .map(|f| f.text.clone())
        .unwrap_or_default();
    Ok(Compiled {
        path: file.to_path_buf(),
        text,
        networks,
        sources: compilation.sources,
        overrides: overrides.to_vec(),
        parse_s,
        warnings,
    })
}

/// The networks of `file`, or only the one named by `--network` (a usage error, with a
/// suggestion, when there is none of that name).
fn select_network(
    mut networks: Vec<Network>,
    wanted: Option<&str>,
    file: &Path,
) -> Result<Vec<Network>, CliError> {
    let Some(wanted) = wanted else {
        return Ok(networks);
    };
    let names: Vec<String> = networks.iter().map(|n| n.name.clone()).collect();
    networks.retain(|n| n.name == wanted);
    if networks.is_empty() {
        let hint = crate::diag::suggest(wanted, names.iter().map(String::as_str))
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_else(|| format!("; the file defines: {}", names.join(", ")));
        return Err(CliError::Usage(format!(
            "no network named '{wanted}' in {}{hint}",
            file.display()
        )));
    }
    Ok(networks)
}
