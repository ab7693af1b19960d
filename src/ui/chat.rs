//! The chat pane: the transcript, wrapped to the pane's width.
//!
//! Wrapped lines are cached per message and width, and only the visible rows
//! are handed to the terminal, so a long transcript costs nothing per frame
//! beyond what is on screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::style;
use super::wrap::wrap_ranges;
use crate::app::state::{AppState, Message, Role};
use crate::config::Theme;

struct Cached {
    /// The text length the lines were built from; messages only grow.
    len: usize,
    lines: Vec<Line<'static>>,
}

/// Wrapped transcript lines, rebuilt only for messages that changed.
#[derive(Default)]
pub struct ChatLines {
    width: u16,
    cached: Vec<Cached>,
    total: usize,
}

fn label(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::User => ("you", "chat.user.label"),
        Role::Assistant => ("tandem", "chat.assistant.label"),
        Role::Notice => ("note", "chat.notice"),
        Role::Error => ("problem", "chat.error"),
    }
}

fn body_scope(role: Role) -> &'static str {
    match role {
        Role::User => "chat.user",
        Role::Assistant => "chat.assistant",
        Role::Notice => "chat.notice",
        Role::Error => "chat.error",
    }
}

/// The display lines of one message: a label line, the wrapped text, and a
/// blank separator.
pub fn message_lines(msg: &Message, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let (name, scope) = label(msg.role);
    let body = style(theme, body_scope(msg.role));
    let mut lines = vec![Line::from(Span::styled(name.to_string(), style(theme, scope)))];
    let indent = 2usize;
    let avail = (width as usize).saturating_sub(indent).max(1);
    for raw in msg.text.split('\n') {
        for r in wrap_ranges(raw, avail) {
            lines.push(Line::from(vec![Span::raw("  "), Span::styled(raw[r].to_string(), body)]));
        }
    }
    lines.push(Line::default());
    lines
}

impl ChatLines {
    /// Bring the cache up to date with the transcript at `width`.
    pub fn update(&mut self, transcript: &[Message], width: u16, theme: &Theme) {
        if width != self.width {
            self.cached.clear();
            self.width = width;
        }
        self.cached.truncate(transcript.len());
        for (i, msg) in transcript.iter().enumerate() {
            match self.cached.get_mut(i) {
                Some(c) if c.len == msg.text.len() => {}
                Some(c) => {
                    c.lines = message_lines(msg, width, theme);
                    c.len = msg.text.len();
                }
                None => self.cached.push(Cached { len: msg.text.len(), lines: message_lines(msg, width, theme) }),
            }
        }
        self.total = self.cached.iter().map(|c| c.lines.len()).sum();
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// The rows to show in a pane of `height` rows, `from_bottom` rows above
    /// the end.
    pub fn visible(&self, height: usize, from_bottom: usize) -> Vec<Line<'static>> {
        let end = self.total.saturating_sub(from_bottom);
        let start = end.saturating_sub(height);
        let mut out = Vec::with_capacity(end - start);
        let mut at = 0;
        for c in &self.cached {
            let n = c.lines.len();
            if at + n > start && at < end {
                let lo = start.saturating_sub(at);
                let hi = (end - at).min(n);
                out.extend(c.lines[lo..hi].iter().cloned());
            }
            at += n;
            if at >= end {
                break;
            }
        }
        out
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, lines: &ChatLines) {
    if state.transcript.is_empty() {
        let hint = |action| super::status::key_label(state, crate::config::keymap::Context::Composer, action);
        let text = vec![
            Line::from(Span::styled("Ask about this repository, or ask for a change.", style(&state.theme, "ui.text"))),
            Line::default(),
            Line::from(Span::styled(
                format!(
                    "{} sends · {} adds a line · {} lists every key",
                    hint(crate::app::actions::Action::Submit),
                    hint(crate::app::actions::Action::InsertNewline),
                    super::status::key_label(
                        state,
                        crate::config::keymap::Context::Global,
                        crate::app::actions::Action::Help
                    ),
                ),
                style(&state.theme, "ui.text.dim"),
            )),
        ];
        frame.render_widget(Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: false }), area);
        return;
    }
    let rows = lines.visible(area.height as usize, state.chat_scroll.from_bottom);
    frame.render_widget(Paragraph::new(rows).style(Style::default()), area);
}
