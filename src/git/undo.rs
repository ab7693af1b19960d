//! Reverting an applied change set, file by file, only where nothing has
//! changed since: an undo must never destroy work done after the edit.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::GitError;
pub(crate) use super::stage::IndexState;
use super::stage::Stager;
use super::write::{Current, Journal, Place, WriteError, clean_relative, remove_empty_dirs};

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

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UndoReport {
    pub files: Vec<UndoOutcome>,
    /// What was not undone, to try again once the user has dealt with what
    /// stood in the way: a refused undo keeps its record.
    pub remaining: UndoRecord,
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
            Ok(None) => (None, Some(GitError::NotARepository)),
            Err(e) => (None, Some(e)),
        }
    } else {
        (None, None)
    };

    let journal = Journal::start(root);
    let mut outcomes = Vec::new();
    // Which outcomes depend on the index write at the end.
    let mut staged = Vec::new();
    // Last applied, first undone: a later file may sit in a directory an
    // earlier one created, which can only go once it is empty.
    for file in record.files.iter().rev() {
        let touches_index = file.paths.iter().any(|p| p.index.is_some());
        let outcome = match (touches_index, &index_error) {
            (true, Some(e)) => refused(&file.path, format!("{e}; {} was not reverted", file.path.display())),
            _ => revert_file(root, &journal, stager.as_mut(), file),
        };
        staged.push(touches_index && outcome.reverted);
        outcomes.push(outcome);
    }
    journal.finish();
    if let Some(s) = stager.as_mut()
        && let Err(e) = s.write()
    {
        for (outcome, _) in outcomes.iter_mut().zip(&staged).filter(|(_, s)| **s) {
            outcome.reverted = false;
            outcome.message = Some(format!("the working tree was restored but the index was not: {e}"));
        }
    }
    outcomes.reverse();
    // A file reverted in part (one path of a move) is kept whole: trying it
    // again finds the reverted part already as it was, and leaves it.
    let remaining = record.files.iter().zip(&outcomes).filter(|(_, o)| !o.reverted).map(|(f, _)| f.clone()).collect();
    UndoReport { files: outcomes, remaining: UndoRecord { files: remaining } }
}

fn refused(path: &Path, message: String) -> UndoOutcome {
    UndoOutcome { path: path.to_path_buf(), reverted: false, message: Some(message) }
}

/// What to do at one path, decided before anything is touched.
struct Step<'a> {
    rel: PathBuf,
    place: Place,
    current: Option<Current>,
    undo: &'a PathUndo,
    restore_tree: bool,
    restore_index: bool,
}

fn revert_file(root: &Path, journal: &Journal, mut stager: Option<&mut Stager>, file: &FileUndo) -> UndoOutcome {
    let mut steps = Vec::new();
    for p in &file.paths {
        let rel = match clean_relative(&p.path) {
            Ok(rel) => rel,
            Err(e) => return refused(&file.path, e.to_string()),
        };
        let found = Place::find(root, &rel).and_then(|place| place.open().map(|current| (place, current)));
        let (place, current) = match found {
            Ok(found) => found,
            Err(e) => return refused(&file.path, format!("{e}; not reverted")),
        };
        let text = current.as_ref().map(|c| &c.text);
        let restore_tree = if text == p.after.as_ref() {
            text != p.before.as_ref()
        } else if text == p.before.as_ref() {
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
        // Permissions are checked for every path before any is touched, so a
        // refusal leaves the file as it was.
        if restore_tree && let Err(e) = place.check_writable(current.as_ref()) {
            return refused(&file.path, format!("{e}; not reverted"));
        }
        steps.push(Step { rel, place, current, undo: p, restore_tree, restore_index });
    }

    for step in steps {
        if step.restore_tree
            && let Err(e) = restore_tree(root, journal, &step)
        {
            return refused(&file.path, format!("{e}; {} not reverted", step.rel.display()));
        }
        if let (true, Some(change), Some(s)) = (step.restore_index, &step.undo.index, stager.as_deref_mut()) {
            let result = match &change.before {
                Some(state) => s.restore(&step.rel, state),
                None => s.remove(&step.rel),
            };
            if let Err(e) = result {
                return refused(&file.path, e.to_string());
            }
        }
    }
    UndoOutcome { path: file.path.clone(), reverted: true, message: None }
}

fn restore_tree(root: &Path, journal: &Journal, step: &Step<'_>) -> Result<(), WriteError> {
    match (&step.undo.before, &step.current) {
        (Some(text), Some(current)) => step.place.replace(journal, current, text, step.undo.mode),
        // A move's source directory may have been removed since: made again.
        (Some(text), None) => {
            let place = Place::find(root, &step.rel)?;
            place.create(journal, text, step.undo.mode).map(drop)
        }
        (None, Some(current)) => {
            step.place.remove(journal, current)?;
            remove_empty_dirs(root, &step.undo.created_dirs);
            Ok(())
        }
        (None, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests;
