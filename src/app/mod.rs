//! The application: state, the one event loop, and what each action does.
//!
//! Keys become named actions through the keymap; actions change state or ask
//! background tasks for work. Drawing happens only when something changed,
//! at most `frame_rate` times a second.

pub mod agent_metrics;
mod approve;
mod checks;
pub mod guard;
pub mod index_job;
pub mod input;
pub mod model;
pub mod session;
pub mod terminal;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::Event;
use futures::{FutureExt, Stream, StreamExt};
use ratatui::Terminal;
use ratatui::layout::Rect;
use tokio::sync::mpsc;

use crate::config;
use crate::config::keymap::{Action, Context, Lookup};
use crate::config::keys::Key;
use crate::ui;
use crate::view::state::{AppState, Flash, Focus, Overlay, Pane, Role};
pub use guard::Clock;
pub use terminal::Host;

/// Messages from background tasks to the loop.
pub enum AppEvent {
    /// Earlier sessions' messages, for history recall.
    History(Vec<String>),
    /// The provider chosen at start-up, or why there is none.
    ModelChosen(crate::llm::select::Choice),
    /// `/model` built the provider asked for, or says why not.
    ModelSwitched(crate::llm::select::Built),
    /// `/export` finished: the file written, or what went wrong.
    Exported(Result<PathBuf, String>),
    IndexProgress {
        done: usize,
        total: usize,
    },
    /// The index is built (and in `App::index`), or why not.
    IndexReady(Result<crate::index::IndexStats, String>),
    /// Files changed on disk (from the watcher).
    FilesChanged(Vec<PathBuf>),
    /// The index took in changed files.
    IndexUpdated {
        stats: crate::index::IndexStats,
        files: usize,
        elapsed: Duration,
    },
    /// The test and lint commands, looked up at start-up.
    ChecksResolved(crate::checks::Commands),
    /// A test or lint run looked its command up; it runs now unless
    /// `commands` has none for `kind`. `auto` when auto_test started it.
    CheckStarted {
        kind: crate::checks::Kind,
        auto: bool,
        commands: crate::checks::Commands,
    },
    /// A test or lint run ended; `auto` when auto_test started it.
    CheckDone {
        outcome: crate::checks::Outcome,
        auto: bool,
    },
}

/// Most often tandem's CPU and memory are read.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Why the loop should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(&'static str),
    InputClosed,
}

pub struct App {
    pub state: AppState,
    /// Drawing's caches and geometry.
    screen: ui::Screen,
    /// Something the user did changed the screen: draw within a frame.
    dirty: bool,
    /// Only background work (streamed text) changed it: draw at the lower
    /// streaming rate, which is what keeps a streamed answer cheap.
    dirty_bg: bool,
    /// The next frame must repaint every cell (after suspend or redraw).
    full_redraw: bool,
    /// The last key was an interrupt that found nothing to cancel.
    interrupt_armed: bool,
    suspend: bool,
    exit: Option<Exit>,
    history_file: Option<PathBuf>,
    tx: mpsc::UnboundedSender<AppEvent>,
    rx: mpsc::UnboundedReceiver<AppEvent>,
    /// Messages sent this session.
    pub sent: usize,
    /// The directory tandem was started in (for AGENTS.md and /export).
    pub cwd: PathBuf,
    /// The session's engine, once a model is chosen, and its events.
    engine: Option<crate::engine::Handle>,
    engine_events: Option<crate::engine::Events>,
    /// The engine gives the model the real tools (`enable_tools`).
    tools_enabled: bool,
    /// Text to put on the clipboard with the next frame.
    clipboard: Option<String>,
    cursor: CursorState,
    /// The repository index, once built.
    pub index: crate::index::SharedIndex,
    /// Where the index is cached between runs.
    pub index_cache: Option<PathBuf>,
    index_started: Option<Instant>,
    watcher: Option<crate::index::WatchHandle>,
    index_updating: bool,
    pending_changes: Vec<PathBuf>,
    /// Where proposals and decisions are recorded.
    pub audit: Option<crate::session::audit::AuditLog>,
    /// The focused hunk is to be edited in $EDITOR before the next frame.
    edit_request: bool,
    /// Reads tandem's CPU and memory while the metrics pane shows them.
    process: Option<crate::metrics::process::Sampler>,
    last_sample: Option<Instant>,
    /// The session journal being written, and the directory of this
    /// repository's journals.
    journal: Option<crate::session::journal::Journal>,
    journal_dir: Option<PathBuf>,
    /// A resumed conversation, for the agent once it starts.
    resumed: Option<Vec<crate::llm::ChatMessage>>,
    /// Stops the test or lint run in progress.
    check_cancel: Option<tokio_util::sync::CancellationToken>,
    /// Where the running check's message is in the chat.
    check_msg: Option<usize>,
    /// The test and lint commands are being looked up (at start-up).
    resolving_checks: bool,
    /// The loop's clock, which times keys against what the screen showed.
    clock: Clock,
    /// Keeps keys typed ahead from deciding reviews.
    guard: guard::KeyGuard,
}

