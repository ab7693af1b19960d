//! The app's session journal: recording what happens, resuming an earlier
//! session, and `/clear`.

use std::path::PathBuf;

use super::App;
use crate::engine::Command;
use crate::llm::ChatMessage;
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

impl App {
    /// Start journaling in `setup.dir`, continuing the resumed session's
    /// journal if there is one, and show its transcript.
    pub fn start_session(&mut self, setup: SessionSetup) {
        self.journal_dir = setup.dir;
        match setup.resume {
            Some((id, entries)) => {
                self.journal = self.journal_dir.as_deref().map(|d| Journal::open(d, &id, None));
                self.share_journal();
                self.state.transcript.extend(transcript(&entries));
                let conversation = journal::conversation(&entries);
                let turns = conversation.iter().filter(|m| matches!(m, ChatMessage::User { .. })).count();
                self.state.notice(format!(
                    "Resumed session {id} ({turns} message{} sent before); the model has its conversation.",
                    if turns == 1 { "" } else { "s" }
                ));
                self.resumed = Some(conversation);
                // An agent already running gets it now, a later one when
                // it starts.
                self.send_resumed();
            }
            None => self.new_journal(),
        }
    }

    /// Start recording a new session: in a journal of its own, written by
    /// the same writer as the last one's (after what it had left to write).
    /// The engine, once it runs, writes the journal; the app keeps a handle
    /// on the same writer, for its id and to flush it at exit.
    fn new_journal(&mut self) {
        let Some(dir) = self.journal_dir.as_deref() else { return };
        let id = journal::new_id();
        let header = Entry::SessionStarted {
            id: id.clone(),
            root: self.state.repo.root.clone(),
            time: crate::session::utc_now(),
            model: String::new(),
        };
        match &mut self.journal {
            Some(j) => j.restart(&id, Some(header)),
            None => self.journal = Some(Journal::open(dir, &id, Some(header))),
        }
        self.share_journal();
    }

    /// The engine, once it runs, records the session: in the journal the
    /// app opened; the app keeps a handle on the same writer, for its id and
    /// to flush it at exit.
    fn share_journal(&self) {
        if let Some(j) = &self.journal {
            self.to_engine(Command::UseJournal(j.clone()));
        }
    }

    /// The id of the session being recorded.
    pub fn session_id(&self) -> Option<&str> {
        self.journal.as_ref().map(|j| j.id())
    }

    /// Give a newly started agent the resumed conversation.
    pub(super) fn send_resumed(&mut self) {
        if self.engine.is_none() {
            return;
        }
        if let Some(conversation) = self.resumed.take() {
            self.to_engine(Command::Reset(conversation));
        }
    }

    /// `/clear`: a new session, with an empty chat and conversation.
    pub(super) fn clear_session(&mut self) {
        if self.state.model.busy() {
            self.state.error("The model is busy; stop its turn first, then /clear.");
            return;
        }
        self.new_journal();
        self.resumed = None;
        self.state.transcript.clear();
        self.to_engine(Command::Reset(Vec::new()));
        let id = self.session_id().map_or(String::new(), |id| format!(" {id}"));
        self.state.notice(format!("New session{id}: the model starts from an empty conversation."));
    }

    /// Write what is still queued for the journal, before the process ends.
    /// Wait (a moment at most) until the journal and the audit log hold
    /// everything recorded: before the process exits.
    pub fn flush_journal(&self) {
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
