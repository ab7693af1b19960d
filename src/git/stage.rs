//! The index side of applying and undoing: what git has staged for a file,
//! and replacing exactly that entry. The whole index is loaded once, edited in
//! memory and written once, so a batch of files is staged all together or not
//! at all.

use std::path::Path;

use git2::{Index, IndexEntry, IndexEntryExtendedFlag, IndexEntryFlag, IndexTime, ObjectType, Oid, Repository};
use serde::{Deserialize, Serialize};

use super::GitError;

use super::{MODE_EXECUTABLE, MODE_FILE};

/// One stage-0 index entry, as an undo record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexState {
    /// Blob id, hex.
    pub oid: String,
    pub mode: u32,
}

/// What the index holds for one path.
pub(crate) enum Tracked {
    Untracked,
    /// `git add -N`: git knows the name but nothing of the content is staged.
    IntentToAdd,
    /// Stages 1–3 are present: a merge left this path unresolved.
    Conflicted,
    /// A symbolic link or a submodule; its blob is not the file's text.
    NotAFile,
    File(IndexEntry),
}

/// Where a blob's bytes come from, which decides whether git's filters (line
/// ending conversion, `ident`) must run on them.
pub(crate) enum Blob<'a> {
    /// Derived from a blob already in the index, so already in git's form.
    Staged(&'a str),
    /// Working-tree text, converted as `git add` would convert it.
    Worktree(&'a str),
}

pub(crate) struct Stager {
    repo: Repository,
    index: Index,
    changed: bool,
}

impl Stager {
    /// `Ok(None)` when `root` is not the working tree of a git repository;
    /// a repository whose index cannot be read is an error, so the caller can
    /// say why nothing was staged.
    pub fn open(root: &Path) -> Result<Option<Self>, GitError> {
        // `open`, not `discover`: a project that is merely inside some other
        // repository (a dotfiles repository in $HOME, say) must not be staged
        // there.
        let Ok(repo) = Repository::open(root) else { return Ok(None) };
        let Some(workdir) = repo.workdir() else { return Ok(None) };
        let same = match (workdir.canonicalize(), root.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same {
            return Ok(None);
        }
        let index = repo.index().map_err(GitError::ReadIndex)?;
        Ok(Some(Self { repo, index, changed: false }))
    }

    pub(crate) fn lookup(&self, rel: &Path) -> Tracked {
        if (1..=3).any(|stage| self.index.get_path(rel, stage).is_some()) {
            return Tracked::Conflicted;
        }
        match self.index.get_path(rel, 0) {
            None => Tracked::Untracked,
            Some(e) if e.mode != MODE_FILE && e.mode != MODE_EXECUTABLE => Tracked::NotAFile,
            Some(e) if IndexEntryExtendedFlag::from_bits_truncate(e.flags_extended).is_intent_to_add() => {
                Tracked::IntentToAdd
            }
            Some(e) => Tracked::File(e),
        }
    }

    /// The stage-0 entry as an undo record sees it.
    pub fn state(&self, rel: &Path) -> Option<IndexState> {
        self.index.get_path(rel, 0).map(|e| IndexState { oid: e.id.to_string(), mode: e.mode })
    }

    pub(crate) fn has_conflicts(&self, rel: &Path) -> bool {
        matches!(self.lookup(rel), Tracked::Conflicted)
    }

    pub fn text(&self, oid: Oid, shown: &Path) -> Result<String, GitError> {
        let blob = self.repo.find_blob(oid).map_err(|e| GitError::read_staged(shown, e))?;
        String::from_utf8(blob.content().to_vec()).map_err(|_| GitError::StagedNotText(shown.to_path_buf()))
    }

    /// The blob HEAD has at the path, if any.
    pub(crate) fn head_blob(&self, rel: &Path) -> Option<Oid> {
        let tree = self.repo.head().ok()?.peel_to_tree().ok()?;
        tree.get_path(rel).ok().map(|e| e.id())
    }

    pub(crate) fn is_ignored(&self, rel: &Path) -> bool {
        self.repo.is_path_ignored(rel).unwrap_or(false)
    }

    /// Stages `blob` at `rel`, replacing any stage-0 entry. `like` is the entry
    /// whose user-set flags (assume-unchanged, skip-worktree) carry over.
    pub(crate) fn put(
        &mut self,
        rel: &Path,
        blob: Blob<'_>,
        mode: u32,
        like: Option<&IndexEntry>,
    ) -> Result<IndexState, GitError> {
        let oid = match blob {
            Blob::Staged(text) => self.repo.blob(text.as_bytes()),
            Blob::Worktree(text) => self.repo.blob_writer(Some(rel)).and_then(|mut w| {
                std::io::Write::write_all(&mut w, text.as_bytes())
                    .map_err(|e| git2::Error::from_str(&e.to_string()))?;
                w.commit()
            }),
        }
        .map_err(|e| GitError::store(rel, e))?;
        self.set(rel, oid, mode, like)
    }

    /// Puts back an entry an undo record remembers.
    pub fn restore(&mut self, rel: &Path, state: &IndexState) -> Result<(), GitError> {
        let oid = Oid::from_str(&state.oid).map_err(GitError::BadObjectId)?;
        if self.repo.find_blob(oid).is_err() {
            return Err(GitError::StagedVersionGone(rel.to_path_buf()));
        }
        let like = self.index.get_path(rel, 0);
        self.set(rel, oid, state.mode, like.as_ref()).map(|_| ())
    }

    fn set(&mut self, rel: &Path, oid: Oid, mode: u32, like: Option<&IndexEntry>) -> Result<IndexState, GitError> {
        let kept_flags = like.map_or(0, |e| e.flags & IndexEntryFlag::VALID.bits());
        let kept_extended = like.map_or(0, |e| e.flags_extended & IndexEntryExtendedFlag::SKIP_WORKTREE.bits());
        let extended = if kept_extended == 0 { 0 } else { IndexEntryFlag::EXTENDED.bits() };
        // Zero stat data never matches the file on disk, so git re-reads the
        // file instead of trusting a size and mtime that describe some other
        // content (the working tree may keep unstaged edits this entry lacks).
        let zero = IndexTime::new(0, 0);
        let entry = IndexEntry {
            ctime: zero,
            mtime: zero,
            dev: 0,
            ino: 0,
            mode,
            uid: 0,
            gid: 0,
            file_size: 0,
            id: oid,
            flags: kept_flags | extended,
            flags_extended: kept_extended,
            path: index_path(rel),
        };
        self.index.add(&entry).map_err(|e| GitError::stage(rel, e))?;
        self.changed = true;
        Ok(IndexState { oid: oid.to_string(), mode })
    }

    pub(crate) fn remove(&mut self, rel: &Path) -> Result<(), GitError> {
        self.index.remove(rel, 0).map_err(|e| GitError::unstage(rel, e))?;
        self.changed = true;
        Ok(())
    }

    /// Writes the index if anything changed; git's lock file makes this fail
    /// rather than interleave with a concurrent git command.
    pub fn write(&mut self) -> Result<(), GitError> {
        if !self.changed {
            return Ok(());
        }
        self.index.write().map_err(GitError::WriteIndex)
    }

    pub(crate) fn same_blob(oid: Oid, text: &str) -> bool {
        Oid::hash_object(ObjectType::Blob, text.as_bytes()).is_ok_and(|h| h == oid)
    }
}

/// Index paths always use `/`, whatever the platform.
fn index_path(rel: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        rel.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        rel.to_string_lossy().replace('\\', "/").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::git::apply::test_support::Repo;

    const ABSENT: &str = "0123456789012345678901234567890123456789";

    fn opened(repo: &Repo) -> Stager {
        Stager::open(repo.root()).ok().flatten().expect("a readable repository")
    }

    #[test]
    fn only_the_root_of_a_repository_is_staged_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(Stager::open(dir.path()), Ok(None)));
        let repo = Repo::new();
        repo.write("sub/a.txt", "a\n");
        assert!(matches!(Stager::open(&repo.root().join("sub")), Ok(None)));
        assert!(matches!(Stager::open(repo.root()), Ok(Some(_))));
    }

    #[test]
    fn an_unreadable_index_is_an_error_that_says_so() {
        let repo = Repo::new();
        std::fs::write(repo.root().join(".git/index"), b"not an index").expect("write");
        let err = Stager::open(repo.root()).err().expect("an error");
        assert!(matches!(err, GitError::ReadIndex(_)), "{err:?}");
        let shown = err.to_string();
        assert!(shown.starts_with("could not read the git index: "), "{shown}");
        // git's own words, without the class and code of its Display.
        assert!(!shown.contains("class="), "{shown}");
    }

    #[test]
    fn the_staged_version_must_exist_and_be_text() {
        let repo = Repo::new();
        let s = opened(&repo);
        let err = s.text(Oid::from_str(ABSENT).expect("oid"), Path::new("a.txt")).expect_err("absent");
        assert!(matches!(&err, GitError::ReadStaged { path, .. } if path == Path::new("a.txt")), "{err:?}");
        assert!(err.to_string().starts_with("could not read the staged version of a.txt: "), "{err}");
        let binary = s.repo.blob(&[0xff, 0xfe, 0]).expect("blob");
        let err = s.text(binary, Path::new("b.bin")).expect_err("binary");
        assert_eq!(err.to_string(), "the staged version of b.bin is not UTF-8 text");
    }

    #[test]
    fn an_undo_record_naming_a_bad_or_pruned_blob_is_refused() {
        let repo = Repo::new();
        let mut s = opened(&repo);
        let bad = IndexState { oid: "not-hex".into(), mode: MODE_FILE };
        let err = s.restore(Path::new("a.txt"), &bad).expect_err("bad id");
        assert!(matches!(err, GitError::BadObjectId(_)), "{err:?}");
        assert!(err.to_string().starts_with("bad object id in the undo record: "), "{err}");
        let pruned = IndexState { oid: ABSENT.into(), mode: MODE_FILE };
        let err = s.restore(Path::new("a.txt"), &pruned).expect_err("pruned");
        assert!(matches!(&err, GitError::StagedVersionGone(p) if p == Path::new("a.txt")), "{err:?}");
        assert_eq!(err.to_string(), "git no longer has the staged version of a.txt");
    }

    #[test]
    fn unstaging_what_is_not_staged_names_the_file() {
        let repo = Repo::new();
        let mut s = opened(&repo);
        let err = s.remove(Path::new("nothing.txt")).expect_err("not staged");
        assert!(matches!(&err, GitError::Unstage { path, .. } if path == Path::new("nothing.txt")), "{err:?}");
        assert!(err.to_string().starts_with("could not unstage nothing.txt: "), "{err}");
    }

    #[test]
    fn a_locked_index_is_left_alone_and_the_error_says_so() {
        let repo = Repo::new();
        repo.write("a.txt", "a\n");
        let mut s = opened(&repo);
        s.put(Path::new("a.txt"), Blob::Worktree("a\n"), MODE_FILE, None).expect("staged in memory");
        // A git command of the user's holds the index.
        let lock = repo.root().join(".git/index.lock");
        std::fs::write(&lock, b"").expect("lock");
        let err = s.write().expect_err("locked");
        assert!(matches!(err, GitError::WriteIndex(_)), "{err:?}");
        assert!(err.to_string().starts_with("could not write the git index: "), "{err}");
        assert_eq!(repo.index_text("a.txt"), None);
        std::fs::remove_file(&lock).expect("unlock");
        s.write().expect("written once the lock is gone");
        assert_eq!(repo.index_text("a.txt").as_deref(), Some("a\n"));
    }
}
