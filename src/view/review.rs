//! The diff-approval pane's model: the proposals waiting for the user, the
//! decision on every hunk, and where the cursor is. Plain data and pure
//! operations; applying the decisions is the app's job (through `git`).

use std::collections::VecDeque;

use crate::engine::{Permission, Request};
use crate::patch::{ChangeKind, FileChange, Hunk, LineKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Pending,
    Accepted,
    Rejected { reason: Option<String> },
}

#[derive(Debug, Clone)]
pub struct HunkReview {
    pub hunk: Hunk,
    pub decision: Decision,
    /// The user rewrote the hunk's new lines in their editor.
    pub edited: bool,
}

impl HunkReview {
    /// What is done with the hunk when the decisions are applied:
    /// `accepted`, `edited` (accepted as the user rewrote it) or `rejected`
    /// (an undecided hunk is rejected).
    pub fn verdict(&self) -> &'static str {
        match (&self.decision, self.edited) {
            (Decision::Accepted, true) => "edited",
            (Decision::Accepted, false) => "accepted",
            _ => "rejected",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileReview {
    pub change: FileChange,
    pub hunks: Vec<HunkReview>,
    /// The protected-path pattern the file falls under: its hunks are
    /// accepted one by one only, never by a whole-file or whole-set key or
    /// a policy.
    pub protected: Option<String>,
}

impl FileReview {
    pub fn new(change: FileChange) -> Self {
        let hunks = change
            .hunks
            .iter()
            .map(|h| HunkReview { hunk: h.clone(), decision: Decision::Pending, edited: false })
            .collect();
        Self { change, hunks, protected: None }
    }

    /// Where the file ends up (the new path of a move).
    pub(crate) fn shown_path(&self) -> &std::path::Path {
        self.change.new_path.as_deref().unwrap_or(&self.change.path)
    }

    /// Lines added and removed over all hunks.
    pub(crate) fn counts(&self) -> (usize, usize) {
        self.hunks
            .iter()
            .map(|h| crate::patch::hunks::counts(std::slice::from_ref(&h.hunk)))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }
}

/// One thing waiting for the user.
#[derive(Debug, Clone)]
pub enum Item {
    /// The edits of one round of the model's tool calls.
    Changes { id: u64, files: Vec<FileReview> },
    /// A command the model wants to run.
    Command { id: u64, command: String },
    /// Leave of another kind, allowed or refused whole like a command. Its
    /// text is as the user sees it: made safe for the terminal and cut to a
    /// bounded size.
    Permission { id: u64, permission: Permission },
}

impl Item {
    /// The review item for the engine's request `id`. A change set the
    /// policy accepts comes with the hunks of its unprotected files
    /// accepted: only the protected ones wait for the user, one by one.
    pub(crate) fn from_request(id: u64, request: Request) -> Item {
        match request {
            Request::Changes { files, protected, policy_accepts } => {
                let mut files: Vec<FileReview> = files.into_iter().map(FileReview::new).collect();
                for (f, p) in files.iter_mut().zip(protected) {
                    f.protected = p;
                    if policy_accepts && f.protected.is_none() {
                        for h in &mut f.hunks {
                            h.decision = Decision::Accepted;
                        }
                    }
                }
                Item::Changes { id, files }
            }
            Request::Command { command } => Item::Command { id, command },
            Request::Permission(permission) => {
                Item::Permission { id, permission: super::permission::shown(permission) }
            }
        }
    }

    pub(crate) fn id(&self) -> u64 {
        match self {
            Item::Changes { id, .. } | Item::Command { id, .. } | Item::Permission { id, .. } => *id,
        }
    }

    /// Allowed or refused whole, with the command keys (a command, a
    /// permission), rather than reviewed hunk by hunk.
    pub(crate) fn is_question(&self) -> bool {
        matches!(self, Item::Command { .. } | Item::Permission { .. })
    }

    /// What "always allow" remembers for this item, and the note that says
    /// so; `None` when it cannot be allowed for the session (a change set,
    /// a permission without a key).
    pub(crate) fn always_allow(&self) -> Option<(String, String)> {
        match self {
            Item::Command { command, .. } => {
                let prefix = crate::engine::command_prefix(command);
                let note = format!("Commands starting with `{prefix}` run without asking this session");
                Some((prefix, note))
            }
            Item::Permission { permission, .. } => {
                let key = permission.remember_key.clone()?;
                let note = format!("Allowed without asking this session: {} `{key}`", permission.kind.label);
                Some((key, note))
            }
            Item::Changes { .. } => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Review {
    /// Oldest first; the front one is shown.
    pub items: VecDeque<Item>,
    pub file: usize,
    pub hunk: usize,
    /// First shown row of the focused hunk.
    pub scroll: usize,
    /// A reason being typed for rejecting the focused hunk.
    pub reason: Option<String>,
    /// Decisions are being written; keys wait.
    pub applying: bool,
    /// Apply was asked while hunks were undecided: asking again rejects them.
    pub confirm_undecided: bool,
}

impl Review {
    /// Queue change set `id` (the engine's request), with each file's
    /// protected-path pattern.
    pub fn push_changes(&mut self, id: u64, changes: Vec<FileChange>, protected: Vec<Option<String>>) {
        let mut files: Vec<FileReview> = changes.into_iter().map(FileReview::new).collect();
        for (f, p) in files.iter_mut().zip(protected) {
            f.protected = p;
        }
        self.items.push_back(Item::Changes { id, files });
    }

    /// Queue command request `id` (the engine's).
    pub fn push_command(&mut self, id: u64, command: String) {
        self.items.push_back(Item::Command { id, command });
    }

    /// Queue `item` behind the others.
    pub fn push(&mut self, item: Item) {
        self.items.push_back(item);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn front(&self) -> Option<&Item> {
        self.items.front()
    }

    /// The files of the shown change set.
    pub fn files(&self) -> &[FileReview] {
        match self.items.front() {
            Some(Item::Changes { files, .. }) => files,
            _ => &[],
        }
    }

    fn files_mut(&mut self) -> Option<&mut Vec<FileReview>> {
        match self.items.front_mut() {
            Some(Item::Changes { files, .. }) => Some(files),
            _ => None,
        }
    }

    pub(crate) fn focused(&self) -> Option<(&FileReview, &HunkReview)> {
        let f = self.files().get(self.file)?;
        Some((f, f.hunks.get(self.hunk)?))
    }

    fn focused_mut(&mut self) -> Option<&mut HunkReview> {
        let (file, hunk) = (self.file, self.hunk);
        self.files_mut()?.get_mut(file)?.hunks.get_mut(hunk)
    }

    /// Take the front item off, once it is decided and applied.
    pub(crate) fn pop(&mut self) -> Option<Item> {
        self.file = 0;
        self.hunk = 0;
        self.scroll = 0;
        self.reason = None;
        self.confirm_undecided = false;
        self.items.pop_front()
    }

    pub(crate) fn undecided(&self) -> usize {
        self.files().iter().flat_map(|f| &f.hunks).filter(|h| h.decision == Decision::Pending).count()
    }

    pub(crate) fn total_hunks(&self) -> usize {
        self.files().iter().map(|f| f.hunks.len()).sum()
    }

    fn set_focused(&mut self, decision: Decision) {
        if let Some(h) = self.focused_mut() {
            h.decision = decision;
        }
        self.confirm_undecided = false;
        self.advance_to_pending();
    }

    pub(crate) fn accept_hunk(&mut self) {
        self.set_focused(Decision::Accepted);
    }

    pub(crate) fn reject_hunk(&mut self, reason: Option<String>) {
        self.set_focused(Decision::Rejected { reason });
    }

    fn set_file(&mut self, decision: Decision) {
        let file = self.file;
        if let Some(f) = self.files_mut().and_then(|f| f.get_mut(file)) {
            for h in &mut f.hunks {
                h.decision = decision.clone();
            }
        }
        self.confirm_undecided = false;
        self.advance_to_pending();
    }

    /// Accept the focused file's hunks; a protected file's are accepted one
    /// by one only: then nothing changes and its pattern is returned.
    pub(crate) fn accept_file(&mut self) -> Result<(), String> {
        if let Some(pattern) = self.files().get(self.file).and_then(|f| f.protected.clone()) {
            return Err(pattern);
        }
        self.set_file(Decision::Accepted);
        Ok(())
    }

    pub(crate) fn reject_file(&mut self) {
        self.set_file(Decision::Rejected { reason: None });
    }

    /// Decide every hunk; accepting leaves protected files' hunks as they
    /// were, and returns how many of those are still undecided.
    pub(crate) fn set_all(&mut self, accept: bool) -> usize {
        let decision = if accept { Decision::Accepted } else { Decision::Rejected { reason: None } };
        if let Some(files) = self.files_mut() {
            for f in files.iter_mut().filter(|f| !accept || f.protected.is_none()) {
                for h in &mut f.hunks {
                    h.decision = decision.clone();
                }
            }
        }
        self.confirm_undecided = false;
        self.files()
            .iter()
            .filter(|f| f.protected.is_some())
            .flat_map(|f| &f.hunks)
            .filter(|h| h.decision == Decision::Pending)
            .count()
    }

    /// Move to the next undecided hunk after the focused one (wrapping), or
    /// stay if every hunk is decided.
    fn advance_to_pending(&mut self) {
        let order = self.order();
        let Some(pos) = order.iter().position(|&p| p == (self.file, self.hunk)) else { return };
        let files = self.files();
        for step in 1..=order.len() {
            let (f, h) = order[(pos + step) % order.len()];
            if files[f].hunks[h].decision == Decision::Pending {
                self.focus(f, h);
                return;
            }
        }
    }

    /// Every hunk as (file, hunk), in order.
    fn order(&self) -> Vec<(usize, usize)> {
        self.files().iter().enumerate().flat_map(|(f, file)| (0..file.hunks.len()).map(move |h| (f, h))).collect()
    }

    fn focus(&mut self, file: usize, hunk: usize) {
        if (file, hunk) != (self.file, self.hunk) {
            self.scroll = 0;
        }
        self.file = file;
        self.hunk = hunk;
    }

    pub(crate) fn next_hunk(&mut self, forward: bool) {
        let order = self.order();
        if order.is_empty() {
            return;
        }
        let pos = order.iter().position(|&p| p == (self.file, self.hunk)).unwrap_or(0);
        let next = if forward { (pos + 1).min(order.len() - 1) } else { pos.saturating_sub(1) };
        let (f, h) = order[next];
        self.focus(f, h);
    }

    pub(crate) fn next_file(&mut self, forward: bool) {
        let n = self.files().len();
        if n == 0 {
            return;
        }
        let f = if forward { (self.file + 1).min(n - 1) } else { self.file.saturating_sub(1) };
        self.focus(f, 0);
    }

    /// Split the focused hunk into its separate changes; false if it has only one.
    pub fn split(&mut self) -> bool {
        let (file, hunk) = (self.file, self.hunk);
        let Some(files) = self.files_mut() else { return false };
        let Some(f) = files.get_mut(file) else { return false };
        let Some(h) = f.hunks.get(hunk) else { return false };
        let pieces = crate::patch::hunks::split(&h.hunk);
        if pieces.len() < 2 {
            return false;
        }
        let decision = h.decision.clone();
        let edited = h.edited;
        f.hunks.splice(
            hunk..=hunk,
            pieces.into_iter().map(|p| HunkReview { hunk: p, decision: decision.clone(), edited }),
        );
        self.scroll = 0;
        true
    }

    /// Replace the focused hunk's new side (its context and added lines)
    /// with `new_lines`, the user's edit of it; the hunk counts as accepted.
    pub(crate) fn edit_focused(&mut self, new_lines: &[String]) {
        use crate::patch::HunkLine;
        let Some(h) = self.focused_mut() else { return };
        let old: Vec<&str> =
            h.hunk.lines.iter().filter(|l| l.kind != LineKind::Added).map(|l| l.text.as_str()).collect();
        // Lines the edit left alone at either end stay context, so the hunk
        // still reads as a small change and finds its place by them.
        let same = |a: &str, b: &String| a == b.as_str();
        let prefix = old.iter().zip(new_lines).take_while(|(a, b)| same(a, b)).count();
        let max_suffix = old.len().min(new_lines.len()) - prefix;
        let suffix =
            old.iter().rev().zip(new_lines.iter().rev()).take(max_suffix).take_while(|(a, b)| same(a, b)).count();
        let ctx = |t: &str| HunkLine { kind: LineKind::Context, text: t.to_string() };
        let mut lines: Vec<HunkLine> = old[..prefix].iter().map(|t| ctx(t)).collect();
        lines.extend(
            old[prefix..old.len() - suffix].iter().map(|t| HunkLine { kind: LineKind::Removed, text: t.to_string() }),
        );
        lines.extend(
            new_lines[prefix..new_lines.len() - suffix]
                .iter()
                .map(|t| HunkLine { kind: LineKind::Added, text: t.clone() }),
        );
        lines.extend(old[old.len() - suffix..].iter().map(|t| ctx(t)));
        h.hunk.new_lines = new_lines.len();
        h.hunk.lines = lines;
        h.decision = Decision::Accepted;
        h.edited = true;
        self.confirm_undecided = false;
        self.advance_to_pending();
    }

    /// The focused hunk's new side as text, for the user to edit.
    pub(crate) fn focused_new_side(&self) -> Option<String> {
        let (_, h) = self.focused()?;
        let mut out = String::new();
        for l in h.hunk.lines.iter().filter(|l| l.kind != LineKind::Removed) {
            out.push_str(&l.text);
            out.push('\n');
        }
        Some(out)
    }

    /// The answer to the shown change set, per file: each hunk as reviewed
    /// with its fate; `None` when the front item is not a change set.
    pub(crate) fn answers(&self) -> Option<Vec<crate::engine::FileAnswer>> {
        use crate::engine::{FileAnswer, HunkAnswer, Verdict};
        let Some(Item::Changes { files, .. }) = self.items.front() else { return None };
        let verdict = |h: &HunkReview| match (&h.decision, h.edited) {
            (Decision::Accepted, true) => Verdict::Edited,
            (Decision::Accepted, false) => Verdict::Accepted,
            (Decision::Rejected { reason }, _) => Verdict::Rejected(reason.clone()),
            (Decision::Pending, _) => Verdict::Undecided,
        };
        Some(
            files
                .iter()
                .map(|f| FileAnswer {
                    hunks: f.hunks.iter().map(|h| HunkAnswer { hunk: h.hunk.clone(), verdict: verdict(h) }).collect(),
                    set_aside: None,
                })
                .collect(),
        )
    }
}

/// A short label of a change's kind for the file list.
pub(crate) fn kind_label(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Modify => "M",
        ChangeKind::Add => "A",
        ChangeKind::Delete => "D",
        ChangeKind::Move => "R",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::permission::{DETAIL_LINES, LINE_CHARS, TITLE_CHARS};

    fn change(path: &str) -> FileChange {
        FileChange::new(path.into(), Some("a\nb\n".into()), Some("a\nc\n".into()), None).expect("a change")
    }

    #[test]
    fn protected_files_are_accepted_hunk_by_hunk_only() {
        let mut r = Review::default();
        r.push_changes(
            1,
            vec![change(".tandem/config.toml"), change("src/lib.rs")],
            vec![Some(".tandem/**".into()), None],
        );
        assert_eq!(r.accept_file(), Err(".tandem/**".to_string()));
        assert_eq!(r.undecided(), 2);
        assert_eq!(r.set_all(true), 1, "the protected hunk is left");
        assert_eq!(r.files()[1].hunks[0].decision, Decision::Accepted);
        assert_eq!(r.files()[0].hunks[0].decision, Decision::Pending);
        r.file = 0;
        r.hunk = 0;
        r.accept_hunk();
        assert_eq!(r.files()[0].hunks[0].decision, Decision::Accepted);
        assert_eq!(r.set_all(false), 0, "rejecting needs no care");
        assert_eq!(r.undecided(), 0);
    }

    const KIND: crate::engine::PermissionKind =
        crate::engine::PermissionKind { name: "test", label: "test leave", granted_by: &[] };

    fn permission(title: &str, detail: &str, key: Option<&str>) -> Permission {
        Permission { kind: KIND, title: title.into(), detail: detail.into(), remember_key: key.map(str::to_string) }
    }

    fn shown_item(p: Permission) -> Permission {
        match Item::from_request(4, Request::Permission(p)) {
            Item::Permission { id: 4, permission } => permission,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_permission_becomes_an_item_answered_whole_with_its_key_to_remember() {
        let item = Item::from_request(3, Request::Permission(permission("open it", "the door", Some("door"))));
        assert_eq!(item.id(), 3);
        assert!(item.is_question());
        let (key, note) = item.always_allow().expect("a key");
        assert_eq!(key, "door");
        assert_eq!(note, "Allowed without asking this session: test leave `door`");
        let once = Item::from_request(3, Request::Permission(permission("open it", "the door", None)));
        assert_eq!(once.always_allow(), None, "nothing to remember: allowed once only");
        let command = Item::from_request(5, Request::Command { command: "cargo test -p x".into() });
        assert!(command.is_question());
        assert_eq!(command.always_allow().map(|(k, _)| k).as_deref(), Some("cargo test"));
    }

    #[test]
    fn hostile_text_is_shown_without_controls_and_cut_to_size() {
        let detail = format!(
            "{}\n{}\n{}",
            "line \x1b]52;c;ZXZpbA==\x07one\x1b[2J\tend",
            "safe \u{202e}hs.live\u{202c} \u{200f}te\u{200b}xt\r",
            (0..1000).map(|i| format!("row {i}")).collect::<Vec<_>>().join("\n")
        );
        let p = shown_item(permission(
            &format!("title\x1b[31m\nsecond {}", "x".repeat(5000)),
            &detail,
            Some("k\x1b[0m\u{202e}ey"),
        ));
        let all = format!("{}{}{}", p.title, p.detail, p.remember_key.clone().unwrap_or_default());
        assert!(
            !all.chars().any(|c| (c.is_control() && c != '\n')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')),
            "{all:?}"
        );
        assert!(p.title.starts_with("title second xxx") && p.title.ends_with('…'), "{}", p.title);
        assert_eq!(p.title.chars().count(), TITLE_CHARS + 1);
        assert_eq!(p.remember_key.as_deref(), Some("key"));
        let lines: Vec<&str> = p.detail.lines().collect();
        assert_eq!(lines[0], "line one    end");
        assert_eq!(lines[1], "safe hs.live text");
        assert_eq!(lines.len(), DETAIL_LINES + 1);
        assert!(lines[DETAIL_LINES].starts_with("… 972 more line(s) not shown"), "{}", lines[DETAIL_LINES]);
        // One huge line is cut too.
        let p = shown_item(permission("t", &"y".repeat(100_000), None));
        assert!(p.detail.chars().count() < LINE_CHARS + 100, "{}", p.detail.len());
        assert!(p.detail.ends_with("… cut to fit (100000 characters in all)"), "{}", p.detail);
        // Plain text is shown as it is.
        let p = shown_item(permission("open `front`", "{\"door\": \"front\"}\nsecond line", Some("front")));
        assert_eq!((p.title.as_str(), p.detail.as_str()), ("open `front`", "{\"door\": \"front\"}\nsecond line"));
    }

    #[test]
    fn a_change_set_the_policy_accepts_waits_only_for_its_protected_files() {
        let request = Request::Changes {
            files: vec![change(".tandem/config.toml"), change("src/lib.rs")],
            protected: vec![Some(".tandem/**".into()), None],
            policy_accepts: true,
        };
        let Item::Changes { files, .. } = Item::from_request(1, request) else { panic!("not a change set") };
        assert_eq!(files[0].protected.as_deref(), Some(".tandem/**"));
        assert_eq!(files[0].hunks[0].decision, Decision::Pending);
        assert_eq!(files[1].hunks[0].decision, Decision::Accepted);
        let request =
            Request::Changes { files: vec![change("src/lib.rs")], protected: vec![None], policy_accepts: false };
        let Item::Changes { files, .. } = Item::from_request(1, request) else { panic!("not a change set") };
        assert_eq!(files[0].hunks[0].decision, Decision::Pending);
    }
}
