//! Constants, tables, projection templates and `connect` end to end: the documented
//! microcircuit compiles to one ordinary projection per nonzero table entry, `--set` of a
//! constant changes everything computed from it, and constants and tables are imported.

use std::collections::HashMap;
use std::path::Path;

use neurosim::diag::render::render;
use neurosim::ir::{DistKind, Network, Value};
use neurosim::lang::{self, Compilation, Override};

#[path = "support/docs.rs"]
mod docs;

/// The example network of the docs' "Constants, tables and projection templates" section.
fn documented_microcircuit() -> String {
    docs::code_blocks("Constants, tables and projection templates", "network ")
        .into_iter()
        .next()
        .expect("an example network")
}

fn compile_with(text: &str, files: &[(&str, &str)], overrides: &[Override]) -> Compilation {
    let files: HashMap<String, String> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let mut loader = |p: &Path| {
        files
            .get(&p.display().to_string())
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "missing"))
    };
    lang::compile("dir/test.net", text, &mut loader, overrides)
}

fn compiled(text: &str, files: &[(&str, &str)], overrides: &[Override]) -> Network {
    let c = compile_with(text, files, overrides);
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    c.networks.into_iter().next().expect("one network")
}

fn codes(c: &Compilation) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

fn set(path: &str, value: &str) -> Override {
    Override::parse(&format!("{path}={value}")).expect("valid override")
}

/// (mean, sd) of a projection's normal weight.
fn weight(n: &Network, name: &str) -> (f64, f64) {
    let id = n
        .graph
        .find_projection(name)
        .unwrap_or_else(|| panic!("projection {name}"));
    match &n.graph.projection(id).weight {
        Some(Value::Dist(d)) => match d.kind {
            DistKind::Normal { mean, sd } => (mean, sd),
            ref k => panic!("{name}: {k:?}"),
        },
        Some(Value::Number(w)) => (*w, 0.0),
        w => panic!("{name}: {w:?}"),
    }
}

fn connector_number(n: &Network, name: &str, arg: &str) -> f64 {
    let id = n.graph.find_projection(name).expect("projection");
    n.graph
        .projection(id)
        .connector_args
        .number(arg)
        .expect("a number")
}

fn population_number(n: &Network, name: &str, param: &str) -> f64 {
    let id = n.graph.find_population(name).expect("population");
    n.graph
        .population(id)
        .params
        .number(param)
        .expect("a number")
}

#[test]
fn the_documented_microcircuit_has_one_projection_per_nonzero_entry() {
    let n = compiled(&documented_microcircuit(), &[], &[]);
    // 64 pairs, 9 of them 0 in the table.
    assert_eq!(n.graph.n_projections(), 55);
    for absent in [
        "L5I->L23E",
        "L6I->L23E",
        "L5I->L23I",
        "L6I->L23I",
        "L6I->L4E",
        "L5I->L4I",
        "L6I->L4I",
        "L6I->L5E",
        "L6I->L5I",
    ] {
        assert!(n.graph.find_projection(absent).is_none(), "{absent}");
    }
    // Rows are targets: the entry of row L23I, column L5E is the probability L5E -> L23I.
    assert_eq!(connector_number(&n, "L5E->L23I", "p"), 0.0755);
    assert_eq!(connector_number(&n, "L5I->L4E", "p"), 0.0003);
    // Weights by source from the template, inhibitory ones g * w_e with a positive sd.
    assert_eq!(weight(&n, "L4E->L4I"), (87.8, 8.78));
    let (mean, sd) = weight(&n, "L4I->L4E");
    assert!((mean + 351.2).abs() < 1e-9 && (sd - 35.12).abs() < 1e-9);
    // The override doubles L4E -> L23E only.
    assert_eq!(weight(&n, "L4E->L23E"), (175.6, 17.56));
    assert_eq!(weight(&n, "L4E->L23I"), (87.8, 8.78));
    // Per-population values through `self`.
    assert_eq!(population_number(&n, "L6E", "i_offset"), 897.0);
    let l5i = n.graph.find_population("L5I").expect("L5I");
    match n.graph.population(l5i).init.get("v") {
        Some(Value::Dist(d)) => {
            assert!(matches!(d.kind, DistKind::Normal { mean, sd } if mean == -61.66 && sd == 4.55))
        }
        v => panic!("v of L5I: {v:?}"),
    }
}

