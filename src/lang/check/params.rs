//! Checking `name = value` lists against a registry's `ParamSpec`s: unknown names (with
//! "did you mean"), duplicates, dimensions, ranges, choices, calls into other registries;
//! defaults filled in. Every spec comes from `crate::models`; nothing is listed twice here.

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{Call as IrCall, Params, Unset, Value};
use crate::lang::ast::{Arg, Args, Block, Expr, Ident, Param};
use crate::lang::check::units::{Val, eval, show};
use crate::models::connector::{self, COMMON_PARAMS};
use crate::models::plasticity::{self, PlasticityInfo};
use crate::models::{Family, ParamKind, ParamSpec, Range, optimizer, schedule};
use crate::units::{self, Dim};

/// One `name = value` as written, from a block, call arguments or a `--set` override.
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    pub name: &'a Ident,
    pub value: &'a Expr,
}

impl<'a> From<&'a Param> for Given<'a> {
    fn from(p: &'a Param) -> Given<'a> {
        Given {
            name: &p.name,
            value: &p.value,
        }
    }
}

/// What the checker needs to know about the surroundings.
pub struct Ctx<'a> {
    /// Names of the datasets declared in the network.
    pub datasets: &'a [String],
    /// Synapse models defined in the file or its imports.
    pub synapses: &'a [&'static PlasticityInfo],
    /// Defined models and synapse models whose definition had errors.
    pub broken: &'a [String],
}

impl Ctx<'_> {
    /// A plasticity rule by name: a synapse model defined in the file, or a built-in rule
    /// (not one whose definition had errors, though it is named like a built-in).
    pub fn plasticity(&self, name: &str) -> Option<&'static PlasticityInfo> {
        if self.broken.iter().any(|b| b == name) {
            return None;
        }
        self.synapses
            .iter()
            .copied()
            .find(|r| r.name == name)
            .or_else(|| plasticity::find(name))
    }

    /// Every rule name a plasticity may have here, for suggestions.
    pub fn plasticity_names(&self) -> Vec<&'static str> {
        plasticity::REGISTRY
            .iter()
            .chain(self.synapses.iter())
            .map(|r| r.name)
            .collect()
    }
}

/// The entries of a block, with a repeated name reported (the last one wins).
pub fn block_entries<'a>(block: Option<&'a Block>, diags: &mut Vec<Diagnostic>) -> Vec<Given<'a>> {
    let mut out: Vec<Given<'a>> = Vec::new();
    for p in block.map(|b| b.params.as_slice()).unwrap_or(&[]) {
        if let Some(prev) = out.iter().position(|g| g.name.name == p.name.name) {
            diags.push(
                Diagnostic::error("E0114", format!("`{}` is given twice", p.name.name))
                    .with_label(p.name.span, "given again here")
                    .with_label(out[prev].name.span, "first given here"),
            );
            out.remove(prev);
        }
        out.push(p.into());
    }
    out
}

/// Named call arguments; unnamed ones after the first `bound` (which the caller binds to
/// positional parameters) are reported.
pub fn named_args<'a>(
    args: Option<&'a Args>,
    bound: usize,
    callee: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Given<'a>> {
    let mut out: Vec<Given<'a>> = Vec::new();
    for a in args
        .map(|a| a.args.as_slice())
        .unwrap_or(&[])
        .iter()
        .skip(bound)
    {
        let Arg { name, value, span } = a;
        match name {
            Some(name) => {
                if let Some(prev) = out.iter().position(|g| g.name.name == name.name) {
                    diags.push(
                        Diagnostic::error("E0114", format!("`{}` is given twice", name.name))
                            .with_label(name.span, "given again here")
                            .with_label(out[prev].name.span, "first given here"),
                    );
                    out.remove(prev);
                }
                out.push(Given { name, value });
            }
            None => diags.push(
                Diagnostic::error(
                    "E0305",
                    format!("the arguments of `{callee}` must be named"),
                )
                .with_label(*span, "unnamed argument")
                .with_help(format!("write `{callee}(name = value)`")),
            ),
        }
    }
    out
}

