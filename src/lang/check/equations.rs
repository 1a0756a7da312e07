//! `neuron NAME { ... }`: a model written as equations, checked and lowered to a
//! `models::neuron::equations::System`. Every name is resolved (state variable, parameter,
//! named subexpression, `t`, `dt`, a unit), every term is dimension-checked (a derivative of
//! `v` must be a voltage per time; `exp` takes a dimensionless argument), subexpressions are
//! inlined, and the method is asked whether it can integrate the system. The diagnostics
//! are E08xx (docs/DIAGNOSTICS.md).

use std::collections::HashMap;

use crate::diag::{Diagnostic, Span, suggest};
use crate::lang::ast::{
    AssignKind, Assignment, BinOp, Compare, Derivative, Expr, ExprKind, Ident, NeuronDecl,
    NeuronItem, Param,
};
use crate::lang::check::units::{eval, resolve_unit};
use crate::models::neuron::equations::linear;
use crate::models::neuron::equations::{
    self, Assign, AssignOp, Condition, Func, Method, OnPre, ParamDef, StateDef, System,
};
use crate::models::neuron::{self, EXCITATORY, INHIBITORY, NeuronInfo};
use crate::units::{self, Dim};

type Eq = equations::Expr;

/// Names an equation may use besides the model's own.
const RESERVED: &[&str] = &["t", "dt", "w", "xi"];

/// Whether `name` is white noise: `xi`, or `xi_NAME` (one noise shared by the derivatives
/// of a neuron that name it, as in Brian2).
fn is_noise(name: &str) -> bool {
    name == "xi"
        || name
            .strip_prefix("xi_")
            .is_some_and(|rest| !rest.is_empty())
}

/// What is being lowered, for white noise: only a derivative may hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// A threshold, reset, refractory period or initial value.
    Value,
    /// A named expression: it may hold named noise (`xi_1`) for the derivatives using it.
    Alias,
    /// The derivative of state variable `i`: a bare `xi` is its own noise.
    Derivative(usize),
}

/// Checks a definition; its registry entry if it is valid.
pub fn define(decl: &NeuronDecl, diags: &mut Vec<Diagnostic>) -> Option<&'static NeuronInfo> {
    let n_before = diags.len();
    if neuron::find(&decl.name.name).is_some() {
        diags.push(
            Diagnostic::error("E0801", format!("`{}` is a built-in model", decl.name.name))
                .with_label(decl.name.span, "this name is taken")
                .with_help("give the model a name of its own (`my_lif`)"),
        );
    }
    let declared = Declared::of_neuron(decl);
    let mut scope = Scope::declare(&declared, false, diags);
    let system = scope.lower(decl, &declared, n_before, diags);
    if diags.len() > n_before {
        return None;
    }
    let system = system?;
    Some(equations::info(system))
}

/// Bounds on a named expression once the ones it uses are inlined.
const MAX_INLINED_NODES: usize = 4096;
const MAX_INLINED_DEPTH: usize = 512;

/// Terms copied by inlining, over the whole definition.
const MAX_INLINED_TOTAL: usize = 1 << 20;

/// The number of terms of an expression (of a named one: at most `MAX_INLINED_NODES`).
fn terms(e: &Eq) -> usize {
    match e {
        Eq::Number(_) | Eq::State(_) | Eq::Param(_) | Eq::Time | Eq::Dt | Eq::Noise(_) => 1,
        Eq::Neg(a) => 1 + terms(a),
        Eq::Binary(_, a, b) => 1 + terms(a) + terms(b),
        Eq::Call(_, args) => 1 + args.iter().map(terms).sum::<usize>(),
    }
}

/// Whether an expression is over the inlining bounds; the walk stops as soon as it is.
fn too_large(e: &Eq) -> bool {
    fn walk(e: &Eq, depth: usize, budget: &mut usize) -> bool {
        if depth > MAX_INLINED_DEPTH || *budget == 0 {
            return true;
        }
        *budget -= 1;
        match e {
            Eq::Number(_) | Eq::State(_) | Eq::Param(_) | Eq::Time | Eq::Dt | Eq::Noise(_) => false,
            Eq::Neg(a) => walk(a, depth + 1, budget),
            Eq::Binary(_, a, b) => walk(a, depth + 1, budget) || walk(b, depth + 1, budget),
            Eq::Call(_, args) => args.iter().any(|a| walk(a, depth + 1, budget)),
        }
    }
    let mut budget = MAX_INLINED_NODES;
    walk(e, 0, &mut budget)
}

/// What a name in the model stands for.
#[derive(Debug, Clone)]
pub(super) enum Meaning {
    Param(usize),
    State(usize),
    Alias(usize),
    /// A synapse statement's `let`: local value number `i`.
    Local(usize),
}

