//! Text to network: the `.net` language's parser, semantic checks and lowering to `ir`.
//! The only module that knows pest.

use std::path::Path;

use crate::diag::{Diagnostic, SourceMap};
use crate::ir::Network;

/// A `--set PATH=VALUE` override, applied to the checked file as if it had been written there.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: String,
    pub value: String,
}

/// Everything a compilation produced. `networks` is empty if any error was reported.
#[derive(Debug, Default)]
pub struct Compilation {
    pub networks: Vec<Network>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
}

/// Reads an imported file (paths already resolved against the importing file's folder).
pub type Loader<'a> = &'a mut dyn FnMut(&Path) -> std::io::Result<String>;

/// Compiles the `.net` file `name` with contents `text`.
pub fn compile(name: &str, text: &str, loader: Loader, overrides: &[Override]) -> Compilation {
    let _ = (loader, overrides);
    let mut sources = SourceMap::new();
    sources.add(name, text);
    Compilation {
        networks: Vec::new(),
        diagnostics: vec![Diagnostic::error(
            "E0000",
            "the .net compiler is not built yet",
        )],
        sources,
    }
}
