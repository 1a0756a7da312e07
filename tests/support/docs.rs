//! The code blocks of a section of docs/LANGUAGE.md, so tests run what the docs show.
#![allow(dead_code)]

use std::path::Path;

/// The ```-blocks of the section titled `## {title}` that contain `keyword`.
pub fn code_blocks(title: &str, keyword: &str) -> Vec<String> {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/LANGUAGE.md"))
            .expect("docs/LANGUAGE.md");
    let start = docs
        .find(&format!("## {title}"))
        .unwrap_or_else(|| panic!("docs/LANGUAGE.md has a section `{title}`"));
    let section = &docs[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .split("```")
        .skip(1)
        .step_by(2)
        .filter(|block| block.contains(keyword))
        .map(str::to_string)
        .collect()
}

/// The name a block defines: the word after `keyword` at the start of a line.
pub fn defined_name<'a>(block: &'a str, keyword: &str) -> &'a str {
    block
        .lines()
        .find_map(|line| line.strip_prefix(keyword))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("a definition line `{keyword}NAME {{`"))
}
