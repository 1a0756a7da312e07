//! What `maxpool` and `avgpool` share: their arguments and how they read the two shapes.

use super::Args;
use super::grid::{Padding, Window, positive_arg, window_between};
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
    window_between(source, target, size, stride, padding, true)
}
