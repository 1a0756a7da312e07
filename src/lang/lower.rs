//! Checked AST to `ir::Network`, one per `network` block: templates resolved, defaults filled
//! in from the registries, chains and lists expanded into one projection each (named `A->B`,
//! `m--m`, `A->B#2` for a second one), paths resolved against the `.net` file's folder.
//!
//! The checks themselves live in `check/` (one file per topic); this file walks a network in
//! declaration order and calls them, so every error of a network is collected in one pass.

use std::collections::HashMap;
use std::path::Path;

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{Network, Population, PopulationId, Value};
use crate::lang::ast::{
    Arrow, DatasetDecl, Expr, ExprKind, Ident, Let, NetworkDecl, Param, PopulationDecl,
    ProjectionDecl, SimulateDecl, Stmt,
};
use crate::lang::check::connectivity::{self, Hop, PopRef};
use crate::lang::check::names::{self, Templates};
use crate::lang::check::params::{
    Ctx, Given, block_entries, check_params, merge, quantity, unknown_param,
};
use crate::lang::check::record::{self, RecordScope};
use crate::lang::check::settings::{self, SETTINGS};
use crate::lang::check::training;
use crate::lang::check::units::{Val, eval};
use crate::lang::check::{dataset, train};
use crate::models::connector::{self, COMMON_PARAMS};
use crate::models::neuron::NeuronInfo;
use crate::models::{Mode, ParamKind, Range};
use crate::units::Dim;

/// A `--set PATH=VALUE` override, parsed: `target` is `None` for network settings.
#[derive(Debug, Clone)]
pub struct PreparedOverride {
    pub path: String,
    pub target: Option<String>,
    pub param: Ident,
    pub value: Expr,
}

