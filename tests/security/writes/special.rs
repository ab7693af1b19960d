//! Files tandem must refuse to replace at apply time: a FIFO, a socket, a
//! directory or a device where the proposal saw a file; a read-only file or
//! directory; a file with other hard links; a path into `.git`.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use super::fixture::{Repo, all, change, expect, lines, mode, set_mode, snapshot, unchanged};
use crate::harness::Family;
use tandem::git::{ApplyReport, Approved, apply};

fn base() -> String {
    lines(8)
}

fn proposed() -> String {
    base().replace("line 5\n", "line five\n")
}

/// Applies on another thread: a FIFO opened for reading would block forever,
/// which must show as a failed case, not a hung suite.
fn apply_bounded(root: &Path, approved: Vec<Approved>) -> Result<ApplyReport, String> {
    let (tx, rx) = mpsc::channel();
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(apply(&root, &approved));
    });
    rx.recv_timeout(Duration::from_secs(60)).map_err(|_| "the apply blocked".to_string())
}

/// What a refusal must look like: not written, nothing staged, the message
/// says `needle`, nothing else in the tree changed.
fn refused(
    repo: &Repo,
    report: &ApplyReport,
    needle: &str,
    before: &std::collections::BTreeMap<std::path::PathBuf, String>,
) -> Result<(), String> {
    let outcome = &report.files[0];
    expect(!outcome.written && !outcome.staged, || format!("not refused: {outcome:?}"))?;
    let message = outcome.message.clone().unwrap_or_default();
    expect(message.contains(needle), || format!("the message does not say `{needle}`: {message}"))?;
    unchanged("the working tree", before, &worktree(repo))?;
    repo.expect_staged(&[])?;
    repo.expect_no_temporaries()
}

fn worktree(repo: &Repo) -> std::collections::BTreeMap<std::path::PathBuf, String> {
    snapshot(repo.root()).into_iter().filter(|(k, _)| !k.starts_with(".git")).collect()
}

#[derive(Clone, Copy, Debug)]
enum Special {
    Fifo,
    Socket,
    Directory,
    LinkToDevice,
    Device,
}

fn make(kind: Special, path: &Path) -> Option<Box<dyn std::any::Any>> {
    std::fs::remove_file(path).expect("rm");
    match kind {
        Special::Fifo => {
            nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
            None
        }
        Special::Socket => Some(Box::new(std::os::unix::net::UnixListener::bind(path).expect("bind"))),
        Special::Directory => {
            std::fs::create_dir(path).expect("mkdir");
            std::fs::write(path.join("inside.txt"), "x\n").expect("write");
            None
        }
        Special::LinkToDevice => {
            std::os::unix::fs::symlink("/dev/null", path).expect("symlink");
            None
        }
        Special::Device => {
            use nix::sys::stat::{Mode, SFlag, makedev, mknod};
            // /dev/null's numbers; creating a device node needs privileges.
            mknod(path, SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), makedev(1, 3)).ok().map(|_| Box::new(()) as _)
        }
    }
}

/// A special file where the proposal saw `f.txt`, for an edit and a deletion.
pub fn special_files(family: &mut Family) {
    for kind in [Special::Fifo, Special::Socket, Special::Directory, Special::LinkToDevice, Special::Device] {
        for delete in [false, true] {
            let repo = Repo::new(&[("src/f.txt", &base())]);
            let path = repo.path("src/f.txt");
            let change = if delete {
                change("src/f.txt", Some(&base()), None, None)
            } else {
                change("src/f.txt", Some(&base()), Some(&proposed()), None)
            };
            let guard = make(kind, &path);
            if matches!(kind, Special::Device) && guard.is_none() {
                // Not privileged here: no device node to try.
                continue;
            }
            let verb = if delete { "deletion" } else { "edit" };
            family.check(format!("{kind:?} in place of the file, {verb}"), || {
                let before = worktree(&repo);
                let report = apply_bounded(repo.root(), vec![all(change)])?;
                let needle = match kind {
                    Special::LinkToDevice => "link",
                    _ => "not a regular file",
                };
                refused(&repo, &report, needle, &before)
            });
            drop(guard);
        }
    }
}

