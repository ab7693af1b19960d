//! The application: state, the one event loop, and what each action does.
//!
//! Keys become named actions through the keymap; actions change state or ask
//! background tasks for work. Drawing happens only when something changed,
//! at most `frame_rate` times a second.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::Event;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::config;
use crate::config::keymap::{Action, Context, Lookup};
use crate::config::keys::Key;
use crate::llm::Provider;
use crate::llm::select::Profile;
use crate::ui;
use crate::view::state::{AppState, Flash, Focus, Overlay, Pane, Role};
use approve::ReviewDesk;
use checks::{Checks, ChecksEvent};
pub use conversation::ModelSource;
use conversation::{Conversation, ConversationEvent};
use cx::Ask;
use engine_link::EngineLink;
use event_loop::Drawing;
pub use event_loop::{Exit, Signals, run};
pub use guard::Clock;
use index_job::{IndexEvent, IndexJob};
use session::{Session, SessionEvent, SessionSetup};
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
pub mod guard;
mod index_job;
pub mod input;
pub mod session;
pub mod terminal;
#[cfg(test)]
mod tests;

/// Messages from background tasks to the loop.
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
    /// What changed since the last frame, and what the terminal shows.
    drawing: Drawing,
    /// The last key was an interrupt that found nothing to cancel.
    interrupt_armed: bool,
    exit: Option<Exit>,
    /// Text to put on the clipboard with the next frame.
    clipboard: Option<String>,
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
            drawing: Drawing::default(),
            interrupt_armed: false,
            exit: None,
            clipboard: None,
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

    fn flash(&mut self, text: impl Into<String>, error: bool) {
        self.state.flash = Some(Flash { text: text.into(), error });
    }

    pub fn handle_event(&mut self, ev: Event) {
        match ev {
            Event::Key(k) => {
                if let Some(key) = input::key_of(&k) {
                    // Stamped when read: at most one pass of the loop after
                    // the terminal delivered it, which the guard covers.
                    self.review.input(cx!(self), k.kind == crossterm::event::KeyEventKind::Repeat);
                    self.state.stats.keys += 1;
                    self.state.shown_stats = self.state.stats;
                    self.handle_key(key);
                    self.drawing.dirty = true;
                }
            }
            Event::Paste(text) => {
                self.review.input(cx!(self), false);
                self.state.focus = Focus::Composer;
                self.state.composer.insert_str(&text);
                self.drawing.dirty = true;
            }
            Event::Resize(w, h) => {
                self.screen.resize(Rect::new(0, 0, w, h));
                self.drawing.dirty = true;
            }
            _ => {}
        }
        self.settle();
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
    /// conversation, the rest to the review desk. True when it only adds to what streams (drawn at the
    /// streaming frame rate).
    fn handle_engine(&mut self, ev: crate::engine::Event) -> bool {
        use crate::engine::Event as E;
        let streamed = matches!(ev, E::Agent(_));
        match ev {
            E::Agent(ev) => self.conversation.on_agent(cx!(self), ev),
            ev => {
                let _ = self.review.on_engine(cx!(self), ev);
            }
        }
        self.settle();
        streamed
    }

    fn handle_key(&mut self, key: Key) {
        self.state.flash = None;
        self.review.give_focus_back(cx!(self));
        if self.review.on_key(cx!(self), &key).yes() {
            return;
        }
        let ctx = if self.state.overlay.is_some() { Context::Chat } else { self.state.focus.context() };
        self.state.pending.push(key);
        let lookup = self.state.keymap.lookup(ctx, &self.state.pending);
        match lookup {
            Lookup::Prefix => return,
            Lookup::Action(action) => {
                let keys = config::keys::KeySeq(std::mem::take(&mut self.state.pending));
                if self.state.overlay.is_some() && !allowed_over_overlay(action) {
                    return;
                }
                if self.review.screen_key(cx!(self), action, &keys).yes() {
                    return;
                }
                if action != Action::Interrupt {
                    self.interrupt_armed = false;
                }
                self.perform(action);
                return;
            }
            Lookup::Unbound => {}
        }
        let typed: Vec<Key> = std::mem::take(&mut self.state.pending);
        self.interrupt_armed = false;
        if self.state.overlay.is_some() {
            return;
        }
        if typed.len() > 1 {
            let keys: Vec<String> = typed.iter().map(|k| k.to_string()).collect();
            self.flash(format!("{} is not bound", keys.join(" ")), true);
            return;
        }
        match (self.state.focus, input::typed_char(&key)) {
            (Focus::Composer, Some(c)) => self.state.composer.insert_char(c),
            _ => {
                let help = self.state.keymap.key_label(Context::Global, Action::Help);
                self.flash(
                    format!("{key} does nothing in the {} — {help} lists the keys", self.state.focus.label()),
                    false,
                );
            }
        }
    }

    /// Rows visible in the pane that scroll actions apply to.
    fn page(&self, pane: Pane) -> usize {
        self.screen.page(&self.state, pane)
    }

    fn scroll(&mut self, action: Action) {
        if let Some(Overlay::Help { scroll }) = self.state.overlay {
            let (page, max) = self.screen.help_scroll(&self.state);
            let next = step(scroll, action, page, max, false);
            self.state.overlay = Some(Overlay::Help { scroll: next });
            return;
        }
        let pane = self.state.focus.pane();
        let page = self.page(pane);
        match pane {
            Pane::Chat => {
                let max = self.screen.chat(&self.state).total().saturating_sub(page);
                let s = &mut self.state.chat_scroll;
                s.from_bottom = step(s.from_bottom, action, page, max, true);
            }
            Pane::Diff => {
                self.state.review.scroll = step(self.state.review.scroll, action, page, usize::MAX / 2, false)
            }
            Pane::Metrics => {
                let max = self.screen.metrics_max_scroll(&self.state, page);
                self.state.metrics_top = step(self.state.metrics_top.min(max), action, page, max, false);
            }
        }
    }

    fn cycle_focus(&mut self, forward: bool) {
        let order = Focus::CYCLE;
        let i = order.iter().position(|f| *f == self.state.focus).unwrap_or(0);
        let n = order.len();
        self.state.focus = order[if forward { (i + 1) % n } else { (i + n - 1) % n }];
    }

    pub fn perform(&mut self, action: Action) {
        let s = &mut self.state;
        match action {
            Action::Quit => self.exit = Some(Exit::Quit),
            Action::Cancel | Action::Interrupt => self.cancel(action == Action::Interrupt),
            Action::Help => {
                s.overlay = match s.overlay {
                    Some(Overlay::Help { .. }) => None,
                    None => Some(Overlay::Help { scroll: 0 }),
                };
            }
            Action::FocusNext => self.cycle_focus(true),
            Action::FocusPrev => self.cycle_focus(false),
            Action::FocusChat => s.focus = Focus::Chat,
            Action::FocusDiff => s.focus = Focus::Diff,
            Action::FocusMetrics => s.focus = Focus::Metrics,
            Action::FocusComposer => s.focus = Focus::Composer,
            Action::Zoom => s.zoomed = !s.zoomed,
            Action::Suspend => self.drawing.suspend = true,
            Action::Redraw => self.drawing.full_redraw = true,
            Action::Submit | Action::Retry => {
                let _ = self.conversation.on_action(cx!(self), action);
            }
            Action::CopyAnswer => {
                let answer = self.selected_or_last_answer();
                self.copy(answer, "answer");
            }
            Action::CopyCode => {
                let code = self.selected_or_visible_code_block();
                self.copy(code, "code block");
            }
            Action::ToggleDetails => match s.selected.and_then(|i| s.transcript.get_mut(i)) {
                Some(m) if m.role == Role::Tool => {
                    m.expanded = !m.expanded;
                    m.rev += 1;
                }
                _ => {
                    s.show_details = !s.show_details;
                    self.screen.forget_chat();
                }
            },
            Action::SelectPrev | Action::SelectNext => self.select(action == Action::SelectNext),
            Action::InsertNewline => s.composer.insert_newline(),
            Action::HistoryPrev => s.composer.up_or_history(),
            Action::HistoryNext => s.composer.down_or_history(),
            Action::CursorLeft => s.composer.left(),
            Action::CursorRight => s.composer.right(),
            Action::CursorWordLeft => s.composer.word_left(),
            Action::CursorWordRight => s.composer.word_right(),
            Action::CursorLineStart => s.composer.line_start(),
            Action::CursorLineEnd => s.composer.line_end(),
            Action::DeleteBack => s.composer.delete_back(),
            Action::DeleteForward => s.composer.delete_forward(),
            Action::DeleteWordBack => s.composer.delete_word_back(),
            Action::DeleteToLineStart => s.composer.delete_to_line_start(),
            Action::DeleteToLineEnd => s.composer.delete_to_line_end(),
            Action::ClearComposer => s.composer.clear(),
            Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown
            | Action::ScrollTop
            | Action::ScrollBottom => self.scroll(action),
            Action::AcceptHunk
            | Action::RejectHunk
            | Action::RejectWithReason
            | Action::AcceptFile
            | Action::RejectFile
            | Action::AcceptAll
            | Action::RejectAll
            | Action::NextHunk
            | Action::PrevHunk
            | Action::NextFile
            | Action::PrevFile
            | Action::SplitHunk
            | Action::EditHunk
            | Action::ApplyDecisions
            | Action::UndoApplied
            | Action::AlwaysAllow
            | Action::CyclePolicy => {
                let _ = self.review.on_action(cx!(self), action);
            }
        }
        self.settle();
        self.drawing.dirty = true;
    }

    fn cancel(&mut self, interrupt: bool) {
        if self.state.overlay.take().is_some() {
            return;
        }
        if self.state.selected.take().is_some() {
            return;
        }
        if self.conversation.cancel_turn(cx!(self)) || self.checks.cancel(cx!(self)) {
            return;
        }
        let s = &mut self.state;
        if !interrupt {
            return;
        }
        if s.focus == Focus::Composer && !s.composer.is_empty() {
            s.composer.stash();
            let flash = "Cleared; the text is in history (Up brings it back)";
            self.flash(flash, false);
            return;
        }
        if self.interrupt_armed {
            self.exit = Some(Exit::Quit);
            return;
        }
        self.interrupt_armed = true;
        let key = self.state.keymap.key_label(Context::Global, Action::Interrupt);
        let quit = self.state.keymap.key_label(Context::Global, Action::Quit);
        self.flash(format!("Nothing to cancel: {key} again or {quit} quits"), false);
    }

    /// Move the selection to the previous or next message, and into view.
    fn select(&mut self, next: bool) {
        let n = self.state.transcript.len();
        if n == 0 {
            return;
        }
        let i = match (self.state.selected, next) {
            (None, _) => n - 1,
            (Some(i), true) => (i + 1).min(n - 1),
            (Some(i), false) => i.saturating_sub(1),
        };
        self.state.selected = Some(i);
        let page = self.page(Pane::Chat);
        let scroll = self.state.chat_scroll;
        let lines = self.screen.chat(&self.state);
        let (rows, view, total) = (lines.rows_of(i), lines.view(page, scroll), lines.total());
        if rows.start < view.start || rows.end > view.end {
            // Put the message's first row at the top of the pane.
            let end = (rows.start + page).min(total);
            self.state.chat_scroll.from_bottom = total - end;
            self.state.chat_scroll.follow_top = None;
        }
    }

    /// The selected message's text if it is an answer, else the last answer.
    fn selected_or_last_answer(&self) -> Option<String> {
        match self.state.selected.and_then(|i| self.state.transcript.get(i)) {
            Some(m) if m.role == Role::Assistant => Some(m.text.clone()),
            _ => self.state.transcript.iter().rev().find(|m| m.role == Role::Assistant).map(|m| m.text.clone()),
        }
    }

    /// The last code block of the selected answer, or else of the last
    /// answer in view.
    fn selected_or_visible_code_block(&mut self) -> Option<String> {
        let height = self.page(Pane::Chat);
        let last = match self.state.selected {
            Some(i) if i < self.state.transcript.len() => i,
            _ => self.screen.chat(&self.state).last_visible_message(height, self.state.chat_scroll)?,
        };
        self.state.transcript[..=last]
            .iter()
            .rev()
            .filter(|m| m.role == Role::Assistant)
            .find_map(|m| code_blocks(&m.text).pop())
    }

    fn copy(&mut self, text: Option<String>, what: &str) {
        match text {
            Some(t) if !t.is_empty() => {
                self.flash(format!("Copied {what} ({} characters) to the clipboard", t.chars().count()), false);
                self.clipboard = Some(t);
            }
            _ => self.flash(format!("There is no {what} to copy"), true),
        }
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
    pub fn idle(&self) -> bool {
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

/// While the help overlay is open, keys only scroll or close it (or leave).
fn allowed_over_overlay(action: Action) -> bool {
    matches!(
        action,
        Action::Help
            | Action::Cancel
            | Action::Interrupt
            | Action::Quit
            | Action::Suspend
            | Action::Redraw
            | Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown
            | Action::ScrollTop
            | Action::ScrollBottom
    )
}

/// A scroll position after `action`. `from_bottom` positions grow upwards.
fn step(pos: usize, action: Action, page: usize, max: usize, from_bottom: bool) -> usize {
    let delta = match action {
        Action::ScrollUp | Action::ScrollDown => 1,
        Action::PageUp | Action::PageDown => page,
        Action::HalfPageUp | Action::HalfPageDown => (page / 2).max(1),
        Action::ScrollTop => return if from_bottom { max } else { 0 },
        Action::ScrollBottom => return if from_bottom { 0 } else { max },
        _ => return pos,
    };
    let up = matches!(action, Action::ScrollUp | Action::PageUp | Action::HalfPageUp);
    let grow = up == from_bottom;
    if grow { (pos + delta).min(max) } else { pos.saturating_sub(delta) }
}

/// The fenced and indented code blocks of a markdown text, in order, for
/// copying.
fn code_blocks(text: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for ev in Parser::new(text) {
        match ev {
            Event::Start(Tag::CodeBlock(_)) => current = Some(String::new()),
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    // A block still streaming has no end yet.
    out.extend(current);
    out
}
