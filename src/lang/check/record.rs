//! `record WHAT of TARGETS every N from T until T`: what can be recorded of which population
//! or projection in which mode, sampling intervals and recording windows, and what only all
//! records together show (one spike window per population).

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{Interval, ProjectionId, Record, RecordTarget, Recordable, Simulate, Window};
use crate::lang::ast::{Arrow, Expr, ExprKind, Ident, RecordDecl, Slice, Target};
use crate::lang::check::connectivity::PopRef;
use crate::lang::check::params::{integer, quantity};
use crate::lang::check::units::eval;
use crate::models::{Mode, Range};
use crate::units::Dim;

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
    let what = recordable(decl, mode, has_train, diags);
    let wanted = Wanted {
        what: &what,
        name: what_name,
        span: decl.what.span,
    };
    let mut targets = Vec::new();
    for t in &decl.targets {
        match t {
            Target::Population { name, slice, span } => targets.extend(population_target(
                &wanted,
                name,
                slice.as_ref(),
                *span,
                scope,
                diags,
            )),
            Target::Projection {
                source,
                arrow,
                target,
                span,
            } => targets.extend(projection_targets(
                &wanted, source, *arrow, target, *span, scope, diags,
            )),
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

/// What a `record` statement records, as written: the recordable, its name in the source
/// (`weights` for `weight` too) and where it stands.
struct Wanted<'a> {
    what: &'a Recordable,
    name: &'a str,
    span: Span,
}

/// What `record WHAT` names, with what the mode and the rest of the statement allow:
/// spikes in spiking networks, activations in rate networks, training curves of a whole
/// trained network, and everything else `of` some targets.
fn recordable(
    decl: &RecordDecl,
    mode: Mode,
    has_train: bool,
    diags: &mut Vec<Diagnostic>,
) -> Recordable {
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
    what
}

/// `of E` or `of E[0..10]`: a population that has what is wanted, and a slice inside it.
fn population_target(
    wanted: &Wanted,
    name: &Ident,
    slice: Option<&Slice>,
    span: Span,
    scope: &RecordScope,
    diags: &mut Vec<Diagnostic>,
) -> Option<RecordTarget> {
    let Some(pop) = scope.populations.iter().find(|p| p.name == name.name) else {
        if !scope.declared.contains(&name.name.as_str()) {
            diags.push(super::names::unknown(
                "E0101",
                "population",
                name,
                scope.declared,
            ));
        }
        return None;
    };
    if *wanted.what == Recordable::Weight {
        diags.push(
            Diagnostic::error(
                "E0505",
                "`record weight` names a projection, not a population",
            )
            .with_label(span, "a population")
            .with_help(format!("write `record weight of {} -> TARGET`", name.name)),
        );
        return None;
    }
    if let Recordable::State(var) = wanted.what
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
        .with_label(wanted.span, "cannot be recorded here");
        match suggest(var, known.iter().copied()) {
            Some(x) => d = d.with_help(format!("did you mean `{x}`?")),
            None => d = d.with_note(format!("{} records: {}", pop.info.name, known.join(", "))),
        }
        diags.push(d);
        return None;
    }
    if *wanted.what == Recordable::Spikes && !pop.info.spikes {
        diags.push(
            Diagnostic::error(
                "E0505",
                format!("`{}` ({}) does not spike", pop.name, pop.info.name),
            )
            .with_label(span, "no spikes here"),
        );
        return None;
    }
    let range = match slice {
        None => None,
        Some(s) => Some(slice_range(s, pop, diags)?),
    };
    Some(RecordTarget::Population { id: pop.id, range })
}

/// The neurons `start..end` of `E[start..end]` (or `E[i]`), inside the population.
fn slice_range(s: &Slice, pop: &PopRef, diags: &mut Vec<Diagnostic>) -> Option<(usize, usize)> {
    let start = eval(&s.start, diags)
        .and_then(|v| integer("slice start", Range::NonNegative, v, s.start.span, diags));
    let end = match &s.end {
        Some(e) => {
            eval(e, diags).and_then(|v| integer("slice end", Range::NonNegative, v, e.span, diags))
        }
        None => start.map(|x| x + 1.0),
    };
    let (Some(start), Some(end)) = (start, end) else {
        return None;
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
        return None;
    }
    Some((start, end))
}

/// `of A -> B` (or `of m -- m`, either way round): the declared projections between them,
/// of which only the weights can be recorded.
fn projection_targets(
    wanted: &Wanted,
    source: &Ident,
    arrow: Arrow,
    target: &Ident,
    span: Span,
    scope: &RecordScope,
    diags: &mut Vec<Diagnostic>,
) -> Vec<RecordTarget> {
    let directed = arrow == Arrow::Directed;
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
        let mut d = Diagnostic::error("E0101", format!("no projection `{wanted}` in this network"))
            .with_label(span, "not declared");
        if let Some(x) = suggest(&wanted, known.iter().map(String::as_str)) {
            d = d.with_help(format!("did you mean `{x}`?"));
        }
        diags.push(d);
        return Vec::new();
    }
    if *wanted.what != Recordable::Weight {
        diags.push(
            Diagnostic::error(
                "E0505",
                format!(
                    "only `weight` can be recorded of a projection, not `{}`",
                    wanted.name
                ),
            )
            .with_label(span, "a projection"),
        );
        return Vec::new();
    }
    found.into_iter().map(RecordTarget::Projection).collect()
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
