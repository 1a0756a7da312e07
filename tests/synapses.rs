//! User-defined synapse models end to end: Tsodyks–Markram amplitudes against the
//! recursion they obey, the triplet rule of `networks/triplet_stdp.net` against an
//! event-by-event implementation of Pfister & Gerstner's equations on the same spikes,
//! `on_pre` at the arrival of a delayed spike, and the same bits on one and three threads.

use std::path::Path;

use neurosim::ir::Network;
use neurosim::record::memory::MemoryRecorder;

#[path = "support/docs.rs"]
mod docs;
#[path = "support/recorded.rs"]
mod recorded;
use recorded::{differing_samples, run_on};

fn compile(text: &str, overrides: &[&str]) -> Network {
    let networks = neurosim::testing::compile("synapses.net", text, overrides)
        .unwrap_or_else(|e| panic!("does not compile: {e:?}\n{text}"));
    networks.into_iter().next().expect("one network")
}

/// The only sample series whose path starts with `prefix`.
fn series<'a>(
    memory: &'a MemoryRecorder,
    prefix: &str,
) -> &'a neurosim::record::memory::SampleSeries {
    let mut found = memory.samples.iter().filter(|(k, _)| k.starts_with(prefix));
    let (_, s) = found.next().unwrap_or_else(|| {
        panic!(
            "no series {prefix}: {:?}",
            memory.samples.keys().collect::<Vec<_>>()
        )
    });
    s
}

const DT: f64 = 0.1;

/// Short-term plasticity in the form of Markram et al. (1998): `u` jumps by `U(1 − u)` and
/// decays to 0, `x` recovers to 1; a spike releases `u·x`. A counter neuron sums what
/// arrives, so the increments of `q` are the delivered amplitudes.
const TSODYKS_MARKRAM: &str = r#"
synapse short_term {
    param U = 0.5, tau_d = 800 ms, tau_f = 20 ms
    state w = 100 pA, x = 1, u = 0
    dx/dt = (1 - x) / tau_d
    du/dt = -u / tau_f
    on_pre {
        u += U * (1 - u)
        let r = u * x
        x -= r
        deliver w * r
    }
}

neuron counter {
    state q = 0 pA
    on_pre excitatory { q += w }
}

network stp : spiking {
    dt = 0.1 ms
    // A 20 Hz train of ten spikes, then a recovery spike 500 ms after the last.
    population train : spike_source[1] {
        times = [10 ms, 60 ms, 110 ms, 160 ms, 210 ms, 260 ms, 310 ms, 360 ms, 410 ms, 460 ms, 960 ms]
    }
    population target : counter[1]
    train -> target : one_to_one { weight = 100 pA, plasticity = short_term }
    record q of target
    simulate 1 s
}
"#;

/// The amplitudes the recursion gives for spikes at `times` (ms).
fn tsodyks_markram(times: &[f64], w: f64, big_u: f64, tau_d: f64, tau_f: f64) -> Vec<f64> {
    let (mut x, mut u, mut last) = (1.0f64, 0.0f64, times[0]);
    let mut out = Vec::new();
    for &t in times {
        let elapsed = t - last;
        x = 1.0 + (x - 1.0) * (-elapsed / tau_d).exp();
        u *= (-elapsed / tau_f).exp();
        u += big_u * (1.0 - u);
        let r = u * x;
        x -= r;
        out.push(w * r);
        last = t;
    }
    out
}

/// The increments of the recorded counter: one per arriving spike.
fn delivered(memory: &MemoryRecorder) -> Vec<f64> {
    let q = &series(memory, "report/target/q").values;
    let mut previous = 0.0f64;
    let mut out = Vec::new();
    for &value in q {
        let value = value as f64;
        if value != previous {
            out.push(value - previous);
        }
        previous = value;
    }
    out
}

