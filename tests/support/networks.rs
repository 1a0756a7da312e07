//! Spiking networks built as `ir::Network` directly from Rust, without a `.net` file: the
//! benchmark networks (CUBA, COBA) and small helpers for tests. Shared by
//! `tests/sim_spiking.rs`, `examples/cuba_bench.rs` and `benches/spiking.rs` through `#[path]`.
#![allow(dead_code)]

use neurosim::diag::Span;
use neurosim::ir::{DistKind, Distribution, Params};
use neurosim::ir::{
    Network, Plasticity, Population, PopulationId, Projection, Receptor, Simulate, Value,
};
use neurosim::models::{Mode, connector, neuron, plasticity};
use neurosim::units::Dim;

/// A spiking network with the given seed, dt 0.1 ms, simulated for `duration_ms`.
pub fn network(name: &str, seed: u64, duration_ms: f64) -> Network {
    let mut net = Network::new(name, Mode::Spiking);
    net.seed = seed;
    net.dt = 0.1;
    net.simulate = Some(Simulate {
        duration: duration_ms,
        span: Span::default(),
    });
    net
}

pub fn uniform(low: f64, high: f64) -> Value {
    Value::Dist(Distribution {
        kind: DistKind::Uniform { low, high },
        clip: None,
        redraw: None,
    })
}

pub fn normal(mean: f64, sd: f64, clip: Option<(f64, f64)>) -> Value {
    Value::Dist(Distribution {
        kind: DistKind::Normal { mean, sd },
        clip,
        redraw: None,
    })
}

/// The parameters given for `model`; the rest take their registry defaults when the
/// population is added to the graph (`ir::Graph::add_population`).
pub fn given(params: &[(&str, Value)]) -> Params {
    let mut given = Params::new();
    for (name, value) in params {
        given.insert(*name, value.clone());
    }
    given
}

/// Adds a population of `n` neurons of the model called `model`.
pub fn add_population(
    net: &mut Network,
    name: &str,
    model: &str,
    n: usize,
    params: &[(&str, Value)],
    init: &[(&str, Value)],
) -> PopulationId {
    let info = neuron::find(model).expect("model is registered");
    let mut initial = Params::new();
    for (k, v) in init {
        initial.insert(*k, v.clone());
    }
    net.graph.add_population(Population {
        name: name.into(),
        model: info,
        shape: vec![n],
        params: given(params),
        init: initial,
        span: Span::default(),
    })
}

/// Adds a projection; `args` are the connector's numeric arguments (`p`, `k`, `n`).
#[allow(clippy::too_many_arguments)]
pub fn add_projection(
    net: &mut Network,
    source: PopulationId,
    target: PopulationId,
    connector: &str,
    args: &[(&str, f64)],
    weight: Value,
    weight_dim: Dim,
    receptor: Receptor,
    delay_ms: Option<Value>,
) -> neurosim::ir::ProjectionId {
    let info = connector::find(connector).expect("connector is registered");
    let mut connector_args = Params::new();
    connector_args.insert("autapses", Value::Bool(false));
    connector_args.insert("multapses", Value::Bool(false));
    for (k, v) in args {
        connector_args.insert(*k, Value::Number(*v));
    }
    let name = format!(
        "{}->{}",
        net.graph.population(source).name,
        net.graph.population(target).name
    );
    net.graph.add_projection(Projection {
        name,
        source,
        target,
        directed: true,
        connector: info,
        connector_args,
        weight: Some(weight),
        weight_dim,
        delay: delay_ms,
        receptor,
        init: None,
        plasticity: None,
        extra: Params::new(),
        span: Span::default(),
    })
}

/// STDP with the given parameters (the rest take their defaults when the projection is
/// added to the graph).
pub fn stdp(params: &[(&str, Value)]) -> Plasticity {
    let rule = plasticity::find("stdp").expect("stdp is registered");
    Plasticity {
        rule,
        params: given(params),
    }
}

/// CUBA (Vogels & Abbott 2005 as in Brian2's example): `n` lif neurons, 80 % excitatory,
/// connection probability `80 / n` (0.02 at n = 4000), voltage weights 1.62 mV and -9 mV.
pub fn cuba(n: usize, seed: u64, duration_ms: f64) -> Network {
    let mut net = network("cuba", seed, duration_ms);
    let cell = [
        ("tau_m", Value::Number(20.0)),
        ("v_rest", Value::Number(-49.0)),
        ("v_thresh", Value::Number(-50.0)),
        ("v_reset", Value::Number(-60.0)),
        ("tau_refrac", Value::Number(5.0)),
        ("tau_syn_e", Value::Number(5.0)),
        ("tau_syn_i", Value::Number(10.0)),
    ];
    let init = [("v", uniform(-60.0, -50.0))];
    let n_e = n * 4 / 5;
    let e = add_population(&mut net, "E", "lif", n_e, &cell, &init);
    let i = add_population(&mut net, "I", "lif", n - n_e, &cell, &init);
    let p = (80.0 / n as f64).min(1.0);
    for (source, weight, receptor) in [
        (e, 60.0 * 0.27 / 10.0, Receptor::Excitatory),
        (i, -20.0 * 4.5 / 10.0, Receptor::Inhibitory),
    ] {
        for target in [e, i] {
            add_projection(
                &mut net,
                source,
                target,
                "random",
                &[("p", p)],
                Value::Number(weight),
                Dim::VOLTAGE,
                receptor,
                None,
            );
        }
    }
    net
}

