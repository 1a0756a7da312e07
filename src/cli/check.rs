//! `neurosim check` (a one-screen summary) and `neurosim graph` (DOT or JSON).

use serde_json::{Map, Value as Json, json};

use super::args::{CheckArgs, GraphArgs, GraphFormat};
use super::memory::available_memory;
use super::source::compile;
use super::{CliError, Reported};
use crate::diag::render::render;
use crate::ir::memory::{self, human_bytes};
use crate::ir::{DistKind, Network, Value};
use crate::models::neuron::NeuronInfo;
use crate::models::plasticity::{Learns, PlasticityInfo};
use crate::units::to_unit;

pub fn check(args: &CheckArgs) -> Result<(), CliError> {
    let compiled = compile(&args.source)?;
    if !compiled.warnings.is_empty() {
        eprint!("{}", render(&compiled.warnings, &compiled.sources));
    }
    let available = available_memory();
    let mut failed = false;
    for network in &compiled.networks {
        print!("{}", summary(network));
        if let Err(diagnostic) = memory::check_fits(network, available) {
            eprint!("{}", render(&[diagnostic], &compiled.sources));
            failed = true;
        }
        let data = crate::data::check(network);
        if !data.is_empty() {
            eprint!("{}", render(&data, &compiled.sources));
            failed = true;
        }
    }
    if failed {
        return Err(CliError::Reported(Reported::InvalidModel));
    }
    println!("ok: {} is valid", compiled.path.display());
    Ok(())
}

/// The neuron and synapse models the network's file defines as equations, with what they are, the method
/// that integrates them (chosen by neurosim when the definition names none) and the
/// receptors projections may name.
fn defined_models(network: &Network) -> String {
    let builtin = |m: &NeuronInfo| {
        crate::models::neuron::REGISTRY
            .iter()
            .any(|b| std::ptr::eq(*b, m))
    };
    let mut seen: Vec<&NeuronInfo> = Vec::new();
    for (_, p) in network.graph.populations() {
        if !builtin(p.model) && !seen.iter().any(|m| std::ptr::eq(*m, p.model)) {
            seen.push(p.model);
        }
    }
    let mut synapses: Vec<&PlasticityInfo> = Vec::new();
    for (_, p) in network.graph.projections() {
        if let Some(rule) = p.plasticity.as_ref().map(|r| r.rule)
            && matches!(rule.learns, Learns::Events(_))
            && !synapses.iter().any(|s| std::ptr::eq(*s, rule))
        {
            synapses.push(rule);
        }
    }
    if seen.is_empty() && synapses.is_empty() {
        return String::new();
    }
    let mut out = String::from("  models defined in the file:\n");
    for m in seen {
        let receptors: Vec<&str> = m.receptors.iter().map(|r| r.name).collect();
        let receptors = match receptors.as_slice() {
            [] => "no receptors".to_string(),
            names => format!("receptors {}", names.join(", ")),
        };
        out += &format!("    {}: {}; {receptors}\n", m.name, m.summary);
    }
    for s in synapses {
        out += &format!("    {}: {}\n", s.name, s.summary);
    }
    out
}

/// The human summary `check` prints for one network.
pub fn summary(network: &Network) -> String {
    let estimate = memory::estimate(network);
    let g = &network.graph;
    let mut out = format!(
        "network {} ({}, seed {}",
        network.name,
        network.mode.name(),
        network.seed
    );
    if network.mode == crate::models::Mode::Spiking {
        out += &format!(", dt {} ms", network.dt);
    }
    out += ")\n  populations:\n";
    let width = g
        .populations()
        .map(|(_, p)| p.name.len())
        .max()
        .unwrap_or(0);
    for (_, p) in g.populations() {
        let shape = p
            .shape
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        out += &format!(
            "    {:width$}  {}[{}]  {} neurons\n",
            p.name,
            p.model.name,
            shape,
            group(p.size() as f64)
        );
    }
    out += &defined_models(network);
    if g.n_projections() > 0 {
        out += "  projections:\n";
        let width = g
            .projections()
            .map(|(_, p)| p.name.len())
            .max()
            .unwrap_or(0);
        for (e, (_, p)) in estimate.projections.iter().zip(g.projections()) {
            out += &format!(
                "    {:width$}  {:<24}  {:>14} synapses  {:>10}\n",
                p.name,
                connector_text(p),
                group(e.synapses.round()),
                human_bytes(e.bytes)
            );
        }
    }
    let neurons: usize = g.populations().map(|(_, p)| p.size()).sum();
    out += &format!(
        "  total: {} neurons, {} synapses, about {} of memory\n",
        group(neurons as f64),
        group(estimate.synapses().round()),
        human_bytes(estimate.total_bytes)
    );
    if let Some(sim) = &network.simulate {
        out += &format!("  simulate {} ms\n", sim.duration);
    }
    if let Some(train) = &network.train {
        out += &format!(
            "  train on {} for {} epochs (batch {})\n",
            train.data, train.epochs, train.batch
        );
    }
    if let Some(eval) = &network.evaluate {
        out += &format!(
            "  evaluate on {} ({})\n",
            eval.data,
            eval.metrics.join(", ")
        );
    }
    if !network.records.is_empty() {
        out += &format!("  {} record statement(s)\n", network.records.len());
    }
    out
}

