//! A file's place in the project, resolved at the moment of writing, and
//! the file found there, held open so the checks right before a rename look
//! at the very file that was read.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, unlinkat};

use super::WriteError;
use super::dir::{Dir, ino, kind, may_write};
use super::journal::{Journal, temp_name};

/// Where a file of the project is, or is to be: its directory, opened from
/// the root without following links, and the directories still missing
/// below it.
pub(crate) struct Place {
    pub(super) dir: Dir,
    pub(super) missing: Vec<OsString>,
    pub(super) name: OsString,
    rel: PathBuf,
}

/// A regular file found at a [`Place`], open for reading, with its text.
pub(crate) struct Current {
    pub(crate) text: String,
    pub(super) file: File,
    pub(super) st: FileStat,
}

impl Current {
    /// The permission bits, kept when the file is rewritten.
    pub(crate) fn mode(&self) -> u32 {
        self.st.st_mode & 0o7777
    }

    pub(super) fn ino(&self) -> u64 {
        ino(&self.st)
    }

    /// The file's content now, read through the descriptor: what another
    /// program appended since it was read shows here.
    pub(super) fn content_now(&self) -> io::Result<Vec<u8>> {
        read_all(&self.file)
    }
}

impl Place {
    /// Resolves `rel` (clean, relative) from `root`. Missing directories
    /// are allowed (a new file creates them); a link or a file on the way
    /// is refused.
    pub(crate) fn find(root: &Path, rel: &Path) -> Result<Place, WriteError> {
        let name = rel.file_name().ok_or_else(|| WriteError::NotAFile(rel.display().to_string(), "the root"))?;
        let parent = rel.parent().unwrap_or(Path::new(""));
        let (dir, missing) = Dir::walk(root, parent)?;
        Ok(Place { dir, missing, name: name.to_os_string(), rel: rel.to_path_buf() })
    }

    pub(crate) fn rel(&self) -> &Path {
        &self.rel
    }

    pub(super) fn shown(&self) -> String {
        self.rel.display().to_string()
    }

    /// The regular file at this place, `None` when there is nothing.
    /// Links, directories, FIFOs, sockets and devices are refused without
    /// being opened for anything but a look, so a FIFO never blocks and a
    /// device never sees an open.
    pub fn open(&self) -> Result<Option<Current>, WriteError> {
        if !self.missing.is_empty() {
            return Ok(None);
        }
        let st = match self.dir.stat(&self.name) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(WriteError::io(&self.rel, e)),
        };
        self.regular(&st)?;
        // O_NONBLOCK: should a FIFO be swapped in after the look, opening it
        // does not wait for a writer. It means nothing for a regular file.
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let fd = match openat(&self.dir, self.name.as_os_str(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) => return Err(WriteError::Link(self.shown())),
            Err(e) => return Err(WriteError::io(&self.rel, e)),
        };
        let file = File::from(fd);
        let st = fstat(&file).map_err(|e| WriteError::io(&self.rel, e))?;
        self.regular(&st)?;
        let bytes = read_all(&file).map_err(|e| WriteError::io(&self.rel, e))?;
        let text = String::from_utf8(bytes).map_err(|_| WriteError::NotText(self.shown()))?;
        Ok(Some(Current { text, file, st }))
    }

    fn regular(&self, st: &FileStat) -> Result<(), WriteError> {
        let what = match kind(st) {
            SFlag::S_IFREG => return Ok(()),
            SFlag::S_IFLNK => return Err(WriteError::Link(self.shown())),
            SFlag::S_IFDIR => "a directory",
            SFlag::S_IFIFO => "a FIFO (named pipe)",
            SFlag::S_IFSOCK => "a socket",
            SFlag::S_IFCHR | SFlag::S_IFBLK => "a device",
            _ => "something unknown",
        };
        Err(WriteError::NotAFile(self.shown(), what))
    }

    /// Refuses to replace or delete what the user protected or what is
    /// shared: a read-only file, a file in a read-only directory, a file
    /// with other hard links. Root could write through all of these; the
    /// permissions still say the user does not want it to.
    pub(crate) fn check_changeable(&self, current: &Current) -> Result<(), WriteError> {
        if current.st.st_nlink > 1 {
            #[allow(clippy::unnecessary_cast)] // nlink_t is u32 on some platforms
            return Err(WriteError::HardLinks(self.shown(), current.st.st_nlink as u64));
        }
        if !may_write(&current.st) {
            return Err(WriteError::ReadOnly(self.shown()));
        }
        self.dir.check_writable()
    }

    /// Whether a write here would be refused for its permissions or links:
    /// replacing or deleting `current`, or creating a file where there is
    /// none. For checking every path of a change before touching any.
    pub(crate) fn check_writable(&self, current: Option<&Current>) -> Result<(), WriteError> {
        match current {
            Some(current) => self.check_changeable(current),
            None => self.dir.check_writable(),
        }
    }

    /// Fails unless the name still holds the file that was read, with the
    /// text it had and no writer since `lease_intact` was last true.
    pub(super) fn check_unchanged(&self, current: &Current, lease_intact: bool) -> Result<(), WriteError> {
        let same_file = self.dir.inode(&self.name) == Some(current.ino());
        let same_text = current.content_now().is_ok_and(|now| now == current.text.as_bytes());
        if same_file && same_text && lease_intact { Ok(()) } else { Err(WriteError::Changed(self.shown())) }
    }
}

