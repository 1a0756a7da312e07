//! User-defined neuron models end to end: every example definition in docs/LANGUAGE.md
//! compiles, runs under Poisson drive, fires, stays finite and gives the same bits on one
//! and three threads; a parameter of a defined model is changed by `--set` like a
//! built-in's; the definitions agree with the built-in models they restate; a noisy
//! membrane has the same bits on one and two threads and the variance its `sigma` says; and
//! each receptor of the docs' four-receptor model reaches its own variable only.

use std::fs;
use std::path::Path;

use neurosim::ir::Network;
use neurosim::units::Dim;

#[path = "support/docs.rs"]
mod docs;
#[path = "support/recorded.rs"]
mod recorded;
use recorded::{differing_samples, run_on};

/// The ```-blocks of the docs' "User-defined neuron models" section that define a model.
fn documented_definitions() -> Vec<String> {
    docs::code_blocks("User-defined neuron models", "neuron ")
}

fn model_name(definition: &str) -> &str {
    docs::defined_name(definition, "neuron ")
}

fn compile(text: &str, overrides: &[&str]) -> Network {
    let networks = neurosim::testing::compile("equations.net", text, overrides)
        .unwrap_or_else(|e| panic!("does not compile: {e:?}\n{text}"));
    networks.into_iter().next().expect("one network")
}

/// A weight of `dim` strong enough to drive a neuron from 40 inputs at 20 Hz.
fn weight(dim: Dim) -> &'static str {
    if dim == Dim::VOLTAGE {
        "4 mV"
    } else if dim == Dim::CURRENT {
        "400 pA"
    } else if dim == Dim::CONDUCTANCE {
        "8 nS"
    } else {
        panic!("no test weight for {dim:?}")
    }
}

#[test]
fn every_documented_definition_runs_fires_and_is_thread_invariant() {
    let definitions = documented_definitions();
    assert!(definitions.len() >= 5, "{} definitions", definitions.len());
    for definition in &definitions {
        let name = model_name(definition);
        let probe = compile(
            &format!("{definition}\nnetwork probe : spiking {{ population P : {name}[1] }}"),
            &[],
        );
        let info = probe
            .graph
            .populations()
            .next()
            .expect("one population")
            .1
            .model;
        // The first receptor (`excitatory` where the model has one), in its dimension.
        let receptor = info.receptors[0];
        let dim = receptor.dim.unwrap_or(info.weights[0]);
        let text = format!(
            "{definition}
            network drive : spiking {{
                seed = 5
                dt = 0.1 ms
                population inputs : poisson[200] {{ rate = 20 Hz }}
                population cells : {name}[40]
                inputs -> cells : random(p = 0.2) {{ weight = {}, receptor = {} }}
                record spikes of cells
                record v of cells every 1 ms
                simulate 200 ms
            }}",
            weight(dim),
            receptor.name
        );
        let network = compile(&text, &[]);
        let one = run_on(&network, 1);
        let three = run_on(&network, 3);
        let spikes = one.spikes["cells"].times_ms.len();
        assert!(spikes > 0, "`{name}` never fired");
        assert!(spikes < 40 * 200, "`{name}` fired {spikes} times in 200 ms");
        assert_eq!(
            one.spikes, three.spikes,
            "`{name}`: spikes differ with the thread count"
        );
        for (group, series) in &one.samples {
            assert!(
                series.values.iter().all(|v| v.is_finite()),
                "`{name}`: {group}"
            );
        }
        if let Some(group) = differing_samples(&one, &three) {
            panic!("`{name}`: {group} differs with the thread count");
        }
    }
}

#[test]
fn a_defined_models_parameter_is_set_like_a_builtins() {
    let text = "neuron leaky {
            param tau = 10 ms, v_rest = -65 mV
            state v = -50 mV
            dv/dt = (v_rest - v) / tau
            on_pre excitatory { v += w }
        }
        network n : spiking {
            population P : leaky[1] { tau = 20 ms }
            record v of P every 0.1 ms
            simulate 10 ms
        }";
    // exact: v(t) = v_rest + (v0 - v_rest)·exp(-t/tau), sampled at the end of each step.
    for (overrides, tau) in [(&[][..], 20.0), (&["P.tau=5 ms"][..], 5.0)] {
        let network = compile(text, overrides);
        let recorder = run_on(&network, 1);
        let series = recorder.samples.values().next().expect("v recorded");
        for (t, v) in series.times.iter().zip(&series.values) {
            let exact = -65.0 + 15.0 * (-t / tau).exp();
            assert!(
                (f64::from(*v) - exact).abs() < 1e-4,
                "t = {t}: {v} vs {exact}"
            );
        }
    }
}

