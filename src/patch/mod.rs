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
pub mod unified;

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
