//! Temporary files of an apply, recorded before they exist, so the next
//! start removes those a killed apply left, and only those.
//!
//! Each apply (or undo) keeps one journal file in the user's state
//! directory (`<state>/pending-writes/<pid>-<random>.pending`), locked while
//! it runs. It starts with the project root and gets a line before each
//! temporary file is created and before each rename that leaves the old
//! file under a temporary name. A clean end deletes it. At start-up, a
//! journal whose lock is free belongs to a process that died: its files
//! are looked up (through directories opened without following links) and
//! removed if they are regular files with tandem's temporary names and,
//! where the old file was set aside, hold exactly the old or the new text.
//! Anything else found under such a name is moved into view rather than
//! removed: a user's file is never deleted on a guess. The journal lives
//! outside the project, so a cloned repository cannot plant one.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::dir::{Dir, kind};

/// `<state>/pending-writes`, once [`recover`] has run.
static JOURNALS: Mutex<Option<PathBuf>> = Mutex::new(None);

const PREFIX: &str = ".tandem-write-";
const SUFFIX: &str = ".tmp";

/// A fresh temporary name: recognisable, and unique to this process.
pub(super) fn temp_name() -> OsString {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{PREFIX}{}-{seq}-{:08x}{SUFFIX}", std::process::id(), fastrand::u32(..)).into()
}

fn is_temp_name(name: &OsStr) -> bool {
    let name = name.as_bytes();
    name.starts_with(PREFIX.as_bytes()) && name.ends_with(SUFFIX.as_bytes())
}

/// A name in view for a file tandem will not remove: `<name>.tandem-kept-N`.
pub(super) fn kept_name(name: &OsStr) -> OsString {
    let mut kept = name.to_os_string();
    kept.push(format!(".tandem-kept-{:08x}", fastrand::u32(..)));
    kept
}

/// The journal of one apply or undo. Without a state directory (or when it
/// cannot be written) it records nothing, and a killed apply's temporaries
/// stay where they are, named so the user can tell.
pub struct Journal {
    file: Option<File>,
    path: Option<PathBuf>,
}

impl Journal {
    pub(crate) fn start(root: &Path) -> Journal {
        let dir = JOURNALS.lock().ok().and_then(|d| d.clone());
        let Some(dir) = dir else { return Journal { file: None, path: None } };
        match Journal::create(&dir, root) {
            Ok(journal) => journal,
            Err(e) => {
                tracing::warn!("cannot keep a journal of temporary files in {}: {e}", dir.display());
                Journal { file: None, path: None }
            }
        }
    }

    pub(super) fn create(dir: &Path, root: &Path) -> std::io::Result<Journal> {
        fs::create_dir_all(dir)?;
        let stem = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
        let (new, path) = (dir.join(format!("{stem}.new")), dir.join(format!("{stem}.pending")));
        let file = OpenOptions::new().write(true).create_new(true).open(&new)?;
        file.try_lock().map_err(std::io::Error::other)?;
        (&file).write_all(format!("root {}\n", hex(root.as_os_str())).as_bytes())?;
        file.sync_data()?;
        // Only a complete, locked journal takes the name start-up looks for.
        fs::rename(&new, &path)?;
        Ok(Journal { file: Some(file), path: Some(path) })
    }

    fn record(&self, line: String) {
        if let Some(file) = &self.file {
            let _ = (&*file).write_all(line.as_bytes()).and_then(|()| file.sync_data());
        }
    }

    /// `name` in `dir` (relative to the root) is about to be created with
    /// the new text.
    pub(super) fn temp(&self, dir: &Path, name: &OsStr) {
        self.record(format!("temp {} {}\n", hex(dir.as_os_str()), hex(name)));
    }

    /// `name` in `dir` is about to hold the file now at `target`, whose text
    /// hashes to `old`; before that it holds the text hashing to `new`
    /// (`-` when it never held tandem's text).
    pub(super) fn swap(&self, dir: &Path, name: &OsStr, target: &OsStr, old: &str, new: &str) {
        self.record(format!("swap {} {} {} {old} {new}\n", hex(dir.as_os_str()), hex(name), hex(target)));
    }

    /// The apply ended and cleaned up after itself.
    pub fn finish(self) {
        if let Some(path) = &self.path {
            let _ = fs::remove_file(path);
        }
    }
}

/// Removes what applies killed in the project at `root` left behind, and
/// has later applies keep journals in `state_dir` (none without one). Run
/// once at start-up, by the app and by `tandem exec`; it only reads a small
/// directory when nothing was left.
pub fn recover(root: &Path, state_dir: Option<&Path>) {
    let Some(state_dir) = state_dir else { return };
    let dir = state_dir.join("pending-writes");
    if let Ok(mut journals) = JOURNALS.lock() {
        *journals = Some(dir.clone());
    }
    recover_in(root, &dir);
}

