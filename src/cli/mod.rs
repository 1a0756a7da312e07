//! The `neurosim` command line: reads files, compiles, prints diagnostics, runs engines and
//! records. The only module that uses clap or prints.
//!
//! Exit codes: 0 success, 1 invalid model or failed run, 2 usage error, 130 interrupted
//! by Ctrl-C, SIGTERM or SIGHUP (the output file is still complete up to that point).

pub mod args;
pub mod check;
mod eta;
pub mod inspect;
pub mod interrupt;
pub mod memory;
pub mod run;
pub mod source;

use clap::Parser;

use args::{Cli, Command};

/// Something already reported to the user (diagnostics printed); only the exit code remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    InvalidModel,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Run(String),
    /// Stopped by Ctrl-C, SIGTERM or SIGHUP after finishing the output (exit code 130).
    #[error("interrupted")]
    Interrupted,
    #[error("diagnostics were reported")]
    Reported(Reported),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Interrupted => interrupt::EXIT_CODE,
            CliError::Io(_) | CliError::Run(_) | CliError::Reported(_) => 1,
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::check(&args),
        Command::Graph(args) => check::graph(&args),
        Command::Run(args) => run::run(&args),
        Command::Inspect(args) => inspect::inspect(&args),
        Command::Plot(args) => inspect::plot(&args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            if !matches!(e, CliError::Reported(_) | CliError::Interrupted) {
                eprintln!("error: {e}");
            }
            e.exit_code()
        }
    }
}
