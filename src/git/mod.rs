//! The git repository tandem works in.

use std::path::{Path, PathBuf};

pub use crate::patch::{MODE_EXECUTABLE, MODE_FILE};

/// What the status line says about where tandem runs. Cheap to compute: it
/// reads HEAD, never the index or the working tree, so start-up stays fast in
/// large repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    /// The repository's working-tree root, or the directory tandem was
    /// started in when it is not inside a repository.
    pub root: PathBuf,
    pub is_git: bool,
    /// The current branch, `None` on a detached HEAD or outside git.
    pub branch: Option<String>,
}

impl RepoInfo {
    pub fn discover(path: &Path) -> Self {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let Ok(repo) = git2::Repository::discover(&path) else {
            return Self { root: path, is_git: false, branch: None };
        };
        let root = repo.workdir().map(Path::to_path_buf).unwrap_or_else(|| path.clone());
        let branch = match repo.head() {
            Ok(head) if head.is_branch() => head.shorthand().ok().map(str::to_string),
            Ok(_) => None,
            // A new repository has no commit yet, so HEAD names a branch that
            // does not exist; show that name.
            Err(_) => repo.find_reference("HEAD").ok().and_then(|r| {
                r.symbolic_target().ok().flatten().map(|t| t.trim_start_matches("refs/heads/").to_string())
            }),
        };
        Self { root, is_git: true, branch }
    }

    /// The last component of the root, for the status line.
    pub fn name(&self) -> String {
        self.root.file_name().map_or_else(|| self.root.display().to_string(), |n| n.to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovers_root_and_unborn_branch_from_a_subdirectory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = git2::Repository::init(dir.path()).expect("init");
        repo.set_head("refs/heads/trunk").expect("head");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
        let info = RepoInfo::discover(&dir.path().join("a/b"));
        assert!(info.is_git);
        assert_eq!(info.root, std::fs::canonicalize(dir.path()).expect("canon"));
        assert_eq!(info.branch.as_deref(), Some("trunk"));
    }

    #[test]
    fn outside_git_is_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let info = RepoInfo::discover(dir.path());
        assert!(!info.is_git);
        assert_eq!(info.branch, None);
    }
}

pub mod apply;
mod error;
mod stage;
pub mod undo;
pub mod write;

pub use apply::{ApplyReport, Approved, FileOutcome, apply};
pub use error::{GitError, PathError};
pub use undo::{UndoRecord, UndoReport, undo};
pub use write::content_hash;
