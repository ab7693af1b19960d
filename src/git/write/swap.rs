//! Replacing, creating and deleting a file so that nothing another program
//! does at the same moment is lost.
//!
//! Replacing: the new text goes to a temporary file beside the old one.
//! Right before the rename, with a read lease on the old file (no other
//! program has it open for writing, and any that opens it later is seen),
//! the name must still hold the file that was read, with the text that was
//! read. The rename then exchanges the two names (`RENAME_EXCHANGE`), so the
//! old file is still at hand under the temporary name, and is checked once
//! more: if anything reached it after all, the exchange is undone and the
//! file refused; the user's file is back, appends and all. What another
//! program wrote to tandem's new file in that moment is appended to the
//! user's. Where the system cannot exchange, a hard link keeps the old file
//! instead; where it cannot link either, a changed old file is written back.
//!
//! Peers compared: aider (`InputOutput.write_text` in `aider/io.py`) and
//! gemini-cli (`StandardFileSystemService.writeTextFile`) open the file and
//! write it in place, so a crash leaves half a file and what another program
//! writes meanwhile can be overwritten; codex-rs's apply_patch (`apply_hunks_to_files` in
//! `codex-rs/apply-patch/src/lib.rs`) writes with `std::fs::write` after
//! `create_dir_all` on the path as given. None of them looks at the path or
//! the file again at the moment of writing.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, renameat};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::linkat;

use super::dir::{Dir, remove_empty_dirs};
use super::file::{Current, Place, Temp};
use super::journal::{Journal, kept_name, temp_name};
use super::lease::Lease;
use super::{WriteError, content_hash};

/// The points of a write where another program acting changes the outcome;
/// the tests act there as that program would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Moment {
    /// The new text is in its temporary file; nothing is checked yet.
    TempWritten,
    /// Everything checked, right before the rename.
    Checked,
    /// Right after the rename, before the old file is checked again.
    Swapped,
}

#[cfg(test)]
pub(super) type Hook = Box<dyn FnMut(Moment)>;

#[cfg(test)]
thread_local! {
    pub(super) static AT_MOMENT: std::cell::RefCell<Option<Hook>> = const { std::cell::RefCell::new(None) };
}

fn moment(at: Moment) {
    #[cfg(test)]
    AT_MOMENT.with(|hook| {
        if let Some(hook) = hook.borrow_mut().as_mut() {
            hook(at)
        }
    });
    #[cfg(not(test))]
    let _ = at;
}

/// Where the file that was at the name went when the new one took it.
enum Aside {
    /// Exchanged: the old file is under the temporary file's name.
    Exchanged,
    /// Hard-linked under this name first, then renamed over.
    Linked(OsString),
    /// Renamed over with no other name: only its descriptor is left.
    Gone,
}

impl Place {
    /// Replaces `current` with `text`, keeping `mode` (by default the
    /// file's own), owner and group. Refused, with the file left as it is,
    /// when it changed since it was read, while it was written, or is open
    /// for writing elsewhere.
    pub(crate) fn replace(
        &self,
        journal: &Journal,
        current: &Current,
        text: &str,
        mode: Option<u32>,
    ) -> Result<(), WriteError> {
        self.check_changeable(current)?;
        let owner = Some((current.st.st_uid, current.st.st_gid));
        let temp = Temp::write(&self.dir, journal, text, Some(mode.unwrap_or(current.mode())), owner)?;
        let result = self.swap_in(journal, current, &temp, text);
        // On every path but success the temporary name holds our file (or
        // nothing); never anything else.
        if result.is_err() {
            self.dir.unlink_if(&temp.name, temp.ino);
        }
        self.dir.sync();
        result
    }

