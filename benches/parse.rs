//! Parse + check + lower time of a generated 10,000-line `.net` file (one spiking network of
//! 1,000 populations, with templates, projections, records and comments), and of the same
//! file with a mistake on every tenth population (the error path collects ~100 diagnostics).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use neurosim::lang;

/// A file of exactly `lines` lines (rounded to the block size).
fn generate(lines: usize, with_errors: bool) -> String {
    let mut s = String::from(
        "// generated benchmark network\nnetwork big : spiking {\n    seed = 1\n    dt = 0.1 ms\n",
    );
    s += "    let cell = lif {\n        tau_m = 20 ms, v_rest = -49 mV, v_thresh = -50 mV, v_reset = -60 mV,\n        tau_refrac = 5 ms, tau_syn_e = 5 ms, tau_syn_i = 10 ms\n    }\n";
    let mut i = 0;
    while s.lines().count() + 10 < lines {
        let tau = if with_errors && i % 10 == 0 {
            "20 mV"
        } else {
            "(10 + 5) ms"
        };
        s += &format!(
            "    // block {i}\n    population P{i} : cell[100] {{\n        tau_m = {tau}\n        v = uniform(-60 mV, -50 mV)\n    }}\n"
        );
        if i > 0 {
            s += &format!(
                "    P{} -> P{i} : random(p = 0.02) {{ weight = (60 * 0.27 / 10) mV, delay = 1.5 ms }}\n",
                i - 1
            );
            s += &format!(
                "    P{i} -> P{} : fixed_indegree(k = 10) {{ weight = -1 mV }}\n",
                i - 1
            );
        } else {
            s += "\n\n";
        }
        s += &format!("    record v of P{i}[0..10] every 1 ms\n    record spikes of P{i}\n\n");
        i += 1;
    }
    s += "    simulate 1 s\n}\n";
    while s.lines().count() < lines {
        s += "// padding\n";
    }
    s
}

fn compile(text: &str) -> lang::Compilation {
    let mut loader = |_: &Path| Err(std::io::Error::other("no imports in the benchmark"));
    lang::compile("big.net", text, &mut loader, &[])
}

fn bench(c: &mut Criterion) {
    let ok = generate(10_000, false);
    assert_eq!(ok.lines().count(), 10_000);
    let checked = compile(&ok);
    assert!(!checked.has_errors(), "the generated file must be valid");
    c.bench_function("compile 10k-line file", |b| {
        b.iter(|| compile(black_box(&ok)))
    });
    c.bench_function("parse only 10k-line file", |b| {
        b.iter(|| lang::parse(black_box(&ok)))
    });
    let bad = generate(10_000, true);
    assert!(compile(&bad).has_errors());
    c.bench_function("compile 10k-line file with 100 errors", |b| {
        b.iter(|| compile(black_box(&bad)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
