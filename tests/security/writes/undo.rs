//! Undo that cannot go ahead (the user changed the file since, it became
//! read-only or special, its directory a link) is refused without touching
//! anything, and keeps its record: once the user clears the obstacle, the
//! same undo succeeds. Checked at the `git::undo` level for every kind of
//! change and obstacle, and through the real app loop with the `u` key.

use std::path::Path;

use super::fixture::{Repo, all, change, expect, lines, mode, set_mode, snapshot, unchanged};
use crate::harness::Family;
use tandem::git::{apply, undo};
use tandem::patch::FileChange;

fn base() -> String {
    lines(8)
}

fn proposed() -> String {
    base().replace("line 4\n", "line four\n")
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Modify,
    Add,
    Delete,
    Move,
}

#[derive(Clone, Copy, Debug)]
enum Obstacle {
    EditedSince,
    StagedSince,
    ReadOnly,
    Fifo,
    DirectoryLink,
}

fn the_change(kind: Kind) -> FileChange {
    let (b, p) = (base(), proposed());
    match kind {
        Kind::Modify => change("src/f.txt", Some(&b), Some(&p), None),
        Kind::Add => change("src/new.txt", None, Some(&p), None),
        Kind::Delete => change("src/f.txt", Some(&b), None, None),
        Kind::Move => change("src/f.txt", Some(&b), Some(&p), Some("src/moved.txt")),
    }
}

/// The path the obstacle is put on: the file the undo must rewrite, remove
/// or bring back.
fn target(kind: Kind) -> &'static str {
    match kind {
        Kind::Modify | Kind::Delete => "src/f.txt",
        Kind::Add => "src/new.txt",
        Kind::Move => "src/moved.txt",
    }
}

/// Puts the obstacle in place and returns what takes it away again.
fn obstruct(repo: &Repo, kind: Kind, obstacle: Obstacle) -> Box<dyn FnOnce(&Repo)> {
    let rel = target(kind);
    let path = repo.path(rel);
    let saved = std::fs::read(&path).ok();
    let restore_file = move |repo: &Repo| {
        let path = repo.path(rel);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            std::fs::remove_dir_all(&path).expect("rm dir");
        } else {
            let _ = std::fs::remove_file(&path);
        }
        if let Some(bytes) = &saved {
            std::fs::write(&path, bytes).expect("restore");
        }
    };
    match obstacle {
        Obstacle::EditedSince => {
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str("my own line\n");
            std::fs::write(&path, text).expect("edit");
            Box::new(restore_file)
        }
        Obstacle::StagedSince => {
            let mut index = repo.git.index().expect("index");
            let before = index.get_path(Path::new(rel), 0);
            let blob = repo.git.blob(b"staged by me\n").expect("blob");
            let mut entry = index.get_path(Path::new(rel), 0).unwrap_or_else(|| entry_for(rel, blob));
            entry.id = blob;
            index.add(&entry).expect("stage");
            index.write().expect("write index");
            Box::new(move |repo: &Repo| {
                let mut index = repo.git.index().expect("index");
                match before {
                    Some(entry) => index.add(&entry).expect("restage"),
                    None => index.remove_path(Path::new(rel)).expect("unstage"),
                }
                index.write().expect("write index");
            })
        }
        Obstacle::ReadOnly => {
            // Undoing a deletion writes into the directory.
            let locked = if kind == Kind::Delete { repo.path("src") } else { path };
            let old = mode(&locked);
            set_mode(&locked, if locked.is_dir() { 0o555 } else { 0o444 });
            Box::new(move |_| set_mode(&locked, old))
        }
        Obstacle::Fifo => {
            let _ = std::fs::remove_file(&path);
            nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
            Box::new(restore_file)
        }
        Obstacle::DirectoryLink => {
            let mirror = repo.outside.path().join("src");
            super::races::copy_tree(&repo.path("src"), &mirror);
            std::fs::rename(repo.path("src"), repo.path("src.real")).expect("aside");
            std::os::unix::fs::symlink(&mirror, repo.path("src")).expect("link");
            Box::new(|repo: &Repo| {
                std::fs::remove_file(repo.path("src")).expect("rm link");
                std::fs::rename(repo.path("src.real"), repo.path("src")).expect("back");
            })
        }
    }
}

