//! The experiment around the model: network settings (`seed`, `dt`, `output`), datasets,
//! `train`/`evaluate` (rate mode), `simulate` (spiking mode) and `record`.
//!
//! The tables below define the language's protocol blocks; model, rule and optimizer
//! parameters come from `crate::models` only.

use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{
    Adversarial, DataOptions, DataSource, Dataset, EarlyStopping, Evaluate, InlineRow, Interval,
    Params, ProjectionId, Record, RecordTarget, Recordable, Simulate, Train, TrainOptions, Value,
    Window,
};
use crate::lang::ast::{
    Block, DataSourceDecl, DatasetDecl, Expr, ExprKind, Ident, RecordDecl, SimulateDecl, Target,
    TrainDecl,
};
use crate::lang::check::connectivity::PopRef;
use crate::lang::check::names;
use crate::lang::check::params::{
    Ctx, Given, block_entries, check_params_with, integer, merge, named_args, quantity,
    unknown_param,
};
use crate::lang::check::units::{Val, eval, number};
use crate::models::schedule::Schedule;
use crate::models::{Mode, ParamKind, ParamSpec, Range, loss};
use crate::units::Dim;

/// Metrics `evaluate` can report.
pub const METRICS: &[&str] = &["accuracy", "loss", "overlap", "mmd"];

/// Network-level settings.
pub const SETTINGS: &[&str] = &["seed", "dt", "output"];

pub static TRAIN_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "data",
        kind: ParamKind::Dataset,
        doc: "dataset to train on",
    },
    ParamSpec {
        name: "validate",
        kind: ParamKind::Dataset,
        doc: "dataset evaluated after every epoch",
    },
    ParamSpec {
        name: "loss",
        kind: ParamKind::Choice {
            options: loss::NAMES,
            default: None,
        },
        doc: "loss minimised by backprop (none: local rules only)",
    },
    ParamSpec {
        name: "optimizer",
        kind: ParamKind::Call {
            family: crate::models::Family::Optimizer,
        },
        doc: "optimizer, e.g. adam(lr = 1e-3)",
    },
    ParamSpec {
        name: "epochs",
        kind: ParamKind::Integer {
            default: Some(1),
            range: Range::Positive,
        },
        doc: "passes over the data",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Integer {
            default: Some(1),
            range: Range::Positive,
        },
        doc: "samples per weight update",
    },
    ParamSpec {
        name: "schedule",
        kind: ParamKind::Call {
            family: crate::models::Family::Schedule,
        },
        doc: "learning-rate schedule, e.g. cosine(min_lr = 1e-5)",
    },
    ParamSpec {
        name: "warmup",
        kind: ParamKind::Integer {
            default: Some(0),
            range: Range::NonNegative,
        },
        doc: "epochs of linear learning-rate warmup",
    },
    ParamSpec {
        name: "clip_norm",
        kind: ParamKind::Quantity {
            dim: Dim::NONE,
            default: None,
            range: Range::Positive,
            per_element: false,
        },
        doc: "largest global L2 norm of the gradient",
    },
    ParamSpec {
        name: "clip_value",
        kind: ParamKind::Quantity {
            dim: Dim::NONE,
            default: None,
            range: Range::Positive,
            per_element: false,
        },
        doc: "largest absolute gradient element",
    },
    ParamSpec::scalar(
        "l1",
        Dim::NONE,
        0.0,
        Range::NonNegative,
        "L1 penalty on every weight: l1 · Σ|w| added to the loss",
    ),
    ParamSpec::scalar(
        "l2",
        Dim::NONE,
        0.0,
        Range::NonNegative,
        "L2 penalty on every weight: l2 · Σw² added to the loss",
    ),
    ParamSpec {
        name: "early_stopping",
        kind: ParamKind::Integer {
            default: None,
            range: Range::Positive,
        },
        doc: "patience: stop after this many epochs without a better validation loss",
    },
    ParamSpec::scalar(
        "min_delta",
        Dim::NONE,
        0.0,
        Range::NonNegative,
        "smallest decrease of the validation loss that counts as better",
    ),
    ParamSpec {
        name: "restore_best",
        kind: ParamKind::Flag { default: true },
        doc: "with early_stopping: end with the parameters of the best validation epoch",
    },
    ParamSpec {
        name: "truncate",
        kind: ParamKind::Integer {
            default: None,
            range: Range::Positive,
        },
        doc: "truncated backpropagation through time: gradients cross at most this many steps",
    },
];

