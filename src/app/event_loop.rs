//! The one event loop: terminal input, background work and the engine's
//! events in; frames out, only when something changed and at most
//! `frame_rate` times a second. Also what the loop does for the terminal
//! alone: signals, the cursor, the clipboard, and tandem's own CPU and memory
//! for the metrics pane.

use std::time::{Duration, Instant};

use crossterm::event::Event;
use futures::{FutureExt, Stream, StreamExt};
use ratatui::Terminal;
use ratatui::layout::Rect;

use super::{App, Host};
use crate::ui;
use crate::view::state::AppState;

/// Most often tandem's CPU and memory are read.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Why the loop should stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(&'static str),
    InputClosed,
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

/// What the terminal's cursor shows, to send changes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CursorState {
    Unknown,
    Hidden,
    At(ratatui::layout::Position),
}

/// What the loop knows about drawing: what changed since the last frame,
/// and what the terminal shows.
pub(super) struct Drawing {
    /// Something the user did changed the screen: draw within a frame.
    pub dirty: bool,
    /// Only background work (streamed text) changed it: draw at the lower
    /// streaming rate, which is what keeps a streamed answer cheap.
    pub dirty_bg: bool,
    /// The next frame must repaint every cell (after suspend or redraw).
    pub full_redraw: bool,
    /// Give the terminal back and stop until `fg`.
    pub suspend: bool,
    cursor: CursorState,
    pub process: ProcessStats,
}

impl Default for Drawing {
    fn default() -> Self {
        Self {
            dirty: true,
            dirty_bg: false,
            full_redraw: false,
            suspend: false,
            cursor: CursorState::Unknown,
            process: ProcessStats::default(),
        }
    }
}

/// Reads tandem's CPU and memory while the metrics pane shows them.
#[derive(Default)]
pub(super) struct ProcessStats {
    sampler: Option<crate::metrics::process::Sampler>,
    last: Option<Instant>,
}

impl ProcessStats {
    pub(crate) fn enable(&mut self) {
        self.sampler = crate::metrics::process::Sampler::new();
    }

    /// When the next reading is due: only with a sampler, and while the
    /// metrics pane is on screen.
    fn due(&self, state: &AppState, screen: &ui::Screen) -> Option<tokio::time::Instant> {
        self.sampler.as_ref()?;
        if state.overlay.is_some() || screen.plan(state).metrics.is_none() {
            return None;
        }
        let at = self.last.map_or_else(Instant::now, |t| t + SAMPLE_EVERY);
        Some(tokio::time::Instant::from_std(at))
    }

    /// Read CPU and memory into `state`; true if what the pane shows
    /// changed.
    fn sample(&mut self, state: &mut AppState) -> bool {
        let now = Instant::now();
        self.last = Some(now);
        let Some(sampler) = self.sampler.as_mut() else { return false };
        let sample = sampler.sample(now);
        let changed = sample.map(|s| s.shown()) != state.metrics.process.map(|s| s.shown());
        state.metrics.process = sample;
        changed
    }
}

fn draw<B: Host>(app: &mut App, terminal: &mut Terminal<B>) -> anyhow::Result<()> {
    let started = Instant::now();
    let err = |what: &str| {
        let what = what.to_string();
        move |e: B::Error| anyhow::anyhow!("cannot {what}: {e}")
    };
    if app.drawing.full_redraw {
        terminal.clear().map_err(err("clear the terminal"))?;
        app.drawing.full_redraw = false;
        app.drawing.cursor = CursorState::Unknown;
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
        None if app.drawing.cursor != CursorState::Hidden => {
            terminal.hide_cursor().map_err(err("hide the cursor"))?;
            app.drawing.cursor = CursorState::Hidden;
        }
        None => {}
        Some(p) => {
            if !matches!(app.drawing.cursor, CursorState::At(_)) {
                terminal.show_cursor().map_err(err("show the cursor"))?;
            }
            if wrote || app.drawing.cursor != CursorState::At(p) {
                terminal.set_cursor_position(p).map_err(err("move the cursor"))?;
            }
            app.drawing.cursor = CursorState::At(p);
        }
    }
    terminal.swap_buffers();
    if let Some(text) = app.panes.take_clipboard() {
        terminal.backend_mut().copy_to_clipboard(&text)?;
    }
    terminal.backend_mut().end_frame(cursor.is_some())?;
    // If the frame showed an item under review, the user could see it
    // from now on.
    app.review.frame_shown(cx!(app));
    app.drawing.dirty = false;
    app.drawing.dirty_bg = false;
    app.state.stats.frames += 1;
    app.state.stats.bytes = terminal.backend().bytes_written();
    app.state.stats.last_frame_us = started.elapsed().as_micros() as u64;
    Ok(())
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
    app.drawing.cursor = CursorState::Unknown;
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
                app.drawing.dirty = true;
                continue;
            }
            if let Some(ev) = app.engine.try_event() {
                app.handle_engine(ev);
                app.drawing.dirty = true;
                continue;
            }
            if app.drawing.dirty || app.drawing.dirty_bg {
                draw(app, terminal)?;
            }
            return Ok(Exit::InputClosed);
        }
        if let Some(exit) = app.exit {
            return Ok(exit);
        }
        if app.drawing.suspend {
            app.drawing.suspend = false;
            terminal.backend_mut().suspend()?;
            app.drawing.full_redraw = true;
            app.drawing.dirty = true;
        }
        if app.review.take_edit_request() {
            // The editor has the terminal until it exits.
            app.review.edit_hunk(cx!(app), terminal.backend_mut());
            app.drawing.full_redraw = true;
            app.drawing.dirty = true;
        }
        let wait = if app.drawing.dirty || app.drawing.full_redraw { interval } else { stream_interval };
        let due = tokio::time::Instant::from_std(last_frame + wait);
        let dirty = app.drawing.dirty || app.drawing.dirty_bg || app.drawing.full_redraw;
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
        let sample_at = app.drawing.process.due(&app.state, &app.screen);
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
                // Redraw only if what the pane shows changed.
                if app.drawing.process.sample(&mut app.state) {
                    app.drawing.dirty_bg = true;
                }
            }
            Some(msg) = app.rx.recv() => {
                app.handle_bg(msg);
                app.drawing.dirty = true;
            }
            Some(ev) = app.engine.next_event() => {
                // Take whatever else has arrived in one go: a fast stream
                // then costs one pass of the loop per burst, not per token.
                let mut streamed = app.handle_engine(ev);
                while let Some(ev) = app.engine.try_event() {
                    streamed &= app.handle_engine(ev);
                }
                // Only the model's stream may wait for the slower frame rate;
                // a request for approval or an outcome is drawn at once.
                if streamed {
                    app.drawing.dirty_bg = true;
                } else {
                    app.drawing.dirty = true;
                }
            }
        }
    }
}
