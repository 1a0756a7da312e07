//! Evaluating values: arithmetic, units and distributions, with dimensions checked and
//! numbers converted to internal units (`crate::units`). A time where a voltage is expected
//! is caught by the caller (`params.rs`), which knows what was expected.

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{DistKind, Distribution};
use crate::lang::ast::{BinOp, Call, Expr, ExprKind, Unit};
use crate::units::{self, Dim};

/// A value after evaluation: numbers carry their dimension, in internal units.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num {
        value: f64,
        dim: Dim,
    },
    Bool(bool),
    Str(String),
    /// A bare name (`relu`, a dataset); converted to a unit quantity where a number is needed.
    Sym(String),
    List(Vec<(Val, Span)>),
    /// `lo..hi`, dimensionless.
    Range(f64, f64),
    Dist {
        dist: Distribution,
        dim: Dim,
    },
    /// `linspace(low, high)`: evenly spaced values from `low` (first element) to `high`
    /// (last element) over the elements of a population.
    Linear {
        low: f64,
        high: f64,
        dim: Dim,
    },
    /// A call that is not a distribution (`adam(...)`, `stdp(...)`): checked by whoever
    /// knows which registry it belongs to.
    Call(Call),
}

impl Val {
    /// "a voltage", "a name", "a list" — for "expected X, found Y".
    pub fn describe(&self) -> String {
        match self {
            Val::Num { dim, .. } => dim.name(),
            Val::Bool(_) => "`true`/`false`".into(),
            Val::Str(_) => "a string".into(),
            Val::Sym(s) => format!("the name `{s}`"),
            Val::List(_) => "a list".into(),
            Val::Range(..) => "a range".into(),
            Val::Dist { .. } => "a distribution".into(),
            Val::Linear { .. } => "a linspace".into(),
            Val::Call(c) => format!("a call to `{}`", c.name.name),
        }
    }
}

/// The internal unit of a dimension, for showing converted numbers.
pub fn internal_unit(dim: Dim) -> String {
    match dim {
        Dim::NONE => String::new(),
        Dim::RESISTANCE => "GOhm".into(),
        Dim::FREQUENCY => "kHz".into(),
        d => d.example_unit(),
    }
}

/// Formats an internal-unit number with its unit: `-65 mV`.
pub fn show(value: f64, dim: Dim) -> String {
    let unit = internal_unit(dim);
    if unit.is_empty() {
        format!("{value}")
    } else {
        format!("{value} {unit}")
    }
}

/// Resolves a unit expression to (factor to internal units, dimension).
pub fn resolve_unit(unit: &Unit, diags: &mut Vec<Diagnostic>) -> Option<(f64, Dim)> {
    let mut factor = 1.0;
    let mut dim = Dim::NONE;
    let mut offset = unit.span.start as usize;
    let mut ok = true;
    for (divide, symbol) in &unit.factors {
        let span = Span::new(unit.span.file, offset, offset + symbol.len());
        offset += symbol.len() + 1;
        match units::lookup(symbol) {
            Some((f, d)) if *divide => {
                factor /= f;
                dim = dim.div(d);
            }
            Some((f, d)) => {
                factor *= f;
                dim = dim.mul(d);
            }
            None => {
                ok = false;
                diags.push(unknown_unit(symbol, span));
            }
        }
    }
    ok.then_some((factor, dim))
}

