//! `one_to_one`: source i connects to target i; both populations must have the same size.

use super::{Args, ConnectorInfo, Fit, Generate, Misfit, Rows, Shape};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "one_to_one",
    summary: "source i to target i",
    params: &[],
    expected_synapses: |shape: Shape, _: Args| shape.n_pre.min(shape.n_post) as f64,
    generate,
    positional: &[],
    optional: &[],
    spatial: None,
    fits,
    rate_weights: super::RateWeights::Diagonal,
};

fn fits(fit: &Fit) -> Result<(), Misfit> {
    super::same_size(
        fit,
        "one_to_one",
        "use `full` or `random(p = ...)`, or make the sizes equal",
    )
}

fn generate(g: &Generate) -> Result<Rows, String> {
    let Shape { n_pre, n_post, .. } = g.shape;
    if n_pre != n_post {
        return Err(format!(
            "one_to_one needs populations of the same size, not {n_pre} and {n_post}"
        ));
    }
    // A one-to-one projection of a population onto itself is all autapses: it exists only
    // when they are allowed.
    let connect = !g.shape.exclude_autapses;
    Rows::by_source(g, n_pre, |s, out| {
        if connect {
            out.push(s as u32);
        }
        Ok(())
    })
}
