//! The pest parser, the human name of every grammar rule, a pre-scan that rejects input pest
//! should never see (unterminated strings and comments, unbalanced or absurdly deep brackets),
//! and the conversion of pest's errors into `Diagnostic`s.
//!
//! The pre-scan exists because a PEG parser reports an unclosed `{` as "expected ... at end of
//! file", far from the mistake, and because recursion depth must be bounded before parsing.

use pest::Parser;
use pest::error::{ErrorVariant, InputLocation};

use crate::diag::{Diagnostic, FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/neurosim.pest"]
pub(crate) struct NetParser;

/// Deepest bracket nesting accepted; far beyond any real file, far below stack limits.
pub const MAX_NESTING: usize = 256;

/// How a rule is named in "expected ..." messages.
pub(crate) fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
        Rule::gap | Rule::stmt_sep | Rule::item_sep => "a line break",
        Rule::ident_char => "a letter or digit",
        Rule::keyword => "a keyword",
        Rule::name | Rule::arg_name => "a name",
        Rule::kw_network => "`network`",
        Rule::kw_import => "`import`",
        Rule::kw_let => "`let`",
        Rule::kw_population => "`population`",
        Rule::kw_dataset => "`dataset`",
        Rule::kw_record => "`record`",
        Rule::kw_simulate => "`simulate`",
        Rule::kw_of => "`of`",
        Rule::kw_every => "`every`",
        Rule::kw_clip => "`clip`",
        Rule::kw_train => "`train`",
        Rule::kw_evaluate => "`evaluate`",
        Rule::kw_inline => "`inline`",
        Rule::kw_from => "`from`",
        Rule::kw_until => "`until`",
        Rule::word_network => "`network`",
        Rule::word_import => "`import`",
        Rule::word_let => "`let`",
        Rule::word_population => "`population`",
        Rule::word_dataset => "`dataset`",
        Rule::word_record => "`record`",
        Rule::word_simulate => "`simulate`",
        Rule::word_of => "`of`",
        Rule::word_every => "`every`",
        Rule::word_clip => "`clip`",
        Rule::word_train => "`train`",
        Rule::word_evaluate => "`evaluate`",
        Rule::word_inline => "`inline`",
        Rule::word_from => "`from`",
        Rule::word_until => "`until`",
        Rule::kw_neuron | Rule::word_neuron => "`neuron`",
        Rule::kw_param | Rule::word_param => "`param`",
        Rule::kw_state | Rule::word_state => "`state`",
        Rule::kw_threshold | Rule::word_threshold => "`threshold`",
        Rule::kw_reset | Rule::word_reset => "`reset`",
        Rule::kw_refractory | Rule::word_refractory => "`refractory`",
        Rule::kw_clamp | Rule::word_clamp => "`clamp`",
        Rule::kw_on_pre | Rule::word_on_pre => "`on_pre`",
        Rule::kw_method | Rule::word_method => "`method`",
        Rule::kw_synapse | Rule::word_synapse => "`synapse`",
        Rule::kw_on_post | Rule::word_on_post => "`on_post`",
        Rule::kw_deliver | Rule::word_deliver => "`deliver`",
        Rule::number => "a number",
        Rule::string | Rule::string_text => "a string",
        Rule::boolean => "`true` or `false`",
        Rule::unit | Rule::unit_symbol => "a unit",
        Rule::value | Rule::expr | Rule::term | Rule::factor | Rule::primary => "a value",
        Rule::range_to => "`..`",
        Rule::clip => "`clip [lo, hi]`",
        Rule::add_op => "`+` or `-`",
        Rule::mul_op => "`*` or `/`",
        Rule::negate => "`-`",
        Rule::paren => "a parenthesised value",
        Rule::list => "a list `[...]`",
        Rule::call => "a call `name(...)`",
        Rule::call_args => "arguments `(...)`",
        Rule::arg => "an argument",
        Rule::override_value => "a value",
        Rule::file => "a file",
        Rule::top_item => "`network`, `neuron`, `let`, `table` or `import`",
        Rule::import => "an import",
        Rule::network => "a network",
        Rule::body => "a statement",
        Rule::statement => "a statement",
        Rule::setting => "a setting `name = value`",
        Rule::block => "a block `{ ... }`",
        Rule::param => "a parameter `name = value`",
        Rule::let_stmt => "a template `let NAME = MODEL { ... }`",
        Rule::population => "a population",
        Rule::shape => "a size",
        Rule::projection => "a projection",
        Rule::endpoints => "a population name",
        Rule::arrow => "an arrow `->` or `--`",
        Rule::connector => "a connector",
        Rule::dataset => "a dataset",
        Rule::inline_data => "inline data",
        Rule::row => "a data row `[...] -> [...]`",
        Rule::train => "`train { ... }`",
        Rule::evaluate => "`evaluate { ... }`",
        Rule::simulate => "`simulate`",
        Rule::record => "`record`",
        Rule::record_clause => "`from`, `until` or `every`",
        Rule::record_from => "`from TIME`",
        Rule::record_until => "`until TIME`",
        Rule::record_every => "`every INTERVAL`",
        Rule::targets | Rule::target => "a population or projection",
        Rule::slice => "a slice `[a..b]`",
        Rule::neuron_def => "a neuron model `neuron NAME { ... }`",
        Rule::neuron_body | Rule::neuron_item => {
            "`param`, `state`, `dX/dt = ...`, `let`, `threshold`, `reset`, `refractory`, `on_pre` or `method`"
        }
        Rule::param_decl => "a parameter `param NAME = VALUE`",
        Rule::state_decl => "a state variable `state NAME = VALUE`",
        Rule::derivative => "an equation `dX/dt = ...`",
        Rule::derivative_of => "`dX/dt`",
        Rule::alias => "a named expression `let NAME = ...`",
        Rule::threshold => "`threshold v > ...`",
        Rule::compare => "a comparison `>`, `>=`, `<` or `<=`",
        Rule::reset => "`reset { ... }`",
        Rule::assignments => "assignments `{ x = ..., y += ... }`",
        Rule::assignment => "an assignment `x = ...` or `x += ...`",
        Rule::assign_op => "`=`, `+=`, `-=`, `*=` or `/=`",
        Rule::refractory => "`refractory DURATION`",
        Rule::on_pre => "`on_pre RECEPTOR { ... }`",
        Rule::method_decl => "`method = NAME`",
        Rule::synapse_def => "a synapse model `synapse NAME { ... }`",
        Rule::synapse_body | Rule::synapse_item => {
            "`param`, `state`, `dX/dt = ...`, `let`, `on_pre` or `on_post`"
        }
        Rule::synapse_on_pre => "`on_pre { ... }`",
        Rule::on_post => "`on_post { ... }`",
        Rule::statements => "statements `{ x += ..., let r = ..., deliver w }`",
        Rule::synapse_statement => "an assignment, `let NAME = ...` or `deliver ...`",
        Rule::deliver => "`deliver VALUE`",
        Rule::clip_function => "`clip(x, low, high)`",
        Rule::kw_table | Rule::word_table => "`table`",
        Rule::kw_connect | Rule::word_connect => "`connect`",
        Rule::kw_with | Rule::word_with => "`with`",
        Rule::kw_in | Rule::word_in => "`in`",
        Rule::index | Rule::index_head => "a table entry `table[row, column]`",
        Rule::constant => "a constant `let NAME = VALUE`",
        Rule::with_template => "`with TEMPLATE`",
        Rule::table => "a table `table NAME : to \\ from [...] { ... }`",
        Rule::table_by => "`\\`",
        Rule::table_columns => "column names `[A, B, ...]`",
        Rule::table_unit => "a unit `in UNIT`",
        Rule::table_row => "a table row `NAME: [...]`",
        Rule::connect => "`connect TABLE : CONNECTOR`",
        Rule::connect_block | Rule::connect_item => "a parameter or a pair `A -> B { ... }`",
        Rule::pair_block => "a pair `A -> B { ... }`",
    }
}