pub fn unknown_unit(symbol: &str, span: Span) -> Diagnostic {
    let mut d = Diagnostic::error("E0202", format!("unknown unit `{symbol}`"))
        .with_label(span, "not a unit neurosim knows");
    // Spellings from other tools and papers that are too far from the symbol for an edit distance.
    const ALIASES: &[(&str, &str)] = &[
        ("sec", "s"),
        ("secs", "s"),
        ("second", "s"),
        ("seconds", "s"),
        ("msec", "ms"),
        ("msecs", "ms"),
        ("usec", "us"),
        ("µs", "us"),
        ("μs", "us"),
        ("µV", "uV"),
        ("µA", "uA"),
        ("µS", "uS"),
        ("µF", "uF"),
        ("mho", "S"),
        ("ohm", "Ohm"),
        ("Ω", "Ohm"),
        ("kΩ", "kOhm"),
        ("MΩ", "MOhm"),
        ("GΩ", "GOhm"),
        ("volt", "V"),
        ("amp", "A"),
        ("hertz", "Hz"),
    ];
    let alias = ALIASES.iter().find(|(a, _)| *a == symbol).map(|(_, u)| *u);
    match alias.or_else(|| suggest(symbol, units::UNITS.iter().map(|u| u.0))) {
        Some(s) => d = d.with_help(format!("did you mean `{s}`?")),
        None => {
            d = d.with_note(
                "units: s ms us, V mV uV, A mA uA nA pA, S mS uS nS pS, F uF nF pF, \
                 Ohm kOhm MOhm GOhm, Hz kHz, and products/quotients such as mV/ms",
            )
        }
    }
    d
}

/// Evaluates an expression. `None` means an error was reported.
pub fn eval(expr: &Expr, diags: &mut Vec<Diagnostic>) -> Option<Val> {
    match &expr.kind {
        ExprKind::Number(x) => Some(Val::Num {
            value: *x,
            dim: Dim::NONE,
        }),
        ExprKind::Str(s) => Some(Val::Str(s.clone())),
        ExprKind::Bool(b) => Some(Val::Bool(*b)),
        ExprKind::Name(n) => Some(Val::Sym(n.clone())),
        ExprKind::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for item in items {
                match eval(item, diags) {
                    Some(v) => out.push((v, item.span)),
                    None => ok = false,
                }
            }
            ok.then_some(Val::List(out))
        }
        ExprKind::Range(lo, hi) => {
            let lo_v = number(lo, diags);
            let hi_v = number(hi, diags);
            let (lo_v, hi_v) = (lo_v?, hi_v?);
            Some(Val::Range(lo_v, hi_v))
        }
        ExprKind::Neg(inner) => match eval(inner, diags)? {
            Val::Num { value, dim } => Some(Val::Num { value: -value, dim }),
            v => match as_unit(&v) {
                Some((value, dim)) => Some(Val::Num { value: -value, dim }),
                None => {
                    diags.push(not_a_number(&v, inner.span, "`-`"));
                    None
                }
            },
        },
        ExprKind::Binary(op, a, b) => binary(*op, a, b, expr.span, diags),
        ExprKind::Quantity(inner, unit) => {
            let value = eval(inner, diags);
            let resolved = resolve_unit(unit, diags);
            match value? {
                Val::Num {
                    value,
                    dim: Dim::NONE,
                } => {
                    let (factor, dim) = resolved?;
                    finite(value * factor, dim, expr.span, diags)
                }
                Val::Num { dim, .. } => {
                    diags.push(
                        Diagnostic::error("E0204", "a unit applied to a value that has one")
                            .with_label(expr.span, format!("this is already {}", dim.name()))
                            .with_help("write the unit once, after the number"),
                    );
                    None
                }
                v => {
                    diags.push(
                        Diagnostic::error(
                            "E0204",
                            format!("a unit can only follow a number, not {}", v.describe()),
                        )
                        .with_label(inner.span, "expected a number before the unit"),
                    );
                    None
                }
            }
        }
        ExprKind::Constant(v) => Some((**v).clone()),
        ExprKind::Invalid => None,
        ExprKind::Index(table, _) => {
            diags.push(
                Diagnostic::error("E0620", format!("unknown table `{}`", table.name))
                    .with_label(table.span, "no table of this name here"),
            );
            None
        }
        ExprKind::Entry(..) => {
            diags.push(
                Diagnostic::error(
                    "E0625",
                    "`self` names the population being declared, and there is none here",
                )
                .with_label(expr.span, "not known here")
                .with_help("use it in a population's block or template: `v = v0_mean[self]`"),
            );
            None
        }
        ExprKind::Call(call) => match call.name.name.as_str() {
            "abs" => absolute(call, expr.span, diags),
            "uniform" | "normal" | "lognormal" | "linspace" => distribution(call, diags),
            _ => Some(Val::Call(call.clone())),
        },
        ExprKind::Clip(inner, bounds) => clip(inner, bounds, diags),
    }
}

