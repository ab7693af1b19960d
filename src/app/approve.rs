//! The diff-approval pane's actions: the engine's requests for approval
//! arriving, the user's decisions going back to it, what it wrote and undid,
//! and the policy switch. The engine decides what the policy allows; this is
//! where a person answers the rest.

use super::App;
use crate::engine::{Answer, AppliedFile, Command, Request};
use crate::view::review::Item;
use crate::view::state::Focus;

impl App {
    /// Give the model the real tools, with their requests for approval
    /// coming to this app, once the session's engine starts.
    pub fn enable_tools(&mut self) {
        self.engine.tools = true;
        self.checks.resolve(cx!(self));
    }

    /// The engine asks: queue the request in the diff pane.
    pub(super) fn approval_requested(&mut self, id: u64, request: Request) {
        match request {
            Request::Changes { files, protected, policy_accepts } => {
                self.state.review.push_changes(id, files, protected);
                // The policy takes what is not protected; those hunks wait
                // for the user, one by one.
                if policy_accepts && self.state.review.items.len() == 1 {
                    self.state.review.set_all(true);
                }
            }
            Request::Command { command } => self.state.review.push_command(id, command),
        }
        self.item_arrived();
    }

    /// The diff pane's key for `action`, for messages.
    fn key_for(&self, action: crate::config::keymap::Action) -> String {
        self.state.keymap.key_label(crate::config::keymap::Context::Diff, action)
    }

    /// A proposal or command request joined the queue.
    fn item_arrived(&mut self) {
        if self.state.review.items.len() == 1 {
            self.front_arrived();
        }
    }

    /// The front of the queue changed: show it.
    fn front_arrived(&mut self) {
        match self.state.review.front() {
            None => {}
            Some(item) => {
                let id = item.id();
                let what = match item {
                    Item::Changes { files, .. } => {
                        let hunks: usize = files.iter().map(|f| f.hunks.len()).sum();
                        let protected: Vec<String> = files
                            .iter()
                            .filter(|f| f.protected.is_some())
                            .map(|f| f.shown_path().display().to_string())
                            .collect();
                        if protected.is_empty() {
                            format!("{} file(s), {hunks} hunk(s) to review", files.len())
                        } else {
                            format!(
                                "{} file(s), {hunks} hunk(s) to review; {} protected: accept its hunks one by one",
                                files.len(),
                                protected.join(", ")
                            )
                        }
                    }
                    Item::Command { command, .. } => format!("the model asks to run `{command}`"),
                };
                let key = self
                    .state
                    .keymap
                    .key_label(crate::config::keymap::Context::Global, crate::config::keymap::Action::FocusDiff);
                // Never take the keyboard from someone typing: the review
                // waits, and the status line says which key opens it.
                if self.state.focus != Focus::Diff && self.state.config.ui.diff_takes_focus && self.composer_idle() {
                    self.take_focus_for(id);
                }
                if self.state.focus == Focus::Diff {
                    self.flash(format!("Diff approval: {what}"), false);
                } else {
                    self.flash(format!("Diff approval: {what} ({key} to review)"), false);
                }
            }
        }
    }

