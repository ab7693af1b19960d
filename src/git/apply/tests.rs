use std::path::Path;

use super::test_support::*;
use super::{ApplyReport, Approved, FileOutcome, apply};
use crate::patch::hunks::hunks;

fn single(report: &ApplyReport) -> &FileOutcome {
    assert_eq!(report.files.len(), 1, "{report:?}");
    &report.files[0]
}

fn assert_written_and_staged(report: &ApplyReport) {
    let outcome = single(report);
    assert!(outcome.written && outcome.staged && outcome.message.is_none(), "{outcome:?}");
}

/// 30 lines with changes at lines 2, 15 and 28: three separate hunks.
fn three_changes(base: &str) -> String {
    with_line(&with_line(&with_line(base, 2, "two"), 15, "fifteen"), 28, "twenty-eight")
}

#[test]
fn stages_only_the_accepted_hunks() {
    let repo = Repo::new();
    let base = lines(30, "\n");
    repo.commit(&[("a.txt", &base)]);
    let change = modify("a.txt", &base, &three_changes(&base));
    assert_eq!(change.hunks.len(), 3);

    let report = apply(repo.root(), &[some(change, &[0, 2])]);

    assert_written_and_staged(&report);
    let expected = with_line(&with_line(&base, 2, "two"), 28, "twenty-eight");
    assert_eq!(repo.read("a.txt").as_deref(), Some(expected.as_str()));
    assert_eq!(repo.index_text("a.txt").as_deref(), Some(expected.as_str()));
    if let Some(cached) = repo.git(&["diff", "--cached"]) {
        assert!(cached.contains("+two\n") && cached.contains("+twenty-eight\n"), "{cached}");
        assert!(!cached.contains("fifteen"), "{cached}");
        assert_eq!(repo.git(&["diff"]).as_deref(), Some(""), "nothing left unstaged");
    }
}

#[test]
fn unstaged_user_edits_stay_unstaged() {
    let repo = Repo::new();
    let head = lines(30, "\n");
    repo.commit(&[("a.txt", &head)]);
    let mine = with_line(&head, 15, "my own edit");
    repo.write("a.txt", &mine);
    let proposed = with_line(&with_line(&mine, 2, "two"), 28, "twenty-eight");

    let report = apply(repo.root(), &[all(modify("a.txt", &mine, &proposed))]);

    assert_written_and_staged(&report);
    assert_eq!(repo.read("a.txt").as_deref(), Some(proposed.as_str()));
    let staged = with_line(&with_line(&head, 2, "two"), 28, "twenty-eight");
    assert_eq!(repo.index_text("a.txt").as_deref(), Some(staged.as_str()));
    if let Some(unstaged) = repo.git(&["diff"]) {
        assert!(unstaged.contains("+my own edit\n"), "{unstaged}");
        assert!(!unstaged.contains("two"), "{unstaged}");
    }
}

#[test]
fn keeps_what_the_user_already_staged() {
    let repo = Repo::new();
    let head = lines(30, "\n");
    repo.commit(&[("a.txt", &head)]);
    let mine = with_line(&head, 15, "staged by me");
    repo.write("a.txt", &mine);
    repo.stage("a.txt");
    let proposed = with_line(&mine, 2, "two");

    let report = apply(repo.root(), &[all(modify("a.txt", &mine, &proposed))]);

    assert_written_and_staged(&report);
    assert_eq!(repo.index_text("a.txt").as_deref(), Some(proposed.as_str()));
}

#[test]
fn rematches_a_file_that_changed_since_the_proposal() {
    let repo = Repo::new();
    let base = lines(30, "\n");
    repo.commit(&[("a.txt", &base)]);
    let proposed = with_line(&with_line(&base, 2, "two"), 28, "twenty-eight");
    let change = modify("a.txt", &base, &proposed);
    let meanwhile = with_line(&base, 15, "typed meanwhile");
    repo.write("a.txt", &meanwhile);

    let report = apply(repo.root(), &[all(change)]);

    assert_written_and_staged(&report);
    let expected = with_line(&with_line(&meanwhile, 2, "two"), 28, "twenty-eight");
    assert_eq!(repo.read("a.txt").as_deref(), Some(expected.as_str()));
    assert_eq!(repo.index_text("a.txt").as_deref(), Some(proposed.as_str()), "the user's edit stays unstaged");
}