#[test]
fn definitions_of_builtin_models_agree_with_them() {
    // The rates of networks/cuba.net and networks/izhikevich.net against their versions
    // written as equations (same seed, same synapses; f64 equations against f32 built-ins,
    // so trajectories part after a while and rates agree statistically, within 3 %).
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks");
    for (builtin, equations) in [
        ("cuba.net", "cuba_equations.net"),
        ("izhikevich.net", "izhikevich_equations.net"),
    ] {
        let rates = |file: &str| {
            let text = fs::read_to_string(root.join(file)).expect("network file");
            let network = compile(&text, &["simulate.duration=500 ms"]);
            let recorder = run_on(&network, 2);
            recorder.spikes["E"].times_ms.len() as f64
        };
        let (a, b) = (rates(builtin), rates(equations));
        assert!(
            (a - b).abs() / a < 0.03,
            "{builtin}: {a} spikes of E, {equations}: {b}"
        );
    }
}

#[test]
fn a_state_that_stops_being_a_number_ends_the_run_with_an_error() {
    // An explicit method past its stability limit: dv/dt = v·v/(mV·ms) from 10 mV blows up.
    let text = "neuron runaway {
            state v = 10 mV
            dv/dt = v * v / (mV * ms)
            on_pre excitatory { v += w }
        }
        network n : spiking {
            population P : runaway[3]
            simulate 50 ms
        }";
    let network = compile(text, &[]);
    let mut observer = neurosim::sim::NullObserver;
    let error = neurosim::sim::run(
        &network,
        neurosim::sim::Start::default(),
        &neurosim::sim::RunConfig::new(1),
        &mut observer,
    )
    .expect_err("the run must not end as if the numbers were fine");
    let message = error.to_string();
    assert!(
        message.contains("`v`") && message.contains("'P'"),
        "{message}"
    );
}

#[test]
fn the_memory_estimate_counts_every_state_variable_of_a_defined_model() {
    // 24 variables in f64: 208 bytes per neuron, above the 64-byte bound of the built-ins;
    // with a noise of its own in every derivative, 24 more rows and a random stream.
    let states: Vec<String> = (0..24).map(|i| format!("x{i} = 0 mV")).collect();
    for (noise, bytes) in [
        ("", 24.0 * 8.0),
        (" + mV * xi / sqrt(ms)", 48.0 * 8.0 + 32.0),
    ] {
        let derivatives: String = (0..24)
            .map(|i| format!("dx{i}/dt = -x{i} / ms{noise}\n"))
            .collect();
        let text = format!(
            "neuron wide {{
                state {}
                {derivatives}
                on_pre excitatory {{ x0 += w }}
            }}
            network n : spiking {{ population P : wide[100000] }}",
            states.join(", ")
        );
        let network = compile(&text, &[]);
        let estimate = neurosim::ir::memory::estimate(&network);
        assert!(
            estimate.neuron_bytes >= 100_000.0 * bytes,
            "{noise}: {}",
            estimate.neuron_bytes
        );
    }
}

/// An Ornstein–Uhlenbeck membrane: stationary mean `mu`, standard deviation `sigma`.
const OU: &str = "neuron ou {
        param mu = -60 mV, sigma = 3 mV, tau = 10 ms
        state v = mu
        dv/dt = (mu - v) / tau + sigma * sqrt(2 / tau) * xi
        on_pre excitatory { v += w }
    }
    network n : spiking {
        seed = 11
        dt = 0.1 ms
        population P : ou[600]
        population Q : ou[7] { sigma = 1 mV }
        record v of P every 10 ms
        record v of Q every 10 ms
        simulate 300 ms
    }";

#[test]
fn a_noisy_membrane_is_thread_invariant_and_has_the_variance_of_its_sigma() {
    let (tau, dt) = (10.0, 0.1);
    for (overrides, sigma) in [(&[][..], 3.0), (&["P.sigma=6 mV"][..], 6.0)] {
        let network = compile(OU, overrides);
        let one = run_on(&network, 1);
        let two = run_on(&network, 2);
        if let Some(group) = differing_samples(&one, &two) {
            panic!("{group}: the noise depends on the thread count");
        }
        let series = one
            .samples
            .values()
            .find(|s| s.n_columns == 600)
            .expect("v of P");
        // Snapshots from 100 ms (ten time constants) on: 600 independent neurons, each a
        // sequence with lag-one correlation rho = (1 - dt/tau)^100 between snapshots.
        let after: Vec<f64> = series
            .times
            .iter()
            .zip(series.values.chunks(series.n_columns))
            .filter(|(t, _)| **t >= 100.0)
            .flat_map(|(_, row)| row.iter().map(|&v| f64::from(v)))
            .collect();
        let m = after.len() as f64;
        let mean = after.iter().sum::<f64>() / m;
        let var = after.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0);
        // neurosim chooses euler (additive noise): Euler–Maruyama's stationary variance
        // sigma²·2r/(1 - (1 - r)²), r = dt/tau.
        let r = dt / tau;
        let expected = sigma * sigma * 2.0 * r / (1.0 - (1.0 - r) * (1.0 - r));
        let rho = (1.0f64 - r).powi(100);
        let se_mean = (expected / m * (1.0 + rho) / (1.0 - rho)).sqrt();
        let se_var = expected * (2.0 / (m - 1.0) * (1.0 + rho * rho) / (1.0 - rho * rho)).sqrt();
        // Four standard errors: a false failure has a probability below 1e-4.
        assert!(
            (mean + 60.0).abs() < 4.0 * se_mean,
            "sigma {sigma}: mean {mean}"
        );
        assert!(
            (var - expected).abs() < 4.0 * se_var,
            "sigma {sigma}: variance {var}, expected {expected}"
        );
    }
}

