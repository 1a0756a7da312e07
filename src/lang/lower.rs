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
    Arrow, Block, DatasetDecl, Expr, ExprKind, Ident, Let, NetworkDecl, Param, PopulationDecl,
    ProjectionDecl, RecordDecl, SimulateDecl, Stmt, TrainDecl,
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
use crate::models::{Mode, ParamKind, ParamSpec, Range};
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
///
/// The steps follow the order a reader meets the parts of a network in (settings and
/// templates, populations, projections, datasets, protocol, records) and each collects its
/// own diagnostics, so one pass reports every mistake in that order; only the checks of the
/// graph as a whole wait until every part is known to be right.
pub fn lower_network(
    net: &NetworkDecl,
    file_scope: &Templates,
    overrides: &[PreparedOverride],
    used: &mut [bool],
    base: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Network> {
    let n_before = diags.len();
    let mode = network_mode(net, diags)?;
    let mut network = Network::new(net.name.name.clone(), mode);
    network.span = net.span;
    let mut overrides = Overrides {
        list: overrides,
        used,
    };
    let body = Body::of(net, diags);
    let templates = body.templates(file_scope);
    lower_settings(&mut network, &body.settings, &mut overrides, base, diags);
    for (_, l) in &body.lets {
        check_template(l, &templates, diags);
    }
    let dataset_names: Vec<String> = body.datasets.iter().map(|(n, _)| n.name.clone()).collect();
    let ctx = Ctx {
        datasets: &dataset_names,
        synapses: &templates.synapses,
        broken: &templates.broken,
    };
    let refs = lower_populations(&body, &templates, &mut overrides, &ctx, &mut network, diags);
    let declared: Vec<&str> = body.pops.iter().map(|(n, _)| n.name.as_str()).collect();
    let projections = lower_projections(
        &body,
        (&refs, &declared),
        &mut overrides,
        &ctx,
        &mut network,
        diags,
    );
    if mode == Mode::Spiking {
        check_engine_limits(&network, diags);
    }
    lower_datasets(&body, base, &ctx, &mut network, diags);
    lower_protocol(&body, &refs, &mut overrides, &ctx, &mut network, diags);
    let scope = RecordScope {
        populations: &refs,
        declared: &declared,
        projections: &projections,
    };
    lower_records(&body, &scope, &mut network, diags);
    whole_network(net, network, n_before, diags)
}

/// `: rate` or `: spiking`; any other mode (E0112) leaves nothing to lower.
fn network_mode(net: &NetworkDecl, diags: &mut Vec<Diagnostic>) -> Option<Mode> {
    match net.mode.name.as_str() {
        "rate" => Some(Mode::Rate),
        "spiking" => Some(Mode::Spiking),
        _ => {
            diags.push(
                names::unknown("E0112", "network mode", &net.mode, &["rate", "spiking"]).with_note(
                    "a network is `rate` (units, training) or `spiking` (neurons, simulation)",
                ),
            );
            None
        }
    }
}

/// The `--set` overrides of a compilation, with which of them named something so far.
struct Overrides<'a, 'u> {
    list: &'a [PreparedOverride],
    used: &'u mut [bool],
}

impl<'a> Overrides<'a, '_> {
    /// The overrides `applies` picks, in the order given, as entries to add after what the
    /// file says; each is marked used.
    fn take(&mut self, applies: impl Fn(&PreparedOverride) -> bool) -> Vec<Given<'a>> {
        let mut taken = Vec::new();
        for (i, o) in self.list.iter().enumerate() {
            if applies(o) {
                self.used[i] = true;
                taken.push(Given {
                    name: &o.param,
                    value: &o.value,
                });
            }
        }
        taken
    }

    /// The last override `applies` picks, marked used (an earlier one stays unused).
    fn take_last(
        &mut self,
        applies: impl Fn(&PreparedOverride) -> bool,
    ) -> Option<&'a PreparedOverride> {
        let (i, o) = self
            .list
            .iter()
            .enumerate()
            .rev()
            .find(|(_, o)| applies(o))?;
        self.used[i] = true;
        Some(o)
    }

    /// The overrides of the population or template `name` (`--set E.tau_m=15ms`).
    fn of(&mut self, name: &str) -> Vec<Given<'a>> {
        self.take(|o| o.target.as_deref() == Some(name))
    }
}

