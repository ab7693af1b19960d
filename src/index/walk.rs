//! Finding the files to index and reading them defensively.

mod open;
mod rules;

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use ignore::WalkBuilder;
use serde::{Deserialize, Serialize};

pub use open::{OpenError, check_regular, open_regular, special_kind};
pub use rules::IgnoreRules;

use super::lang::Lang;

/// Per-project ignore file, read in addition to `.gitignore` and `.ignore`.
pub const TANDEM_IGNORE: &str = ".tandemignore";
/// Bytes inspected for a NUL when deciding a file is binary (what git does).
const BINARY_SNIFF: usize = 8 * 1024;
/// A line this long means generated or minified code: parsing it is slow and its tags are noise.
pub(crate) const MAX_LINE_BYTES: usize = 10 * 1024;

/// Why a file was left out of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipReason {
    Binary,
    TooLarge {
        size: u64,
        limit: u64,
    },
    Minified {
        longest_line: usize,
    },
    Unreadable(String),
    /// Listed by the walk but gone when read.
    Vanished,
    /// Symlinks are not followed, so link cycles cannot trap the walk.
    Symlink,
    /// A FIFO, socket or device: opening one could block or never end.
    Special(String),
    /// Its other names may be outside the repository.
    HardLinked(u64),
    WalkError(String),
    /// The grammar returned no tree (cancelled or grammar missing).
    ParseFailed,
}

impl SkipReason {
    /// Short stable label for grouping in statistics.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge { .. } => "too large",
            SkipReason::Minified { .. } => "minified",
            SkipReason::Unreadable(_) => "unreadable",
            SkipReason::Vanished => "vanished",
            SkipReason::Symlink => "symlink",
            SkipReason::Special(_) => "special file",
            SkipReason::HardLinked(_) => "hard-linked",
            SkipReason::WalkError(_) => "walk error",
            SkipReason::ParseFailed => "parse failed",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooLarge { size, limit } => write!(f, "too large ({size} bytes > {limit})"),
            SkipReason::Minified { longest_line } => write!(f, "minified (a line of {longest_line} bytes)"),
            SkipReason::Unreadable(e) => write!(f, "unreadable ({e})"),
            SkipReason::Special(kind) => write!(f, "{kind}, not a regular file"),
            SkipReason::HardLinked(n) => write!(f, "hard-linked ({n} names)"),
            SkipReason::WalkError(e) => write!(f, "walk error ({e})"),
            other => f.write_str(other.label()),
        }
    }
}

/// A file left out, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: SkipReason,
}

/// A file the walk wants parsed.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Relative to the index root; the key everywhere else.
    pub rel: PathBuf,
    pub lang: Lang,
    pub size: u64,
    pub mtime_ns: u64,
}

#[derive(Debug, Default)]
pub(crate) struct WalkOutput {
    pub candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
    /// Files in languages without tag support; counted, never read.
    pub other_files: usize,
}

/// Settings the walk needs (a subset of `IndexOptions`).
#[derive(Debug, Clone)]
pub(crate) struct WalkConfig<'a> {
    pub root: &'a Path,
    pub max_file_size: u64,
    pub include_hidden: bool,
}

/// The repository's ignore rules as the index applies them.
fn rules(cfg: &WalkConfig) -> IgnoreRules {
    IgnoreRules::new(cfg.root, &[TANDEM_IGNORE])
}

fn is_git_name(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.eq_ignore_ascii_case(".git"))
}

fn builder(cfg: &WalkConfig, rules: IgnoreRules) -> WalkBuilder {
    let mut b = WalkBuilder::new(cfg.root);
    let rules = Arc::new(rules);
    b.hidden(!cfg.include_hidden)
        .follow_links(false)
        // The ignore files are read by `rules`, which never opens a FIFO.
        .git_ignore(false)
        .ignore(false)
        .git_exclude(false)
        .git_global(false)
        .filter_entry(move |e| {
            if is_git_name(e.file_name()) {
                return false;
            }
            e.depth() == 0 || !rules.is_ignored(e.path(), e.file_type().is_some_and(|t| t.is_dir()))
        });
    b
}

/// Lists indexable files under the root, honouring ignore files.
pub(crate) fn walk(cfg: &WalkConfig) -> WalkOutput {
    let mut out = WalkOutput::default();
    for entry in builder(cfg, rules(cfg)).build() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = walk_error_path(&e).unwrap_or_default();
                out.skipped.push(Skipped { path, reason: SkipReason::WalkError(e.to_string()) });
                continue;
            }
        };
        let Some(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(cfg.root).unwrap_or(entry.path()).to_path_buf();
        if ft.is_symlink() {
            out.skipped.push(Skipped { path: rel, reason: SkipReason::Symlink });
            continue;
        }
        let Some(lang) = Lang::from_path(&rel) else {
            out.other_files += 1;
            continue;
        };
        match candidate(cfg, rel.clone(), lang) {
            Ok(c) => out.candidates.push(c),
            Err(reason) => out.skipped.push(Skipped { path: rel, reason }),
        }
    }
    out.candidates.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

