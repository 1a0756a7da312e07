//! The examples of docs/LANGUAGE.md, for tests that compile what the reference shows.

use std::path::Path;

/// The ```-blocks of the section of docs/LANGUAGE.md that starts with `heading`, up to the
/// next `## ` heading.
pub fn code_blocks(heading: &str) -> Vec<String> {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/LANGUAGE.md"))
            .expect("docs/LANGUAGE.md");
    let start = docs.find(heading).expect("the section exists");
    let section = &docs[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .split("```")
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}