/// A temporary file of tandem's in a project directory, fully written and
/// synced, held open read-only.
pub(super) struct Temp {
    pub(super) name: OsString,
    pub(super) file: File,
    pub(super) ino: u64,
}

impl Temp {
    /// Writes `text` to a new temporary file in `dir`, recorded in the
    /// journal before it exists. `mode` is set exactly (a new file without
    /// one gets 0666 less the umask); `owner` is kept where the system lets
    /// tandem, as when root edits a user's file.
    pub(super) fn write(
        dir: &Dir,
        journal: &Journal,
        text: &str,
        mode: Option<u32>,
        owner: Option<(u32, u32)>,
    ) -> Result<Temp, WriteError> {
        let path = |name: &OsString| dir.rel().join(name);
        let mut attempts = 0;
        let (name, fd) = loop {
            attempts += 1;
            let name = temp_name();
            journal.temp(dir.rel(), &name);
            let flags = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            match openat(dir, name.as_os_str(), flags, Mode::from_bits_truncate(0o666)) {
                Ok(fd) => break (name, fd),
                // The names are random: a clash twice over is not chance.
                Err(Errno::EEXIST) if attempts < 8 => continue,
                Err(e) => return Err(WriteError::io(&path(&name), e)),
            }
        };
        let written = (|| -> Result<Temp, WriteError> {
            let io = |e: io::Error| WriteError::io(&path(&name), e);
            let mut file = File::from(fd);
            if let Some((uid, gid)) = owner {
                // Before the mode: a change of owner clears set-id bits.
                let _ = fchown(file.as_fd(), Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
            }
            if let Some(mode) = mode {
                fchmod(file.as_fd(), Mode::from_bits_truncate(mode)).map_err(|e| io(e.into()))?;
            }
            file.write_all(text.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            let ino = ino(&fstat(&file).map_err(|e| io(e.into()))?);
            // Read-only from here on: a read lease needs no writer open.
            let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
            let reopened = File::from(openat(dir, name.as_os_str(), flags, Mode::empty()).map_err(|e| io(e.into()))?);
            if super::dir::ino(&fstat(&reopened).map_err(|e| io(e.into()))?) != ino {
                return Err(WriteError::Changed(path(&name).display().to_string()));
            }
            Ok(Temp { name: name.clone(), file: reopened, ino })
        })();
        if written.is_err() {
            let _ = unlinkat(dir, name.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
        written
    }

    pub(super) fn content_now(&self) -> io::Result<Vec<u8>> {
        read_all(&self.file)
    }
}

/// Everything in the file from its start, whatever the descriptor's offset.
pub(super) fn read_all(file: &File) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read_at(&mut buf, out.len() as u64) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