/// `train` parameters that are off unless given.
const TRAIN_OPTIONAL: &[&str] = &[
    "loss",
    "clip_norm",
    "clip_value",
    "early_stopping",
    "truncate",
];

pub static EVALUATE_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "data",
        kind: ParamKind::Dataset,
        doc: "dataset to evaluate on",
    },
    ParamSpec {
        name: "metrics",
        kind: ParamKind::Names { options: METRICS },
        doc: "what to report",
    },
    ParamSpec {
        name: "steps",
        kind: ParamKind::Integer {
            default: None,
            range: Range::Positive,
        },
        doc: "iterations of recurrent dynamics per cue (recall)",
    },
];

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

/// Kinds of training besides the plain `train { ... }`.
const TRAIN_KINDS: &[&str] = &["adversarial"];

/// The roles of `train adversarial`: population names, not values.
const ADVERSARIAL_ROLES: [&str; 2] = ["generator", "discriminator"];

/// The options only `train adversarial` takes.
static ADVERSARIAL_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "generator_lr",
        kind: ParamKind::Quantity {
            dim: Dim::NONE,
            default: None,
            range: Range::Positive,
            per_element: false,
        },
        doc: "the generator's learning rate (default: the optimizer's)",
    },
    ParamSpec {
        name: "discriminator_lr",
        kind: ParamKind::Quantity {
            dim: Dim::NONE,
            default: None,
            range: Range::Positive,
            per_element: false,
        },
        doc: "the discriminator's learning rate (default: the optimizer's)",
    },
    ParamSpec {
        name: "discriminator_steps",
        kind: ParamKind::Integer {
            default: Some(1),
            range: Range::Positive,
        },
        doc: "discriminator steps (batches) per generator step",
    },
];

pub fn train<'a>(
    decl: &'a TrainDecl,
    overrides: Vec<Given<'a>>,
    mode: Mode,
    ctx: &Ctx,
    populations: &[PopRef],
    diags: &mut Vec<Diagnostic>,
) -> Option<Train> {
    let block = &decl.block;
    let n = diags.len();
    if let Some(kind) = &decl.kind
        && !TRAIN_KINDS.contains(&kind.name.as_str())
    {
        let mut d = Diagnostic::error("E0118", format!("unknown kind of training `{}`", kind.name))
            .with_label(kind.span, "not a kind of training");
        d = match suggest(&kind.name, TRAIN_KINDS.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `train {s} {{ ... }}`?")),
            None => d.with_help(
                "kinds: `train { ... }` (backprop or local rules), `train adversarial { ... }`",
            ),
        };
        diags.push(d);
        return None;
    }
    let is_adversarial = decl.kind.is_some();
    let entries = merge([block_entries(Some(block), diags), overrides]);
    let (roles, given): (Vec<Given>, Vec<Given>) = entries
        .into_iter()
        .partition(|g| is_adversarial && ADVERSARIAL_ROLES.contains(&g.name.name.as_str()));
    let adversarial_option = |g: &Given| ADVERSARIAL_PARAMS.iter().any(|s| s.name == g.name.name);
    let (part_options, given): (Vec<Given>, Vec<Given>) = given
        .into_iter()
        .partition(|g| is_adversarial && adversarial_option(g));
    let adversarial = if is_adversarial {
        let rates = check_params_with(
            "train adversarial",
            ADVERSARIAL_PARAMS,
            &["generator_lr", "discriminator_lr"],
            &part_options,
            ctx,
            block.span,
            diags,
        );
        adversarial_roles(&roles, populations, block.span, diags).map(|a| Adversarial {
            generator_lr: rates.number("generator_lr"),
            discriminator_lr: rates.number("discriminator_lr"),
            discriminator_steps: rates.number("discriminator_steps").unwrap_or(1.0) as usize,
            ..a
        })
    } else {
        None
    };
    let p = check_params_with(
        "train",
        TRAIN_PARAMS,
        TRAIN_OPTIONAL,
        &given,
        ctx,
        block.span,
        diags,
    );
    let data = require_data("train", &p, block.span, diags);
    check_train_options(&given, diags);
    if mode != Mode::Rate || diags.len() > n {
        return None;
    }
    let loss = p
        .symbol("loss")
        .map(str::to_string)
        .or_else(|| is_adversarial.then(|| "binary_cross_entropy".to_string()));
    let optimizer = match p.get("optimizer") {
        Some(Value::Call(c)) => Some(c.clone()),
        _ if loss.is_some() => Some(default_optimizer()),
        _ => None,
    };
    if loss.is_none() {
        warn_gradient_options_without_loss(&given, diags);
    }
    Some(Train {
        data: data?,
        loss,
        optimizer,
        epochs: p.number("epochs").unwrap_or(1.0) as usize,
        batch: p.number("batch").unwrap_or(1.0) as usize,
        validate: p.symbol("validate").map(str::to_string),
        options: train_options(&p),
        extra: Params::new(),
        adversarial,
        span: block.span,
    })
}

