//! Opening a repository file to read it without ever opening anything but a
//! regular file inside the repository.
//!
//! Opening a FIFO blocks until a writer appears, a character device such as
//! `/dev/zero` never ends, and some devices act on being opened at all, so
//! the file's type is checked with `lstat` before the open. The file can be
//! swapped for something else between that check and the open (a FIFO
//! renamed over it, a directory on the way replaced by a symbolic link), so
//! the open itself does not block (`O_NONBLOCK`) nor follow a final symbolic
//! link (`O_NOFOLLOW`), and the descriptor's own type (`fstat`) and place
//! (the canonical path it is reachable at now, holding the same inode) are
//! checked again before a byte is read.

use std::fs::{File, FileType, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Why a file was not opened. Each message completes a sentence that starts
/// with the file's name.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("does not exist")]
    NotFound,
    #[error("is a directory")]
    Directory,
    #[error("is a symbolic link")]
    Symlink,
    #[error("is {0}, not a regular file; tandem reads and edits regular files only")]
    Special(&'static str),
    #[error(
        "has {0} hard links; tandem cannot tell whether its other names are outside the repository, so it \
         neither reads nor edits it (a copy of it, `cp F F.new && mv F.new F`, is a file of its own)"
    )]
    HardLinked(u64),
    #[error("was replaced while it was being opened; try again")]
    Changed,
    #[error("is reached through a symbolic link that leads outside the repository")]
    Outside,
    #[error("cannot be read: {0}")]
    Io(#[from] io::Error),
}

/// What a special file is, in words; `None` for regular files, directories
/// and symbolic links.
pub fn special_kind(kind: FileType) -> Option<&'static str> {
    if kind.is_file() || kind.is_dir() || kind.is_symlink() {
        None
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else {
        Some("a special file")
    }
}

/// Checks that `meta` (from `lstat` or `fstat`) is a regular file with one
/// name.
pub fn check_regular(meta: &Metadata) -> Result<(), OpenError> {
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(OpenError::Directory);
    }
    if kind.is_symlink() {
        return Err(OpenError::Symlink);
    }
    if let Some(special) = special_kind(kind) {
        return Err(OpenError::Special(special));
    }
    if meta.nlink() > 1 {
        return Err(OpenError::HardLinked(meta.nlink()));
    }
    Ok(())
}

/// Opens `path` for reading when it is a regular file with one name inside
/// `root` (canonical), reached without a symbolic link; returns the file and
/// its metadata from the open descriptor.
pub fn open_regular(root: &Path, path: &Path) -> Result<(File, Metadata), OpenError> {
    let before = std::fs::symlink_metadata(path).map_err(not_found)?;
    check_regular(&before)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW | nix::libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            // A symbolic link put in the file's place since the check.
            Some(nix::libc::ELOOP) => OpenError::Changed,
            _ => not_found(e),
        })?;
    let meta = file.metadata()?;
    check_regular(&meta)?;
    if (meta.dev(), meta.ino()) != (before.dev(), before.ino()) {
        return Err(OpenError::Changed);
    }
    // A directory on the way may have become a symbolic link to elsewhere
    // between the check and the open: the file must still be where a path
    // without links says it is, inside the root.
    let real = std::fs::canonicalize(path).map_err(not_found)?;
    if !real.starts_with(root) {
        return Err(OpenError::Outside);
    }
    let now = std::fs::symlink_metadata(&real).map_err(not_found)?;
    if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
        return Err(OpenError::Changed);
    }
    Ok((file, meta))
}

fn not_found(e: io::Error) -> OpenError {
    match e.kind() {
        io::ErrorKind::NotFound => OpenError::NotFound,
        _ => OpenError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn root() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let root = std::fs::canonicalize(dir.path()).expect("canon");
        (dir, root)
    }

    #[test]
    fn regular_files_open_and_special_ones_are_refused_without_blocking() {
        let (_d, root) = root();
        std::fs::write(root.join("a.rs"), "fn a() {}").expect("write");
        let made = std::process::Command::new("mkfifo").arg(root.join("pipe.rs")).status().expect("mkfifo");
        assert!(made.success());
        let _socket = std::os::unix::net::UnixListener::bind(root.join("sock.rs")).expect("bind");
        std::fs::create_dir(root.join("dir")).expect("mkdir");
        assert!(open_regular(&root, &root.join("a.rs")).is_ok());
        assert!(matches!(open_regular(&root, &root.join("pipe.rs")), Err(OpenError::Special("a FIFO (named pipe)"))));
        assert!(matches!(open_regular(&root, &root.join("sock.rs")), Err(OpenError::Special("a socket"))));
        assert!(matches!(open_regular(&root, &root.join("dir")), Err(OpenError::Directory)));
        assert!(matches!(open_regular(&root, &root.join("none")), Err(OpenError::NotFound)));
    }

    #[test]
    fn links_are_refused() {
        let (_d, root) = root();
        let (_o, outside) = self::root();
        std::fs::write(outside.join("secret"), "s").expect("write");
        symlink("/dev/zero", root.join("zero")).expect("symlink");
        std::fs::hard_link(outside.join("secret"), root.join("hard")).expect("link");
        symlink(&outside, root.join("out")).expect("symlink");
        assert!(matches!(open_regular(&root, &root.join("zero")), Err(OpenError::Symlink)));
        assert!(matches!(open_regular(&root, &root.join("hard")), Err(OpenError::HardLinked(2))));
        std::fs::write(outside.join("plain"), "s").expect("write");
        assert!(matches!(open_regular(&root, &root.join("out/plain")), Err(OpenError::Outside)));
    }
}
