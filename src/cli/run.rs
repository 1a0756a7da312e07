//! `neurosim run`: compile, check memory, open the output, run the engine, finish the output,
//! print the JSON summary.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use serde_json::{Value as Json, json};

use super::args::RunArgs;
use super::eta::{self, Eta};
use super::interrupt::{self, Phase};
use super::memory::available_memory;
use super::source::{Compiled, compile_bytes, compile_file};
use super::{CliError, Reported};
use crate::diag::render::render;
use crate::ir::memory;
use crate::ir::{Network, PopulationId};
use crate::lang::Override;
use crate::models::Mode;
use crate::record::claim::OutputClaim;
use crate::record::hdf5::{
    Hdf5Recorder, RecorderOptions, read_arrays, read_provenance, read_status,
};
use crate::record::{Layout, Provenance, RecordError, RunStatus};
use crate::sim::{self, EpochStats, ObserveError, Observer, RunConfig, RunReport};

/// The provenance stored in the output of `network`: what `run --from` replays.
fn provenance(compiled: &Compiled, network: &Network, threads: usize) -> Provenance {
    Provenance {
        source: compiled.text.clone(),
        file_name: compiled.path.display().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        seed: network.seed,
        threads,
        start_time: rfc3339_now(),
        command_line: std::env::args().collect::<Vec<_>>().join(" "),
        overrides: compiled.overrides.clone(),
        network: network.name.clone(),
    }
}

/// The current UTC time as `2026-11-23T18:40:20Z` (civil-from-days, Howard Hinnant's algorithm).
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The most worker threads `--threads` accepts: far more than any machine neurosim runs on
/// has cores, far fewer than would exhaust the process's threads.
pub const MAX_THREADS: usize = 1024;

/// `neurosim run`: compile, check every network and claim its output before any runs
/// (an error found then leaves no file behind), then run the networks in order.
pub fn run(args: &RunArgs) -> Result<(), CliError> {
    let (compiled, stored_seed) = compile(args)?;
    if compiled.networks.is_empty() {
        // The compiler's warning says why (shown even with --quiet: the run fails); running
        // nothing is no success.
        eprint!("{}", render(&compiled.warnings, &compiled.sources));
        return Err(CliError::Run(format!(
            "{} declares no network, so there is nothing to run",
            compiled.path.display()
        )));
    }
    let initial = match &args.weights {
        Some(old) => Some(read_weights(old)?),
        None => None,
    };
    if !compiled.warnings.is_empty() && !args.quiet {
        eprint!("{}", render(&compiled.warnings, &compiled.sources));
    }
    let threads = thread_count(args.threads)?;
    let session = Session {
        args,
        compiled: &compiled,
        config: RunConfig {
            threads,
            interrupt: interrupt::flag(),
        },
        initial,
    };
    let plans = claim_outputs(args, &compiled, stored_seed)?;
    let mut summaries = Vec::new();
    let mut interrupted = false;
    for (network, claim) in plans {
        let (summary, status) = run_network(&session, network, claim)?;
        summaries.push(summary);
        if status == RunStatus::Interrupted {
            interrupted = true;
            break;
        }
    }
    if args.json {
        let out = if summaries.len() == 1 {
            summaries.remove(0)
        } else {
            json!({ "runs": summaries })
        };
        println!("{out}");
    }
    if interrupted {
        return Err(CliError::Interrupted);
    }
    Ok(())
}

/// The networks to run: the `.net` file's, or those stored in `--from OUT.h5` with its
/// overrides (further `--set` values on top). A replay also returns the seed it must reuse
/// exactly, set on the network rather than as `--set seed=...` (the language reads numbers
/// as f64, exact only up to 2^53), unless a `--set` gives another.
fn compile(args: &RunArgs) -> Result<(Compiled, Option<u64>), CliError> {
    match (&args.from, &args.file) {
        (Some(old), _) => {
            let provenance = read_provenance(old)
                .map_err(|e| CliError::Io(format!("cannot read {}: {e}", old.display())))?;
            let mut overrides = provenance.overrides.clone();
            overrides.extend(args.overrides.iter().cloned());
            let stored_seed =
                (!args.overrides.iter().any(|o| sets_seed(o))).then_some(provenance.seed);
            let compiled = compile_bytes(
                Path::new(&provenance.file_name),
                provenance.source.as_bytes(),
                Some(&provenance.network),
                &overrides,
            )?;
            Ok((compiled, stored_seed))
        }
        (None, Some(file)) => Ok((
            compile_file(file, args.network.as_deref(), &args.overrides)?,
            None,
        )),
        (None, None) => Err(CliError::Usage("give a .net file or --from OUT.h5".into())),
    }
}