const EI: &str = "
let w_e = 0.5 mV
let g = -4
let w_i = g * w_e
table p : to \\ from [E, I] {
    E: [0.1, 0.2]
    I: [0.3, 0]
}
table w : from [E, I] { [w_e, w_i] }
network ei : spiking {
    population E : lif[40]
    population I : lif[10]
    connect p : random(p = p) { weight = w }
    simulate 10 ms
}
";

#[test]
fn set_of_a_constant_changes_everything_computed_from_it() {
    let n = compiled(EI, &[], &[]);
    assert_eq!(weight(&n, "I->E"), (-2.0, 0.0));
    assert!(n.graph.find_projection("I->I").is_none());
    let n = compiled(EI, &[], &[set("w_e", "1 mV")]);
    assert_eq!(weight(&n, "E->I"), (1.0, 0.0));
    // w_i = g * w_e and the table entry made of it follow.
    assert_eq!(weight(&n, "I->E"), (-4.0, 0.0));
    let n = compiled(EI, &[], &[set("g", "-5")]);
    assert_eq!(weight(&n, "I->E"), (-2.5, 0.0));
}

#[test]
fn set_of_a_constant_is_checked_like_the_file() {
    let c = compile_with(EI, &[], &[set("w_e", "1 ms")]);
    assert_eq!(codes(&c), ["E0627"]);
    let shown = render(&c.diagnostics, &c.sources);
    assert!(
        shown.contains("the constant is a voltage, the value a time"),
        "{shown}"
    );
    let c = compile_with(EI, &[], &[set("w_ee", "1 mV")]);
    assert_eq!(codes(&c), ["E0603"]);
    assert!(render(&c.diagnostics, &c.sources).contains("did you mean `w_e`?"));
}

#[test]
fn constants_tables_and_projection_templates_are_imported() {
    let lib = "
let w_e = 0.5 mV
table p : to \\ from [E, I] {
    E: [0.1, 0.2]
    I: [0.3, 0.4]
}
let exc = projection { weight = w_e, delay = 1.5 ms }
";
    let text = "import \"lib/pd.net\"
network ei : spiking {
    population E : lif[40]
    population I : lif[10]
    connect p : random(p = p) with exc
    E -> I : fixed_indegree(k = 4) with exc { delay = 2 ms }
    simulate 10 ms
}
";
    let n = compiled(text, &[("dir/lib/pd.net", lib)], &[]);
    assert_eq!(n.graph.n_projections(), 5);
    assert_eq!(connector_number(&n, "I->I", "p"), 0.4);
    assert_eq!(weight(&n, "E->I#2"), (0.5, 0.0));
    let second = n.graph.find_projection("E->I#2").expect("E->I#2");
    assert!(matches!(n.graph.projection(second).delay, Some(Value::Number(d)) if d == 2.0));
    // --set reaches an imported constant too.
    let n = compiled(text, &[("dir/lib/pd.net", lib)], &[set("w_e", "2 mV")]);
    assert_eq!(weight(&n, "E->E"), (2.0, 0.0));
}

#[test]
fn network_constants_shadow_file_constants_and_aliases_are_constants() {
    let text = "
let w = 1 mV
let cell = lif { tau_m = 10 ms }
let fast = cell
network a : spiking {
    let w = 2 mV
    let w2 = w
    let n = 5
    population E : fast[n * 2]
    E -> E : full { weight = w2 }
    simulate 10 ms
}
";
    let n = compiled(text, &[], &[]);
    assert_eq!(weight(&n, "E->E"), (2.0, 0.0));
    assert_eq!(population_number(&n, "E", "tau_m"), 10.0);
    let e = n.graph.find_population("E").expect("E");
    assert_eq!(n.graph.population(e).size(), 10);
}

