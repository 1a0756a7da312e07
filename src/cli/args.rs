//! Command-line arguments (clap): one struct per subcommand, with examples in the help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  neurosim check networks/cuba.net
  neurosim run networks/xor.net
  neurosim run networks/cuba.net -o cuba.h5 --threads 2 --json
  neurosim run networks/cuba.net --set E.tau_m=15ms --set \"E->I.weight=2 mV\" --set seed=3
  neurosim graph networks/mnist_mlp.net --format dot | dot -Tpng -o mnist.png";

/// neurosim: describe a neural network experiment in a .net file, run it, get HDF5.
#[derive(Debug, Parser)]
#[command(name = "neurosim", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate a .net file and print a summary: populations, projections, synapses, memory.
    Check(CheckArgs),
    /// Print the network graph as Graphviz DOT or JSON.
    Graph(GraphArgs),
    /// Compile and run a .net file, recording results to HDF5.
    Run(RunArgs),
    /// Summarise an output file: spike counts, rates, CV ISI, training curves, weights.
    Inspect(InspectArgs),
    /// Draw an output file's pictures: raster, population rate, traces, curves, weights.
    Plot(PlotArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// An HDF5 file written by `neurosim run`.
    pub file: PathBuf,
    /// Print the summary as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// An HDF5 file written by `neurosim run`.
    pub file: PathBuf,
    /// Folder for the pictures (default: next to the file).
    #[arg(short, long = "out-dir", value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Picture format: png or svg.
    #[arg(long, default_value = "png")]
    pub format: String,
    /// Overwrite existing pictures.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SourceArgs {
    /// The .net file.
    pub file: PathBuf,
    /// Only this network of the file (default: all, in order).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Override a value of the file, unit-checked: `E.tau_m=15ms`, `"E->I.weight=2 mV"`, `seed=3`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The .net file (not needed with --from).
    #[arg(required_unless_present = "from")]
    pub file: Option<PathBuf>,
    /// Only this network of the file (default: all, in order).
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Override a value of the file, unit-checked: `E.tau_m=15ms`, `"E->I.weight=2 mV"`, `seed=3`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub overrides: Vec<String>,
    /// Re-run the experiment stored in an earlier output: its source, network, seed and overrides
    /// (further --set values apply on top). Without -o the output goes into OUT.h5's folder.
    #[arg(long, value_name = "OUT.h5", conflicts_with_all = ["file", "network"])]
    pub from: Option<PathBuf>,
    /// Output HDF5 file (default: the file's `output`, else the .net file's stem + .h5 in the working folder).
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: Option<PathBuf>,
    /// Worker threads, 1 to 1024 (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Master seed, overriding the file's `seed`.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Overwrite an existing output file (a regular file) and delete the partial results of
    /// killed runs to it.
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors (and the JSON summary with --json).
    #[arg(short, long)]
    pub quiet: bool,
    /// Print a machine-readable JSON summary as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Draw the run's pictures (PNG) next to the output file when it is done.
    #[arg(long)]
    pub plot: bool,
    /// Print the deterministic run summary (as `neurosim::testing` produces for snapshot tests).
    #[arg(long)]
    pub summary: bool,
    /// Start from the trained weights and biases stored in an earlier output (rate mode).
    #[arg(long, value_name = "OLD.h5")]
    pub weights: Option<PathBuf>,
}