/// COBA (Brette et al. 2007 benchmark 1 as in Brian2's example): lif_cond, conductance
/// weights 6 nS (excitatory) and 67 nS (inhibitory), connection probability `80 / n`.
pub fn coba(n: usize, seed: u64, duration_ms: f64) -> Network {
    let mut net = network("coba", seed, duration_ms);
    let cell = [
        ("tau_m", Value::Number(20.0)),
        ("cm", Value::Number(200.0)),
        ("v_rest", Value::Number(-60.0)),
        ("v_thresh", Value::Number(-50.0)),
        ("v_reset", Value::Number(-60.0)),
        ("tau_refrac", Value::Number(5.0)),
        ("tau_syn_e", Value::Number(5.0)),
        ("tau_syn_i", Value::Number(10.0)),
        ("e_rev_e", Value::Number(0.0)),
        ("e_rev_i", Value::Number(-80.0)),
    ];
    let init = [
        ("v", uniform(-60.0, -50.0)),
        ("g_e", normal(4.0, 1.5, Some((0.0, f64::MAX)))),
        ("g_i", normal(20.0, 12.0, Some((0.0, f64::MAX)))),
    ];
    let n_e = n * 4 / 5;
    let e = add_population(&mut net, "E", "lif_cond", n_e, &cell, &init);
    let i = add_population(&mut net, "I", "lif_cond", n - n_e, &cell, &init);
    let p = (80.0 / n as f64).min(1.0);
    for (source, weight, receptor) in [
        (e, 6.0, Receptor::Excitatory),
        (i, 67.0, Receptor::Inhibitory),
    ] {
        for target in [e, i] {
            add_projection(
                &mut net,
                source,
                target,
                "random",
                &[("p", p)],
                Value::Number(weight),
                Dim::CONDUCTANCE,
                receptor,
                None,
            );
        }
    }
    net
}

/// Izhikevich (2003) network as in `networks/izhikevich.net`: 800 regular-spiking and 200
/// fast-spiking neurons, all-to-all, Poisson "thalamic" inputs that jump v by 20 mV.
pub fn izhikevich_network(duration_ms: f64) -> Network {
    let mut net = network("izhikevich", 2003, duration_ms);
    let e = add_population(
        &mut net,
        "E",
        "izhikevich",
        800,
        &[
            ("a", Value::Number(0.02)),
            ("b", Value::Number(0.2)),
            ("c", uniform(-65.0, -50.0)),
            ("d", uniform(2.0, 8.0)),
        ],
        &[("v", Value::Number(-65.0))],
    );
    let i = add_population(
        &mut net,
        "I",
        "izhikevich",
        200,
        &[
            ("a", uniform(0.02, 0.1)),
            ("b", uniform(0.2, 0.25)),
            ("c", Value::Number(-65.0)),
            ("d", Value::Number(2.0)),
        ],
        &[("v", Value::Number(-65.0))],
    );
    let thalamus_e = add_population(
        &mut net,
        "thalamus_E",
        "poisson",
        800,
        &[("rate", Value::Number(0.01))],
        &[],
    );
    let thalamus_i = add_population(
        &mut net,
        "thalamus_I",
        "poisson",
        200,
        &[("rate", Value::Number(0.01))],
        &[],
    );
    for (source, weight, receptor) in [
        (e, uniform(0.0, 0.5), Receptor::Excitatory),
        (i, uniform(-1.0, 0.0), Receptor::Inhibitory),
    ] {
        for target in [e, i] {
            add_projection(
                &mut net,
                source,
                target,
                "full",
                &[],
                weight.clone(),
                Dim::VOLTAGE,
                receptor,
                None,
            );
        }
    }
    for (source, target) in [(thalamus_e, e), (thalamus_i, i)] {
        add_projection(
            &mut net,
            source,
            target,
            "one_to_one",
            &[],
            Value::Number(20.0),
            Dim::VOLTAGE,
            Receptor::Excitatory,
            None,
        );
    }
    net
}