impl App {
    pub fn new(state: AppState, history_file: Option<PathBuf>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            state,
            screen: ui::Screen::default(),
            dirty: true,
            dirty_bg: false,
            full_redraw: false,
            interrupt_armed: false,
            suspend: false,
            exit: None,
            history_file,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            tx,
            rx,
            sent: 0,
            engine: None,
            engine_events: None,
            tools_enabled: false,
            clipboard: None,
            cursor: CursorState::Unknown,
            index: Default::default(),
            index_cache: None,
            index_started: None,
            watcher: None,
            index_updating: false,
            pending_changes: Vec::new(),
            audit: None,
            edit_request: false,
            process: None,
            last_sample: None,
            journal: None,
            journal_dir: None,
            resumed: None,
            check_cancel: None,
            check_msg: None,
            resolving_checks: false,
            clock: Clock::system(),
            guard: Default::default(),
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
        self.process = crate::metrics::process::Sampler::new();
    }

    /// When the next reading of CPU and memory is due: only with a sampler,
    /// and while the metrics pane is on screen.
    fn sample_due(&self) -> Option<tokio::time::Instant> {
        self.process.as_ref()?;
        if self.state.overlay.is_some() || self.plan().metrics.is_none() {
            return None;
        }
        let at = self.last_sample.map_or_else(Instant::now, |t| t + SAMPLE_EVERY);
        Some(tokio::time::Instant::from_std(at))
    }

    /// Read CPU and memory; redraw only if what the pane shows changed.
    fn sample_process(&mut self) {
        let now = Instant::now();
        self.last_sample = Some(now);
        let Some(sampler) = self.process.as_mut() else { return };
        let sample = sampler.sample(now);
        if sample.map(|s| s.shown()) != self.state.metrics.process.map(|s| s.shown()) {
            self.dirty_bg = true;
        }
        self.state.metrics.process = sample;
    }

