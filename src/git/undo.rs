//! Reverting an applied change set, file by file, only where nothing has
//! changed since: an undo must never destroy work done after the edit.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::stage::Stager;
use super::write::{clean_relative, create_parents, read_text, remove_empty_dirs, remove_file, write_atomic};

/// Everything needed to revert one [`apply`](super::apply::apply).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoRecord {
    pub files: Vec<FileUndo>,
}

/// What applying one approved change did. A move touches two paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUndo {
    /// The path the change was proposed for, for messages.
    pub path: PathBuf,
    pub paths: Vec<PathUndo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathUndo {
    pub path: PathBuf,
    /// Working-tree content before and after; `None` is "no file".
    pub before: Option<String>,
    pub after: Option<String>,
    /// Permission bits `before` had, restored with it.
    pub mode: Option<u32>,
    /// Parent directories the apply created, outermost first.
    #[serde(default)]
    pub created_dirs: Vec<PathBuf>,
    /// `None` when the apply left the index alone at this path.
    pub index: Option<IndexChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexChange {
    /// The stage-0 entry before and after; `None` is "no entry".
    pub before: Option<IndexState>,
    pub after: Option<IndexState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexState {
    /// Blob id, hex.
    pub oid: String,
    pub mode: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UndoReport {
    pub files: Vec<UndoOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoOutcome {
    pub path: PathBuf,
    pub reverted: bool,
    /// Why the file was left alone, or what went wrong while reverting it.
    pub message: Option<String>,
}

/// Reverts each file of `record` whose working tree and index still hold
/// exactly what the apply left there (or already hold what was there
/// before). A file with any other change is refused as a whole, so a
/// half-reverted file never mixes the user's later work with old content.
pub fn undo(root: &Path, record: &UndoRecord) -> UndoReport {
    let needs_index = record.files.iter().flat_map(|f| &f.paths).any(|p| p.index.is_some());
    let (mut stager, index_error) = if needs_index {
        match Stager::open(root) {
            Ok(Some(s)) => (Some(s), None),
            Ok(None) => (None, Some("the project is no longer a git repository".to_string())),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };

    let mut outcomes = Vec::new();
    // Which outcomes depend on the index write at the end.
    let mut staged = Vec::new();
    // Last applied, first undone: a later file may sit in a directory an
    // earlier one created, which can only go once it is empty.
    for file in record.files.iter().rev() {
        let touches_index = file.paths.iter().any(|p| p.index.is_some());
        let outcome = match (touches_index, &index_error) {
            (true, Some(e)) => refused(&file.path, format!("{e}; {} was not reverted", file.path.display())),
            _ => revert_file(root, stager.as_mut(), file),
        };
        staged.push(touches_index && outcome.reverted);
        outcomes.push(outcome);
    }
    if let Some(s) = stager.as_mut()
        && let Err(e) = s.write()
    {
        for (outcome, _) in outcomes.iter_mut().zip(&staged).filter(|(_, s)| **s) {
            outcome.reverted = false;
            outcome.message = Some(format!("the working tree was restored but the index was not: {e}"));
        }
    }
    outcomes.reverse();
    UndoReport { files: outcomes }
}

fn refused(path: &Path, message: String) -> UndoOutcome {
    UndoOutcome { path: path.to_path_buf(), reverted: false, message: Some(message) }
}

/// What to do at one path, decided before anything is touched.
struct Step<'a> {
    rel: PathBuf,
    undo: &'a PathUndo,
    restore_tree: bool,
    restore_index: bool,
}

fn revert_file(root: &Path, mut stager: Option<&mut Stager>, file: &FileUndo) -> UndoOutcome {
    let mut steps = Vec::new();
    for p in &file.paths {
        let rel = match clean_relative(&p.path) {
            Ok(rel) => rel,
            Err(e) => return refused(&file.path, e),
        };
        let current = match read_text(&root.join(&rel), &rel) {
            Ok(current) => current,
            Err(e) => return refused(&file.path, format!("{e}; not reverted")),
        };
        let restore_tree = if current == p.after {
            current != p.before
        } else if current == p.before {
            false
        } else {
            return refused(
                &file.path,
                format!("{} changed since the edit was applied; undo would lose those changes", rel.display()),
            );
        };
        let mut restore_index = false;
        if let (Some(change), Some(s)) = (&p.index, stager.as_deref()) {
            let now = s.state(&rel);
            if s.has_conflicts(&rel) || (now != change.after && now != change.before) {
                return refused(
                    &file.path,
                    format!(
                        "the staged version of {} changed since the edit was applied; undo would lose those changes",
                        rel.display()
                    ),
                );
            }
            restore_index = now == change.after && change.after != change.before;
        }
        steps.push(Step { rel, undo: p, restore_tree, restore_index });
    }

    for step in &steps {
        if step.restore_tree
            && let Err(e) = restore_tree(root, step)
        {
            return refused(&file.path, format!("could not restore {}: {e}", step.rel.display()));
        }
        if let (true, Some(change), Some(s)) = (step.restore_index, &step.undo.index, stager.as_deref_mut()) {
            let result = match &change.before {
                Some(state) => s.restore(&step.rel, state),
                None => s.remove(&step.rel),
            };
            if let Err(e) = result {
                return refused(&file.path, e);
            }
        }
    }
    UndoOutcome { path: file.path.clone(), reverted: true, message: None }
}

fn restore_tree(root: &Path, step: &Step<'_>) -> std::io::Result<()> {
    let abs = root.join(&step.rel);
    match &step.undo.before {
        Some(text) => {
            // A move's source directory may have been removed since.
            create_parents(root, &step.rel)?;
            write_atomic(&abs, text, step.undo.mode)
        }
        None => {
            remove_file(&abs)?;
            remove_empty_dirs(root, &step.undo.created_dirs);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
