//! The `*** Begin Patch` format, which OpenAI's Codex models are trained to
//! write:
//!
//! ```text
//! *** Begin Patch
//! *** Add File: PATH            then lines each starting with `+`
//! *** Delete File: PATH
//! *** Update File: PATH
//! *** Move to: NEW_PATH         optional
//! @@ ANCHOR                     optional text; `@@` lines may stack
//!  context
//! -removed
//! +added
//! *** End of File               optional: the chunk ends where the file ends
//! *** End Patch
//! ```
//!
//! A chunk's lines are found after its anchor lines (each found after the
//! one before) and after the previous chunk, with the same leniency as
//! `old_text` in [`super::matching`]. Parsing forgives what Codex's own
//! parser forgives: a ``` fence or a heredoc (`<<'EOF'`) around the patch,
//! trailing whitespace on marker lines, blank context lines that lost their
//! leading space. A `\ No newline at end of file` line, as in a unified
//! diff, says the file (or, after a `-` line, the old file) ends without a
//! newline; otherwise a file keeps its final-newline state, and its line
//! endings.

mod parse;
mod update;

use std::collections::HashSet;
use std::path::PathBuf;

pub use parse::parse;

use super::{FileChange, HunkLine};

/// A parsed patch: what to do to which files, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub ops: Vec<FileOp>,
}

/// What a patch does to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    /// Create a file that must not exist yet.
    Add { path: String, contents: String },
    /// Delete a file that must exist.
    Delete { path: String },
    /// Change a file that must exist, and possibly move it.
    Update { path: String, move_to: Option<String>, chunks: Vec<Chunk> },
}

impl FileOp {
    fn paths(&self) -> impl Iterator<Item = &str> {
        let (path, to) = match self {
            FileOp::Add { path, .. } | FileOp::Delete { path } => (path, None),
            FileOp::Update { path, move_to, .. } => (path, move_to.as_ref().filter(|to| *to != path)),
        };
        std::iter::once(path.as_str()).chain(to.map(String::as_str))
    }
}

/// One `@@` section of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Texts of the `@@ TEXT` lines, outermost first: each is a line of the
    /// file to find before the chunk's lines.
    pub anchors: Vec<String>,
    pub lines: Vec<HunkLine>,
    /// The chunk's lines must end where the file ends.
    pub end_of_file: bool,
    /// A `\ No newline at end of file` line followed the chunk's last old
    /// line (a removed or context line).
    pub old_missing_newline: bool,
    /// The same, after its last new line (an added or context line).
    pub new_missing_newline: bool,
    /// The 1-based line of the patch text where the chunk starts.
    pub line: usize,
}

/// Why a patch could not be read or applied; addressed to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The text is not a well-formed patch.
    #[error("invalid patch at line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("cannot add {path}: it already exists; use `*** Update File: {path}` to change it")]
    AlreadyExists { path: String },
    #[error("cannot {action} {path}: there is no such file")]
    NoSuchFile {
        path: String,
        /// `update` or `delete`.
        action: &'static str,
    },
    #[error("cannot move {path} to {to}: {to} already exists")]
    MoveTargetExists { path: String, to: String },
    #[error(
        "{path} is named in more than one operation of the patch; put all of its changes under one `*** Update \
         File: {path}`"
    )]
    DuplicatePath { path: String },
    /// The caller's `read` failed.
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    /// A chunk of an update does not fit the file.
    #[error("{path}: chunk {chunk} (patch line {line}): {message}")]
    Chunk {
        path: String,
        /// 1-based among the file's chunks.
        chunk: usize,
        line: usize,
        message: String,
    },
}

