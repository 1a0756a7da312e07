//! `dataset NAME = ...`: inline rows, `csv(...)` and `idx(...)` sources with their options
//! (`scale`, `shuffle`, `split`, `limit`, `length`), checked and resolved against the `.net`
//! file's folder. Nothing is read here; `crate::data` loads the files later.

use std::path::Path;

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{DataOptions, DataSource, Dataset, InlineRow};
use crate::lang::ast::{Arg, Args, Call, DataSourceDecl, DatasetDecl, Expr, ExprKind, Row};
use crate::lang::check::params::{Ctx, Given, check_params_with, named_args, unknown_param};
use crate::lang::check::settings::resolve_path;
use crate::lang::check::train::needs_option;
use crate::lang::check::units::{Val, eval, number};
use crate::models::{ParamKind, ParamSpec, Range};
use crate::units::Dim;

pub static DATASET_OPTIONS: &[ParamSpec] = &[
    ParamSpec::scalar(
        "scale",
        Dim::NONE,
        1.0,
        Range::Any,
        "factor applied to every input",
    ),
    ParamSpec {
        name: "shuffle",
        kind: ParamKind::Flag { default: false },
        doc: "shuffle rows (seeded)",
    },
    ParamSpec::scalar(
        "split",
        Dim::NONE,
        1.0,
        Range::Between(0.0, 1.0),
        "leading fraction of rows kept",
    ),
    ParamSpec {
        name: "limit",
        kind: ParamKind::Integer {
            default: None,
            range: Range::Positive,
        },
        doc: "keep at most this many rows",
    },
    ParamSpec {
        name: "length",
        kind: ParamKind::Integer {
            default: None,
            range: Range::Positive,
        },
        doc: "rows are sequences of this many steps (step-major)",
    },
];

/// The rows and options of a dataset; `base` is the `.net` file's folder.
pub fn dataset(
    decl: &DatasetDecl,
    base: &Path,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Dataset> {
    let n = diags.len();
    let mut path_spans = Vec::new();
    let (source, options) = match &decl.source {
        DataSourceDecl::Inline {
            options,
            rows,
            span,
        } => inline(options.as_ref(), rows, *span, ctx, diags),
        DataSourceDecl::Call(call) => {
            let kind = call.name.name.as_str();
            let (positional, named): (Vec<_>, Vec<_>) =
                call.args.args.iter().partition(|a| a.name.is_none());
            let given: Vec<Given> = named
                .iter()
                .filter_map(|a| {
                    a.name.as_ref().map(|name| Given {
                        name,
                        value: &a.value,
                    })
                })
                .collect();
            let source = SourceCall {
                call,
                positional: &positional,
                given: &given,
                base,
                ctx,
            };
            match kind {
                "csv" => csv(&source, &mut path_spans, diags),
                "idx" => idx(&source, &mut path_spans, diags),
                other => {
                    let mut d =
                        Diagnostic::error("E0115", format!("unknown dataset source `{other}`"))
                            .with_label(call.name.span, "not a dataset source");
                    match suggest(other, ["csv", "idx", "inline"]) {
                        Some(s) => d = d.with_help(format!("did you mean `{s}`?")),
                        None => d = d.with_note("sources: inline { ... }, csv(\"...\"), idx(images = \"...\", labels = \"...\")"),
                    }
                    diags.push(d);
                    return None;
                }
            }
        }
    };
    (diags.len() == n).then(|| Dataset {
        name: decl.name.name.clone(),
        source,
        options,
        span: decl.span,
        path_spans,
    })
}

/// `inline(options) { rows }`: every row of one width, and at least one row.
fn inline(
    options: Option<&Args>,
    rows: &[Row],
    span: Span,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> (DataSource, DataOptions) {
    let opts = named_args(options, 0, "inline", diags);
    let options = data_options(&opts, &[], ctx, span, diags);
    let mut out = Vec::with_capacity(rows.len());
    let mut widths: Option<(usize, Option<usize>, Span)> = None;
    for row in rows {
        let inputs = numbers(&row.inputs, diags);
        let targets = row.targets.as_ref().map(|t| numbers(t, diags));
        let (Some(inputs), targets) = (inputs, targets) else {
            continue;
        };
        let targets = match targets {
            Some(Some(t)) => Some(t),
            Some(None) => continue,
            None => None,
        };
        let w = (inputs.len(), targets.as_ref().map(Vec::len));
        match widths {
            None => widths = Some((w.0, w.1, row.span)),
            Some((wi, wt, first)) if (wi, wt) != w => {
                let describe = |(i, t): (usize, Option<usize>)| match t {
                    Some(t) => format!("{i} inputs -> {t} targets"),
                    None => format!("{i} inputs, no targets"),
                };
                diags.push(
                    Diagnostic::error("E0506", "the rows of this dataset differ in width")
                        .with_label(row.span, describe(w))
                        .with_label(first, format!("first row: {}", describe((wi, wt)))),
                );
            }
            Some(_) => {}
        }
        out.push(InlineRow { inputs, targets });
    }
    if rows.is_empty() {
        diags.push(
            Diagnostic::error("E0506", "this dataset has no rows")
                .with_label(span, "empty")
                .with_help("write one row per line: `[0, 1] -> [1]`"),
        );
    }
    (DataSource::Inline { rows: out }, options)
}

/// A `csv(...)` or `idx(...)` source with its arguments sorted into positional and named.
struct SourceCall<'a> {
    call: &'a Call,
    positional: &'a [&'a Arg],
    given: &'a [Given<'a>],
    /// The `.net` file's folder, which relative paths start from.
    base: &'a Path,
    ctx: &'a Ctx<'a>,
}

