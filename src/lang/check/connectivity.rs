//! Projections: connector and its arguments (counts against population sizes), weights of
//! the dimension the target model takes, delays, receptors and plasticity rules of the
//! network's mode. Builds one `ir::Projection` per (source, target) pair.

use crate::diag::{Diagnostic, Span, suggest};
use crate::ir::{Params, Plasticity, PopulationId, Projection, Receptor, Value};
use crate::lang::ast::{Expr, Ident, ProjectionDecl};
use crate::lang::check::equations::described;
use crate::lang::check::params::{
    Ctx, Given, check_params, check_params_with, convert, mismatch, named_args, quantity,
    unknown_in_family, unknown_param,
};
use crate::lang::check::units::{Val, eval};
use crate::models::connector::grid::SpatialInfo;
use crate::models::connector::{self, COMMON_PARAMS, ConnectorInfo};
use crate::models::neuron::NeuronInfo;
use crate::models::{Mode, ParamKind, ParamSpec, Range, init, plasticity};
use crate::units::Dim;

/// A declared population, as projections and records see it.
#[derive(Debug, Clone)]
pub struct PopRef {
    pub id: PopulationId,
    pub name: String,
    pub info: &'static NeuronInfo,
    /// `[n]` or `[C, H, W]`, as declared.
    pub shape: Vec<usize>,
}