/// The docs' definition of model `name`.
fn documented(name: &str) -> String {
    documented_definitions()
        .into_iter()
        .find(|d| model_name(d) == name)
        .unwrap_or_else(|| panic!("docs/LANGUAGE.md defines `{name}`"))
}

#[test]
fn each_receptor_reaches_its_own_variable_only() {
    // One spike at 1 ms through four projections, each onto one receptor of its own
    // population, and through all four onto `all` with distinct weights. A `lif` population
    // and a Poisson source in the same partitions hold 2 and 0 input channels, so groups of
    // 0, 2 and 4 channels share every ring slot (the layout `Group::input_start` gives).
    let receptors = ["ampa", "nmda", "gaba_a", "gaba_b"];
    let mut body = String::new();
    let mut records = String::new();
    for population in receptors
        .iter()
        .map(|r| format!("only_{r}"))
        .chain(["all".into()])
    {
        for var in receptors {
            records += &format!("record g_{var} of {population}\n");
        }
    }
    for (k, r) in receptors.iter().enumerate() {
        body += &format!(
            "population only_{r} : four_receptors[3]
            spike -> only_{r} : full {{ weight = 2 nS, receptor = {r} }}
            spike -> all : full {{ weight = {} nS, receptor = {r} }}
            ",
            k + 1
        );
    }
    let text = format!(
        "{}
        network receptors : spiking {{
            dt = 0.1 ms
            population noise : poisson[5] {{ rate = 50 Hz }}
            population spike : spike_source[1] {{ times = [1 ms] }}
            population all : four_receptors[2]
            population cells : lif[4]
            noise -> cells : full {{ weight = 1 mV }}
            spike -> cells : full {{ weight = -1 mV }}
            {body}
            {records}
            record v of cells
            simulate 5 ms
        }}",
        documented("four_receptors")
    );
    let network = compile(&text, &[]);
    let one = run_on(&network, 1);
    let peak = |population: &str, var: &str| -> f32 {
        let series = one
            .samples
            .iter()
            .find(|(path, _)| path.ends_with(&format!("{population}/{var}")))
            .unwrap_or_else(|| panic!("{population}/{var} recorded: {:?}", one.samples.keys()))
            .1;
        series.values.iter().fold(0.0, |m: f32, &x| m.max(x.abs()))
    };
    for r in receptors {
        for var in receptors {
            let moved = peak(&format!("only_{r}"), &format!("g_{var}"));
            if var == r {
                // The spike arrives in step 11 and is added at its end: the peak is the weight.
                assert!((moved - 2.0).abs() < 1e-6, "{r} -> g_{var}: {moved}");
            } else {
                assert_eq!(moved, 0.0, "receptor {r} moved g_{var}");
            }
        }
    }
    for (k, r) in receptors.iter().enumerate() {
        let moved = peak("all", &format!("g_{r}"));
        let weight = (k + 1) as f32;
        assert!((moved - weight).abs() < 1e-6, "all: g_{r} peaks at {moved}");
    }
    for threads in [2, 3] {
        let other = run_on(&network, threads);
        for (path, series) in &one.samples {
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&series.values),
                bits(&other.samples[path].values),
                "{path} differs on {threads} threads"
            );
        }
    }
}

#[test]
fn the_memory_estimate_counts_a_ring_channel_per_receptor() {
    // A 10 ms delay at 0.1 ms steps: rings of 128 slots. Four receptors hold 4 · 128 f32
    // per neuron, `lif_cond`'s two 2 · 128 and a source none; the 16 bytes of a one-step ring
    // of two channels are in the per-neuron bound.
    let bytes = |model: &str, receptor: &str| {
        let text = format!(
            "{}
            network n : spiking {{
                dt = 0.1 ms
                population S : spike_source[10] {{ times = [1 ms] }}
                population P : {model}[1000]
                S -> P : full {{ weight = 1 nS, receptor = {receptor}, delay = 10 ms }}
            }}",
            documented("four_receptors")
        );
        neurosim::ir::memory::estimate(&compile(&text, &[])).neuron_bytes
    };
    let four = bytes("four_receptors", "ampa");
    let two = bytes("lif_cond", "excitatory");
    // four_receptors keeps 5 variables in f64 (56 bytes, under the 64-byte bound).
    assert_eq!(four - two, 1000.0 * 2.0 * 128.0 * 4.0, "{four} vs {two}");
    assert_eq!(
        two,
        10.0 * 64.0 + 1000.0 * (64.0 + 2.0 * 128.0 * 4.0 - 16.0)
    );
}
