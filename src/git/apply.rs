//! Writing the hunks the user approved to the working tree and staging exactly
//! those hunks, so `git diff --cached` shows what was approved and nothing the
//! user wrote themselves.

use std::path::{Path, PathBuf};

use crate::patch::hunks::{ApplyError, apply_hunks};
use crate::patch::{ChangeKind, FileChange, Hunk};

use super::GitError;
use super::stage::{Blob, Stager, Tracked};
use super::undo::{FileUndo, IndexChange, IndexState, PathUndo, UndoRecord};
use super::write::{Current, Journal, Place, WriteError, clean_relative, remove_empty_dirs};

/// The hunks of one proposed file change that the user approved (a subset of
/// `change.hunks`, some possibly edited by the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub change: FileChange,
    pub hunks: Vec<Hunk>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// One outcome per approved change, in the same order.
    pub files: Vec<FileOutcome>,
    pub undo: UndoRecord,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOutcome {
    /// The path the change was proposed for.
    pub path: PathBuf,
    pub written: bool,
    pub staged: bool,
    /// Why the file was not written or not staged, for the user and the model.
    pub message: Option<String>,
}

impl FileOutcome {
    /// What became of the accepted hunks, in words for the user and the
    /// model: "written and staged", "NOT written: why", ...
    pub(crate) fn describe(outcome: Option<&FileOutcome>) -> String {
        match outcome {
            Some(o) if o.written && o.staged => "written and staged".to_string(),
            Some(o) if o.written => match &o.message {
                Some(m) => format!("written, not staged: {m}"),
                None => "written".into(),
            },
            Some(o) => format!("NOT written: {}", o.message.clone().unwrap_or_default()),
            None => "nothing written".into(),
        }
    }
}

/// Writes and stages each approved change. Files are independent: one that
/// cannot be applied is refused with a message and the others go ahead. The
/// index is written once, at the end.
pub fn apply(root: &Path, approved: &[Approved]) -> ApplyReport {
    let (mut stager, index_error) = match Stager::open(root) {
        Ok(stager) => (stager, None),
        Err(e) => (None, Some(e)),
    };
    let journal = Journal::start(root);
    let mut done: Vec<Done> = approved.iter().map(|a| apply_one(root, &journal, stager.as_mut(), a)).collect();
    journal.finish();

    let write_error = stager.as_mut().and_then(|s| s.write().err());
    for d in &mut done {
        if let Some(e) = index_error.as_ref().filter(|_| d.outcome.written && d.outcome.message.is_none()) {
            d.outcome.message = Some(format!("written but not staged: {e}"));
        }
        let touched_index = d.undo.as_ref().is_some_and(|u| u.paths.iter().any(|p| p.index.is_some()));
        if let (Some(e), true) = (&write_error, touched_index) {
            d.outcome.staged = false;
            d.outcome.message = Some(format!("written but not staged: {e}"));
            if let Some(u) = d.undo.as_mut() {
                u.paths.iter_mut().for_each(|p| p.index = None);
            }
        }
    }
    let mut report = ApplyReport::default();
    for d in done {
        report.files.push(d.outcome);
        report.undo.files.extend(d.undo);
    }
    report
}

struct Done {
    outcome: FileOutcome,
    undo: Option<FileUndo>,
}

/// Why the approved hunks could not be applied to a version of a file; the
/// message goes into the file's outcome as it is.
#[derive(Debug, thiserror::Error)]
enum Misfit {
    /// The working-tree file changed since the proposal.
    #[error("{path} changed since the proposal and the approved hunks no longer fit it ({source}); not written")]
    Changed { path: String, source: ApplyError },
    #[error("{path}: {source}; not written")]
    Hunks { path: String, source: ApplyError },
    /// The index's version does not take them; the file was `verb` all the same.
    #[error("the staged version of {path} does not take the approved hunks ({source}); {verb} but not staged")]
    Staged { path: String, source: ApplyError, verb: &'static str },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// One approved change being applied.
struct Edit<'a> {
    root: &'a Path,
    journal: &'a Journal,
    change: &'a FileChange,
    hunks: &'a [Hunk],
    /// Every hunk approved, none edited.
    all: bool,
    rel: PathBuf,
}

impl Edit<'_> {
    fn shown(&self) -> String {
        self.rel.display().to_string()
    }