    pub(super) fn review_action(&mut self, action: crate::config::keymap::Action) {
        use crate::config::keymap::Action as A;
        if self.state.review.applying {
            self.flash("Writing the last decisions; a moment…", false);
            return;
        }
        if action == A::UndoApplied {
            self.undo();
            return;
        }
        if action == A::CyclePolicy {
            self.state.policy = self.state.policy.next();
            self.engine.send(Command::SetPolicy(self.state.policy));
            let text = format!("Policy: {}", self.state.policy.name());
            self.flash(text, false);
            return;
        }
        let is_command = matches!(self.state.review.front(), Some(Item::Command { .. }));
        if is_command {
            match action {
                A::AcceptHunk | A::AcceptFile | A::AcceptAll | A::ApplyDecisions => {
                    self.answer_command(Answer::Allow { remember: None });
                }
                A::RejectHunk | A::RejectFile | A::RejectAll => {
                    self.answer_command(Answer::Refuse { reason: "the user said no".into() });
                }
                A::RejectWithReason => self.state.review.reason = Some(String::new()),
                A::AlwaysAllow => {
                    let prefix = match self.state.review.front() {
                        Some(Item::Command { command, .. }) => crate::engine::command_prefix(command),
                        _ => String::new(),
                    };
                    self.flash(format!("Commands starting with `{prefix}` run without asking this session"), false);
                    self.answer_command(Answer::Allow { remember: Some(prefix) });
                }
                _ => self.flash("That key works on proposed edits; this is a command to allow or refuse", false),
            }
            return;
        }
        if self.state.review.is_empty() {
            self.flash("No proposed edits", false);
            return;
        }
        let r = &mut self.state.review;
        match action {
            A::AcceptHunk => r.accept_hunk(),
            A::RejectHunk => r.reject_hunk(None),
            A::RejectWithReason => r.reason = Some(String::new()),
            A::AcceptFile => {
                if let Err(pattern) = r.accept_file() {
                    let key = self.key_for(A::AcceptHunk);
                    self.flash(
                        format!("This file is protected ({pattern}): accept its hunks one by one with {key}"),
                        false,
                    );
                }
            }
            A::RejectFile => r.reject_file(),
            A::AcceptAll => {
                let left = r.set_all(true);
                if left > 0 {
                    let key = self.key_for(A::AcceptHunk);
                    self.flash(
                        format!("{left} hunk(s) of protected files left undecided: accept them one by one with {key}"),
                        false,
                    );
                }
            }
            A::RejectAll => {
                r.set_all(false);
            }
            A::NextHunk => r.next_hunk(true),
            A::PrevHunk => r.next_hunk(false),
            A::NextFile => r.next_file(true),
            A::PrevFile => r.next_file(false),
            A::SplitHunk if !r.split() => {
                self.flash("This hunk is a single change; it cannot be split further", false);
            }
            A::EditHunk => self.edit_request = true,
            A::ApplyDecisions => {
                let undecided = r.undecided();
                if undecided > 0 && !r.confirm_undecided {
                    r.confirm_undecided = true;
                    let key = self.state.keymap.key_label(crate::config::keymap::Context::Diff, A::ApplyDecisions);
                    self.flash(format!("{undecided} hunk(s) undecided: {key} again rejects them and applies"), false);
                    return;
                }
                self.start_apply();
            }
            _ => {}
        }
    }

    /// A key while a rejection reason is being typed; true if it was taken.
    pub(super) fn reason_key(&mut self, key: &crate::config::keys::Key) -> bool {
        use crate::config::keys::KeyCode;
        let Some(reason) = self.state.review.reason.as_mut() else { return false };
        match key.code {
            KeyCode::Enter => {
                let text = reason.trim().to_string();
                self.state.review.reason = None;
                let reason = (!text.is_empty()).then_some(text);
                if matches!(self.state.review.front(), Some(Item::Command { .. })) {
                    self.answer_command(Answer::Refuse { reason: reason.unwrap_or_else(|| "the user said no".into()) });
                } else {
                    self.state.review.reject_hunk(reason);
                }
            }
            KeyCode::Esc => self.state.review.reason = None,
            KeyCode::Backspace => {
                reason.pop();
            }
            _ => match super::input::typed_char(key) {
                Some(c) => reason.push(c),
                None => return true,
            },
        }
        true
    }

    fn answer_command(&mut self, answer: Answer) {
        let Some(Item::Command { id, .. }) = self.state.review.pop() else { return };
        let approvals = &mut self.state.metrics.approvals;
        match answer {
            Answer::Allow { .. } => approvals.commands_approved += 1,
            _ => approvals.commands_denied += 1,
        }
        self.engine.send(Command::Decide { id, answer });
        self.front_arrived();
    }

    /// Send the decisions on the shown change set to the engine, which
    /// writes and stages the accepted hunks off the loop.
    fn start_apply(&mut self) {
        let Some(answers) = self.state.review.answers() else { return };
        let Some(id) = self.state.review.front().map(Item::id) else { return };
        if !self.engine.send(Command::Decide { id, answer: Answer::Changes(answers) }) {
            self.state.error("The session has ended; the decisions cannot be applied.");
            return;
        }
        self.state.review.applying = true;
    }

