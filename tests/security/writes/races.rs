//! Paths that change between the proposal and the apply, or while it runs:
//! a directory or the file itself becomes a symbolic link to a tree outside
//! the repository (or into `.git`). Nothing may be written, removed or
//! staged through such a link. The directory case is the one behind git's
//! CVE-2021-21300 (a directory replaced by a link while a checkout is under
//! way gets files written through it) and rsync's CVE-2024-12087.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::fixture::{Repo, all, change, expect, lines, snapshot, unchanged};
use crate::harness::Family;
use tandem::git::apply;

fn base() -> String {
    lines(12)
}

fn proposed() -> String {
    base().replace("line 2\n", "line two\n")
}

/// The repository's directories and files, copied under `mirror` with
/// upper-case names: a link that replaces `a/b` points at `mirror/B`, which
/// holds the same files, so a write that follows the link succeeds there.
fn mirror(repo: &Repo, mirror: &Path) {
    let copy = |from: &str, to: &str| {
        let (from, to) = (repo.path(from), mirror.join(to));
        copy_tree(&from, &to);
    };
    std::fs::create_dir_all(mirror).expect("mirror");
    copy("a", "A");
    copy("a/b", "B");
    copy("a/b/c", "C");
    copy("x", "X");
    copy("x/y", "Y");
    copy("x/y/z", "Z");
    std::fs::write(mirror.join("F.txt"), base()).expect("F");
    std::fs::write(mirror.join("D.txt"), base()).expect("D");
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("ls").flatten() {
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

/// Replaces `rel` with a symbolic link to `target`, keeping the original
/// beside it.
fn swap_in_link(repo: &Repo, rel: &str, target: &Path) {
    let path = repo.path(rel);
    if path.exists() {
        std::fs::rename(&path, repo.path(&format!("{rel}.aside"))).expect("aside");
    }
    std::os::unix::fs::symlink(target, &path).expect("symlink");
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Modify,
    Delete,
    Add,
    MoveFrom,
    MoveTo,
}

/// The path components a link can replace, with the mirror entry it points at.
fn components(kind: Kind) -> Vec<(&'static str, &'static str)> {
    match kind {
        Kind::Modify | Kind::Delete | Kind::MoveFrom => {
            vec![("a", "A"), ("a/b", "B"), ("a/b/c", "C"), ("a/b/c/f.txt", "F.txt")]
        }
        Kind::Add => vec![("a", "A"), ("a/b", "B"), ("a/b/c", "C"), ("a/b/c/new.txt", "F.txt")],
        Kind::MoveTo => vec![("x", "X"), ("x/y", "Y"), ("x/y/z", "Z"), ("x/y/z/moved.txt", "D.txt")],
    }
}

fn the_change(kind: Kind) -> tandem::patch::FileChange {
    let (b, p) = (base(), proposed());
    match kind {
        Kind::Modify => change("a/b/c/f.txt", Some(&b), Some(&p), None),
        Kind::Delete => change("a/b/c/f.txt", Some(&b), None, None),
        Kind::Add => change("a/b/c/new.txt", None, Some(&p), None),
        Kind::MoveFrom | Kind::MoveTo => change("a/b/c/f.txt", Some(&b), Some(&p), Some("x/y/z/moved.txt")),
    }
}

fn layout() -> Repo {
    Repo::new(&[("a/b/c/f.txt", &base()), ("a/b/c/keep.txt", "keep\n"), ("x/y/z/keep.txt", "keep\n")])
}

/// A link swapped in between the proposal and the apply, for every
/// component of every kind of change, pointing outside or into `.git`.
/// The cases share one repository, put back to HEAD before each.
pub fn swapped_before_apply(family: &mut Family) {
    let repo = layout();
    let (outside, into_git) = (repo.outside.path().join("m"), repo.path(".git/mirror"));
    for kind in [Kind::Modify, Kind::Delete, Kind::Add, Kind::MoveFrom, Kind::MoveTo] {
        for (rel, entry) in components(kind) {
            for mirror_dir in [&outside, &into_git] {
                let place = if *mirror_dir == into_git { "into .git" } else { "outside" };
                family.check(format!("{kind:?}: {rel} replaced by a link {place}"), || {
                    repo.reset_to_head();
                    for dir in [&outside, &into_git] {
                        let _ = std::fs::remove_dir_all(dir);
                        mirror(&repo, dir);
                    }
                    swap_in_link(&repo, rel, &mirror_dir.join(entry));
                    let held = refused_through_link(&repo, the_change(kind), mirror_dir);
                    take_out_link(&repo, rel);
                    held
                });
            }
        }
    }
}

fn refused_through_link(repo: &Repo, change: tandem::patch::FileChange, mirror_dir: &Path) -> Result<(), String> {
    let (before_tree, before_mirror) = (worktree(repo), snapshot(mirror_dir));
    let report = apply(repo.root(), &[all(change)]);
    let outcome = &report.files[0];
    expect(!outcome.written, || format!("reported written: {outcome:?}"))?;
    let message = outcome.message.clone().unwrap_or_default();
    expect(message.contains("link"), || format!("the message does not say why: {message}"))?;
    unchanged("the mirror the link points at", &before_mirror, &snapshot(mirror_dir))?;
    unchanged("the working tree", &before_tree, &worktree(repo))?;
    repo.expect_staged(&[])?;
    repo.expect_no_temporaries()
}

fn take_out_link(repo: &Repo, rel: &str) {
    let _ = std::fs::remove_file(repo.path(rel));
    let aside = repo.path(&format!("{rel}.aside"));
    if aside.exists() {
        std::fs::rename(aside, repo.path(rel)).expect("back");
    }
}

/// The working tree without `.git`.
fn worktree(repo: &Repo) -> std::collections::BTreeMap<PathBuf, String> {
    snapshot(repo.root()).into_iter().filter(|(k, _)| !k.starts_with(".git")).collect()
}

/// A thread flips one path component between the real directory (or file)
/// and a link to the outside, over and over, while edits of a different
/// file each round are applied. Whatever the moment the link appears, no
/// write reaches the outside, nothing unapproved is staged, and a file
/// reported written holds the approved text.
pub fn swapped_during_apply(family: &mut Family, component: usize, rounds: usize) {
    let files: Vec<(String, String, String)> = (0..rounds)
        .map(|i| {
            let base = format!("file {i}\n{}", lines(10));
            let proposed = base.replace("line 3\n", &format!("line three of {i}\n"));
            (format!("a/b/c/f{i}.txt"), base, proposed)
        })
        .collect();
    let mut committed: Vec<(&str, &str)> = files.iter().map(|(p, b, _)| (p.as_str(), b.as_str())).collect();
    committed.push(("x/y/z/keep.txt", "keep\n"));
    let repo = Repo::new(&committed);
    let outside = repo.outside.path().to_path_buf();
    copy_tree(&repo.path("a"), &outside.join("A"));
    copy_tree(&repo.path("a/b"), &outside.join("B"));
    copy_tree(&repo.path("a/b/c"), &outside.join("C"));
    for (i, (_, base, _)) in files.iter().enumerate() {
        std::fs::write(outside.join(format!("F{i}.txt")), base).expect("F");
    }
    let before_outside = snapshot(&outside);

    let stop = Arc::new(AtomicBool::new(false));
    let current = Arc::new(AtomicUsize::new(0));
    let flipper = {
        let (stop, current, root, outside) =
            (stop.clone(), current.clone(), repo.root().to_path_buf(), outside.clone());
        let bases: Vec<String> = files.iter().map(|(_, b, _)| b.clone()).collect();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let i = current.load(Ordering::Relaxed);
                match component {
                    0..=2 => flip_directory(&root, &outside, component),
                    _ => flip_file(&root, &outside, i, &bases[i]),
                }
            }
        })
    };
    let mut outcomes = Vec::new();
    for (i, (path, base, proposed)) in files.iter().enumerate() {
        current.store(i, Ordering::Relaxed);
        let report = apply(repo.root(), &[all(change(path, Some(base), Some(proposed), None))]);
        outcomes.push((report.files[0].clone(), snapshot(&outside)));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = flipper.join();

    let staged = repo.staged_changes();
    let name = ["a", "a/b", "a/b/c", "a/b/c/f.txt"][component];
    let told: Vec<String> = outcomes.iter().filter_map(|(o, _)| o.message.clone()).collect();
    for (i, (outcome, outside_then)) in outcomes.into_iter().enumerate() {
        let (path, base, proposed) = &files[i];
        family.check(format!("{name} flipped to a link during apply, round {i}"), || {
            unchanged("the outside tree", &before_outside, &outside_then)?;
            let on_disk = repo.read(path);
            // The file flipper rewrites the file itself, so only the
            // directory flippers leave the applied text in place.
            if component < 3 {
                let want = if outcome.written { proposed } else { base };
                expect(on_disk.as_deref() == Some(want.as_str()), || {
                    format!("{path} holds {on_disk:?} but the outcome was {outcome:?}")
                })?;
            }
            match staged.get(path.as_str()) {
                None => expect(!outcome.staged, || format!("reported staged but nothing is: {outcome:?}")),
                Some(text) => expect(outcome.staged && text.as_deref() == Some(proposed.as_str()), || {
                    format!("staged {text:?} for {outcome:?}")
                }),
            }
        });
    }
    family.check(format!("{name} flipped to a link: nothing left behind"), || {
        unchanged("the outside tree", &before_outside, &snapshot(&outside))?;
        // A file another program put at the name, found aside after a
        // refused write, is kept in view rather than deleted; the user is
        // told where. Nothing is kept unannounced.
        let kept = kept_copies(repo.root());
        let unannounced: Vec<&PathBuf> = kept
            .iter()
            .filter(|k| {
                let name = k.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                !told.iter().any(|m| m.contains(&name))
            })
            .collect();
        expect(unannounced.is_empty(), || {
            format!("files kept aside without a word: {unannounced:?} (told: {told:?})")
        })?;
        repo.expect_no_temporaries()
    });
}