    fn swap_in(&self, journal: &Journal, current: &Current, temp: &Temp, text: &str) -> Result<(), WriteError> {
        moment(Moment::TempWritten);
        let mut old_lease = Lease::when_free(&current.file).ok_or_else(|| WriteError::Busy(self.shown()))?;
        // tandem wrote the temporary file through a descriptor of its own,
        // and a process another thread started meanwhile holds a copy of it
        // until it runs its program: a writer about to let go, waited for
        // like one of the old file.
        let mut new_lease = Lease::when_free(&temp.file).ok_or_else(|| WriteError::Changed(self.shown()))?;
        // The moment of writing: the path, the file and its text, again.
        self.dir.still_at_path()?;
        self.check_unchanged(current, old_lease.intact())?;
        journal.swap(self.dir.rel(), &temp.name, &self.name, &content_hash(&current.text), &content_hash(text));
        moment(Moment::Checked);
        let aside = self.exchange(journal, current, temp)?;
        moment(Moment::Swapped);

        let ours_at_name = self.dir.inode(&self.name) == Some(temp.ino);
        let aside_name = match &aside {
            Aside::Exchanged => Some(&temp.name),
            Aside::Linked(name) => Some(name),
            Aside::Gone => None,
        };
        let old_aside = aside_name.is_none_or(|n| self.dir.inode(n) == Some(current.ino()));
        let old_unchanged = old_lease.intact() && current.content_now().is_ok_and(|now| now == current.text.as_bytes());
        // A directory on the way moved in the last moment: the file went
        // where the path no longer leads, so it is taken back.
        let moved = self.dir.still_at_path().err();
        if ours_at_name && old_aside && old_unchanged && moved.is_none() {
            if let Some(name) = aside_name {
                self.dir.unlink_if(name, current.ino());
            }
            if !old_lease.intact() {
                // A program whose open of the old file began before the
                // rename: what it writes goes on top of the new text.
                old_lease.release();
                self.carry(&current.file, current.text.as_bytes(), temp.ino);
            }
            return Ok(());
        }

        // Something reached the file in the last moment: put back what was
        // at the name, and let whoever waits on it go ahead.
        let put_back = match (&aside, ours_at_name) {
            (Aside::Exchanged, true) => self.exchange_back_ours(temp),
            (Aside::Linked(name), true) => {
                renameat(&self.dir, name.as_os_str(), &self.dir, self.name.as_os_str()).is_ok()
            }
            (Aside::Gone, true) => self.write_back(journal, current, temp).is_ok(),
            // Another program already replaced tandem's file: the name is theirs.
            (_, false) => false,
        };
        let mut kept = None;
        if !put_back && let Some(name) = aside_name.filter(|n| self.dir.inode(n).is_some()) {
            let unchanged_old = self.dir.inode(name) == Some(current.ino()) && old_unchanged;
            if !(unchanged_old && self.dir.unlink_if(name, current.ino())) {
                kept = self.keep(name);
            }
        }
        old_lease.release();
        new_lease.release();
        let why = match (moved, kept) {
            (Some(moved), _) => moved,
            (None, Some(kept)) => self.kept_in(&kept),
            (None, None) => WriteError::Changed(self.shown()),
        };
        self.settle(temp, text, why)
    }

    fn kept_in(&self, kept: &OsStr) -> WriteError {
        WriteError::ChangedKept(self.shown(), self.dir.rel().join(kept).display().to_string())
    }

