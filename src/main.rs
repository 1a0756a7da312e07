//! The `neurosim` binary: all work happens in `neurosim::cli`.

fn main() {
    std::process::exit(neurosim::cli::main());
}