/// Copies an apply set aside rather than delete, found anywhere.
fn kept_copies(dir: &Path) -> Vec<PathBuf> {
    super::fixture::snapshot(dir)
        .into_keys()
        .filter(|k| k.to_string_lossy().contains(".tandem-kept") && !k.starts_with(".git"))
        .collect()
}

fn flip_directory(root: &Path, outside: &Path, component: usize) {
    let rel = ["a", "a/b", "a/b/c"][component];
    let target = outside.join(["A", "B", "C"][component]);
    let (path, aside) = (root.join(rel), root.join(format!("{rel}.aside")));
    if std::fs::rename(&path, &aside).is_err() {
        return;
    }
    let linked = std::os::unix::fs::symlink(&target, &path).is_ok();
    std::thread::yield_now();
    if linked {
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::rename(&aside, &path);
    std::thread::yield_now();
}

/// Replaces the file by a link and back, each by an atomic rename, as an
/// editor's save would: the file at the path is always either the link or
/// a regular file with its committed text.
fn flip_file(root: &Path, outside: &Path, i: usize, base: &str) {
    let path = root.join(format!("a/b/c/f{i}.txt"));
    let staging = root.join(format!("a/b/c/f{i}.txt.flip"));
    let _ = std::fs::remove_file(&staging);
    if std::os::unix::fs::symlink(outside.join(format!("F{i}.txt")), &staging).is_ok() {
        let _ = std::fs::rename(&staging, &path);
    }
    std::thread::yield_now();
    if std::fs::write(&staging, base).is_ok() {
        let _ = std::fs::rename(&staging, &path);
    }
    std::thread::yield_now();
}
