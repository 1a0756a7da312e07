//! Renders diagnostics as text in rustc's style: a header with code and message, the
//! location, the source lines with the spans underlined and labelled, then notes and help.
//!
//! A pure function of its inputs (no colour, no terminal queries), so it can be snapshotted.
//! Tabs are shown as four spaces and columns count characters (wide East Asian characters
//! count two), so underlines stay under the text they mark.

use std::fmt::Write;

use super::{Diagnostic, FileId, Label, Severity, SourceMap};

/// Renders every diagnostic, separated by blank lines.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_one(&mut out, d, sources);
    }
    out
}

fn render_one(out: &mut String, d: &Diagnostic, sources: &SourceMap) {
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{kind}[{}]: {}", d.code, clip_text(&d.message));

    // Lines to show, grouped by file in order of first appearance (primary file first).
    let mut files: Vec<FileId> = Vec::new();
    for l in &d.labels {
        if sources.get(l.span.file).is_some() && !files.contains(&l.span.file) {
            files.push(l.span.file);
        }
    }
    let gutter = d
        .labels
        .iter()
        .filter_map(|l| {
            sources
                .get(l.span.file)
                .map(|_| sources.line_col(l.span.file, l.span.end).0)
        })
        .max()
        .unwrap_or(1)
        .to_string()
        .len();
    let pad = " ".repeat(gutter);

    for (fi, file) in files.iter().enumerate() {
        let Some(src) = sources.get(*file) else {
            continue;
        };
        let labels: Vec<&Label> = d.labels.iter().filter(|l| l.span.file == *file).collect();
        let first = labels[0];
        let (line, col) = sources.line_col(*file, first.span.start);
        let arrow = if fi == 0 { "-->" } else { ":::" };
        let _ = writeln!(out, "{pad}{arrow} {}:{line}:{col}", src.name);
        let _ = writeln!(out, "{pad} |");
        render_snippet(out, &src.text, &labels, gutter, d.labels.first());
    }
    let has_snippet = !files.is_empty();
    for note in &d.notes {
        if !has_snippet {
            let _ = writeln!(out, "{pad} |");
        }
        let _ = writeln!(out, "{pad} = note: {}", clip_text(note));
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{pad} = help: {}", clip_text(help));
    }
}

/// One file's lines with underlines beneath them.
fn render_snippet(
    out: &mut String,
    text: &str,
    labels: &[&Label],
    gutter: usize,
    primary: Option<&Label>,
) {
    let lines = line_starts(text);
    // Every label as (first line, last line, label), sorted by position.
    let mut items: Vec<(usize, usize, &Label)> = labels
        .iter()
        .map(|l| {
            let s = (l.span.start as usize).min(text.len());
            let e = (l.span.end as usize).min(text.len()).max(s);
            let first = line_of(&lines, s);
            let last = line_of(&lines, if e > s { e - 1 } else { e });
            (first, last.max(first), *l)
        })
        .collect();
    items.sort_by_key(|(f, _, l)| (*f, l.span.start));

    let mut last_shown: Option<usize> = None;
    // Columns cut off the front of the line last shown (very long lines are windowed).
    let mut shift = 0;
    for (first, last, label) in items {
        let is_primary = primary.is_some_and(|p| std::ptr::eq(p, label));
        let mark = if is_primary { '^' } else { '-' };
        if let Some(prev) = last_shown
            && first > prev + 1
        {
            let _ = writeln!(out, "...");
        }
        let start = (label.span.start as usize).min(text.len());
        let end = (label.span.end as usize).min(text.len()).max(start);
        if first == last {
            let line_text = line_text(text, &lines, first);
            let ls = lines[first];
            let from = display_width(&line_text[..floor(line_text, start - ls)]);
            let to = display_width(&line_text[..floor(line_text, end - ls)]);
            if last_shown != Some(first) {
                let (shown, s) = window(line_text, from);
                shift = s;
                let _ = writeln!(out, "{:>gutter$} | {}", first + 1, shown.trim_end());
            }
            let from = from.saturating_sub(shift);
            let n = (to.saturating_sub(shift) - from).clamp(1, MAX_LINE);
            let _ = writeln!(
                out,
                "{} | {}{}{}",
                " ".repeat(gutter),
                " ".repeat(from),
                mark.to_string().repeat(n),
                if label.message.is_empty() {
                    String::new()
                } else {
                    format!(" {}", clip_text(&label.message))
                }
            );
            last_shown = Some(first);
        } else {
            // A span over several lines: mark where it starts and where it ends, eliding
            // the middle of long spans.
            let first_text = line_text(text, &lines, first);
            let from = display_width(&first_text[..floor(first_text, start - lines[first])]);
            write_line(out, text, &lines, first, gutter);
            let _ = writeln!(
                out,
                "{} |  {}{}",
                " ".repeat(gutter),
                "_".repeat(from),
                mark
            );
            let shown: Vec<usize> = if last - first > 4 {
                vec![first + 1, usize::MAX, last]
            } else {
                (first + 1..=last).collect()
            };
            for l in shown {
                if l == usize::MAX {
                    let _ = writeln!(out, "{} | |...", " ".repeat(gutter));
                    continue;
                }
                let t = expand_tabs(line_text(text, &lines, l));
                let _ = writeln!(out, "{:>gutter$} | | {}", l + 1, t.trim_end());
            }
            let last_text = line_text(text, &lines, last);
            let to = display_width(&last_text[..floor(last_text, end - lines[last])]);
            let _ = writeln!(
                out,
                "{} | |{}{}{}",
                " ".repeat(gutter),
                "_".repeat(to.max(1)),
                mark,
                if label.message.is_empty() {
                    String::new()
                } else {
                    format!(" {}", label.message)
                }
            );
            last_shown = Some(last);
        }
    }
    let _ = writeln!(out, "{} |", " ".repeat(gutter));
}

