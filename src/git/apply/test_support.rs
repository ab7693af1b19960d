//! Real temporary repositories for the apply and undo tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{IndexAddOption, Repository, Signature};

use crate::git::apply::Approved;
use crate::patch::hunks::hunks;
use crate::patch::{ChangeKind, FileChange};

pub(crate) struct Repo {
    pub dir: tempfile::TempDir,
    pub repo: Repository,
}

impl Repo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("init");
        Self { dir, repo }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, path: &str, content: &str) {
        let abs = self.root().join(path);
        if let Some(parent) = abs.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(abs, content).expect("write");
    }

    pub fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.root().join(path)).ok()
    }

    /// Stages the file as `git add` would.
    pub(crate) fn stage(&self, path: &str) {
        let mut index = self.repo.index().expect("index");
        index.add_path(Path::new(path)).expect("add");
        index.write().expect("write index");
    }

    /// Stages everything and commits it.
    pub(crate) fn commit_all(&self) {
        let mut index = self.repo.index().expect("index");
        index.add_all(["*"], IndexAddOption::DEFAULT, None).expect("add all");
        index.update_all(["*"], None).expect("update all");
        index.write().expect("write index");
        let tree = self.repo.find_tree(index.write_tree().expect("tree")).expect("find tree");
        let sig = Signature::now("t", "t@example.com").expect("sig");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<_> = parent.iter().collect();
        self.repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents).expect("commit");
    }

    pub(crate) fn commit(&self, files: &[(&str, &str)]) {
        for (path, content) in files {
            self.write(path, content);
        }
        self.commit_all();
    }

    /// The staged text, `None` when the path has no entry.
    pub(crate) fn index_text(&self, path: &str) -> Option<String> {
        let mut index = self.repo.index().expect("index");
        index.read(true).expect("reread");
        let entry = index.get_path(Path::new(path), 0)?;
        let blob = self.repo.find_blob(entry.id).expect("blob");
        Some(String::from_utf8(blob.content().to_vec()).expect("utf8"))
    }

    pub(crate) fn index_mode(&self, path: &str) -> Option<u32> {
        let mut index = self.repo.index().expect("index");
        index.read(true).expect("reread");
        index.get_path(Path::new(path), 0).map(|e| e.mode)
    }

    /// Output of the `git` command line, `None` when git is not installed.
    pub fn git(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .ok()?;
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        Some(String::from_utf8(out.stdout).expect("utf8"))
    }
}

pub(crate) fn modify(path: &str, base: &str, proposed: &str) -> FileChange {
    FileChange {
        path: PathBuf::from(path),
        new_path: None,
        kind: ChangeKind::Modify,
        base: Some(base.to_string()),
        proposed: Some(proposed.to_string()),
        hunks: hunks(base, proposed),
    }
}

pub(crate) fn add(path: &str, content: &str) -> FileChange {
    FileChange {
        path: PathBuf::from(path),
        new_path: None,
        kind: ChangeKind::Add,
        base: None,
        proposed: Some(content.to_string()),
        hunks: hunks("", content),
    }
}

pub(crate) fn delete(path: &str, base: &str) -> FileChange {
    FileChange {
        path: PathBuf::from(path),
        new_path: None,
        kind: ChangeKind::Delete,
        base: Some(base.to_string()),
        proposed: None,
        hunks: hunks(base, ""),
    }
}

pub(crate) fn moved(from: &str, to: &str, base: &str, proposed: &str) -> FileChange {
    FileChange {
        path: PathBuf::from(from),
        new_path: Some(PathBuf::from(to)),
        kind: ChangeKind::Move,
        base: Some(base.to_string()),
        proposed: Some(proposed.to_string()),
        hunks: hunks(base, proposed),
    }
}

/// Approves every hunk.
pub(crate) fn all(change: FileChange) -> Approved {
    Approved { hunks: change.hunks.clone(), change }
}

/// Approves the hunks at `picks`.
pub(crate) fn some(change: FileChange, picks: &[usize]) -> Approved {
    let hunks = picks.iter().map(|&i| change.hunks[i].clone()).collect();
    Approved { change, hunks }
}

/// `n` numbered lines, each ending in `eol`.
pub fn lines(n: usize, eol: &str) -> String {
    (1..=n).map(|i| format!("line {i}{eol}")).collect()
}

/// `text` with line `n` (1-based) replaced.
pub(crate) fn with_line(text: &str, n: usize, new: &str) -> String {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut parts: Vec<&str> = text.split_inclusive('\n').collect();
    let replacement = if parts[n - 1].ends_with('\n') { format!("{new}{eol}") } else { new.to_string() };
    parts[n - 1] = &replacement;
    parts.concat()
}
