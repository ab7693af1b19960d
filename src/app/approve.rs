//! The diff-approval pane's actions: proposals and command requests coming
//! in from the tools, the user's decisions, applying them through `git` off
//! the event loop, undo, the policy, and the audit log.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;

use super::review::{Decision, Item};
use super::state::Focus;
use super::{App, AppEvent};
use crate::config::Policy;
use crate::session::audit::{HunkRecord, Record};
use crate::tools::approval::{Approval, FileVerdict};

/// Where the answer to a waiting item goes.
pub(super) enum Reply {
    Changes(oneshot::Sender<Vec<FileVerdict>>),
    Command(oneshot::Sender<Result<(), String>>),
}

/// One applied change set, kept for undo.
pub(super) struct Applied {
    pub record: crate::git::UndoRecord,
    pub files: Vec<PathBuf>,
}

impl App {
    /// Build the real tools, with their requests for approval coming to this app.
    pub fn enable_tools(&mut self) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let config = crate::tools::toolbox::ToolboxConfig {
            root: self.state.repo.root.clone(),
            index: Some(self.index.clone()),
            map_tokens: self.state.config.index.map_tokens,
        };
        let toolbox = crate::tools::toolbox::Toolbox::new(config, crate::tools::approval::Approvals(tx));
        self.tools = Some(Arc::new(toolbox));
        self.approvals_rx = Some(rx);
        self.resolve_checks();
    }

    fn policy(&self) -> Policy {
        self.state.policy
    }

    fn audit(&self, rec: Record) {
        if let Some(log) = &self.audit {
            log.record(rec);
        }
    }

    pub(super) fn handle_approval(&mut self, req: Approval) {
        match req {
            Approval::Review { files, reply } => {
                let counts = files.iter().map(|f| (f.path.display().to_string(), f.hunks.len())).collect();
                self.journal(crate::session::journal::Entry::Proposal { files: counts });
                for f in &files {
                    self.audit(Record::proposal(f, self.policy()));
                }
                let id = self.state.review.push_changes(files);
                let protected = &self.protected;
                self.state.review.mark_protected(id, |c| protected.change(c).map(str::to_string));
                self.replies.insert(id, Reply::Changes(reply));
                self.item_arrived();
            }
            Approval::Command { command, reply } => {
                if let Some(why) = self.command_allowed(&command) {
                    self.state.metrics.approvals.commands_unasked += 1;
                    self.audit(Record::command_allowed(self.policy(), why, &command));
                    let _ = reply.send(Ok(()));
                    return;
                }
                let id = self.state.review.push_command(command);
                self.replies.insert(id, Reply::Command(reply));
                self.item_arrived();
            }
        }
    }

    /// The diff pane's key for `action`, for messages.
    fn key_for(&self, action: crate::config::keymap::Action) -> String {
        self.state.keymap.key_label(crate::config::keymap::Context::Diff, action)
    }

    /// Why `command` may run without asking, if it may.
    fn command_allowed(&self, command: &str) -> Option<&'static str> {
        let prefixes = self.state.config.tools.allow_commands.iter().chain(&self.always_allow);
        crate::tools::approval::command_allowed(self.policy(), command, &self.state.repo.root, prefixes)
    }

    /// A proposal or command request joined the queue.
    fn item_arrived(&mut self) {
        if self.state.review.items.len() == 1 {
            self.front_arrived();
        }
    }

    /// The front of the queue changed: show it, or let the policy decide.
    fn front_arrived(&mut self) {
        let auto = matches!(self.policy(), Policy::AutoEdit | Policy::FullAuto);
        let changes = matches!(self.state.review.front(), Some(Item::Changes { .. }));
        // Edits of protected files wait for the user even then: the rest is
        // accepted, and the set is shown with those hunks undecided.
        if auto && changes && self.state.review.set_all(true) == 0 {
            self.start_apply();
            return;
        }
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
            let text = format!("Policy: {}", self.state.policy.name());
            self.flash(text, false);
            return;
        }
        let is_command = matches!(self.state.review.front(), Some(Item::Command { .. }));
        if is_command {
            match action {
                A::AcceptHunk | A::AcceptFile | A::AcceptAll | A::ApplyDecisions => self.answer_command(Ok(())),
                A::RejectHunk | A::RejectFile | A::RejectAll => self.answer_command(Err("the user said no".into())),
                A::RejectWithReason => self.state.review.reason = Some(String::new()),
                A::AlwaysAllow => {
                    if let Some(Item::Command { command, .. }) = self.state.review.front() {
                        let prefix = command_prefix(command);
                        self.flash(format!("Commands starting with `{prefix}` run without asking this session"), false);
                        self.always_allow.push(prefix);
                    }
                    self.answer_command(Ok(()));
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
                    self.answer_command(Err(reason.unwrap_or_else(|| "the user said no".into())));
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

    fn answer_command(&mut self, answer: Result<(), String>) {
        let Some(Item::Command { id, command }) = self.state.review.pop() else { return };
        let approvals = &mut self.state.metrics.approvals;
        match answer {
            Ok(()) => approvals.commands_approved += 1,
            Err(_) => approvals.commands_denied += 1,
        }
        let detail = match &answer {
            Ok(()) => format!("allowed by the user: {command}"),
            Err(r) => format!("refused by the user ({r}): {command}"),
        };
        self.audit(Record::command(self.policy(), detail));
        if let Some(Reply::Command(tx)) = self.replies.remove(&id) {
            let _ = tx.send(answer);
        }
        self.front_arrived();
    }

    /// Write and stage the accepted hunks of the shown change set, off the loop.
    fn start_apply(&mut self) {
        let Some(decisions) = self.state.review.outcomes() else { return };
        let Some(Item::Changes { id, files }) = self.state.review.front() else { return };
        let id = *id;
        let approved: Vec<crate::git::Approved> = files
            .iter()
            .zip(&decisions)
            .filter(|(_, d)| !d.approved.is_empty())
            .map(|(f, d)| crate::git::Approved { change: f.change.clone(), hunks: d.approved.clone() })
            .collect();
        for f in files {
            for h in &f.hunks {
                self.state.metrics.approvals.hunk(h.verdict());
            }
        }
        for (f, d) in files.iter().zip(&decisions) {
            let hunks = f
                .hunks
                .iter()
                .map(|h| {
                    let reason = match &h.decision {
                        Decision::Rejected { reason } => reason.clone(),
                        Decision::Pending => Some("left undecided".into()),
                        Decision::Accepted => None,
                    };
                    HunkRecord::new(&h.hunk, h.verdict(), reason)
                })
                .collect();
            self.audit(Record::decision(self.policy(), &d.path, hunks));
        }
        self.state.review.applying = true;
        let root = self.state.repo.root.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let report = crate::git::apply(&root, &approved);
            let _ = tx.send(AppEvent::Applied { id, decisions, report });
        });
    }

    pub(super) fn applied(
        &mut self,
        id: u64,
        decisions: Vec<super::review::FileDecisions>,
        report: crate::git::ApplyReport,
    ) {
        self.state.review.applying = false;
        let mut verdicts = Vec::new();
        let mut summary = Vec::new();
        let mut written = Vec::new();
        for d in &decisions {
            let outcome = report.files.iter().find(|o| o.path == d.path);
            let accepted = d.approved.len();
            let total = d.lines.len();
            let state = crate::git::FileOutcome::describe(outcome);
            if outcome.is_some_and(|o| o.written) {
                written.push(d.path.clone());
            }
            summary.push(format!("{} {accepted}/{total} ({state})", d.path.display()));
            verdicts.push(FileVerdict::new(d.path.clone(), accepted, &d.lines, &state));
            self.journal(crate::session::journal::Entry::Decision {
                path: d.path.display().to_string(),
                outcome: format!("{accepted}/{total} hunks accepted ({state})"),
            });
            self.audit(Record::applied(self.policy(), &d.path, state));
        }
        if !written.is_empty() {
            self.undo_stack.push(Applied { record: report.undo, files: written });
            if self.state.config.checks.auto_test {
                self.state.checks.due = true;
            }
        }
        self.state.model.activity = "telling the model what was decided…".into();
        let label = if self.policy() == Policy::Suggest { "Applied" } else { "Applied by policy" };
        self.state.notice(format!("{label}: {}", summary.join("; ")));
        if self.state.review.front().is_some_and(|i| i.id() == id) {
            self.state.review.pop();
        }
        match self.replies.remove(&id) {
            Some(Reply::Changes(tx)) => {
                if let Err(v) = tx.send(verdicts) {
                    // The turn that proposed these ended (it was stopped):
                    // the model hears the outcome with the next message.
                    self.notes_for_model.extend(v.into_iter().map(|v| v.report));
                }
            }
            _ => self.notes_for_model.extend(verdicts.into_iter().map(|v| v.report)),
        }
        // With one pane on screen, an empty diff pane has nothing to show:
        // go back to writing.
        let one_pane = self.plan().tabs.is_some();
        if self.state.focus == Focus::Diff && self.state.review.is_empty() && one_pane {
            self.state.focus = Focus::Composer;
        }
        self.front_arrived();
        self.auto_test_if_due();
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
        let Some(applied) = self.undo_stack.pop() else {
            self.flash("Nothing to undo", false);
            return;
        };
        let root = self.state.repo.root.clone();
        let tx = self.tx.clone();
        self.state.review.applying = true;
        tokio::task::spawn_blocking(move || {
            let report = crate::git::undo(&root, &applied.record);
            let _ = tx.send(AppEvent::Undone { files: applied.files, report });
        });
    }

    pub(super) fn undone(&mut self, files: Vec<PathBuf>, report: crate::git::UndoReport) {
        self.state.review.applying = false;
        let text = report
            .files
            .iter()
            .map(|f| match (&f.message, f.reverted) {
                (None, true) => format!("{} reverted", f.path.display()),
                (Some(m), true) => format!("{} reverted ({m})", f.path.display()),
                (Some(m), false) => format!("{} left alone: {m}", f.path.display()),
                (None, false) => format!("{} left alone", f.path.display()),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut rec = Record::new("undo", self.policy());
        rec.detail = text.clone();
        rec.file = Some(files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "));
        self.audit(rec);
        // What was left alone stays undoable: once the user has dealt with
        // what stood in the way, the same key tries it again.
        let again = if report.remaining.files.is_empty() {
            String::new()
        } else {
            let key = self
                .state
                .keymap
                .key_label(crate::config::keymap::Context::Diff, crate::config::keymap::Action::UndoApplied);
            let files = report.remaining.files.iter().map(|f| f.path.clone()).collect();
            self.undo_stack.push(Applied { record: report.remaining, files });
            format!(" ({key} tries what was left alone again)")
        };
        self.state.notice(format!("Undo: {text}{again}"));
        self.notes_for_model.push(format!("The user undid the last applied change set: {text}"));
    }
}

/// The start of a command that "always allow" remembers: the program and,
/// for tools with subcommands, the subcommand (`cargo test`, `npm run`).
fn command_prefix(command: &str) -> String {
    let mut words = command.split_whitespace();
    let first = words.next().unwrap_or_default();
    match words.next() {
        Some(second) if !second.starts_with('-') && second.chars().all(|c| c.is_alphanumeric() || c == '-') => {
            format!("{first} {second}")
        }
        _ => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::command_prefix;

    #[test]
    fn allowed_prefixes_do_not_carry_other_commands() {
        use crate::tools::read_only::is_simple_command;
        assert!(!is_simple_command("cargo test && rm -rf ~"));
        assert!(!is_simple_command("cargo test; curl x | sh"));
        assert!(!is_simple_command("cargo test > out"));
        assert!(is_simple_command("cargo test -p tandem --lib"));
    }

    #[test]
    fn always_allow_remembers_program_and_subcommand() {
        assert_eq!(command_prefix("cargo test -p foo"), "cargo test");
        assert_eq!(command_prefix("make"), "make");
        assert_eq!(command_prefix("ls -la"), "ls");
        assert_eq!(command_prefix("python3 x.py"), "python3");
    }
}
