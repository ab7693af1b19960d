//! Conformance cases for the `*** Begin Patch` format, one directory each
//! under `tests/fixtures/patch/`: `before/` (the files the patch meets; may
//! be absent), `patch` (the patch text), and either `after/` (the files it
//! must leave, compared byte for byte) or `error` (a part of the message it
//! must fail with).
//!
//! The cases follow what Codex's own parser and scenarios accept
//! (codex-rs/apply-patch: blank lines between chunks are skipped, markers
//! may be padded with whitespace) and what Aider's editblock requires of
//! indentation (a quote may be off by one uniform prefix only); the files
//! and patches are our own.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tandem::patch::ChangeKind;
use tandem::patch::apply_patch::{apply, parse};

type Tree = BTreeMap<String, Vec<u8>>;

fn read_tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, tree);
            } else if let (Ok(rel), Ok(bytes)) = (path.strip_prefix(root), fs::read(&path)) {
                let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                tree.insert(rel, bytes);
            }
        }
    }
    let mut tree = Tree::new();
    walk(root, root, &mut tree);
    tree
}

/// Applies the case's patch to its `before` tree: the resulting tree, or
/// the error message.
fn run(case: &Path) -> Result<Tree, String> {
    let mut tree = read_tree(&case.join("before"));
    let patch = fs::read_to_string(case.join("patch")).map_err(|e| format!("reading the patch: {e}"))?;
    let patch = parse(&patch).map_err(|e| e.to_string())?;
    let before = tree.clone();
    let read = |path: &str| -> Result<Option<String>, String> {
        before.get(path).map(|b| String::from_utf8(b.clone()).map_err(|e| e.to_string())).transpose()
    };
    for change in apply(&patch, &read).map_err(|e| e.to_string())? {
        let path = change.path.to_string_lossy().into_owned();
        let proposed = change.proposed.map(String::into_bytes);
        match change.kind {
            ChangeKind::Delete => {
                tree.remove(&path);
            }
            ChangeKind::Add | ChangeKind::Modify => {
                tree.insert(path, proposed.unwrap_or_default());
            }
            ChangeKind::Move => {
                tree.remove(&path);
                let to = change.new_path.unwrap_or_else(|| PathBuf::from(&path));
                tree.insert(to.to_string_lossy().into_owned(), proposed.unwrap_or_default());
            }
        }
    }
    Ok(tree)
}

fn check(case: &Path) -> Result<(), String> {
    let result = run(case);
    if let Ok(expected) = fs::read_to_string(case.join("error")) {
        let expected = expected.trim_end();
        return match result {
            Err(message) if message.contains(expected) => Ok(()),
            Err(message) => Err(format!("wrong error:\n  got:  {message}\n  want: {expected}")),
            Ok(_) => Err(format!("applied, but should fail with: {expected}")),
        };
    }
    let got = result?;
    let want = read_tree(&case.join("after"));
    if got == want {
        return Ok(());
    }
    let show = |t: &Tree| t.iter().map(|(p, b)| format!("  {p}: {:?}", String::from_utf8_lossy(b))).collect::<Vec<_>>();
    Err(format!("trees differ\n got:\n{}\n want:\n{}", show(&got).join("\n"), show(&want).join("\n")))
}

#[test]
fn every_case_conforms() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    cases.sort();
    assert!(cases.len() >= 30, "expected the conformance cases in {}", root.display());
    let failures: Vec<String> =
        cases.iter().filter_map(|case| check(case).err().map(|why| format!("{}: {why}", case.display()))).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
