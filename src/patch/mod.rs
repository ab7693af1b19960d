//! Proposed edits as data: matching the model's edits against files, the
//! `*** Begin Patch` format, hunks, and applying a chosen subset of hunks.
//!
//! Nothing here touches the disk: callers pass file contents in and get
//! contents back. Writing and staging live in `git`.

use std::path::PathBuf;

pub mod apply_patch;
mod fuzzy;
pub mod hunks;
mod lines;
pub mod matching;
pub(crate) mod unified;

/// Git's mode of a regular file.
pub const MODE_FILE: u32 = 0o100644;
/// Git's mode of an executable file.
pub const MODE_EXECUTABLE: u32 = 0o100755;

/// One line of a hunk, without its line ending.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HunkLine {
    pub kind: LineKind,
    pub text: String,
}

/// Which side of a hunk a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LineKind {
    /// On both sides, unchanged.
    Context,
    /// Only on the old side.
    Removed,
    /// Only on the new side.
    Added,
}

/// A contiguous change with its surrounding context, as in a unified diff.
/// Line numbers are 1-based; a hunk that inserts at the top of a file (or
/// into an empty one) has `old_start` 0 when `old_lines` is 0.
///
/// Lines carry no endings: a file keeps its own when hunks are applied.
/// Only the end of the file is spelled out, by the two `*_missing_newline`
/// flags (git's `\ No newline at end of file`), so that a hunk can add or
/// remove the final newline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hunk {
    pub old_start: usize,
    pub old_lines: usize,
    pub new_start: usize,
    pub new_lines: usize,
    pub lines: Vec<HunkLine>,
    /// The old side runs to the end of a file that does not end in a newline.
    #[serde(default)]
    pub old_missing_newline: bool,
    /// The new side runs to the end of a file that does not end in a newline.
    #[serde(default)]
    pub new_missing_newline: bool,
    /// The proposal's lines end in CRLF. Applying a hunk gives added lines
    /// the target file's own endings; this only decides for a target that
    /// has none to go by (empty, or a single unterminated line).
    #[serde(default)]
    pub crlf: bool,
}

/// What a proposal does to one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChangeKind {
    Modify,
    Add,
    Delete,
    /// Moved to `FileChange::new_path`, possibly with edits.
    Move,
}

/// A proposed change to one file, relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: PathBuf,
    /// Where the file goes for [`ChangeKind::Move`].
    pub new_path: Option<PathBuf>,
    pub kind: ChangeKind,
    /// The content the proposal was made against; `None` for a new file.
    pub base: Option<String>,
    /// The proposed content; `None` when the file is deleted.
    pub proposed: Option<String>,
    pub hunks: Vec<Hunk>,
}

impl FileChange {
    /// The change from `base` to `proposed` (moved to `new_path`), or
    /// `None` when that changes nothing. `None` for `base` is a new file,
    /// for `proposed` a deletion; a `new_path` equal to `path` is no move.
    pub fn new(
        path: PathBuf,
        base: Option<String>,
        proposed: Option<String>,
        new_path: Option<PathBuf>,
    ) -> Option<Self> {
        let new_path = new_path.filter(|p| *p != path);
        if new_path.is_none() && base == proposed {
            return None;
        }
        Some(Self::diff(path, base, proposed, new_path))
    }

    /// The change from `base` to `proposed`, even when that is none (an
    /// edit that gave back the same text).
    pub(crate) fn diff(
        path: PathBuf,
        base: Option<String>,
        proposed: Option<String>,
        new_path: Option<PathBuf>,
    ) -> Self {
        let new_path = new_path.filter(|p| *p != path);
        let kind = match (&base, &proposed, &new_path) {
            (_, _, Some(_)) => ChangeKind::Move,
            (None, _, None) => ChangeKind::Add,
            (Some(_), None, None) => ChangeKind::Delete,
            (Some(_), Some(_), None) => ChangeKind::Modify,
        };
        let hunks = hunks::hunks(base.as_deref().unwrap_or(""), proposed.as_deref().unwrap_or(""));
        FileChange { path, new_path, kind, base, proposed, hunks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_named_by_what_it_does() {
        let text = |s: &str| Some(s.to_string());
        let kind = |base, proposed, new_path: Option<&str>| {
            FileChange::new("a".into(), base, proposed, new_path.map(PathBuf::from)).map(|c| c.kind)
        };
        assert_eq!(kind(None, text("x\n"), None), Some(ChangeKind::Add));
        assert_eq!(kind(text("x\n"), None, None), Some(ChangeKind::Delete));
        assert_eq!(kind(text("x\n"), text("y\n"), None), Some(ChangeKind::Modify));
        assert_eq!(kind(text("x\n"), text("x\n"), Some("b")), Some(ChangeKind::Move));
        assert_eq!(kind(text("x\n"), text("x\n"), Some("a")), None);
        // `diff` keeps a change that changes nothing, for a caller that
        // reports it.
        let same = FileChange::diff("a".into(), text("x\n"), text("x\n"), None);
        assert!(same.kind == ChangeKind::Modify && same.hunks.is_empty());
    }
}
