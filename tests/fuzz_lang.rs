//! Robustness: the compiler never panics, whatever the bytes. Arbitrary byte strings, and the
//! reference examples with random edits (bytes inserted, deleted, replaced; lines swapped),
//! go through `compile_bytes` and the renderer. Every case must finish (no timing
//! assertion: a hang would stop the suite).

use std::path::Path;

use neurosim::diag::render::render;
use neurosim::lang;
use proptest::prelude::*;

const EXAMPLES: &[&str] = &[
    include_str!("data/parse/ok/xor.net"),
    include_str!("data/parse/ok/mnist_mlp.net"),
    include_str!("data/parse/ok/cuba.net"),
    include_str!("data/parse/ok/hopfield.net"),
    include_str!("data/parse/ok/features.net"),
    include_str!("data/parse/ok/cobahh.net"),
];

/// Compiles and renders; returns whether an error was reported.
fn run(bytes: &[u8]) -> bool {
    let mut loader = |p: &Path| Ok(format!("let t = lif {{}} // {}", p.display()));
    let c = lang::compile_bytes("fuzz.net", bytes, &mut loader, &[]);
    let rendered = render(&c.diagnostics, &c.sources);
    // Every diagnostic is rendered with its code.
    for d in &c.diagnostics {
        assert!(rendered.contains(d.code));
    }
    c.has_errors()
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
    SwapLines(usize, usize),
}

fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for e in edits {
        let n = bytes.len().max(1);
        match *e {
            Edit::Insert(i, b) => bytes.insert(i % (n + 1).min(bytes.len() + 1), b),
            Edit::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % n);
            }
            Edit::Replace(i, b) if !bytes.is_empty() => bytes[i % n] = b,
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                let len = lines.len();
                lines.swap(a % len, b % len);
                bytes = lines.join(&b'\n');
            }
            _ => {}
        }
    }
    bytes
}

/// Bytes that matter to the grammar, so that edits hit interesting places more often.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        proptest::sample::select(b"{}[]()\"/*-+>,.:=;\n \t0123456789eEmsVAHz_#".to_vec()),
        any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), interesting_byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), interesting_byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run(&bytes);
    }

    #[test]
    fn arbitrary_text_of_language_tokens_never_panics(
        words in proptest::collection::vec(proptest::sample::select(vec![
            "network", "n", ":", "rate", "spiking", "{", "}", "population", "E", "lif", "[", "]", "10",
            "->", "--", ",", "random", "(", ")", "p", "=", "0.5", "mV", "ms", "/", "*", "-", "record",
            "spikes", "of", "every", "simulate", "1", "s", "\n", "let", "cell", "dataset", "inline",
            "train", "evaluate", "clip", "uniform", "normal", "..", "\"x\"", "import", "weight", "true",
        ]), 0..200)
    ) {
        run(words.join(" ").as_bytes());
    }

    #[test]
    fn arbitrary_overrides_never_panic(path in "[A-Za-z_.>#-]{0,12}", value in "[ -~]{0,16}") {
        let mut loader = |_: &Path| Err(std::io::Error::other("no imports"));
        let overrides = [lang::Override { path, value }];
        let c = lang::compile("fuzz.net", EXAMPLES[2], &mut loader, &overrides);
        let _ = render(&c.diagnostics, &c.sources);
    }

    #[test]
    fn edited_examples_never_panic(example in 0..EXAMPLES.len(), edits in proptest::collection::vec(edit(), 1..8)) {
        run(&apply(EXAMPLES[example], &edits));
    }
}

#[test]
fn the_unedited_examples_compile() {
    for text in EXAMPLES {
        assert!(!run(text.as_bytes()), "{text}");
    }
}