    /// `text` with the approved hunks applied. When everything was approved
    /// against an unchanged base the result is exactly the proposed content,
    /// which also carries what hunks cannot express (a final newline added
    /// or removed).
    fn result(&self, text: &str) -> Result<String, ApplyError> {
        let base = self.change.base.as_deref().or((self.change.kind == ChangeKind::Add).then_some(""));
        if let (true, Some(proposed)) = (self.all && base == Some(text), &self.change.proposed) {
            return Ok(proposed.clone());
        }
        apply_hunks(text, self.hunks)
    }

    /// The index's version of the file (blob `id`) with the approved hunks
    /// applied, or why it cannot take them: the file is then `verb` but not
    /// staged.
    fn staged_text(&self, s: &Stager, id: git2::Oid, verb: &'static str) -> Result<String, Misfit> {
        let text = s.text(id, &self.rel)?;
        if self.hunks.is_empty() {
            return Ok(text);
        }
        self.result(&text).map_err(|source| Misfit::Staged { path: self.shown(), source, verb })
    }

    fn refused(&self, message: String) -> Done {
        refuse(self.change, message)
    }

    fn done(&self, staged: bool, message: Option<String>, paths: Vec<PathUndo>) -> Done {
        let outcome = FileOutcome { path: self.change.path.clone(), written: true, staged, message };
        Done { outcome, undo: Some(FileUndo { path: self.change.path.clone(), paths }) }
    }

    fn untracked(&self) -> String {
        format!(
            "{} is not tracked by git; written but not staged, since staging it would stage content you did not approve",
            self.shown()
        )
    }

    fn conflicted(&self, rel: &Path) -> String {
        format!("{} has unresolved merge conflicts; written but not staged", rel.display())
    }

    fn not_a_file(&self, rel: &Path) -> String {
        format!("git tracks {} as a link or submodule; written but not staged", rel.display())
    }
}

fn apply_one(root: &Path, journal: &Journal, stager: Option<&mut Stager>, approved: &Approved) -> Done {
    let change = &approved.change;
    let rel = match clean_relative(&change.path) {
        Ok(rel) => rel,
        Err(e) => return refuse(change, format!("{e}; not written")),
    };
    let edit = Edit { root, journal, change, hunks: &approved.hunks, all: approved.hunks == change.hunks, rel };
    match change.kind {
        ChangeKind::Modify => modify(&edit, stager),
        // Deleting some of a file's lines but not all of them is an edit.
        ChangeKind::Delete if !edit.all => modify(&edit, stager),
        ChangeKind::Delete => delete(&edit, stager),
        ChangeKind::Add => add(&edit, stager),
        ChangeKind::Move => relocate(&edit, stager),
    }
}

fn refuse(change: &FileChange, message: String) -> Done {
    let outcome = FileOutcome { path: change.path.clone(), written: false, staged: false, message: Some(message) };
    Done { outcome, undo: None }
}

/// The file at `rel`, found again now and held open, refusing a missing one.
fn existing(e: &Edit<'_>, rel: &Path) -> Result<(Place, Current), WriteError> {
    let place = Place::find(e.root, rel)?;
    match place.open()? {
        Some(current) => Ok((place, current)),
        None => Err(WriteError::Missing(rel.display().to_string())),
    }
}

/// What is at `rel` now; a missing file is `None`.
fn look(e: &Edit<'_>, rel: &Path) -> Result<(Place, Option<Current>), WriteError> {
    let place = Place::find(e.root, rel)?;
    let current = place.open()?;
    Ok((place, current))
}

/// The working-tree result of applying the hunks to `current`, or why not.
fn edited(e: &Edit<'_>, current: &str) -> Result<String, Misfit> {
    let changed = e.change.base.as_deref().is_some_and(|b| b != current);
    e.result(current).map_err(|source| {
        let path = e.shown();
        if changed { Misfit::Changed { path, source } } else { Misfit::Hunks { path, source } }
    })
}

