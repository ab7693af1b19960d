//! Directories reached from the repository root one component at a time,
//! each opened with `O_NOFOLLOW | O_DIRECTORY` relative to the one before:
//! a component that is (or becomes) a symbolic link is refused instead of
//! followed, whatever it points at, and every later operation goes through
//! the descriptor, so swapping a link in afterwards redirects nothing.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, open, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, unlinkat};

use super::WriteError;

/// An open directory of the project, known by the path it was reached by.
pub(crate) struct Dir {
    fd: OwnedFd,
    root: PathBuf,
    /// Relative to the root; empty for the root itself.
    rel: PathBuf,
    id: (u64, u64),
}

impl Dir {
    /// Opens the directory at `rel` (clean, relative) as far as it exists:
    /// the deepest existing directory and the components below it that are
    /// missing. A component that is a link or not a directory is refused.
    pub(crate) fn walk(root: &Path, rel: &Path) -> Result<(Dir, Vec<OsString>), WriteError> {
        // The root itself is followed: it is where the user started tandem,
        // found and canonicalized before anything untrusted ran.
        let fd = open(root, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| WriteError::io(root, e))?;
        let mut dir = Dir::new(fd, root, PathBuf::new())?;
        let parts: Vec<&OsStr> = rel.iter().collect();
        for (i, part) in parts.iter().enumerate() {
            match dir.child(part) {
                Ok(next) => dir = next,
                Err(Missing) => return Ok((dir, parts[i..].iter().map(|p| p.to_os_string()).collect())),
                Err(Refused(e)) => return Err(e),
            }
        }
        Ok((dir, Vec::new()))
    }

    fn new(fd: OwnedFd, root: &Path, rel: PathBuf) -> Result<Dir, WriteError> {
        let st = fstat(&fd).map_err(|e| WriteError::io(&root.join(&rel), e))?;
        Ok(Dir { fd, root: root.to_path_buf(), rel, id: (st.st_dev as u64, ino(&st)) })
    }

