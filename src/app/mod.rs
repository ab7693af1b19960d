//! The application: the one event loop, and the routing of what comes in to
//! the controller of each concern.
//!
//! Keys become named actions through the keymap. [`App`] offers each action
//! to its controllers in turn until one takes it; background work and the
//! engine's events go to the controller they belong to. The controllers:
//!
//! - `conversation`: the model, the engine, sending, cancel and retry,
//!   `/model` and `/export`;
//! - `approve`: the review desk, deciding what the model proposes, with the
//!   key guard of `guard`;
//! - `index_job`: building the repository index and keeping it up to date;
//! - `checks`: the project's test and lint runs;
//! - `session`: the journal, the audit log, resuming, `/clear`, the history
//!   file;
//! - `panes`: focus, scrolling, the help overlay, selection and copying, the
//!   composer's editing keys.
//!
//! Each owns its private fields; what the screen draws is in [`AppState`].
//! A controller is called with a `cx::Cx` and may ask work of another
//! (`cx::Ask`), which the app does once the call returns. Drawing happens
//! only when something changed, at most `frame_rate` times a second, and
//! only through `ui::Screen` (see `event_loop`).

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{Event, KeyEventKind};
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::config::keymap::{Action, Context, Lookup};
use crate::config::keys::{Key, KeySeq};
use crate::llm::Provider;
use crate::llm::select::Profile;
use crate::ui;
use crate::view::state::{AppState, Flash, Focus};
use approve::ReviewDesk;
use checks::{Checks, ChecksEvent};
use conversation::{Conversation, ConversationEvent};
use cx::Ask;
use engine_link::EngineLink;
use event_loop::Drawing;
use index_job::{IndexEvent, IndexJob};
use panes::Panes;
use session::{Session, SessionEvent, SessionSetup};

pub use conversation::ModelSource;
pub use event_loop::{Exit, Signals, run};
pub use guard::Clock;
pub use terminal::Host;

/// The context for one call into a controller, borrowed field by field so
/// that the controller itself stays free to be borrowed. Defined above the
/// `mod` lines: the controllers' modules use it too.
macro_rules! cx {
    ($app:ident) => {
        &mut $crate::app::cx::Cx {
            state: &mut $app.state,
            screen: &mut $app.screen,
            clock: &$app.clock,
            tx: &$app.tx,
            engine: &mut $app.engine,
            asks: &mut $app.asks,
        }
    };
}

mod agent_chat;
pub mod agent_metrics;
mod approve;
mod checks;
mod conversation;
mod cx;
mod engine_link;
mod event_loop;
pub(crate) mod guard;
mod index_job;
pub mod input;
mod panes;
pub mod session;
pub mod terminal;
#[cfg(test)]
mod tests;

/// Messages from background tasks to the loop, each for one controller.
pub(crate) enum AppEvent {
    Conversation(ConversationEvent),
    Session(SessionEvent),
    Index(IndexEvent),
    Checks(ChecksEvent),
}

pub struct App {
    pub state: AppState,
    /// Drawing's caches and geometry.
    screen: ui::Screen,
    /// The loop's clock, which times keys against what the screen showed.
    clock: Clock,
    tx: mpsc::UnboundedSender<AppEvent>,
    rx: mpsc::UnboundedReceiver<AppEvent>,
    /// The session's engine, once a model is chosen, and what it starts
    /// with.
    engine: EngineLink,
    /// Work a controller asked of another, done before the call returns.
    asks: Vec<Ask>,
    conversation: Conversation,
    review: ReviewDesk,
    index: IndexJob,
    checks: Checks,
    session: Session,
    panes: Panes,
    /// What changed since the last frame, and what the terminal shows.
    drawing: Drawing,
    /// The last key was an interrupt that found nothing to cancel.
    interrupt_armed: bool,
    exit: Option<Exit>,
}

impl App {
    pub fn new(state: AppState, history_file: Option<PathBuf>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let index = IndexJob::default();
        let engine = EngineLink::new(index.shared());
        Self {
            state,
            screen: ui::Screen::default(),
            clock: Clock::system(),
            tx,
            rx,
            engine,
            asks: Vec::new(),
            conversation: Conversation::default(),
            review: ReviewDesk::default(),
            index,
            checks: Checks::default(),
            session: Session::new(history_file),
            panes: Panes::default(),
            drawing: Drawing::default(),
            interrupt_armed: false,
            exit: None,
        }
    }