fn connector_text(p: &crate::ir::Projection) -> String {
    let args: Vec<String> = p
        .connector_args
        .iter()
        .filter(|(k, _)| !matches!(*k, "autapses" | "multapses"))
        .map(|(k, v)| format!("{k} = {}", value_text(v)))
        .collect();
    if args.is_empty() {
        p.connector.name.to_string()
    } else {
        format!("{}({})", p.connector.name, args.join(", "))
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Number(x) => format!("{x}"),
        Value::Symbol(name) => name.clone(),
        other => value_json(other).to_string(),
    }
}

/// A number with thousands separators: 1,234,567.
fn group(x: f64) -> String {
    if !x.is_finite() || x.abs() >= 1e15 {
        return format!("{x:.3e}");
    }
    let digits = format!("{}", x.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn graph(args: &GraphArgs) -> Result<(), CliError> {
    let compiled = compile(&args.source)?;
    match args.format {
        GraphFormat::Dot => {
            for network in &compiled.networks {
                print!("{}", network.graph.to_dot(&network.name));
            }
        }
        GraphFormat::Json => {
            let networks: Vec<Json> = compiled.networks.iter().map(graph_json).collect();
            let out = if networks.len() == 1 {
                networks.into_iter().next().unwrap_or_default()
            } else {
                Json::from(networks)
            };
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
    Ok(())
}

/// The network graph as JSON: populations (nodes) and projections (edges), values in internal units.
pub fn graph_json(network: &Network) -> Json {
    let estimate = memory::estimate(network);
    let g = &network.graph;
    let populations: Vec<Json> = g
        .populations()
        .map(|(id, p)| {
            json!({
                "id": id.0, "name": p.name, "model": p.model.name, "shape": p.shape, "size": p.size(),
                "params": params_json(&p.params), "init": params_json(&p.init),
            })
        })
        .collect();
    let projections: Vec<Json> = g
        .projections()
        .zip(&estimate.projections)
        .map(|((id, p), e)| {
            let mut edge = json!({
                "id": id.0, "name": p.name, "source": g.population(p.source).name, "target": g.population(p.target).name,
                "directed": p.directed, "connector": p.connector.name, "connector_args": params_json(&p.connector_args),
                "receptor": p.receptor, "expected_synapses": e.synapses,
            });
            if let Some(w) = &p.weight {
                edge["weight"] = value_json(w);
            }
            if let Some(d) = &p.delay {
                edge["delay_ms"] = value_json(d);
            }
            if let Some(rule) = &p.plasticity {
                edge["plasticity"] = json!({ "rule": rule.rule.name, "params": params_json(&rule.params) });
            }
            if let Some(init) = &p.init {
                edge["init"] = json!(init);
            }
            edge
        })
        .collect();
    json!({
        "network": network.name, "mode": network.mode, "seed": network.seed, "dt_ms": network.dt,
        "units": "internal: ms, mV, pA, nS, pF, GOhm, 1/ms",
        "populations": populations, "projections": projections,
    })
}

fn params_json(params: &crate::ir::Params) -> Json {
    Json::Object(
        params
            .iter()
            .map(|(k, v)| (k.to_string(), value_json(v)))
            .collect::<Map<_, _>>(),
    )
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Number(x) if x.is_finite() => json!(x),
        Value::Number(_) => json!(null),
        Value::Bool(b) => json!(b),
        Value::Symbol(s) | Value::Str(s) => json!(s),
        Value::List(items) => Json::from(items.iter().map(value_json).collect::<Vec<_>>()),
        Value::Call(call) => json!({ "call": call.name, "args": params_json(&call.args) }),
        Value::Linear { low, high } => json!({ "linspace": { "low": low, "high": high } }),
        Value::Timed(c) => json!({
            if c.ramp { "ramp" } else { "steps" }: { "times": c.times, "values": c.values }
        }),
        Value::Dist(d) => {
            let mut out = match d.kind {
                DistKind::Uniform { low, high } => {
                    json!({ "uniform": { "low": low, "high": high } })
                }
                DistKind::Normal { mean, sd } => json!({ "normal": { "mean": mean, "sd": sd } }),
                DistKind::LogNormal { mean, sd } => {
                    json!({ "lognormal": { "mean": mean, "sd": sd } })
                }
            };
            if let Some((lo, hi)) = d.clip {
                out["clip"] = json!([lo, hi]);
            }
            out
        }
    }
}

/// Milliseconds to seconds for reports.
pub fn ms_to_s(ms: f64) -> f64 {
    to_unit(ms, "s").unwrap_or(ms / 1e3)
}
