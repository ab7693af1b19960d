//! Whether another program is writing a file: Linux read leases.
//!
//! A read lease (`fcntl(F_SETLEASE, F_RDLCK)`) cannot be taken while any
//! process has the file open for writing, and once held, every later open
//! for writing "breaks" it: the opener waits until the holder lets go, and
//! the holder sees the break (`F_GETLEASE` no longer says `F_RDLCK`). So a
//! lease held across a replace tells, without a window, whether anyone
//! could have written to the old file after it was checked. No content
//! comparison can tell that: a write may land a moment after the compare.
//!
//! Elsewhere, or where the kernel refuses (a file owned by someone else, a
//! network file system), there is no lease and the caller relies on
//! comparing content alone.

use std::fs::File;
use std::time::Duration;

/// How long to wait for another program to close a file it has open for
/// writing before refusing the write. A shell's `>>` holds it for
/// microseconds; a program that keeps it open will not let go.
const WAIT_FOR_WRITERS: Duration = Duration::from_millis(500);

#[cfg(test)]
thread_local! {
    /// Set by tests of what happens where there are no leases (other
    /// systems, network file systems, another user's file): content
    /// checks alone.
    pub(super) static DISABLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(super) struct Lease<'a> {
    file: &'a File,
    held: bool,
}

pub(super) enum Taken<'a> {
    Held(Lease<'a>),
    /// Some process has the file open for writing.
    Busy,
    /// No leases here: nothing can be told.
    Unsupported(Lease<'a>),
}

impl<'a> Lease<'a> {
    /// Takes a read lease on `file` (opened read-only).
    pub(super) fn take(file: &'a File) -> Taken<'a> {
        #[cfg(test)]
        if DISABLED.with(std::cell::Cell::get) {
            return Taken::Unsupported(Lease { file, held: false });
        }
        match sys::take(file) {
            Ok(()) => Taken::Held(Lease { file, held: true }),
            Err(sys::Refusal::Busy) => Taken::Busy,
            Err(sys::Refusal::Unsupported) => Taken::Unsupported(Lease { file, held: false }),
        }
    }

    /// Takes a lease as soon as no other program has the file open for
    /// writing, waiting a little for one that is about to close it; `None`
    /// when it stays open.
    pub(super) fn when_free(file: &'a File) -> Option<Lease<'a>> {
        let start = std::time::Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            match Lease::take(file) {
                Taken::Held(lease) | Taken::Unsupported(lease) => return Some(lease),
                Taken::Busy if start.elapsed() >= WAIT_FOR_WRITERS => return None,
                Taken::Busy => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
    }

    /// True while no process has opened the file for writing since the lease
    /// was taken. Without a lease nothing is known, and this says true: the
    /// caller's content checks are all there is.
    pub(super) fn intact(&self) -> bool {
        !self.held || sys::intact(self.file)
    }

    /// Lets go, so a program waiting to open the file goes ahead.
    pub(super) fn release(&mut self) {
        if std::mem::take(&mut self.held) {
            sys::release(self.file);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::fs::File;
    use std::os::fd::AsRawFd;

    use nix::errno::Errno;
    use nix::libc;

    /// `F_SETSIG` from glibc's `<bits/fcntl-linux.h>`, the same on every
    /// Linux architecture; the libc crate does not export it for glibc.
    const F_SETSIG: libc::c_int = 10;

    pub(super) enum Refusal {
        Busy,
        Unsupported,
    }

    pub(super) fn take(file: &File) -> Result<(), Refusal> {
        let fd = file.as_raw_fd();
        // A broken lease signals its holder, SIGIO by default, whose default
        // action ends the process. SIGURG is ignored by default and nothing
        // in tandem handles it, so the notice is dropped: the break is read
        // with F_GETLEASE instead.
        // SAFETY: fcntl with integer arguments on a descriptor this borrow
        // keeps open; no memory is passed.
        if unsafe { libc::fcntl(fd, F_SETSIG, libc::SIGURG) } == -1 {
            return Err(Refusal::Unsupported);
        }
        // SAFETY: as above.
        let taken = unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) };
        match Errno::result(taken) {
            Ok(_) => Ok(()),
            Err(Errno::EAGAIN) => Err(Refusal::Busy),
            // EACCES: not the file's owner; EINVAL: the file system has no
            // leases or they are turned off (fs.leases-enable).
            Err(_) => Err(Refusal::Unsupported),
        }
    }

    pub(super) fn intact(file: &File) -> bool {
        // SAFETY: as in `take`.
        unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLEASE) == libc::F_RDLCK }
    }

    pub(super) fn release(file: &File) {
        // SAFETY: as in `take`.
        unsafe {
            libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::fs::File;

    pub(super) enum Refusal {
        #[allow(dead_code)]
        Busy,
        Unsupported,
    }

    pub(super) fn take(_: &File) -> Result<(), Refusal> {
        Err(Refusal::Unsupported)
    }

    pub(super) fn intact(_: &File) -> bool {
        true
    }

    pub(super) fn release(_: &File) {}
}
