//! The `*** Begin Patch` format as models really write it: blank lines
//! between chunks and around every `***` marker, whitespace before and
//! after markers, CRLF endings, no final newline. Codex's own parser skips
//! blank lines between chunks (codex-rs/apply-patch/src/parser.rs) and its
//! scenarios pad markers with whitespace (tests/fixtures/scenarios 017,
//! 018, 020); a patch that differs from a well-formed one only so must do
//! exactly what the well-formed one does.

use std::collections::BTreeMap;

use tandem::patch::ChangeKind;
use tandem::patch::apply_patch::{apply, parse};

use crate::harness::Family;

const APP: &str =
    "import os\n\n\ndef main():\n    path = os.getcwd()\n    print(path)\n\n\ndef helper():\n    return 1\n";

/// Every operation and marker: an update with two anchored chunks, the
/// second at the end of the file; a delete; an add with a blank line; a
/// move with an edit at the end of the file.
const PATCH: [&str; 20] = [
    "*** Begin Patch",
    "*** Update File: src/app.py",
    "@@ def main():",
    "     path = os.getcwd()",
    "-    print(path)",
    "+    print(path, flush=True)",
    "@@ def helper():",
    "-    return 1",
    "+    return 2",
    "*** End of File",
    "*** Delete File: old.txt",
    "*** Add File: notes.md",
    "+# Notes",
    "+",
    "+Read me.",
    "*** Update File: lib.rs",
    "*** Move to: src/lib.rs",
    "@@",
    "-pub fn f() {}",
    "+pub fn f() -> u8 { 0 }",
];
const END: &str = "*** End Patch";

/// Lines after which a blank line separates rather than means something
/// (a blank line inside a chunk is a blank context line; right after
/// `*** Add File:` it is a blank line of the new file).
const SEPARATES_AFTER: [usize; 9] = [0, 1, 5, 9, 10, 14, 15, 16, 19];

/// Marker lines that may be indented: those that do not follow a chunk's
/// lines, where an indented line is a context line.
const MAY_BE_INDENTED: [usize; 6] = [0, 1, 10, 11, 15, 16];

type Tree = BTreeMap<String, String>;

fn files() -> Tree {
    [("src/app.py", APP), ("old.txt", "bye\n"), ("lib.rs", "pub fn f() {}\n")]
        .into_iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

/// The tree the patch leaves, or why it failed.
fn run(patch: &str) -> Result<Tree, String> {
    let before = files();
    let parsed = parse(patch).map_err(|e| e.to_string())?;
    let changes = apply(&parsed, &|p: &str| Ok(before.get(p).cloned())).map_err(|e| e.to_string())?;
    let mut tree = before.clone();
    for c in changes {
        let path = c.path.to_string_lossy().into_owned();
        match c.kind {
            ChangeKind::Delete => {
                tree.remove(&path);
            }
            ChangeKind::Move => {
                tree.remove(&path);
                let to = c.new_path.map(|p| p.to_string_lossy().into_owned()).unwrap_or(path);
                tree.insert(to, c.proposed.unwrap_or_default());
            }
            ChangeKind::Add | ChangeKind::Modify => {
                tree.insert(path, c.proposed.unwrap_or_default());
            }
        }
    }
    Ok(tree)
}

/// The patch's lines with `END` and the ending applied.
fn join(lines: &[String], ending: &str) -> String {
    let mut all: Vec<&str> = lines.iter().map(String::as_str).collect();
    all.push(END);
    match ending {
        "CRLF" => format!("{}\r\n", all.join("\r\n")),
        "no final newline" => all.join("\n"),
        _ => format!("{}\n", all.join("\n")),
    }
}

pub fn family() -> Family {
    let mut f = Family::new("patch format");
    let base: Vec<String> = PATCH.iter().map(|l| l.to_string()).collect();
    let expected = match run(&join(&base, "LF")) {
        Ok(tree) => tree,
        Err(e) => {
            f.case("the well-formed patch applies", false, e);
            return f;
        }
    };
    let same = |f: &mut Family, what: String, lines: &[String], ending: &str| {
        let text = join(lines, ending);
        f.check(format!("{what} ({ending})"), || match run(&text) {
            Ok(tree) if tree == expected => Ok(()),
            Ok(tree) => Err(format!("applied differently: {tree:?}")),
            Err(e) => Err(e),
        });
    };

    for ending in ["LF", "CRLF", "no final newline"] {
        // The case from the issue: a blank line after `*** End of File`.
        let mut lines = base.clone();
        lines.insert(10, String::new());
        same(&mut f, "issue case: a blank line after *** End of File".into(), &lines, ending);

        for blank in ["", "  ", "\t", " "] {
            for &after in &SEPARATES_AFTER {
                let mut lines = base.clone();
                lines.insert(after + 1, blank.to_string());
                let what = format!("{blank:?} after line {} `{}`", after + 1, PATCH.get(after).unwrap_or(&END));
                same(&mut f, what, &lines, ending);
            }
            let mut lines = base.clone();
            for &after in SEPARATES_AFTER.iter().rev() {
                lines.insert(after + 1, blank.to_string());
                lines.insert(after + 1, blank.to_string());
            }
            same(&mut f, format!("two {blank:?} lines at every separating place"), &lines, ending);
            let mut lines = base.clone();
            lines.insert(0, blank.to_string());
            same(&mut f, format!("{blank:?} before *** Begin Patch"), &lines, ending);
        }

        for (i, line) in PATCH.iter().enumerate().filter(|(_, l)| l.starts_with("***") || l.starts_with("@@")) {
            for pad in ["  ", "\t", " \t "] {
                let mut lines = base.clone();
                lines[i] = format!("{line}{pad}");
                same(&mut f, format!("`{line}` followed by {pad:?}"), &lines, ending);
                if MAY_BE_INDENTED.contains(&i) {
                    let mut lines = base.clone();
                    lines[i] = format!("{pad}{line}");
                    same(&mut f, format!("`{line}` indented by {pad:?}"), &lines, ending);
                }
            }
        }
        let mut lines = base.clone();
        lines.push(String::new());
        same(&mut f, "a blank line before *** End Patch".into(), &lines, ending);
    }

    // Context lines with trailing whitespace the file does not have, and a
    // marker spelt with the end of file's blank line: still the same edit.
    let mut lines = base.clone();
    lines[3] = "     path = os.getcwd()   ".into();
    same(&mut f, "a context line with trailing spaces".into(), &lines, "LF");
    f
}
