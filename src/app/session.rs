//! The session: the journal that records it, resuming an earlier one,
//! `/clear`, the audit log, and the history file that composer recall reads
//! and every sent message is added to.
//!
//! It owns the journal and audit log handles (the engine writes them; the
//! session keeps a handle for the id and to flush them at exit), the
//! journals' directory and the history file. It answers [`SessionEvent`]s
//! and the asks to clear the session and to remember a sent message.

use std::path::PathBuf;

use super::AppEvent;
use super::cx::Cx;
use crate::engine::Command;
use crate::llm::ChatMessage;
use crate::session::audit::AuditLog;
use crate::session::journal::{self, Entry, Journal};
use crate::view::state::{Message, MsgStatus, Role};

/// Where this app keeps its journal, and the session it resumes.
pub struct SessionSetup {
    /// The repository's sessions directory (`None`: no data directory, no
    /// journal).
    pub dir: Option<PathBuf>,
    /// A session to resume: its id and entries.
    pub resume: Option<(String, Vec<Entry>)>,
}

/// What the session's background work reports.
#[derive(Debug)]
pub(crate) enum SessionEvent {
    /// Earlier sessions' messages, for history recall.
    History(Vec<String>),
}

impl From<SessionEvent> for AppEvent {
    fn from(ev: SessionEvent) -> Self {
        AppEvent::Session(ev)
    }
}

#[derive(Default)]
pub(crate) struct Session {
    /// Where sent messages are kept for recall.
    history_file: Option<PathBuf>,
    /// The session journal being written, and the directory of this
    /// repository's journals.
    journal: Option<Journal>,
    journal_dir: Option<PathBuf>,
    /// Where proposals and decisions are recorded.
    audit: Option<AuditLog>,
}

impl Session {
    pub fn new(history_file: Option<PathBuf>) -> Self {
        Self { history_file, ..Self::default() }
    }

    /// Load earlier messages for history recall off the event loop.
    pub fn load_history(&self, cx: &mut Cx) {
        let Some(path) = self.history_file.clone() else { return };
        let tx = cx.sender();
        let limit = cx.state.config.composer.history_size;
        tokio::task::spawn_blocking(move || {
            let entries = crate::view::history::read(&path, limit);
            let _ = tx.send(SessionEvent::History(entries).into());
        });
    }

    pub(crate) fn on_event(&mut self, cx: &mut Cx, ev: SessionEvent) {
        match ev {
            SessionEvent::History(entries) => {
                // Messages sent before the file was read come after it.
                let mut all = entries;
                all.extend(cx.state.composer.history().iter().cloned());
                cx.state.composer.set_history(all);
            }
        }
    }

    /// Keep a sent message in the history file, off the loop.
    pub(crate) fn remember(&self, text: String) {
        if let Some(path) = self.history_file.clone() {
            tokio::task::spawn_blocking(move || crate::view::history::append(&path, &text));
        }
    }

    /// Record proposals and decisions in `audit`, from the engine's start.
    pub fn set_audit(&mut self, cx: &mut Cx, audit: Option<AuditLog>) {
        cx.engine.audit = audit.clone();
        self.audit = audit;
    }

    /// Start journaling in `setup.dir`, continuing the resumed session's
    /// journal if there is one, and show its transcript.
    pub(crate) fn start(&mut self, cx: &mut Cx, setup: SessionSetup) {
        self.journal_dir = setup.dir;
        match setup.resume {
            Some((id, entries)) => {
                self.journal = self.journal_dir.as_deref().map(|d| Journal::open(d, &id, None));
                self.share_journal(cx);
                cx.state.transcript.extend(transcript(&entries));
                let conversation = journal::conversation(&entries);
                let turns = conversation.iter().filter(|m| matches!(m, ChatMessage::User { .. })).count();
                cx.state.notice(format!(
                    "Resumed session {id} ({turns} message{} sent before); the model has its conversation.",
                    if turns == 1 { "" } else { "s" }
                ));
                // An engine already running gets it now, a later one when
                // it starts.
                cx.engine.resume(conversation);
            }
            None => self.new_journal(cx),
        }
    }

    /// Start recording a new session: in a journal of its own, written by
    /// the same writer as the last one's (after what it had left to write).
    fn new_journal(&mut self, cx: &mut Cx) {
        let Some(dir) = self.journal_dir.as_deref() else { return };
        let id = journal::new_id();
        let header = Entry::SessionStarted {
            id: id.clone(),
            root: cx.state.repo.root.clone(),
            time: crate::session::utc_now(),
            model: String::new(),
        };
        match &mut self.journal {
            Some(j) => j.restart(&id, Some(header)),
            None => self.journal = Some(Journal::open(dir, &id, Some(header))),
        }
        self.share_journal(cx);
    }

    /// The engine, once it runs, records the session: in the journal the
    /// session opened; the session keeps a handle on the same writer, for
    /// its id and to flush it at exit.
    fn share_journal(&self, cx: &mut Cx) {
        if let Some(j) = &self.journal {
            cx.engine.use_journal(j);
        }
    }

    /// The id of the session being recorded.
    pub(crate) fn id(&self) -> Option<&str> {
        self.journal.as_ref().map(|j| j.id())
    }

    /// `/clear`: a new session, with an empty chat and conversation.
    pub(crate) fn clear(&mut self, cx: &mut Cx) {
        if cx.state.model.busy() {
            cx.state.error("The model is busy; stop its turn first, then /clear.");
            return;
        }
        self.new_journal(cx);
        cx.engine.forget_resumed();
        cx.state.transcript.clear();
        cx.engine.send(Command::Reset(Vec::new()));
        let id = self.id().map_or(String::new(), |id| format!(" {id}"));
        cx.state.notice(format!("New session{id}: the model starts from an empty conversation."));
    }

    /// Wait (a moment at most) until the journal and the audit log hold
    /// everything recorded: before the process exits.
    pub fn flush(&self) {
        if let Some(j) = &self.journal {
            j.flush(std::time::Duration::from_secs(2));
        }
        if let Some(a) = &self.audit {
            a.flush(std::time::Duration::from_secs(2));
        }
    }
}

/// The chat of a journal, as the app shows it.
fn transcript(entries: &[Entry]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    for e in entries {
        match e {
            Entry::User { text } => out.push(Message::new(Role::User, text.clone())),
            Entry::Assistant { text } if !text.is_empty() => out.push(Message::new(Role::Assistant, text.clone())),
            Entry::ToolCall { id, name, .. } => {
                let mut m = Message::new(Role::Tool, format!("… {name}"));
                m.call_id = id.clone();
                m.status = MsgStatus::Broken;
                out.push(m);
            }
            Entry::ToolResult { id, ok, output } => {
                if let Some(m) = out.iter_mut().rev().find(|m| m.role == Role::Tool && m.call_id == *id) {
                    let name = m.text.trim_start_matches("… ").to_string();
                    let first = output.lines().next().unwrap_or("");
                    m.text = format!("{} {name}: {first}", if *ok { "✓" } else { "✗" });
                    m.detail = output.clone();
                    m.status = if *ok { MsgStatus::Done } else { MsgStatus::Broken };
                }
            }
            _ => {}
        }
    }
    out
}