/// Read-only files and directories, and hard-linked files: refused with a
/// message that says what to do, never written through the permission.
pub fn permissions(family: &mut Family) {
    let (b, p) = (base(), proposed());
    // What is made read-only, the change, and what the refusal must say.
    let cases = [
        ("a read-only file, edited", "src/f.txt", change("src/f.txt", Some(&b), Some(&p), None)),
        ("a read-only file, deleted", "src/f.txt", change("src/f.txt", Some(&b), None, None)),
        ("a read-only file, moved", "src/f.txt", change("src/f.txt", Some(&b), Some(&b), Some("g.txt"))),
        ("a file in a read-only directory, edited", "src", change("src/f.txt", Some(&b), Some(&p), None)),
        ("a new file in a read-only directory", "src", change("src/new.txt", None, Some(&p), None)),
        ("a file in a read-only directory, deleted", "src", change("src/f.txt", Some(&b), None, None)),
        ("a file moved into a read-only directory", "src", change("f.txt", Some(&b), Some(&b), Some("src/g.txt"))),
        ("a file moved out of a read-only directory", "src", change("src/f.txt", Some(&b), Some(&b), Some("g.txt"))),
    ];
    for (what, locked, the_change) in cases {
        let needle = "chmod u+w";
        family.check(what, || {
            let repo = Repo::new(&[("src/f.txt", &base()), ("f.txt", &base())]);
            let locked = repo.path(locked);
            let old_mode = mode(&locked);
            let before = worktree(&repo);
            set_mode(&locked, if locked.is_dir() { 0o555 } else { 0o444 });
            let report = apply_bounded(repo.root(), vec![all(the_change)]);
            if locked.exists() {
                set_mode(&locked, old_mode);
            }
            let report = report?;
            refused(&repo, &report, needle, &before)
        });
    }
    for delete in [false, true] {
        let verb = if delete { "deleted" } else { "edited" };
        family.check(format!("a file with a hard link outside the repository, {verb}"), || {
            let repo = Repo::new(&[("src/f.txt", &base())]);
            let other = repo.outside.path().join("other-name.txt");
            std::fs::hard_link(repo.path("src/f.txt"), &other).expect("link");
            let before = worktree(&repo);
            let change = if delete {
                change("src/f.txt", Some(&base()), None, None)
            } else {
                change("src/f.txt", Some(&base()), Some(&proposed()), None)
            };
            let report = apply_bounded(repo.root(), vec![all(change)])?;
            refused(&repo, &report, "hard link", &before)?;
            let text = std::fs::read_to_string(&other).expect("other");
            expect(text == base(), || format!("the other link holds {text:?}"))
        });
    }
}

/// Paths into `.git`, however spelt, never reach the disk from an apply. The
/// spellings are those of git's CVE-2014-9390 (case, and the characters
/// HFS+ ignores) that git's `verify_path` refuses.
pub fn git_paths(family: &mut Family) {
    let spellings = [
        ".git/config",
        ".git/hooks/pre-commit",
        ".GIT/hooks/post-checkout",
        "sub/.git/x",
        "sub/.Git/x",
        ".git\u{200c}/hooks/x",
    ];
    for path in spellings {
        family.check(format!("a new file at {path:?}"), || {
            let repo = Repo::new(&[("src/f.txt", &base())]);
            std::fs::create_dir_all(repo.path("sub")).expect("sub");
            let before_git = snapshot(&repo.path(".git"));
            let before = worktree(&repo);
            let report =
                apply_bounded(repo.root(), vec![all(change(path, None, Some("#!/bin/sh\necho owned\n"), None))])?;
            let outcome = &report.files[0];
            expect(!outcome.written, || format!("written: {outcome:?}"))?;
            let after_git: std::collections::BTreeMap<_, _> = snapshot(&repo.path(".git"))
                .into_iter()
                .filter(|(k, _)| !k.starts_with("objects") && *k != Path::new("index"))
                .collect();
            let before_git: std::collections::BTreeMap<_, _> =
                before_git.into_iter().filter(|(k, _)| !k.starts_with("objects") && *k != Path::new("index")).collect();
            unchanged(".git", &before_git, &after_git)?;
            unchanged("the working tree", &before, &worktree(&repo))?;
            repo.expect_staged(&[])
        });
    }
}