/// Merges lists where later entries override earlier ones of the same name (template chains,
/// then the population's own block, then `--set` overrides).
pub fn merge<'a>(layers: impl IntoIterator<Item = Vec<Given<'a>>>) -> Vec<Given<'a>> {
    let mut out: Vec<Given<'a>> = Vec::new();
    for layer in layers {
        for g in layer {
            out.retain(|o| o.name.name != g.name.name);
            out.push(g);
        }
    }
    out
}

/// Reports a name that is not a parameter of `owner`, suggesting the closest known one.
pub fn unknown_param(name: &Ident, owner: &str, known: &[&str]) -> Diagnostic {
    let mut d = Diagnostic::error(
        "E0102",
        format!("unknown parameter `{}` for {owner}", name.name),
    )
    .with_label(name.span, format!("not a parameter of {owner}"));
    match suggest(&name.name, known.iter().copied()) {
        Some(s) => d = d.with_help(format!("did you mean `{s}`?")),
        None if known.is_empty() => d = d.with_note(format!("{owner} takes no parameters")),
        None => d = d.with_note(format!("{owner} takes: {}", known.join(", "))),
    }
    d
}

/// Checks `given` against `specs`, fills defaults and reports what is missing.
pub fn check_params(
    owner: &str,
    specs: &[ParamSpec],
    given: &[Given],
    ctx: &Ctx,
    required_at: Span,
    diags: &mut Vec<Diagnostic>,
) -> Params {
    check_params_with(owner, specs, &[], given, ctx, required_at, diags)
}

/// As `check_params`; parameters named in `optional` have no default and are not required.
pub fn check_params_with(
    owner: &str,
    specs: &[ParamSpec],
    optional: &[&str],
    given: &[Given],
    ctx: &Ctx,
    required_at: Span,
    diags: &mut Vec<Diagnostic>,
) -> Params {
    let mut params = Params::new();
    for g in given {
        let Some(spec) = specs.iter().find(|s| s.name == g.name.name) else {
            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
            diags.push(unknown_param(g.name, owner, &known));
            continue;
        };
        if let Some(v) = convert(spec, g.value, ctx, diags) {
            params.insert(spec.name, v);
        }
    }
    fill_defaults(
        owner,
        specs,
        optional,
        &mut params,
        given,
        required_at,
        diags,
    );
    params
}

/// Inserts the default of every parameter not given; reports required ones that are missing.
pub fn fill_defaults(
    owner: &str,
    specs: &[ParamSpec],
    optional: &[&str],
    params: &mut Params,
    given: &[Given],
    required_at: Span,
    diags: &mut Vec<Diagnostic>,
) {
    for spec in specs {
        if given.iter().any(|g| g.name.name == spec.name) || optional.contains(&spec.name) {
            continue;
        }
        let default = match Unset::of(spec) {
            Unset::Default(v) => Ok(v),
            Unset::Required => Err(()),
            Unset::Absent => continue,
        };
        match default {
            Ok(v) => params.insert(spec.name, v),
            Err(()) => diags.push(
                Diagnostic::error(
                    "E0302",
                    format!("missing parameter `{}` for {owner}", spec.name),
                )
                .with_label(required_at, format!("`{}` has no default", spec.name))
                .with_help(format!("add `{} = ...` ({})", spec.name, spec.doc)),
            ),
        }
    }
}