/// `abs(x)`: the magnitude of a number, in its unit (`sd = 0.1 * abs(w)` for a negative `w`).
fn absolute(call: &Call, span: Span, diags: &mut Vec<Diagnostic>) -> Option<Val> {
    let [arg] = call.args.args.as_slice() else {
        diags.push(
            Diagnostic::error("E0305", "abs takes one value: `abs(x)`").with_label(
                call.args.span,
                format!("{} arguments", call.args.args.len()),
            ),
        );
        return None;
    };
    match eval(&arg.value, diags).map(numeric)? {
        Ok((value, dim)) => finite(value.abs(), dim, span, diags),
        Err(v) => {
            diags.push(not_a_number(&v, arg.value.span, "abs"));
            None
        }
    }
}

/// A bare unit name used as a value (`1/ms`): one of that unit.
fn as_unit(v: &Val) -> Option<(f64, Dim)> {
    match v {
        Val::Sym(s) => units::lookup(s),
        _ => None,
    }
}

fn numeric(v: Val) -> Result<(f64, Dim), Val> {
    match v {
        Val::Num { value, dim } => Ok((value, dim)),
        other => as_unit(&other).ok_or(other),
    }
}

fn not_a_number(v: &Val, span: Span, context: &str) -> Diagnostic {
    let mut d = Diagnostic::error(
        "E0204",
        format!("expected a number for {context}, found {}", v.describe()),
    )
    .with_label(span, "not a number");
    if let Val::Sym(s) = v
        && let Some(u) = suggest(s, units::UNITS.iter().map(|u| u.0))
    {
        d = d.with_help(format!("did you mean the unit `{u}`?"));
    }
    d
}

fn finite(value: f64, dim: Dim, span: Span, diags: &mut Vec<Diagnostic>) -> Option<Val> {
    if value.is_finite() {
        Some(Val::Num { value, dim })
    } else {
        diags.push(
            Diagnostic::error("E0206", "the value is not a finite number")
                .with_label(span, "overflows or divides by zero"),
        );
        None
    }
}

fn binary(op: BinOp, a: &Expr, b: &Expr, span: Span, diags: &mut Vec<Diagnostic>) -> Option<Val> {
    let va = eval(a, diags);
    let vb = eval(b, diags);
    let (va, vb) = (va?, vb?);
    let context = format!("`{}`", op.symbol());
    let (x, dx) = match numeric(va) {
        Ok(n) => n,
        Err(v) => {
            diags.push(not_a_number(&v, a.span, &context));
            return None;
        }
    };
    let (y, dy) = match numeric(vb) {
        Ok(n) => n,
        Err(v) => {
            diags.push(not_a_number(&v, b.span, &context));
            return None;
        }
    };
    match op {
        BinOp::Add | BinOp::Sub => {
            if dx != dy {
                diags.push(
                    Diagnostic::error(
                        "E0205",
                        format!(
                            "cannot {} {} and {}",
                            if op == BinOp::Add { "add" } else { "subtract" },
                            dx.name(),
                            dy.name()
                        ),
                    )
                    .with_label(a.span, dx.name())
                    .with_label(b.span, dy.name()),
                );
                return None;
            }
            let v = if op == BinOp::Add { x + y } else { x - y };
            finite(v, dx, span, diags)
        }
        BinOp::Mul => finite(x * y, dx.mul(dy), span, diags),
        BinOp::Div => {
            if y == 0.0 {
                diags.push(
                    Diagnostic::error("E0206", "division by zero")
                        .with_label(b.span, "this is zero"),
                );
                return None;
            }
            finite(x / y, dx.div(dy), span, diags)
        }
    }
}

