//! Data-driven tests of the language front end: every file under `tests/data/parse/ok`
//! compiles without errors and its lowered networks are snapshotted; every file under
//! `tests/data/parse/err` yields at least one error. Plus pathological inputs, overrides
//! and imports.

use std::path::Path;

use neurosim::diag::render::render;
use neurosim::lang::{self, Compilation, Override, OverrideError};

fn compile_file(path: &Path, overrides: &[Override]) -> Compilation {
    let text = std::fs::read_to_string(path).expect("test file readable");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let mut loader = |p: &Path| std::fs::read_to_string(root.join(p));
    lang::compile(&name, &text, &mut loader, overrides)
}

#[test]
fn ok_files_compile_and_lower_as_snapshotted() {
    insta::glob!("data/parse/ok/*.net", |path| {
        let c = compile_file(path, &[]);
        let errors = render(&c.diagnostics, &c.sources);
        assert!(!c.has_errors(), "{}: {errors}", path.display());
        assert!(
            !c.networks.is_empty(),
            "{}: no network lowered",
            path.display()
        );
        let summary: String = c.networks.iter().map(lang::dump::summary).collect();
        insta::assert_snapshot!(summary);
    });
}

#[test]
fn err_files_report_at_least_one_error() {
    insta::glob!("data/parse/err/*.net", |path| {
        let c = compile_file(path, &[]);
        assert!(c.has_errors(), "{}: no error", path.display());
        assert!(c.networks.is_empty());
        insta::assert_snapshot!(render(&c.diagnostics, &c.sources));
    });
}

fn compile_str(text: &str, overrides: &[Override]) -> Compilation {
    let mut loader = |p: &Path| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            p.display().to_string(),
        ))
    };
    lang::compile("dir/test.net", text, &mut loader, overrides)
}

fn codes(c: &Compilation) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code).collect()
}

fn set(path: &str, value: &str) -> Override {
    Override {
        path: path.into(),
        value: value.into(),
    }
}

const SMALL: &str = "
let cell = lif { tau_m = 20 ms }
network n : spiking {
    population E : cell[80]
    population I : cell[20] { tau_m = 10 ms }
    E -> E, I : random(p = 0.1) { weight = 1 mV }
    I -> E : random(p = 0.5) { weight = -2 mV }
    simulate 100 ms
}
";

fn pop_param(c: &Compilation, pop: &str, param: &str) -> f64 {
    let n = &c.networks[0];
    let id = n.graph.find_population(pop).expect("population exists");
    n.graph
        .population(id)
        .params
        .number(param)
        .expect("param is a number")
}

#[test]
fn overrides_change_values_with_units_converted() {
    let c = compile_str(
        SMALL,
        &[
            set("E.tau_m", "15ms"),
            set("E->I.weight", "2 mV"),
            set("seed", "3"),
            set("E->E.p", "0.05"),
        ],
    );
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    let n = &c.networks[0];
    assert_eq!(n.seed, 3);
    assert_eq!(pop_param(&c, "E", "tau_m"), 15.0);
    assert_eq!(pop_param(&c, "I", "tau_m"), 10.0);
    let ei = n.graph.projection(n.graph.find_projection("E->I").unwrap());
    assert_eq!(ei.weight, Some(neurosim::ir::Value::Number(2.0)));
    let ee = n.graph.projection(n.graph.find_projection("E->E").unwrap());
    assert_eq!(ee.connector_args.number("p"), Some(0.05));
    assert_eq!(ee.weight, Some(neurosim::ir::Value::Number(1.0)));
}

#[test]
fn template_overrides_apply_below_the_population_block() {
    let c = compile_str(SMALL, &[set("cell.tau_m", "1 s")]);
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    assert_eq!(pop_param(&c, "E", "tau_m"), 1000.0);
    // I sets tau_m itself, so the template's value does not reach it.
    assert_eq!(pop_param(&c, "I", "tau_m"), 10.0);
}