/// Converts one value according to its spec.
pub fn convert(
    spec: &ParamSpec,
    expr: &Expr,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let val = eval(expr, diags)?;
    let name = spec.name;
    match spec.kind {
        ParamKind::Quantity {
            dim,
            range,
            per_element,
            ..
        } => quantity(name, dim, range, per_element, val, expr.span, diags),
        ParamKind::Integer { range, .. } => {
            integer(name, range, val, expr.span, diags).map(Value::Number)
        }
        ParamKind::Choice { options, .. } => {
            choice(name, options, val, expr.span, diags).map(Value::Symbol)
        }
        ParamKind::Flag { .. } => match val {
            Val::Bool(b) => Some(Value::Bool(b)),
            v => {
                diags.push(mismatch(name, "`true` or `false`", &v, expr.span));
                None
            }
        },
        ParamKind::FlagOrValue { .. } => match val {
            Val::Bool(b) => Some(Value::Bool(b)),
            v @ (Val::Num { .. } | Val::Dist { .. }) => {
                quantity(name, Dim::NONE, Range::Any, true, v, expr.span, diags)
            }
            v => {
                diags.push(mismatch(
                    name,
                    "`true`, `false`, a number or a distribution",
                    &v,
                    expr.span,
                ));
                None
            }
        },
        ParamKind::List { dim } => {
            let items = match val {
                Val::List(items) => items,
                v => {
                    diags.push(mismatch(
                        name,
                        &format!("a list of {}s", plural_free(dim)),
                        &v,
                        expr.span,
                    ));
                    return None;
                }
            };
            let mut out = Vec::with_capacity(items.len());
            for (item, span) in items {
                out.push(quantity(name, dim, Range::Any, false, item, span, diags)?);
            }
            Some(Value::List(out))
        }
        ParamKind::Call { family } => {
            call(name, family, val, expr.span, ctx, diags).map(Value::Call)
        }
        ParamKind::Dataset => match val {
            Val::Sym(s) if ctx.datasets.contains(&s) => Some(Value::Symbol(s)),
            Val::Sym(s) => {
                let mut d = Diagnostic::error("E0105", format!("unknown dataset `{s}`"))
                    .with_label(expr.span, "no dataset of this name in the network");
                match suggest(&s, ctx.datasets.iter().map(String::as_str)) {
                    Some(x) => d = d.with_help(format!("did you mean `{x}`?")),
                    None => d = d.with_help(format!("declare it: `dataset {s} = csv(\"...\")`")),
                }
                diags.push(d);
                None
            }
            v => {
                diags.push(mismatch(name, "a dataset name", &v, expr.span));
                None
            }
        },
        ParamKind::Names { options } => {
            let items = match val {
                Val::List(items) => items,
                v => vec![(v, expr.span)],
            };
            let mut out = Vec::new();
            for (item, span) in items {
                out.push(Value::Symbol(choice(name, options, item, span, diags)?));
            }
            Some(Value::List(out))
        }
    }
}

fn plural_free(dim: Dim) -> String {
    dim.name()
        .trim_start_matches("a ")
        .trim_start_matches("an ")
        .to_string()
}

pub fn mismatch(name: &str, expected: &str, found: &Val, span: Span) -> Diagnostic {
    Diagnostic::error(
        "E0204",
        format!("`{name}` expects {expected}, found {}", found.describe()),
    )
    .with_label(span, format!("expected {expected}"))
}