#[test]
fn refuses_a_file_whose_change_no_longer_fits() {
    let repo = Repo::new();
    let base = lines(30, "\n");
    repo.commit(&[("a.txt", &base)]);
    let change = modify("a.txt", &base, &with_line(&base, 2, "two"));
    let meanwhile = with_line(&base, 2, "the user rewrote this line");
    repo.write("a.txt", &meanwhile);

    let report = apply(repo.root(), &[all(change)]);

    let outcome = single(&report);
    assert!(!outcome.written && !outcome.staged, "{outcome:?}");
    let message = outcome.message.as_deref().unwrap_or_default();
    assert!(message.contains("a.txt changed since the proposal"), "{message}");
    assert_eq!(repo.read("a.txt").as_deref(), Some(meanwhile.as_str()));
    assert_eq!(repo.index_text("a.txt").as_deref(), Some(base.as_str()));
    assert!(report.undo.files.is_empty());
}

#[test]
fn a_new_file_is_staged_as_new() {
    let repo = Repo::new();
    repo.commit(&[("README", "hi\n")]);

    let report = apply(repo.root(), &[all(add("src/new/mod.rs", "pub fn f() {}\n"))]);

    assert_written_and_staged(&report);
    assert_eq!(repo.read("src/new/mod.rs").as_deref(), Some("pub fn f() {}\n"));
    assert_eq!(repo.index_text("src/new/mod.rs").as_deref(), Some("pub fn f() {}\n"));
    assert_eq!(repo.index_mode("src/new/mod.rs"), Some(0o100644));
    if let Some(status) = repo.git(&["diff", "--cached", "--name-status"]) {
        assert_eq!(status, "A\tsrc/new/mod.rs\n");
    }
}

#[test]
fn a_new_file_does_not_overwrite_another() {
    let repo = Repo::new();
    repo.write("notes.txt", "mine\n");

    let report = apply(repo.root(), &[all(add("notes.txt", "theirs\n"))]);

    let outcome = single(&report);
    assert!(!outcome.written, "{outcome:?}");
    assert!(outcome.message.as_deref().unwrap_or_default().contains("already exists"));
    assert_eq!(repo.read("notes.txt").as_deref(), Some("mine\n"));
}

#[test]
fn an_ignored_new_file_is_written_but_not_staged() {
    let repo = Repo::new();
    repo.commit(&[(".gitignore", "*.log\n")]);

    let report = apply(repo.root(), &[all(add("run.log", "x\n"))]);

    let outcome = single(&report);
    assert!(outcome.written && !outcome.staged, "{outcome:?}");
    assert!(outcome.message.as_deref().unwrap_or_default().contains("ignored"));
    assert_eq!(repo.index_text("run.log"), None);
}

#[test]
fn a_deletion_is_staged() {
    let repo = Repo::new();
    let base = lines(5, "\n");
    repo.commit(&[("gone.txt", &base), ("kept.txt", "k\n")]);

    let report = apply(repo.root(), &[all(delete("gone.txt", &base))]);

    assert_written_and_staged(&report);
    assert_eq!(repo.read("gone.txt"), None);
    assert_eq!(repo.index_text("gone.txt"), None);
    if let Some(status) = repo.git(&["diff", "--cached", "--name-status"]) {
        assert_eq!(status, "D\tgone.txt\n");
    }
}

#[test]
fn a_deletion_of_a_changed_file_is_refused() {
    let repo = Repo::new();
    let base = lines(5, "\n");
    repo.commit(&[("f.txt", &base)]);
    repo.write("f.txt", "new work\n");

    let report = apply(repo.root(), &[all(delete("f.txt", &base))]);

    let outcome = single(&report);
    assert!(!outcome.written, "{outcome:?}");
    assert!(outcome.message.as_deref().unwrap_or_default().contains("changed since the proposal"));
    assert_eq!(repo.read("f.txt").as_deref(), Some("new work\n"));
}

#[test]
fn a_partly_approved_deletion_is_an_edit() {
    let repo = Repo::new();
    let base = lines(3, "\n");
    repo.commit(&[("f.txt", &base)]);
    // The user edited the deletion's hunk down to removing the first line.
    let approved = Approved { change: delete("f.txt", &base), hunks: hunks(&base, "line 2\nline 3\n") };

    let report = apply(repo.root(), &[approved]);

    assert_written_and_staged(&report);
    assert_eq!(repo.read("f.txt").as_deref(), Some("line 2\nline 3\n"));
    assert_eq!(repo.index_text("f.txt").as_deref(), Some("line 2\nline 3\n"));
}