fn write_line(out: &mut String, text: &str, lines: &[usize], line: usize, gutter: usize) {
    let (t, _) = window(line_text(text, lines, line), 0);
    let _ = writeln!(out, "{:>gutter$} | {}", line + 1, t.trim_end());
}

/// Longest source line shown in full, and longest message, in columns.
const MAX_LINE: usize = 160;
const MAX_MESSAGE: usize = 300;

/// The line with tabs expanded; a line wider than `MAX_LINE` is cut to a window that starts
/// a little before column `from`, with `…` marking what was left out. Returns the text and
/// how many columns were cut from the front (minus the `…`).
fn window(line: &str, from: usize) -> (String, usize) {
    let expanded = expand_tabs(line);
    if display_width(&expanded) <= MAX_LINE {
        return (expanded, 0);
    }
    let start = from.saturating_sub(40);
    let mut out = String::new();
    let mut col = 0;
    if start > 0 {
        out.push('…');
    }
    for c in expanded.chars() {
        let w = display_width(c.encode_utf8(&mut [0; 4]));
        if col >= start && col + w <= start + MAX_LINE {
            out.push(c);
        }
        col += w;
        if col > start + MAX_LINE {
            out.push('…');
            break;
        }
    }
    (out, start.saturating_sub(usize::from(start > 0)))
}

fn clip_text(s: &str) -> String {
    if s.chars().count() <= MAX_MESSAGE {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_MESSAGE).collect();
    out.push('…');
    out
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    v
}

fn line_of(lines: &[usize], offset: usize) -> usize {
    match lines.binary_search(&offset) {
        Ok(i) => i,
        Err(i) => i - 1,
    }
}

/// The text of line `i` without its line break.
fn line_text<'a>(text: &'a str, lines: &[usize], i: usize) -> &'a str {
    let start = lines[i].min(text.len());
    let end = lines.get(i + 1).map_or(text.len(), |e| e - 1).max(start);
    text[start..end].trim_end_matches('\r')
}

/// The largest char boundary not after `i` (spans may end inside a multi-byte character).
fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn expand_tabs(s: &str) -> String {
    s.replace('\t', "    ")
}

/// Columns the text takes on a terminal: tabs are four, wide characters two, the rest one.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\t' => 4,
            c if is_wide(c) => 2,
            _ => 1,
        })
        .sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;

    fn one(text: &str, start: usize, end: usize) -> String {
        let mut map = SourceMap::new();
        let f = map.add("a.net", text);
        let d = Diagnostic::error("E0102", "unknown parameter `tau_mem` for lif")
            .with_label(Span::new(f, start, end), "not a parameter of lif")
            .with_help("did you mean `tau_m`?");
        render(&[d], &map)
    }

    #[test]
    fn underlines_the_span_under_its_text() {
        let text = "population E : lif[10] {\n    tau_mem = 20 ms\n}\n";
        let start = text.find("tau_mem").unwrap();
        let r = one(text, start, start + 7);
        assert!(
            r.starts_with("error[E0102]: unknown parameter `tau_mem` for lif\n --> a.net:2:5\n"),
            "{r}"
        );
        assert!(
            r.contains("2 |     tau_mem = 20 ms\n  |     ^^^^^^^ not a parameter of lif\n"),
            "{r}"
        );
        assert!(r.ends_with("  = help: did you mean `tau_m`?\n"), "{r}");
    }

    #[test]
    fn tabs_and_wide_characters_keep_the_underline_aligned() {
        let text = "\t\"µ日\" x";
        let start = text.find('x').unwrap();
        let r = one(text, start, start + 1);
        // 4 (tab) + 1 (") + 1 (µ) + 2 (日) + 1 (") + 1 (space) = 10 columns before `x`.
        assert!(r.contains(&format!("  | {}^ not", " ".repeat(10))), "{r}");
    }

    #[test]
    fn spans_over_several_lines_mark_both_ends() {
        let text = "a = [1,\n  2,\n  3]\n";
        let r = one(text, 4, text.find(']').unwrap() + 1);
        assert!(
            r.contains("1 | a = [1,\n  |  ____^\n2 | |   2,\n3 | |   3]\n  | |____^"),
            "{r}"
        );
    }

    #[test]
    fn a_span_at_end_of_file_still_renders() {
        let r = one("network x : rate {", 18, 18);
        assert!(
            r.contains("1 | network x : rate {\n  |                   ^"),
            "{r}"
        );
    }
}
