//! `identity`: source i adds to target i unchanged, with no weight to learn: the residual
//! (skip) connection of ResNets and transformer blocks. Both populations must have the same
//! size. In a spiking network it is `one_to_one`.

use super::{ConnectorInfo, Fit, Misfit, Shape};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "identity",
    summary: "source i added unchanged to target i (a residual connection; no weights)",
    params: &[],
    expected_synapses: |shape: Shape, _| shape.n_pre.min(shape.n_post) as f64,
    generate: super::one_to_one::INFO.generate,
    positional: &[],
    optional: &[],
    spatial: None,
    fits,
    rate_weights: super::RateWeights::Unchanged,
};

fn fits(fit: &Fit) -> Result<(), Misfit> {
    super::same_size(
        fit,
        "identity",
        "a residual connection adds units one to one: make the sizes equal, or route the \
         source through a `full` projection to a population of the target's size",
    )
}