impl PopRef {
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Parameters a projection block takes (besides the connector's, which go in parentheses).
pub const PROJECTION_PARAMS: &[&str] = &["weight", "delay", "receptor", "init", "plasticity"];

/// One (source, target) pair of a projection statement, with `--set` overrides that apply.
pub struct Hop<'a> {
    pub source: &'a PopRef,
    pub target: &'a PopRef,
    pub directed: bool,
    pub decl: &'a ProjectionDecl,
    pub block: Vec<Given<'a>>,
    pub connector_overrides: Vec<Given<'a>>,
}

/// Checks one (source, target) pair of a projection statement and builds its
/// `ir::Projection`, or reports why it cannot be built. The steps run in a fixed order (the
/// connector and its arguments, the target, the block, what the block lacks, the rule), so
/// the diagnostics of a projection always come in that order; all of them run whatever the
/// earlier ones found, so one pass reports every mistake.
pub fn projection(
    hop: &Hop,
    mode: Mode,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Projection> {
    let conn = find_connector(hop.decl, diags)?;
    let (connector_args, mut ok) = connector_arguments(conn, hop, mode, ctx, diags);
    ok &= receives_synapses(hop, diags);
    let block = block_values(conn, hop, mode, ctx, diags);
    ok &= block.ok;
    ok &= weight_or_init(hop, diags);
    ok &= has_spiking_weight(hop, mode, diags);
    let plasticity = match block.plasticity {
        Some(g) => {
            let rule = plasticity_rule(&g, mode, block.weight.dim, ctx, diags);
            ok &= rule.is_some();
            rule
        }
        None => None,
    };
    // The last check: it needs the weight.
    let receptor = receptor(hop, &block, diags)?;
    ok.then(|| Projection {
        name: String::new(),
        source: hop.source.id,
        target: hop.target.id,
        directed: hop.directed,
        connector: conn,
        connector_args,
        weight: block.weight.value,
        weight_dim: block.weight.dim,
        delay: block.delay,
        receptor,
        init: block.init,
        plasticity,
        extra: Params::new(),
        span: hop.decl.span,
    })
}

/// The connector's registry entry; without one (E0106) nothing else about the projection
/// can be checked.
fn find_connector(
    decl: &ProjectionDecl,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'static ConnectorInfo> {
    let found = connector::find(&decl.connector.name);
    if found.is_none() {
        diags.push(unknown_in_family(
            "E0106",
            "connector",
            &decl.connector.name,
            decl.connector.span,
            connector::REGISTRY.iter().map(|c| c.name),
        ));
    }
    found
}

/// Every parameter the connector takes in parentheses: its own and the common ones
/// (`multapses`, `autapses`).
fn connector_specs(conn: &ConnectorInfo) -> impl Iterator<Item = &ParamSpec> {
    conn.params.iter().chain(COMMON_PARAMS)
}

/// The connector's arguments, checked, and whether they are right: their values, then (only
/// if those are right) whether they fit the two populations and, for a spatial connector,
/// the window.
fn connector_arguments(
    conn: &'static ConnectorInfo,
    hop: &Hop,
    mode: Mode,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> (Params, bool) {
    let decl = hop.decl;
    let specs: Vec<ParamSpec> = connector_specs(conn).copied().collect();
    // Leading unnamed arguments bind to the connector's positional parameters (`maxpool(2)`).
    let bound: Vec<(Ident, &Expr)> = decl
        .connector_args
        .iter()
        .flat_map(|a| a.args.iter().take_while(|a| a.name.is_none()))
        .zip(conn.positional)
        .map(|(a, &name)| {
            let ident = Ident {
                name: name.to_string(),
                span: a.span,
            };
            (ident, &a.value)
        })
        .collect();
    let mut given = named_args(decl.connector_args.as_ref(), bound.len(), conn.name, diags);
    given.extend(bound.iter().map(|(name, value)| Given { name, value }));
    for o in &hop.connector_overrides {
        given.retain(|g| g.name.name != o.name.name);
        given.push(*o);
    }
    let args_span = decl
        .connector_args
        .as_ref()
        .map_or(decl.connector.span, |a| decl.connector.span.to(a.span));
    let n_before = diags.len();
    let args = check_params_with(
        conn.name,
        &specs,
        conn.optional,
        &given,
        ctx,
        args_span,
        diags,
    );
    let mut ok = diags.len() == n_before;
    if ok {
        ok &= check_fit(conn, &args, hop.source, hop.target, args_span, diags);
    }
    if ok && let Some(spatial) = conn.spatial {
        ok &= check_window(conn.name, spatial, &args, hop, mode, args_span, diags);
    }
    (args, ok)
}

/// E0404 for a target that takes no synaptic input (a `poisson` source).
fn receives_synapses(hop: &Hop, diags: &mut Vec<Diagnostic>) -> bool {
    let target = hop.target;
    if target.info.accepts_input() {
        return true;
    }
    diags.push(
        Diagnostic::error(
            "E0404",
            format!(
                "`{}` is a {} population: it cannot receive synapses",
                target.name, target.info.name
            ),
        )
        .with_label(hop.decl.span, format!("projects into `{}`", target.name))
        .with_note(format!("{}: {}", target.info.name, target.info.summary)),
    );
    false
}

/// The weight as the block gives it: the value, its dimension (what the target model and a
/// spiking rule's `w_max` are checked against) and its mean (what the receptor defaults by).
struct Weight {
    value: Option<Value>,
    dim: Dim,
    mean: f64,
}

/// What a projection's block gives, each entry checked on its own; `ok` is false if any
/// entry was wrong. The rule is only found here: it is checked once the weight is known.
struct BlockValues<'a> {
    weight: Weight,
    delay: Option<Value>,
    /// `receptor = nmda`, as written, and where.
    receptor: Option<(String, Span)>,
    init: Option<String>,
    plasticity: Option<Given<'a>>,
    ok: bool,
}

/// Checks the block's entries in the order they are written.
fn block_values<'a>(
    conn: &ConnectorInfo,
    hop: &Hop<'a>,
    mode: Mode,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> BlockValues<'a> {
    let mut block = BlockValues {
        weight: Weight {
            value: None,
            dim: Dim::NONE,
            mean: 0.0,
        },
        delay: None,
        receptor: None,
        init: None,
        plasticity: None,
        ok: true,
    };
    for g in &hop.block {
        if let Some(wrong) = wrong_mode(g, mode) {
            diags.push(wrong);
            block.ok = false;
            continue;
        }
        let checked = match g.name.name.as_str() {
            "weight" => weight_value(g, hop.target, diags).map(|w| block.weight = w),
            "delay" => delay_value(g, diags).map(|d| block.delay = Some(d)),
            "receptor" => receptor_value(g, diags).map(|r| block.receptor = Some(r)),
            "init" => init_value(g, ctx, diags).map(|i| block.init = Some(i)),
            "plasticity" => {
                block.plasticity = Some(*g);
                Some(())
            }
            _ => {
                diags.push(unknown_block_entry(g, conn));
                None
            }
        };
        block.ok &= checked.is_some();
    }
    block
}

/// E0407 for an entry of the other mode: `delay` and `receptor` in a rate network, `init`
/// in a spiking one.
fn wrong_mode(g: &Given, mode: Mode) -> Option<Diagnostic> {
    let name = g.name.name.as_str();
    let needs = match (name, mode) {
        ("delay" | "receptor", Mode::Rate) => "spiking",
        ("init", Mode::Spiking) => "rate",
        _ => return None,
    };
    let help = if mode == Mode::Rate {
        "rate networks have no delays or receptor types"
    } else {
        "spiking weights are given with `weight = ...`"
    };
    Some(
        Diagnostic::error(
            "E0407",
            format!(
                "`{name}` is a {needs}-mode parameter, but this network is {}",
                mode.name()
            ),
        )
        .with_label(g.name.span, format!("not used in {} networks", mode.name()))
        .with_help(help),
    )
}

/// `delay = 1.5 ms` or a distribution per synapse, never one value per neuron (E0304).
fn delay_value(g: &Given, diags: &mut Vec<Diagnostic>) -> Option<Value> {
    let value = eval(g.value, diags).and_then(|v| {
        quantity(
            "delay",
            Dim::TIME,
            Range::NonNegative,
            true,
            v,
            g.value.span,
            diags,
        )
    })?;
    if let Value::List(_) | Value::Linear { .. } = value {
        diags.push(
            Diagnostic::error(
                "E0304",
                "`delay` takes a number or a distribution per synapse",
            )
            .with_label(g.value.span, "one value per neuron is not a delay")
            .with_help("write `delay = 1.5 ms` or `delay = uniform(1 ms, 2 ms)`"),
        );
        return None;
    }
    Some(value)
}

/// A block entry that takes one of `options`, as a parameter spec for `convert`.
fn choice(name: &'static str, options: &'static [&'static str]) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Choice {
            options,
            default: None,
        },
        doc: "",
    }
}