/// A declaration of a definition's body: `param`, `state` or `let`.
#[derive(Debug, Clone, Copy)]
pub(super) enum Declared<'a> {
    Param(&'a Param),
    State(&'a Param),
    Alias(&'a Param),
}

impl<'a> Declared<'a> {
    /// The declarations of a neuron definition, in order.
    fn of_neuron(decl: &'a NeuronDecl) -> Vec<Declared<'a>> {
        decl.items
            .iter()
            .filter_map(|item| match item {
                NeuronItem::Param(p) => Some(Declared::Param(p)),
                NeuronItem::State(p) => Some(Declared::State(p)),
                NeuronItem::Alias(p) => Some(Declared::Alias(p)),
                _ => None,
            })
            .collect()
    }
}

pub(super) struct Scope<'a> {
    pub(super) names: HashMap<&'a str, (Meaning, Span)>,
    pub(super) params: Vec<ParamDef>,
    pub(super) states: Vec<(StateDef, Span)>,
    /// Named subexpressions in declaration order: the expression (inlined as they are
    /// lowered, so each sees only earlier ones), its dimension, or `None` after an error.
    aliases: Vec<(&'a Param, Option<(Eq, Dim)>)>,
    /// Terms copied into expressions by inlining named ones, for the whole definition:
    /// bounded, so no arrangement of references can exhaust memory.
    inlined: std::cell::Cell<usize>,
    /// While lowering alias `i`, the aliases declared before it.
    visible_aliases: usize,
    /// A synapse model: `w` is its weight, a state variable like any other.
    pub(super) synapse: bool,
    /// Dimensions of the locals (`let` in a synapse's statements) now in scope.
    pub(super) locals: Vec<Dim>,
    /// What is being lowered (where white noise may appear).
    context: std::cell::Cell<Context>,
    /// The noises met so far: the name written and, for a bare `xi`, its derivative.
    noises: std::cell::RefCell<Vec<(String, Option<usize>)>>,
}

impl<'a> Scope<'a> {
    /// Declares parameters, state variables and subexpressions; reports names given twice
    /// or reserved.
    pub(super) fn declare(
        declared: &[Declared<'a>],
        synapse: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Scope<'a> {
        let mut scope = Scope {
            names: HashMap::new(),
            params: Vec::new(),
            states: Vec::new(),
            aliases: Vec::new(),
            visible_aliases: usize::MAX,
            inlined: std::cell::Cell::new(0),
            synapse,
            locals: Vec::new(),
            context: std::cell::Cell::new(Context::Value),
            noises: std::cell::RefCell::new(Vec::new()),
        };
        for item in declared {
            let (param, meaning) = match *item {
                Declared::Param(p) => (p, Meaning::Param(scope.params.len())),
                Declared::State(p) => (p, Meaning::State(scope.states.len())),
                Declared::Alias(p) => (p, Meaning::Alias(scope.aliases.len())),
            };
            if !scope.name_is_free(&param.name, diags) {
                continue;
            }
            scope
                .names
                .insert(&param.name.name, (meaning.clone(), param.name.span));
            match meaning {
                Meaning::Param(_) => {
                    let (default, dim) = constant(&param.value, diags).unwrap_or((0.0, Dim::NONE));
                    scope.params.push(ParamDef {
                        name: param.name.name.clone(),
                        dim,
                        default,
                    });
                }
                // Initial values are lowered once every parameter is known.
                Meaning::State(_) => scope.states.push((
                    StateDef {
                        name: param.name.name.clone(),
                        dim: Dim::NONE,
                        initial: Eq::Number(0.0),
                    },
                    param.name.span,
                )),
                Meaning::Alias(_) => scope.aliases.push((param, None)),
                Meaning::Local(_) => {}
            }
        }
        scope
    }

    pub(super) fn name_is_free(&self, name: &Ident, diags: &mut Vec<Diagnostic>) -> bool {
        if let Some((_, first)) = self.names.get(name.name.as_str()) {
            diags.push(
                Diagnostic::error("E0802", format!("`{}` is declared twice", name.name))
                    .with_label(name.span, "declared again here")
                    .with_label(*first, "first declared here"),
            );
            return false;
        }
        if is_noise(&name.name) && name.name != "xi" {
            diags.push(
                Diagnostic::error("E0802", format!("`{}` is a reserved name", name.name))
                    .with_label(name.span, "means white noise in an equation")
                    .with_help(
                        "`xi_...` names a noise shared by the derivatives that use it: \
                         choose another name",
                    ),
            );
            return false;
        }
        let reserved = (RESERVED.contains(&name.name.as_str())
            && !(self.synapse && name.name == "w"))
            || Func::from_name(&name.name).is_some()
            || units::lookup(&name.name).is_some();
        if reserved {
            diags.push(
                Diagnostic::error("E0802", format!("`{}` is a reserved name", name.name))
                    .with_label(name.span, "means something else in an equation")
                    .with_help(
                        "`t`, `dt`, `w`, `xi`, the functions (`exp`, ...) and units (`mV`, ...) \
                         cannot be declared: choose another name",
                    ),
            );
            return false;
        }
        true
    }

    /// Lowers the definition; `start` is where its diagnostics begin in `diags`.
    fn lower(
        &mut self,
        decl: &'a NeuronDecl,
        declared: &[Declared<'a>],
        start: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<System> {
        self.lower_states(declared, diags);
        self.lower_aliases(diags);
        // A name whose dimension is unknown would make every equation using it wrong too.
        if diags[start..].iter().any(Diagnostic::is_error) {
            return None;
        }
        let mut parts = Parts::new(self.states.len());
        for item in &decl.items {
            self.item(item, &mut parts, diags);
        }
        parts.complete(decl, diags);
        if diags[start..].iter().any(Diagnostic::is_error) {
            return None;
        }
        let method = parts.method;
        let noises = self.used_noises(&mut parts.derivatives);
        let mut system = System {
            name: decl.name.name.clone(),
            params: self.params.clone(),
            states: self.states.iter().map(|(s, _)| s.clone()).collect(),
            derivatives: parts.derivatives,
            threshold: parts.threshold,
            reset: parts.reset,
            refractory: parts.refractory,
            clamped: parts.clamped,
            receptors: parts.receptors,
            on_pre: parts.on_pre,
            noises,
            method: Method::Euler,
        };
        noise_is_linear(&system, &parts.derivative_at, diags);
        if diags[start..].iter().any(Diagnostic::is_error) {
            return None;
        }
        system.method = integrating_method(&system, method, decl.name.span, diags);
        Some(system)
    }

    /// Lowers one item of the body into `parts`.
    fn item(&self, item: &NeuronItem, parts: &mut Parts, diags: &mut Vec<Diagnostic>) {
        match item {
            NeuronItem::Derivative(Derivative { var, expr, span }) => {
                self.derivative(var, expr, *span, parts, diags)
            }
            NeuronItem::Threshold {
                left,
                cmp,
                right,
                span,
            } => {
                parts.once("threshold", *span, diags);
                parts.threshold = self.condition(left, *cmp, right, diags);
            }
            NeuronItem::Reset(body, span) => {
                parts.once("reset", *span, diags);
                parts.reset = self.assignments(body, diags);
            }
            NeuronItem::Refractory {
                duration,
                clamp,
                span,
            } => {
                parts.once("refractory", *span, diags);
                parts.refractory = self.refractory(duration, diags);
                parts.clamped = self.clamped(clamp.as_deref(), diags);
            }
            NeuronItem::OnPre {
                receptor,
                body,
                span,
            } => {
                let more = self.on_pre(receptor, body, *span, &mut parts.receptors, diags);
                parts.on_pre.extend(more);
            }
            NeuronItem::Method(name, span) => {
                parts.once("method", *span, diags);
                parts.method = match Method::from_name(&name.name) {
                    Some(m) => Some((m, name.span)),
                    None => {
                        let known: Vec<&str> = Method::ALL.iter().map(|(_, n)| *n).collect();
                        diags.push(crate::lang::check::names::unknown(
                            "E0803",
                            "integration method",
                            name,
                            &known,
                        ));
                        None
                    }
                }
            }
            NeuronItem::Param(_) | NeuronItem::State(_) | NeuronItem::Alias(_) => {}
        }
    }

    /// `dX/dt = expr`: X a state variable, given once, expr of X's dimension per time.
    fn derivative(
        &self,
        var: &Ident,
        expr: &Expr,
        span: Span,
        parts: &mut Parts,
        diags: &mut Vec<Diagnostic>,
    ) {
        let Some(index) = self.state_of(var, "a derivative", diags) else {
            return;
        };
        if let Some(first) = parts.derivative_at[index] {
            diags.push(
                Diagnostic::error("E0802", format!("`d{}/dt` is given twice", var.name))
                    .with_label(span, "again here")
                    .with_label(first, "first here"),
            );
            return;
        }
        parts.derivative_at[index] = Some(span);
        let want = self.states[index].0.dim.div(Dim::TIME);
        self.context.set(Context::Derivative(index));
        let lowered = self.expr(expr, diags);
        self.context.set(Context::Value);
        if let Some((e, dim)) = lowered {
            if dim != want {
                let what = format!("`d{}/dt`", var.name);
                let d = dimension_mismatch(expr.span, &what, want, dim);
                diags.push(noise_dimension(d, &[&e]));
            }
            parts.derivatives[index] = Some(e);
        }
    }

    pub(super) fn lower_states(&mut self, declared: &[Declared<'a>], diags: &mut Vec<Diagnostic>) {
        let mut index = 0;
        for item in declared {
            let Declared::State(p) = *item else { continue };
            if index >= self.states.len() || self.states[index].0.name != p.name.name {
                continue;
            }
            // An initial value may name parameters, not other state variables.
            let saved = std::mem::take(&mut self.states);
            self.visible_aliases = 0;
            let lowered = self.expr(&p.value, diags);
            self.visible_aliases = usize::MAX;
            self.states = saved;
            if let Some((e, dim)) = lowered {
                self.states[index].0.dim = dim;
                self.states[index].0.initial = e;
            }
            index += 1;
        }
    }

    pub(super) fn lower_aliases(&mut self, diags: &mut Vec<Diagnostic>) {
        self.context.set(Context::Alias);
        for i in 0..self.aliases.len() {
            self.visible_aliases = i;
            let param = self.aliases[i].0;
            let mut lowered = self.expr(&param.value, diags);
            // Inlining doubles a subexpression used twice: a chain of them would grow
            // without bound (`let a2 = a1 + a1`, `let a3 = a2 + a2`, ...).
            if lowered.as_ref().is_some_and(|(e, _)| too_large(e)) {
                diags.push(
                    Diagnostic::error(
                        "E0818",
                        format!("`{}` is too large once the expressions it names are written out", param.name.name),
                    )
                    .with_label(param.value.span, format!("more than {MAX_INLINED_NODES} terms or {MAX_INLINED_DEPTH} levels deep"))
                    .with_help("a named expression is copied wherever it is used: use fewer, or make one a state variable"),
                );
                lowered = None;
            }
            self.aliases[i].1 = lowered;
        }
        self.visible_aliases = usize::MAX;
        self.context.set(Context::Value);
    }

    /// The noise of `name` (`xi`, `xi_NAME`) where it is written, or E0810 where noise has
    /// no meaning.
    fn noise(&self, name: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<(Eq, Dim)> {
        if self.synapse {
            diags.push(
                Diagnostic::error("E0810", format!("white noise `{name}` in a synapse model"))
                    .with_label(span, "a synapse's variables change only at events")
                    .with_help(
                        "between events a synapse is decayed exactly, without noise: put the \
                         noise in the target neuron's equations",
                    ),
            );
            return None;
        }
        let bare = name == "xi";
        let key = match self.context.get() {
            Context::Derivative(i) => (name.to_string(), bare.then_some(i)),
            Context::Alias if !bare => (name.to_string(), None),
            Context::Alias => {
                diags.push(
                    Diagnostic::error("E0810", "a bare `xi` in a named expression")
                        .with_label(
                            span,
                            "whose noise is this: each derivative's `xi` is its own",
                        )
                        .with_help(
                            "write `xi` in the derivative, or name the noise (`xi_1`): a \
                             named noise is the same in every derivative that uses it",
                        ),
                );
                return None;
            }
            Context::Value => {
                diags.push(
                    Diagnostic::error(
                        "E0810",
                        format!("white noise `{name}` outside a derivative"),
                    )
                    .with_label(span, "noise only exists in a derivative `dX/dt = ...`")
                    .with_help(
                        "a threshold, reset, refractory period or initial value uses \
                             values, not noise: add the noise to a derivative",
                    ),
                );
                return None;
            }
        };
        let mut noises = self.noises.borrow_mut();
        let k = match noises.iter().position(|n| *n == key) {
            Some(k) => k,
            None => {
                noises.push(key);
                noises.len() - 1
            }
        };
        Some((Eq::Noise(k), Dim::NOISE))
    }

    /// The names of the noises the derivatives use, renumbered in order of first use (a
    /// named expression with `xi_1` that no derivative uses costs no draws).
    fn used_noises(&self, derivatives: &mut [Option<Eq>]) -> Vec<String> {
        fn visit(e: &mut Eq, f: &mut dyn FnMut(&mut usize)) {
            match e {
                Eq::Noise(k) => f(k),
                Eq::Neg(a) => visit(a, f),
                Eq::Binary(_, a, b) => {
                    visit(a, f);
                    visit(b, f);
                }
                Eq::Call(_, args) => args.iter_mut().for_each(|a| visit(a, f)),
                Eq::Number(_) | Eq::State(_) | Eq::Param(_) | Eq::Time | Eq::Dt => {}
            }
        }
        let noises = self.noises.borrow();
        let mut renumbered: Vec<Option<usize>> = vec![None; noises.len()];
        let mut names = Vec::new();
        for e in derivatives.iter_mut().flatten() {
            visit(e, &mut |k| {
                *k = *renumbered[*k].get_or_insert_with(|| {
                    names.push(noises[*k].0.clone());
                    names.len() - 1
                });
            });
        }
        names
    }

    pub(super) fn state_of(
        &self,
        var: &Ident,
        what: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<usize> {
        match self.names.get(var.name.as_str()) {
            Some((Meaning::State(i), _)) if *i < self.states.len() => Some(*i),
            Some((Meaning::Param(_), at)) => {
                diags.push(
                    Diagnostic::error(
                        "E0806",
                        format!(
                            "`{}` is a parameter: {what} must change a state variable",
                            var.name
                        ),
                    )
                    .with_label(var.span, "a parameter is fixed during the run")
                    .with_label(*at, "declared as a parameter here")
                    .with_help(format!("declare it with `state {} = ...`", var.name)),
                );
                None
            }
            Some((Meaning::Local(_), at)) => {
                diags.push(
                    Diagnostic::error("E0806", format!("`{}` is a value named by `let`", var.name))
                        .with_label(var.span, "a `let` value is fixed once named")
                        .with_label(*at, "named here")
                        .with_help(
                            "name a new value with another `let`, or make it a state variable",
                        ),
                );
                None
            }
            Some((Meaning::Alias(_), at)) => {
                diags.push(
                    Diagnostic::error(
                        "E0806",
                        format!(
                            "`{}` is a named expression: {what} must change a state variable",
                            var.name
                        ),
                    )
                    .with_label(var.span, "computed from other values, not stored")
                    .with_label(*at, "defined here"),
                );
                None
            }
            _ => {
                diags.push(self.unknown(var, "state variable"));
                None
            }
        }
    }

    fn unknown(&self, name: &Ident, kind: &str) -> Diagnostic {
        if self.synapse && (name.name.ends_with("_pre") || name.name.ends_with("_post")) {
            return Diagnostic::error(
                "E0832",
                format!("a synapse sees only its own variables, not `{}`", name.name),
            )
            .with_label(name.span, "not a variable of this synapse")
            .with_help(
                "keep what the rule needs in the synapse: a trace of the presynaptic spikes \
                 is `state x_pre = 0` with `dx_pre/dt = -x_pre / tau_pre`, increased in `on_pre`",
            );
        }
        let mut known: Vec<&str> = self.names.keys().copied().collect();
        known.sort_unstable();
        let mut d = Diagnostic::error("E0807", format!("unknown {kind} `{}`", name.name))
            .with_label(name.span, "not declared in this model");
        if let Some(s) = suggest(&name.name, known.iter().copied()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else {
            d = d.with_help(format!(
                "declare it with `param {0} = ...` or `state {0} = ...`",
                name.name
            ));
        }
        d
    }

    /// Lowers an expression, checking dimensions; `None` after an error was reported.
    pub(super) fn expr(&self, expr: &Expr, diags: &mut Vec<Diagnostic>) -> Option<(Eq, Dim)> {
        match &expr.kind {
            ExprKind::Number(x) => Some((Eq::Number(*x), Dim::NONE)),
            ExprKind::Name(name) => self.name(name, expr.span, diags),
            ExprKind::Neg(inner) => {
                let (e, dim) = self.expr(inner, diags)?;
                Some((Eq::Neg(Box::new(e)), dim))
            }
            ExprKind::Quantity(inner, unit) => {
                let lowered = self.expr(inner, diags);
                let (factor, unit_dim) = resolve_unit(unit, diags)?;
                let (e, dim) = lowered?;
                if dim != Dim::NONE {
                    diags.push(
                        Diagnostic::error("E0204", "a unit applied to a value that has one")
                            .with_label(expr.span, format!("this is already {}", dim.name()))
                            .with_help("write the unit once, after the number"),
                    );
                    return None;
                }
                let scaled = match e {
                    Eq::Number(x) => Eq::Number(x * factor),
                    e => Eq::Binary(
                        equations::BinOp::Mul,
                        Box::new(e),
                        Box::new(Eq::Number(factor)),
                    ),
                };
                Some((scaled, unit_dim))
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, diags),
            ExprKind::Call(call) => self.call(call, expr.span, diags),
            ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::List(_)
            | ExprKind::Range(..)
            | ExprKind::Clip(..)
            | ExprKind::Index(..)
            | ExprKind::Constant(_)
            | ExprKind::Entry(..)
            | ExprKind::Invalid => {
                diags.push(
                    Diagnostic::error("E0808", "not a number")
                        .with_label(expr.span, "an equation computes with numbers and quantities only")
                        .with_help("distributions belong in a population block: `v = uniform(-60 mV, -50 mV)`"),
                );
                None
            }
        }
    }

    fn name(&self, name: &str, span: Span, diags: &mut Vec<Diagnostic>) -> Option<(Eq, Dim)> {
        match name {
            "t" => return Some((Eq::Time, Dim::TIME)),
            "dt" => return Some((Eq::Dt, Dim::TIME)),
            "w" if !self.synapse => {
                diags.push(
                    Diagnostic::error("E0809", "`w` is the weight of an arriving spike")
                        .with_label(span, "only known in `on_pre { x += w }`")
                        .with_help("write `on_pre excitatory { g_e += w }`"),
                );
                return None;
            }
            _ if is_noise(name) => return self.noise(name, span, diags),
            _ => {}
        }
        match self.names.get(name) {
            Some((Meaning::Param(i), _)) if *i < self.params.len() => {
                Some((Eq::Param(*i), self.params[*i].dim))
            }
            Some((Meaning::State(i), _)) if *i < self.states.len() => {
                Some((Eq::State(*i), self.states[*i].0.dim))
            }
            Some((Meaning::Local(i), _)) => {
                Some((Eq::State(self.states.len() + *i), self.locals[*i]))
            }
            Some((Meaning::State(_), _)) => {
                diags.push(
                    Diagnostic::error("E0811", format!("an initial value cannot use the state variable `{name}`"))
                        .with_label(span, "initial values are computed from parameters")
                        .with_help("write a number, a parameter, or give the value per neuron in the population block"),
                );
                None
            }
            Some((Meaning::Alias(i), at)) => {
                if *i >= self.visible_aliases {
                    diags.push(
                        Diagnostic::error(
                            "E0811",
                            format!("`{name}` is used before it is defined"),
                        )
                        .with_label(span, "not yet defined here")
                        .with_label(*at, "defined here")
                        .with_help("define named expressions before the expressions that use them"),
                    );
                    return None;
                }
                let (e, dim) = self.aliases[*i].1.clone()?;
                if self.context.get() == Context::Value && linear::depends_on_noise(&e) {
                    diags.push(
                        Diagnostic::error(
                            "E0810",
                            format!("`{name}` holds white noise, which only exists in a derivative"),
                        )
                        .with_label(span, "used outside a derivative")
                        .with_label(*at, "defined with white noise here")
                        .with_help("use the named expression in derivatives only, or take the noise out of it"),
                    );
                    return None;
                }
                let total = self.inlined.get().saturating_add(terms(&e));
                self.inlined.set(total);
                if total > MAX_INLINED_TOTAL {
                    if total - terms(&e) <= MAX_INLINED_TOTAL {
                        diags.push(
                            Diagnostic::error("E0818", "this model is too large once its named expressions are written out")
                                .with_label(span, format!("more than {MAX_INLINED_TOTAL} terms copied by here"))
                                .with_help("a named expression is copied wherever it is used: use it less, or make it a state variable"),
                        );
                    }
                    return None;
                }
                Some((e, dim))
            }
            _ => match units::lookup(name) {
                Some((factor, dim)) => Some((Eq::Number(factor), dim)),
                None => {
                    diags.push(self.unknown(
                        &Ident {
                            name: name.to_string(),
                            span,
                        },
                        "name",
                    ));
                    None
                }
            },
        }
    }

    fn binary(
        &self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Eq, Dim)> {
        let left = self.expr(a, diags);
        let right = self.expr(b, diags);
        let ((ea, da), (eb, db)) = (left?, right?);
        let (op, dim) = match op {
            BinOp::Add | BinOp::Sub => {
                if da != db {
                    let d = Diagnostic::error(
                        "E0812",
                        format!("`{}` of {} and {}", op.symbol(), da.name(), db.name()),
                    )
                    .with_label(a.span, described(da))
                    .with_label(b.span, described(db))
                    .with_help("terms that are added or subtracted need the same dimension");
                    diags.push(noise_dimension(d, &[&ea, &eb]));
                    return None;
                }
                let op = if op == BinOp::Add {
                    equations::BinOp::Add
                } else {
                    equations::BinOp::Sub
                };
                (op, da)
            }
            BinOp::Mul => (equations::BinOp::Mul, da.mul(db)),
            BinOp::Div => (equations::BinOp::Div, da.div(db)),
        };
        Some((Eq::Binary(op, Box::new(ea), Box::new(eb)), dim))
    }

    fn call(
        &self,
        call: &crate::lang::ast::Call,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(Eq, Dim)> {
        let Some(func) = Func::from_name(&call.name.name) else {
            let known: Vec<&str> = Func::ALL.iter().map(|(_, n)| *n).collect();
            diags.push(crate::lang::check::names::unknown(
                "E0813", "function", &call.name, &known,
            ));
            return None;
        };
        if let Some(named) = call.args.args.iter().find_map(|a| a.name.as_ref()) {
            diags.push(
                Diagnostic::error(
                    "E0813",
                    format!("`{}` takes its arguments by position", func.name()),
                )
                .with_label(named.span, "no names here"),
            );
            return None;
        }
        if call.args.args.len() != func.arity() {
            diags.push(
                Diagnostic::error(
                    "E0813",
                    format!(
                        "`{}` takes {} argument{}, not {}",
                        func.name(),
                        func.arity(),
                        if func.arity() == 1 { "" } else { "s" },
                        call.args.args.len()
                    ),
                )
                .with_label(span, "here"),
            );
            return None;
        }
        let mut args = Vec::new();
        for a in &call.args.args {
            args.push((self.expr(&a.value, diags), a.value.span));
        }
        let mut lowered = Vec::new();
        for (arg, s) in &args {
            let (e, d) = arg.clone()?;
            lowered.push((e, d, *s));
        }
        let dim = self.call_dim(func, &lowered, diags)?;
        Some((
            Eq::Call(func, lowered.into_iter().map(|(e, _, _)| e).collect()),
            dim,
        ))
    }

    /// The dimension of a function's value, checking its arguments'.
    fn call_dim(
        &self,
        func: Func,
        args: &[(Eq, Dim, Span)],
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Dim> {
        let dimensionless = |i: usize, diags: &mut Vec<Diagnostic>| -> Option<()> {
            let (_, d, s) = &args[i];
            if *d == Dim::NONE {
                return Some(());
            }
            diags.push(
                Diagnostic::error("E0814", format!("`{}` of {}", func.name(), d.name()))
                    .with_label(
                        *s,
                        format!(
                            "{}: `{}` needs a dimensionless number",
                            described(*d),
                            func.name()
                        ),
                    )
                    .with_help(
                        "divide by a quantity of the same dimension: `exp((v - v_t) / delta_t)`",
                    ),
            );
            None
        };
        match func {
            Func::Exp
            | Func::Log
            | Func::Sin
            | Func::Cos
            | Func::Tan
            | Func::Tanh
            | Func::Sinh
            | Func::Cosh
            | Func::Exprel => {
                dimensionless(0, diags)?;
                Some(Dim::NONE)
            }
            Func::Abs | Func::Floor | Func::Ceil => Some(args[0].1),
            Func::Sqrt => {
                let d = args[0].1;
                // Half exponents are dimensions (`sqrt(2/tau)` of a noise term); a quarter
                // power is not.
                let root = d.sqrt();
                if root.is_none() {
                    diags.push(
                        Diagnostic::error("E0814", format!("`sqrt` of {}", d.name())).with_label(
                            args[0].2,
                            "its square root has no dimension neurosim can state",
                        ),
                    );
                }
                root
            }
            Func::Min | Func::Max | Func::Clip => {
                let d = args[0].1;
                for (_, other, s) in &args[1..] {
                    if *other != d {
                        diags.push(
                            Diagnostic::error(
                                "E0812",
                                format!("`{}` of {} and {}", func.name(), d.name(), other.name()),
                            )
                            .with_label(args[0].2, d.name())
                            .with_label(*s, other.name())
                            .with_help("every argument needs the same dimension"),
                        );
                        return None;
                    }
                }
                Some(d)
            }
            Func::Pow => {
                let base = args[0].1;
                dimensionless(1, diags)?;
                if base == Dim::NONE {
                    return Some(Dim::NONE);
                }
                match &args[1].0 {
                    Eq::Number(n) if n.fract() == 0.0 && n.abs() <= 8.0 => {
                        Some(base.powi(*n as i8))
                    }
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                "E0814",
                                format!(
                                    "`pow` of {} to a power that is not a whole number",
                                    base.name()
                                ),
                            )
                            .with_label(args[1].2, "write a whole number here")
                            .with_help("or make the base dimensionless: `pow(v / mV, 1.5)`"),
                        );
                        None
                    }
                }
            }
        }
    }

    fn condition(
        &self,
        left: &Expr,
        cmp: Compare,
        right: &Expr,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Condition> {
        let l = self.expr(left, diags);
        let r = self.expr(right, diags);
        let ((el, dl), (er, dr)) = (l?, r?);
        if dl != dr {
            diags.push(
                Diagnostic::error(
                    "E0812",
                    format!("a threshold comparing {} with {}", dl.name(), dr.name()),
                )
                .with_label(left.span, dl.name())
                .with_label(right.span, dr.name())
                .with_help("both sides need the same dimension"),
            );
            return None;
        }
        let cmp = match cmp {
            Compare::Greater => equations::Cmp::Greater,
            Compare::GreaterEqual => equations::Cmp::GreaterEqual,
            Compare::Less => equations::Cmp::Less,
            Compare::LessEqual => equations::Cmp::LessEqual,
        };
        Some(Condition {
            left: el,
            cmp,
            right: er,
        })
    }

    pub(super) fn assignments(
        &self,
        body: &[Assignment],
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Assign> {
        let mut out = Vec::new();
        for a in body {
            let Some(var) = self.state_of(&a.var, "an assignment", diags) else {
                continue;
            };
            let Some((value, dim)) = self.expr(&a.value, diags) else {
                continue;
            };
            let var_dim = self.states[var].0.dim;
            let (op, want) = match a.op {
                AssignKind::Set => (AssignOp::Set, var_dim),
                AssignKind::Add => (AssignOp::Add, var_dim),
                AssignKind::Sub => (AssignOp::Sub, var_dim),
                AssignKind::Mul => (AssignOp::Mul, Dim::NONE),
                AssignKind::Div => (AssignOp::Div, Dim::NONE),
            };
            if dim != want {
                diags.push(dimension_mismatch(
                    a.value.span,
                    &format!("`{} {}`", a.var.name, a.op.symbol()),
                    want,
                    dim,
                ));
                continue;
            }
            out.push(Assign { var, op, value });
        }
        out
    }

    fn refractory(&self, duration: &Expr, diags: &mut Vec<Diagnostic>) -> Option<Eq> {
        let (e, dim) = self.expr(duration, diags)?;
        if dim != Dim::TIME {
            diags.push(dimension_mismatch(
                duration.span,
                "`refractory`",
                Dim::TIME,
                dim,
            ));
            return None;
        }
        Some(e)
    }

    /// The variables held still while refractory: those named (`clamp none`: none, as
    /// Brian2's refractoriness without `(unless refractory)`), or `v` when there is one.
    fn clamped(&self, clamp: Option<&[Ident]>, diags: &mut Vec<Diagnostic>) -> Vec<usize> {
        match clamp {
            Some([only]) if only.name == "none" && !self.names.contains_key("none") => Vec::new(),
            Some(names) => names
                .iter()
                .filter_map(|n| self.state_of(n, "`clamp`", diags))
                .collect(),
            None => self
                .states
                .iter()
                .position(|(s, _)| s.name == "v")
                .into_iter()
                .collect(),
        }
    }

    /// `on_pre NAME { x += w }`: any name declares a receptor of the model (its next input
    /// channel), but one a typo away from `excitatory` or `inhibitory` is taken for that
    /// typo (E0815), since projections without `receptor` go to those two.
    fn on_pre(
        &self,
        receptor: &Ident,
        body: &[Assignment],
        span: Span,
        receptors: &mut Vec<String>,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<OnPre> {
        let name = receptor.name.as_str();
        let defaults = [EXCITATORY, INHIBITORY];
        if !defaults.contains(&name)
            && let Some(meant) = suggest(name, defaults)
        {
            diags.push(
                Diagnostic::error("E0815", format!("receptor `{name}` is almost `{meant}`"))
                    .with_label(receptor.span, format!("did you mean `{meant}`?"))
                    .with_help(format!(
                        "write `on_pre {meant}` (what projections without `receptor` reach), \
                         or name a receptor of its own for what it is (`on_pre ampa`)"
                    )),
            );
            return Vec::new();
        }
        if receptors.iter().any(|r| r == name) {
            diags.push(
                Diagnostic::error("E0802", format!("`on_pre {name}` is given twice"))
                    .with_label(span, "again here")
                    .with_help("one `on_pre` may add the weight to several variables: `{ a += w, b += w }`"),
            );
            return Vec::new();
        }
        receptors.push(name.to_string());
        let channel = receptors.len() - 1;
        let mut out: Vec<OnPre> = Vec::new();
        for a in body {
            let Some(var) = self.state_of(&a.var, "`on_pre`", diags) else {
                continue;
            };
            let is_weight = matches!(&a.value.kind, ExprKind::Name(n) if n == "w");
            let negate = match a.op {
                AssignKind::Add if is_weight => false,
                AssignKind::Sub if is_weight => true,
                _ => {
                    diags.push(
                        Diagnostic::error(
                            "E0816",
                            "`on_pre` adds the arriving weight to a state variable",
                        )
                        .with_label(a.span, "only `x += w` or `x -= w` here")
                        .with_help(format!(
                            "write `{} += w`; scale the weight in the projection (`weight = ...`)",
                            a.var.name
                        )),
                    );
                    continue;
                }
            };
            // Several variables may take the same weight (AMPA and NMDA parts of one
            // excitatory synapse), so they must share its dimension.
            let dim = self.states[var].0.dim;
            if let Some(first) = out.first() {
                let first_dim = self.states[first.var].0.dim;
                if first_dim != dim {
                    diags.push(
                        Diagnostic::error(
                            "E0816",
                            format!(
                                "the weight of `{}` would be {} and {}",
                                receptor.name,
                                first_dim.name(),
                                dim.name()
                            ),
                        )
                        .with_label(a.span, format!("`{}` is {}", a.var.name, described(dim)))
                        .with_help("a receptor's weight has one dimension: use another receptor for this variable"),
                    );
                    continue;
                }
            }
            out.push(OnPre {
                receptor: channel,
                var,
                negate,
            });
        }
        out
    }
}

/// What the body's items say, gathered while they are lowered.
struct Parts {
    derivatives: Vec<Option<Eq>>,
    derivative_at: Vec<Option<Span>>,
    threshold: Option<Condition>,
    reset: Vec<Assign>,
    refractory: Option<Eq>,
    clamped: Vec<usize>,
    /// The receptors of the `on_pre`s so far, in order.
    receptors: Vec<String>,
    on_pre: Vec<OnPre>,
    method: Option<(Method, Span)>,
    /// Where each once-only item (`threshold`, `reset`, ...) was first written.
    seen: HashMap<&'static str, Span>,
}

impl Parts {
    fn new(n_states: usize) -> Parts {
        Parts {
            derivatives: vec![None; n_states],
            derivative_at: vec![None; n_states],
            threshold: None,
            reset: Vec::new(),
            refractory: None,
            clamped: Vec::new(),
            receptors: Vec::new(),
            on_pre: Vec::new(),
            method: None,
            seen: HashMap::new(),
        }
    }

    /// Reports an item that may be written once when it is written again.
    fn once(&mut self, what: &'static str, span: Span, diags: &mut Vec<Diagnostic>) {
        if let Some(first) = self.seen.insert(what, span) {
            diags.push(
                Diagnostic::error("E0802", format!("`{what}` is given twice"))
                    .with_label(span, "again here")
                    .with_label(first, "first here"),
            );
        }
    }

    /// What only the whole body shows: a reset that never runs, a model nothing can reach.
    fn complete(&self, decl: &NeuronDecl, diags: &mut Vec<Diagnostic>) {
        if !self.seen.contains_key("threshold") && !self.reset.is_empty() {
            diags.push(
                Diagnostic::error("E0804", "a reset without a threshold never runs")
                    .with_label(decl.name.span, "this model has `reset` but no `threshold`")
                    .with_help("add `threshold v > v_thresh`"),
            );
        }
        let has_on_pre = decl
            .items
            .iter()
            .any(|i| matches!(i, NeuronItem::OnPre { .. }));
        if !has_on_pre {
            diags.push(
                Diagnostic::warning(
                    "W0801",
                    format!("`{}` takes no synaptic input", decl.name.name),
                )
                .with_label(decl.name.span, "no `on_pre`")
                .with_help("add `on_pre excitatory { g_e += w }` so projections can reach it"),
            );
        }
    }
}

/// Every derivative is linear in its noises (E0810 at the derivative otherwise): `xi` is
/// the derivative of a Wiener process and only means something as a term `g * xi`.
fn noise_is_linear(system: &System, at: &[Option<Span>], diags: &mut Vec<Diagnostic>) {
    for (i, f) in system.derivatives.iter().enumerate() {
        let (Some(f), Some(span)) = (f, at[i]) else {
            continue;
        };
        if let Err(term) = linear::split_noise(f, system.noises.len()) {
            let name = &system.states[i].name;
            diags.push(
                Diagnostic::error(
                    "E0810",
                    format!("white noise must enter `d{name}/dt` as a term `g * xi`"),
                )
                .with_label(
                    span,
                    format!(
                        "`{}` is not linear in the noise",
                        linear::show(term, system)
                    ),
                )
                .with_help("multiply the noise by a coefficient that holds no noise, and add it"),
            );
        }
    }
}

/// The method written (if it can integrate the system) or the one chosen for it.
fn integrating_method(
    system: &System,
    written: Option<(Method, Span)>,
    model: Span,
    diags: &mut Vec<Diagnostic>,
) -> Method {
    match written {
        Some((m, span)) => {
            if let Err(why) = equations::can_integrate(system, m) {
                diags.push(
                    Diagnostic::error(
                        "E0805",
                        format!("`{}` cannot integrate these equations", m.name()),
                    )
                    .with_label(span, why)
                    .with_help(format!(
                        "leave `method` out to let neurosim choose (it would take `{}`)",
                        equations::choose_method(system).name()
                    )),
                );
            }
            m
        }
        None => {
            let chosen = equations::choose_method(system);
            if let Err(why) = equations::can_integrate(system, chosen) {
                diags.push(
                    Diagnostic::error("E0805", "no method can integrate these equations")
                        .with_label(model, why),
                );
            }
            chosen
        }
    }
}

/// A number (with its unit) that may not depend on anything: a parameter's default.
fn constant(expr: &Expr, diags: &mut Vec<Diagnostic>) -> Option<(f64, Dim)> {
    match eval(expr, diags)? {
        crate::lang::check::units::Val::Num { value, dim } => Some((value, dim)),
        other => {
            diags.push(
                Diagnostic::error(
                    "E0808",
                    format!(
                        "a parameter's default must be a number, not {}",
                        other.describe()
                    ),
                )
                .with_label(expr.span, "not a number with a unit")
                .with_help(
                    "write `param tau_m = 20 ms`; per-neuron values go in the population block",
                ),
            );
            None
        }
    }
}

/// A dimension error about terms with white noise says what the noise's dimension is.
fn noise_dimension(d: Diagnostic, terms: &[&Eq]) -> Diagnostic {
    if terms.iter().any(|e| linear::depends_on_noise(e)) {
        d.with_note(
            "white noise `xi` has the dimension 1/sqrt(time) (s^-0.5): a noise term of a \
             voltage is written `sigma * sqrt(2 / tau) * xi`",
        )
    } else {
        d
    }
}

pub(super) fn dimension_mismatch(span: Span, what: &str, want: Dim, got: Dim) -> Diagnostic {
    Diagnostic::error(
        "E0812",
        format!("{what} must be {}, this is {}", want.name(), got.name()),
    )
    .with_label(span, format!("this is {}", described(got)))
    .with_help(format!("expected {}", described(want)))
}

/// "a voltage (mV)"; a dimension without a name of its own is said once ("s·V").
pub fn described(dim: Dim) -> String {
    let (name, unit) = (dim.name(), dim.example_unit());
    if name.contains(&unit) {
        name
    } else {
        format!("{name} ({unit})")
    }
}