/// The working tree without `.git`.
fn worktree(repo: &Repo) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    snapshot(repo.root()).into_iter().filter(|(k, _)| !k.starts_with(".git")).collect()
}

fn entry_for(rel: &str, id: git2::Oid) -> git2::IndexEntry {
    let zero = git2::IndexTime::new(0, 0);
    git2::IndexEntry {
        ctime: zero,
        mtime: zero,
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: rel.as_bytes().to_vec(),
    }
}

/// Every kind of change against every obstacle: refused, nothing touched,
/// retried after the obstacle is gone, then fully reverted.
pub fn refused_and_retried(family: &mut Family) {
    for kind in [Kind::Modify, Kind::Add, Kind::Delete, Kind::Move] {
        for obstacle in
            [Obstacle::EditedSince, Obstacle::StagedSince, Obstacle::ReadOnly, Obstacle::Fifo, Obstacle::DirectoryLink]
        {
            family.check(format!("undo of a {kind:?} refused by {obstacle:?}, then retried"), || {
                let repo = Repo::new(&[("src/f.txt", &base()), ("src/keep.txt", "keep\n")]);
                let original = worktree(&repo);
                let report = apply(repo.root(), &[all(the_change(kind))]);
                expect(report.files[0].written, || format!("the apply failed: {report:?}"))?;
                let fix = obstruct(&repo, kind, obstacle);
                let (tree, staged) = (worktree(&repo), repo.staged_changes());
                let outside = snapshot(repo.outside.path());
                let first = undo(repo.root(), &report.undo);
                expect(!first.files[0].reverted, || format!("not refused: {first:?}"))?;
                unchanged("the tree after a refused undo", &tree, &worktree(&repo))?;
                unchanged("the outside", &outside, &snapshot(repo.outside.path()))?;
                expect(repo.staged_changes() == staged, || "the index changed".into())?;
                expect(first.remaining == report.undo, || format!("the record was not kept: {:?}", first.remaining))?;
                fix(&repo);
                let second = undo(repo.root(), &first.remaining);
                expect(second.files.iter().all(|f| f.reverted), || format!("the retry failed: {second:?}"))?;
                expect(second.remaining.files.is_empty(), || "the record outlived the undo".into())?;
                unchanged("the tree after the retried undo", &original, &worktree(&repo))?;
                repo.expect_staged(&[])?;
                repo.expect_no_temporaries()
            });
        }
    }
}

/// Of several files, the ones that can be reverted are; the record keeps
/// exactly the others.
pub fn partial(family: &mut Family) {
    for blocked in 1..=3usize {
        family.check(format!("undo of four files with {blocked} edited since"), || {
            let names: Vec<String> = (0..4).map(|i| format!("f{i}.txt")).collect();
            let files: Vec<(&str, String)> = names.iter().map(|n| (n.as_str(), base())).collect();
            let committed: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
            let repo = Repo::new(&committed);
            let approved: Vec<_> =
                names.iter().map(|n| all(change(n, Some(&base()), Some(&proposed()), None))).collect();
            let report = apply(repo.root(), &approved);
            for n in names.iter().take(blocked) {
                std::fs::write(repo.path(n), format!("{}mine\n", proposed())).expect("edit");
            }
            let first = undo(repo.root(), &report.undo);
            let kept: Vec<_> = first.remaining.files.iter().map(|f| f.path.display().to_string()).collect();
            expect(kept == names[..blocked], || format!("kept {kept:?}"))?;
            for (i, n) in names.iter().enumerate() {
                let want = if i < blocked { format!("{}mine\n", proposed()) } else { base() };
                expect(repo.read(n).as_deref() == Some(want.as_str()), || format!("{n} holds {:?}", repo.read(n)))?;
            }
            for n in names.iter().take(blocked) {
                std::fs::write(repo.path(n), proposed()).expect("take back");
            }
            let second = undo(repo.root(), &first.remaining);
            expect(second.remaining.files.is_empty(), || format!("{second:?}"))?;
            for n in &names {
                expect(repo.read(n).as_deref() == Some(base().as_str()), || format!("{n} not reverted"))?;
            }
            repo.expect_staged(&[])
        });
    }
}
