//! The parts of a request that are not the conversation: the system prompt,
//! and the AGENTS.md files that apply where tandem runs.

use std::path::{Path, PathBuf};

pub(crate) const SYSTEM_PROMPT: &str = include_str!("../../assets/prompts/system.md");

/// AGENTS.md files from the repository root down to `cwd`, outermost first,
/// so the closest instructions come last and weigh most.
pub(crate) fn agents_files(root: &Path, cwd: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(rel) = cwd.strip_prefix(root) {
        let mut d = root.to_path_buf();
        for part in rel.components() {
            d.push(part);
            dirs.push(d.clone());
        }
    }
    dirs.into_iter().map(|d| d.join("AGENTS.md")).filter(|p| p.is_file()).collect()
}

/// How to work with the tools there are, or without any.
const WITH_TOOLS: &str = "- Read before you change: use the tools to look at the code you are asked about instead of \
     guessing.\n- Propose edits with the edit tools. Nothing you propose is written until the developer approves it, \
     hunk by hunk; the tool result tells you what was accepted, rejected (with the reason), or edited. Continue from \
     that real state.";
const WITHOUT_TOOLS: &str = "- You have no tools in this session: you cannot open files or change them. Work from the \
     repository map below and from what the developer pastes; when you need a file, ask for it. Show changes as \
     fenced diffs.";

/// The system prompt with the repository's AGENTS.md instructions appended.
pub(crate) fn system_prompt(root: &Path, cwd: &Path, is_git: bool, has_tools: bool, date: &str) -> String {
    let git = if is_git { "is a git repository" } else { "is not a git repository: edits are written but not staged" };
    let mut out = SYSTEM_PROMPT
        .replace("{tools}", if has_tools { WITH_TOOLS } else { WITHOUT_TOOLS })
        .replace("{root}", &root.display().to_string())
        .replace("{date}", date)
        .replace("{git}", git);
    for path in agents_files(root, cwd) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let rel = path.strip_prefix(root).unwrap_or(&path);
        out.push_str(&format!("\n\n# Instructions from {}\n\n{}", rel.display(), text.trim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_files_from_root_to_cwd_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        std::fs::write(root.join("AGENTS.md"), "root rules").expect("write");
        std::fs::write(root.join("a/b/AGENTS.md"), "inner rules").expect("write");
        std::fs::write(root.join("a/AGENTS.md.bak"), "not this").expect("write");
        let files = agents_files(root, &root.join("a/b"));
        assert_eq!(files, vec![root.join("AGENTS.md"), root.join("a/b/AGENTS.md")]);
        let prompt = system_prompt(root, &root.join("a/b"), true, true, "2026-01-01");
        let r = prompt.find("root rules").expect("root");
        let i = prompt.find("inner rules").expect("inner");
        assert!(r < i);
        assert!(prompt.contains("# Instructions from a/b/AGENTS.md"));
        assert!(!prompt.contains("{root}") && !prompt.contains("{tools}") && prompt.contains("2026-01-01"));
        assert!(prompt.contains("use the tools"));
        let bare = system_prompt(root, root, true, false, "2026-01-01");
        assert!(bare.contains("You have no tools") && !bare.contains("use the tools"));
        // A cwd outside the root contributes only the root's file.
        assert_eq!(agents_files(root, Path::new("/elsewhere")), vec![root.join("AGENTS.md")]);
    }
}