/// [`recover`] with the journals in `dir`.
pub(super) fn recover_in(root: &Path, dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let starting = path.extension().is_some_and(|e| e == "new");
        if !starting && path.extension().is_none_or(|e| e != "pending") {
            continue;
        }
        let Ok(mut file) = File::open(&path) else { continue };
        // Held: its apply is still running, in this process or another.
        if file.try_lock().is_err() {
            continue;
        }
        let mut text = String::new();
        if file.read_to_string(&mut text).is_err() {
            continue;
        }
        let mut lines = text.lines();
        let journal_root = lines.next().and_then(|l| l.strip_prefix("root ")).and_then(unhex).map(PathBuf::from);
        match journal_root {
            Some(r) if r == root => {
                clean(root, lines);
                let _ = fs::remove_file(&path);
            }
            // Another project's: left for its next start, unless it is gone.
            Some(r) if !starting && r.is_dir() => {}
            _ => {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

struct Entry {
    dir: PathBuf,
    name: OsString,
    /// For a name that held (or was about to hold) the old file: where it
    /// was, and the hashes of the texts it may hold.
    swap: Option<(OsString, String, String)>,
}

fn clean<'a>(root: &Path, lines: impl Iterator<Item = &'a str>) {
    let mut entries: Vec<Entry> = Vec::new();
    for line in lines {
        let words: Vec<&str> = line.split(' ').collect();
        let (dir, name) = match (words.get(1).and_then(|w| unhex(w)), words.get(2).and_then(|w| unhex(w))) {
            (Some(dir), Some(name)) => (PathBuf::from(dir), name),
            _ => continue,
        };
        let swap = match words.as_slice() {
            ["temp", ..] => None,
            ["swap", _, _, target, old, new] => unhex(target).map(|t| (t, old.to_string(), new.to_string())),
            _ => continue,
        };
        match entries.iter_mut().find(|e| e.dir == dir && e.name == name) {
            Some(e) => e.swap = swap.or(e.swap.take()),
            None => entries.push(Entry { dir, name, swap }),
        }
    }
    for e in entries {
        if is_temp_name(&e.name) && super::clean_relative(&e.dir.join(&e.name)).is_ok() {
            clean_one(root, &e);
        }
    }
}

fn clean_one(root: &Path, e: &Entry) {
    let Ok((dir, missing)) = Dir::walk(root, &e.dir) else { return };
    let Some(st) = dir.stat(&e.name).ok().filter(|st| missing.is_empty() && kind(st) == nix::sys::stat::SFlag::S_IFREG)
    else {
        return;
    };
    let ino = super::dir::ino(&st);
    let Some((target, old, new)) = &e.swap else {
        dir.unlink_if(&e.name, ino);
        return;
    };
    let shown = e.dir.join(&e.name);
    let hash = read(&dir, &e.name).map(|bytes| blake3::hash(&bytes).to_hex().to_string());
    if hash.as_deref().is_some_and(|h| h == old || h == new) {
        dir.unlink_if(&e.name, ino);
        return;
    }
    // Neither text: another program wrote to it while the apply was
    // killed. Back to its place if that is free, else beside it.
    let back = nix::unistd::linkat(&dir, e.name.as_os_str(), &dir, target.as_os_str(), nix::fcntl::AtFlags::empty());
    let kept = if back.is_ok() { target.clone() } else { kept_name(target) };
    let placed = back.is_ok()
        || nix::unistd::linkat(&dir, e.name.as_os_str(), &dir, kept.as_os_str(), nix::fcntl::AtFlags::empty()).is_ok();
    if placed {
        dir.unlink_if(&e.name, ino);
        tracing::warn!(
            "an interrupted apply left {} with changes another program made; it is now {}",
            shown.display(),
            e.dir.join(&kept).display()
        );
    }
}

fn read(dir: &Dir, name: &OsStr) -> Option<Vec<u8>> {
    use nix::fcntl::{OFlag, openat};
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd = openat(dir, name, flags, nix::sys::stat::Mode::empty()).ok()?;
    let mut bytes = Vec::new();
    File::from(fd).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Paths as hex, so any byte (a space, a newline) survives the line format.
fn hex(s: &OsStr) -> String {
    if s.is_empty() {
        return "-".to_string();
    }
    s.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<OsString> {
    if s == "-" {
        return Some(OsString::new());
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect();
    bytes.map(OsString::from_vec)
}