    /// Gives the name to the temporary file, keeping the old file at hand.
    fn exchange(&self, journal: &Journal, current: &Current, temp: &Temp) -> Result<Aside, WriteError> {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            use nix::fcntl::{RenameFlags, renameat2};
            match renameat2(
                &self.dir,
                temp.name.as_os_str(),
                &self.dir,
                self.name.as_os_str(),
                RenameFlags::RENAME_EXCHANGE,
            ) {
                Ok(()) => return Ok(Aside::Exchanged),
                // The file system cannot exchange: link, then rename.
                Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {}
                Err(e) => return Err(WriteError::io(self.rel(), e)),
            }
        }
        let backup = temp_name();
        journal.swap(self.dir.rel(), &backup, &self.name, &content_hash(&current.text), "-");
        let linked = linkat(&self.dir, self.name.as_os_str(), &self.dir, backup.as_os_str(), AtFlags::empty()).is_ok();
        match renameat(&self.dir, temp.name.as_os_str(), &self.dir, self.name.as_os_str()) {
            Ok(()) if linked => Ok(Aside::Linked(backup)),
            Ok(()) => Ok(Aside::Gone),
            Err(e) => {
                if linked {
                    self.dir.unlink_if(&backup, current.ino());
                }
                Err(WriteError::io(self.rel(), e))
            }
        }
    }

    /// Exchanges the name and the temporary name back, so that tandem's
    /// file leaves the name. True only when tandem's file is then at the
    /// temporary name: a program may have put its own file at the name
    /// after tandem looked, and the exchange would carry that file to the
    /// temporary name instead; it is exchanged back to the name, where its
    /// program put it, and false says that tandem's file is gone from both
    /// names (what is aside is then at the temporary name again).
    fn exchange_back_ours(&self, temp: &Temp) -> bool {
        if !self.exchange_back(&temp.name) {
            return false;
        }
        if self.dir.inode(&temp.name) == Some(temp.ino) {
            return true;
        }
        self.exchange_back(&temp.name);
        false
    }

    fn exchange_back(&self, temp_name: &OsStr) -> bool {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            use nix::fcntl::{RenameFlags, renameat2};
            renameat2(&self.dir, temp_name, &self.dir, self.name.as_os_str(), RenameFlags::RENAME_EXCHANGE).is_ok()
        }
        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        {
            let _ = temp_name;
            false
        }
    }

    /// With no second name for the old file, writes its content (with
    /// whatever reached it) back over tandem's file.
    fn write_back(&self, journal: &Journal, current: &Current, temp: &Temp) -> Result<(), WriteError> {
        let text = current.content_now().map_err(|e| WriteError::io(self.rel(), e))?;
        let text = String::from_utf8_lossy(&text);
        let owner = Some((current.st.st_uid, current.st.st_gid));
        let back = Temp::write(&self.dir, journal, &text, Some(current.mode()), owner)?;
        if self.dir.inode(&self.name) != Some(temp.ino) {
            self.dir.unlink_if(&back.name, back.ino);
            return Err(WriteError::Changed(self.shown()));
        }
        renameat(&self.dir, back.name.as_os_str(), &self.dir, self.name.as_os_str())
            .map_err(|e| WriteError::io(self.rel(), e))
    }

    /// After a refused replace: tandem's new file is out of the way, but a
    /// program may have opened it under the name in that moment. Once no
    /// one has it open for writing, whatever was added to it goes to the
    /// file now at the name, and it is removed; if it was changed rather
    /// than added to, it is kept in view.
    fn settle(&self, temp: &Temp, text: &str, why: WriteError) -> Result<(), WriteError> {
        let quiet = Lease::when_free(&temp.file);
        let now = temp.content_now().unwrap_or_default();
        let extra = now.strip_prefix(text.as_bytes());
        let carried = match extra {
            Some([]) => quiet.is_some(),
            Some(extra) => quiet.is_some() && self.append(extra, None),
            None => false,
        };
        if carried || self.dir.inode(&temp.name) != Some(temp.ino) {
            self.dir.unlink_if(&temp.name, temp.ino);
            return Err(why);
        }
        match self.keep(&temp.name) {
            Some(kept) => Err(self.kept_in(&kept)),
            None => Err(why),
        }
    }

    /// Appends what reached `file` beyond `expected` to the file at the name,
    /// once no one has `file` open for writing.
    fn carry(&self, file: &File, expected: &[u8], at_name: u64) {
        let _quiet = Lease::when_free(file);
        let now = super::file::read_all(file).unwrap_or_default();
        if let Some(extra) = now.strip_prefix(expected).filter(|e| !e.is_empty()) {
            self.append(extra, Some(at_name));
        }
    }

    /// Appends `bytes` to the regular file at the name (only if it is the
    /// inode `expect`, when given).
    fn append(&self, bytes: &[u8], expect: Option<u64>) -> bool {
        let flags = OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let Ok(fd) = openat(&self.dir, self.name.as_os_str(), flags, Mode::empty()) else { return false };
        let mut file = File::from(fd);
        let right = fstat(&file).is_ok_and(|st| {
            super::dir::kind(&st) == nix::sys::stat::SFlag::S_IFREG && expect.is_none_or(|i| i == super::dir::ino(&st))
        });
        right && file.write_all(bytes).is_ok()
    }

    /// Moves `name` out of the temporary names, beside the file, so the
    /// next start does not take it for a leftover; the name it got.
    fn keep(&self, name: &OsStr) -> Option<OsString> {
        let kept = kept_name(&self.name);
        let linked = linkat(&self.dir, name, &self.dir, kept.as_os_str(), AtFlags::empty()).is_ok();
        (linked && nix::unistd::unlinkat(&self.dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir).is_ok())
            .then_some(kept)
    }

    /// Creates the file, and the directories missing on the way, with
    /// `text`. Nothing may be at the name: a file that appears there
    /// meanwhile is never overwritten. Returns the directories made.
    pub(crate) fn create(self, journal: &Journal, text: &str, mode: Option<u32>) -> Result<Vec<PathBuf>, WriteError> {
        let shown = self.shown();
        let Place { dir, missing, name, .. } = self;
        let root = dir.root().to_path_buf();
        let (dir, made) = match dir.make(&missing) {
            Ok(done) => done,
            Err((e, made)) => {
                remove_empty_dirs(&root, &made);
                return Err(e);
            }
        };
        let created = create_in(&dir, journal, &name, &shown, text, mode);
        if created.is_err() {
            remove_empty_dirs(&root, &made);
        }
        created.map(|()| made)
    }

    /// Deletes `current`, refused like a replace when it changed or is
    /// being written. The file is first renamed to a temporary name and
    /// checked there, so a write that reaches it in the last moment puts
    /// it back.
    pub(crate) fn remove(&self, journal: &Journal, current: &Current) -> Result<(), WriteError> {
        self.check_changeable(current)?;
        let lease = Lease::when_free(&current.file).ok_or_else(|| WriteError::Busy(self.shown()))?;
        self.dir.still_at_path()?;
        self.check_unchanged(current, lease.intact())?;
        let doomed = temp_name();
        journal.swap(self.dir.rel(), &doomed, &self.name, &content_hash(&current.text), "-");
        moment(Moment::Checked);
        renameat(&self.dir, self.name.as_os_str(), &self.dir, doomed.as_os_str())
            .map_err(|e| WriteError::io(self.rel(), e))?;
        moment(Moment::Swapped);
        let still_old = self.dir.inode(&doomed) == Some(current.ino());
        let unchanged = lease.intact() && current.content_now().is_ok_and(|now| now == current.text.as_bytes());
        let moved = self.dir.still_at_path().err();
        let result = if still_old && unchanged && moved.is_none() && self.dir.unlink_if(&doomed, current.ino()) {
            Ok(())
        } else {
            let kept =
                if self.dir.inode(&doomed).is_some() && !self.rename_back(&doomed) { self.keep(&doomed) } else { None };
            Err(match (moved, kept) {
                (Some(moved), _) => moved,
                (None, Some(kept)) => self.kept_in(&kept),
                (None, None) => WriteError::Changed(self.shown()),
            })
        };
        drop(lease);
        self.dir.sync();
        result
    }

    /// Puts `from` back at the name unless something took the name meanwhile.
    fn rename_back(&self, from: &OsStr) -> bool {
        no_replace(&self.dir, from, &self.name).is_ok()
    }
}