/// Lowers one network. `used[i]` is set when override `i` names something in it.
pub fn lower_network(
    net: &NetworkDecl,
    file_templates: &[&Let],
    overrides: &[PreparedOverride],
    used: &mut [bool],
    base: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Network> {
    let n_before = diags.len();
    let mode = match net.mode.name.as_str() {
        "rate" => Mode::Rate,
        "spiking" => Mode::Spiking,
        _ => {
            diags.push(
                names::unknown("E0112", "network mode", &net.mode, &["rate", "spiking"]).with_note(
                    "a network is `rate` (units, training) or `spiking` (neurons, simulation)",
                ),
            );
            return None;
        }
    };
    let mut network = Network::new(net.name.name.clone(), mode);
    network.span = net.span;

    let mut lets = Vec::new();
    let mut settings = Vec::new();
    let mut pops = Vec::new();
    let mut projs = Vec::new();
    let mut datasets = Vec::new();
    let mut trains = Vec::new();
    let mut evals = Vec::new();
    let mut sims = Vec::new();
    let mut records = Vec::new();
    for stmt in &net.body {
        match stmt {
            Stmt::Let(l) => lets.push(l),
            Stmt::Setting(p) => settings.push(p),
            Stmt::Population(p) => pops.push(p),
            Stmt::Projection(p) => projs.push(p),
            Stmt::Dataset(d) => datasets.push(d),
            Stmt::Train(b) => trains.push(b),
            Stmt::Evaluate(b) => evals.push(b),
            Stmt::Simulate(s) => sims.push((s, stmt_span(stmt))),
            Stmt::Record(r) => records.push(r),
        }
    }

    let lets = names::declare("template", lets.into_iter().map(|l| (&l.name, l)), diags);
    let pops = names::declare("population", pops.into_iter().map(|p| (&p.name, p)), diags);
    let datasets = names::declare("dataset", datasets.into_iter().map(|d| (&d.name, d)), diags);
    let settings = names::declare("setting", settings.into_iter().map(|s| (&s.name, s)), diags);

    let mut all_templates: Vec<&Let> = file_templates.to_vec();
    all_templates.extend(lets.iter().map(|(_, l)| *l));
    let templates = Templates {
        lets: all_templates,
    };

    lower_settings(&mut network, &settings, overrides, used, base, diags);
    for (_, l) in &lets {
        check_template(l, &templates, diags);
    }

    let dataset_names: Vec<String> = datasets.iter().map(|(n, _)| n.name.clone()).collect();
    let ctx = Ctx {
        datasets: &dataset_names,
    };

    // Populations.
    let mut refs: Vec<PopRef> = Vec::new();
    // A population with errors in its own parameters still takes part in the checks of
    // projections and records (under an id that is never added to the graph), so their
    // mistakes are reported in the same run.
    for (_, decl) in &pops {
        if let Some((p, ok)) = population(decl, mode, &templates, overrides, used, &ctx, diags) {
            let info = p.model;
            let shape = p.shape.clone();
            let id = if ok {
                network.graph.add_population(p)
            } else {
                PopulationId(u32::MAX)
            };
            refs.push(PopRef {
                id,
                name: decl.name.name.clone(),
                info,
                shape,
            });
        }
    }
    let declared: Vec<&str> = pops.iter().map(|(n, _)| n.name.as_str()).collect();

    // Projections. Names are looked up in maps: scans per projection were quadratic.
    let by_name: HashMap<&str, usize> = refs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    let mut proj_index: Vec<(String, bool, String, crate::ir::ProjectionId)> = Vec::new();
    let mut pair_counts: HashMap<(String, bool, String), usize> = HashMap::new();
    for decl in &projs {
        lower_projection(
            decl,
            mode,
            (&refs, &by_name),
            &declared,
            overrides,
            used,
            &ctx,
            &mut network,
            (&mut proj_index, &mut pair_counts),
            diags,
        );
    }

    if mode == Mode::Spiking {
        check_engine_limits(&network, diags);
    }

    // Datasets. The rows of a GAN go to the generator, resolved with the train block.
    let adversarial = trains.iter().any(|t| t.kind.is_some());
    for (_, decl) in &datasets {
        if mode == Mode::Spiking {
            diags.push(rate_only("dataset", decl.name.span.to(decl.span)));
            continue;
        }
        if let Some(d) = dataset::dataset(decl, base, &ctx, diags) {
            check_widths(decl, &d, &network, adversarial, diags);
            network.datasets.push(d);
        }
    }

    // Protocol.
    for extra in trains.iter().skip(1) {
        diags.push(twice("train", extra.block.span, trains[0].block.span));
    }
    for extra in evals.iter().skip(1) {
        diags.push(twice("evaluate", extra.span, evals[0].span));
    }
    for extra in sims.iter().skip(1) {
        diags.push(twice("simulate", extra.1, sims[0].1));
    }
    if let Some(t) = trains.first() {
        if mode == Mode::Spiking {
            diags.push(rate_only("train", t.block.span));
        } else {
            // `--set train.epochs=3`: overrides of the block's options, given after it.
            let mut extra = Vec::new();
            for (i, o) in overrides.iter().enumerate() {
                if o.target.as_deref() == Some("train") {
                    used[i] = true;
                    extra.push(Given {
                        name: &o.param,
                        value: &o.value,
                    });
                }
            }
            network.train = train::train(t, extra, mode, &ctx, &refs, diags);
        }
    }
    if let Some(b) = evals.first() {
        if mode == Mode::Spiking {
            diags.push(rate_only("evaluate", b.span));
        } else {
            network.evaluate = train::evaluate(b, mode, &ctx, diags);
        }
    }
    targets_needed(&network, diags);
    // `--set simulate=2s` (or `simulate.duration=2s`) replaces the file's duration.
    let duration_override = overrides.iter().enumerate().rev().find(|(_, o)| {
        (o.target.is_none() && o.param.name == "simulate")
            || (o.target.as_deref() == Some("simulate") && o.param.name == "duration")
    });
    let overridden = duration_override.map(|(i, o)| {
        used[i] = true;
        (SimulateDecl::Duration(o.value.clone()), o.value.span)
    });
    let simulate = overridden
        .as_ref()
        .map(|(s, span)| (s, *span))
        .or_else(|| sims.first().map(|(s, span)| (*s, *span)));
    if let Some((s, span)) = simulate {
        if mode == Mode::Rate {
            diags.push(
                Diagnostic::error(
                    "E0502",
                    "`simulate` runs spiking networks; this network is rate",
                )
                .with_label(span, "not in a rate network")
                .with_help("rate networks are run with `train { ... }` and `evaluate { ... }`"),
            );
        } else {
            network.simulate = settings::simulate(s, span, &ctx, diags);
            if let Some(sim) = &network.simulate
                && (sim.duration / network.dt).round() < 1.0
            {
                diags.push(
                    Diagnostic::warning(
                        "W0006",
                        format!(
                            "`simulate {} ms` is less than half a step of dt = {} ms: it rounds to zero steps, nothing is simulated",
                            sim.duration, network.dt
                        ),
                    )
                    .with_label(span, "runs zero steps")
                    .with_help("simulate for longer, or make `dt` smaller"),
                );
            }
        }
    }

    // Records.
    let scope = RecordScope {
        populations: &refs,
        declared: &declared,
        projections: &proj_index,
    };
    let mut checked = Vec::new();
    for r in &records {
        if let Some(rec) = record::record(r, mode, !trains.is_empty(), &scope, diags) {
            checked.push((*r, rec));
        }
    }
    record::record_windows(&checked, network.simulate.as_ref(), &network.graph, diags);
    network
        .records
        .extend(checked.into_iter().map(|(_, rec)| rec));

    let mut ok = diags[n_before..].iter().all(|d| !d.is_error());
    // The graph as a whole, once every part of it is known to be right.
    if ok && mode == Mode::Rate {
        training::check(&network, diags);
        ok = diags[n_before..].iter().all(|d| !d.is_error());
    }
    // Only worth saying about a network that is otherwise fine.
    if ok && mode == Mode::Spiking && network.simulate.is_none() {
        diags.push(
            Diagnostic::warning(
                "W0004",
                format!("network `{}` has no `simulate`", net.name.name),
            )
            .with_label(net.name.span, "will be built but not run")
            .with_help("add `simulate 1 s` (or another duration)"),
        );
    }

    ok.then_some(network)
}

/// What the engine would refuse at run time is refused here: a loss, a validation set,
/// an evaluation of loss or accuracy, or of overlap in an untrained network, on a dataset
/// without targets.
fn targets_needed(network: &Network, diags: &mut Vec<Diagnostic>) {
    let lacks = |name: &str| network.dataset(name).filter(|d| !d.source.has_targets());
    let mut report = |name: &str, why: &str, at: Span| {
        if let Some(d) = lacks(name) {
            diags.push(
                Diagnostic::error(
                    "E0511",
                    format!("dataset `{name}` has no targets, but {why} needs them"),
                )
                .with_label(at, format!("{why} on `{name}`"))
                .with_label(d.span, "rows without targets")
                .with_help(
                    "give the rows targets (`[inputs] -> [targets]`, `target = \"label\"`, \
                     `labels = \"...\"`), or measure something that needs none",
                ),
            );
        }
    };
    if let Some(t) = &network.train {
        // A GAN's rows are samples for the generator's output: they need no targets.
        if t.loss.is_some() && t.adversarial.is_none() {
            report(&t.data, "training with a loss", t.span);
        }
        if let Some(v) = &t.validate {
            report(v, "validation", t.span);
        }
    }
    if let Some(e) = &network.evaluate {
        let measured = e.metrics.iter().any(|m| m == "loss" || m == "accuracy");
        if measured {
            report(&e.data, "measuring loss or accuracy", e.span);
        }
        // Overlap compares with the stored patterns: the cues' targets, or the rows the
        // network was trained on.
        if network.train.is_none() && e.metrics.iter().any(|m| m == "overlap") {
            report(&e.data, "measuring overlap without training", e.span);
        }
    }
}

fn stmt_span(stmt: &Stmt) -> Span {
    match stmt {
        Stmt::Setting(p) => p.span,
        Stmt::Let(l) => l.span,
        Stmt::Population(p) => p.span,
        Stmt::Projection(p) => p.span,
        Stmt::Dataset(d) => d.span,
        Stmt::Train(t) => t.block.span,
        Stmt::Evaluate(b) => b.span,
        Stmt::Simulate(SimulateDecl::Duration(e)) => e.span,
        Stmt::Simulate(SimulateDecl::Block(b)) => b.span,
        Stmt::Record(r) => r.span,
    }
}

fn twice(what: &str, again: Span, first: Span) -> Diagnostic {
    Diagnostic::error("E0504", format!("`{what}` is given twice in one network"))
        .with_label(again, "given again here")
        .with_label(first, "first given here")
}

fn rate_only(what: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        "E0503",
        format!("`{what}` belongs to rate networks; this network is spiking"),
    )
    .with_label(span, "not in a spiking network")
    .with_help("a spiking network runs with `simulate DURATION`")
}

