//! What `maxpool` and `avgpool` share: their arguments, how they read the two shapes, and
//! their registry entry (they differ only in name and in what they compute).

use super::grid::{
    Maps, Padding, SpatialInfo, Window, no_synapse_list, positive_arg, window_between,
};
use super::{Args, ConnectorInfo, Shape};
use crate::models::{ParamKind, ParamSpec, Range};

pub static PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "size",
        kind: ParamKind::Integer {
            default: Some(2),
            range: Range::Positive,
        },
        doc: "window width and height",
    },
    ParamSpec {
        name: "stride",
        kind: ParamKind::Integer {
            default: None,
            range: Range::Positive,
        },
        doc: "step between windows (default: the window size)",
    },
    ParamSpec {
        name: "padding",
        kind: ParamKind::Choice {
            options: Padding::NAMES,
            default: Some("valid"),
        },
        doc: "`valid`: no padding; `same`: (size - 1) / 2 on every side",
    },
];

pub fn window(
    source: &[usize],
    target: &[usize],
    args: Args,
    padding: Option<&str>,
) -> Result<Window, String> {
    let size = positive_arg(args, "size", Some(2))?;
    let stride = positive_arg(args, "stride", Some(size))?;
    let padding = padding
        .and_then(Padding::from_name)
        .unwrap_or(Padding::Valid);
    window_between(source, target, size, stride, padding, Maps::AsSource)
}

/// The registry entry of a pooling connector; `spatial.window` is [`window`].
pub const fn connector(
    name: &'static str,
    summary: &'static str,
    spatial: &'static SpatialInfo,
) -> ConnectorInfo {
    ConnectorInfo {
        name,
        summary,
        params: PARAMS,
        expected_synapses: |_: Shape, _| 0.0,
        generate: no_synapse_list,
        positional: &["size"],
        optional: &["stride"],
        spatial: Some(spatial),
        fits: super::fits_any,
        rate_weights: super::RateWeights::Matrix,
    }
}
