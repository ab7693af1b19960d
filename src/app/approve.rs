//! The review desk: the diff-approval pane's side of the app. The engine's
//! requests for approval join the review queue, the user's decisions go
//! back to the engine, and what the engine wrote or undid is reported; the
//! policy switch is here too. The engine decides what the policy allows;
//! this is where a person answers the rest.
//!
//! It owns the key guard (see `guard`), which keeps keys typed ahead from
//! deciding reviews, and the request to edit the focused hunk in $EDITOR.
//! It answers the engine's events other than the agent's, the review
//! actions (decisions, moving between hunks and files, split, edit, apply,
//! undo, always allow, the policy), and keys while a rejection reason is
//! typed.

use super::cx::{Ask, Cx, Handled};
use super::guard::{self, KeyGuard};
use crate::config::keymap::{Action, Context};
use crate::config::keys::{Key, KeySeq};
use crate::engine::{Answer, AppliedFile, Command, Event, Request};
use crate::view::review::{Item, Review};
use crate::view::state::{AppState, Focus};

#[derive(Default)]
pub(crate) struct ReviewDesk {
    /// Keeps keys typed ahead from deciding reviews.
    guard: KeyGuard,
    /// The focused hunk is to be edited in $EDITOR before the next frame.
    edit_request: bool,
}

/// The engine's request `id` joins the review queue as an item.
fn queue_request(review: &mut Review, id: u64, request: Request) {
    review.push(Item::from_request(id, request));
}

/// The diff pane's key for `action`, for messages.
fn key_for(state: &AppState, action: Action) -> String {
    state.keymap.key_label(Context::Diff, action)
}

impl ReviewDesk {
    /// One event of the engine. The agent's are the conversation's.
    pub(crate) fn on_engine(&mut self, cx: &mut Cx, ev: Event) -> Handled {
        match ev {
            Event::Agent(_) => return Handled::No,
            Event::ApprovalRequested { id, request } => {
                queue_request(&mut cx.state.review, id, request);
                if cx.state.review.items.len() == 1 {
                    self.front_arrived(cx);
                }
            }
            Event::Proposed { .. } => {}
            Event::CommandAllowed { .. } => cx.state.metrics.approvals.commands_unasked += 1,
            Event::Applied { id, files, by_policy } => self.applied(cx, id, files, by_policy),
            Event::Undone { text, retry } => undone(cx, text, retry),
            Event::NothingToUndo => {
                cx.state.review.applying = false;
                cx.flash("Nothing to undo", false);
            }
        }
        Handled::Yes
    }