/// `receptor = nmda`: a name, checked against the target's receptors by [`receptor`].
fn receptor_value(g: &Given, diags: &mut Vec<Diagnostic>) -> Option<(String, Span)> {
    match eval(g.value, diags)? {
        Val::Sym(name) | Val::Str(name) => Some((name, g.value.span)),
        other => {
            diags.push(mismatch(
                "receptor",
                "the name of a receptor of the target",
                &other,
                g.value.span,
            ));
            None
        }
    }
}

/// The receptor of the target the projection feeds: the one `receptor = ...` names, else
/// `excitatory` for a weight of mean >= 0 and `inhibitory` below. It must be one the target
/// reads — E0817, or E0825 when none was named and the target reads neither of those two
/// (a user-defined model with only `on_pre ampa`, `on_pre nmda`) — and, for a user-defined
/// model, take the weight's dimension (E0817): the engine adds the weight to the variable
/// of the receptor's `on_pre` as it is.
fn receptor(hop: &Hop, block: &BlockValues, diags: &mut Vec<Diagnostic>) -> Option<Receptor> {
    let info = hop.target.info;
    let by_sign = if block.weight.mean >= 0.0 {
        Receptor::Excitatory
    } else {
        Receptor::Inhibitory
    };
    if info.receptors.is_empty() {
        // Takes no input (E0404) or runs in rate mode, where `receptor` is E0407.
        return Some(by_sign);
    }
    let (name, span) = match &block.receptor {
        Some((name, span)) => (name.as_str(), *span),
        None => (by_sign.name(), hop.decl.span),
    };
    let Some(k) = info.channel(name) else {
        diags.push(unread_receptor(hop, name, span, block.receptor.is_some()));
        return None;
    };
    let input = info.receptors[k];
    if let Some(dim) = input
        .dim
        .filter(|d| block.weight.value.is_some() && *d != block.weight.dim)
    {
        diags.push(
            Diagnostic::error(
                "E0817",
                format!(
                    "`on_pre {name}` of `{}` takes {}, this weight is {}",
                    info.name,
                    described(dim),
                    described(block.weight.dim)
                ),
            )
            .with_label(span, format!("`{}` arrives as {name}", arrow(hop)))
            .with_help("give the weight the dimension of the variable `on_pre` adds it to"),
        );
        return None;
    }
    Some(Receptor::named(input.name))
}

/// `E -> I`, as the diagnostics of one hop name it.
fn arrow(hop: &Hop) -> String {
    format!("{} -> {}", hop.source.name, hop.target.name)
}