#[test]
fn overrides_are_unit_checked_and_must_name_something() {
    let c = compile_str(SMALL, &[set("E.tau_m", "15 mV")]);
    assert_eq!(codes(&c), ["E0201"]);
    let c = compile_str(SMALL, &[set("Q.tau_m", "15 ms")]);
    assert_eq!(codes(&c), ["E0603"]);
    let c = compile_str(SMALL, &[set("E.tau_mm", "15 ms")]);
    assert_eq!(codes(&c), ["E0102"]);
    let c = compile_str(SMALL, &[set("sead", "1")]);
    assert_eq!(codes(&c), ["E0603"]);
    assert_eq!(
        c.diagnostics[0].help.as_deref(),
        Some("did you mean `seed`?")
    );
    let c = compile_str(SMALL, &[set("E.", "1")]);
    assert_eq!(codes(&c), ["E0604"]);
    let c = compile_str(SMALL, &[set("E.tau_m", "(15 ms")]);
    assert_eq!(codes(&c), ["E0008"]);
}

#[test]
fn lists_and_chains_expand_to_one_projection_per_pair() {
    let c = compile_str(
        "network n : rate {
            population a : input[2]
            population b : dense[3]
            population c : dense[4]
            population d : dense[5]
            a, b -> c, d -> d : full
            a -> c : full
        }",
        &[],
    );
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    let g = &c.networks[0].graph;
    let names: Vec<&str> = g.projections().map(|(_, p)| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["a->c", "a->d", "b->c", "b->d", "c->d", "d->d", "a->c#2"]
    );
}

#[test]
fn receptor_defaults_follow_the_sign_of_the_weight() {
    let c = compile_str(SMALL, &[]);
    let n = &c.networks[0];
    let r = |name: &str| {
        n.graph
            .projection(n.graph.find_projection(name).unwrap())
            .receptor
    };
    assert_eq!(r("E->I"), neurosim::ir::Receptor::Excitatory);
    assert_eq!(r("I->E"), neurosim::ir::Receptor::Inhibitory);
}

#[test]
fn imports_bring_templates_and_detect_cycles() {
    let files = std::collections::HashMap::from([
        (
            "dir/lib/cells.net".to_string(),
            "import \"more.net\"\nlet cell = lif { tau_m = 12 ms }\n".to_string(),
        ),
        (
            "dir/lib/more.net".to_string(),
            "let other = izhikevich {}\n".to_string(),
        ),
    ]);
    let mut loader = |p: &Path| {
        files
            .get(&p.display().to_string())
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "missing"))
    };
    let text = "import \"lib/cells.net\"\nnetwork n : spiking {\n population E : cell[10]\n population I : other[5]\n simulate 1 s\n}\n";
    let c = lang::compile("dir/test.net", text, &mut loader, &[]);
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    assert_eq!(pop_param(&c, "E", "tau_m"), 12.0);
    assert_eq!(c.sources.files().count(), 3);
}

#[test]
fn empty_and_comment_only_files_warn_but_do_not_fail() {
    for text in ["", "\n\n", "// nothing\n/* at all */"] {
        let c = compile_str(text, &[]);
        assert_eq!(codes(&c), ["W0001"], "{text:?}");
        assert!(!c.has_errors());
    }
}