    /// Load earlier messages for history recall off the event loop.
    pub fn load_history(&self) {
        let Some(path) = self.history_file.clone() else { return };
        let tx = self.tx.clone();
        let limit = self.state.config.composer.history_size;
        tokio::task::spawn_blocking(move || {
            let entries = crate::view::history::read(&path, limit);
            let _ = tx.send(AppEvent::History(entries));
        });
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
                    self.guard.input(self.clock.now(), k.kind == crossterm::event::KeyEventKind::Repeat);
                    self.state.stats.keys += 1;
                    self.state.shown_stats = self.state.stats;
                    self.handle_key(key);
                    self.dirty = true;
                }
            }
            Event::Paste(text) => {
                self.guard.input(self.clock.now(), false);
                self.state.focus = Focus::Composer;
                self.state.composer.insert_str(&text);
                self.dirty = true;
            }
            Event::Resize(w, h) => {
                self.screen.resize(Rect::new(0, 0, w, h));
                self.dirty = true;
            }
            _ => {}
        }
    }

    fn handle_bg(&mut self, ev: AppEvent) {
        match ev {
            AppEvent::History(entries) => {
                // Messages sent before the file was read come after it.
                let mut all = entries;
                all.extend(self.state.composer.history().iter().cloned());
                self.state.composer.set_history(all);
            }
            AppEvent::ModelChosen(choice) => self.model_chosen(choice),
            AppEvent::ModelSwitched(result) => self.model_switched(result),
            AppEvent::Exported(Ok(path)) => self.state.notice(format!("Wrote the chat to {}.", path.display())),
            AppEvent::Exported(Err(e)) => self.state.error(format!("Cannot export the chat: {e}")),
            AppEvent::IndexProgress { done, total } => self.index_progress(done, total),
            AppEvent::IndexReady(outcome) => self.index_ready(outcome),
            AppEvent::FilesChanged(paths) => self.files_changed(paths),
            AppEvent::IndexUpdated { stats, files, elapsed } => self.index_updated(stats, files, elapsed),
            AppEvent::ChecksResolved(commands) => self.checks_resolved(commands),
            AppEvent::CheckStarted { kind, auto, commands } => self.check_started(kind, auto, commands),
            AppEvent::CheckDone { outcome, auto } => self.check_done(outcome, auto),
        }
    }

    fn handle_key(&mut self, key: Key) {
        self.state.flash = None;
        self.give_focus_back();
        if self.state.focus == Focus::Diff && self.state.overlay.is_none() && self.reason_key(&key) {
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
                if !self.may_decide(action) {
                    self.too_early(&keys);
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

    fn plan(&self) -> ui::Plan {
        self.screen.plan(&self.state)
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
            Action::Suspend => self.suspend = true,
            Action::Redraw => self.full_redraw = true,
            Action::Submit => self.submit(),
            Action::Retry => self.retry(),
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
            | Action::CyclePolicy => self.review_action(action),
        }
        self.dirty = true;
    }

    fn cancel(&mut self, interrupt: bool) {
        if self.state.overlay.take().is_some() {
            return;
        }
        if self.state.selected.take().is_some() {
            return;
        }
        if self.cancel_turn() || self.cancel_check() {
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

    fn submit(&mut self) {
        let Some(text) = self.state.composer.take() else { return };
        if let Some(path) = self.history_file.clone() {
            let entry = text.clone();
            tokio::task::spawn_blocking(move || crate::view::history::append(&path, &entry));
        }
        self.state.chat_scroll.from_bottom = 0;
        self.dispatch(text);
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
            _ => self.last_answer(),
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
            .find_map(|m| model::code_blocks(&m.text).pop())
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
            && !self.index_updating
            && self.state.checks.running.is_none()
            && !self.resolving_checks
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

/// OS signals that end the session.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

fn draw<B: Host>(app: &mut App, terminal: &mut Terminal<B>) -> anyhow::Result<()> {
    let started = Instant::now();
    let err = |what: &str| {
        let what = what.to_string();
        move |e: B::Error| anyhow::anyhow!("cannot {what}: {e}")
    };
    if app.full_redraw {
        terminal.clear().map_err(err("clear the terminal"))?;
        app.full_redraw = false;
        app.cursor = CursorState::Unknown;
        app.screen.forget_shown();
    }
    // Drawn by hand rather than with `Terminal::draw`, which re-sends the
    // cursor's visibility and position on every frame: over a streamed
    // answer that is a large share of all bytes sent.
    terminal.autoresize().map_err(err("resize"))?;
    let mut frame = terminal.get_frame();
    let cursor = app.render(&mut frame);
    // Take the new frame out of the terminal instead of copying it.
    let updates = app.screen.take_frame(terminal.current_buffer_mut());
    terminal.backend_mut().draw(updates.iter().map(|(x, y, c)| (*x, *y, c))).map_err(err("draw"))?;
    let wrote = terminal.backend().frame_wrote();
    match cursor {
        None if app.cursor != CursorState::Hidden => {
            terminal.hide_cursor().map_err(err("hide the cursor"))?;
            app.cursor = CursorState::Hidden;
        }
        None => {}
        Some(p) => {
            if !matches!(app.cursor, CursorState::At(_)) {
                terminal.show_cursor().map_err(err("show the cursor"))?;
            }
            if wrote || app.cursor != CursorState::At(p) {
                terminal.set_cursor_position(p).map_err(err("move the cursor"))?;
            }
            app.cursor = CursorState::At(p);
        }
    }
    terminal.swap_buffers();
    if let Some(text) = app.clipboard.take() {
        terminal.backend_mut().copy_to_clipboard(&text)?;
    }
    terminal.backend_mut().end_frame(cursor.is_some())?;
    app.frame_shown();
    app.dirty = false;
    app.dirty_bg = false;
    app.state.stats.frames += 1;
    app.state.stats.bytes = terminal.backend().bytes_written();
    app.state.stats.last_frame_us = started.elapsed().as_micros() as u64;
    Ok(())
}

/// What the terminal's cursor shows, to send changes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CursorState {
    Unknown,
    Hidden,
    At(ratatui::layout::Position),
}

/// The event loop. Runs until quit, a signal, or the end of `events` (tests
/// feed a finite stream and get the final frame on `terminal`).
///
/// Order of the biased select: signals, then a due frame (so a flood of input
/// or streamed text cannot starve drawing), then input, then background work.
pub async fn run<B, S>(
    app: &mut App,
    terminal: &mut Terminal<B>,
    mut events: S,
    mut signals: Option<Signals>,
) -> anyhow::Result<Exit>
where
    B: Host,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let ui_cfg = &app.state.config.ui;
    let fps = if app.state.over_ssh { ui_cfg.ssh_frame_rate } else { ui_cfg.frame_rate };
    let interval = Duration::from_secs_f64(1.0 / f64::from(fps.max(1)));
    let stream_fps = ui_cfg.stream_frame_rate.min(fps);
    let stream_interval = Duration::from_secs_f64(1.0 / f64::from(stream_fps.max(1)));
    let size = terminal.size().map_err(|e| anyhow::anyhow!("cannot read the terminal size: {e}"))?;
    app.screen.resize(Rect::new(0, 0, size.width, size.height));
    // Nothing is known about what this terminal shows: paint it all.
    app.screen.forget_shown();
    app.cursor = CursorState::Unknown;
    draw(app, terminal)?;
    let mut last_frame = Instant::now();
    let mut input_closed = false;
    let manual = app.clock.is_manual();
    loop {
        // Scripted input (tests, the demo) ends before the work it started:
        // run until that work is done too, then draw the last frame.
        if input_closed && app.idle() {
            // Work already queued counts: take it before calling it idle.
            if let Ok(msg) = app.rx.try_recv() {
                app.handle_bg(msg);
                app.dirty = true;
                continue;
            }
            if let Some(ev) = app.engine_events.as_mut().and_then(|rx| rx.try_recv().ok()) {
                app.handle_engine(ev);
                app.dirty = true;
                continue;
            }
            if app.dirty || app.dirty_bg {
                draw(app, terminal)?;
            }
            return Ok(Exit::InputClosed);
        }
        if let Some(exit) = app.exit {
            return Ok(exit);
        }
        if app.suspend {
            app.suspend = false;
            terminal.backend_mut().suspend()?;
            app.full_redraw = true;
            app.dirty = true;
        }
        if app.edit_request {
            app.edit_request = false;
            app.edit_hunk(terminal.backend_mut());
            app.full_redraw = true;
            app.dirty = true;
        }
        let wait = if app.dirty || app.full_redraw { interval } else { stream_interval };
        let due = tokio::time::Instant::from_std(last_frame + wait);
        let dirty = app.dirty || app.dirty_bg || app.full_redraw;
        // Scripted input on a manual clock: keys that are ready are taken
        // back to back, as a burst from a terminal is; when the script
        // pauses, the screen catches up at once, before the clock moves
        // (`Clock::settled`), not when a real-time frame falls due.
        if manual && !input_closed {
            app.clock.set_frame_pending(dirty);
            if dirty {
                match events.next().now_or_never() {
                    Some(Some(Ok(ev))) => app.handle_event(ev),
                    Some(Some(Err(e))) => return Err(anyhow::anyhow!("cannot read terminal input: {e}")),
                    Some(None) => input_closed = true,
                    None => {
                        draw(app, terminal)?;
                        last_frame = Instant::now();
                    }
                }
                continue;
            }
        }
        let sample_at = app.sample_due();
        tokio::select! {
            biased;
            sig = async { match signals.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {
                app.exit = Some(Exit::Signal(sig));
            }
            _ = tokio::time::sleep_until(due), if dirty => {
                draw(app, terminal)?;
                last_frame = Instant::now();
            }
            ev = events.next(), if !input_closed => match ev {
                Some(Ok(ev)) => app.handle_event(ev),
                Some(Err(e)) => return Err(anyhow::anyhow!("cannot read terminal input: {e}")),
                None => input_closed = true,
            },
            _ = async { if let Some(at) = sample_at { tokio::time::sleep_until(at).await } }, if sample_at.is_some() => {
                app.sample_process();
            }
            Some(msg) = app.rx.recv() => {
                app.handle_bg(msg);
                app.dirty = true;
            }
            Some(ev) = async { match app.engine_events.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => {
                // Take whatever else has arrived in one go: a fast stream
                // then costs one pass of the loop per burst, not per token.
                let mut streamed = app.handle_engine(ev);
                while let Some(ev) = app.engine_events.as_mut().and_then(|rx| rx.try_recv().ok()) {
                    streamed &= app.handle_engine(ev);
                }
                // Only the model's stream may wait for the slower frame rate;
                // a request for approval or an outcome is drawn at once.
                if streamed {
                    app.dirty_bg = true;
                } else {
                    app.dirty = true;
                }
            }
        }
    }
}