#[test]
fn a_rename_with_an_edit_is_staged_as_delete_and_add() {
    let repo = Repo::new();
    let base = lines(10, "\n");
    repo.commit(&[("old.rs", &base)]);
    let proposed = with_line(&base, 4, "four");

    let report = apply(repo.root(), &[all(moved("old.rs", "sub/new.rs", &base, &proposed))]);

    assert_written_and_staged(&report);
    assert_eq!(repo.read("old.rs"), None);
    assert_eq!(repo.read("sub/new.rs").as_deref(), Some(proposed.as_str()));
    assert_eq!(repo.index_text("old.rs"), None);
    assert_eq!(repo.index_text("sub/new.rs").as_deref(), Some(proposed.as_str()));
    if let Some(status) = repo.git(&["diff", "--cached", "--name-status", "--no-renames"]) {
        assert_eq!(status, "D\told.rs\nA\tsub/new.rs\n");
    }
}

#[test]
fn crlf_and_missing_final_newline_round_trip_byte_for_byte() {
    let repo = Repo::new();
    let crlf = lines(30, "\r\n");
    let bare = format!("{}last line", lines(29, "\n"));
    repo.commit(&[("crlf.txt", &crlf), ("bare.txt", &bare)]);
    let crlf_change = modify("crlf.txt", &crlf, &three_changes(&crlf));
    let bare_change = modify("bare.txt", &bare, &with_line(&with_line(&bare, 3, "three"), 30, "the end"));

    let report = apply(repo.root(), &[some(crlf_change, &[0, 2]), some(bare_change, &[1])]);

    assert!(report.files.iter().all(|f| f.written && f.staged), "{report:?}");
    let crlf_expected = with_line(&with_line(&crlf, 2, "two"), 28, "twenty-eight");
    let bare_expected = with_line(&bare, 30, "the end");
    assert!(bare_expected.ends_with("the end"));
    assert_eq!(std::fs::read(repo.root().join("crlf.txt")).expect("read"), crlf_expected.as_bytes());
    assert_eq!(std::fs::read(repo.root().join("bare.txt")).expect("read"), bare_expected.as_bytes());
    assert_eq!(repo.index_text("crlf.txt"), Some(crlf_expected));
    assert_eq!(repo.index_text("bare.txt"), Some(bare_expected));
}

#[cfg(unix)]
#[test]
fn an_executable_stays_executable() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Repo::new();
    let base = "#!/bin/sh\necho one\n";
    repo.write("run.sh", base);
    std::fs::set_permissions(repo.root().join("run.sh"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    repo.commit_all();
    assert_eq!(repo.index_mode("run.sh"), Some(0o100755));

    let report = apply(repo.root(), &[all(modify("run.sh", base, "#!/bin/sh\necho two\n"))]);

    assert_written_and_staged(&report);
    let mode = std::fs::metadata(repo.root().join("run.sh")).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o755);
    assert_eq!(repo.index_mode("run.sh"), Some(0o100755));
}

#[test]
fn an_index_version_that_cannot_take_the_hunks_is_left_unstaged() {
    let repo = Repo::new();
    let head = lines(10, "\n");
    repo.commit(&[("a.txt", &head)]);
    let staged = with_line(&head, 5, "FIVE");
    repo.write("a.txt", &staged);
    repo.stage("a.txt");
    let mine = with_line(&head, 5, "five!");
    repo.write("a.txt", &mine);
    let proposed = with_line(&mine, 5, "5");

    let report = apply(repo.root(), &[all(modify("a.txt", &mine, &proposed))]);

    let outcome = single(&report);
    assert!(outcome.written && !outcome.staged, "{outcome:?}");
    let message = outcome.message.as_deref().unwrap_or_default();
    assert!(message.contains("staged version of a.txt") && message.contains("not staged"), "{message}");
    assert_eq!(repo.read("a.txt").as_deref(), Some(proposed.as_str()));
    assert_eq!(repo.index_text("a.txt").as_deref(), Some(staged.as_str()));
    let undo = &report.undo.files[0].paths[0];
    assert_eq!(undo.index, None, "the index was not touched");
}