    /// The front of the queue changed: show it.
    fn front_arrived(&mut self, cx: &mut Cx) {
        let Some(item) = cx.state.review.front() else { return };
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
            Item::Permission { permission, .. } => format!("{}: {}", permission.kind.label, permission.title),
        };
        let key = cx.state.keymap.key_label(Context::Global, Action::FocusDiff);
        // Never take the keyboard from someone typing: the review waits, and
        // the status line says which key opens it.
        if cx.state.focus != Focus::Diff && cx.state.config.ui.diff_takes_focus && self.composer_idle(cx) {
            self.guard.took_focus(id, cx.state.focus);
            cx.state.focus = Focus::Diff;
        }
        if cx.state.focus == Focus::Diff {
            cx.flash(format!("Diff approval: {what}"), false);
        } else {
            cx.flash(format!("Diff approval: {what} ({key} to review)"), false);
        }
    }

    /// Whether an arriving review may take the keyboard: the composer is
    /// empty, no chord is half typed, and the user has been still for a
    /// while. A draft, even an old one, means the user is writing.
    fn composer_idle(&self, cx: &Cx) -> bool {
        cx.state.composer.is_empty() && cx.state.pending.is_empty() && self.guard.quiet(cx.clock.now())
    }

    /// A key or a paste was read from the terminal: the guard times it.
    pub fn input(&mut self, cx: &mut Cx, repeat: bool) {
        self.guard.input(cx.clock.now(), repeat);
    }

    /// Before a key is looked up: after the diff pane took focus by itself,
    /// an early key means the user was typing and had not seen the review.
    /// The focus goes back to where it was, and the key is handled there.
    /// The review waits, and the status line says so.
    pub(crate) fn give_focus_back(&mut self, cx: &mut Cx) {
        let Some(id) = cx.state.review.front().map(Item::id) else { return };
        if cx.state.focus != Focus::Diff || !self.guard.early(id) {
            return;
        }
        if let Some(from) = self.guard.give_back(id) {
            cx.state.focus = from;
        }
    }

    /// A key bound to `action` was read: a decision that comes too early
    /// (before the item was seen, or from a key typed through its arrival)
    /// is swallowed, neither a decision nor text, and the user is told why.
    pub(crate) fn guard_decision(&mut self, cx: &mut Cx, action: Action, keys: &KeySeq) -> Handled {
        if !guard::decides(action) {
            return Handled::No;
        }
        match cx.state.review.front() {
            Some(item) if !self.guard.may_decide(item.id()) => {
                cx.flash(format!("Review just arrived: {keys} ignored. Read it, then press {keys} again."), false);
                Handled::Yes
            }
            _ => Handled::No,
        }
    }

    /// A frame was flushed to the terminal: if it showed the item under
    /// review, the user could see it from now on.
    pub(crate) fn frame_shown(&mut self, cx: &mut Cx) {
        if cx.state.overlay.is_some() || cx.plan().diff.is_none() {
            return;
        }
        if let Some(id) = cx.state.review.front().map(Item::id) {
            self.guard.drawn(id, cx.clock.now());
        }
    }

    pub(crate) fn on_action(&mut self, cx: &mut Cx, action: Action) -> Handled {
        // What decides (the guard's list), plus moving between hunks and
        // switching the policy.
        let review = super::guard::decides(action)
            || matches!(
                action,
                Action::NextHunk | Action::PrevHunk | Action::NextFile | Action::PrevFile | Action::CyclePolicy
            );
        if !review {
            return Handled::No;
        }
        if cx.state.review.applying {
            cx.flash("Writing the last decisions; a moment…", false);
        } else if action == Action::UndoApplied {
            self.undo(cx);
        } else if action == Action::CyclePolicy {
            cx.state.policy = cx.state.policy.next();
            cx.engine.send(Command::SetPolicy(cx.state.policy));
            let text = format!("Policy: {}", cx.state.policy.name());
            cx.flash(text, false);
        } else if cx.state.review.front().is_some_and(Item::is_question) {
            self.question_action(cx, action);
        } else if cx.state.review.is_empty() {
            cx.flash("No proposed edits", false);
        } else {
            self.changes_action(cx, action);
        }
        Handled::Yes
    }

    /// A review action on a request answered whole: a command the model
    /// asks to run, or a permission a tool asks for.
    fn question_action(&mut self, cx: &mut Cx, action: Action) {
        match action {
            Action::AcceptHunk | Action::AcceptFile | Action::AcceptAll | Action::ApplyDecisions => {
                self.answer_command(cx, Answer::Allow { remember: None });
            }
            Action::RejectHunk | Action::RejectFile | Action::RejectAll => {
                self.answer_command(cx, Answer::Refuse { reason: "the user said no".into() });
            }
            Action::RejectWithReason => cx.state.review.reason = Some(String::new()),
            Action::AlwaysAllow => match cx.state.review.front().and_then(Item::always_allow) {
                Some((remember, note)) => {
                    cx.flash(note, false);
                    self.answer_command(cx, Answer::Allow { remember: Some(remember) });
                }
                None => cx.flash("This can be allowed once only, not for the session", false),
            },
            _ => cx.flash("That key works on proposed edits; this is a request to allow or refuse", false),
        }
    }

    /// A review action on proposed edits.
    fn changes_action(&mut self, cx: &mut Cx, action: Action) {
        let r = &mut cx.state.review;
        match action {
            Action::AcceptHunk => r.accept_hunk(),
            Action::RejectHunk => r.reject_hunk(None),
            Action::RejectWithReason => r.reason = Some(String::new()),
            Action::AcceptFile => {
                if let Err(pattern) = r.accept_file() {
                    let key = key_for(cx.state, Action::AcceptHunk);
                    cx.flash(
                        format!("This file is protected ({pattern}): accept its hunks one by one with {key}"),
                        false,
                    );
                }
            }
            Action::RejectFile => r.reject_file(),
            Action::AcceptAll => {
                let left = r.set_all(true);
                if left > 0 {
                    let key = key_for(cx.state, Action::AcceptHunk);
                    cx.flash(
                        format!("{left} hunk(s) of protected files left undecided: accept them one by one with {key}"),
                        false,
                    );
                }
            }
            Action::RejectAll => {
                r.set_all(false);
            }
            Action::NextHunk => r.next_hunk(true),
            Action::PrevHunk => r.next_hunk(false),
            Action::NextFile => r.next_file(true),
            Action::PrevFile => r.next_file(false),
            Action::SplitHunk if !r.split() => {
                cx.flash("This hunk is a single change; it cannot be split further", false);
            }
            Action::EditHunk => self.edit_request = true,
            Action::ApplyDecisions => {
                let undecided = r.undecided();
                if undecided > 0 && !r.confirm_undecided {
                    r.confirm_undecided = true;
                    let key = key_for(cx.state, Action::ApplyDecisions);
                    cx.flash(format!("{undecided} hunk(s) undecided: {key} again rejects them and applies"), false);
                    return;
                }
                start_apply(cx);
            }
            _ => {}
        }
    }

    /// A key while a rejection reason is being typed in the diff pane.
    pub(crate) fn on_key(&mut self, cx: &mut Cx, key: &Key) -> Handled {
        use crate::config::keys::KeyCode;
        if cx.state.focus != Focus::Diff || cx.state.overlay.is_some() {
            return Handled::No;
        }
        let Some(reason) = cx.state.review.reason.as_mut() else { return Handled::No };
        match key.code {
            KeyCode::Enter => {
                let text = reason.trim().to_string();
                cx.state.review.reason = None;
                let reason = (!text.is_empty()).then_some(text);
                if cx.state.review.front().is_some_and(Item::is_question) {
                    let reason = reason.unwrap_or_else(|| "the user said no".into());
                    self.answer_command(cx, Answer::Refuse { reason });
                } else {
                    cx.state.review.reject_hunk(reason);
                }
            }
            KeyCode::Esc => cx.state.review.reason = None,
            KeyCode::Backspace => {
                reason.pop();
            }
            _ => {
                if let Some(c) = super::input::typed_char(key) {
                    reason.push(c);
                }
            }
        }
        Handled::Yes
    }

    fn answer_command(&mut self, cx: &mut Cx, answer: Answer) {
        let Some(item) = cx.state.review.pop().filter(Item::is_question) else { return };
        let approvals = &mut cx.state.metrics.approvals;
        match (&item, &answer) {
            (Item::Command { .. }, Answer::Allow { .. }) => approvals.commands_approved += 1,
            (Item::Command { .. }, _) => approvals.commands_denied += 1,
            _ => {}
        }
        cx.engine.send(Command::Decide { id: item.id(), answer });
        self.front_arrived(cx);
    }

    /// What the engine wrote of change set `id` (asked, or by policy).
    fn applied(&mut self, cx: &mut Cx, id: u64, files: Vec<AppliedFile>, by_policy: bool) {
        let s = &mut *cx.state;
        s.review.applying = false;
        let mut summary = Vec::new();
        let mut written = false;
        for f in &files {
            for h in &f.hunks {
                s.metrics.approvals.hunk(h);
            }
            written |= matches!(f.outcome, crate::engine::Outcome::Staged | crate::engine::Outcome::Written);
            summary.push(format!("{} {}/{} ({})", f.path.display(), f.accepted(), f.hunks.len(), f.state));
        }
        if written && s.config.checks.auto_test {
            s.checks.due = true;
        }
        s.model.activity = "telling the model what was decided…".into();
        let label = if by_policy { "Applied by policy" } else { "Applied" };
        s.notice(format!("{label}: {}", summary.join("; ")));
        if s.review.front().is_some_and(|i| i.id() == id) {
            s.review.pop();
        }
        // With one pane on screen, an empty diff pane has nothing to show:
        // go back to writing.
        let one_pane = cx.plan().tabs.is_some();
        if cx.state.focus == Focus::Diff && cx.state.review.is_empty() && one_pane {
            cx.state.focus = Focus::Composer;
        }
        self.front_arrived(cx);
        cx.ask(Ask::AutoTest);
    }

    /// The focused hunk is to be edited before the next frame; asks once.
    pub(crate) fn take_edit_request(&mut self) -> bool {
        std::mem::take(&mut self.edit_request)
    }

    /// Let the user rewrite the focused hunk's new text in their editor.
    /// Runs on the loop's thread on purpose: the terminal belongs to the
    /// editor until it exits, and nothing can be drawn meanwhile.
    ///
    /// Anything but a successful edit leaves the hunk as it was: an editor
    /// that fails or removes the file, and an empty buffer, which (as in
    /// `git add -p`) cancels rather than deleting the hunk's lines.
    pub(crate) fn edit_hunk<B: super::Host>(&mut self, cx: &mut Cx, host: &mut B) {
        let Some(text) = cx.state.review.focused_new_side() else { return };
        let ext = cx
            .state
            .review
            .focused()
            .and_then(|(f, _)| f.shown_path().extension().map(|e| e.to_string_lossy().into_owned()));
        let file = match super::terminal::EditorFile::create(ext.as_deref(), &text) {
            Ok(file) => file,
            Err(e) => {
                cx.state.error(format!("Cannot write the hunk to a temporary file for editing: {e}"));
                return;
            }
        };
        let outcome = host.run_editor(file.path());
        let edited = file.read_back();
        // "Edit cancelled" first: the status line may cut what follows.
        let cancelled = |why: String| format!("Edit cancelled: {why}; the hunk is as it was");
        match (outcome, edited) {
            (Err(e), _) => cx.state.error(format!(
                "Cannot start the editor ({e}). Set $EDITOR (or $VISUAL) to the editor to use, e.g. EDITOR=nano."
            )),
            (Ok(status), _) if !status.success() => {
                cx.flash(cancelled(format!("the editor exited with {status}")), true)
            }
            (Ok(_), Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                cx.flash(cancelled("the editor removed the hunk's file".into()), true);
            }
            (Ok(_), Err(e)) => cx.flash(cancelled(format!("cannot read the edited hunk back ({e})")), true),
            (Ok(_), Ok(edited)) if edited.trim().is_empty() => {
                cx.flash(cancelled("the buffer was empty".into()), false)
            }
            (Ok(_), Ok(edited)) if edited == text => cx.flash("The hunk is unchanged", false),
            (Ok(_), Ok(edited)) => {
                let lines: Vec<String> = edited.lines().map(str::to_string).collect();
                cx.state.review.edit_focused(&lines);
                cx.flash("Hunk edited and accepted: it is applied as you wrote it", false);
            }
        }
    }

    fn undo(&mut self, cx: &mut Cx) {
        if cx.engine.send(Command::Undo) {
            cx.state.review.applying = true;
        } else {
            cx.flash("Nothing to undo", false);
        }
    }
}

/// Send the decisions on the shown change set to the engine, which writes
/// and stages the accepted hunks off the loop.
fn start_apply(cx: &mut Cx) {
    let Some(answers) = cx.state.review.answers() else { return };
    let Some(id) = cx.state.review.front().map(Item::id) else { return };
    if !cx.engine.send(Command::Decide { id, answer: Answer::Changes(answers) }) {
        cx.state.error("The session has ended; the decisions cannot be applied.");
        return;
    }
    cx.state.review.applying = true;
}

/// The engine undid the last change set where it could.
fn undone(cx: &mut Cx, text: String, retry: bool) {
    cx.state.review.applying = false;
    // What was left alone stays undoable: once the user has dealt with what
    // stood in the way, the same key tries it again.
    let again = if retry {
        let key = key_for(cx.state, Action::UndoApplied);
        format!(" ({key} tries what was left alone again)")
    } else {
        String::new()
    };
    cx.state.notice(format!("Undo: {text}{again}"));
}