    /// What the engine wrote of change set `id` (asked, or by policy).
    pub(super) fn applied(&mut self, id: u64, files: Vec<AppliedFile>, by_policy: bool) {
        self.state.review.applying = false;
        let mut summary = Vec::new();
        let mut written = false;
        for f in &files {
            for h in &f.hunks {
                self.state.metrics.approvals.hunk(h);
            }
            written |= matches!(f.outcome, crate::engine::Outcome::Staged | crate::engine::Outcome::Written);
            summary.push(format!("{} {}/{} ({})", f.path.display(), f.accepted(), f.hunks.len(), f.state));
        }
        if written && self.state.config.checks.auto_test {
            self.state.checks.due = true;
        }
        self.state.model.activity = "telling the model what was decided…".into();
        let label = if by_policy { "Applied by policy" } else { "Applied" };
        self.state.notice(format!("{label}: {}", summary.join("; ")));
        if self.state.review.front().is_some_and(|i| i.id() == id) {
            self.state.review.pop();
        }
        // With one pane on screen, an empty diff pane has nothing to show:
        // go back to writing.
        let one_pane = self.plan().tabs.is_some();
        if self.state.focus == Focus::Diff && self.state.review.is_empty() && one_pane {
            self.state.focus = Focus::Composer;
        }
        self.front_arrived();
        self.asks.push(super::cx::Ask::AutoTest);
    }

    /// Let the user rewrite the focused hunk's new text in their editor.
    /// Runs on the loop's thread on purpose: the terminal belongs to the
    /// editor until it exits, and nothing can be drawn meanwhile.
    ///
    /// Anything but a successful edit leaves the hunk as it was: an editor
    /// that fails or removes the file, and an empty buffer, which (as in
    /// `git add -p`) cancels rather than deleting the hunk's lines.
    pub(super) fn edit_hunk<B: super::Host>(&mut self, host: &mut B) {
        let Some(text) = self.state.review.focused_new_side() else { return };
        let ext = self
            .state
            .review
            .focused()
            .and_then(|(f, _)| f.shown_path().extension().map(|e| e.to_string_lossy().into_owned()));
        let file = match super::terminal::EditorFile::create(ext.as_deref(), &text) {
            Ok(file) => file,
            Err(e) => {
                self.state.error(format!("Cannot write the hunk to a temporary file for editing: {e}"));
                return;
            }
        };
        let outcome = host.run_editor(file.path());
        let edited = file.read_back();
        // "Edit cancelled" first: the status line may cut what follows.
        let cancelled = |why: String| format!("Edit cancelled: {why}; the hunk is as it was");
        match (outcome, edited) {
            (Err(e), _) => self.state.error(format!(
                "Cannot start the editor ({e}). Set $EDITOR (or $VISUAL) to the editor to use, e.g. EDITOR=nano."
            )),
            (Ok(status), _) if !status.success() => {
                self.flash(cancelled(format!("the editor exited with {status}")), true)
            }
            (Ok(_), Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                self.flash(cancelled("the editor removed the hunk's file".into()), true);
            }
            (Ok(_), Err(e)) => self.flash(cancelled(format!("cannot read the edited hunk back ({e})")), true),
            (Ok(_), Ok(edited)) if edited.trim().is_empty() => {
                self.flash(cancelled("the buffer was empty".into()), false)
            }
            (Ok(_), Ok(edited)) if edited == text => self.flash("The hunk is unchanged", false),
            (Ok(_), Ok(edited)) => {
                let lines: Vec<String> = edited.lines().map(str::to_string).collect();
                self.state.review.edit_focused(&lines);
                self.flash("Hunk edited and accepted: it is applied as you wrote it", false);
            }
        }
    }

    fn undo(&mut self) {
        if self.engine.send(Command::Undo) {
            self.state.review.applying = true;
        } else {
            self.flash("Nothing to undo", false);
        }
    }

    pub(super) fn undone(&mut self, text: String, retry: bool) {
        self.state.review.applying = false;
        // What was left alone stays undoable: once the user has dealt with
        // what stood in the way, the same key tries it again.
        let again = if retry {
            let key = self
                .state
                .keymap
                .key_label(crate::config::keymap::Context::Diff, crate::config::keymap::Action::UndoApplied);
            format!(" ({key} tries what was left alone again)")
        } else {
            String::new()
        };
        self.state.notice(format!("Undo: {text}{again}"));
    }
}