#[test]
fn an_untracked_file_is_written_but_not_staged() {
    let repo = Repo::new();
    repo.commit(&[("README", "hi\n")]);
    let base = lines(5, "\n");
    repo.write("scratch.txt", &base);

    let report = apply(repo.root(), &[all(modify("scratch.txt", &base, &with_line(&base, 1, "one")))]);

    let outcome = single(&report);
    assert!(outcome.written && !outcome.staged, "{outcome:?}");
    assert!(outcome.message.as_deref().unwrap_or_default().contains("not tracked"));
    assert_eq!(repo.index_text("scratch.txt"), None);
}

#[test]
fn outside_git_files_are_written_without_staging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = lines(5, "\n");
    std::fs::write(dir.path().join("a.txt"), &base).expect("write");
    let proposed = with_line(&base, 3, "three");

    let report = apply(dir.path(), &[all(modify("a.txt", &base, &proposed)), all(add("b/c.txt", "c\n"))]);

    for outcome in &report.files {
        assert!(outcome.written && !outcome.staged && outcome.message.is_none(), "{outcome:?}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("a.txt")).expect("read"), proposed);
    assert_eq!(std::fs::read_to_string(dir.path().join("b/c.txt")).expect("read"), "c\n");
    assert!(!Path::new(&dir.path().join(".git")).exists());
}

#[cfg(unix)]
#[test]
fn a_symlink_is_not_edited_through() {
    let repo = Repo::new();
    let base = lines(3, "\n");
    repo.write("real.txt", &base);
    std::os::unix::fs::symlink("real.txt", repo.root().join("link.txt")).expect("symlink");

    let report = apply(repo.root(), &[all(modify("link.txt", &base, &with_line(&base, 1, "one")))]);

    let outcome = single(&report);
    assert!(!outcome.written, "{outcome:?}");
    assert_eq!(repo.read("real.txt").as_deref(), Some(base.as_str()));
}

#[test]
fn a_file_with_unresolved_conflicts_is_written_but_not_staged() {
    let repo = Repo::new();
    let base = lines(5, "\n");
    repo.commit(&[("c.txt", &base)]);
    let mut index = repo.repo.index().expect("index");
    let entry = index.get_path(Path::new("c.txt"), 0).expect("entry");
    index.remove(Path::new("c.txt"), 0).expect("remove");
    for stage in 1..=3u16 {
        let conflicted = git2::IndexEntry { flags: stage << 12, path: entry.path.clone(), ..entry };
        index.add(&conflicted).expect("add conflict stage");
    }
    index.write().expect("write index");
    let marked = format!("<<<<<<< ours\n{base}=======\n{base}>>>>>>> theirs\n");
    repo.write("c.txt", &marked);

    let report = apply(repo.root(), &[all(modify("c.txt", &marked, &marked.replacen("line 1", "one", 1)))]);

    let outcome = single(&report);
    assert!(outcome.written && !outcome.staged, "{outcome:?}");
    assert!(outcome.message.as_deref().unwrap_or_default().contains("unresolved merge conflicts"));
    assert!(repo.repo.index().expect("index").has_conflicts(), "the conflict stays for the user to resolve");
}

#[test]
fn why_hunks_did_not_fit_reads_as_the_outcome_message() {
    use crate::patch::hunks::{ApplyError, ApplyFailure};

    use super::Misfit;
    let hunk = || ApplyError { index: 1, header: "@@ -3,2 +3,2 @@".into(), why: ApplyFailure::NotAtEnd };
    let why = hunk().to_string();
    assert!(why.starts_with("hunk 2 @@ -3,2 +3,2 @@ does not apply: "), "{why}");
    let changed = Misfit::Changed { path: "a.txt".into(), source: hunk() };
    assert_eq!(
        changed.to_string(),
        format!("a.txt changed since the proposal and the approved hunks no longer fit it ({why}); not written")
    );
    assert_eq!(
        Misfit::Hunks { path: "a.txt".into(), source: hunk() }.to_string(),
        format!("a.txt: {why}; not written")
    );
    let staged = Misfit::Staged { path: "a.txt".into(), source: hunk(), verb: "moved" };
    assert_eq!(
        staged.to_string(),
        format!("the staged version of a.txt does not take the approved hunks ({why}); moved but not staged")
    );
    let git = Misfit::from(crate::git::GitError::StagedNotText("a.txt".into()));
    assert_eq!(git.to_string(), "the staged version of a.txt is not UTF-8 text");
}