/// `--threads`, between 1 and [`MAX_THREADS`]; all cores without it.
fn thread_count(threads: Option<usize>) -> Result<usize, CliError> {
    match threads {
        Some(n) if n == 0 || n > MAX_THREADS => Err(CliError::Usage(format!(
            "--threads must be between 1 and {MAX_THREADS}, got {n}"
        ))),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// Checks everything that can be checked, for every network, and claims its output, before
/// any output file is created: an error found here leaves no file behind.
fn claim_outputs(
    args: &RunArgs,
    compiled: &Compiled,
    stored_seed: Option<u64>,
) -> Result<Vec<(Network, OutputClaim)>, CliError> {
    let several = compiled.networks.len() > 1;
    let replayed = args.from.as_deref();
    let mut plans = Vec::new();
    for network in &compiled.networks {
        let mut network = network.clone();
        if let Some(seed) = args.seed.or(stored_seed) {
            network.seed = seed;
        }
        let output = output_path(
            args.output.as_deref(),
            &compiled.path,
            &network,
            several,
            replayed,
        );
        refuse_special_file(&output)?;
        if let Some(old) = replayed
            && same_file(old, &output)
        {
            return Err(CliError::Run(format!(
                "the replay would overwrite {}, the output it replays; choose another with -o",
                output.display()
            )));
        }
        check_runnable(&network, compiled)?;
        let claim = OutputClaim::acquire(&output).map_err(|e| match e {
            RecordError::InUse { .. } => CliError::Run(e.to_string()),
            other => CliError::Io(format!("cannot create {}: {other}", output.display())),
        })?;
        may_replace(&claim, args.force, args.quiet)?;
        plans.push((network, claim));
    }
    Ok(plans)
}

/// What the engine would refuse only once started: a layout the recorder cannot write,
/// more memory than the system allows, datasets that do not load.
fn check_runnable(network: &Network, compiled: &Compiled) -> Result<(), CliError> {
    Layout::of(network).map_err(|e| CliError::Run(e.to_string()))?;
    if let Err(diagnostic) = memory::check_fits(network, available_memory()) {
        eprint!("{}", render(&[diagnostic], &compiled.sources));
        return Err(CliError::Reported(Reported::InvalidModel));
    }
    let data = crate::data::check(network);
    if !data.is_empty() {
        eprint!("{}", render(&data, &compiled.sources));
        return Err(CliError::Reported(Reported::InvalidModel));
    }
    Ok(())
}

/// What every network of one `neurosim run` shares.
struct Session<'a> {
    args: &'a RunArgs,
    compiled: &'a Compiled,
    config: RunConfig,
    /// `--weights OLD.h5`: the trained parameters to start from.
    initial: Option<BTreeMap<String, Vec<f32>>>,
}

/// Runs one network into its claimed output and reports it; returns its `--json` summary
/// and how it ended (complete or interrupted: a failed run is an error).
fn run_network(
    session: &Session,
    network: Network,
    claim: OutputClaim,
) -> Result<(Json, RunStatus), CliError> {
    let args = session.args;
    let threads = session.config.threads;
    let output_file = claim.final_path().to_path_buf();
    let data = match network.mode {
        Mode::Rate => Some(
            crate::data::load(&network)
                .map_err(|e| CliError::Run(format!("network '{}' failed: {e}", network.name)))?,
        ),
        Mode::Spiking => None,
    };
    let mut console = Console {
        output: Output::Pending {
            claim,
            provenance: provenance(session.compiled, &network, threads),
        },
        network: &network,
        epochs: network.train.as_ref().map_or(0, |t| t.epochs),
        accuracy: super::inspect::reports_accuracy(&network),
        progress: Progress::new(args.quiet),
    };
    let start = sim::Start {
        data: data.as_ref(),
        initial: session.initial.as_ref(),
    };
    let result = sim::run(&network, start, &session.config, &mut console);
    interrupt::set_phase(Phase::Finishing);
    console.progress.finish();
    let (report, status) = match result {
        Ok(report) if report.interrupted => (report, RunStatus::Interrupted),
        Ok(report) => (report, RunStatus::Complete),
        Err(e) => (RunReport::default(), RunStatus::Failed(e.to_string())),
    };
    let written = finish_output(console.output, &network, &report, &status, &output_file)?;
    if let RunStatus::Failed(message) = status {
        return Err(CliError::Run(format!(
            "network '{}' failed: {message}",
            network.name
        )));
    }
    if !args.quiet {
        print_human(&network, &report, &written);
    }
    if args.plot {
        for picture in super::inspect::plot_file(&written, None, "png", args.force)? {
            if !args.quiet {
                eprintln!("  plot: {}", picture.display());
            }
        }
    }
    if args.summary {
        print!("{}", crate::testing::summarize(&network, &report));
    }
    let summary = summary_json(&network, &report, &written, session.compiled, threads);
    if status == RunStatus::Interrupted {
        eprintln!(
            "interrupted: {} holds what was recorded so far",
            written.display()
        );
    }
    Ok((summary, status))
}

/// Stamps the output with how the run ended and gives it its final name; returns that
/// name. An engine that failed before it started leaves no file (and the error); one that
/// never called the observer still gets its (empty) output.
fn finish_output(
    output: Output,
    network: &Network,
    report: &RunReport,
    status: &RunStatus,
    output_file: &Path,
) -> Result<PathBuf, CliError> {
    let cannot_create =
        |e: RecordError| CliError::Io(format!("cannot create {}: {e}", output_file.display()));
    let recorder = match output {
        Output::Open(recorder) => recorder,
        Output::Refused(e) => return Err(cannot_create(e)),
        Output::Pending { .. } if matches!(status, RunStatus::Failed(_)) => {
            interrupt::set_phase(Phase::Idle);
            return Err(CliError::Run(format!(
                "network '{}' failed: {}",
                network.name,
                status.to_string().trim_start_matches("failed: ")
            )));
        }
        Output::Pending { claim, provenance } => {
            Hdf5Recorder::create_claimed(claim, &provenance, network, &Default::default())
                .map_err(cannot_create)?
        }
    };
    let written = recorder
        .finish(report, status.clone())
        .map_err(|e| CliError::Io(format!("cannot complete {}: {e}", output_file.display())))?;
    interrupt::set_phase(Phase::Idle);
    Ok(written)
}

/// Whether `--set` text sets the master seed.
fn sets_seed(text: &str) -> bool {
    Override::parse(text).is_ok_and(|o| o.path == "seed")
}

/// Refuses an existing output that is not a regular file (a FIFO, a device, a socket, or a
/// link to one): renaming the result over it would replace it, `--force` or not.
fn refuse_special_file(output: &Path) -> Result<(), CliError> {
    let Ok(meta) = std::fs::metadata(output) else {
        return Ok(());
    };
    if meta.is_file() {
        return Ok(());
    }
    let kind = special_kind(&meta.file_type());
    Err(CliError::Run(format!(
        "{} is {kind}, not a regular file; neurosim writes its output only as a regular          file and will not replace it, even with --force: choose another path with -o",
        output.display()
    )))
}

#[cfg(unix)]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// With the output claimed (no other run can be writing it): whether what is already there
/// may be replaced. An existing output needs `--force`, unless it holds a failed run (it
/// would otherwise block the corrected re-run); temporary files of killed runs are partial
/// results and need `--force` too, which deletes them.
fn may_replace(claim: &OutputClaim, force: bool, quiet: bool) -> Result<(), CliError> {
    let output = claim.final_path();
    if output.exists() {
        let failed = matches!(read_status(output), Ok(Ok(RunStatus::Failed(_))));
        if failed {
            if !quiet {
                eprintln!(
                    "note: replacing {}, which holds a failed run",
                    output.display()
                );
            }
        } else if !force {
            return Err(CliError::Run(format!(
                "{} exists; pass --force to overwrite it or -o to write elsewhere",
                output.display()
            )));
        }
    }
    let leftovers = claim.leftovers();
    if let Some(first) = leftovers.first() {
        if !force {
            return Err(CliError::Run(format!(
                "{} holds the partial result of an earlier run to {} that was killed (a valid \
                 file with status = running); rename it to keep it, or pass --force to delete it",
                first.display(),
                output.display()
            )));
        }
        for leftover in &leftovers {
            std::fs::remove_file(leftover)
                .map_err(|e| CliError::Io(format!("cannot delete {}: {e}", leftover.display())))?;
            if !quiet {
                eprintln!(
                    "note: deleted {}, the partial result of a killed run",
                    leftover.display()
                );
            }
        }
    }
    Ok(())
}

/// Trained weights and biases of an earlier output, keyed `weights/<projection>`, `biases/<population>`.
fn read_weights(path: &Path) -> Result<BTreeMap<String, Vec<f32>>, CliError> {
    let mut out = BTreeMap::new();
    for group in ["weights", "biases"] {
        match read_arrays(path, group) {
            Ok(arrays) => out.extend(arrays.into_iter().map(|(k, (_, v))| (k, v))),
            Err(RecordError::Missing { .. }) => {}
            Err(e) => {
                return Err(CliError::Io(format!(
                    "cannot read weights from {}: {e}",
                    path.display()
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(CliError::Run(format!(
            "{} holds no trained weights",
            path.display()
        )));
    }
    Ok(out)
}

/// `-o`, else the file's `output`, else `<stem>.h5` in the working folder; with several
/// networks in one run, `<stem>_<network>.h5`. A replay (`--from OLD.h5`) without `-o`
/// writes into OLD.h5's folder: the stored source's `output` chooses only the file name.
fn output_path(
    cli: Option<&Path>,
    net_file: &Path,
    network: &Network,
    several: bool,
    replayed: Option<&Path>,
) -> PathBuf {
    let stem = net_file
        .file_stem()
        .map_or("out".into(), |s| s.to_string_lossy().into_owned());
    let default = PathBuf::from(format!("{stem}.h5"));
    let base = match (cli, replayed) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(old)) => {
            let name = network
                .output
                .as_deref()
                .and_then(Path::file_name)
                .map_or(default, PathBuf::from);
            old.parent().unwrap_or(Path::new("")).join(name)
        }
        (None, None) => network.output.clone().unwrap_or(default),
    };
    if !several {
        return base;
    }
    let stem = base
        .file_stem()
        .map_or("out".into(), |s| s.to_string_lossy().into_owned());
    base.with_file_name(format!("{stem}_{}.h5", network.name))
}

fn print_human(network: &Network, report: &RunReport, output: &Path) {
    eprintln!(
        "network {}: done in {:.3} s (build {:.3} s) -> {}",
        network.name,
        report.build_s + report.run_s,
        report.build_s,
        output.display()
    );
    for (name, p) in &report.populations {
        if let (Some(spikes), Some(rate)) = (p.spikes, p.rate_hz) {
            eprintln!("  {name}: {spikes} spikes, {rate:.2} Hz");
        }
    }
    if let Some(train) = &report.train
        && let Some(stop) = &train.early_stopping
    {
        eprintln!("  {}", early_stopping_line(stop, train.epochs));
    }
    if let Some(eval) = &report.evaluate {
        if let Some(a) = eval.accuracy {
            eprintln!("  accuracy: {:.2} %", 100.0 * a);
        }
        if let Some(l) = eval.loss {
            eprintln!("  loss: {l:.5}");
        }
        if let Some(o) = eval.overlap {
            eprintln!("  overlap: {o:.4}");
        }
        if let Some(m) = eval.mmd {
            eprintln!("  mmd: {m:.5}");
        }
    }
}

/// What early stopping did, in one line: why training ended, and which parameters it kept.
fn early_stopping_line(stop: &crate::sim::EarlyStopReport, epochs: usize) -> String {
    let kept = if stop.restored {
        format!("; restored the parameters of epoch {}", stop.best_epoch)
    } else {
        String::new()
    };
    if stop.stopped {
        format!(
            "training stopped early after epoch {epochs}: the validation loss did not improve \
             for {} epochs (best {:.5} at epoch {}){kept}",
            stop.patience, stop.best_val_loss, stop.best_epoch
        )
    } else {
        format!(
            "early stopping did not trigger; best validation loss {:.5} at epoch {}{kept}",
            stop.best_val_loss, stop.best_epoch
        )
    }
}

/// The `run --json` summary; its keys are documented in README.md and kept stable.
fn summary_json(
    network: &Network,
    report: &RunReport,
    output: &Path,
    compiled: &Compiled,
    threads: usize,
) -> Json {
    let mut out = json!({
        "network": network.name,
        "mode": network.mode,
        "seed": network.seed,
        "threads": threads,
        "output": output.display().to_string(),
        "timing": { "parse_s": compiled.parse_s, "build_s": report.build_s, "run_s": report.run_s },
    });
    let body = serde_json::to_value(report).unwrap_or_default();
    if let (Json::Object(out), Json::Object(body)) = (&mut out, body) {
        out.extend(body);
    }
    if report.interrupted {
        out["interrupted"] = json!(true);
    }
    out
}

/// The output of one network: created when the engine starts, not before. (One value per
/// run, so the size of its variants does not matter.)
#[allow(clippy::large_enum_variant)]
enum Output {
    /// Claimed, no file yet.
    Pending {
        claim: OutputClaim,
        provenance: Provenance,
    },
    Open(Hdf5Recorder),
    /// The file could not be created (the engine was told and stopped).
    Refused(RecordError),
}

/// Forwards to the output and tells the person at the terminal how the run goes.
struct Console<'a> {
    output: Output,
    network: &'a Network,
    /// Epochs the protocol trains for (0 in spiking mode).
    epochs: usize,
    /// Whether the epoch lines show accuracy (not for a regression loss).
    accuracy: bool,
    progress: Progress,
}

/// How progress reaches the person running neurosim.
enum Progress {
    Quiet,
    /// A progress bar with rate and ETA, on a terminal (created at the first report).
    Bar(Option<ProgressBar>, Eta),
    /// Plain lines every few seconds, when stderr is a file or pipe.
    Lines {
        started: Instant,
        last: Instant,
        eta: Eta,
    },
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            Progress::Bar(None, Eta::default())
        } else {
            let now = Instant::now();
            Progress::Lines {
                started: now,
                last: now,
                eta: Eta::default(),
            }
        }
    }

    /// Prints a line without tearing the bar.
    fn println(&self, line: &str) {
        match self {
            Progress::Quiet => {}
            Progress::Bar(Some(bar), _) => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }

    fn update(&mut self, network: &str, fraction: f64, what: &str) {
        const STEPS: u64 = 10_000;
        match self {
            Progress::Quiet => {}
            Progress::Bar(bar, eta) => {
                // indicatif's own `{eta}` extrapolates from the first ticks; ours waits.
                let eta = eta.text(Instant::now(), fraction);
                let bar = bar.get_or_insert_with(|| {
                    let bar = ProgressBar::new(STEPS);
                    let style =
                        ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}%  {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> ");
                    bar.set_style(style);
                    bar.set_prefix(network.to_string());
                    bar
                });
                bar.set_position((fraction.clamp(0.0, 1.0) * STEPS as f64) as u64);
                let elapsed = eta::duration(bar.elapsed().as_secs_f64());
                bar.set_message(format!("{what}  {elapsed} elapsed, {eta}"));
            }
            Progress::Lines { started, last, eta } => {
                let now = Instant::now();
                let eta = eta.text(now, fraction);
                if now.duration_since(*last).as_secs_f64() >= 2.0 && fraction < 1.0 {
                    let elapsed = now.duration_since(*started).as_secs_f64();
                    eprintln!(
                        "{network}: {:5.1}%  {what}  {elapsed:.1} s elapsed, {eta}",
                        100.0 * fraction
                    );
                    *last = now;
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Progress::Bar(Some(bar), _) = self {
            bar.finish_and_clear();
        }
    }
}

impl Console<'_> {
    /// The recorder, creating the file on first use.
    fn recorder(&mut self) -> Result<&mut Hdf5Recorder, ObserveError> {
        if let Output::Pending { .. } = self.output {
            let Output::Pending { claim, provenance } = std::mem::replace(
                &mut self.output,
                Output::Refused(RecordError::Layout(String::new())),
            ) else {
                unreachable!("Console::recorder: the output was just seen pending");
            };
            self.output = match Hdf5Recorder::create_claimed(
                claim,
                &provenance,
                self.network,
                &RecorderOptions::default(),
            ) {
                Ok(recorder) => {
                    interrupt::set_phase(Phase::Writing(recorder.temp_path().to_path_buf()));
                    Output::Open(recorder)
                }
                Err(e) => Output::Refused(e),
            };
        }
        match &mut self.output {
            Output::Open(recorder) => Ok(recorder),
            Output::Refused(e) => Err(ObserveError(format!("cannot create the output: {e}"))),
            Output::Pending { .. } => unreachable!("Console::recorder: created above"),
        }
    }
}

impl Observer for Console<'_> {
    fn started(&mut self) -> Result<(), ObserveError> {
        self.recorder().map(|_| ())
    }

    fn spikes(
        &mut self,
        population: PopulationId,
        time_ms: f64,
        neurons: &[u32],
    ) -> Result<(), ObserveError> {
        self.recorder()?.spikes(population, time_ms, neurons)
    }

    fn sample(&mut self, record: usize, time_ms: f64, values: &[f32]) -> Result<(), ObserveError> {
        self.recorder()?.sample(record, time_ms, values)
    }

    fn epoch(&mut self, stats: &EpochStats) -> Result<(), ObserveError> {
        if !matches!(self.progress, Progress::Quiet) {
            let mut line = format!("{} epoch {:>4}", self.network.name, stats.epoch);
            // A network that learns by local rules only has no loss (NaN): say nothing.
            if !stats.loss.is_nan() {
                line += &format!("  loss {:.5}", stats.loss);
            }
            if let Some(a) = stats.accuracy.filter(|_| self.accuracy) {
                line += &format!("  acc {:.2}%", 100.0 * a);
            }
            if let Some(l) = stats.generator_loss {
                line += &format!("  generator_loss {l:.5}");
            }
            if let Some(lr) = stats.learning_rate {
                line += &format!("  lr {lr:.3e}");
            }
            if let Some(l) = stats.val_loss {
                line += &format!("  val_loss {l:.5}");
            }
            if let Some(a) = stats.val_accuracy.filter(|_| self.accuracy) {
                line += &format!("  val_acc {:.2}%", 100.0 * a);
            }
            line += &format!("  ({:.2} s)", stats.seconds);
            // At most about twenty lines however many epochs: every k-th and the last.
            let every = self.epochs.div_ceil(20).max(1);
            if stats.epoch.is_multiple_of(every) || stats.epoch == self.epochs || stats.epoch == 1 {
                self.progress.println(&line);
            }
        }
        self.recorder()?.epoch(stats)
    }

    fn array(&mut self, path: &str, shape: &[usize], data: &[f32]) -> Result<(), ObserveError> {
        self.recorder()?.array(path, shape, data)
    }

    fn progress(&mut self, fraction: f64, what: &str) {
        if let Output::Open(recorder) = &mut self.output {
            recorder.progress(fraction, what);
        }
        self.progress.update(&self.network.name, fraction, what);
    }
}