    /// Time keys on `clock` (a manual one for scripted input).
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Show tandem's own CPU and memory in the metrics pane (where the
    /// platform has them), read at most once a second while it is visible.
    pub fn enable_process_stats(&mut self) {
        self.drawing.process.enable();
    }

    /// Where the index is cached between runs.
    pub fn set_index_cache(&mut self, cache: Option<PathBuf>) {
        self.index.set_cache(cache);
    }

    /// The repository index, once built.
    pub fn index(&self) -> crate::index::SharedIndex {
        self.index.shared()
    }

    /// Start indexing the repository after the first frame, on threads of
    /// its own.
    pub fn start_index(&mut self) {
        self.index.start(cx!(self));
    }

    /// Give the model the real tools, with their requests for approval
    /// coming to this app, once the session's engine starts.
    pub fn enable_tools(&mut self) {
        self.engine.tools = true;
        self.checks.resolve(cx!(self));
    }

    /// Choose the model (off the loop) and start the engine with the tools
    /// set up before (none unless [`App::enable_tools`] ran).
    pub fn start_model(&mut self, source: ModelSource) {
        self.conversation.start_model(cx!(self), source);
    }

    /// Use `provider` for the conversation from now on: the session's
    /// engine starts with the first one.
    pub fn attach_agent(&mut self, provider: Arc<dyn Provider>, profile: Profile) {
        self.conversation.attach(cx!(self), provider, profile);
    }

    /// Messages sent this session.
    pub fn sent(&self) -> usize {
        self.conversation.sent()
    }

    /// What the session did, printed to the normal screen on exit.
    pub fn summary(&self) -> String {
        self.conversation.summary(&self.state)
    }

    /// Record proposals and decisions in `audit`.
    /// Tools besides tandem's own for the engine to give the model, built
    /// with the session's approvals (a server's tools, a test's tool). They
    /// join the engine that starts next, with the real tools only.
    pub fn add_tools(&mut self, tools: Vec<crate::engine::ToolMaker>) {
        self.engine.extra_tools.extend(tools);
    }

    pub fn set_audit(&mut self, audit: Option<crate::session::audit::AuditLog>) {
        self.session.set_audit(cx!(self), audit);
    }

    /// Load earlier messages for history recall off the event loop.
    pub fn load_history(&mut self) {
        self.session.load_history(cx!(self));
    }

    /// Start journaling in `setup.dir`, continuing the resumed session's
    /// journal if there is one, and show its transcript.
    pub fn start_session(&mut self, setup: SessionSetup) {
        self.session.start(cx!(self), setup);
    }

    /// The id of the session being recorded.
    pub fn session_id(&self) -> Option<&str> {
        self.session.id()
    }

    /// Wait (a moment at most) until the journal and the audit log hold
    /// everything recorded: before the process exits.
    pub fn flush_journal(&self) {
        self.session.flush();
    }

    pub fn handle_event(&mut self, ev: Event) {
        match ev {
            Event::Key(k) => {
                // Releases, and keys tandem does not bind, do nothing.
                let Some(key) = input::key_of(&k) else { return };
                // Stamped when read: at most one pass of the loop after the
                // terminal delivered it, which the guard covers.
                self.review.input(cx!(self), k.kind == KeyEventKind::Repeat);
                self.state.stats.keys += 1;
                self.state.shown_stats = self.state.stats;
                self.handle_key(key);
            }
            Event::Paste(text) => {
                self.review.input(cx!(self), false);
                self.panes.paste(cx!(self), &text);
            }
            Event::Resize(w, h) => self.screen.resize(Rect::new(0, 0, w, h)),
            _ => return,
        }
        self.settle();
        self.drawing.dirty = true;
    }

    /// A message from background work, for the controller it belongs to.
    fn handle_bg(&mut self, ev: AppEvent) {
        match ev {
            AppEvent::Conversation(ev) => self.conversation.on_event(cx!(self), ev),
            AppEvent::Session(ev) => self.session.on_event(cx!(self), ev),
            AppEvent::Index(ev) => self.index.on_event(cx!(self), ev),
            AppEvent::Checks(ev) => self.checks.on_event(cx!(self), ev),
        }
        self.settle();
    }

    /// One event of the session's engine: the agent's go to the
    /// conversation, the rest to the review desk. True when it only adds to
    /// what streams (drawn at the streaming frame rate).
    fn handle_engine(&mut self, ev: crate::engine::Event) -> bool {
        let streamed = matches!(ev, crate::engine::Event::Agent(_));
        match ev {
            crate::engine::Event::Agent(ev) => self.conversation.on_agent(cx!(self), ev),
            ev => {
                let _ = self.review.on_engine(cx!(self), ev);
            }
        }
        self.settle();
        streamed
    }

