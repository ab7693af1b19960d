use crate::git::apply::test_support::*;
use crate::git::apply::{ApplyReport, apply};
use crate::git::undo::{UndoRecord, undo};

/// What the working tree and the index hold at each path.
fn snapshot(repo: &Repo, paths: &[&str]) -> Vec<(Option<String>, Option<String>, Option<u32>)> {
    paths.iter().map(|p| (repo.read(p), repo.index_text(p), repo.index_mode(p))).collect()
}

fn assert_all_applied(report: &ApplyReport) {
    assert!(report.files.iter().all(|f| f.written && f.staged), "{report:?}");
}

#[test]
fn undo_restores_the_working_tree_and_the_index() {
    let repo = Repo::new();
    let base = lines(30, "\n");
    repo.commit(&[("edit.txt", &base), ("gone.txt", "bye\n"), ("old.rs", &base)]);
    // An unstaged edit of the user's own, which undo must keep unstaged.
    let mine = with_line(&base, 15, "mine");
    repo.write("edit.txt", &mine);
    let paths = ["edit.txt", "gone.txt", "old.rs", "new/dir/moved.rs", "new/dir/added.txt"];
    let before = snapshot(&repo, &paths);

    let report = apply(
        repo.root(),
        &[
            all(modify("edit.txt", &mine, &with_line(&mine, 2, "two"))),
            all(delete("gone.txt", "bye\n")),
            all(moved("old.rs", "new/dir/moved.rs", &base, &with_line(&base, 3, "three"))),
            all(add("new/dir/added.txt", "hello\n")),
        ],
    );
    assert_all_applied(&report);
    assert_ne!(snapshot(&repo, &paths), before);

    // The record survives a trip through storage.
    let json = serde_json::to_string(&report.undo).expect("serialize");
    let record: UndoRecord = serde_json::from_str(&json).expect("deserialize");
    let undone = undo(repo.root(), &record);

    assert!(undone.files.iter().all(|f| f.reverted && f.message.is_none()), "{undone:?}");
    assert_eq!(snapshot(&repo, &paths), before);
    assert!(!repo.root().join("new").exists(), "directories the apply created are gone");
    if let Some(status) = repo.git(&["status", "--porcelain"]) {
        assert_eq!(status, " M edit.txt\n");
    }
}

#[test]
fn undo_refuses_a_file_changed_after_the_apply() {
    let repo = Repo::new();
    let base = lines(10, "\n");
    repo.commit(&[("a.txt", &base), ("b.txt", &base)]);
    let report = apply(
        repo.root(),
        &[
            all(modify("a.txt", &base, &with_line(&base, 1, "one"))),
            all(modify("b.txt", &base, &with_line(&base, 1, "1"))),
        ],
    );
    assert_all_applied(&report);
    let later = with_line(&with_line(&base, 1, "one"), 9, "later work");
    repo.write("a.txt", &later);

    let undone = undo(repo.root(), &report.undo);

    let a = &undone.files[0];
    assert!(!a.reverted, "{a:?}");
    assert_eq!(a.message.as_deref(), Some("a.txt changed since the edit was applied; undo would lose those changes"));
    assert_eq!(repo.read("a.txt"), Some(later));
    assert_eq!(repo.index_text("a.txt"), Some(with_line(&base, 1, "one")), "index left alone too");
    assert!(undone.files[1].reverted, "{undone:?}");
    assert_eq!(repo.read("b.txt").as_deref(), Some(base.as_str()));
    assert_eq!(repo.index_text("b.txt").as_deref(), Some(base.as_str()));

    // The refused file keeps its record: once the user takes their change
    // back, the same undo goes through.
    assert_eq!(undone.remaining.files, report.undo.files[..1]);
    repo.write("a.txt", &with_line(&base, 1, "one"));
    let again = undo(repo.root(), &undone.remaining);
    assert!(again.files.iter().all(|f| f.reverted) && again.remaining.files.is_empty(), "{again:?}");
    assert_eq!(repo.read("a.txt").as_deref(), Some(base.as_str()));
    assert_eq!(repo.index_text("a.txt").as_deref(), Some(base.as_str()));
}

#[test]
fn undo_refuses_a_file_whose_index_entry_changed() {
    let repo = Repo::new();
    let base = lines(10, "\n");
    repo.commit(&[("a.txt", &base)]);
    let report = apply(repo.root(), &[all(modify("a.txt", &base, &with_line(&base, 1, "one")))]);
    assert_all_applied(&report);
    let restaged = with_line(&base, 1, "one");
    repo.write("a.txt", &with_line(&restaged, 5, "five"));
    repo.stage("a.txt");
    repo.write("a.txt", &restaged);

    let undone = undo(repo.root(), &report.undo);

    assert!(!undone.files[0].reverted);
    assert!(undone.files[0].message.as_deref().unwrap_or_default().contains("staged version of a.txt changed"));
    assert_eq!(repo.index_text("a.txt"), Some(with_line(&restaged, 5, "five")));
}

#[test]
fn undo_outside_git_restores_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = lines(5, "\n");
    std::fs::write(dir.path().join("a.txt"), &base).expect("write");
    let report =
        apply(dir.path(), &[all(modify("a.txt", &base, &with_line(&base, 2, "two"))), all(add("n.txt", "n\n"))]);

    let undone = undo(dir.path(), &report.undo);

    assert!(undone.files.iter().all(|f| f.reverted), "{undone:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("a.txt")).expect("read"), base);
    assert!(!dir.path().join("n.txt").exists());
}

#[cfg(unix)]
#[test]
fn undo_restores_the_mode_of_a_deleted_file() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new();
    repo.write("run.sh", "#!/bin/sh\n");
    std::fs::set_permissions(repo.root().join("run.sh"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    repo.commit_all();
    let report = apply(repo.root(), &[all(delete("run.sh", "#!/bin/sh\n"))]);
    assert_all_applied(&report);

    let undone = undo(repo.root(), &report.undo);

    assert!(undone.files[0].reverted, "{undone:?}");
    let mode = std::fs::metadata(repo.root().join("run.sh")).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o755);
    assert_eq!(repo.index_mode("run.sh"), Some(0o100755));
}

#[test]
fn undo_of_staged_work_in_what_is_no_longer_a_repository_is_refused() {
    let repo = Repo::new();
    let base = lines(5, "\n");
    repo.commit(&[("a.txt", &base)]);
    let edited = with_line(&base, 2, "two");
    let report = apply(repo.root(), &[all(modify("a.txt", &base, &edited))]);
    assert_all_applied(&report);
    std::fs::remove_dir_all(repo.root().join(".git")).expect("rm .git");

    let undone = undo(repo.root(), &report.undo);

    assert!(!undone.files[0].reverted, "{undone:?}");
    assert_eq!(
        undone.files[0].message.as_deref(),
        Some("the project is no longer a git repository; a.txt was not reverted")
    );
    assert_eq!(repo.read("a.txt"), Some(edited));
    assert_eq!(undone.remaining, report.undo);
}
