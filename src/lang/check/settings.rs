//! What a network says about its run besides the model and its training: the network-level
//! settings (`seed`, `dt`, `output`), how paths written in a `.net` file are resolved, and
//! `simulate` (the length of a spiking run).

use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, Span};
use crate::ir::Simulate;
use crate::lang::ast::SimulateDecl;
use crate::lang::check::params::{Ctx, block_entries, check_params_with, quantity};
use crate::lang::check::units::eval;
use crate::models::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

/// Network-level settings.
pub const SETTINGS: &[&str] = &["seed", "dt", "output"];

pub static SIMULATE_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "duration",
    kind: ParamKind::Quantity {
        dim: Dim::TIME,
        default: None,
        range: Range::Positive,
        per_element: false,
    },
    doc: "simulated time",
}];

/// Joins `path` to the folder of the `.net` file, lexically (no file system access).
pub fn resolve_path(base: &Path, path: &str) -> PathBuf {
    let joined = base.join(path);
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

pub fn simulate(
    decl: &SimulateDecl,
    span: Span,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Simulate> {
    let duration = match decl {
        SimulateDecl::Duration(e) => quantity(
            "duration",
            Dim::TIME,
            Range::Positive,
            false,
            eval(e, diags)?,
            e.span,
            diags,
        )?,
        SimulateDecl::Block(b) => {
            let n = diags.len();
            let given = block_entries(Some(b), diags);
            let p = check_params_with("simulate", SIMULATE_PARAMS, &[], &given, ctx, b.span, diags);
            if diags.len() > n {
                return None;
            }
            p.get("duration")?.clone()
        }
    };
    Some(Simulate {
        duration: duration.as_number()?,
        span,
    })
}