#[test]
fn tsodyks_markram_amplitudes_follow_the_recursion() {
    let times = [
        10.0, 60.0, 110.0, 160.0, 210.0, 260.0, 310.0, 360.0, 410.0, 460.0, 960.0,
    ];
    for (u, tau_d, tau_f, depressing) in [(0.5, 800.0, 20.0, true), (0.03, 100.0, 1000.0, false)] {
        let network = compile(
            TSODYKS_MARKRAM,
            &[&format!(
                "train->target.plasticity=short_term(U = {u}, tau_d = {tau_d} ms, tau_f = {tau_f} ms)"
            )],
        );
        let got = delivered(&run_on(&network, 1));
        let want = tsodyks_markram(&times, 100.0, u, tau_d, tau_f);
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            // The counter is recorded as f32: its increments carry its rounding (q < 2 nA).
            assert!((g - w).abs() < 2e-4, "spike {k}: {g} pA, recursion {w} pA");
        }
        // The shapes that name the two regimes, in what the run delivered.
        if depressing {
            assert!(got[9] < 0.3 * got[0] && got[10] > got[9], "{got:?}");
        } else {
            assert!(got[9] > 3.0 * got[0], "{got:?}");
        }
    }
}

/// Pfister & Gerstner (2006), all-to-all triplet rule, on events `(step, is_pre)` in order
/// (a presynaptic arrival before a postsynaptic spike of the same step); the final weight.
fn triplet_reference(events: &[(u64, bool)], w0: f64) -> f64 {
    let (tau_plus, tau_x, tau_minus, tau_y) = (16.8, 101.0, 33.7, 125.0);
    let (a2p, a3p, a2m, a3m) = (7.5e-10, 9.3e-3, 7e-3, 2.3e-4);
    let (mut r1, mut r2, mut o1, mut o2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut w, mut last) = (w0, 0u64);
    for &(step, pre) in events {
        let elapsed = (step - last) as f64 * DT;
        last = step;
        r1 *= (-elapsed / tau_plus).exp();
        r2 *= (-elapsed / tau_x).exp();
        o1 *= (-elapsed / tau_minus).exp();
        o2 *= (-elapsed / tau_y).exp();
        if pre {
            w = (w - o1 * (a2m + a3m * r2)).clamp(0.0, 100.0);
            r1 += 1.0;
            r2 += 1.0;
        } else {
            w = (w + r1 * (a2p + a3p * o2)).clamp(0.0, 100.0);
            o1 += 1.0;
            o2 += 1.0;
        }
    }
    w
}

/// Steps of neuron `i`'s recorded spikes (a spike recorded at `t` was emitted in the step
/// that ends at `t`).
fn spike_steps(memory: &MemoryRecorder, population: &str, i: u32) -> Vec<u64> {
    let train = &memory.spikes[population];
    train
        .neurons
        .iter()
        .zip(&train.times_ms)
        .filter(|(id, _)| **id == i as u64)
        .map(|(_, t)| (t / DT).round() as u64 - 1)
        .collect()
}

/// `networks/triplet_stdp.net`, whose definitions the tests below reuse.
fn triplet_stdp_file() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/triplet_stdp.net"))
        .expect("networks/triplet_stdp.net")
}

/// The part of `text` before `marker` (the definitions before a network, or before the
/// follower neuron).
fn before<'a>(text: &'a str, marker: &str) -> &'a str {
    &text[..text
        .find(marker)
        .unwrap_or_else(|| panic!("`{marker}` in the file"))]
}

#[test]
fn triplet_stdp_matches_an_event_by_event_reference_and_the_frequency_dependence() {
    let network = compile(&triplet_stdp_file(), &[]);
    let memory = run_on(&network, 2);
    let weights = series(&memory, "weights_over_time/pre_ltp->post_ltp");
    let last = &weights.values[weights.values.len() - 10..];
    let mut change = [[0.0f64; 5]; 2];
    for (order, (pre, post)) in [("pre_ltp", "post_ltp"), ("pre_ltd", "post_ltd")]
        .into_iter()
        .enumerate()
    {
        for i in 0..5u32 {
            // A presynaptic spike reaches the synapse one step (its delay) after emission;
            // the postsynaptic spike acts in the step it is emitted.
            let mut events: Vec<(u64, bool)> = spike_steps(&memory, pre, i)
                .into_iter()
                .map(|s| (s + 1, true))
                .chain(
                    spike_steps(&memory, post, i)
                        .into_iter()
                        .map(|s| (s, false)),
                )
                .collect();
            assert_eq!(events.len(), 120, "{pre}/{post} neuron {i}: 60 pairs");
            events.sort_by_key(|&(step, pre)| (step, !pre));
            let want = triplet_reference(&events, 1.0);
            let got = last[order * 5 + i as usize] as f64;
            assert!(
                (got - want).abs() < 1e-6 * want.max(1.0),
                "{pre} neuron {i}: {got} nS, reference {want} nS"
            );
            change[order][i as usize] = want - 1.0;
        }
    }
    let [ltp, ltd] = change;
    // Pre-before-post potentiates more the higher the frequency; post-before-pre depresses
    // at low frequency and potentiates at 40 and 50 Hz (Sjöström et al. 2001).
    assert!(ltp.windows(2).all(|p| p[1] > p[0]), "{ltp:?}");
    assert!(
        ltd[0] < -0.1 && ltd[1] < -0.1 && ltd[3] > 0.1 && ltd[4] > 0.1,
        "{ltd:?}"
    );
}

