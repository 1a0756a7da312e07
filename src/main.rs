//! The `neurosim` binary: all work happens in `neurosim::cli`.

fn main() {
    // Like other command-line tools, end quietly when the reader of our output goes away
    // (`neurosim graph ... | head`) instead of panicking on the broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(neurosim::cli::main());
}
