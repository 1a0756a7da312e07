//! Conformance of every registry member: what a new neuron model, connector, plasticity
//! rule, optimizer or schedule must satisfy to be registered. Documented in
//! docs/LANGUAGE.md, defaults inside their ranges, and, for spiking models, a run that is
//! finite, spikes, and gives the same bits on one and three threads.

use std::fs;
use std::path::Path;

use neurosim::ir::Network;
use neurosim::models::neuron::{NeuronInfo, Runs};
use neurosim::models::{ParamKind, ParamSpec, connector, neuron, optimizer, plasticity, schedule};
use neurosim::units::Dim;

#[path = "support/recorded.rs"]
mod recorded;
use recorded::{differing_samples, run_on};

/// Every member as (family, name, parameter table).
fn members() -> Vec<(&'static str, &'static str, &'static [ParamSpec])> {
    let mut all = Vec::new();
    all.extend(
        neuron::REGISTRY
            .iter()
            .map(|m| ("neuron model", m.name, m.params)),
    );
    all.extend(
        connector::REGISTRY
            .iter()
            .map(|c| ("connector", c.name, c.params)),
    );
    all.extend(
        plasticity::REGISTRY
            .iter()
            .map(|r| ("plasticity rule", r.name, r.params)),
    );
    all.extend(
        optimizer::REGISTRY
            .iter()
            .map(|o| ("optimizer", o.name, o.params)),
    );
    all.extend(
        schedule::REGISTRY
            .iter()
            .map(|s| ("schedule", s.name, s.params)),
    );
    all
}

#[test]
fn every_member_is_documented_in_the_language_reference() {
    let docs = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/LANGUAGE.md"))
        .expect("docs/LANGUAGE.md");
    let undocumented: Vec<String> = members()
        .into_iter()
        .filter(|(_, name, _)| {
            !["`", "(", "["].iter().any(|end| {
                docs.contains(&format!("`{name}{end}")) || docs.contains(&format!("= {name}{end}"))
            })
        })
        .map(|(family, name, _)| format!("{family} `{name}`"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/LANGUAGE.md: {undocumented:?}"
    );
}

#[test]
fn every_default_lies_inside_its_range() {
    let mut wrong = Vec::new();
    for (family, name, params) in members() {
        for spec in params {
            let ok = match spec.kind {
                ParamKind::Quantity {
                    default: Some(d),
                    range,
                    ..
                } => d.is_finite() && range.contains(d),
                ParamKind::Integer {
                    default: Some(d),
                    range,
                } => range.contains(d as f64),
                ParamKind::Choice {
                    options,
                    default: Some(d),
                } => options.contains(&d),
                _ => true,
            };
            if !ok {
                wrong.push(format!("{family} `{name}`: `{}`", spec.name));
            }
        }
    }
    assert!(wrong.is_empty(), "defaults outside their ranges: {wrong:?}");
}

#[test]
fn every_member_name_is_unique_within_its_family() {
    for family in [
        "neuron model",
        "connector",
        "plasticity rule",
        "optimizer",
        "schedule",
    ] {
        let mut names: Vec<&str> = members()
            .into_iter()
            .filter(|(f, _, _)| *f == family)
            .map(|(_, n, _)| n)
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a {family} name is registered twice");
    }
}

/// A weight of each dimension a model accepts, large enough to make it fire from 40
/// Poisson inputs at 20 Hz.
fn weight_of(dim: Dim) -> &'static str {
    if dim == Dim::VOLTAGE {
        "5 mV"
    } else if dim == Dim::CURRENT {
        "150 pA"
    } else if dim == Dim::CONDUCTANCE {
        "3 nS"
    } else {
        panic!("no test weight for {dim:?}")
    }
}

/// A network driving 60 neurons of `model` from 200 Poisson sources through one
/// projection per accepted weight dimension, every spike and `v` recorded.
fn driven(model: &NeuronInfo) -> Network {
    let projections: String = model
        .weights
        .iter()
        .map(|&dim| {
            format!(
                "drive -> cells : random(p = 0.2) {{ weight = {} }}\n",
                weight_of(dim)
            )
        })
        .collect();
    let records_v = model.state.iter().any(|s| s.name == "v");
    let text = format!(
        "network conformance : spiking {{
            seed = 11
            dt = 0.1 ms
            population drive : poisson[200] {{ rate = 20 Hz }}
            population cells : {}[60]
            {projections}
            record spikes of cells
            {}
            simulate 200 ms
        }}",
        model.name,
        if records_v {
            "record v of cells every 1 ms"
        } else {
            ""
        }
    );
    let networks = neurosim::testing::compile("conformance.net", &text, &[])
        .unwrap_or_else(|e| panic!("`{}` does not compile: {e:?}\n{text}", model.name));
    networks.into_iter().next().expect("one network")
}

#[test]
fn every_spiking_model_runs_finite_spikes_and_is_thread_invariant() {
    let models: Vec<&NeuronInfo> = neuron::REGISTRY
        .iter()
        .copied()
        .filter(|m| matches!(m.runs, Runs::Spiking(_)) && m.accepts_input())
        .collect();
    assert!(models.len() >= 5, "the spiking models: {}", models.len());
    for model in models {
        let network = driven(model);
        let one = run_on(&network, 1);
        let three = run_on(&network, 3);
        let spikes = &one.spikes["cells"];
        assert!(
            !spikes.times_ms.is_empty(),
            "`{}` never fired under drive",
            model.name
        );
        let rate_hz = spikes.times_ms.len() as f64 / 60.0 / 0.2;
        assert!(rate_hz < 500.0, "`{}` fires at {rate_hz} Hz", model.name);
        assert_eq!(one.spikes, three.spikes, "`{}`: spikes differ", model.name);
        for (group, series) in &one.samples {
            assert!(
                series.values.iter().all(|v| v.is_finite()),
                "`{}`: {group} not finite",
                model.name
            );
        }
        if let Some(group) = differing_samples(&one, &three) {
            panic!("`{}`: {group} differs between 1 and 3 threads", model.name);
        }
    }
}
