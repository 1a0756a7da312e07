//! The `neurosim` command line (not built yet).

pub mod render;

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    0
}