/// A network's statements sorted by kind, each kind in declaration order. Templates,
/// populations, datasets and settings are declared by name: a second of one name is
/// reported and left out.
struct Body<'a> {
    lets: Vec<(&'a Ident, &'a Let)>,
    settings: Vec<(&'a Ident, &'a Param)>,
    pops: Vec<(&'a Ident, &'a PopulationDecl)>,
    projs: Vec<&'a ProjectionDecl>,
    datasets: Vec<(&'a Ident, &'a DatasetDecl)>,
    trains: Vec<&'a TrainDecl>,
    evals: Vec<&'a Block>,
    sims: Vec<(&'a SimulateDecl, Span)>,
    records: Vec<&'a RecordDecl>,
}

impl<'a> Body<'a> {
    fn of(net: &'a NetworkDecl, diags: &mut Vec<Diagnostic>) -> Body<'a> {
        let mut lets = Vec::new();
        let mut settings = Vec::new();
        let mut pops = Vec::new();
        let mut datasets = Vec::new();
        let mut body = Body {
            lets: Vec::new(),
            settings: Vec::new(),
            pops: Vec::new(),
            projs: Vec::new(),
            datasets: Vec::new(),
            trains: Vec::new(),
            evals: Vec::new(),
            sims: Vec::new(),
            records: Vec::new(),
        };
        for stmt in &net.body {
            match stmt {
                Stmt::Let(l) => lets.push(l),
                Stmt::Setting(p) => settings.push(p),
                Stmt::Population(p) => pops.push(p),
                Stmt::Projection(p) => body.projs.push(p),
                Stmt::Dataset(d) => datasets.push(d),
                Stmt::Train(b) => body.trains.push(b),
                Stmt::Evaluate(b) => body.evals.push(b),
                Stmt::Simulate(s) => body.sims.push((s, stmt_span(stmt))),
                Stmt::Record(r) => body.records.push(r),
                // Resolved into the other statements by `check::values`.
                Stmt::Const(_) | Stmt::Table(_) | Stmt::Connect(_) => {}
            }
        }
        body.lets = names::declare("template", lets.into_iter().map(|l| (&l.name, l)), diags);
        body.pops = names::declare("population", pops.into_iter().map(|p| (&p.name, p)), diags);
        body.datasets =
            names::declare("dataset", datasets.into_iter().map(|d| (&d.name, d)), diags);
        body.settings =
            names::declare("setting", settings.into_iter().map(|s| (&s.name, s)), diags);
        body
    }

    /// The templates in scope: the file's, then the network's own.
    fn templates(&self, file_scope: &Templates<'a>) -> Templates<'a> {
        let mut lets: Vec<&Let> = file_scope.lets.clone();
        lets.extend(self.lets.iter().map(|(_, l)| *l));
        Templates {
            lets,
            models: file_scope.models.clone(),
            synapses: file_scope.synapses.clone(),
            broken: file_scope.broken.clone(),
        }
    }
}

/// Adds the populations to the graph and returns how projections and records see them.
///
/// A population with errors in its own parameters still takes part in the checks of
/// projections and records (under an id that is never added to the graph), so their
/// mistakes are reported in the same run.
fn lower_populations(
    body: &Body,
    templates: &Templates,
    overrides: &mut Overrides,
    ctx: &Ctx,
    network: &mut Network,
    diags: &mut Vec<Diagnostic>,
) -> Vec<PopRef> {
    let mut refs = Vec::new();
    for (_, decl) in &body.pops {
        let Some((p, ok)) = population(decl, network.mode, templates, overrides, ctx, diags) else {
            continue;
        };
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
    refs
}

/// Adds the projections to the graph, one per (source, target) pair of every statement,
/// and returns them by (source, directed, target) for records to look up.
fn lower_projections(
    body: &Body,
    populations: (&[PopRef], &[&str]),
    overrides: &mut Overrides,
    ctx: &Ctx,
    network: &mut Network,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ProjectionEntry> {
    let (refs, declared) = populations;
    // Names are looked up in maps: scans per projection were quadratic.
    let mut lowered = Lowered {
        refs,
        by_name: refs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.as_str(), i))
            .collect(),
        declared,
        index: Vec::new(),
        pair_counts: HashMap::new(),
    };
    for decl in &body.projs {
        lower_projection(decl, &mut lowered, overrides, ctx, network, diags);
    }
    lowered.index
}

/// The datasets of a rate network (a spiking one has none, E0503), checked against the
/// populations. The rows of a GAN go to the generator, resolved with the train block.
fn lower_datasets(
    body: &Body,
    base: &Path,
    ctx: &Ctx,
    network: &mut Network,
    diags: &mut Vec<Diagnostic>,
) {
    let adversarial = body.trains.iter().any(|t| t.kind.is_some());
    for (_, decl) in &body.datasets {
        if network.mode == Mode::Spiking {
            diags.push(rate_only("dataset", decl.name.span.to(decl.span)));
            continue;
        }
        if let Some(d) = dataset::dataset(decl, base, ctx, diags) {
            check_widths(decl, &d, network, adversarial, diags);
            network.datasets.push(d);
        }
    }
}

/// `train`, `evaluate` and `simulate`: each at most once, each in the mode it belongs to,
/// and the datasets they use with the targets they need.
fn lower_protocol(
    body: &Body,
    refs: &[PopRef],
    overrides: &mut Overrides,
    ctx: &Ctx,
    network: &mut Network,
    diags: &mut Vec<Diagnostic>,
) {
    given_once("train", &body.trains, |t| t.block.span, diags);
    given_once("evaluate", &body.evals, |b| b.span, diags);
    given_once("simulate", &body.sims, |s| s.1, diags);
    if let Some(t) = body.trains.first() {
        if network.mode == Mode::Spiking {
            diags.push(rate_only("train", t.block.span));
        } else {
            // `--set train.epochs=3`: overrides of the block's options, given after it.
            let extra = overrides.of("train");
            network.train = train::train(t, extra, network.mode, ctx, refs, diags);
        }
    }
    if let Some(b) = body.evals.first() {
        if network.mode == Mode::Spiking {
            diags.push(rate_only("evaluate", b.span));
        } else {
            network.evaluate = train::evaluate(b, network.mode, ctx, diags);
        }
    }
    targets_needed(network, diags);
    lower_simulate(body, overrides, ctx, network, diags);
}

/// E0504 for every statement of a kind after the first.
fn given_once<T>(what: &str, given: &[T], span: impl Fn(&T) -> Span, diags: &mut Vec<Diagnostic>) {
    for extra in given.iter().skip(1) {
        diags.push(twice(what, span(extra), span(&given[0])));
    }
}

/// The duration a spiking network runs for (E0502 in a rate network), warning when it
/// rounds to no step at all. `--set simulate=2s` (or `simulate.duration=2s`) replaces the
/// file's duration.
fn lower_simulate(
    body: &Body,
    overrides: &mut Overrides,
    ctx: &Ctx,
    network: &mut Network,
    diags: &mut Vec<Diagnostic>,
) {
    let overridden = overrides
        .take_last(|o| {
            (o.target.is_none() && o.param.name == "simulate")
                || (o.target.as_deref() == Some("simulate") && o.param.name == "duration")
        })
        .map(|o| (SimulateDecl::Duration(o.value.clone()), o.value.span));
    let simulate = overridden
        .as_ref()
        .map(|(s, span)| (s, *span))
        .or_else(|| body.sims.first().map(|(s, span)| (*s, *span)));
    let Some((s, span)) = simulate else {
        return;
    };
    if network.mode == Mode::Rate {
        diags.push(
            Diagnostic::error(
                "E0502",
                "`simulate` runs spiking networks; this network is rate",
            )
            .with_label(span, "not in a rate network")
            .with_help("rate networks are run with `train { ... }` and `evaluate { ... }`"),
        );
        return;
    }
    network.simulate = settings::simulate(s, span, ctx, diags);
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

/// The `record` statements, each on its own and then their windows against the duration.
fn lower_records(
    body: &Body,
    scope: &RecordScope,
    network: &mut Network,
    diags: &mut Vec<Diagnostic>,
) {
    let trained = !body.trains.is_empty();
    let mut checked = Vec::new();
    for r in &body.records {
        if let Some(rec) = record::record(r, network.mode, trained, scope, diags) {
            checked.push((*r, rec));
        }
    }
    record::record_windows(&checked, network.simulate.as_ref(), &network.graph, diags);
    network
        .records
        .extend(checked.into_iter().map(|(_, rec)| rec));
}

/// The network, if nothing since `n_before` was an error. The checks of the graph as a
/// whole run only on a network whose every part is right; so does the warning that a
/// spiking network is not run, which is only worth saying about a network otherwise fine.
fn whole_network(
    net: &NetworkDecl,
    network: Network,
    n_before: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<Network> {
    let no_errors = |diags: &[Diagnostic]| diags[n_before..].iter().all(|d| !d.is_error());
    let mut ok = no_errors(diags);
    if ok && network.mode == Mode::Rate {
        training::check(&network, diags);
        ok = no_errors(diags);
    }
    if ok && network.mode == Mode::Spiking && network.simulate.is_none() {
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
        Stmt::Const(c) => c.span,
        Stmt::Table(t) => t.span,
        Stmt::Connect(c) => c.span,
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

/// The network's settings (`seed`, `dt`, `output`), `--set seed=3` and the like replacing
/// what the file says.
fn lower_settings(
    network: &mut Network,
    settings: &[(&Ident, &Param)],
    overrides: &mut Overrides,
    base: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    let written: Vec<Given> = settings.iter().map(|(_, p)| Given::from(*p)).collect();
    let set = overrides.take(|o| o.target.is_none() && SETTINGS.contains(&o.param.name.as_str()));
    let given = merge([written, set]);
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

/// Lowers one population: its model (through templates) in the network's mode, its shape,
/// and its parameters and initial state from every layer that gives them. `None` when
/// there is no model to check against; the flag is false when the population has errors
/// of its own (it still takes part in the checks of projections and records).
fn population(
    decl: &PopulationDecl,
    mode: Mode,
    templates: &Templates,
    overrides: &mut Overrides,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Population, bool)> {
    let n = diags.len();
    let resolved = names::resolve_model(&decl.model, templates, diags);
    let shape = shape(decl, diags);
    let resolved = resolved?;
    let info = resolved.info;
    if info.mode() != mode {
        diags.push(model_of_other_mode(decl, info, mode));
        return None;
    }
    let merged = layered_entries(decl, resolved, overrides, diags);
    // `v0_mean[self]` in a template: this population's entry.
    let own: Vec<Option<Expr>> = merged
        .iter()
        .map(|g| crate::lang::check::values::for_population(g.value, &decl.name.name, diags))
        .collect();
    let merged: Vec<Given> = merged
        .iter()
        .zip(&own)
        .map(|(g, e)| Given {
            name: g.name,
            value: e.as_ref().unwrap_or(g.value),
        })
        .collect();
    let mut model_given = Vec::new();
    let mut init = crate::ir::Params::new();
    for g in &merged {
        match block_entry(info, g, diags) {
            Entry::Param(_) => model_given.push(*g),
            Entry::State(name, value) => init.insert(name, value),
            Entry::Reported => {}
        }
    }
    let courses = take_time_courses(info, &mut model_given, diags);
    let mut params = check_params(info.name, info.params, &model_given, ctx, decl.span, diags);
    for (name, course) in courses {
        params.insert(name, course);
    }
    let shape = shape?;
    let size = shape.iter().product();
    check_model_rule(decl, info, size, &params, &model_given, diags);
    check_list_lengths(decl, info, size, [&params, &init], &merged, diags);
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

/// E0501 for a model of the other mode, naming the models of this one.
fn model_of_other_mode(decl: &PopulationDecl, info: &NeuronInfo, mode: Mode) -> Diagnostic {
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
    ))
}

/// A population's entries, later layers overriding earlier ones: templates (outermost
/// first, each with its own overrides), then the block, then overrides of the population
/// itself.
fn layered_entries<'a, 'o: 'a>(
    decl: &'a PopulationDecl,
    resolved: names::ResolvedModel<'a>,
    overrides: &mut Overrides<'o, '_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Given<'a>> {
    let mut layers: Vec<Vec<Given>> = Vec::new();
    for (mut layer, name) in resolved.layers.into_iter().zip(resolved.chain.iter()) {
        layer.extend(overrides.of(name));
        layers.push(layer);
    }
    layers.push(block_entries(decl.block.as_ref(), diags));
    layers.push(overrides.of(&decl.name.name));
    merge(layers)
}

/// What an entry of a population's or template's block is to its model.
enum Entry {
    /// A parameter of the model, checked with the others.
    Param(&'static ParamSpec),
    /// The initial value of a state variable, checked.
    State(&'static str, Value),
    /// A wrong initial value or a name the model does not know, reported.
    Reported,
}

/// Sorts one block entry: a parameter is left to the caller, an initial state value is
/// checked against the variable's dimension, anything else is reported (E0102).
fn block_entry(info: &'static NeuronInfo, g: &Given, diags: &mut Vec<Diagnostic>) -> Entry {
    let name = g.name.name.as_str();
    if let Some(spec) = info.params.iter().find(|s| s.name == name) {
        return Entry::Param(spec);
    }
    let Some(state) = info.state.iter().find(|s| s.name == name) else {
        let mut known: Vec<&str> = info.params.iter().map(|p| p.name).collect();
        known.extend(info.state.iter().map(|s| s.name));
        diags.push(unknown_param(g.name, info.name, &known));
        return Entry::Reported;
    };
    let value = eval(g.value, diags).and_then(|v| {
        quantity(
            state.name,
            state.dim,
            Range::Any,
            true,
            v,
            g.value.span,
            diags,
        )
    });
    match value {
        Some(value) => Entry::State(state.name, value),
        None => Entry::Reported,
    }
}

/// The model's own rule about its parameters for a population of `size` (E0301), such as
/// an attention population's heads dividing its width.
fn check_model_rule(
    decl: &PopulationDecl,
    info: &NeuronInfo,
    size: usize,
    params: &crate::ir::Params,
    given: &[Given],
    diags: &mut Vec<Diagnostic>,
) {
    let Some(check) = info.check else {
        return;
    };
    let Err(problem) = check(size, &|name| params.number(name)) else {
        return;
    };
    let at = given
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
        synapses: &templates.synapses,
        broken: &templates.broken,
    };
    for g in block_entries(template.block.as_ref(), diags) {
        // A value with `self` in it is checked with each population.
        if crate::lang::check::values::waits_for_population(g.value) {
            continue;
        }
        if let Entry::Param(spec) = block_entry(info, &g, diags) {
            let _ = crate::lang::check::params::convert(spec, g.value, &ctx, diags);
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

/// What lowering the projections of a network keeps from one statement to the next: the
/// populations by name, and the projections added so far.
struct Lowered<'p> {
    refs: &'p [PopRef],
    by_name: HashMap<&'p str, usize>,
    /// Every declared population, including those that failed their own checks.
    declared: &'p [&'p str],
    index: Vec<ProjectionEntry>,
    pair_counts: HashMap<PairKey, usize>,
}

impl Lowered<'_> {
    /// The population `id` names; an unknown name is reported (E0101), one that exists
    /// but failed its own checks is not reported again.
    fn resolve(&self, id: &Ident, diags: &mut Vec<Diagnostic>) -> Option<usize> {
        let found = self.by_name.get(id.name.as_str()).copied();
        if found.is_none() && !self.declared.contains(&id.name.as_str()) {
            diags.push(names::unknown("E0101", "population", id, self.declared));
        }
        found
    }

    /// Adds a checked projection under its name: `A->B`, then `A->B#2` for a second one of
    /// the same pair.
    fn add(
        &mut self,
        mut p: crate::ir::Projection,
        (source, directed, target): (&str, bool, &str),
        base: String,
        network: &mut Network,
    ) {
        let count = self
            .pair_counts
            .entry((source.to_string(), directed, target.to_string()))
            .or_insert(0);
        *count += 1;
        p.name = if *count == 1 {
            base
        } else {
            format!("{base}#{count}")
        };
        let id = network.graph.add_projection(p);
        self.index
            .push((source.to_string(), directed, target.to_string(), id));
    }
}

/// Lowers one projection statement: a chain `A -> B -> C` and lists `[A, B] -> C` expand
/// into one projection per (source, target) pair, each with the overrides that name it.
fn lower_projection(
    decl: &ProjectionDecl,
    lowered: &mut Lowered,
    overrides: &mut Overrides,
    ctx: &Ctx,
    network: &mut Network,
    diags: &mut Vec<Diagnostic>,
) {
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
                let (si, ti) = (lowered.resolve(s, diags), lowered.resolve(t, diags));
                let (Some(si), Some(ti)) = (si, ti) else {
                    continue;
                };
                let base = format!("{}{}{}", s.name, arrow.symbol(), t.name);
                let reversed = format!("{}--{}", t.name, s.name);
                let (connector_overrides, block_overrides): (Vec<_>, Vec<_>) = overrides
                    .take(|o| names_pair(o, &base, (!directed).then_some(&reversed)))
                    .into_iter()
                    .partition(|g| connector_params.contains(&g.name.name.as_str()));
                let h = Hop {
                    source: &lowered.refs[si],
                    target: &lowered.refs[ti],
                    directed,
                    decl,
                    block: merge([block.clone(), block_overrides]),
                    connector_overrides,
                };
                let placeholder = PopulationId(u32::MAX);
                if let Some(p) = connectivity::projection(&h, network.mode, ctx, diags)
                    && p.source != placeholder
                    && p.target != placeholder
                {
                    lowered.add(p, (&s.name, directed, &t.name), base, network);
                }
            }
        }
    }
}

/// Whether override `o` names the pair `name` (`--set "A->B.weight=..."`, spaces allowed),
/// or, for an undirected pair, its `reversed` name.
fn names_pair(o: &PreparedOverride, name: &str, reversed: Option<&String>) -> bool {
    let Some(target) = o.target.as_deref() else {
        return false;
    };
    let plain: String = target.split_whitespace().collect();
    plain == name || reversed.is_some_and(|r| plain == *r)
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