/// E0817 for a receptor the target does not read (E0825 when the projection names none and
/// the target reads neither default), listing those it reads.
fn unread_receptor(hop: &Hop, name: &str, span: Span, named: bool) -> Diagnostic {
    let info = hop.target.info;
    let names: Vec<&str> = info.receptors.iter().map(|r| r.name).collect();
    let reads = format!("`{}` reads {}", info.name, quoted(&names));
    let reads_a_default = [Receptor::Excitatory, Receptor::Inhibitory]
        .iter()
        .any(|r| info.channel(r.name()).is_some());
    if !named && !reads_a_default {
        return Diagnostic::error(
            "E0825",
            format!("a projection onto `{}` must name its receptor", info.name),
        )
        .with_label(span, format!("`{}` gives no `receptor`", arrow(hop)))
        .with_help(format!("add `receptor = {}`; {reads}", names[0]))
        .with_note(format!(
            "without `receptor` a projection goes to `excitatory` (weight >= 0) or \
             `inhibitory`, and `{}` has neither",
            info.name
        ));
    }
    let label = if named {
        format!("not a receptor of `{}`", info.name)
    } else {
        format!(
            "`{}` arrives as {name}, the default for its weight",
            arrow(hop)
        )
    };
    let mut d = Diagnostic::error("E0817", format!("`{}` has no receptor `{name}`", info.name))
        .with_label(span, label);
    d = match suggest(name, names.iter().copied()) {
        Some(meant) if named => d.with_help(format!("did you mean `{meant}`?")),
        _ if info.receptors == crate::models::neuron::BOTH_RECEPTORS => d.with_help(
            "receptors of other names need a user-defined model with `on_pre NAME { ... }`",
        ),
        _ => d.with_help(format!(
            "add `on_pre {name} {{ ... += w }}` to `{}`, or give the projection another `receptor`",
            info.name
        )),
    };
    d.with_note(reads)
}

/// `a`, `b` and `c`.
fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `init = xavier` (or another initialiser of the registry).
fn init_value(g: &Given, ctx: &Ctx, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match convert(&choice("init", init::NAMES), g.value, ctx, diags) {
        Some(Value::Symbol(s)) => Some(s),
        _ => None,
    }
}

/// E0102 for an entry a projection block does not take, with a hint when it is an argument
/// of the connector written in the block.
fn unknown_block_entry(g: &Given, conn: &ConnectorInfo) -> Diagnostic {
    let name = g.name.name.as_str();
    let d = unknown_param(g.name, "a projection", PROJECTION_PARAMS);
    if connector_specs(conn).any(|s| s.name == name) {
        d.with_help(format!(
            "`{name}` is an argument of the connector: write `{}({name} = ...)`",
            conn.name
        ))
    } else {
        d
    }
}

/// E0407 for a block that gives both `weight` and `init`.
fn weight_or_init(hop: &Hop, diags: &mut Vec<Diagnostic>) -> bool {
    let (Some(w), Some(i)) = (
        hop.block.iter().find(|g| g.name.name == "weight"),
        hop.block.iter().find(|g| g.name.name == "init"),
    ) else {
        return true;
    };
    diags.push(
        Diagnostic::error("E0407", "give `weight` or `init`, not both")
            .with_label(w.name.span, "fixes every initial weight")
            .with_label(i.name.span, "draws the initial weights")
            .with_help("`init` names an initialiser (xavier, he, ...); `weight` gives the values"),
    );
    false
}

/// E0302 for a spiking projection without a weight (into a target that takes synapses: one
/// that takes none is reported as such).
fn has_spiking_weight(hop: &Hop, mode: Mode, diags: &mut Vec<Diagnostic>) -> bool {
    let target = hop.target;
    let weight_given = hop.block.iter().any(|g| g.name.name == "weight");
    if mode != Mode::Spiking || weight_given || !target.info.accepts_input() {
        return true;
    }
    diags.push(
        Diagnostic::error(
            "E0302",
            format!("missing `weight` for the projection {}", pair_name(hop)),
        )
        .with_label(hop.decl.span, "every spiking projection needs a weight")
        .with_help(format!(
            "add `{{ weight = ... }}`: {} onto {}",
            weight_dims(target.info),
            target.info.name
        )),
    );
    false
}

/// The dimensions a model's weights may have, for a message: `voltage or current`.
fn weight_dims(info: &NeuronInfo) -> String {
    info.weights
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(" or ")
}