/// A number of dimension `dim` (or, if `per_element`, a distribution of one).
pub fn quantity(
    name: &str,
    dim: Dim,
    range: Range,
    per_element: bool,
    val: Val,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let val = match val {
        Val::Sym(s) => match units::lookup(&s) {
            Some((value, dim)) => Val::Num { value, dim },
            None => Val::Sym(s),
        },
        v => v,
    };
    match val {
        Val::Num { value, dim: found } => {
            if found != dim {
                diags.push(wrong_dimension(name, dim, found, span));
                return None;
            }
            if !range.contains(value) {
                diags.push(out_of_range(name, range, value, dim, span));
                return None;
            }
            // Neuron state and weights are f32: a larger value would become infinity.
            if value.abs() > f32::MAX as f64 {
                diags.push(
                    Diagnostic::error("E0301", format!("`{name}` is too large"))
                        .with_label(span, format!("this is {value:e} in internal units"))
                        .with_help(format!(
                            "values are stored as 32-bit floats: at most {:e} in internal units",
                            f32::MAX
                        )),
                );
                return None;
            }
            Some(Value::Number(value))
        }
        Val::Linear {
            low,
            high,
            dim: found,
        } if per_element => {
            if found != dim {
                diags.push(wrong_dimension(name, dim, found, span));
                return None;
            }
            if let Some(&bad) = [low, high].iter().find(|b| !range.contains(**b)) {
                diags.push(out_of_range(name, range, bad, dim, span));
                return None;
            }
            Some(Value::Linear { low, high })
        }
        Val::List(items) if per_element => {
            let mut out = Vec::with_capacity(items.len());
            for (item, item_span) in items {
                if !matches!(item, Val::Num { .. } | Val::Sym(_)) {
                    diags.push(mismatch(name, &dim.name(), &item, item_span));
                    return None;
                }
                out.push(quantity(name, dim, range, false, item, item_span, diags)?);
            }
            Some(Value::List(out))
        }
        v @ (Val::Linear { .. } | Val::List(_)) => {
            diags.push(
                Diagnostic::error(
                    "E0304",
                    format!("`{name}` takes one value, not {}", v.describe()),
                )
                .with_label(span, "one value per element is not allowed here")
                .with_note("lists and linspace give each neuron of a population its own value"),
            );
            None
        }
        Val::Dist { dist, dim: found } => {
            if !per_element {
                diags.push(
                    Diagnostic::error(
                        "E0304",
                        format!("`{name}` takes one value, not a distribution"),
                    )
                    .with_label(span, "a distribution is not allowed here")
                    .with_note(
                        "distributions are allowed where each neuron or synapse gets its own value",
                    ),
                );
                return None;
            }
            if found != dim {
                diags.push(wrong_dimension(name, dim, found, span));
                return None;
            }
            let bounds: Vec<f64> = match (dist.clip, dist.kind) {
                (Some((lo, hi)), _) => vec![lo, hi],
                (None, crate::ir::DistKind::Uniform { low, high }) => vec![low, high],
                (None, _) => vec![dist.mean()],
            };
            if let Some(&bad) = bounds.iter().find(|b| !range.contains(**b)) {
                diags.push(out_of_range(name, range, bad, dim, span));
                return None;
            }
            Some(Value::Dist(dist))
        }
        v => {
            diags.push(mismatch(name, &dim.name(), &v, span));
            None
        }
    }
}

pub fn wrong_dimension(name: &str, expected: Dim, found: Dim, span: Span) -> Diagnostic {
    if found == Dim::NONE {
        Diagnostic::error(
            "E0203",
            format!("`{name}` is {} but the value has no unit", expected.name()),
        )
        .with_label(span, format!("expected {}", expected.name()))
        .with_help(format!("add a unit, e.g. `{}`", expected.example_unit()))
    } else if expected == Dim::NONE {
        Diagnostic::error(
            "E0201",
            format!("`{name}` is a plain number, found {}", found.name()),
        )
        .with_label(span, "expected a number without unit")
        .with_help("remove the unit")
    } else {
        Diagnostic::error(
            "E0201",
            format!(
                "`{name}` expects {}, found {}",
                expected.name(),
                found.name()
            ),
        )
        .with_label(span, format!("this is {}", found.name()))
        .with_help(format!(
            "use a unit of {}, e.g. `{}`",
            expected.name(),
            expected.example_unit()
        ))
    }
}

pub fn out_of_range(name: &str, range: Range, value: f64, dim: Dim, span: Span) -> Diagnostic {
    Diagnostic::error("E0301", format!("`{name}` {}", range.describe()))
        .with_label(span, format!("this is {}", show(value, dim)))
}