/// Words that cannot be names. `train`, `evaluate`, `inline`, `rate`, `spiking`, `from`
/// and `until` are only special where they start a construct, so they stay usable as names.
pub const KEYWORDS: &[&str] = &[
    "network",
    "import",
    "let",
    "population",
    "dataset",
    "record",
    "simulate",
    "of",
    "every",
    "clip",
    "true",
    "false",
];

/// Checks what the grammar cannot check well: string and comment termination, bracket
/// balance and nesting depth. Returns the diagnostics; if any, the text is not parsed.
pub(crate) fn prescan(file: FileId, text: &str) -> Vec<Diagnostic> {
    let bytes = text.as_bytes();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    // Matched `{ }` pairs, to guess which block lost its `}` when one is missing.
    let mut braces: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                match text[i + 2..].find("*/") {
                    Some(end) => i += 2 + end + 2,
                    None => {
                        return vec![
                            Diagnostic::error("E0003", "unterminated block comment")
                                .with_label(
                                    Span::new(file, start, start + 2),
                                    "comment starts here",
                                )
                                .with_help("close it with `*/`"),
                        ];
                    }
                }
                continue;
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        Some(b'"') => break,
                        Some(b'\\') => i += 2,
                        Some(b'\n') | None => {
                            let end = i.min(bytes.len());
                            return vec![
                                Diagnostic::error("E0002", "unterminated string")
                                    .with_label(
                                        Span::new(file, start, end),
                                        "this string has no closing `\"`",
                                    )
                                    .with_help("strings end on the line they start: add `\"`"),
                            ];
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            open @ (b'(' | b'[' | b'{') => {
                stack.push((open, i));
                if stack.len() > MAX_NESTING {
                    return vec![
                        Diagnostic::error(
                            "E0004",
                            format!("brackets nested more than {MAX_NESTING} deep"),
                        )
                        .with_label(Span::new(file, i, i + 1), "too deep here")
                        .with_note("neurosim refuses deeper nesting to stay safe on any input"),
                    ];
                }
            }
            close @ (b')' | b']' | b'}') => {
                let expected = match close {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match stack.pop() {
                    Some((open, at)) if open == expected => {
                        if open == b'{' {
                            braces.push((at, i));
                        }
                    }
                    Some((open, at)) => {
                        return vec![
                            Diagnostic::error(
                                "E0008",
                                format!(
                                    "mismatched `{}`: expected `{}`",
                                    close as char,
                                    closer(open) as char
                                ),
                            )
                            .with_label(Span::new(file, i, i + 1), "does not close the bracket")
                            .with_label(Span::new(file, at, at + 1), "this one is still open"),
                        ];
                    }
                    None => {
                        return vec![
                            Diagnostic::error(
                                "E0008",
                                format!("unexpected `{}`: nothing to close", close as char),
                            )
                            .with_label(Span::new(file, i, i + 1), "no matching opening bracket")
                            .with_help(format!(
                                "is an opening `{}` missing before this point?",
                                expected as char
                            )),
                        ];
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(&(open, at)) = stack.last() {
        let mut d = Diagnostic::error("E0008", format!("unclosed `{}`", open as char))
            .with_label(Span::new(file, at, at + 1), "opened here and never closed")
            .with_help(format!("add `{}`", closer(open) as char));
        // A `}` that starts its line but is indented unlike the line of the `{` it closed
        // most likely belongs to an outer block: the inner one is the one missing its `}`.
        if open == b'{'
            && let Some(&(o, c)) = braces.iter().find(|&&(o, c)| {
                o > at && starts_line(text, c) && indent_of(text, o) != indent_of(text, c)
            })
        {
            let line = text[..c].matches('\n').count() + 1;
            d = d.with_label(
                Span::new(file, o, o + 1),
                format!("perhaps this `{{` is the one missing its `}}`: the `}}` on line {line} does not line up with it"),
            );
        }
        return vec![d];
    }
    Vec::new()
}

fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

fn indent_of(text: &str, pos: usize) -> usize {
    let start = line_start(text, pos);
    text[start..].len() - text[start..].trim_start_matches([' ', '\t']).len()
}

fn starts_line(text: &str, pos: usize) -> bool {
    text[line_start(text, pos)..pos].trim().is_empty()
}

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// Runs pest on `text` for `rule`.
///
/// pest's error detail (the literal tokens expected at the failure, such as `}` or `:`)
/// roughly doubles parse time, so a file is parsed without it and, only if that fails,
/// parsed again with it for the message. The switch is process-wide and only ever turned
/// on, so a message never depends on what another thread is parsing.
pub(crate) fn parse_rule(
    rule: Rule,
    file: FileId,
    text: &str,
) -> Result<pest::iterators::Pairs<'_, Rule>, Diagnostic> {
    match NetParser::parse(rule, text) {
        Ok(pairs) => Ok(pairs),
        Err(_) => {
            pest::set_error_detail(true);
            NetParser::parse(rule, text).map_err(|detailed| convert_error(file, text, detailed))
        }
    }
}

fn convert_error(file: FileId, text: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    let mut pos = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut rules: Vec<String> = Vec::new();
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
        for r in positives {
            let n = rule_name(*r).to_string();
            if !rules.contains(&n) && n != "whitespace" {
                rules.push(n);
            }
        }
    }
    let mut expected: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !expected.contains(&s) {
            expected.push(s);
        }
    };
    if let Some(attempts) = error.parse_attempts() {
        for token in attempts.expected_tokens() {
            // Literal tokens print as themselves; character ranges and built-in rules are
            // covered by the rule names.
            let t = token.to_string();
            let is_range = t.len() > 2 && t.chars().nth(1) == Some('.') && t.chars().count() == 4;
            let trivia = ["/", "//", "/*", "*/", "\u{FEFF}"];
            if t == "BUILTIN_RULE"
                || is_range
                || t.trim().is_empty()
                || trivia.contains(&t.as_str())
            {
                continue;
            }
            if t == "\n" || t == "\r\n" || t == ";" {
                // `;` is only ever expected where a statement may end.
                push("a new line".into());
            } else if t == "_" {
                // The first character of a name: covered by "a name".
            } else {
                push(format!("`{t}`"));
            }
        }
        // pest's rule-level position stops where the last *rule* failed; a literal such as
        // `:` can fail further on. The furthest point reached, if a token was expected
        // there, is where the mistake is.
        if attempts.max_position > pos && !expected.is_empty() {
            pos = attempts.max_position;
            rules.clear();
        } else if attempts.max_position > pos {
            expected.clear();
        }
        if !expected.is_empty() && attempts.max_position == pos && rules.len() > 3 {
            // Literal tokens say it more precisely than a list of enclosing rules.
            rules.retain(|r| r == "a name" || r == "a value" || r == "a number");
        }
    }
    // Rules first (they say what is meant), then literal tokens not already implied by a rule.
    let implied: &[(&str, &str)] = &[
        ("a block `{ ... }`", "`{`"),
        ("arguments `(...)`", "`(`"),
        ("a list `[...]`", "`[`"),
        ("a slice `[a..b]`", "`[`"),
        ("an arrow `->` or `--`", "`->`"),
        ("an arrow `->` or `--`", "`--`"),
        ("a value", "`\"`"),
        ("a value", "`(`"),
        ("a value", "`-`"),
        ("a value", "`.`"),
        ("a value", "`[`"),
        ("a value", "`true`"),
        ("a value", "`false`"),
        ("a value", "`clip`"),
        ("a string", "`\"`"),
        ("`+` or `-`", "`+`"),
        ("`+` or `-`", "`-`"),
        ("`*` or `/`", "`*`"),
        ("`*` or `/`", "`/`"),
    ];
    let mut all = rules;
    for e in expected {
        let covered = implied
            .iter()
            .any(|(rule, tok)| *tok == e && all.iter().any(|r| r == rule));
        if !covered && !all.contains(&e) {
            all.push(e);
        }
    }
    // Where a value could end, operators that might continue it are noise: the mistake is
    // almost always a missing separator.
    let ends = ["`,`", "a new line", "`}`", "`)`", "`]`"];
    if all.iter().any(|e| ends.contains(&e.as_str())) {
        let continuations = ["`*`", "`+`", "`-`", "`/`", "`..`", "`clip`", "`E`", "`.`"];
        all.retain(|e| !continuations.contains(&e.as_str()));
    }
    let found = describe_found(text, pos);
    let message = if all.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_or(&all))
    };
    let end = next_token_end(text, pos);
    let mut d = Diagnostic::error("E0001", message).with_label(
        Span::new(file, pos, end),
        if all.is_empty() {
            "unexpected here".to_string()
        } else {
            format!("expected {}", join_or(&all))
        },
    );
    let word = word_at(text, pos);
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let line = &text[line_start..line_end];
    if line.contains("=>") {
        d = d.with_help("a projection is written with `->` (or `--` for undirected), not `=>`");
    } else if !word.is_empty() && all.iter().any(|e| e == "`,`" || e == "a new line") && {
        let before = &text[line_start..pos];
        before.matches('{').count() > before.matches('}').count() && before.contains('=')
    } {
        d = d.with_help("separate parameters with `,` or a new line");
    } else if !word.is_empty()
        && all.iter().any(|e| e == "a block `{ ... }`")
        && text[pos + word.len()..].trim_start().starts_with('=')
    {
        d = d.with_help(format!("parameters go in braces: `{{ {word} = ... }}`"));
    }
    if let Some(keyword) = misspelt_keyword(text, line_start, pos) {
        d = d.with_help(format!("did you mean `{keyword}`?"));
    }
    if KEYWORDS.contains(&word) && all.iter().any(|e| e == "a name") {
        d = d.with_help(format!(
            "`{word}` is a keyword and cannot be used as a name; pick another name"
        ));
    }
    d
}