fn modify(e: &Edit<'_>, stager: Option<&mut Stager>) -> Done {
    if e.hunks.is_empty() {
        return e.refused(format!("no hunks of {} were approved; left unchanged", e.shown()));
    }
    let (place, current) = match existing(e, &e.rel) {
        Ok(found) => found,
        Err(err) => return e.refused(format!("{err}; not written")),
    };
    let new_text = match edited(e, &current.text) {
        Ok(text) => text,
        Err(err) => return e.refused(err.to_string()),
    };
    if new_text != current.text
        && let Err(err) = place.replace(e.journal, &current, &new_text, None)
    {
        return e.refused(format!("{err}; not written"));
    }
    let mode = Some(current.mode());
    let mut undo = PathUndo {
        path: e.rel.clone(),
        before: Some(current.text),
        after: Some(new_text),
        mode,
        created_dirs: Vec::new(),
        index: None,
    };
    let (staged, message) = match stager {
        None => (false, None),
        Some(s) => stage_edit(e, s, &mut undo),
    };
    e.done(staged, message, vec![undo])
}

/// Applies the same hunks to the index's version of the file, so unstaged
/// edits the user made elsewhere in it stay unstaged.
fn stage_edit(e: &Edit<'_>, s: &mut Stager, undo: &mut PathUndo) -> (bool, Option<String>) {
    let entry = match s.lookup(&e.rel) {
        Tracked::File(entry) => entry,
        Tracked::Untracked | Tracked::IntentToAdd => return (false, Some(e.untracked())),
        Tracked::Conflicted => return (false, Some(e.conflicted(&e.rel))),
        Tracked::NotAFile => return (false, Some(e.not_a_file(&e.rel))),
    };
    let staged = match e.staged_text(s, entry.id, "written") {
        Ok(text) => text,
        Err(err) => return (false, Some(err.to_string())),
    };
    if Stager::same_blob(entry.id, &staged) {
        return (true, None);
    }
    let before = IndexState { oid: entry.id.to_string(), mode: entry.mode };
    match s.put(&e.rel, Blob::Staged(&staged), entry.mode, Some(&entry)) {
        Ok(after) => {
            undo.index = Some(IndexChange { before: Some(before), after: Some(after) });
            (true, None)
        }
        Err(err) => (false, Some(err.to_string())),
    }
}

fn add(e: &Edit<'_>, stager: Option<&mut Stager>) -> Done {
    if e.hunks.is_empty() && !e.change.hunks.is_empty() {
        return e.refused(format!("no hunks of {} were approved; not created", e.shown()));
    }
    let content = match e.result("") {
        Ok(text) => text,
        Err(m) => return e.refused(format!("{}: {m}; not created", e.shown())),
    };
    let (place, before) = match look(e, &e.rel) {
        Ok(found) => found,
        Err(err) => return e.refused(format!("{err}; not created")),
    };
    let mut created_dirs = Vec::new();
    match &before {
        Some(current) if current.text != content => {
            return e.refused(format!("{} already exists with different content; not created", e.shown()));
        }
        Some(_) => {}
        None => match place.create(e.journal, &content, None) {
            Ok(made) => created_dirs = made,
            Err(err) => return e.refused(format!("{err}; not created")),
        },
    }
    let mode = before.as_ref().map(Current::mode);
    let before = before.map(|c| c.text);
    let mut undo = PathUndo { path: e.rel.clone(), before, after: Some(content), mode, created_dirs, index: None };
    let (staged, message) = match stager {
        None => (false, None),
        Some(s) => stage_new(e, s, &mut undo),
    };
    e.done(staged, message, vec![undo])
}

