//! The README's fenced blocks, for tests that run or lint them as written.

use std::path::PathBuf;

/// The README's text.
pub fn text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// Every fenced ```sh block whose text contains `needle`, without its
/// indentation (blocks inside list items are indented).
pub fn sh_blocks_with(needle: &str) -> Vec<String> {
    blocks_with("sh", needle)
}

/// Every fenced ```yaml block whose text contains `needle`, as
/// [`sh_blocks_with`] gives them: without the fence's indentation, the lines
/// joined by `\n` (no newline after the last one).
pub fn yaml_blocks_with(needle: &str) -> Vec<String> {
    blocks_with("yaml", needle)
}

fn blocks_with(language: &str, needle: &str) -> Vec<String> {
    let fence = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for line in text().lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut current {
            None if trimmed == fence => current = Some((indent, Vec::new())),
            None => {}
            Some(_) if trimmed == "```" => {
                if let Some((_, lines)) = current.take() {
                    let block = lines.join("\n");
                    if block.contains(needle) {
                        blocks.push(block);
                    }
                }
            }
            Some((indent, lines)) => {
                // Leading spaces up to the fence's own indentation.
                let spaces = line.len() - trimmed.len();
                lines.push(line[spaces.min(*indent)..].to_owned());
            }
        }
    }
    blocks
}
