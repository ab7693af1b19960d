//! Real git repositories with a second directory tree beside them (the
//! "outside" a write must never reach), and what the checks compare: the
//! working tree, the index against HEAD, and leftover temporary files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tandem::git::Approved;
use tandem::patch::FileChange;

pub struct Repo {
    pub dir: tempfile::TempDir,
    pub outside: tempfile::TempDir,
    pub git: git2::Repository,
}

impl Repo {
    /// A repository with `files` committed.
    pub fn new(files: &[(&str, &str)]) -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("outside");
        let git = git2::Repository::init(dir.path()).expect("init");
        let repo = Repo { dir, outside, git };
        for (path, text) in files {
            repo.write(path, text);
        }
        repo.commit();
        repo
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let abs = self.path(rel);
        std::fs::create_dir_all(abs.parent().expect("parent")).expect("mkdir");
        std::fs::write(abs, text).expect("write");
    }

    pub fn read(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.path(rel)).ok()
    }

    pub fn commit(&self) {
        let mut index = self.git.index().expect("index");
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).expect("add");
        index.write().expect("write index");
        let tree = self.git.find_tree(index.write_tree().expect("tree")).expect("find tree");
        let sig = git2::Signature::now("t", "t@example.invalid").expect("sig");
        let parent = self.git.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<_> = parent.iter().collect();
        self.git.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents).expect("commit");
    }

    /// Puts the working tree and the index back to HEAD, untracked files
    /// and all, as `git reset --hard && git clean -fd` does.
    pub fn reset_to_head(&self) {
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout.force().remove_untracked(true);
        self.git.checkout_head(Some(&mut checkout)).expect("checkout");
        self.reset_index();
    }

    /// Puts the index back to HEAD, as `git reset` does.
    pub fn reset_index(&self) {
        let head = self.git.head().expect("head").peel_to_tree().expect("tree");
        let mut index = self.git.index().expect("index");
        index.read_tree(&head).expect("read tree");
        index.write().expect("write index");
    }

    /// What `git diff --cached --name-status` would list, with the staged
    /// text of each path (`None`: staged as deleted).
    pub fn staged_changes(&self) -> BTreeMap<String, Option<String>> {
        let mut index = self.git.index().expect("index");
        index.read(true).expect("reread index");
        let head = self.git.head().ok().and_then(|h| h.peel_to_tree().ok());
        let diff = self.git.diff_tree_to_index(head.as_ref(), Some(&index), None).expect("diff");
        let mut out = BTreeMap::new();
        for delta in diff.deltas() {
            let file = delta.new_file();
            let path = file.path().or(delta.old_file().path()).expect("path").to_string_lossy().into_owned();
            let text = (!file.id().is_zero()).then(|| {
                let blob = self.git.find_blob(file.id()).expect("blob");
                String::from_utf8_lossy(blob.content()).into_owned()
            });
            out.insert(path, text);
        }
        out
    }

    /// Fails unless exactly `expected` is staged.
    pub fn expect_staged(&self, expected: &[(&str, Option<&str>)]) -> Result<(), String> {
        let got = self.staged_changes();
        let want: BTreeMap<String, Option<String>> =
            expected.iter().map(|(p, t)| (p.to_string(), t.map(str::to_string))).collect();
        if got == want { Ok(()) } else { Err(format!("staged {got:?}, expected {want:?}")) }
    }

    /// Temporary files of an apply left in the repository or outside it.
    pub fn temporaries(&self) -> Vec<PathBuf> {
        let mut found = temporaries(self.root());
        found.extend(temporaries(self.outside.path()));
        found
    }

    pub fn expect_no_temporaries(&self) -> Result<(), String> {
        let left = self.temporaries();
        if left.is_empty() {
            return Ok(());
        }
        let what: Vec<String> = left
            .iter()
            .map(|p| match std::fs::symlink_metadata(p) {
                Ok(m) if m.file_type().is_symlink() => {
                    format!("{} (a link to {:?})", p.display(), std::fs::read_link(p).ok())
                }
                Ok(_) => format!("{} (holding {:?})", p.display(), std::fs::read_to_string(p).unwrap_or_default()),
                Err(e) => format!("{} ({e})", p.display()),
            })
            .collect();
        Err(format!("temporary files left: {}", what.join(", ")))
    }
}

/// Files whose names mark them as tandem's temporaries, anywhere under `dir`
/// (symbolic links are not followed).
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                stack.push(e.path());
            } else if name.starts_with(".tandem-") {
                found.push(e.path());
            }
        }
    }
    found
}

/// Every entry under `dir` with its content (files), target (links) or
/// kind, so a check can tell that nothing there changed.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(dir).expect("inside").to_path_buf();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            let value = if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).expect("link").display())
            } else if meta.is_dir() {
                stack.push(path);
                "dir".to_string()
            } else if meta.is_file() {
                use std::os::unix::fs::PermissionsExt;
                let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
                format!("{:o} {text}", meta.permissions().mode() & 0o7777)
            } else {
                "special".to_string()
            };
            out.insert(rel, value);
        }
    }
    out
}

pub fn unchanged(
    what: &str,
    before: &BTreeMap<PathBuf, String>,
    after: &BTreeMap<PathBuf, String>,
) -> Result<(), String> {
    if before == after {
        return Ok(());
    }
    let changed: Vec<_> = after.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, _)| k).collect();
    let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    Err(format!("{what} changed: {changed:?} written, {gone:?} removed"))
}

pub fn change(path: &str, base: Option<&str>, proposed: Option<&str>, new_path: Option<&str>) -> FileChange {
    FileChange::new(path.into(), base.map(str::to_string), proposed.map(str::to_string), new_path.map(PathBuf::from))
        .expect("a change")
}

pub fn all(change: FileChange) -> Approved {
    Approved { hunks: change.hunks.clone(), change }
}

/// `n` numbered lines.
pub fn lines(n: usize) -> String {
    (1..=n).map(|i| format!("line {i}\n")).collect()
}

pub fn expect(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(why()) }
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path).expect("meta").permissions().mode() & 0o7777
}
