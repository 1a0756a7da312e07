//! The rate-mode protocol blocks as written: `train { ... }` (plain or `train adversarial`)
//! and `evaluate { ... }`, with their option tables, the options that need one another, and
//! the typed `ir::Train`/`ir::Evaluate` they become. What training needs of the lowered
//! network as a whole (outputs, gradient path, recurrence) is checked later, in `training.rs`.
//!
//! The tables below define the language's blocks; optimizer and schedule parameters come
//! from `crate::models` only.

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{Adversarial, EarlyStopping, Evaluate, Params, Train, TrainOptions, Value};
use crate::lang::ast::{Block, ExprKind, Ident, TrainDecl};
use crate::lang::check::connectivity::PopRef;
use crate::lang::check::names;
use crate::lang::check::params::{Ctx, Given, block_entries, check_params_with, merge};
use crate::models::schedule::Schedule;
use crate::models::{Mode, ParamKind, ParamSpec, Range, loss};
use crate::units::Dim;

/// Metrics `evaluate` can report.
pub const METRICS: &[&str] = &["accuracy", "loss", "overlap", "mmd"];

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
        name: "shuffle",
        kind: ParamKind::Flag { default: true },
        doc: "draw the batches of each epoch in a new seeded order (PyTorch's DataLoader(shuffle=True))",
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
        shuffle: p.flag("shuffle") != Some(false),
        options: train_options(&p),
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
pub(super) fn needs_option(g: &Given, message: &str, label: &str, help: &str) -> Diagnostic {
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

/// The default optimizer (plain SGD) with its registry defaults: what `train` uses when a
/// loss is given and no optimizer.
fn default_optimizer() -> crate::ir::Call {
    let info = crate::models::optimizer::DEFAULT;
    let mut args = Params::new();
    for spec in info.params {
        match spec.kind {
            ParamKind::Quantity {
                default: Some(d), ..
            } => args.insert(spec.name, Value::Number(d)),
            ParamKind::Flag { default } => args.insert(spec.name, Value::Bool(default)),
            _ => {}
        }
    }
    crate::ir::Call {
        name: info.name.into(),
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
