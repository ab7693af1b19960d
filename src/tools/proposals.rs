//! The edits proposed during one round of tool calls, before the user has
//! seen them. Later edits in the round build on earlier ones: a second
//! `edit_file` on the same file matches against the first one's result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::patch::FileChange;

#[derive(Debug, Clone)]
struct Pending {
    /// The file as it was on disk when the round first touched it.
    base: Option<String>,
    proposed: Option<String>,
    new_path: Option<PathBuf>,
    /// The calls that proposed changes to this file, in order.
    calls: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Proposals {
    files: Mutex<BTreeMap<PathBuf, Pending>>,
}

/// What the round has made of a file so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Current {
    /// Not touched in this round: read it from disk.
    Untouched,
    /// Proposed content (`None`: proposed for deletion or moved away).
    Proposed(Option<String>),
}

impl Proposals {
    pub fn current(&self, path: &Path) -> Current {
        let Ok(files) = self.files.lock() else { return Current::Untouched };
        if let Some(p) = files.get(path) {
            return Current::Proposed(if p.new_path.is_some() { None } else { p.proposed.clone() });
        }
        // A file moved here earlier in the round.
        match files.values().find(|p| p.new_path.as_deref() == Some(path)) {
            Some(p) => Current::Proposed(p.proposed.clone()),
            None => Current::Untouched,
        }
    }

    /// Record a proposal for `path`. `disk` is the file as it is on disk
    /// (kept as the base the first time the round touches the file).
    pub(crate) fn propose(
        &self,
        call_id: &str,
        path: &Path,
        disk: Option<String>,
        proposed: Option<String>,
        new_path: Option<PathBuf>,
    ) {
        let Ok(mut files) = self.files.lock() else { return };
        // Editing a file that an earlier call moved: the entry is under its old path.
        let key = files
            .iter()
            .find(|(_, p)| p.new_path.as_deref() == Some(path))
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| path.to_path_buf());
        let moved_here = key != path;
        let entry = files.entry(key).or_insert_with(|| Pending {
            base: disk,
            proposed: None,
            new_path: None,
            calls: Vec::new(),
        });
        entry.proposed = proposed;
        if new_path.is_some() {
            entry.new_path = new_path;
        } else if !moved_here && entry.new_path.is_some() {
            entry.new_path = None;
        }
        if !entry.calls.iter().any(|c| c == call_id) {
            entry.calls.push(call_id.to_string());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.files.lock().map_or(true, |f| f.is_empty())
    }

    /// The round's changes, with hunks, and the calls behind each; clears
    /// the round. Files whose proposals cancelled out are left out.
    pub fn take(&self) -> Vec<(FileChange, Vec<String>)> {
        let Ok(mut files) = self.files.lock() else { return Vec::new() };
        let files = std::mem::take(&mut *files);
        files
            .into_iter()
            .filter_map(|(path, p)| Some((FileChange::new(path, p.base, p.proposed, p.new_path)?, p.calls)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::ChangeKind;

    #[test]
    fn later_edits_build_on_earlier_ones_and_keep_the_first_base() {
        let p = Proposals::default();
        let path = Path::new("a.txt");
        assert_eq!(p.current(path), Current::Untouched);
        p.propose("c1", path, Some("one\n".into()), Some("two\n".into()), None);
        assert_eq!(p.current(path), Current::Proposed(Some("two\n".into())));
        p.propose("c2", path, Some("one\n".into()), Some("three\n".into()), None);
        let taken = p.take();
        assert_eq!(taken.len(), 1);
        let (change, calls) = &taken[0];
        assert_eq!(change.base.as_deref(), Some("one\n"));
        assert_eq!(change.proposed.as_deref(), Some("three\n"));
        assert_eq!(change.kind, ChangeKind::Modify);
        assert_eq!(calls, &["c1", "c2"]);
        assert!(p.is_empty());
    }

    #[test]
    fn kinds_and_changes_that_cancel_out() {
        let p = Proposals::default();
        p.propose("c1", Path::new("new.txt"), None, Some("x\n".into()), None);
        p.propose("c2", Path::new("old.txt"), Some("y\n".into()), None, None);
        p.propose("c3", Path::new("same.txt"), Some("z\n".into()), Some("w\n".into()), None);
        p.propose("c4", Path::new("same.txt"), Some("z\n".into()), Some("z\n".into()), None);
        p.propose("c5", Path::new("m.txt"), Some("m\n".into()), Some("m\n".into()), Some("n.txt".into()));
        assert_eq!(p.current(Path::new("n.txt")), Current::Proposed(Some("m\n".into())));
        assert_eq!(p.current(Path::new("m.txt")), Current::Proposed(None));
        let kinds: Vec<_> = p.take().into_iter().map(|(c, _)| (c.path, c.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("m.txt".into(), ChangeKind::Move),
                ("new.txt".into(), ChangeKind::Add),
                ("old.txt".into(), ChangeKind::Delete)
            ]
        );
    }
}