#[test]
fn hundred_thousand_nested_parentheses_are_refused_cleanly() {
    let text = format!(
        "network n : spiking {{ dt = {}1{} ms }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let c = compile_str(&text, &[]);
    assert_eq!(codes(&c), ["E0004"]);
    let unbalanced = "(".repeat(100_000);
    assert_eq!(codes(&compile_str(&unbalanced, &[])), ["E0004"]);
}

#[test]
fn very_long_operator_chains_are_refused_cleanly() {
    // Flat in the grammar, but a left-deep tree: every later walk would recurse 100,000 deep.
    let sum = vec!["1"; 100_000].join(" + ");
    let c = compile_str(&format!("network n : spiking {{ dt = ({sum}) ms }}"), &[]);
    assert_eq!(codes(&c), ["E0004"]);
    let negations = "- ".repeat(100_000);
    let c = compile_str(
        &format!("network n : spiking {{ dt = {negations}1 ms }}"),
        &[],
    );
    assert_eq!(codes(&c), ["E0004"]);
    // A long but shallow list is fine.
    let times = vec!["1 ms"; 10_000].join(", ");
    let c = compile_str(
        &format!(
            "network n : spiking {{\n population s : spike_source[1] {{ times = [{times}] }}\n simulate 1 s\n}}"
        ),
        &[],
    );
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
}

#[test]
fn a_megabyte_identifier_is_handled() {
    let name = "a".repeat(1 << 20);
    let text = format!(
        "network n : spiking {{\n population {name} : lif[2]\n {name} -> {name} : full {{ weight = 1 mV }}\n simulate 1 ms\n}}\n"
    );
    let c = compile_str(&text, &[]);
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    let bad = format!("network n : spiking {{\n population E : {name}[2]\n}}\n");
    let c = compile_str(&bad, &[]);
    assert_eq!(codes(&c), ["E0103"]);
    // The message does not repeat the megabyte.
    assert!(render(&c.diagnostics, &c.sources).len() < 2 * (1 << 20) + 2000);
}

#[test]
fn invalid_utf8_is_reported_with_line_and_column() {
    let bytes = b"network n : rate {\n  population x : input[2] // \xff\xfe\n}\n";
    let mut loader = |_: &Path| Err(std::io::Error::other("no imports"));
    let c = lang::compile_bytes("x.net", bytes, &mut loader, &[]);
    assert_eq!(codes(&c), ["E0005"]);
    let span = c.diagnostics[0].primary_span().unwrap();
    assert_eq!(c.sources.line_col(span.file, span.start), (2, 30));
}

#[test]
fn syntax_errors_name_line_column_and_what_was_expected() {
    let c = compile_str("network n : spiking {\n  population E lif[10]\n}\n", &[]);
    assert_eq!(codes(&c), ["E0001"]);
    let d = &c.diagnostics[0];
    let span = d.primary_span().unwrap();
    assert_eq!(c.sources.line_col(span.file, span.start), (2, 16));
    assert_eq!(d.message, "expected `:`, found `lif`");
}

#[test]
fn paths_resolve_against_the_file_folder() {
    let c = compile_str(
        "network n : rate {\n output = \"../out/x.h5\"\n population x : input[2]\n dataset d = csv(\"data/./a.csv\")\n}\n",
        &[],
    );
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    let n = &c.networks[0];
    assert_eq!(n.output.as_deref(), Some(Path::new("out/x.h5")));
    match &n.datasets[0].source {
        neurosim::ir::DataSource::Csv { path, .. } => assert_eq!(path, Path::new("dir/data/a.csv")),
        other => panic!("expected csv, got {other:?}"),
    }
}

/// The layering rule of ARCHITECTURE.md: only `src/lang` knows pest.
#[test]
fn only_the_language_module_names_pest() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let lang = root.join("lang");
    for f in files.iter().filter(|f| !f.starts_with(&lang)) {
        let text = std::fs::read_to_string(f).expect("source readable");
        assert!(
            !text.contains("pest::") && !text.contains("pest_derive"),
            "{} uses pest",
            f.display()
        );
    }
}

#[test]
fn brackets_in_strings_and_comments_do_not_count() {
    let text = "// a ( comment [ with { brackets\n/* and ) here ] */\nnetwork n : rate {\n output = \"weird(name].h5\"\n population x : input[2]\n}\n";
    let c = compile_str(text, &[]);
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    assert_eq!(
        c.networks[0].output.as_deref(),
        Some(Path::new("dir/weird(name].h5"))
    );
}

#[test]
fn several_networks_lower_in_order_and_names_must_differ() {
    let two = "network a : rate {\n population x : input[1]\n}\nnetwork b : spiking {\n population y : lif[1]\n simulate 1 ms\n}\n";
    let c = compile_str(two, &[]);
    let names: Vec<&str> = c.networks.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let dup = format!("{two}network a : rate {{\n population z : input[1]\n}}\n");
    assert_eq!(codes(&compile_str(&dup, &[])), ["E0104"]);
}

#[test]
fn a_seed_override_reaches_every_network() {
    let two = "network a : rate {\n seed = 1\n population x : input[1]\n}\nnetwork b : rate {\n population y : input[1]\n}\n";
    let c = compile_str(two, &[set("seed", "9")]);
    assert!(c.networks.iter().all(|n| n.seed == 9));
}