/// `csv("file.csv", target = ..., targets = [...], lengths = "n", options)`.
fn csv(
    source: &SourceCall,
    path_spans: &mut Vec<Span>,
    diags: &mut Vec<Diagnostic>,
) -> (DataSource, DataOptions) {
    let SourceCall {
        call,
        positional,
        given,
        base,
        ctx,
    } = *source;
    let path = match positional {
        [p] => {
            path_spans.push(p.value.span);
            string(&p.value, "the CSV path", diags).map(|s| resolve_path(base, &s))
        }
        _ => {
            diags.push(
                Diagnostic::error("E0305", "csv takes one path: `csv(\"file.csv\", ...)`")
                    .with_label(call.args.span, "expected one string before the options"),
            );
            None
        }
    };
    let own = ["target", "targets", "lengths"];
    let mut target = Vec::new();
    let mut targets = Vec::new();
    let mut lengths = None;
    for g in given.iter().filter(|g| own.contains(&g.name.name.as_str())) {
        match g.name.name.as_str() {
            "target" => target = column_names(g.value, "`target`", true, diags),
            "targets" => {
                targets = column_names(g.value, "`targets`", false, diags);
            }
            _ => lengths = string(g.value, "`lengths` (a column name)", diags),
        }
    }
    if !target.is_empty() && !targets.is_empty() {
        diags.push(
            Diagnostic::error("E0305", "csv takes `target` or `targets`, not both")
                .with_label(call.args.span, "both given")
                .with_help(
                    "`target` names one class-label column; `targets` lists real-valued columns",
                ),
        );
    }
    let options = data_options(given, &own, ctx, call.span, diags);
    if let Some(g) = given.iter().find(|g| g.name.name == "lengths")
        && options.length.is_none()
    {
        diags.push(needs_option(
            g,
            "`lengths` needs `length = STEPS`",
            "each row's own number of steps, but rows are not sequences",
            "give the padded length of every row: `length = 10, lengths = \"n\"`",
        ));
    }
    (
        DataSource::Csv {
            path: path.unwrap_or_default(),
            target,
            targets,
            lengths,
        },
        options,
    )
}