fn create_in(
    dir: &Dir,
    journal: &Journal,
    name: &OsStr,
    shown: &str,
    text: &str,
    mode: Option<u32>,
) -> Result<(), WriteError> {
    dir.check_writable()?;
    if dir.inode(name).is_some() {
        return Err(WriteError::Exists(shown.to_string()));
    }
    let temp = Temp::write(dir, journal, text, mode, None)?;
    moment(Moment::TempWritten);
    let placed = dir.still_at_path().and_then(|()| {
        moment(Moment::Checked);
        no_replace(dir, &temp.name, name).map_err(|e| match e {
            Errno::EEXIST => WriteError::Exists(shown.to_string()),
            e => WriteError::io(std::path::Path::new(shown), e),
        })?;
        // Made where the path no longer leads: taken back.
        dir.still_at_path().inspect_err(|_| {
            dir.unlink_if(name, temp.ino);
        })
    });
    dir.unlink_if(&temp.name, temp.ino);
    dir.sync();
    placed
}

/// Renames `from` to `to` unless `to` exists: `RENAME_NOREPLACE`, or where
/// the system lacks it a hard link (which never replaces) and an unlink.
fn no_replace(dir: &Dir, from: &OsStr, to: &OsStr) -> Result<(), Errno> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use nix::fcntl::{RenameFlags, renameat2};
        match renameat2(dir, from, dir, to, RenameFlags::RENAME_NOREPLACE) {
            Err(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP) => {}
            other => return other,
        }
    }
    linkat(dir, from, dir, to, AtFlags::empty())?;
    nix::unistd::unlinkat(dir, from, nix::unistd::UnlinkatFlags::NoRemoveDir)
}