/// The changes `patch` makes, one per file, against the files as `read`
/// gives them: `read(path)` is the file's content, `None` if it does not
/// exist. Nothing is written.
pub fn apply(
    patch: &Patch,
    read: &dyn Fn(&str) -> Result<Option<String>, String>,
) -> Result<Vec<FileChange>, PatchError> {
    // Each operation reads the files as they were before the patch, so a
    // second operation on the same path would silently undo the first.
    let mut seen = HashSet::new();
    if let Some(path) = patch.ops.iter().flat_map(FileOp::paths).find(|p| !seen.insert(*p)) {
        return Err(PatchError::DuplicatePath { path: path.to_string() });
    }
    let read = |path: &str| read(path).map_err(|message| PatchError::Read { path: path.to_string(), message });
    let existing = |path: &str, action| read(path)?.ok_or(PatchError::NoSuchFile { path: path.to_string(), action });

    patch
        .ops
        .iter()
        .map(|op| {
            Ok(match op {
                FileOp::Add { path, contents } => {
                    if read(path)?.is_some() {
                        return Err(PatchError::AlreadyExists { path: path.clone() });
                    }
                    change(path, None, None, Some(contents.clone()))
                }
                FileOp::Delete { path } => {
                    let base = existing(path, "delete")?;
                    change(path, None, Some(base), None)
                }
                FileOp::Update { path, move_to, chunks } => {
                    let base = existing(path, "update")?;
                    let proposed = update::apply_chunks(path, &base, chunks)?;
                    match move_to.as_ref().filter(|to| *to != path) {
                        Some(to) => {
                            if read(to)?.is_some() {
                                return Err(PatchError::MoveTargetExists { path: path.clone(), to: to.clone() });
                            }
                            change(path, Some(to), Some(base), Some(proposed))
                        }
                        None => change(path, None, Some(base), Some(proposed)),
                    }
                }
            })
        })
        .collect()
}

fn change(path: &str, new_path: Option<&str>, base: Option<String>, proposed: Option<String>) -> FileChange {
    FileChange::diff(PathBuf::from(path), base, proposed, new_path.map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::patch::ChangeKind;

    fn run(files: &[(&str, &str)], patch: &str) -> Result<Vec<FileChange>, PatchError> {
        let files: BTreeMap<String, String> = files.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
        apply(&parse(patch)?, &|path: &str| Ok(files.get(path).cloned()))
    }

    #[test]
    fn add_delete_update_move() {
        let patch = "*** Begin Patch\n*** Add File: new.txt\n+hello\n*** Delete File: old.txt\n\
                     *** Update File: a.txt\n*** Move to: b.txt\n@@\n-one\n+uno\n*** End Patch\n";
        let changes = run(&[("old.txt", "bye\n"), ("a.txt", "one\ntwo\n")], patch).unwrap_or_default();
        let summary: Vec<_> = changes
            .iter()
            .map(|c| (c.kind.clone(), c.path.clone(), c.new_path.clone(), c.proposed.clone(), c.hunks.len()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (ChangeKind::Add, "new.txt".into(), None, Some("hello\n".into()), 1),
                (ChangeKind::Delete, "old.txt".into(), None, None, 1),
                (ChangeKind::Move, "a.txt".into(), Some("b.txt".into()), Some("uno\ntwo\n".into()), 1),
            ]
        );
    }

    #[test]
    fn a_pure_move_has_no_hunks() {
        let patch = "*** Begin Patch\n*** Update File: a.txt\n*** Move to: b.txt\n*** End Patch";
        let changes = run(&[("a.txt", "x\n")], patch).unwrap_or_default();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, ChangeKind::Move);
        assert!(changes[0].hunks.is_empty());
    }

    #[test]
    fn file_existence_errors() {
        let add = "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch";
        assert_eq!(
            run(&[("a.txt", "")], add).map_err(|e| e.to_string()),
            Err("cannot add a.txt: it already exists; use `*** Update File: a.txt` to change it".into())
        );
        let update = "*** Begin Patch\n*** Update File: gone.txt\n@@\n-x\n+y\n*** End Patch";
        assert_eq!(
            run(&[], update).map_err(|e| e.to_string()),
            Err("cannot update gone.txt: there is no such file".into())
        );
        let delete = "*** Begin Patch\n*** Delete File: gone.txt\n*** End Patch";
        assert_eq!(
            run(&[], delete).map_err(|e| e.to_string()),
            Err("cannot delete gone.txt: there is no such file".into())
        );
        let onto = "*** Begin Patch\n*** Update File: a\n*** Move to: b\n*** End Patch";
        assert_eq!(
            run(&[("a", "1\n"), ("b", "2\n")], onto).map_err(|e| e.to_string()),
            Err("cannot move a to b: b already exists".into())
        );
    }

    #[test]
    fn one_operation_per_path() {
        let patch = "*** Begin Patch\n*** Update File: a\n@@\n-1\n+2\n*** Update File: a\n@@\n-3\n+4\n*** End Patch";
        assert_eq!(run(&[("a", "1\n3\n")], patch), Err(PatchError::DuplicatePath { path: "a".into() }));
    }

    #[test]
    fn read_errors_name_the_file() {
        let patch = parse("*** Begin Patch\n*** Delete File: a\n*** End Patch");
        let result = patch.and_then(|p| apply(&p, &|_: &str| Err("permission denied".to_string())));
        assert_eq!(result.map_err(|e| e.to_string()), Err("cannot read a: permission denied".into()));
    }
}
