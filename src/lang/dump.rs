//! A stable, human-readable summary of lowered networks, for snapshot tests and
//! `neurosim graph`-style listings: every population, projection, dataset, protocol block
//! and record, with parameters in internal units.

use std::fmt::Write;

use crate::ir::{
    DataSource, DistKind, Distribution, Graph, Interval, Network, Params, Projection, Record,
    RecordTarget, Recordable, Value,
};
use crate::models::Mode;

/// Summarises a network in a deterministic text form: a header line, then its
/// populations, projections, datasets, protocol and records, one part after the other.
pub fn summary(n: &Network) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "network {} : {} (seed {}, dt {} ms)",
        n.name,
        n.mode.name(),
        n.seed,
        n.dt
    );
    if let Some(o) = &n.output {
        let _ = writeln!(s, "  output {}", o.display());
    }
    populations(&mut s, n);
    projections(&mut s, n);
    for d in &n.datasets {
        let _ = writeln!(
            s,
            "  dataset {} = {} {:?}",
            d.name,
            source(&d.source),
            d.options
        );
    }
    protocol(&mut s, n);
    for r in &n.records {
        let _ = writeln!(s, "  record {}", record(r, &n.graph));
    }
    s
}

/// Every population with its model and shape, then the parameters and initial state given.
fn populations(s: &mut String, n: &Network) {
    for (id, p) in n.graph.populations() {
        let shape: Vec<String> = p.shape.iter().map(|d| d.to_string()).collect();
        let _ = writeln!(
            s,
            "  population #{} {} : {}[{}]",
            id.0,
            p.name,
            p.model.name,
            shape.join(", ")
        );
        if !p.params.0.is_empty() {
            let _ = writeln!(s, "    params {}", params(&p.params));
        }
        if !p.init.0.is_empty() {
            let _ = writeln!(s, "    init {}", params(&p.init));
        }
    }
}

/// Every projection with its pair and connector, then what its block gives.
fn projections(s: &mut String, n: &Network) {
    let g = &n.graph;
    for (id, p) in g.projections() {
        let _ = writeln!(
            s,
            "  projection #{} {} : {} #{} {} #{} via {}({})",
            id.0,
            p.name,
            g.population(p.source).name,
            p.source.0,
            if p.directed { "->" } else { "--" },
            p.target.0,
            p.connector.name,
            params(&p.connector_args)
        );
        let parts = projection_block(p, n.mode);
        if !parts.is_empty() {
            let _ = writeln!(s, "    {}", parts.join(", "));
        }
    }
}

/// A projection's weight, delay, receptor (spiking mode), initialiser and rule, as given.
fn projection_block(p: &Projection, mode: Mode) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(w) = &p.weight {
        parts.push(format!("weight {} ({})", value(w), p.weight_dim.name()));
    }
    if let Some(d) = &p.delay {
        parts.push(format!("delay {}", value(d)));
    }
    if mode == Mode::Spiking {
        parts.push(format!("receptor {}", p.receptor));
    }
    if let Some(i) = &p.init {
        parts.push(format!("init {i}"));
    }
    if let Some(pl) = &p.plasticity {
        parts.push(format!(
            "plasticity {}({})",
            pl.rule.name,
            params(&pl.params)
        ));
    }
    parts
}

/// Where a dataset's rows come from: their counts for inline rows, the files otherwise.
fn source(source: &DataSource) -> String {
    match source {
        DataSource::Inline { rows } => {
            let targets = rows
                .first()
                .and_then(|r| r.targets.as_ref())
                .map_or(0, Vec::len);
            format!(
                "inline {} rows × {} inputs → {} targets",
                rows.len(),
                rows.first().map_or(0, |r| r.inputs.len()),
                targets
            )
        }
        DataSource::Csv {
            path,
            target,
            targets,
            lengths,
        } => format!(
            "csv {} target {:?} targets {:?}{}",
            path.display(),
            target,
            targets,
            lengths
                .as_ref()
                .map_or(String::new(), |c| format!(" lengths {c:?}"))
        ),
        DataSource::Idx { images, labels } => format!(
            "idx images {} labels {:?}",
            images.display(),
            labels.as_ref().map(|l| l.display().to_string())
        ),
    }
}