fn lower_settings(
    network: &mut Network,
    settings: &[(&Ident, &Param)],
    overrides: &[PreparedOverride],
    used: &mut [bool],
    base: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    let mut given: Vec<Given> = settings.iter().map(|(_, p)| Given::from(*p)).collect();
    for (i, o) in overrides.iter().enumerate() {
        if o.target.is_none() && SETTINGS.contains(&o.param.name.as_str()) {
            used[i] = true;
            given.retain(|g| g.name.name != o.param.name);
            given.push(Given {
                name: &o.param,
                value: &o.value,
            });
        }
    }
    for g in given {
        let span = g.value.span;
        match g.name.name.as_str() {
            "seed" => {
                if let Some(v) = eval(g.value, diags)
                    && let Some(s) = crate::lang::check::params::integer("seed", Range::NonNegative, v, span, diags)
                {
                    network.seed = s as u64;
                }
            }
            "dt" => {
                if let Some(v) = eval(g.value, diags)
                    && let Some(Value::Number(dt)) = quantity("dt", Dim::TIME, Range::Positive, false, v, span, diags)
                {
                    if network.mode == Mode::Rate {
                        diags.push(
                            Diagnostic::warning("W0002", "`dt` has no effect in a rate network")
                                .with_label(g.name.span, "ignored"),
                        );
                    }
                    network.dt = dt;
                }
            }
            "output" => match &g.value.kind {
                ExprKind::Str(s) => network.output = Some(settings::resolve_path(base, s)),
                _ => diags.push(
                    Diagnostic::error("E0204", "`output` must be a string")
                        .with_label(span, "expected a path such as \"run.h5\""),
                ),
            },
            _ => diags.push(
                unknown_param(g.name, "a network", SETTINGS)
                    .with_note("a network statement is a setting (seed, dt, output), a declaration, or a projection `A -> B : connector`"),
            ),
        }
    }
}