    fn child(&self, name: &OsStr) -> Result<Dir, ChildError> {
        let rel = self.rel.join(name);
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        match openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => Dir::new(fd, &self.root, rel).map_err(Refused),
            Err(Errno::ENOENT) => Err(Missing),
            // ELOOP for a link; ENOTDIR for a link or a file, depending on
            // the system: look at what is there.
            Err(e @ (Errno::ELOOP | Errno::ENOTDIR)) => Err(Refused(match self.stat(name) {
                Ok(st) if kind(&st) == SFlag::S_IFLNK => WriteError::Link(rel.display().to_string()),
                Ok(_) => WriteError::NotADirectory(rel.display().to_string()),
                Err(_) => WriteError::io(&rel, e),
            })),
            Err(e) => Err(Refused(WriteError::io(&rel, e))),
        }
    }

    /// Creates the `missing` directories below this one, each opened the
    /// same way, and returns the deepest with the ones made (relative to
    /// the root, outermost first) so an undo can remove them.
    pub(crate) fn make(self, missing: &[OsString]) -> Result<(Dir, Vec<PathBuf>), (WriteError, Vec<PathBuf>)> {
        let mut dir = self;
        let mut made = Vec::new();
        for name in missing {
            if let Err(e) = dir.check_writable() {
                return Err((e, made));
            }
            let rel = dir.rel.join(name);
            match mkdirat(&dir.fd, name.as_os_str(), Mode::from_bits_truncate(0o777)) {
                Ok(()) => made.push(rel.clone()),
                // Someone else made it meanwhile: not ours to remove later.
                Err(Errno::EEXIST) => {}
                Err(e) => return Err((WriteError::io(&rel, e), made)),
            }
            dir = match dir.child(name) {
                Ok(next) => next,
                Err(Missing) => return Err((WriteError::Missing(rel.display().to_string()), made)),
                Err(Refused(e)) => return Err((e, made)),
            };
        }
        Ok((dir, made))
    }

    /// Fails unless the path this directory was reached by still leads to
    /// it with no link on the way: a component renamed away and replaced
    /// (by a link or anything else) since the walk is caught here, right
    /// before a write becomes visible.
    pub(crate) fn still_at_path(&self) -> Result<(), WriteError> {
        let changed = || WriteError::Moved(self.shown());
        match Dir::walk(&self.root, &self.rel) {
            Ok((dir, missing)) if missing.is_empty() && dir.id == self.id => Ok(()),
            Ok(_) => Err(changed()),
            Err(e @ (WriteError::Link(_) | WriteError::NotADirectory(_))) => Err(e),
            Err(_) => Err(changed()),
        }
    }

    /// Refuses a directory whose permissions say no writing, for root as for
    /// anyone: root could write anyway, but a read-only directory is the
    /// user saying its files should not change.
    pub(crate) fn check_writable(&self) -> Result<(), WriteError> {
        let st = fstat(&self.fd).map_err(|e| WriteError::io(&self.path(), e))?;
        if may_write(&st) { Ok(()) } else { Err(WriteError::ReadOnlyDirectory(self.shown())) }
    }

    pub(crate) fn stat(&self, name: &OsStr) -> nix::Result<FileStat> {
        fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW)
    }

    /// The entry's inode, `None` when nothing is there.
    pub(crate) fn inode(&self, name: &OsStr) -> Option<u64> {
        self.stat(name).ok().map(|st| ino(&st))
    }

    /// Removes `name` only if it is still the inode `ino`. There is a moment
    /// between the check and the removal; it only matters against a program
    /// that renames files into tandem's temporary names.
    pub(crate) fn unlink_if(&self, name: &OsStr, ino: u64) -> bool {
        self.inode(name) == Some(ino) && unlinkat(&self.fd, name, UnlinkatFlags::NoRemoveDir).is_ok()
    }

    /// Makes renames and removals in this directory durable. Best effort:
    /// some file systems cannot sync a directory, and the data itself is
    /// already synced.
    pub(crate) fn sync(&self) {
        let _ = nix::unistd::fsync(&self.fd);
    }

    pub(crate) fn rel(&self) -> &Path {
        &self.rel
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self) -> PathBuf {
        self.root.join(&self.rel)
    }

    fn shown(&self) -> String {
        if self.rel.as_os_str().is_empty() { ".".to_string() } else { self.rel.display().to_string() }
    }
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

enum ChildError {
    Missing,
    Refused(WriteError),
}
use ChildError::{Missing, Refused};

/// The inode number, whose type differs between platforms.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn ino(st: &FileStat) -> u64 {
    st.st_ino as u64
}

pub(crate) fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// Whether the permission bits let this user write: the owner's bits for
/// the owner (and for root, who owns everything in effect), the group's for
/// a member, the others' otherwise.
pub(crate) fn may_write(st: &FileStat) -> bool {
    let euid = nix::unistd::geteuid().as_raw();
    let bits = if euid == 0 || euid == st.st_uid {
        0o200
    } else if in_group(st.st_gid) {
        0o020
    } else {
        0o002
    };
    st.st_mode & bits != 0
}

fn in_group(gid: u32) -> bool {
    nix::unistd::getegid().as_raw() == gid
        || nix::unistd::getgroups().is_ok_and(|groups| groups.iter().any(|g| g.as_raw() == gid))
}

/// Removes directories an apply created, innermost first, leaving any that
/// are no longer empty or are no longer where they were made.
pub fn remove_empty_dirs(root: &Path, dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        let (Some(parent), Some(name)) = (d.parent(), d.file_name()) else { continue };
        if let Ok((dir, missing)) = Dir::walk(root, parent)
            && missing.is_empty()
        {
            // Removing a directory only succeeds when it is empty, and never
            // follows a link: that is the whole check.
            let _ = unlinkat(&dir.fd, name, UnlinkatFlags::RemoveDir);
        }
    }
}