/// The `train`, `evaluate` and `simulate` statements.
fn protocol(s: &mut String, n: &Network) {
    if let Some(t) = &n.train {
        let _ = writeln!(
            s,
            "  train data={} loss={:?} optimizer={} epochs={} batch={} validate={:?}",
            t.data,
            t.loss,
            t.optimizer.as_ref().map_or("none".to_string(), |c| format!(
                "{}({})",
                c.name,
                params(&c.args)
            )),
            t.epochs,
            t.batch,
            t.validate
        );
        if t.options != crate::ir::TrainOptions::default() {
            let _ = writeln!(s, "    {:?}", t.options);
        }
    }
    if let Some(e) = &n.evaluate {
        let _ = writeln!(
            s,
            "  evaluate data={} metrics={:?} steps={:?}",
            e.data, e.metrics, e.steps
        );
    }
    if let Some(sim) = &n.simulate {
        let _ = writeln!(s, "  simulate {} ms", sim.duration);
    }
}

/// A `record` statement: what, of which populations or projections, in which window, how often.
fn record(r: &Record, g: &Graph) -> String {
    let what = match &r.what {
        Recordable::State(v) => v.clone(),
        other => format!("{other:?}").to_lowercase(),
    };
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| match t {
            RecordTarget::Population { id, range: None } => g.population(*id).name.clone(),
            RecordTarget::Population {
                id,
                range: Some((a, b)),
            } => {
                format!("{}[{a}..{b}]", g.population(*id).name)
            }
            RecordTarget::Projection(id) => g.projection(*id).name.clone(),
        })
        .collect();
    let every = match r.every {
        None => String::new(),
        Some(Interval::Time(ms)) => format!(" every {ms} ms"),
        Some(Interval::Epochs(e)) => format!(" every {e} epoch"),
    };
    let of = if targets.is_empty() {
        String::new()
    } else {
        format!(" of {}", targets.join(", "))
    };
    let window = match r.window {
        None => String::new(),
        Some(w) => {
            let until = w
                .stop_ms
                .map(|t| format!(" until {t} ms"))
                .unwrap_or_default();
            format!(" from {} ms{until}", w.start_ms)
        }
    };
    format!("{what}{of}{window}{every}")
}

fn params(p: &Params) -> String {
    p.iter()
        .map(|(k, v)| format!("{k}={}", value(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn value(v: &Value) -> String {
    match v {
        Value::Number(x) if x.abs() >= 1e15 => format!("{x:e}"),
        Value::Number(x) => format!("{x}"),
        Value::Bool(b) => b.to_string(),
        Value::Symbol(s) => s.clone(),
        Value::Str(s) => format!("{s:?}"),
        Value::Dist(d) => dist(d),
        Value::Linear { low, high } => format!("linspace({low}, {high})"),
        Value::Timed(c) => format!(
            "{}(times={:?}, values={:?})",
            if c.ramp { "ramp" } else { "steps" },
            c.times,
            c.values
        ),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(value).collect::<Vec<_>>().join(", ")
        ),
        Value::Call(c) => format!("{}({})", c.name, params(&c.args)),
    }
}

fn dist(d: &Distribution) -> String {
    let base = match d.kind {
        DistKind::Uniform { low, high } => format!("uniform({low}, {high})"),
        DistKind::Normal { mean, sd } => format!("normal(mean={mean}, sd={sd})"),
        DistKind::LogNormal { mean, sd } => format!("lognormal(mean={mean}, sd={sd})"),
    };
    let base = match d.redraw {
        Some((lo, hi)) => format!("{base} redraw [{lo}, {hi}]"),
        None => base,
    };
    match d.clip {
        Some((lo, hi)) => format!("{base} clip [{lo}, {hi}]"),
        None => base,
    }
}