fn population(
    decl: &PopulationDecl,
    mode: Mode,
    templates: &Templates,
    overrides: &[PreparedOverride],
    used: &mut [bool],
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Population, bool)> {
    let n = diags.len();
    let resolved = names::resolve_model(&decl.model, templates, diags);
    let shape = shape(decl, diags);
    let resolved = resolved?;
    let info = resolved.info;
    if info.mode() != mode {
        let alternatives: Vec<&str> = crate::models::neuron::REGISTRY
            .iter()
            .filter(|m| m.mode() == mode)
            .map(|m| m.name)
            .collect();
        let via = if decl.model.name != info.name {
            format!(" (through template `{}`)", decl.model.name)
        } else {
            String::new()
        };
        diags.push(
            Diagnostic::error(
                "E0501",
                format!(
                    "`{}` is a {} model{via}, but network is {}",
                    info.name,
                    info.mode().name(),
                    mode.name()
                ),
            )
            .with_label(decl.model.span, format!("{} model", info.mode().name()))
            .with_help(format!(
                "declare the network `: {}`, or use a {} model: {}",
                info.mode().name(),
                mode.name(),
                alternatives.join(", ")
            )),
        );
        return None;
    }
    // Layers: templates (outermost first, each with its own overrides), then the block,
    // then overrides of the population itself.
    let mut layers: Vec<Vec<Given>> = Vec::new();
    for (layer, name) in resolved.layers.into_iter().zip(resolved.chain.iter()) {
        let mut layer = layer;
        for (i, o) in overrides.iter().enumerate() {
            if o.target.as_deref() == Some(name.as_str()) {
                used[i] = true;
                layer.push(Given {
                    name: &o.param,
                    value: &o.value,
                });
            }
        }
        layers.push(layer);
    }
    layers.push(block_entries(decl.block.as_ref(), diags));
    let mut own = Vec::new();
    for (i, o) in overrides.iter().enumerate() {
        if o.target.as_deref() == Some(decl.name.name.as_str()) {
            used[i] = true;
            own.push(Given {
                name: &o.param,
                value: &o.value,
            });
        }
    }
    layers.push(own);
    let merged = merge(layers);

    let is_param = |n: &str| info.params.iter().any(|s| s.name == n);
    let mut model_given = Vec::new();
    let mut init = crate::ir::Params::new();
    for g in &merged {
        let name = g.name.name.as_str();
        if is_param(name) {
            model_given.push(*g);
        } else if let Some(state) = info.state.iter().find(|s| s.name == name) {
            if let Some(v) = eval(g.value, diags)
                && let Some(v) = quantity(
                    state.name,
                    state.dim,
                    Range::Any,
                    true,
                    v,
                    g.value.span,
                    diags,
                )
            {
                init.insert(state.name, v);
            }
        } else {
            let mut known: Vec<&str> = info.params.iter().map(|p| p.name).collect();
            known.extend(info.state.iter().map(|s| s.name));
            diags.push(unknown_param(g.name, info.name, &known));
        }
    }
    let courses = take_time_courses(info, &mut model_given, diags);
    let mut params = check_params(info.name, info.params, &model_given, ctx, decl.span, diags);
    for (name, course) in courses {
        params.insert(name, course);
    }
    let shape = shape?;
    if let Some(check) = info.check
        && let Err(problem) = check(shape.iter().product(), &|name| params.number(name))
    {
        let at = model_given
            .iter()
            .find(|g| g.name.name == problem.param)
            .map_or(decl.span, |g| g.value.span);
        diags.push(
            Diagnostic::error("E0301", format!("`{}`: {}", problem.param, problem.message))
                .with_label(
                    at,
                    format!("for the {} population `{}`", info.name, decl.name.name),
                )
                .with_help(problem.help),
        );
    }
    check_list_lengths(
        decl,
        info,
        shape.iter().product(),
        [&params, &init],
        &merged,
        diags,
    );
    let ok = diags.len() == n;
    Some((
        Population {
            name: decl.name.name.clone(),
            model: info,
            shape,
            params,
            init,
            span: decl.span,
        },
        ok,
    ))
}

