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

use super::markdown::{self, MarkdownCache};
use super::style::style;
use super::wrap::wrap_ranges;
use crate::app::state::{AppState, Message, MsgStatus, Role};
use crate::config::Theme;

struct Cached {
    rev: u64,
    lines: Vec<Line<'static>>,
}

/// Wrapped transcript lines, rebuilt only for messages that changed.
#[derive(Default)]
pub struct ChatLines {
    width: u16,
    details: bool,
    cached: Vec<Cached>,
    total: usize,
    /// Markdown of the answer being streamed, re-rendered as it grows.
    streaming: MarkdownCache,
}

fn label(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::User => ("you", "chat.user.label"),
        Role::Assistant => ("tandem", "chat.assistant.label"),
        Role::Tool => ("tool", "chat.tool"),
        Role::Notice => ("note", "chat.notice"),
        Role::Error => ("problem", "chat.error"),
    }
}

fn body_scope(role: Role) -> &'static str {
    match role {
        Role::User => "chat.user",
        Role::Assistant => "chat.assistant",
        Role::Tool => "chat.tool",
        Role::Notice => "chat.notice",
        Role::Error => "chat.error",
    }
}

const INDENT: &str = "  ";
/// Lines of a tool's output shown when details are on.
const DETAIL_LINES: usize = 40;

fn indented(lines: impl IntoIterator<Item = Line<'static>>) -> impl Iterator<Item = Line<'static>> {
    lines.into_iter().map(|mut l| {
        l.spans.insert(0, Span::raw(INDENT));
        l
    })
}

fn plain(text: &str, width: usize, style: Style, out: &mut Vec<Line<'static>>) {
    for raw in text.split('\n') {
        for r in wrap_ranges(raw, width) {
            out.push(Line::from(vec![Span::raw(INDENT), Span::styled(raw[r].to_string(), style)]));
        }
    }
}

/// The display lines of one message: a label line, the body, and a blank
/// separator. Tool calls are one line, with their output under it when
/// `details` is on.
pub fn message_lines(
    msg: &Message,
    width: u16,
    theme: &Theme,
    details: bool,
    md: Option<&mut MarkdownCache>,
) -> Vec<Line<'static>> {
    let avail = (width as usize).saturating_sub(INDENT.len()).max(1);
    let body = style(theme, body_scope(msg.role));
    if msg.role == Role::Tool {
        // Collapsed output points right; shown output points down.
        let mark = if details && !msg.detail.is_empty() { "▾ " } else { "▸ " };
        let mut lines = Vec::new();
        let one: String = msg.text.chars().take(avail.saturating_sub(2)).collect();
        lines.push(Line::from(vec![Span::raw(INDENT), Span::styled(format!("{mark}{one}"), body)]));
        if details && !msg.detail.is_empty() {
            let dim = style(theme, "ui.text.dim");
            let all: Vec<&str> = msg.detail.lines().collect();
            for l in all.iter().take(DETAIL_LINES) {
                let cut: String = l.chars().take(avail.saturating_sub(2)).collect();
                lines.push(Line::from(vec![Span::raw("    "), Span::styled(cut, dim)]));
            }
            if all.len() > DETAIL_LINES {
                lines.push(Line::from(Span::styled(format!("    … {} more lines", all.len() - DETAIL_LINES), dim)));
            }
        }
        return lines;
    }
    let (name, scope) = label(msg.role);
    let mut lines = vec![Line::from(Span::styled(name.to_string(), style(theme, scope)))];
    match msg.role {
        Role::Assistant => {
            let w = avail as u16;
            match md {
                Some(cache) => lines.extend(indented(cache.render(&msg.text, w, theme).iter().cloned())),
                None => lines.extend(indented(markdown::render(&msg.text, w, theme))),
            }
            match &msg.status {
                MsgStatus::Broken(reason) => {
                    let text = if reason.is_empty() {
                        "⚠ the answer broke off here".to_string()
                    } else {
                        format!("⚠ the answer broke off here: {reason}")
                    };
                    plain(&text, avail, style(theme, "chat.error"), &mut lines);
                }
                MsgStatus::Cancelled => plain("⏹ stopped", avail, style(theme, "ui.text.dim"), &mut lines),
                _ => {}
            }
        }
        _ => plain(&msg.text, avail, body, &mut lines),
    }
    lines.push(Line::default());
    lines
}

impl ChatLines {
    /// Bring the cache up to date with the transcript at `width`.
    pub fn update(&mut self, transcript: &[Message], width: u16, theme: &Theme, details: bool) {
        if width != self.width || details != self.details {
            self.cached.clear();
            self.width = width;
            self.details = details;
        }
        self.cached.truncate(transcript.len());
        for (i, msg) in transcript.iter().enumerate() {
            let fresh = self.cached.get(i).is_some_and(|c| c.rev == msg.rev);
            if fresh {
                continue;
            }
            let md = (msg.status == MsgStatus::Streaming).then_some(&mut self.streaming);
            let lines = message_lines(msg, width, theme, details, md);
            match self.cached.get_mut(i) {
                Some(c) => *c = Cached { rev: msg.rev, lines },
                None => self.cached.push(Cached { rev: msg.rev, lines }),
            }
        }
        self.total = self.cached.iter().map(|c| c.lines.len()).sum();
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// The first row shown in a pane of `height` rows, `from_bottom` rows
    /// above the end.
    fn window(&self, height: usize, from_bottom: usize) -> (usize, usize) {
        let end = self.total.saturating_sub(from_bottom);
        (end.saturating_sub(height), end)
    }

    /// The rows to show in a pane of `height` rows, `from_bottom` rows above
    /// the end.
    pub fn visible(&self, height: usize, from_bottom: usize) -> Vec<Line<'static>> {
        let (start, end) = self.window(height, from_bottom);
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

    /// The index of the last message with a row in view.
    pub fn last_visible_message(&self, height: usize, from_bottom: usize) -> Option<usize> {
        let (start, end) = self.window(height, from_bottom);
        let mut at = 0;
        let mut last = None;
        for (i, c) in self.cached.iter().enumerate() {
            if at < end && at + c.lines.len() > start {
                last = Some(i);
            }
            at += c.lines.len();
        }
        last
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