/// A whole number within `range`.
pub fn integer(
    name: &str,
    range: Range,
    val: Val,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<f64> {
    match val {
        Val::Num {
            value,
            dim: Dim::NONE,
        } => {
            if value.abs() > 9.0e15 {
                diags.push(
                    Diagnostic::error("E0303", format!("`{name}` is too large"))
                        .with_label(span, format!("this is {value}"))
                        .with_note("whole numbers are limited to 9e15 (9,000,000,000,000,000)"),
                );
                return None;
            }
            if value.fract() != 0.0 {
                diags.push(
                    Diagnostic::error("E0303", format!("`{name}` must be a whole number"))
                        .with_label(span, format!("this is {value}")),
                );
                return None;
            }
            if !range.contains(value) {
                diags.push(out_of_range(name, range, value, Dim::NONE, span));
                return None;
            }
            Some(value)
        }
        Val::Num { dim, .. } => {
            diags.push(wrong_dimension(name, Dim::NONE, dim, span));
            None
        }
        v => {
            diags.push(mismatch(name, "a whole number", &v, span));
            None
        }
    }
}

/// One name out of `options`.
pub fn choice(
    name: &str,
    options: &[&str],
    val: Val,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    match val {
        Val::Sym(s) | Val::Str(s) if options.contains(&s.as_str()) => Some(s),
        Val::Sym(s) | Val::Str(s) => {
            let mut d = Diagnostic::error("E0107", format!("unknown {name} `{s}`"))
                .with_label(span, format!("not a known {name}"));
            match suggest(&s, options.iter().copied()) {
                Some(x) => d = d.with_help(format!("did you mean `{x}`?")),
                None => d = d.with_note(format!("expected one of: {}", options.join(", "))),
            }
            diags.push(d);
            None
        }
        v => {
            diags.push(mismatch(
                name,
                &format!("one of {}", options.join(", ")),
                &v,
                span,
            ));
            None
        }
    }
}

/// `adam(lr = 1e-3)` or `adam`, `stdp(...)`, `random(p = 0.1)`: resolved against the
/// registry of `family`, arguments checked against its specs.
fn call(
    name: &str,
    family: Family,
    val: Val,
    span: Span,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<IrCall> {
    let (callee, callee_span, args) = match &val {
        Val::Sym(s) => (s.clone(), span, None),
        Val::Call(c) => (c.name.name.clone(), c.name.span, Some(&c.args)),
        v => {
            diags.push(mismatch(name, "a name or a call `name(...)`", v, span));
            return None;
        }
    };
    let mut optional: &[&str] = &[];
    let (specs, common): (&[ParamSpec], &[ParamSpec]) = match family {
        Family::Optimizer => match optimizer::find(&callee) {
            Some(o) => (o.params, &[]),
            None => {
                diags.push(unknown_in_family(
                    "E0108",
                    "optimizer",
                    &callee,
                    callee_span,
                    optimizer::REGISTRY.iter().map(|o| o.name),
                ));
                return None;
            }
        },
        Family::Plasticity => match ctx.plasticity(&callee) {
            Some(r) => (r.params, &[]),
            None => {
                if !ctx.broken.contains(&callee) {
                    diags.push(unknown_in_family(
                        "E0109",
                        "plasticity rule",
                        &callee,
                        callee_span,
                        ctx.plasticity_names().into_iter(),
                    ));
                }
                return None;
            }
        },
        Family::Connector => match connector::find(&callee) {
            Some(c) => (c.params, COMMON_PARAMS),
            None => {
                diags.push(unknown_in_family(
                    "E0106",
                    "connector",
                    &callee,
                    callee_span,
                    connector::REGISTRY.iter().map(|c| c.name),
                ));
                return None;
            }
        },
        Family::Schedule => match schedule::find(&callee) {
            Some(s) => {
                optional = s.optional;
                (s.params, &[])
            }
            None => {
                diags.push(unknown_in_family(
                    "E0117",
                    "learning-rate schedule",
                    &callee,
                    callee_span,
                    schedule::REGISTRY.iter().map(|s| s.name),
                ));
                return None;
            }
        },
    };
    let given = named_args(args, 0, &callee, diags);
    let all: Vec<ParamSpec> = specs.iter().chain(common).copied().collect();
    let args = check_params_with(&callee, &all, optional, &given, ctx, span, diags);
    Some(IrCall { name: callee, args })
}

pub fn unknown_in_family<'a>(
    code: &'static str,
    what: &str,
    name: &str,
    span: Span,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let mut d = Diagnostic::error(code, format!("unknown {what} `{name}`"))
        .with_label(span, format!("not a known {what}"));
    match suggest(name, known.clone()) {
        Some(s) => d = d.with_help(format!("did you mean `{s}`?")),
        None => d = d.with_note(format!("known: {}", known.collect::<Vec<_>>().join(", "))),
    }
    d
}

/// `steps(times = [...], values = [...])` or `ramp(...)` for a parameter that may follow a
/// course in time: times ≥ 0 and strictly ascending, one value (of the parameter's
/// dimension and range) per time.
pub fn time_course(
    spec: &ParamSpec,
    call: &crate::lang::ast::Call,
    diags: &mut Vec<Diagnostic>,
) -> Option<Value> {
    let ParamKind::Quantity { dim, range, .. } = spec.kind else {
        return None;
    };
    let name = spec.name;
    let which = call.name.name.as_str();
    let mut columns: [Option<(Vec<f64>, Span)>; 2] = [None, None];
    for (i, arg) in call.args.args.iter().enumerate() {
        let slot = match arg.name.as_ref().map(|n| n.name.as_str()) {
            Some("times") => 0,
            Some("values") => 1,
            None if i < 2 => i,
            Some(other) => {
                let mut d =
                    Diagnostic::error("E0102", format!("unknown argument `{other}` for {which}"))
                        .with_label(arg.span, format!("{which} takes `times` and `values`"));
                if let Some(s) = suggest(other, ["times", "values"]) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                return None;
            }
            None => {
                diags.push(
                    Diagnostic::error("E0305", format!("too many arguments for {which}"))
                        .with_label(arg.span, "unexpected argument"),
                );
                return None;
            }
        };
        let (item_dim, item_range) = if slot == 0 {
            (Dim::TIME, Range::NonNegative)
        } else {
            (dim, range)
        };
        let items = match eval(&arg.value, diags)? {
            Val::List(items) => items,
            other => {
                diags.push(mismatch(
                    if slot == 0 { "times" } else { "values" },
                    "a list",
                    &other,
                    arg.value.span,
                ));
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (item, span) in items {
            match quantity(name, item_dim, item_range, false, item, span, diags)? {
                Value::Number(x) => out.push(x),
                _ => return None,
            }
        }
        columns[slot] = Some((out, arg.value.span));
    }
    let [Some((times, times_span)), Some((values, values_span))] = columns else {
        diags.push(
            Diagnostic::error("E0302", format!("{which} needs `times` and `values`"))
                .with_label(call.span, "missing `times` or `values`")
                .with_help(format!(
                    "write `{name} = {which}(times = [0 ms, 100 ms], values = [...])`"
                )),
        );
        return None;
    };
    if times.is_empty() || times.len() != values.len() {
        diags.push(
            Diagnostic::error(
                "E0305",
                format!(
                    "{which} has {} times and {} values; it needs one value per time",
                    times.len(),
                    values.len()
                ),
            )
            .with_label(times_span, format!("{} times", times.len()))
            .with_label(values_span, format!("{} values", values.len())),
        );
        return None;
    }
    if let Some(w) = times.windows(2).position(|w| w[1] <= w[0]) {
        diags.push(
            Diagnostic::error("E0301", format!("the times of {which} must be ascending"))
                .with_label(
                    times_span,
                    format!("{} ms comes after {} ms", times[w + 1], times[w]),
                ),
        );
        return None;
    }
    Some(Value::Timed(crate::ir::TimeCourse {
        times,
        values,
        ramp: which == "ramp",
    }))
}
