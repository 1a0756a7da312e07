//! The network as data: what `lang` produces and what `sim` executes.
//!
//! An `ir::Network` can be built from Rust without any `.net` file (see `examples/`).
//! petgraph stays inside `graph.rs`; everything else sees `PopulationId`/`ProjectionId`.

pub mod graph;
pub mod memory;
pub mod network;
pub mod value;

pub use graph::{Graph, PopulationId, ProjectionId};
pub use network::{
    Adversarial, DataOptions, DataSource, Dataset, EarlyStopping, Evaluate, InlineRow, Interval,
    Network, Plasticity, Population, Projection, Receptor, Record, RecordTarget, Recordable,
    Simulate, Train, TrainOptions, Window,
};
pub use value::{
    Call, DistKind, Distribution, MIN_REDRAW_SHARE, Params, TimeCourse, Unresolved, Unset, Value,
};
