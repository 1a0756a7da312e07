//! `conv(kernel = 3, stride = 1, padding = same, channels = 32)`: a 2-D convolution
//! (PyTorch `Conv2d`, Keras `Conv2D`). Every output map has one `kernel × kernel` kernel
//! per input map, shared over all positions; the target population's shape `[C, H, W]`
//! gives the output maps, and must be what the window makes of the source's shape.
//! A population fed by `conv` learns one bias per map (not per unit). Rate mode only.
//!
//! Weights: `C_out × C_in × kernel × kernel` (PyTorch's layout); `init = he` or `xavier`
//! use fan-in `C_in·k²` and fan-out `C_out·k²`.

use super::grid::{
    Maps, Padding, SpatialInfo, SpatialOp, Window, no_synapse_list, positive_arg, window_between,
};
use super::{Args, ConnectorInfo, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static INFO: ConnectorInfo = ConnectorInfo {
    name: "conv",
    summary: "2-D convolution over feature maps (rate mode)",
    params: &[
        ParamSpec {
            name: "kernel",
            kind: ParamKind::Integer {
                default: Some(KERNEL as i64),
                range: Range::Positive,
            },
            doc: "kernel width and height",
        },
        ParamSpec {
            name: "stride",
            kind: ParamKind::Integer {
                default: Some(1),
                range: Range::Positive,
            },
            doc: "step between windows",
        },
        ParamSpec {
            name: "padding",
            kind: ParamKind::Choice {
                options: Padding::NAMES,
                default: Some("same"),
            },
            doc: "`same`: (kernel - 1) / 2 zeros on every side; `valid`: none",
        },
        ParamSpec {
            name: "channels",
            kind: ParamKind::Integer {
                default: None,
                range: Range::Positive,
            },
            doc: "output maps (optional: the target's shape says it; if given, they must agree)",
        },
    ],
    expected_synapses,
    generate: no_synapse_list,
    positional: &[],
    optional: &["channels"],
    spatial: Some(&SPATIAL),
    fits: super::fits_any,
    rate_weights: super::RateWeights::Matrix,
};

/// The default kernel width (3×3, as most CNNs use).
const KERNEL: usize = 3;

static SPATIAL: SpatialInfo = SpatialInfo {
    op: SpatialOp::Conv,
    window,
};

/// The stored weights: one kernel per (output map, input map).
fn expected_synapses(shape: Shape, args: Args) -> f64 {
    let k = args("kernel").unwrap_or(KERNEL as f64);
    shape.pre_channels as f64 * shape.post_channels as f64 * k * k
}

fn window(
    source: &[usize],
    target: &[usize],
    args: Args,
    padding: Option<&str>,
) -> Result<Window, String> {
    let kernel = positive_arg(args, "kernel", Some(KERNEL))?;
    let stride = positive_arg(args, "stride", Some(1))?;
    let padding = padding
        .and_then(Padding::from_name)
        .unwrap_or(Padding::Same);
    let w = window_between(source, target, kernel, stride, padding, Maps::AsTarget)?;
    if let Some(c) = args("channels")
        && c as usize != w.output.channels
    {
        return Err(format!(
            "`channels` = {c}, but the target has {} maps",
            w.output.channels
        ));
    }
    Ok(w)
}