/// Words that begin a statement or item, for "did you mean" on a misspelt one.
const STATEMENT_KEYWORDS: &[&str] = &[
    "network",
    "import",
    "let",
    "population",
    "dataset",
    "record",
    "simulate",
    "train",
    "evaluate",
];

/// The keyword the first word of the line was probably meant to be (`populaton E : lif[10]`
/// fails at `E`, `netwrok` at itself), when the error is at that word or right after it.
fn misspelt_keyword(text: &str, line_start: usize, pos: usize) -> Option<&'static str> {
    let line = &text[line_start..];
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let start = line_start + indent;
    let first = word_at(text, start);
    // Short words (`dt`, `E`) are too close to too many keywords to guess.
    if first.chars().count() < 4 || STATEMENT_KEYWORDS.contains(&first) || pos < start {
        return None;
    }
    if pos != start {
        let gap = text.get(start + first.len()..pos)?;
        if !gap.chars().all(|c| c == ' ' || c == '\t') {
            return None;
        }
    }
    crate::diag::suggest(first, STATEMENT_KEYWORDS.iter().copied())
        .and_then(|k| STATEMENT_KEYWORDS.iter().copied().find(|s| *s == k))
}

fn word_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos..).unwrap_or("");
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    &rest[..len]
}

fn next_token_end(text: &str, pos: usize) -> usize {
    let word = word_at(text, pos);
    if !word.is_empty() {
        return pos + word.len().min(64);
    }
    match text.get(pos..).and_then(|r| r.chars().next()) {
        Some('\n') | None => pos,
        Some(c) => pos + c.len_utf8(),
    }
}

fn describe_found(text: &str, pos: usize) -> String {
    let word = word_at(text, pos);
    if !word.is_empty() {
        let shown: String = word.chars().take(32).collect();
        let ellipsis = if word.len() > shown.len() { "…" } else { "" };
        return format!("`{shown}{ellipsis}`");
    }
    match text.get(pos..).and_then(|r| r.chars().next()) {
        None => "end of file".into(),
        Some('\n') | Some('\r') => "end of line".into(),
        Some(c) => format!("`{c}`"),
    }
}

/// `a`, `a or b`, `a, b or c`.
pub(crate) fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
