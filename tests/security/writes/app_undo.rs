//! Undo through the real app loop: `u` after the user changed the file is
//! refused and can be tried again once the user takes their change back;
//! of two files, the one that can be reverted is, and the other waits.

use super::common::{LIB, Session, git_repo, staged};
use super::fixture::{expect, set_mode};
use crate::harness::Family;

/// One round that edits two files, then a closing answer.
const SCRIPT: &str = r#"
[[turns]]
text = "Two edits."
tool_calls = [
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "    a + b\n", "new_text": "    a.wrapping_add(b)\n"}' },
  { name = "edit_file", arguments = '{"path": "src/other.rs", "old_text": "two", "new_text": "deux"}' },
]

[[turns]]
text = "Noted."
"#;

const OTHER: &str = "// one\n// two\n// three\n";

fn lib_applied() -> String {
    LIB.replace("    a + b\n", "    a.wrapping_add(b)\n")
}

fn other_applied() -> String {
    OTHER.replace("two", "deux")
}

/// A session with both edits accepted and applied.
fn applied() -> (tempfile::TempDir, Session) {
    let repo = git_repo(&[("src/lib.rs", LIB), ("src/other.rs", OTHER)]);
    let (mut s, _) = Session::with_tools(SCRIPT, repo.path(), 120, 40);
    s.keys("edit both<Enter>");
    s.keys("<F3><Wait>Y<Enter>");
    (repo, s)
}

fn read(repo: &tempfile::TempDir, rel: &str) -> String {
    std::fs::read_to_string(repo.path().join(rel)).expect("read")
}

fn holds(repo: &tempfile::TempDir, rel: &str, tree: &str, index: &str) -> Result<(), String> {
    let on_disk = read(repo, rel);
    expect(on_disk == tree, || format!("{rel} holds {on_disk:?}, expected {tree:?}"))?;
    let in_index = staged(repo.path(), rel);
    expect(in_index.as_deref() == Some(index), || format!("{rel} staged as {in_index:?}, expected {index:?}"))
}

pub fn through_the_app(family: &mut Family) {
    family.check("app: a refused undo can be tried again after the user takes their change back", || {
        let (repo, mut s) = applied();
        holds(&repo, "src/lib.rs", &lib_applied(), &lib_applied())?;
        let mine = format!("{}// mine\n", lib_applied());
        std::fs::write(repo.path().join("src/lib.rs"), &mine).expect("edit");
        s.keys("<F3><Wait>u");
        let screen = s.screen();
        expect(screen.contains("left alone"), || format!("no refusal shown: {screen}"))?;
        holds(&repo, "src/lib.rs", &mine, &lib_applied())?;
        std::fs::write(repo.path().join("src/lib.rs"), lib_applied()).expect("take back");
        s.keys("<F3><Wait>u");
        holds(&repo, "src/lib.rs", LIB, LIB)?;
        holds(&repo, "src/other.rs", OTHER, OTHER)
    });

    family.check("app: a partly refused undo keeps only the part not undone", || {
        let (repo, mut s) = applied();
        let mine = format!("{}// mine\n", other_applied());
        std::fs::write(repo.path().join("src/other.rs"), &mine).expect("edit");
        s.keys("<F3><Wait>u");
        holds(&repo, "src/lib.rs", LIB, LIB)?;
        holds(&repo, "src/other.rs", &mine, &other_applied())?;
        std::fs::write(repo.path().join("src/other.rs"), other_applied()).expect("take back");
        // The user edits the reverted file again: a further undo must not
        // touch it.
        let again = format!("{LIB}// later\n");
        std::fs::write(repo.path().join("src/lib.rs"), &again).expect("edit");
        s.keys("<F3><Wait>u");
        holds(&repo, "src/other.rs", OTHER, OTHER)?;
        holds(&repo, "src/lib.rs", &again, LIB)?;
        s.keys("<F3><Wait>u");
        let screen = s.screen();
        expect(screen.contains("Nothing to undo"), || format!("the record outlived the undo: {screen}"))?;
        holds(&repo, "src/lib.rs", &again, LIB)
    });

    family.check("app: undo of a file made read-only is refused and says chmod, then retried", || {
        let (repo, mut s) = applied();
        let path = repo.path().join("src/lib.rs");
        set_mode(&path, 0o444);
        s.keys("<F3><Wait>u");
        let screen = s.screen();
        set_mode(&path, 0o644);
        expect(screen.contains("chmod"), || format!("no chmod advice: {screen}"))?;
        holds(&repo, "src/lib.rs", &lib_applied(), &lib_applied())?;
        s.keys("<F3><Wait>u");
        holds(&repo, "src/lib.rs", LIB, LIB)
    });
}