/// `idx(images = "...", labels = "...", options)`.
fn idx(
    source: &SourceCall,
    path_spans: &mut Vec<Span>,
    diags: &mut Vec<Diagnostic>,
) -> (DataSource, DataOptions) {
    let SourceCall {
        call,
        positional,
        given,
        base,
        ctx,
    } = *source;
    if let Some(p) = positional.first() {
        diags.push(
            Diagnostic::error(
                "E0305",
                "idx takes named arguments: `idx(images = \"...\", labels = \"...\")`",
            )
            .with_label(p.span, "unnamed argument"),
        );
    }
    let own = ["images", "labels"];
    let mut images = None;
    let mut labels = None;
    let (mut images_span, mut labels_span) = (call.span, None);
    for g in given.iter().filter(|g| own.contains(&g.name.name.as_str())) {
        let path =
            string(g.value, &format!("`{}`", g.name.name), diags).map(|s| resolve_path(base, &s));
        if g.name.name == "images" {
            images = path;
            images_span = g.value.span;
        } else {
            labels = path;
            labels_span = Some(g.value.span);
        }
    }
    path_spans.push(images_span);
    path_spans.extend(labels_span);
    if images.is_none() && !given.iter().any(|g| g.name.name == "images") {
        diags.push(
            Diagnostic::error("E0302", "idx needs `images = \"...\"`")
                .with_label(call.span, "no images file"),
        );
    }
    let options = data_options(given, &own, ctx, call.span, diags);
    (
        DataSource::Idx {
            images: images.unwrap_or_default(),
            labels,
        },
        options,
    )
}

/// The column names of `target`/`targets`: a list of names, or (if `single` is allowed)
/// one name.
fn column_names(expr: &Expr, what: &str, single: bool, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut names = Vec::new();
    match eval(expr, diags) {
        Some(Val::Str(s)) if single => names.push(s),
        Some(Val::List(items)) => {
            for (v, span) in items {
                match v {
                    Val::Str(s) | Val::Sym(s) => names.push(s),
                    other => diags.push(
                        Diagnostic::error(
                            "E0204",
                            format!("{what} lists column names, found {}", other.describe()),
                        )
                        .with_label(span, "expected a column name"),
                    ),
                }
            }
        }
        Some(other) => {
            let expected = if single {
                "a column name or a list of them"
            } else {
                "a list of column names"
            };
            diags.push(
                Diagnostic::error(
                    "E0204",
                    format!("{what} expects {expected}, found {}", other.describe()),
                )
                .with_label(expr.span, "expected [\"a\", \"b\"]"),
            );
        }
        None => {}
    }
    names
}

fn string(expr: &Expr, what: &str, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match &expr.kind {
        ExprKind::Str(s) => Some(s.clone()),
        _ => {
            diags.push(
                Diagnostic::error("E0204", format!("{what} must be a string"))
                    .with_label(expr.span, "expected \"...\""),
            );
            None
        }
    }
}

fn numbers(expr: &Expr, diags: &mut Vec<Diagnostic>) -> Option<Vec<f64>> {
    let ExprKind::List(items) = &expr.kind else {
        return number(expr, diags).map(|x| vec![x]);
    };
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match number(item, diags) {
            Some(x) => out.push(x),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn data_options(
    given: &[Given],
    own: &[&str],
    ctx: &Ctx,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> DataOptions {
    let rest: Vec<Given> = given
        .iter()
        .filter(|g| !own.contains(&g.name.name.as_str()))
        .copied()
        .collect();
    for g in &rest {
        if !DATASET_OPTIONS.iter().any(|s| s.name == g.name.name) {
            let mut known: Vec<&str> = own.to_vec();
            known.extend(DATASET_OPTIONS.iter().map(|s| s.name));
            diags.push(unknown_param(g.name, "a dataset", &known));
        }
    }
    let rest: Vec<Given> = rest
        .into_iter()
        .filter(|g| DATASET_OPTIONS.iter().any(|s| s.name == g.name.name))
        .collect();
    let p = check_params_with(
        "a dataset",
        DATASET_OPTIONS,
        &["limit", "length"],
        &rest,
        ctx,
        span,
        diags,
    );
    if let Some(split) = p.number("split")
        && split <= 0.0
        && let Some(g) = rest.iter().find(|g| g.name.name == "split")
    {
        diags.push(
            Diagnostic::error("E0301", "`split` must be above 0")
                .with_label(g.value.span, "keeps no rows"),
        );
    }
    let given_names: Vec<&str> = rest.iter().map(|g| g.name.name.as_str()).collect();
    DataOptions {
        scale: given_names
            .contains(&"scale")
            .then(|| p.number("scale"))
            .flatten(),
        shuffle: p.flag("shuffle").unwrap_or(false),
        split: given_names
            .contains(&"split")
            .then(|| p.number("split"))
            .flatten(),
        limit: p.number("limit").map(|l| l as usize),
        length: p.number("length").map(|l| l as usize),
    }
}