/// `generator = G, discriminator = D` of `train adversarial`: two populations, D after G.
fn adversarial_roles(
    roles: &[Given],
    populations: &[PopRef],
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Adversarial> {
    let mut found = [None, None];
    for (slot, role) in found.iter_mut().zip(ADVERSARIAL_ROLES) {
        let Some(g) = roles.iter().find(|g| g.name.name == role) else {
            diags.push(
                Diagnostic::error("E0302", format!("`train adversarial` needs `{role}`"))
                    .with_label(span, format!("no `{role} = POPULATION` here"))
                    .with_help(
                        "name the generator's output population and the discriminator's \
                         output population: `generator = fake, discriminator = verdict`",
                    ),
            );
            continue;
        };
        let ExprKind::Name(name) = &g.value.kind else {
            diags.push(
                Diagnostic::error("E0204", format!("`{role}` names a population"))
                    .with_label(g.value.span, "expected a population name"),
            );
            continue;
        };
        match populations.iter().find(|p| &p.name == name) {
            Some(p) => *slot = Some(p.id),
            None => {
                let ident = Ident {
                    name: name.clone(),
                    span: g.value.span,
                };
                let known: Vec<&str> = populations.iter().map(|p| p.name.as_str()).collect();
                diags.push(names::unknown("E0101", "population", &ident, &known));
            }
        }
    }
    let [Some(generator), Some(discriminator)] = found else {
        return None;
    };
    Some(Adversarial {
        generator,
        discriminator,
        generator_lr: None,
        discriminator_lr: None,
        discriminator_steps: 1,
    })
}

/// What the conveniences need from the rest of the block: early stopping watches the
/// validation loss; `min_delta` and `restore_best` belong to early stopping.
fn check_train_options(given: &[Given], diags: &mut Vec<Diagnostic>) {
    let find = |name: &str| given.iter().find(|g| g.name.name == name);
    if let Some(g) = find("early_stopping")
        && find("validate").is_none()
    {
        diags.push(needs_option(
            g,
            "`early_stopping` needs `validate = DATASET`",
            "watches the validation loss, but nothing is validated",
            "add `validate = DATASET` (a dataset held out from training) to this block",
        ));
    }
    if find("early_stopping").is_none() {
        for name in ["min_delta", "restore_best"] {
            if let Some(g) = find(name) {
                diags.push(
                    Diagnostic::error("E0302", format!("`{name}` without `early_stopping`"))
                        .with_label(g.name.span, "only used by early stopping")
                        .with_help(format!(
                            "add `early_stopping = 5` (patience in epochs), or remove `{name}`"
                        )),
                );
            }
        }
    }
}

/// E0302 at option `g`, which needs another one that is not given.
fn needs_option(g: &Given, message: &str, label: &str, help: &str) -> Diagnostic {
    Diagnostic::error("E0302", message)
        .with_label(g.name.span.to(g.value.span), label)
        .with_help(help)
}

/// Options that shape gradient descent do nothing in a block without a `loss` (a network
/// that learns through local rules only): say so rather than ignore them silently.
fn warn_gradient_options_without_loss(given: &[Given], diags: &mut Vec<Diagnostic>) {
    const GRADIENT_ONLY: &[&str] = &[
        "optimizer",
        "schedule",
        "warmup",
        "clip_norm",
        "clip_value",
        "l1",
        "l2",
        "truncate",
    ];
    for g in given {
        let name = g.name.name.as_str();
        if GRADIENT_ONLY.contains(&name) {
            diags.push(
                Diagnostic::warning("W0005", format!("`{name}` has no effect without a `loss`"))
                    .with_label(g.name.span, "only training by backprop uses it")
                    .with_help(format!(
                        "add `loss = mse` (or another loss) to train by backprop, or remove `{name}`"
                    )),
            );
        }
    }
}

/// The typed conveniences of a checked `train` block.
fn train_options(p: &Params) -> TrainOptions {
    let schedule = match p.get("schedule") {
        Some(Value::Call(c)) => {
            let lookup = |k: &str| c.args.number(k);
            Schedule::from_args(&c.name, &lookup)
        }
        _ => None,
    };
    TrainOptions {
        schedule,
        warmup: p.number("warmup").unwrap_or(0.0) as usize,
        clip_norm: p.number("clip_norm"),
        clip_value: p.number("clip_value"),
        l1: p.number("l1").unwrap_or(0.0),
        l2: p.number("l2").unwrap_or(0.0),
        early_stopping: p.number("early_stopping").map(|patience| EarlyStopping {
            patience: patience as usize,
            min_delta: p.number("min_delta").unwrap_or(0.0),
            restore_best: p.flag("restore_best").unwrap_or(true),
        }),
        truncate: p.number("truncate").map(|k| k as usize),
    }
}

/// Plain SGD with its registry defaults: what `train` uses when a loss is given and no optimizer.
fn default_optimizer() -> crate::ir::Call {
    let mut args = Params::new();
    if let Some(sgd) = crate::models::optimizer::find("sgd") {
        for spec in sgd.params {
            match spec.kind {
                ParamKind::Quantity {
                    default: Some(d), ..
                } => args.insert(spec.name, Value::Number(d)),
                ParamKind::Flag { default } => args.insert(spec.name, Value::Bool(default)),
                _ => {}
            }
        }
    }
    crate::ir::Call {
        name: "sgd".into(),
        args,
    }
}

fn require_data(what: &str, p: &Params, span: Span, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match p.symbol("data") {
        Some(d) => Some(d.to_string()),
        None => {
            if !diags.iter().any(|d| d.code == "E0105") {
                diags.push(
                    Diagnostic::error("E0302", format!("`{what}` needs `data = DATASET`"))
                        .with_label(span, "no dataset given")
                        .with_help("name a dataset declared with `dataset NAME = ...`"),
                );
            }
            None
        }
    }
}

pub fn evaluate(
    block: &Block,
    mode: Mode,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Evaluate> {
    let n = diags.len();
    let given = block_entries(Some(block), diags);
    let p = check_params_with(
        "evaluate",
        EVALUATE_PARAMS,
        &["steps"],
        &given,
        ctx,
        block.span,
        diags,
    );
    let data = require_data("evaluate", &p, block.span, diags);
    if mode != Mode::Rate || diags.len() > n {
        return None;
    }
    let metrics = match p.get("metrics") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| v.as_symbol().map(str::to_string))
            .collect(),
        _ => vec!["accuracy".to_string()],
    };
    Some(Evaluate {
        data: data?,
        metrics,
        steps: p.number("steps").map(|s| s as usize),
        span: block.span,
    })
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
        } => {
            let opts = named_args(options.as_ref(), 0, "inline", diags);
            let options = data_options(&opts, &[], ctx, *span, diags);
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
                        .with_label(*span, "empty")
                        .with_help("write one row per line: `[0, 1] -> [1]`"),
                );
            }
            (DataSource::Inline { rows: out }, options)
        }
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
            match kind {
                "csv" => {
                    let path = match positional.as_slice() {
                        [p] => {
                            path_spans.push(p.value.span);
                            string(&p.value, "the CSV path", diags).map(|s| resolve_path(base, &s))
                        }
                        _ => {
                            diags.push(
                                Diagnostic::error(
                                    "E0305",
                                    "csv takes one path: `csv(\"file.csv\", ...)`",
                                )
                                .with_label(
                                    call.args.span,
                                    "expected one string before the options",
                                ),
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
                                .with_help("`target` names one class-label column; `targets` lists real-valued columns"),
                        );
                    }
                    let options = data_options(&given, &own, ctx, call.span, diags);
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
                "idx" => {
                    if let Some(p) = positional.first() {
                        diags.push(
                            Diagnostic::error("E0305", "idx takes named arguments: `idx(images = \"...\", labels = \"...\")`")
                                .with_label(p.span, "unnamed argument"),
                        );
                    }
                    let own = ["images", "labels"];
                    let mut images = None;
                    let mut labels = None;
                    let (mut images_span, mut labels_span) = (call.span, None);
                    for g in given.iter().filter(|g| own.contains(&g.name.name.as_str())) {
                        let path = string(g.value, &format!("`{}`", g.name.name), diags)
                            .map(|s| resolve_path(base, &s));
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
                    let options = data_options(&given, &own, ctx, call.span, diags);
                    (
                        DataSource::Idx {
                            images: images.unwrap_or_default(),
                            labels,
                        },
                        options,
                    )
                }
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

/// What `record` can name besides state variables.
const RECORDABLES: &[&str] = &["spikes", "activation", "weight", "loss", "accuracy"];

/// Resolved record targets: populations by name and projections by (source, arrow, target).
pub struct RecordScope<'a> {
    pub populations: &'a [PopRef],
    /// Every declared population name, including those that failed their own checks.
    pub declared: &'a [&'a str],
    /// (source name, directed, target name, id)
    pub projections: &'a [(String, bool, String, ProjectionId)],
}

pub fn record(
    decl: &RecordDecl,
    mode: Mode,
    has_train: bool,
    scope: &RecordScope,
    diags: &mut Vec<Diagnostic>,
) -> Option<Record> {
    let n = diags.len();
    let what_name = decl.what.name.as_str();
    let what = match what_name {
        "spikes" => Recordable::Spikes,
        "activation" => Recordable::Activation,
        "weight" | "weights" => Recordable::Weight,
        "loss" => Recordable::Loss,
        "accuracy" => Recordable::Accuracy,
        other => Recordable::State(other.to_string()),
    };
    let mode_error = |diags: &mut Vec<Diagnostic>, needs: Mode, help: &str| {
        diags.push(
            Diagnostic::error(
                "E0505",
                format!(
                    "`record {what_name}` needs a {} network, this one is {}",
                    needs.name(),
                    mode.name()
                ),
            )
            .with_label(decl.what.span, format!("only in {} networks", needs.name()))
            .with_help(help.to_string()),
        );
    };
    match &what {
        Recordable::Spikes if mode == Mode::Rate => mode_error(
            diags,
            Mode::Spiking,
            "rate units do not spike: `record activation of ...`",
        ),
        Recordable::Activation if mode == Mode::Spiking => mode_error(
            diags,
            Mode::Rate,
            "record `spikes` or a state variable such as `v`",
        ),
        Recordable::Loss | Recordable::Accuracy => {
            if mode == Mode::Spiking {
                mode_error(
                    diags,
                    Mode::Rate,
                    "training curves exist only where there is training",
                );
            } else if !decl.targets.is_empty() {
                diags.push(
                    Diagnostic::error("E0505", format!("`record {what_name}` takes no `of ...`"))
                        .with_label(decl.span, "the training curve belongs to the whole network")
                        .with_help(format!("write `record {what_name} every 1 epoch`")),
                );
            } else if !has_train {
                diags.push(
                    Diagnostic::error(
                        "E0505",
                        format!("`record {what_name}` without `train {{ ... }}`"),
                    )
                    .with_label(decl.what.span, "nothing is trained in this network"),
                );
            }
        }
        _ => {}
    }
    if decl.targets.is_empty() && !matches!(what, Recordable::Loss | Recordable::Accuracy) {
        let mut d = Diagnostic::error("E0505", format!("`record {what_name}` needs `of TARGETS`"))
            .with_label(decl.span, "record what of which population?");
        if let Recordable::State(s) = &what
            && let Some(x) = suggest(s, ["loss", "accuracy"])
        {
            d = Diagnostic::error("E0111", format!("unknown recordable `{s}`"))
                .with_label(decl.what.span, "not something that can be recorded")
                .with_help(format!("did you mean `{x}`?"));
        }
        diags.push(d);
    }

    let mut targets = Vec::new();
    for t in &decl.targets {
        match t {
            Target::Population { name, slice, span } => {
                let Some(pop) = scope.populations.iter().find(|p| p.name == name.name) else {
                    if !scope.declared.contains(&name.name.as_str()) {
                        diags.push(super::names::unknown(
                            "E0101",
                            "population",
                            name,
                            scope.declared,
                        ));
                    }
                    continue;
                };
                if what == Recordable::Weight {
                    diags.push(
                        Diagnostic::error(
                            "E0505",
                            "`record weight` names a projection, not a population",
                        )
                        .with_label(*span, "a population")
                        .with_help(format!("write `record weight of {} -> TARGET`", name.name)),
                    );
                    continue;
                }
                if let Recordable::State(var) = &what
                    && !pop.info.state.iter().any(|s| s.name == var)
                {
                    let mut known: Vec<&str> = pop.info.state.iter().map(|s| s.name).collect();
                    known.extend(RECORDABLES);
                    let mut d = Diagnostic::error(
                        "E0111",
                        format!(
                            "`{var}` is not a state variable of {} (`{}`)",
                            pop.info.name, pop.name
                        ),
                    )
                    .with_label(decl.what.span, "cannot be recorded here");
                    match suggest(var, known.iter().copied()) {
                        Some(x) => d = d.with_help(format!("did you mean `{x}`?")),
                        None => {
                            d = d.with_note(format!(
                                "{} records: {}",
                                pop.info.name,
                                known.join(", ")
                            ))
                        }
                    }
                    diags.push(d);
                    continue;
                }
                if what == Recordable::Spikes && !pop.info.spikes {
                    diags.push(
                        Diagnostic::error(
                            "E0505",
                            format!("`{}` ({}) does not spike", pop.name, pop.info.name),
                        )
                        .with_label(*span, "no spikes here"),
                    );
                    continue;
                }
                let range = match slice {
                    None => None,
                    Some(s) => {
                        let start = eval(&s.start, diags).and_then(|v| {
                            integer("slice start", Range::NonNegative, v, s.start.span, diags)
                        });
                        let end = match &s.end {
                            Some(e) => eval(e, diags).and_then(|v| {
                                integer("slice end", Range::NonNegative, v, e.span, diags)
                            }),
                            None => start.map(|x| x + 1.0),
                        };
                        let (Some(start), Some(end)) = (start, end) else {
                            continue;
                        };
                        let (start, end) = (start as usize, end as usize);
                        if start >= end || end > pop.size() {
                            diags.push(
                                Diagnostic::error(
                                    "E0405",
                                    format!(
                                        "slice {start}..{end} is outside `{}` (0..{})",
                                        pop.name,
                                        pop.size()
                                    ),
                                )
                                .with_label(
                                    s.span,
                                    if start >= end {
                                        "empty slice".to_string()
                                    } else {
                                        format!("`{}` has {} neurons", pop.name, pop.size())
                                    },
                                ),
                            );
                            continue;
                        }
                        Some((start, end))
                    }
                };
                targets.push(RecordTarget::Population { id: pop.id, range });
            }
            Target::Projection {
                source,
                arrow,
                target,
                span,
            } => {
                let directed = *arrow == crate::lang::ast::Arrow::Directed;
                let found: Vec<ProjectionId> = scope
                    .projections
                    .iter()
                    .filter(|(s, d, t, _)| {
                        *d == directed
                            && ((s == &source.name && t == &target.name)
                                || (!directed && s == &target.name && t == &source.name))
                    })
                    .map(|p| p.3)
                    .collect();
                if found.is_empty() {
                    let known: Vec<String> = scope
                        .projections
                        .iter()
                        .map(|(s, d, t, _)| format!("{s} {} {t}", if *d { "->" } else { "--" }))
                        .collect();
                    let wanted = format!("{} {} {}", source.name, arrow.symbol(), target.name);
                    let mut d = Diagnostic::error(
                        "E0101",
                        format!("no projection `{wanted}` in this network"),
                    )
                    .with_label(*span, "not declared");
                    if let Some(x) = suggest(&wanted, known.iter().map(String::as_str)) {
                        d = d.with_help(format!("did you mean `{x}`?"));
                    }
                    diags.push(d);
                    continue;
                }
                if what != Recordable::Weight {
                    diags.push(
                        Diagnostic::error(
                            "E0505",
                            format!(
                                "only `weight` can be recorded of a projection, not `{what_name}`"
                            ),
                        )
                        .with_label(*span, "a projection"),
                    );
                    continue;
                }
                targets.extend(found.into_iter().map(RecordTarget::Projection));
            }
        }
    }

    let every = match &decl.every {
        None => None,
        Some(e) => interval(e, mode, diags),
    };
    if let (Some(Interval::Time(_)), Recordable::Loss | Recordable::Accuracy) = (&every, &what) {
        diags.push(
            Diagnostic::error("E0201", "training curves are sampled per epoch")
                .with_label(decl.every.as_ref().map_or(decl.span, |e| e.span), "a time")
                .with_help(format!("write `record {what_name} every 1 epoch`")),
        );
    }
    let window = record_window(decl, mode, diags);
    (diags.len() == n).then_some(Record {
        what,
        targets,
        every,
        window,
        span: decl.span,
    })
}

/// `from T` / `until T`: times ≥ 0, `until` after `from`; spiking networks only.
fn record_window(decl: &RecordDecl, mode: Mode, diags: &mut Vec<Diagnostic>) -> Option<Window> {
    if decl.from.is_none() && decl.until.is_none() {
        return None;
    }
    if mode == Mode::Rate {
        let clause = decl.from.as_ref().or(decl.until.as_ref());
        let span = clause.map_or(decl.span, |e| e.span);
        let word = if decl.from.is_some() { "from" } else { "until" };
        diags.push(
            Diagnostic::error(
                "E0509",
                format!("`{word}` in a rate network: it has no simulated time"),
            )
            .with_label(span, "a recording window needs a spiking network")
            .with_help(
                "a rate network records per sample or per epoch; leave out `from` and `until`",
            ),
        );
        return None;
    }
    let time = |name: &str, e: &Expr, diags: &mut Vec<Diagnostic>| {
        let v = eval(e, diags)?;
        quantity(name, Dim::TIME, Range::NonNegative, false, v, e.span, diags)?.as_number()
    };
    let start = decl.from.as_ref().map(|e| time("from", e, diags));
    let stop = decl.until.as_ref().map(|e| time("until", e, diags));
    let (start_ms, stop_ms) = match (start, stop) {
        (Some(None), _) | (_, Some(None)) => return None,
        (start, stop) => (start.flatten().unwrap_or(0.0), stop.flatten()),
    };
    if let (Some(stop), Some(until)) = (stop_ms, &decl.until)
        && stop <= start_ms
    {
        let mut d = Diagnostic::error(
            "E0301",
            format!("the window ends at {stop} ms, not after it starts at {start_ms} ms"),
        )
        .with_label(until.span, "`until` must be after `from`");
        if let Some(from) = &decl.from {
            d = d.with_label(from.span, "starts here");
        }
        diags.push(d.with_help("a window keeps what is stamped `from <= t < until`"));
        return None;
    }
    Some(Window { start_ms, stop_ms })
}

/// What only all records and the run's duration together show: a window that starts when
/// the run is over records nothing, and the spikes of one population are kept in one window
/// (`/spikes/<population>` is one SONATA group, and a rate over it must divide by one
/// duration), so two spike records of it with different windows are refused.
pub fn record_windows(
    records: &[(&RecordDecl, Record)],
    simulate: Option<&Simulate>,
    graph: &crate::ir::Graph,
    diags: &mut Vec<Diagnostic>,
) {
    for (decl, r) in records {
        if let (Some(window), Some(sim)) = (r.window, simulate)
            && window.start_ms >= sim.duration
        {
            let span = decl.from.as_ref().map_or(decl.span, |e| e.span);
            diags.push(
                Diagnostic::error(
                    "E0301",
                    format!(
                        "the window starts at {} ms, when the run of {} ms is over",
                        window.start_ms, sim.duration
                    ),
                )
                .with_label(span, "nothing would be recorded")
                .with_label(sim.span, "the run ends here")
                .with_help("start the window earlier, or simulate for longer"),
            );
        }
    }
    let mut first: Vec<(crate::ir::PopulationId, Option<Window>, Span)> = Vec::new();
    let spike_records = records.iter().map(|(_, r)| r);
    for r in spike_records.filter(|r| r.what == Recordable::Spikes) {
        for t in &r.targets {
            let RecordTarget::Population { id, .. } = t else {
                continue;
            };
            match first.iter().find(|(p, _, _)| p == id) {
                None => first.push((*id, r.window, r.span)),
                Some((_, window, span)) if *window != r.window => {
                    let describe = |w: &Option<Window>| match w {
                        None => "the whole run".to_string(),
                        Some(Window {
                            start_ms,
                            stop_ms: None,
                        }) => format!("from {start_ms} ms"),
                        Some(Window {
                            start_ms,
                            stop_ms: Some(stop),
                        }) => format!("from {start_ms} ms until {stop} ms"),
                    };
                    let name = &graph.population(*id).name;
                    diags.push(
                        Diagnostic::error(
                            "E0510",
                            format!("the spikes of `{name}` are recorded in two different windows"),
                        )
                        .with_label(r.span, format!("{} here", describe(&r.window)))
                        .with_label(*span, format!("{} here", describe(window)))
                        .with_help(format!(
                            "the spikes of one population are kept in one window; give every \
                             `record spikes of {name}` the same `from` and `until`"
                        )),
                    );
                }
                Some(_) => {}
            }
        }
    }
}

/// `every 1 ms` (a time) or `every 2 epochs`.
fn interval(e: &Expr, mode: Mode, diags: &mut Vec<Diagnostic>) -> Option<Interval> {
    if let ExprKind::Quantity(inner, unit) = &e.kind
        && unit.factors.len() == 1
        && matches!(unit.factors[0].1.as_str(), "epoch" | "epochs")
    {
        if mode == Mode::Spiking {
            diags.push(
                Diagnostic::error("E0201", "a spiking network has no epochs")
                    .with_label(unit.span, "expected a time, e.g. `1 ms`"),
            );
            return None;
        }
        let v = eval(inner, diags)?;
        let n = integer("every", Range::Positive, v, inner.span, diags)?;
        return Some(Interval::Epochs(n as usize));
    }
    let v = eval(e, diags)?;
    if mode == Mode::Rate {
        diags.push(
            Diagnostic::error(
                "E0201",
                "a rate network has no simulated time: records are taken per epoch",
            )
            .with_label(e.span, "expected `N epoch`")
            .with_help("write `every 1 epoch`, or leave `every` out to record every sample"),
        );
        return None;
    }
    let ms = quantity("every", Dim::TIME, Range::Positive, false, v, e.span, diags)?;
    ms.as_number().map(Interval::Time)
}