fn stage_new(e: &Edit<'_>, s: &mut Stager, undo: &mut PathUndo) -> (bool, Option<String>) {
    let Some(content) = undo.after.as_deref() else { return (false, None) };
    let like = match s.lookup(&e.rel) {
        Tracked::Conflicted => return (false, Some(e.conflicted(&e.rel))),
        Tracked::NotAFile => return (false, Some(e.not_a_file(&e.rel))),
        Tracked::Untracked if s.is_ignored(&e.rel) => {
            return (false, Some(format!("{} is ignored by git; written but not staged", e.shown())));
        }
        Tracked::Untracked | Tracked::IntentToAdd => None,
        Tracked::File(entry) if Stager::same_blob(entry.id, content) => return (true, None),
        // The file was deleted but its deletion not staged; replacing the entry
        // is only safe when it holds nothing beyond HEAD.
        Tracked::File(entry) if s.head_blob(&e.rel) == Some(entry.id) => Some(entry),
        Tracked::File(_) => {
            return (
                false,
                Some(format!(
                    "git has staged changes to an earlier {} that this would replace; written but not staged",
                    e.shown()
                )),
            );
        }
    };
    let before = s.state(&e.rel);
    match s.put(&e.rel, Blob::Worktree(content), super::MODE_FILE, like.as_ref()) {
        Ok(after) => {
            undo.index = Some(IndexChange { before, after: Some(after) });
            (true, None)
        }
        Err(err) => (false, Some(err.to_string())),
    }
}

fn delete(e: &Edit<'_>, stager: Option<&mut Stager>) -> Done {
    let Some(base) = e.change.base.as_deref() else {
        return e.refused(format!("the deletion of {} has no content to check against; not deleted", e.shown()));
    };
    let (place, current) = match look(e, &e.rel) {
        Ok(found) => found,
        Err(err) => return e.refused(format!("{err}; not deleted")),
    };
    match &current {
        Some(c) if c.text != base => {
            return e.refused(format!("{} changed since the proposal; not deleted", e.shown()));
        }
        Some(c) => {
            if let Err(err) = place.remove(e.journal, c) {
                return e.refused(format!("{err}; not deleted"));
            }
        }
        // Already gone: the working tree is as approved; the index may still
        // need the deletion.
        None => {}
    }
    let mode = current.as_ref().map(Current::mode);
    let before = current.map(|c| c.text);
    let mut undo = PathUndo { path: e.rel.clone(), before, after: None, mode, created_dirs: vec![], index: None };
    let (staged, message) = match stager {
        None => (false, None),
        Some(s) => stage_removal(e, s, base, &mut undo),
    };
    e.done(staged, message, vec![undo])
}

/// Like `git rm`: the entry goes only if that loses nothing staged, i.e. it
/// holds the deleted content or HEAD's.
fn stage_removal(e: &Edit<'_>, s: &mut Stager, base: &str, undo: &mut PathUndo) -> (bool, Option<String>) {
    match s.lookup(&e.rel) {
        Tracked::Untracked => (false, Some(format!("{} was not tracked by git; nothing to stage", e.shown()))),
        Tracked::Conflicted => (false, Some(e.conflicted(&e.rel))),
        Tracked::NotAFile => (false, Some(e.not_a_file(&e.rel))),
        Tracked::File(entry) if !Stager::same_blob(entry.id, base) && s.head_blob(&e.rel) != Some(entry.id) => (
            false,
            Some(format!(
                "the staged version of {} has changes that are neither in HEAD nor in the deleted file; \
                 deleted but the deletion is not staged",
                e.shown()
            )),
        ),
        Tracked::File(_) | Tracked::IntentToAdd => {
            let before = s.state(&e.rel);
            match s.remove(&e.rel) {
                Ok(()) => {
                    undo.index = Some(IndexChange { before, after: None });
                    (true, None)
                }
                Err(err) => (false, Some(err.to_string())),
            }
        }
    }
}

