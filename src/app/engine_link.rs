//! The session's engine as the controllers reach it: the running engine's
//! handle and events, and what the next one starts with (the index, the
//! tools, the audit log, the journal, a resumed conversation).
//!
//! The conversation starts the engine; any controller may send it commands.
//! The loop reads its events and routes them: the agent's to the
//! conversation, the rest to the review desk.

use std::sync::Arc;

use crate::engine::{Command, Event, Events, Handle, Setup};
use crate::index::SharedIndex;
use crate::llm::select::Profile;
use crate::llm::{ChatMessage, Provider};
use crate::session::audit::AuditLog;
use crate::session::journal::Journal;

#[derive(Default)]
pub(crate) struct EngineLink {
    handle: Option<Handle>,
    events: Option<Events>,
    /// The engine gives the model the real tools (`App::enable_tools`).
    pub tools: bool,
    /// Tools besides tandem's own (`App::add_tools`).
    pub extra_tools: Vec<crate::engine::ToolMaker>,
    /// The repository index the engine maps for each request.
    index: SharedIndex,
    /// Where proposals and decisions are recorded.
    pub audit: Option<AuditLog>,
    /// The journal the engine writes: the session controller's.
    journal: Option<Journal>,
    /// A resumed conversation, for the engine once it starts.
    resumed: Option<Vec<ChatMessage>>,
    /// Commands kept for a test to read, as if an engine ran.
    #[cfg(test)]
    recorded: Option<Vec<Command>>,
}

impl EngineLink {
    /// No engine yet; the one that starts maps `index`.
    pub fn new(index: SharedIndex) -> Self {
        Self { index, ..Self::default() }
    }

    /// A link that keeps every command for the test to read, as if an
    /// engine had started.
    #[cfg(test)]
    pub(crate) fn recording() -> Self {
        Self { recorded: Some(Vec::new()), ..Self::default() }
    }

    /// The commands sent since the last call (a recording link only).
    #[cfg(test)]
    pub(crate) fn take_sent(&mut self) -> Vec<Command> {
        self.recorded.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The engine was started (it may have ended since).
    pub(crate) fn started(&self) -> bool {
        #[cfg(test)]
        if self.recorded.is_some() {
            return true;
        }
        self.handle.is_some()
    }

    /// Send `command` to the engine; false when none runs.
    pub(crate) fn send(&mut self, command: Command) -> bool {
        #[cfg(test)]
        if let Some(sent) = self.recorded.as_mut() {
            sent.push(command);
            return true;
        }
        self.handle.as_ref().is_some_and(|e| e.send(command).is_ok())
    }

    /// Start the session's engine with `setup` and what this link holds for
    /// it, then give it the resumed conversation, if there is one.
    pub(crate) fn start(&mut self, mut setup: Setup, provider: Arc<dyn Provider>, profile: Profile) {
        setup.index = Some(self.index.clone());
        setup.tools = self.tools;
        setup.extra_tools.extend(self.extra_tools.iter().cloned());
        setup.audit = self.audit.clone();
        setup.journal = self.journal.clone();
        let (engine, events) = crate::engine::spawn(setup, provider, profile);
        self.handle = Some(engine);
        self.events = Some(events);
        if let Some(conversation) = self.resumed.take() {
            self.send(Command::Reset(conversation));
        }
    }

    /// The engine records the session in `journal`: from its start, or
    /// from now on if it runs.
    pub(crate) fn use_journal(&mut self, journal: &Journal) {
        self.journal = Some(journal.clone());
        if self.started() {
            self.send(Command::UseJournal(journal.clone()));
        }
    }

    /// Give the engine an earlier session's conversation: now if it runs,
    /// else when it starts.
    pub(crate) fn resume(&mut self, conversation: Vec<ChatMessage>) {
        self.resumed = Some(conversation);
        if self.started()
            && let Some(conversation) = self.resumed.take()
        {
            self.send(Command::Reset(conversation));
        }
    }

    /// Drop a resumed conversation the engine has not had yet.
    pub(crate) fn forget_resumed(&mut self) {
        self.resumed = None;
    }

    /// An event that has arrived already, if any.
    pub(crate) fn try_event(&mut self) -> Option<Event> {
        self.events.as_mut().and_then(|rx| rx.try_recv().ok())
    }

    /// The engine's next event; never resolves while no engine runs.
    pub(crate) async fn next_event(&mut self) -> Option<Event> {
        match self.events.as_mut() {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
    }
}
