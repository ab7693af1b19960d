//! Why git could not do its part of applying or undoing. Each message names
//! the file where there is one; the apply and undo reports carry them to the
//! user and the model.

use std::path::{Path, PathBuf};

/// A failure of the repository or its index. The messages quote git's own
/// (`message()`), without the class and code its `Display` appends.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("the project is no longer a git repository")]
    NotARepository,
    #[error("could not read the git index: {}", .0.message())]
    ReadIndex(#[source] git2::Error),
    #[error("could not write the git index: {}", .0.message())]
    WriteIndex(#[source] git2::Error),
    #[error("could not read the staged version of {}: {}", .path.display(), .source.message())]
    ReadStaged { path: PathBuf, source: git2::Error },
    #[error("the staged version of {} is not UTF-8 text", .0.display())]
    StagedNotText(PathBuf),
    #[error("could not store {} in git: {}", .path.display(), .source.message())]
    Store { path: PathBuf, source: git2::Error },
    #[error("could not stage {}: {}", .path.display(), .source.message())]
    Stage { path: PathBuf, source: git2::Error },
    #[error("could not unstage {}: {}", .path.display(), .source.message())]
    Unstage { path: PathBuf, source: git2::Error },
    /// An undo record names an object by an id that is not one.
    #[error("bad object id in the undo record: {}", .0.message())]
    BadObjectId(#[source] git2::Error),
    /// The blob an undo would put back was pruned since.
    #[error("git no longer has the staged version of {}", .0.display())]
    StagedVersionGone(PathBuf),
}

impl GitError {
    pub(crate) fn read_staged(path: &Path, source: git2::Error) -> Self {
        Self::ReadStaged { path: path.to_path_buf(), source }
    }

    pub(crate) fn store(path: &Path, source: git2::Error) -> Self {
        Self::Store { path: path.to_path_buf(), source }
    }

    pub(crate) fn stage(path: &Path, source: git2::Error) -> Self {
        Self::Stage { path: path.to_path_buf(), source }
    }

    pub(crate) fn unstage(path: &Path, source: git2::Error) -> Self {
        Self::Unstage { path: path.to_path_buf(), source }
    }
}

/// A path that applying or undoing refuses before touching anything: it
/// would leave the project, reach git's own files, or cannot be an index
/// path at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("{} is inside a .git directory, which tandem never writes", .0.display())]
    InsideGitDir(PathBuf),
    #[error("{} is not a path inside the project", .0.display())]
    OutsideProject(PathBuf),
    #[error("empty path")]
    Empty,
    #[error("{} contains a NUL byte", .0.display())]
    Nul(PathBuf),
}
