//! Ctrl-C, SIGTERM and SIGHUP (what `timeout`, batch schedulers, `docker stop` and a closed
//! terminal send) all mean "stop": the first asks the engine to stop at its next step,
//! batch, evaluation block or relaxation step, after which the output is finished and
//! marked `interrupted` (exit code 130); a second one ends the process at once (exit code
//! 130), leaving the run's temporary file (valid up to its last flush, `status = running`).
//! Only while the output is being finished (a moment once the engine has stopped) does a
//! second signal wait, so that the file is never cut off in the middle of its last write.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Exit code of an interrupted run, whichever of the three signals stopped it (128 + SIGINT,
/// as shells report Ctrl-C).
pub const EXIT_CODE: i32 = 130;

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// What the run is doing with its output, for the second signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// No output file is open (before the engine starts, between networks).
    Idle,
    /// The engine runs and writes this temporary file.
    Writing(PathBuf),
    /// The engine has stopped and the output is being finished and renamed.
    Finishing,
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Idle);

/// The flag the signal handler sets, cleared for a new run. The handler is installed on
/// the first call (a process can have only one).
pub fn flag() -> Arc<AtomicBool> {
    let flag = FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        let installed = ctrlc::set_handler(move || {
            if set.swap(true, Ordering::SeqCst) {
                let phase = PHASE.lock().map_or(Phase::Idle, |p| p.clone());
                match phase {
                    Phase::Finishing => {
                        eprintln!("interrupted again: the output is being finished, one moment");
                        return;
                    }
                    Phase::Writing(temp) => eprintln!(
                        "interrupted again: stopping now; {} holds what was written up to \
                         its last flush",
                        temp.display()
                    ),
                    Phase::Idle => eprintln!("interrupted again: stopping now"),
                }
                std::process::exit(EXIT_CODE);
            }
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will stop the run without finishing its output: {e}");
        }
        flag
    });
    flag.store(false, Ordering::SeqCst);
    flag.clone()
}

/// Tells the signal handler what the run is doing with its output.
pub fn set_phase(phase: Phase) {
    if let Ok(mut current) = PHASE.lock() {
        *current = phase;
    }
}