fn pair_name(hop: &Hop) -> String {
    format!(
        "{}{}{}",
        hop.source.name,
        if hop.directed { "->" } else { "--" },
        hop.target.name
    )
}

/// `weight = ...`: a number or a distribution of a dimension the target model takes.
fn weight_value(g: &Given, target: &PopRef, diags: &mut Vec<Diagnostic>) -> Option<Weight> {
    let allowed = target.info.weights;
    let val = eval(g.value, diags)?;
    let (dim, mean) = match &val {
        Val::Num { value, dim } => (*dim, *value),
        Val::Dist { dist, dim } => (*dim, dist.mean()),
        other => {
            diags.push(
                Diagnostic::error(
                    "E0204",
                    format!("`weight` expects a number, found {}", other.describe()),
                )
                .with_label(g.value.span, "expected a weight"),
            );
            return None;
        }
    };
    // A target that takes no input at all is reported once, as such (E0404).
    if !allowed.contains(&dim) && !allowed.is_empty() {
        let expected = weight_dims(target.info);
        let example = allowed
            .iter()
            .map(|d| format!("`{}`", d.example_unit()))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut d = Diagnostic::error(
            "E0403",
            format!(
                "a weight onto {} (`{}`) must be {expected}, found {}",
                target.info.name,
                target.name,
                dim.name()
            ),
        )
        .with_label(g.value.span, format!("this is {}", dim.name()))
        .with_help(format!("use {example}"));
        if dim == Dim::NONE {
            d = d.with_note(
                "spiking weights carry a unit; only rate-mode weights are plain numbers",
            );
        } else if target.info.mode() == Mode::Rate {
            d = d.with_help("remove the unit: rate-mode weights are plain numbers");
        }
        diags.push(d);
        return None;
    }
    let value = quantity("weight", dim, Range::Any, true, val, g.value.span, diags)?;
    Some(Weight {
        value: Some(value),
        dim,
        mean,
    })
}

/// `plasticity = stdp(...)`: the rule must belong to the network's mode; a spiking rule's
/// `w_max` has the dimension of the projection's weight.
fn plasticity_rule(
    g: &Given,
    mode: Mode,
    weight_dim: Dim,
    ctx: &Ctx,
    diags: &mut Vec<Diagnostic>,
) -> Option<Plasticity> {
    let val = eval(g.value, diags)?;
    let (name, name_span, args) = match &val {
        Val::Sym(s) => (s.clone(), g.value.span, None),
        Val::Call(c) => (c.name.name.clone(), c.name.span, Some(&c.args)),
        other => {
            diags.push(
                Diagnostic::error(
                    "E0204",
                    format!(
                        "`plasticity` expects a rule such as `stdp(...)`, found {}",
                        other.describe()
                    ),
                )
                .with_label(g.value.span, "expected a plasticity rule"),
            );
            return None;
        }
    };
    let Some(rule) = ctx.plasticity(&name) else {
        if !ctx.broken.contains(&name) {
            diags.push(unknown_in_family(
                "E0109",
                "plasticity rule",
                &name,
                name_span,
                ctx.plasticity_names().into_iter(),
            ));
        }
        return None;
    };
    if let plasticity::Learns::Events(system) = rule.learns {
        let want = system.states[system.weight].dim;
        if want != weight_dim {
            diags.push(
                Diagnostic::error(
                    "E0834",
                    format!(
                        "`{name}` keeps its weight `w` as {}, but this projection's weight is {}",
                        want.name(),
                        weight_dim.name()
                    ),
                )
                .with_label(name_span, format!("its `w` is {}", want.name()))
                .with_help(format!(
                    "write the projection's `weight` as {} (or define the synapse's `w` in the unit the target takes)",
                    want.name()
                )),
            );
            return None;
        }
    }
    if rule.mode() != mode {
        let others: Vec<&str> = plasticity::REGISTRY
            .iter()
            .filter(|r| r.mode() == mode)
            .map(|r| r.name)
            .collect();
        diags.push(
            Diagnostic::error(
                "E0406",
                format!(
                    "`{name}` is a {}-mode rule, but this network is {}",
                    rule.mode().name(),
                    mode.name()
                ),
            )
            .with_label(name_span, format!("{} rule", rule.mode().name()))
            .with_help(format!("{} rules: {}", mode.name(), others.join(", "))),
        );
        return None;
    }
    let specs: Vec<ParamSpec> = rule
        .params
        .iter()
        .map(|s| match s.kind {
            ParamKind::Quantity {
                dim: Dim::NONE,
                default,
                range,
                per_element,
            } if s.name == "w_max" && matches!(rule.learns, plasticity::Learns::PairTraces(_)) => {
                ParamSpec {
                    kind: ParamKind::Quantity {
                        dim: weight_dim,
                        default,
                        range,
                        per_element,
                    },
                    ..*s
                }
            }
            _ => *s,
        })
        .collect();
    let given = named_args(args, 0, rule.name, diags);
    let n_before = diags.len();
    let params = check_params(rule.name, &specs, &given, ctx, g.value.span, diags);
    if let plasticity::Learns::Events(system) = rule.learns
        && diags.len() == n_before
    {
        // The values are known now: a variable that would grow between events is refused
        // here rather than when the run starts. (`dt` is not known yet; a rate that uses
        // it is checked again at build time.)
        let lookup = |name: &str| params.numeric(name);
        if let Err(why) = plasticity::equations::EventRule::new(system, &lookup, 0.1) {
            diags.push(
                Diagnostic::error("E0831", "a synapse variable would not decay between events")
                    .with_label(g.value.span, why)
                    .with_help("a decaying variable has a negative rate: `dx/dt = -x / tau`"),
            );
        }
    }
    (diags.len() == n_before).then_some(Plasticity { rule, params })
}