/// A synapse of 5 ms delay sees a presynaptic spike when it arrives: a postsynaptic spike
/// 2 ms after emission comes before the arrival, so the pair depresses (it would
/// potentiate if the rule ran at emission).
#[test]
fn on_pre_runs_when_the_delayed_spike_arrives() {
    let file = triplet_stdp_file();
    let definitions = before(&file, "network triplet_stdp");
    let text = format!(
        "{definitions}
network delayed : spiking {{
    dt = 0.1 ms
    population pre : spike_source[1] {{ times = [10 ms] }}
    population drive : spike_source[1] {{ times = [11.9 ms] }}
    population post : follower[1]
    drive -> post : one_to_one {{ weight = 2 mV, receptor = drive }}
    pre -> post : one_to_one {{ weight = 1 nS, delay = 5 ms, receptor = plastic, plasticity = triplet }}
    record weight of pre -> post every 50 ms
    simulate 50 ms
}}"
    );
    let memory = run_on(&compile(&text, &[]), 1);
    let w = series(&memory, "weights_over_time/pre->post").values[0] as f64;
    // Post at step 119 (drive emitted at 118, arriving a step later); pre emitted at 99
    // arrives at 149: o1 has decayed for 3 ms.
    let want = 1.0 - 7e-3 * (-3.0f64 / 33.7).exp();
    assert!((w - want).abs() < 1e-6, "{w} nS, want {want} nS");
}

#[test]
fn event_driven_synapses_give_the_same_bits_on_one_and_three_threads() {
    let file = triplet_stdp_file();
    let definitions = before(&file, "// Fires in the step");
    let text = format!(
        "{definitions}
network plastic : spiking {{
    seed = 7
    dt = 0.1 ms
    population inputs : poisson[300] {{ rate = 20 Hz }}
    population cells : lif_cond[30] {{ v = uniform(-70 mV, -55 mV) }}
    inputs -> cells : random(p = 0.3) {{
        weight = uniform(4 nS, 10 nS),
        delay = normal(mean = 2 ms, sd = 1 ms) clip [0.1 ms, 5 ms],
        plasticity = triplet
    }}
    record spikes of cells
    record weight of inputs -> cells every 100 ms
    simulate 1 s
}}"
    );
    let network = compile(&text, &[]);
    let one = run_on(&network, 1);
    let three = run_on(&network, 3);
    assert!(one.spikes["cells"].neurons.len() > 100, "the cells fire");
    assert_eq!(one.spikes["cells"].neurons, three.spikes["cells"].neurons);
    assert_eq!(one.spikes["cells"].times_ms, three.spikes["cells"].times_ms);
    assert_eq!(differing_samples(&one, &three), None);
    let a = &series(&one, "weights_over_time").values;
    // The weights moved.
    let n = a.len() / 10;
    assert!(a[..n].iter().zip(&a[a.len() - n..]).any(|(x, y)| x != y));
}

