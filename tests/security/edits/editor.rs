//! `e` in the diff pane hands the focused hunk's new text to `$EDITOR`.
//! Whatever the editor does (saves nothing, exits with an error, deletes
//! or swaps the file) must never write more than the user wrote, and the
//! file handed over must be private: another local user who plants a
//! symlink in the shared temporary directory must neither get the hunk
//! written through it nor have their file read back into the repository.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ratatui::backend::TestBackend;

use super::support::{Editor, Recorder, Session, git_repo, shell_editor, staged};
use crate::harness::Family;

const LIB: &str =
    "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\npub fn name() -> &'static str {\n    \"hello\"\n}\n";

/// One `edit_file` call: one hunk, whose new side is handed to the editor.
const SCRIPT: &str = r#"
[[turns]]
tool_calls = [{ name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "    a + b\n", "new_text": "    a.wrapping_add(b)\n"}' }]

[[turns]]
text = "Noted."
"#;

/// What a run left behind: the file on disk, what is staged, the paths
/// handed to the editor, the last screen.
struct Outcome {
    disk: String,
    staged: Option<String>,
    opened: Vec<PathBuf>,
    screen: String,
}

/// Propose the edit, press `e` with `editor`, then apply (pressing Enter
/// twice applies even with the hunk still undecided, which rejects it).
fn run(editor: Editor, before_edit: impl FnOnce()) -> Outcome {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let mut s = Session::new(SCRIPT, repo.path(), Recorder::new(TestBackend::new(120, 40), 120, 40));
    s.keys("change it<Enter>");
    s.backend().editor = Some(editor);
    before_edit();
    // After a look at the hunk: keys typed ahead of a review decide nothing.
    s.keys("<F3><Wait>e");
    let screen = s.screen();
    s.keys("<Enter><Enter>");
    let disk = std::fs::read_to_string(repo.path().join("src/lib.rs")).unwrap_or_default();
    Outcome { disk, staged: staged(repo.path(), "src/lib.rs"), opened: s.backend().opened.clone(), screen }
}

/// Nothing of the proposal nor of the editor's leavings was written.
fn untouched(o: &Outcome) -> Result<(), String> {
    if o.disk != LIB || o.staged.as_deref() != Some(LIB) {
        return Err(format!("written {:?}, staged {:?}", o.disk, o.staged));
    }
    if o.opened.is_empty() {
        return Err("the editor never ran".into());
    }
    Ok(())
}

fn left_no_file(o: &Outcome) -> Result<(), String> {
    match o.opened.iter().find(|p| p.exists()) {
        Some(p) => Err(format!("{} is left behind", p.display())),
        None => Ok(()),
    }
}

/// The hunk file of the current process as tandem used to name it.
fn predictable(ext: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tandem-hunk-{}.{ext}", std::process::id()))
}

pub fn family() -> Family {
    let mut f = Family::new("editor");

    // The case from the issue: an empty buffer deleted the hunk's context.
    for (what, script) in [
        ("an empty buffer cancels the edit", ": > \"$1\""),
        ("a buffer of one newline cancels the edit", "printf '\\n' > \"$1\""),
        ("a whitespace-only buffer cancels the edit", "printf '  \\n\\t\\n\\n' > \"$1\""),
    ] {
        f.check(what, || {
            let o = run(shell_editor(script), || {});
            untouched(&o)?;
            if !o.screen.contains("Edit cancelled") {
                return Err(format!("the user is not told the edit was cancelled:\n{}", o.screen));
            }
            left_no_file(&o)
        });
    }

    f.check("an editor that exits non-zero leaves the hunk as it was", || {
        let o = run(shell_editor("printf '    a - b\\n' > \"$1\"; exit 3"), || {});
        untouched(&o)?;
        left_no_file(&o)
    });
    f.check("an editor that cannot start leaves the hunk as it was", || {
        let o = run(Box::new(|_: &Path| Err(std::io::Error::other("no such editor"))), || {});
        untouched(&o)?;
        left_no_file(&o)
    });
    f.check("an editor that deletes the file leaves the hunk as it was", || {
        let o = run(shell_editor("rm -f \"$1\""), || {});
        untouched(&o)?;
        if !o.screen.contains("Edit cancelled") {
            return Err(format!("the user is not told the edit was cancelled:\n{}", o.screen));
        }
        Ok(())
    });

    f.check("an editor that leaves a FIFO in place of the file neither hangs tandem nor edits", || {
        let o = run(shell_editor("rm -f \"$1\" && mkfifo \"$1\""), || {});
        untouched(&o)
    });
    f.check("an editor that leaves a file larger than any hunk cancels the edit", || {
        let o = run(shell_editor("head -c 17000000 /dev/zero | tr '\\0' x > \"$1\""), || {});
        untouched(&o)?;
        left_no_file(&o)
    });
    f.check("an editor that saves the text unchanged decides nothing", || {
        let o = run(shell_editor("true"), || {});
        untouched(&o)
    });

    // A file outside the repository that must neither be written nor read.
    let victim_dir = tempfile::tempdir().expect("victim dir");
    let victim = victim_dir.path().join("victim.txt");
    let secret = "secret: do not stage\n";

    f.check("an editor that swaps the file for a symlink does not get its target read back", || {
        std::fs::write(&victim, secret).map_err(|e| e.to_string())?;
        let script = format!("rm -f \"$1\"; ln -s '{}' \"$1\"", victim.display());
        let o = run(shell_editor(&script), || {});
        untouched(&o)?;
        if o.disk.contains("secret") || o.staged.as_deref().is_some_and(|s| s.contains("secret")) {
            return Err("the symlink's target was read into the hunk".into());
        }
        Ok(())
    });

    // The case from the issue: another user plants the predictable name as
    // a symlink before the user presses `e`.
    for ext in ["rs", "txt"] {
        f.check(format!("a symlink planted at tandem-hunk-<pid>.{ext} is not written through"), || {
            std::fs::write(&victim, secret).map_err(|e| e.to_string())?;
            let planted = predictable(ext);
            let _ = std::fs::remove_file(&planted);
            let o = run(shell_editor("sed -i 's/wrapping_add/saturating_add/' \"$1\""), || {
                let _ = std::os::unix::fs::symlink(&victim, &planted);
            });
            let _ = std::fs::remove_file(&planted);
            let after = std::fs::read_to_string(&victim).map_err(|e| e.to_string())?;
            if after != secret {
                return Err(format!("the victim file now holds {after:?}"));
            }
            let expected = LIB.replace("    a + b\n", "    a.saturating_add(b)\n");
            if o.staged.as_deref() != Some(expected.as_str()) {
                return Err(format!("the user's edit was not applied: staged {:?}", o.staged));
            }
            Ok(())
        });
    }

    f.check("the file handed to the editor is private and not a symlink", || {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let record = seen.clone();
        let editor: Editor = Box::new(move |path: &Path| {
            let meta = std::fs::symlink_metadata(path)?;
            let parent = path.parent().map(std::fs::symlink_metadata).transpose()?;
            record.borrow_mut().push((meta.file_type().is_file(), meta.permissions().mode() & 0o777, parent));
            std::process::Command::new("true").status()
        });
        let o = run(editor, || {});
        let seen = seen.borrow();
        let Some((is_file, mode, parent)) = seen.first() else { return Err("the editor never ran".into()) };
        if !is_file || mode & 0o077 != 0 {
            return Err(format!(
                "the hunk file is {} with mode {mode:o}",
                if *is_file { "a file" } else { "not a file" }
            ));
        }
        // A name that cannot be guessed is still visible to anyone who lists
        // /tmp, and an editor that saves by deleting and recreating leaves
        // the name free for a moment: the directory itself must be private.
        if parent.as_ref().is_none_or(|p| p.permissions().mode() & 0o022 != 0) {
            return Err(format!("{} sits in a directory others can write to", o.opened[0].display()));
        }
        if o.opened[0] == predictable("rs") {
            return Err("the hunk file's name is the predictable one".into());
        }
        left_no_file(&o)
    });

    f.check("two edits use two different names", || {
        let first = run(shell_editor("true"), || {});
        let second = run(shell_editor("true"), || {});
        if first.opened.first() == second.opened.first() {
            return Err(format!("both used {:?}", first.opened.first()));
        }
        Ok(())
    });

    // Positive controls: real edits still go through, whichever way the
    // editor saves.
    for (what, script) in [
        ("an edit saved in place is applied", "sed -i 's/wrapping_add/saturating_add/' \"$1\""),
        (
            "an edit saved by renaming a new file over the old one is applied",
            "sed 's/wrapping_add/saturating_add/' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"",
        ),
    ] {
        f.check(what, || {
            let o = run(shell_editor(script), || {});
            let expected = LIB.replace("    a + b\n", "    a.saturating_add(b)\n");
            if o.staged.as_deref() != Some(expected.as_str()) || o.disk != expected {
                return Err(format!("staged {:?}, on disk {:?}", o.staged, o.disk));
            }
            left_no_file(&o)
        });
    }
    f
}
