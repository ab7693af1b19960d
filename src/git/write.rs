//! Working-tree file access for applying and undoing edits, checked at the
//! moment of writing.
//!
//! Every path is resolved again when it is written, one directory at a time
//! from the repository root, never following a symbolic link ([`dir`]); the
//! file is read, written and renamed through descriptors of that directory,
//! so a link swapped in at any moment cannot redirect a write. Right before
//! the rename the file must still be the one read, with the same content,
//! and no other program may have it open for writing; after the rename the
//! replaced file is checked once more and put back if it changed ([`swap`]).
//! Read-only files and directories, files with other hard links and
//! anything that is not a regular file are refused. Temporary files are
//! recorded in a journal so the next start removes those of a killed apply
//! ([`journal`]).
//!
//! The moment-of-writing checks need `openat` and friends, so this module
//! is for Unix; tandem does not build elsewhere (see `nix` in Cargo.toml).

mod dir;
mod file;
mod journal;
mod lease;
#[cfg(test)]
mod moment_tests;
mod swap;
#[cfg(test)]
mod tests;

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use super::PathError;

pub use dir::remove_empty_dirs;
pub(crate) use file::{Current, Place};
pub use journal::Journal;
pub use journal::recover;

/// Why a file was not written, in words for the user and the model. Each
/// names the file and, where there is one, what to do about it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error("{0} is a symbolic link; tandem does not write through links, which may lead anywhere")]
    Link(String),
    #[error("{0} is not a directory")]
    NotADirectory(String),
    #[error("{0} is {1}, not a regular file; tandem only writes regular files")]
    NotAFile(String, &'static str),
    #[error(
        "{0} is read-only; tandem does not write through a file's permissions (run `chmod u+w {0}` if it should change, then try again)"
    )]
    ReadOnly(String),
    #[error(
        "the directory {0} is read-only; tandem does not write through its permissions (run `chmod u+w {0}` if files in it should change, then try again)"
    )]
    ReadOnlyDirectory(String),
    #[error(
        "{0} has {1} hard links; changing it here would leave the other links as they are (copy it to break the link, e.g. `cp {0} {0}.new && mv {0}.new {0}`, then try again)"
    )]
    HardLinks(String, u64),
    #[error("{0} is open for writing in another program; close it or let it finish, then try again")]
    Busy(String),
    #[error("{0} changed while tandem was writing it; it was left as the other program made it")]
    Changed(String),
    #[error(
        "{0} changed while tandem was writing it; it was left as the other program made it, and a copy holding changes tandem could not put back in place is kept in {1}"
    )]
    ChangedKept(String, String),
    #[error("the directory {0} was moved or replaced while tandem was writing in it; nothing was written there")]
    Moved(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("{0} no longer exists")]
    Missing(String),
    #[error("{0} is not UTF-8 text")]
    NotText(String),
    #[error("could not write {0}: {1}")]
    Io(String, io::Error),
}

impl WriteError {
    pub(crate) fn io(path: &Path, e: impl Into<io::Error>) -> Self {
        Self::Io(path.display().to_string(), e.into())
    }
}

/// Fingerprint of a file's content, so a caller can tell whether a file
/// changed between a proposal and its application.
pub fn content_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// The path as a clean relative path (no `.`, no `..`, not absolute, not
/// into `.git`), the form git's index expects. Paths are confined by the
/// tools; this guards the apply against a path that would leave the
/// project or reach git's own files whatever produced it.
pub(crate) fn clean_relative(path: &Path) -> Result<PathBuf, PathError> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) if is_git_dir_name(&part.to_string_lossy()) => {
                return Err(PathError::InsideGitDir(path.to_path_buf()));
            }
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return Err(PathError::OutsideProject(path.to_path_buf())),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(PathError::Empty);
    }
    // git2 panics on a NUL in an index path rather than returning an error.
    if out.as_os_str().as_encoded_bytes().contains(&0) {
        return Err(PathError::Nul(path.to_path_buf()));
    }
    Ok(out)
}

/// Whether a file system could take `name` for `.git`: any case (macOS and
/// Windows file systems ignore it), with the characters HFS+ ignores, with
/// the trailing dots and spaces Windows drops, or as NTFS's short name
/// `git~1`. The same spellings git itself refuses (`is_hfs_dotgit` and
/// `is_ntfs_dotgit` in git's `path.c` and `utf8.c`).
fn is_git_dir_name(name: &str) -> bool {
    const HFS_IGNORED: &[char] = &[
        '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
        '\u{206a}', '\u{206b}', '\u{206c}', '\u{206d}', '\u{206e}', '\u{206f}', '\u{feff}',
    ];
    let folded: String = name.chars().filter(|c| !HFS_IGNORED.contains(c)).flat_map(char::to_lowercase).collect();
    let trimmed = folded.trim_end_matches(['.', ' ']);
    trimmed == ".git" || trimmed == "git~1"
}

/// The git mode of the file at `abs`: executable, or a regular file (also
/// when it cannot be read). For describing a file, never for writing it.
pub(crate) fn git_mode(abs: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    match fs::symlink_metadata(abs).map(|m| m.permissions().mode()) {
        Ok(m) if m & 0o111 != 0 => super::MODE_EXECUTABLE,
        _ => super::MODE_FILE,
    }
}

/// Replaces (or creates) a file of tandem's own, outside the project (the
/// patch file of `tandem exec`), in one step: a reader sees the old content
/// or the new, never a mix. A new file gets the usual 0666 less the umask.
/// Files of the project go through [`Place`] instead.
pub(crate) fn write_atomic(abs: &Path, content: &str, mode: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = abs.parent().ok_or_else(|| io::Error::other("the path has no parent directory"))?;
    let mut builder = tempfile::Builder::new();
    // The temporary file would otherwise be 0600, which a rename makes permanent.
    builder.prefix(".tandem-").suffix(".tmp").permissions(fs::Permissions::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(content.as_bytes())?;
    if let Some(mode) = mode {
        tmp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(abs).map_err(|e| e.error)?;
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}