#[test]
fn every_documented_synapse_runs_learns_and_is_thread_invariant() {
    let definitions: Vec<String> = docs::code_blocks("User-defined synapse models", "synapse ")
        .into_iter()
        .filter(|block| !block.contains("synapse NAME"))
        .collect();
    assert!(
        definitions.len() >= 3,
        "the docs define triplet, Tsodyks–Markram and pair STDP"
    );
    for definition in definitions {
        let name = docs::defined_name(&definition, "synapse ");
        // A conductance weight drives a conductance-based cell, a current one a current-based cell.
        let (model, weight) = if definition.contains("w = 100 pA") {
            ("lif", "uniform(2000 pA, 6000 pA)")
        } else {
            ("lif_cond", "uniform(0.5 nS, 1 nS)")
        };
        let text = format!(
            "{definition}
network documented : spiking {{
    seed = 3
    population inputs : poisson[400] {{ rate = 40 Hz }}
    population cells : {model}[10]
    inputs -> cells : random(p = 0.5) {{ weight = {weight}, plasticity = {name} }}
    record spikes of cells
    record weight of inputs -> cells every 250 ms
    simulate 500 ms
}}"
        );
        let network = compile(&text, &[]);
        let one = run_on(&network, 1);
        let two = run_on(&network, 2);
        assert!(
            !one.spikes["cells"].neurons.is_empty(),
            "{name}: the cells fire"
        );
        assert_eq!(
            one.spikes["cells"].times_ms, two.spikes["cells"].times_ms,
            "{name}"
        );
        let (a, b) = (
            &series(&one, "weights_over_time").values,
            &series(&two, "weights_over_time").values,
        );
        assert!(a.iter().all(|w| w.is_finite()), "{name}");
        assert!(
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{name}"
        );
    }
}

/// A periodic source repeats its times `repeats` times per neuron, each neuron with its own
/// period; a period below the step is refused rather than emitting cycles it cannot show.
#[test]
fn periodic_sources_repeat_per_neuron_and_refuse_a_period_below_the_step() {
    let text = "network n : spiking {
    dt = 0.1 ms
    population s : spike_source[3] { times = [1 ms, 2 ms], period = [10 ms, 20 ms, 0 ms], repeats = [3, 0, 0] }
    record spikes of s
    simulate 100 ms
}";
    let memory = run_on(&compile(text, &[]), 1);
    let times = |i: u64| -> Vec<f64> {
        let train = &memory.spikes["s"];
        train
            .neurons
            .iter()
            .zip(&train.times_ms)
            .filter(|(n, _)| **n == i)
            .map(|(_, t)| (t * 10.0).round() / 10.0)
            .collect()
    };
    assert_eq!(times(0), [1.0, 2.0, 11.0, 12.0, 21.0, 22.0]);
    assert_eq!(times(1).len(), 10, "every 20 ms until the end");
    assert_eq!(times(1)[9], 82.0);
    assert_eq!(times(2), [1.0, 2.0], "no period: once");

    let dir = std::env::temp_dir().join(format!("neurosim-period-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("fast.net");
    std::fs::write(
        &path,
        "network n : spiking {
    population s : spike_source[1] { times = [0 ms], period = 0.001 ms }
    simulate 10 ms
}",
    )
    .expect("write");
    let err = neurosim::testing::run_summary(&path, 1).expect_err("refused");
    assert!(err.to_string().contains("shorter than the step"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A synapse model defined in an imported file is used like one defined in place, and runs.
#[test]
fn an_imported_synapse_model_runs() {
    let file = triplet_stdp_file();
    let library = before(&file, "// Fires in the step").to_string();
    let mut loader = |p: &Path| {
        if p.ends_with("rules.net") {
            Ok(library.clone())
        } else {
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "missing"))
        }
    };
    let text = "import \"rules.net\"
network uses : spiking {
    population inputs : poisson[50] { rate = 40 Hz }
    population cells : lif_cond[4]
    inputs -> cells : full { weight = 2 nS, plasticity = triplet(a3_plus = 0.02 nS) }
    record weight of inputs -> cells every 100 ms
    simulate 300 ms
}";
    let c = neurosim::lang::compile("dir/uses.net", text, &mut loader, &[]);
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let network = c.networks.into_iter().next().expect("one network");
    let memory = run_on(&network, 1);
    let weights = &series(&memory, "weights_over_time").values;
    assert_eq!(weights.len(), 3 * 200);
    assert!(
        weights.iter().any(|&w| w != 2.0),
        "the imported rule changed weights"
    );
}
