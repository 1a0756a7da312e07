//! `synapse NAME { ... }`: a synapse model with per-synapse state, checked and lowered to a
//! `models::plasticity::equations::SynapseSystem` with the same scope, dimension checks and
//! diagnostics as a neuron definition (`equations.rs`), plus what only synapses have:
//! event-driven equations (each `dX/dt = a·X + b` with constant `a`, `b`, so it can be
//! decayed exactly between events), `on_pre`/`on_post` statement lists with `let` and
//! `deliver`, and the rule that a synapse writes only to itself (E0832).

use crate::diag::{Diagnostic, Span};
use crate::lang::ast::{Derivative, Ident, Statement, SynapseDecl, SynapseItem};
use crate::lang::check::equations::{Declared, Meaning, Scope, dimension_mismatch};
use crate::models::neuron::equations::linear;
use crate::models::plasticity::equations::{self as synapse, Decay, SynapseSystem};
use crate::models::plasticity::{self, PlasticityInfo};
use crate::units::Dim;

/// A lowered statement list and the number of locals it uses.
type Lowered = (Vec<synapse::Statement>, usize);

/// Checks a definition; its registry entry if it is valid.
pub fn define(decl: &SynapseDecl, diags: &mut Vec<Diagnostic>) -> Option<&'static PlasticityInfo> {
    let n_before = diags.len();
    if plasticity::find(&decl.name.name).is_some() {
        diags.push(
            Diagnostic::error("E0801", format!("`{}` is a built-in rule", decl.name.name))
                .with_label(decl.name.span, "this name is taken")
                .with_help("give the synapse model a name of its own (`my_stdp`)"),
        );
    }
    let declared: Vec<Declared> = decl
        .items
        .iter()
        .filter_map(|item| match item {
            SynapseItem::Param(p) => Some(Declared::Param(p)),
            SynapseItem::State(p) => Some(Declared::State(p)),
            SynapseItem::Alias(p) => Some(Declared::Alias(p)),
            _ => None,
        })
        .collect();
    let mut scope = Scope::declare(&declared, true, diags);
    scope.lower_states(&declared, diags);
    scope.lower_aliases(diags);
    if diags[n_before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    let Some(weight) = scope.states.iter().position(|(s, _)| s.name == "w") else {
        diags.push(
            Diagnostic::error(
                "E0830",
                format!("synapse model `{}` has no weight `w`", decl.name.name),
            )
            .with_label(decl.name.span, "every synapse model has a weight")
            .with_help(
                "declare it with its unit: `state w = 0.5 nS` (a projection's `weight` sets it)",
            ),
        );
        return None;
    };
    let mut decay: Vec<Option<Decay>> = vec![None; scope.states.len()];
    let mut derivative_at: Vec<Option<Span>> = vec![None; scope.states.len()];
    let mut on_pre: Option<Lowered> = None;
    let mut on_post: Option<Lowered> = None;
    for item in &decl.items {
        match item {
            SynapseItem::Derivative(Derivative { var, expr, span }) => {
                let Some(index) = scope.state_of(var, "a derivative", diags) else {
                    continue;
                };
                if let Some(first) = derivative_at[index].replace(*span) {
                    diags.push(
                        Diagnostic::error("E0802", format!("`d{}/dt` is given twice", var.name))
                            .with_label(*span, "again here")
                            .with_label(first, "first here"),
                    );
                    continue;
                }
                decay[index] = event_driven(&scope, var, index, expr, diags);
            }
            SynapseItem::OnPre(body, span) | SynapseItem::OnPost(body, span) => {
                let pre = matches!(item, SynapseItem::OnPre(..));
                let slot = if pre { &mut on_pre } else { &mut on_post };
                let what = if pre { "on_pre" } else { "on_post" };
                if slot.is_some() {
                    diags.push(
                        Diagnostic::error("E0802", format!("`{what}` is given twice"))
                            .with_label(*span, "again here")
                            .with_help(format!("write every statement of `{what}` in one block")),
                    );
                    continue;
                }
                *slot = Some(statements(&mut scope, body, pre, weight, *span, diags));
            }
            SynapseItem::Param(_) | SynapseItem::State(_) | SynapseItem::Alias(_) => {}
        }
    }
    if on_pre.is_none() {
        diags.push(
            Diagnostic::error(
                "E0833",
                format!("synapse model `{}` has no `on_pre`", decl.name.name),
            )
            .with_label(decl.name.span, "a spike would bring nothing to the target")
            .with_help("add `on_pre { deliver w }`"),
        );
    }
    if diags[n_before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    let (on_pre, pre_locals) = on_pre?;
    let (on_post, post_locals) = on_post.unwrap_or_default();
    Some(synapse::info(SynapseSystem {
        name: decl.name.name.clone(),
        params: scope.params.clone(),
        states: scope.states.iter().map(|(s, _)| s.clone()).collect(),
        weight,
        decay,
        on_pre,
        on_post,
        locals: pre_locals.max(post_locals),
    }))
}

/// `dX/dt = expr` as `a·X + b` with `a`, `b` free of state and time (E0831 otherwise), of
/// X's dimension per time.
fn event_driven(
    scope: &Scope,
    var: &Ident,
    index: usize,
    expr: &crate::lang::ast::Expr,
    diags: &mut Vec<Diagnostic>,
) -> Option<Decay> {
    let (e, dim) = scope.expr(expr, diags)?;
    let want = scope.states[index].0.dim.div(Dim::TIME);
    if dim != want {
        diags.push(dimension_mismatch(
            expr.span,
            &format!("`d{}/dt`", var.name),
            want,
            dim,
        ));
        return None;
    }
    let affine = linear::affine_in(&e, index).filter(|(drive, rate)| {
        ![drive, rate]
            .iter()
            .any(|x| linear::depends_on_state(x) || linear::depends_on_time(x))
    });
    match affine {
        Some((drive, rate)) => Some(Decay { rate, drive }),
        None => {
            diags.push(
                Diagnostic::error(
                    "E0831",
                    format!("`d{}/dt` cannot be decayed exactly between events", var.name),
                )
                .with_label(
                    expr.span,
                    format!(
                        "a synapse's equation must be linear in `{}` alone, with constant coefficients",
                        var.name
                    ),
                )
                .with_help(format!(
                    "write it as `d{0}/dt = ({0}_rest - {0}) / tau` or `d{0}/dt = -{0} / tau`; \
                     coupled or nonlinear dynamics belong in the neuron model",
                    var.name
                )),
            );
            None
        }
    }
}

/// Lowers one `on_pre`/`on_post` list: its statements and the number of locals it uses.
fn statements<'a>(
    scope: &mut Scope<'a>,
    body: &'a [Statement],
    pre: bool,
    weight: usize,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Lowered {
    let mut out = Vec::new();
    let mut locals: Vec<&'a str> = Vec::new();
    let mut delivered: Option<Span> = None;
    for statement in body {
        match statement {
            Statement::Assign(a) => {
                if writes_a_neuron(scope, &a.var, diags) {
                    continue;
                }
                let lowered = scope.assignments(std::slice::from_ref(a), diags);
                out.extend(lowered.into_iter().map(|l| synapse::Statement::Assign {
                    var: l.var,
                    op: l.op,
                    value: l.value,
                }));
            }
            Statement::Let(p) => {
                if !scope.name_is_free(&p.name, diags) {
                    continue;
                }
                let Some((value, dim)) = scope.expr(&p.value, diags) else {
                    continue;
                };
                let slot = scope.locals.len();
                scope.locals.push(dim);
                scope
                    .names
                    .insert(&p.name.name, (Meaning::Local(slot), p.name.span));
                locals.push(&p.name.name);
                out.push(synapse::Statement::Local { slot, value });
            }
            Statement::Deliver(value, at) => {
                if !pre {
                    diags.push(
                        Diagnostic::error("E0833", "`deliver` in `on_post`")
                            .with_label(*at, "the target's own spike brings it nothing")
                            .with_help("a synapse delivers when a presynaptic spike arrives: move it to `on_pre`"),
                    );
                    continue;
                }
                if let Some(first) = delivered.replace(*at) {
                    diags.push(
                        Diagnostic::error("E0833", "`deliver` is given twice")
                            .with_label(*at, "again here")
                            .with_label(first, "first here")
                            .with_help("deliver the sum once: `deliver a + b`"),
                    );
                    continue;
                }
                let Some((e, dim)) = scope.expr(value, diags) else {
                    continue;
                };
                let want = scope.states[weight].0.dim;
                if dim != want {
                    diags.push(dimension_mismatch(value.span, "`deliver`", want, dim));
                    continue;
                }
                out.push(synapse::Statement::Deliver(e));
            }
        }
    }
    if pre && delivered.is_none() {
        diags.push(
            Diagnostic::error("E0833", "`on_pre` delivers nothing")
                .with_label(span, "a spike would bring nothing to the target")
                .with_help("end it with `deliver w` (or what the spike brings, `deliver w * r`)"),
        );
    }
    let used = scope.locals.len();
    for name in locals {
        scope.names.remove(name);
    }
    scope.locals.clear();
    (out, used)
}

/// E0832 for an assignment to a neuron's variable (`v_post += w`, `x_pre = 0`), which a
/// synapse cannot make: `true` if reported.
fn writes_a_neuron(scope: &Scope, var: &Ident, diags: &mut Vec<Diagnostic>) -> bool {
    if scope.names.contains_key(var.name.as_str()) {
        return false;
    }
    let d = if var.name.ends_with("_pre") {
        Diagnostic::error("E0832", "a synapse cannot write to its presynaptic neuron")
            .with_label(var.span, "the presynaptic neuron may live in another partition or process")
            .with_help("keep presynaptic traces in the synapse: `state x_pre = 0`, `dx_pre/dt = -x_pre / tau`")
    } else if var.name.ends_with("_post") {
        Diagnostic::error("E0832", "a synapse changes its target only through `deliver`")
            .with_label(var.span, "not a variable of this synapse")
            .with_help("`deliver w` sends the value to the receptor the projection names; the neuron model's `on_pre` says what it does")
    } else {
        return false;
    };
    diags.push(d);
    true
}