/// A spatial connector (`conv`, `maxpool`, `avgpool`) needs a rate network, a directed
/// projection and a target shape that is exactly what its window makes of the source.
fn check_window(
    connector: &str,
    spatial: &SpatialInfo,
    args: &Params,
    hop: &Hop,
    mode: Mode,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let (source, target) = (hop.source, hop.target);
    if mode != Mode::Rate {
        diags.push(
            Diagnostic::error(
                "E0408",
                format!("`{connector}` is a rate-mode connector, but this network is spiking"),
            )
            .with_label(span, "shares one kernel over positions")
            .with_help("spiking projections take `full`, `random(p = ...)`, `fixed_indegree(k = ...)`, ..."),
        );
        return false;
    }
    if !hop.directed || source.id == target.id {
        diags.push(
            Diagnostic::error(
                "E0408",
                format!("`{connector}` needs a directed projection between two populations"),
            )
            .with_label(hop.decl.span, "undirected or onto itself")
            .with_help(format!("write `A -> B : {connector}(...)`")),
        );
        return false;
    }
    let numbers = |name: &str| args.number(name);
    match (spatial.window)(
        &source.shape,
        &target.shape,
        &numbers,
        args.symbol("padding"),
    ) {
        Ok(_) => true,
        Err(why) => {
            let shape = |p: &PopRef| {
                let dims: Vec<String> = p.shape.iter().map(|d| d.to_string()).collect();
                format!("[{}]", dims.join(", "))
            };
            diags.push(
                Diagnostic::error(
                    "E0409",
                    format!(
                        "`{connector}` from `{}` {} to `{}` {} does not fit: {why}",
                        source.name,
                        shape(source),
                        target.name,
                        shape(target)
                    ),
                )
                .with_label(span, "this window")
                .with_help(format!(
                    "declare `{}` with the shape the window makes, or change the kernel, \
                     stride or padding",
                    target.name
                )),
            );
            false
        }
    }
}

/// Asks the connector whether its arguments fit the two populations (`k` of a fixed
/// degree, `n` of fixed_total, equal sizes of one_to_one): the entry carries the rule.
fn check_fit(
    connector: &ConnectorInfo,
    args: &Params,
    source: &PopRef,
    target: &PopRef,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let lookup = |name: &str| args.number(name);
    let fit = connector::Fit {
        args: &lookup,
        multapses: args.flag("multapses") == Some(true),
        exclude_autapses: source.id == target.id && args.flag("autapses") != Some(true),
        pre: (&source.name, source.size()),
        post: (&target.name, target.size()),
    };
    match (connector.fits)(&fit) {
        Ok(()) => true,
        Err(misfit) => {
            diags.push(
                Diagnostic::error("E0401", misfit.message)
                    .with_label(span, misfit.label)
                    .with_help(misfit.help),
            );
            false
        }
    }
}