/// Takes `param = steps(...)` / `ramp(...)` out of `given`: checked courses in time for the
/// parameters the model lets vary (`NeuronInfo::time_varying`), E0304 for any other.
fn take_time_courses(
    info: &'static NeuronInfo,
    given: &mut Vec<Given>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(&'static str, Value)> {
    let mut courses = Vec::new();
    given.retain(|g| {
        let ExprKind::Call(call) = &g.value.kind else {
            return true;
        };
        if !matches!(call.name.name.as_str(), "steps" | "ramp") {
            return true;
        }
        let name = g.name.name.as_str();
        let spec = info.params.iter().find(|s| s.name == name);
        match spec.filter(|_| info.time_varying.contains(&name)) {
            Some(spec) => courses.extend(
                crate::lang::check::params::time_course(spec, call, diags).map(|v| (spec.name, v)),
            ),
            None => diags.push(fixed_in_time(info, name, g.value.span)),
        }
        false
    });
    courses
}

/// E0304 for a course in time where the model keeps a parameter fixed, naming the models
/// that let it vary.
fn fixed_in_time(info: &NeuronInfo, name: &str, span: Span) -> Diagnostic {
    let takers: Vec<String> = crate::models::neuron::REGISTRY
        .iter()
        .filter(|m| m.time_varying.contains(&name))
        .map(|m| format!("`{}`", m.name))
        .collect();
    let d = Diagnostic::error(
        "E0304",
        format!("`{name}` of {} cannot change in time", info.name),
    )
    .with_label(span, "a course in time is not allowed here");
    if takers.is_empty() {
        d.with_help("give one value, or one per neuron")
    } else {
        d.with_help(format!(
            "`{name}` may follow a course in {}",
            takers.join(", ")
        ))
    }
}

/// A list given for a per-neuron parameter or initial state holds one value per neuron:
/// exactly `size` (E0306). List-valued parameters (`times`) are lists of their own.
fn check_list_lengths(
    decl: &PopulationDecl,
    info: &NeuronInfo,
    size: usize,
    values: [&crate::ir::Params; 2],
    given: &[Given],
    diags: &mut Vec<Diagnostic>,
) {
    for (name, value) in values.into_iter().flat_map(|p| p.iter()) {
        let list_valued = info.params.iter().any(|s| {
            s.name == name && matches!(s.kind, ParamKind::List { .. } | ParamKind::Names { .. })
        });
        let Value::List(items) = value else { continue };
        if list_valued || items.len() == size {
            continue;
        }
        let at = given
            .iter()
            .rev()
            .find(|g| g.name.name == name)
            .map_or(decl.span, |g| g.value.span);
        diags.push(
            Diagnostic::error(
                "E0306",
                format!(
                    "`{name}` lists {} values for the {size} neurons of `{}`",
                    items.len(),
                    decl.name.name
                ),
            )
            .with_label(at, format!("{} values", items.len()))
            .with_help(format!(
                "give one value per neuron ({size}), one value for all, or \
                 `linspace(low, high)` for evenly spaced values"
            )),
        );
    }
}

/// Checks a template's own block against its model, so a mistake in a template is reported
/// even if no population uses it (and once, not once per population).
pub fn check_template(template: &Let, templates: &Templates, diags: &mut Vec<Diagnostic>) {
    let Some(resolved) = names::resolve_model(&template.model, templates, diags) else {
        return;
    };
    let info = resolved.info;
    let no_datasets: [String; 0] = [];
    let ctx = Ctx {
        datasets: &no_datasets,
    };
    for g in block_entries(template.block.as_ref(), diags) {
        let name = g.name.name.as_str();
        if let Some(spec) = info.params.iter().find(|s| s.name == name) {
            let _ = crate::lang::check::params::convert(spec, g.value, &ctx, diags);
        } else if let Some(state) = info.state.iter().find(|s| s.name == name) {
            if let Some(v) = eval(g.value, diags) {
                let _ = quantity(
                    state.name,
                    state.dim,
                    Range::Any,
                    true,
                    v,
                    g.value.span,
                    diags,
                );
            }
        } else {
            let mut known: Vec<&str> = info.params.iter().map(|p| p.name).collect();
            known.extend(info.state.iter().map(|s| s.name));
            diags.push(unknown_param(g.name, info.name, &known));
        }
    }
}

/// `[N]`, `[C, H, W]` or `[[C, H, W]]`: whole numbers above zero.
fn shape(decl: &PopulationDecl, diags: &mut Vec<Diagnostic>) -> Option<Vec<usize>> {
    let mut exprs: Vec<&Expr> = decl.shape.iter().collect();
    if let [single] = exprs.as_slice()
        && let ExprKind::List(items) = &single.kind
    {
        exprs = items.iter().collect();
    }
    if exprs.is_empty() {
        diags.push(
            Diagnostic::error("E0301", "a population needs a size")
                .with_label(decl.shape_span, "empty shape"),
        );
        return None;
    }
    let mut shape = Vec::new();
    let mut total: usize = 1;
    for e in exprs {
        let v = eval(e, diags)?;
        let n = match v {
            Val::Num {
                value,
                dim: Dim::NONE,
            } if value.fract() == 0.0 && value >= 1.0 && value <= u32::MAX as f64 => value as usize,
            Val::Num {
                value,
                dim: Dim::NONE,
            } => {
                let why = if value.fract() != 0.0 {
                    "a size is a whole number"
                } else if value < 1.0 {
                    "a population needs at least one neuron"
                } else {
                    "too large"
                };
                diags.push(
                    Diagnostic::error("E0301", format!("invalid population size {value}"))
                        .with_label(e.span, why),
                );
                return None;
            }
            other => {
                diags.push(
                    Diagnostic::error(
                        "E0204",
                        format!(
                            "a population size is a whole number, found {}",
                            other.describe()
                        ),
                    )
                    .with_label(e.span, "expected a number such as 100"),
                );
                return None;
            }
        };
        total = match total.checked_mul(n) {
            Some(t) if t <= u32::MAX as usize => t,
            _ => {
                diags.push(
                    Diagnostic::error("E0301", "population too large")
                        .with_label(decl.shape_span, "more than 4294967295 neurons"),
                );
                return None;
            }
        };
        shape.push(n);
    }
    Some(shape)
}

/// A lowered projection by (source, directed, target): what records look projections up by.
type ProjectionEntry = (String, bool, String, crate::ir::ProjectionId);
/// (source, directed, target) of a projection, for counting repeats of a pair.
type PairKey = (String, bool, String);

#[allow(clippy::too_many_arguments)]
fn lower_projection(
    decl: &ProjectionDecl,
    mode: Mode,
    (refs, by_name): (&[PopRef], &HashMap<&str, usize>),
    declared: &[&str],
    overrides: &[PreparedOverride],
    used: &mut [bool],
    ctx: &Ctx,
    network: &mut Network,
    (index, pair_counts): (&mut Vec<ProjectionEntry>, &mut HashMap<PairKey, usize>),
    diags: &mut Vec<Diagnostic>,
) {
    let resolve = |id: &Ident, diags: &mut Vec<Diagnostic>| -> Option<usize> {
        match by_name.get(id.name.as_str()) {
            Some(&i) => Some(i),
            None => {
                // A population that exists but failed its own checks is not reported again.
                if !declared.contains(&id.name.as_str()) {
                    diags.push(names::unknown("E0101", "population", id, declared));
                }
                None
            }
        }
    };
    let connector_params: Vec<&str> = connector::find(&decl.connector.name)
        .map(|c| {
            c.params
                .iter()
                .chain(COMMON_PARAMS)
                .map(|p| p.name)
                .collect()
        })
        .unwrap_or_default();
    let block = block_entries(decl.block.as_ref(), diags);
    for (hop, (arrow, _)) in decl.arrows.iter().enumerate() {
        let directed = *arrow == Arrow::Directed;
        for s in &decl.stages[hop] {
            for t in &decl.stages[hop + 1] {
                let (si, ti) = (resolve(s, diags), resolve(t, diags));
                let (Some(si), Some(ti)) = (si, ti) else {
                    continue;
                };
                let base = format!("{}{}{}", s.name, arrow.symbol(), t.name);
                let mut hop_block = block.clone();
                let mut connector_overrides = Vec::new();
                for (i, o) in overrides.iter().enumerate() {
                    let Some(target) = o.target.as_deref() else {
                        continue;
                    };
                    let plain: String = target.split_whitespace().collect();
                    let reversed = format!("{}--{}", t.name, s.name);
                    let names_this_pair = plain == base || (!directed && plain == reversed);
                    if !names_this_pair {
                        continue;
                    }
                    used[i] = true;
                    let g = Given {
                        name: &o.param,
                        value: &o.value,
                    };
                    if connector_params.contains(&o.param.name.as_str()) {
                        connector_overrides.push(g);
                    } else {
                        hop_block.retain(|b| b.name.name != o.param.name);
                        hop_block.push(g);
                    }
                }
                let h = Hop {
                    source: &refs[si],
                    target: &refs[ti],
                    directed,
                    decl,
                    block: hop_block,
                    connector_overrides,
                };
                let placeholder = PopulationId(u32::MAX);
                if let Some(mut p) = connectivity::projection(&h, mode, ctx, diags)
                    && p.source != placeholder
                    && p.target != placeholder
                {
                    let count = pair_counts
                        .entry((s.name.clone(), directed, t.name.clone()))
                        .or_insert(0);
                    *count += 1;
                    let count = *count - 1;
                    p.name = if count == 0 {
                        base
                    } else {
                        format!("{base}#{}", count + 1)
                    };
                    let id = network.graph.add_projection(p);
                    index.push((s.name.clone(), directed, t.name.clone(), id));
                }
            }
        }
    }
}

/// An inline dataset's widths must match the input population and the single output (per
/// step, for a sequence). The rows of a GAN are real samples, checked when data is loaded.
fn check_widths(
    decl: &DatasetDecl,
    d: &crate::ir::Dataset,
    network: &Network,
    adversarial: bool,
    diags: &mut Vec<Diagnostic>,
) {
    let crate::ir::DataSource::Inline { rows } = &d.source else {
        return;
    };
    let Some(first) = rows.first() else { return };
    if adversarial {
        return;
    }
    let steps = d.options.length.unwrap_or(1).max(1);
    let g = &network.graph;
    let inputs: Vec<_> = g.inputs().into_iter().map(|id| g.population(id)).collect();
    if let [input] = inputs.as_slice()
        && input.size() * steps != first.inputs.len()
    {
        diags.push(
            Diagnostic::error(
                "E0506",
                format!(
                    "dataset `{}` has {} inputs per row, but input population `{}` has {} units{}",
                    d.name,
                    first.inputs.len(),
                    input.name,
                    input.size(),
                    if steps > 1 {
                        format!(" (× {steps} steps = {})", input.size() * steps)
                    } else {
                        String::new()
                    }
                ),
            )
            .with_label(decl.span, format!("{} inputs per row", first.inputs.len()))
            .with_label(input.span, format!("{} units", input.size())),
        );
    }
    // Without an input population, rows set the state of the population of their width
    // (a Hopfield memory); one must exist.
    let width = first.inputs.len() / steps;
    if inputs.is_empty()
        && g.n_populations() > 0
        && !g.populations().any(|(_, p)| p.size() == width)
    {
        let sizes: Vec<String> = g
            .populations()
            .map(|(_, p)| format!("`{}` has {}", p.name, p.size()))
            .collect();
        diags.push(
            Diagnostic::error(
                "E0506",
                format!("dataset `{}` has {width} values per row, but no population has {width} units", d.name),
            )
            .with_label(decl.span, format!("{width} values per row"))
            .with_note(format!(
                "without an `input` population, rows set the state of the population of their width; {}",
                sizes.join(", ")
            )),
        );
    }
    let Some(targets) = &first.targets else {
        return;
    };
    let outputs: Vec<_> = g
        .populations()
        .filter(|(id, p)| {
            p.model.accepts_input() && g.outgoing(*id).is_empty() && !g.incoming(*id).is_empty()
        })
        .collect();
    if let [(_, out)] = outputs.as_slice()
        && out.size() != targets.len()
        && out.size() * steps != targets.len()
    {
        diags.push(
            Diagnostic::error(
                "E0506",
                format!(
                    "dataset `{}` has {} targets per row, but output population `{}` has {} units",
                    d.name,
                    targets.len(),
                    out.name,
                    out.size()
                ),
            )
            .with_label(decl.span, format!("{} targets per row", targets.len()))
            .with_label(out.span, format!("{} units", out.size())),
        );
    }
}

/// What the spiking engine cannot represent, reported here rather than when the run starts:
/// a delay longer than [`MAX_DELAY_STEPS`](crate::ir::network::MAX_DELAY_STEPS) steps of `dt` (the
/// largest value a distribution can draw, where it is bounded) and negative spike times.
/// Spike times need not be sorted: the engine sorts them, as Brian2's `SpikeGeneratorGroup`.
fn check_engine_limits(network: &Network, diags: &mut Vec<Diagnostic>) {
    let limit = crate::ir::network::MAX_DELAY_STEPS;
    let g = &network.graph;
    for (_, p) in g.projections() {
        let longest = match &p.delay {
            Some(Value::Number(ms)) => Some(*ms),
            Some(Value::Dist(d)) => match (d.clip, d.kind) {
                (Some((_, high)), _) | (None, crate::ir::DistKind::Uniform { high, .. }) => {
                    Some(high)
                }
                _ => None,
            },
            _ => None,
        };
        let Some(ms) = longest else { continue };
        let steps = (ms / network.dt).round().max(1.0);
        if steps > f64::from(limit) {
            diags.push(
                Diagnostic::error(
                    "E0411",
                    format!(
                        "delay of up to {ms} ms is {steps} steps of dt = {} ms; delays are limited to {limit} steps",
                        network.dt
                    ),
                )
                .with_label(p.span, "delay too long")
                .with_help(format!(
                    "at dt = {} ms the longest delay is {} ms; shorten the delay or raise `dt`",
                    network.dt,
                    (f64::from(limit) * network.dt * 1e6).round() / 1e6
                )),
            );
        }
    }
    for (_, p) in g.populations() {
        let Some(Value::List(times)) = p.params.get("times") else {
            continue;
        };
        if let Some(t) = times
            .iter()
            .filter_map(Value::as_number)
            .find(|t| !(*t >= 0.0 && t.is_finite()))
        {
            diags.push(
                Diagnostic::error(
                    "E0301",
                    format!(
                        "spike time {t} ms of `{}` is before the start (0 ms)",
                        p.name
                    ),
                )
                .with_label(p.span, "negative spike time")
                .with_help(
                    "spike times count from the start of the simulation: give times >= 0 ms",
                ),
            );
        }
    }
}

/// Reports overrides that named nothing in any network.
pub fn unused_overrides(
    overrides: &[PreparedOverride],
    used: &[bool],
    known: &[String],
    diags: &mut Vec<Diagnostic>,
) {
    for (o, u) in overrides.iter().zip(used) {
        if *u {
            continue;
        }
        let mut d = Diagnostic::error(
            "E0603",
            format!("`--set {}` names nothing in this file", o.path),
        )
        .with_label(o.param.span, "names nothing");
        let what = o.target.clone().unwrap_or_else(|| o.param.name.clone());
        let mut candidates: Vec<&str> = known.iter().map(String::as_str).collect();
        if o.target.is_none() {
            candidates.extend(SETTINGS);
            candidates.push("simulate");
        }
        match suggest(&what, candidates.iter().copied()) {
            Some(s) if o.target.is_some() => {
                d = d.with_help(format!("did you mean `{s}.{}`?", o.param.name))
            }
            Some(s) => d = d.with_help(format!("did you mean `{s}`?")),
            None => d = d.with_note("overrides name a population, template or projection and a parameter (`E.tau_m`, `E->I.weight`), or a setting (`seed`, `dt`, `output`, `simulate`)"),
        }
        diags.push(d);
    }
}