/// A dimensionless number (range bounds, slice bounds, data rows).
pub fn number(expr: &Expr, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    match eval(expr, diags)? {
        Val::Num {
            value,
            dim: Dim::NONE,
        } => Some(value),
        v => {
            diags.push(
                Diagnostic::error(
                    "E0204",
                    format!("expected a plain number, found {}", v.describe()),
                )
                .with_label(expr.span, "expected a number without unit"),
            );
            None
        }
    }
}

fn distribution(call: &Call, diags: &mut Vec<Diagnostic>) -> Option<Val> {
    let name = call.name.name.as_str();
    let names: [&str; 2] = match name {
        "uniform" | "linspace" => ["low", "high"],
        _ => ["mean", "sd"],
    };
    let mut slots: [Option<(f64, Dim, Span)>; 4] = [None; 4];
    let mut ok = true;
    for (i, arg) in call.args.args.iter().enumerate() {
        let slot = match &arg.name {
            Some(n) => match names.iter().position(|x| *x == n.name) {
                Some(p) => p,
                // `normal(mean, sd, redraw_below = 0 pA)`: a value outside is drawn again.
                None if REDRAW.contains(&n.name.as_str()) && names[0] == "mean" => {
                    2 + REDRAW.iter().position(|x| *x == n.name).unwrap_or(0)
                }
                None => {
                    let mut d = Diagnostic::error(
                        "E0102",
                        format!("unknown argument `{}` for {name}", n.name),
                    )
                    .with_label(
                        n.span,
                        format!("{name} takes `{}` and `{}`", names[0], names[1]),
                    );
                    if let Some(s) = suggest(&n.name, names) {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                    ok = false;
                    continue;
                }
            },
            None if i < 2 => i,
            None => {
                diags.push(
                    Diagnostic::error("E0305", format!("too many arguments for {name}"))
                        .with_label(arg.span, "unexpected argument"),
                );
                ok = false;
                continue;
            }
        };
        match eval(&arg.value, diags).map(numeric) {
            Some(Ok((v, d))) => slots[slot] = Some((v, d, arg.value.span)),
            Some(Err(v)) => {
                diags.push(not_a_number(&v, arg.value.span, name));
                ok = false;
            }
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let (Some(a), Some(b)) = (slots[0], slots[1]) else {
        let missing = if slots[0].is_none() {
            names[0]
        } else {
            names[1]
        };
        diags.push(
            Diagnostic::error("E0302", format!("{name} needs `{missing}`"))
                .with_label(call.span, format!("missing `{missing}`"))
                .with_help(format!(
                    "write {name}({} = ..., {} = ...)",
                    names[0], names[1]
                )),
        );
        return None;
    };
    if a.1 != b.1 {
        diags.push(
            Diagnostic::error(
                "E0201",
                format!("the arguments of {name} have different dimensions"),
            )
            .with_label(a.2, a.1.name())
            .with_label(b.2, b.1.name()),
        );
        return None;
    }
    if name == "linspace" {
        return Some(Val::Linear {
            low: a.0,
            high: b.0,
            dim: a.1,
        });
    }
    let kind = match name {
        "uniform" => {
            if a.0 > b.0 {
                diags.push(
                    Diagnostic::error("E0301", "uniform: `low` is above `high`")
                        .with_label(call.span, "empty interval"),
                );
                return None;
            }
            DistKind::Uniform {
                low: a.0,
                high: b.0,
            }
        }
        _ => {
            if b.0 < 0.0 {
                diags.push(
                    Diagnostic::error("E0301", format!("{name}: `sd` must be ≥ 0"))
                        .with_label(b.2, "negative"),
                );
                return None;
            }
            if name == "lognormal" {
                if a.0 <= 0.0 {
                    diags.push(
                        Diagnostic::error("E0301", "lognormal: `mean` must be > 0")
                            .with_label(a.2, "a log-normal value is always positive"),
                    );
                    return None;
                }
                DistKind::LogNormal { mean: a.0, sd: b.0 }
            } else {
                DistKind::Normal { mean: a.0, sd: b.0 }
            }
        }
    };
    let redraw = match (slots[2], slots[3]) {
        (None, None) => None,
        (lo, hi) => {
            for (bound, name) in [(lo, REDRAW[0]), (hi, REDRAW[1])] {
                if let Some((_, d, span)) = bound
                    && d != a.1
                {
                    diags.push(
                        Diagnostic::error(
                            "E0201",
                            format!("`{name}` is {}, the distribution {}", d.name(), a.1.name()),
                        )
                        .with_label(span, format!("expected {}", a.1.name())),
                    );
                    return None;
                }
            }
            let lo_hi = (
                lo.map_or(f64::NEG_INFINITY, |b| b.0),
                hi.map_or(f64::INFINITY, |b| b.0),
            );
            Some(lo_hi)
        }
    };
    let dist = Distribution {
        kind,
        clip: None,
        redraw,
    };
    if let Some((lo, hi)) = redraw {
        let share = dist.mass_inside(lo, hi);
        if share.is_nan() || share < crate::ir::MIN_REDRAW_SHARE {
            diags.push(
                Diagnostic::error(
                    "E0301",
                    if share > 0.0 {
                        format!(
                            "{name}: only {share:.1e} of the values lie between the redraw bounds, so each value would take about {:.0e} draws",
                            1.0 / share
                        )
                    } else {
                        format!("{name}: no value lies between the redraw bounds")
                    },
                )
                .with_label(call.span, "values are drawn again until they lie between the bounds")
                .with_help(format!(
                    "the bounds must hold at least {} of the distribution: move them towards the mean, or use `clip [lo, hi]` to clamp instead",
                    crate::ir::MIN_REDRAW_SHARE
                )),
            );
            return None;
        }
    }
    Some(Val::Dist { dist, dim: a.1 })
}

/// The keyword arguments that truncate a normal or log-normal by redrawing: the lower,
/// then the upper bound (NEST's `nest.math.redraw(..., min, max)`).
const REDRAW: [&str; 2] = ["redraw_below", "redraw_above"];

fn clip(inner: &Expr, bounds: &Expr, diags: &mut Vec<Diagnostic>) -> Option<Val> {
    let v = eval(inner, diags);
    let b = eval(bounds, diags);
    let (v, b) = (v?, b?);
    let Val::Dist { mut dist, dim } = v else {
        diags.push(
            Diagnostic::error("E0204", "only a distribution can be clipped")
                .with_label(inner.span, format!("this is {}", v.describe())),
        );
        return None;
    };
    let pair = match b {
        Val::List(items) if items.len() == 2 => {
            let mut out = [0.0; 2];
            for (i, (item, span)) in items.into_iter().enumerate() {
                match numeric(item) {
                    Ok((x, d)) if d == dim => out[i] = x,
                    Ok((_, d)) => {
                        diags.push(
                            Diagnostic::error(
                                "E0201",
                                format!(
                                    "clip bound is {}, the distribution {}",
                                    d.name(),
                                    dim.name()
                                ),
                            )
                            .with_label(span, format!("expected {}", dim.name())),
                        );
                        return None;
                    }
                    Err(v) => {
                        diags.push(not_a_number(&v, span, "clip"));
                        return None;
                    }
                }
            }
            out
        }
        _ => {
            diags.push(
                Diagnostic::error("E0305", "clip takes two bounds: `clip [lo, hi]`")
                    .with_label(bounds.span, "expected two values"),
            );
            return None;
        }
    };
    if pair[0] > pair[1] {
        diags.push(
            Diagnostic::error("E0301", "clip: the lower bound is above the upper bound")
                .with_label(bounds.span, "empty interval"),
        );
        return None;
    }
    dist.clip = Some((pair[0], pair[1]));
    Some(Val::Dist { dist, dim })
}