#[test]
fn a_pair_override_may_change_the_connector_argument() {
    let text = "
table k : to \\ from [E, I] {
    E: [4, 2]
    I: [3, 1]
}
network ei : spiking {
    population E : lif[40]
    population I : lif[10]
    connect k : fixed_indegree(k = k) {
        weight = 1 mV
        I -> I { k = 5, weight = -1 mV }
    }
    simulate 10 ms
}
";
    let n = compiled(text, &[], &[]);
    assert_eq!(connector_number(&n, "I->E", "k"), 2.0);
    assert_eq!(connector_number(&n, "E->I", "k"), 3.0);
    assert_eq!(connector_number(&n, "I->I", "k"), 5.0);
    assert_eq!(weight(&n, "I->I"), (-1.0, 0.0));
    // A table entry that is not a whole number is refused where `k` needs one.
    let c = compile_with(&text.replace("E: [4, 2]", "E: [4.5, 2]"), &[], &[]);
    assert_eq!(codes(&c), ["E0303"]);
}

#[test]
fn fixed_total_takes_its_count_from_a_table_in_either_orientation() {
    let text = "
table n_syn : from \\ to [E, I] {
    E: [100, 40]
    I: [0, 25]
}
network ei : spiking {
    population E : lif[40]
    population I : lif[10]
    connect n_syn : fixed_total(n = n_syn[from, to]) { weight = 1 mV }
    simulate 10 ms
}
";
    let n = compiled(text, &[], &[]);
    // Rows are sources here: E -> I is 40, and I -> E (0) does not exist.
    assert_eq!(connector_number(&n, "E->I", "n"), 40.0);
    assert_eq!(connector_number(&n, "I->I", "n"), 25.0);
    assert!(n.graph.find_projection("I->E").is_none());
}

#[test]
fn tables_and_constants_that_do_not_fit_are_reported_where_they_are_used() {
    let base = "
table p : to \\ from [E, I] {
    E: [0.1, 0.2]
    I: [0.3, 0.4]
}
let t = 5 ms
network ei : spiking {
    population E : lif[40] { tau_m = VALUE }
    simulate 10 ms
}
";
    for (value, code) in [
        ("t", None),
        ("p[I, E] * 1 ms", None),
        ("p", Some("E0625")),
        ("p[E]", Some("E0625")),
        ("p[E, J]", Some("E0625")),
        ("t[E]", Some("E0625")),
        ("q[E, I]", Some("E0620")),
        ("2 * tt", Some("E0620")),
        ("p[from, E]", Some("E0625")),
        ("p[E, I]", Some("E0203")),
    ] {
        let c = compile_with(&base.replace("VALUE", value), &[], &[]);
        match code {
            None => assert!(
                !c.has_errors(),
                "{value}: {}",
                render(&c.diagnostics, &c.sources)
            ),
            Some(code) => assert_eq!(codes(&c), [code], "{value}"),
        }
    }
}

#[test]
fn a_table_without_the_axes_of_pairs_cannot_drive_connect() {
    let text = "
table p : pre \\ post [E] {
    E: [0.1]
}
let w = 1 mV
network ei : spiking {
    population E : lif[40]
    connect p : random(p = 0.1) { weight = 1 mV }
    connect w : random(p = 0.1) { weight = 1 mV }
    connect q : random(p = 0.1) { weight = 1 mV }
    E -> E : random(p = 0.1) with nothing { weight = 1 mV }
    simulate 10 ms
}
";
    let c = compile_with(text, &[], &[]);
    assert_eq!(codes(&c), ["E0625", "E0625", "E0620", "E0630"]);
}