    /// Do what controllers asked of each other, in order, until nothing
    /// is left.
    fn settle(&mut self) {
        while !self.asks.is_empty() {
            for ask in std::mem::take(&mut self.asks) {
                match ask {
                    Ask::SendToModel(text) => self.conversation.send(cx!(self), text),
                    Ask::RunCheck { kind, auto } => self.checks.run(cx!(self), kind, auto),
                    Ask::AutoTest => self.checks.auto_test_if_due(cx!(self)),
                    Ask::ClearSession => self.session.clear(cx!(self)),
                    Ask::Remember(text) => self.session.remember(text),
                }
            }
        }
    }

    fn handle_key(&mut self, key: Key) {
        self.state.flash = None;
        self.review.give_focus_back(cx!(self));
        if self.review.on_key(cx!(self), &key).yes() {
            return;
        }
        let s = &mut self.state;
        let ctx = if s.overlay.is_some() { Context::Chat } else { s.focus.context() };
        s.pending.push(key);
        match s.keymap.lookup(ctx, &s.pending) {
            Lookup::Prefix => {}
            Lookup::Action(action) => {
                let keys = KeySeq(std::mem::take(&mut s.pending));
                if s.overlay.is_some() && !panes::allowed_over_overlay(action) {
                    return;
                }
                if self.review.guard_decision(cx!(self), action, &keys).yes() {
                    return;
                }
                if action != Action::Interrupt {
                    self.interrupt_armed = false;
                }
                self.perform(action);
            }
            Lookup::Unbound => {
                let typed: Vec<Key> = std::mem::take(&mut s.pending);
                self.interrupt_armed = false;
                self.panes.unbound(cx!(self), &typed);
            }
        }
    }

    /// Do `action`: the loop's own, else the first controller's that takes
    /// it.
    pub(crate) fn perform(&mut self, action: Action) {
        match action {
            Action::Quit => self.exit = Some(Exit::Quit),
            Action::Suspend => self.drawing.suspend = true,
            Action::Redraw => self.drawing.full_redraw = true,
            Action::Cancel | Action::Interrupt => self.cancel(action == Action::Interrupt),
            _ => {
                let _ = self.panes.on_action(cx!(self), action).yes()
                    || self.conversation.on_action(cx!(self), action).yes()
                    || self.review.on_action(cx!(self), action).yes();
            }
        }
        self.settle();
        self.drawing.dirty = true;
    }

    /// Cancel closes or deselects, else stops the turn or the check running.
    /// Interrupt does the same, else clears the composer (into history),
    /// else arms itself: pressed again with nothing to cancel, it quits.
    fn cancel(&mut self, interrupt: bool) {
        if self.panes.close(cx!(self)).yes()
            || self.conversation.cancel_turn(cx!(self))
            || self.checks.cancel(cx!(self))
            || !interrupt
        {
            return;
        }
        let s = &mut self.state;
        let flash = if s.focus == Focus::Composer && !s.composer.is_empty() {
            s.composer.stash();
            "Cleared; the text is in history (Up brings it back)".to_string()
        } else if self.interrupt_armed {
            self.exit = Some(Exit::Quit);
            return;
        } else {
            self.interrupt_armed = true;
            let key = s.keymap.key_label(Context::Global, Action::Interrupt);
            let quit = s.keymap.key_label(Context::Global, Action::Quit);
            format!("Nothing to cancel: {key} again or {quit} quits")
        };
        s.flash = Some(Flash { text: flash, error: false });
    }

    /// Draw one frame. Returns the cursor position, if the cursor shows.
    pub fn render(&mut self, frame: &mut ratatui::Frame) -> Option<ratatui::layout::Position> {
        self.screen.render(frame, &mut self.state)
    }

    pub fn exit(&self) -> Option<Exit> {
        self.exit
    }

    /// No turn running, no provider being chosen, no index being built or
    /// updated, no check running or being looked up.
    pub(crate) fn idle(&self) -> bool {
        // A turn waiting for the user's review is idle: only a key moves it.
        (!self.state.model.busy() || !self.state.review.is_empty())
            && !self.state.model.choosing
            && !self.state.review.applying
            && !self.index.busy()
            && self.state.checks.running.is_none()
            && !self.checks.busy()
            && !matches!(self.state.index.status, crate::view::state::IndexStatus::Building { .. })
    }
}