fn relocate(e: &Edit<'_>, stager: Option<&mut Stager>) -> Done {
    let to = match e.change.new_path.as_deref().map(clean_relative) {
        Some(Ok(to)) => to,
        Some(Err(err)) => return e.refused(err.to_string()),
        None => return e.refused(format!("the move of {} has no destination; not moved", e.shown())),
    };
    if to == e.rel {
        return modify(e, stager);
    }
    let (place, current) = match existing(e, &e.rel) {
        Ok(found) => found,
        Err(err) => return e.refused(format!("{err}; not written")),
    };
    // With no hunks approved the move itself still was.
    let new_text = if e.hunks.is_empty() { Ok(current.text.clone()) } else { edited(e, &current.text) };
    let new_text = match new_text {
        Ok(text) => text,
        Err(err) => return e.refused(err.to_string()),
    };
    let (to_place, occupant) = match look(e, &to) {
        Ok(found) => found,
        Err(err) => return e.refused(format!("{err}; not moved")),
    };
    if occupant.as_ref().is_some_and(|o| o.text != new_text) {
        return e.refused(format!("{} already exists; {} not moved", to.display(), e.shown()));
    }
    // Both ends are checked before either is touched.
    if let Err(err) = place.check_writable(Some(&current)).and_then(|()| to_place.check_writable(occupant.as_ref())) {
        return e.refused(format!("{err}; not moved"));
    }
    let mode = Some(current.mode());
    let to_mode = occupant.as_ref().map_or(mode, |o| Some(o.mode()));
    let mut created_dirs = Vec::new();
    if occupant.is_none() {
        match to_place.create(e.journal, &new_text, mode) {
            Ok(made) => created_dirs = made,
            Err(err) => return e.refused(format!("{err}; {} not moved", e.shown())),
        }
    }
    if let Err(err) = place.remove(e.journal, &current) {
        if occupant.is_none() {
            take_back(e, &to, &new_text, &created_dirs);
        }
        return e.refused(format!("{err}; not moved"));
    }
    let mut from_undo = PathUndo {
        path: e.rel.clone(),
        before: Some(current.text),
        after: None,
        mode,
        created_dirs: vec![],
        index: None,
    };
    let mut to_undo = PathUndo {
        path: to.clone(),
        before: occupant.map(|o| o.text),
        after: Some(new_text),
        mode: to_mode,
        created_dirs,
        index: None,
    };
    let (staged, message) = match stager {
        None => (false, None),
        Some(s) => stage_move(e, s, &to, &mut from_undo, &mut to_undo),
    };
    e.done(staged, message, vec![from_undo, to_undo])
}

/// Removes the copy a failed move made at `to`, if it is still just that.
fn take_back(e: &Edit<'_>, to: &Path, text: &str, created_dirs: &[PathBuf]) {
    if let Ok((place, Some(copy))) = look(e, to)
        && copy.text == text
    {
        let _ = place.remove(e.journal, &copy);
    }
    remove_empty_dirs(e.root, created_dirs);
}

/// Stages a move as git sees it, a deletion plus an addition; the added
/// content is the old path's index version with the hunks applied.
fn stage_move(
    e: &Edit<'_>,
    s: &mut Stager,
    to: &Path,
    from_undo: &mut PathUndo,
    to_undo: &mut PathUndo,
) -> (bool, Option<String>) {
    let entry = match s.lookup(&e.rel) {
        Tracked::File(entry) => entry,
        Tracked::Untracked | Tracked::IntentToAdd => return (false, Some(e.untracked())),
        Tracked::Conflicted => return (false, Some(e.conflicted(&e.rel))),
        Tracked::NotAFile => return (false, Some(e.not_a_file(&e.rel))),
    };
    match s.lookup(to) {
        Tracked::Conflicted => return (false, Some(e.conflicted(to))),
        Tracked::NotAFile => return (false, Some(e.not_a_file(to))),
        Tracked::File(occupant) if !to_undo.after.as_deref().is_some_and(|t| Stager::same_blob(occupant.id, t)) => {
            let m = format!("git has a different version of {} staged; moved but not staged", to.display());
            return (false, Some(m));
        }
        _ => {}
    }
    let staged = match e.staged_text(s, entry.id, "moved") {
        Ok(text) => text,
        Err(err) => return (false, Some(err.to_string())),
    };
    let from_before = IndexState { oid: entry.id.to_string(), mode: entry.mode };
    let to_before = s.state(to);
    if let Err(err) = s.remove(&e.rel) {
        return (false, Some(err.to_string()));
    }
    match s.put(to, Blob::Staged(&staged), entry.mode, Some(&entry)) {
        Ok(after) => {
            from_undo.index = Some(IndexChange { before: Some(from_before), after: None });
            to_undo.index = Some(IndexChange { before: to_before, after: Some(after) });
            (true, None)
        }
        Err(err) => {
            // Put the old entry back so the index is not left half-moved.
            let _ = s.restore(&e.rel, &from_before);
            (false, Some(err.to_string()))
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
