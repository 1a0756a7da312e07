//! Renders diagnostics for a terminal (placeholder: message and location only).

use crate::diag::{Diagnostic, SourceMap};

/// rustc-style text for every diagnostic.
pub fn render(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out += &format!("{d}\n");
        if let Some(span) = d.primary_span() {
            let (line, col) = sources.line_col(span.file, span.start);
            let name = sources.get(span.file).map_or("?", |f| f.name.as_str());
            out += &format!(" --> {name}:{line}:{col}\n");
        }
    }
    out
}