#[test]
fn override_arguments_split_at_the_first_equals_sign() {
    let o = Override::parse("E.v=normal(mean = -60 mV, sd = 2 mV)").unwrap();
    assert_eq!(
        (o.path.as_str(), o.value.as_str()),
        ("E.v", "normal(mean = -60 mV, sd = 2 mV)")
    );
    let o = Override::parse("E->I.weight=2 mV").unwrap();
    assert_eq!((o.path.as_str(), o.value.as_str()), ("E->I.weight", "2 mV"));
    assert_eq!(Override::parse("seed"), Err(OverrideError::MissingEquals));
    assert_eq!(Override::parse(" = 3"), Err(OverrideError::EmptyPath));
    assert_eq!(Override::parse("seed= "), Err(OverrideError::EmptyValue));
    assert_eq!(
        OverrideError::EmptyValue.to_string(),
        "the VALUE after `=` is empty"
    );
}

#[test]
fn override_errors_show_the_whole_argument() {
    let overrides = [
        set("E.tau_m", "15 mV"),
        set("Q.tau_m", "1 ms"),
        set("E.v", "uniform(-60 mV, -50 mV"),
        set("E->I.wieght", "1 mV"),
    ];
    let c = compile_str(SMALL, &overrides);
    insta::assert_snapshot!(render(&c.diagnostics, &c.sources));
}

#[test]
fn rate_weights_are_plain_numbers_or_distributions() {
    let c = compile_str(
        "network n : rate {\n population x : input[2]\n population y : dense[1]\n x -> y : full { weight = uniform(-0.1, 0.1) }\n}\n",
        &[],
    );
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    let g = &c.networks[0].graph;
    let p = g.projection(g.find_projection("x->y").unwrap());
    assert!(matches!(p.weight, Some(neurosim::ir::Value::Dist(_))));
    assert_eq!(p.weight_dim, neurosim::units::Dim::NONE);
    assert_eq!(p.init, None);
}

/// Guard against quadratic name resolution (80,000 populations once took 30 s to check):
/// 20,000 populations, each projecting onto the next and recorded, must compile. No timing
/// is asserted; a quadratic lookup makes this test conspicuously slow.
#[test]
fn twenty_thousand_populations_compile() {
    let n = 20_000;
    let mut text = String::from("network big : spiking {\n");
    for i in 0..n {
        text += &format!("    population P{i} : lif[1]\n");
    }
    for i in 1..n {
        text += &format!(
            "    P{} -> P{i} : one_to_one {{ weight = 1 mV, delay = 1 ms }}\n",
            i - 1
        );
    }
    text += &format!(
        "    record spikes of P0, P{}\n    simulate 1 ms\n}}\n",
        n - 1
    );
    let c = compile_str(&text, &[]);
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    let g = &c.networks[0].graph;
    assert_eq!((g.n_populations(), g.n_projections()), (n, n - 1));
    assert!(g.find_population(&format!("P{}", n - 1)).is_some());
}

#[test]
fn record_windows_parse_in_any_order_and_from_stays_a_name() {
    // `from` and `until` are contextual: populations may be named so, and the window
    // clauses follow the targets in any order.
    let c = compile_str(
        "network n : spiking {\n\
         population from : poisson[4] { rate = 10 Hz }\n\
         population until : lif[3]\n\
         from -> until : full { weight = 1 mV }\n\
         record spikes of from from 100 ms until 400 ms\n\
         record v of until every 2 ms until 1 s from 0.5 s\n\
         simulate 2 s\n\
         }",
        &[],
    );
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    let network = &c.networks[0];
    let windows: Vec<_> = network.records.iter().map(|r| r.window).collect();
    assert_eq!(
        windows,
        vec![
            Some(neurosim::ir::Window {
                start_ms: 100.0,
                stop_ms: Some(400.0)
            }),
            Some(neurosim::ir::Window {
                start_ms: 500.0,
                stop_ms: Some(1000.0)
            }),
        ]
    );
    assert_eq!(
        network.records[1].every,
        Some(neurosim::ir::Interval::Time(2.0))
    );
    let summary = lang::dump::summary(network);
    assert!(
        summary.contains("record spikes of from from 100 ms until 400 ms"),
        "{summary}"
    );
}

#[test]
fn a_record_window_without_until_runs_to_the_end() {
    let c = compile_str(
        "network n : spiking {\n population E : lif[3]\n record spikes of E from 0.2 s\n simulate 1 s\n}",
        &[],
    );
    assert!(!c.has_errors(), "{}", render(&c.diagnostics, &c.sources));
    assert_eq!(
        c.networks[0].records[0].window,
        Some(neurosim::ir::Window {
            start_ms: 200.0,
            stop_ms: None
        })
    );
}