fn walk_error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => walk_error_path(err),
        _ => None,
    }
}

/// Checks the file's type and size limits and reads metadata for one
/// relative path. Only regular files with one name are candidates: the
/// walk and the watcher's updates must never open a FIFO or a device.
pub(crate) fn candidate(cfg: &WalkConfig, rel: PathBuf, lang: Lang) -> Result<Candidate, SkipReason> {
    let meta = fs::symlink_metadata(cfg.root.join(&rel)).map_err(io_reason)?;
    check_regular(&meta).map_err(open_reason)?;
    if meta.len() > cfg.max_file_size {
        return Err(SkipReason::TooLarge { size: meta.len(), limit: cfg.max_file_size });
    }
    Ok(Candidate { rel, lang, size: meta.len(), mtime_ns: mtime_ns(&meta) })
}

pub(crate) fn mtime_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn open_reason(e: OpenError) -> SkipReason {
    match e {
        OpenError::NotFound => SkipReason::Vanished,
        OpenError::Symlink => SkipReason::Symlink,
        OpenError::Special(kind) => SkipReason::Special(kind.to_string()),
        OpenError::HardLinked(n) => SkipReason::HardLinked(n),
        other => SkipReason::Unreadable(other.to_string()),
    }
}

fn io_reason(e: io::Error) -> SkipReason {
    match e.kind() {
        io::ErrorKind::NotFound => SkipReason::Vanished,
        _ => SkipReason::Unreadable(e.to_string()),
    }
}

/// Would the walk list `rel`? Used for files that appear after the initial build.
///
/// Every directory on the way is checked too, because ignore rules can hide a
/// directory anywhere on the way down and a walk would not enter it.
pub(crate) fn is_walkable(cfg: &WalkConfig, rel: &Path) -> bool {
    let hidden = |c: &std::ffi::OsStr| c.to_str().is_some_and(|n| n.starts_with('.'));
    if rel.components().any(|c| is_git_name(c.as_os_str()) || (!cfg.include_hidden && hidden(c.as_os_str()))) {
        return false;
    }
    let abs = cfg.root.join(rel);
    let is_dir = fs::symlink_metadata(&abs).is_ok_and(|m| m.is_dir());
    !rules(cfg).is_ignored_or_any_parent(&abs, is_dir)
}

/// A file's text, ready to parse.
pub(crate) struct Loaded {
    pub text: String,
    pub hash: [u8; 32],
    pub size: u64,
}

/// Reads the file at `rel` under `root`, refusing special files, binary and
/// minified content; invalid UTF-8 is replaced, not fatal.
pub fn load(root: &Path, rel: &Path, limit: u64) -> Result<Loaded, SkipReason> {
    let mut bytes = Vec::new();
    let canonical_root = fs::canonicalize(root).map_err(io_reason)?;
    let (file, _) = open_regular(&canonical_root, &root.join(rel)).map_err(open_reason)?;
    // Read one byte past the limit so growth since the walk is noticed without reading a huge file.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io_reason)?;
    if bytes.len() as u64 > limit {
        return Err(SkipReason::TooLarge { size: bytes.len() as u64, limit });
    }
    if bytes[..bytes.len().min(BINARY_SNIFF)].contains(&0) {
        return Err(SkipReason::Binary);
    }
    let longest_line = bytes.split(|&b| b == b'\n').map(<[u8]>::len).max().unwrap_or(0);
    if longest_line > MAX_LINE_BYTES {
        return Err(SkipReason::Minified { longest_line });
    }
    let hash = *blake3::hash(&bytes).as_bytes();
    let size = bytes.len() as u64;
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Ok(Loaded { text, hash, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_and_ignore_files_are_never_opened() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        std::fs::write(root.join("a.rs"), "fn a() {}\n").expect("write");
        for fifo in ["pipe.rs", ".gitignore"] {
            let made = std::process::Command::new("mkfifo").arg(root.join(fifo)).status().expect("mkfifo");
            assert!(made.success());
        }
        let cfg = WalkConfig { root, max_file_size: 1 << 20, include_hidden: false };
        let out = walk(&cfg);
        let names: Vec<_> = out.candidates.iter().map(|c| c.rel.clone()).collect();
        assert_eq!(names, [PathBuf::from("a.rs")]);
        assert!(out.skipped.iter().any(|s| s.path == Path::new("pipe.rs") && s.reason.label() == "special file"));
        assert!(matches!(load(root, Path::new("pipe.rs"), 1 << 20), Err(SkipReason::Special(_))));
        assert!(load(root, Path::new("a.rs"), 1 << 20).is_ok());
    }
}
