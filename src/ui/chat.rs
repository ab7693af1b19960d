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
use crate::config::Theme;
use crate::view::state::{AppState, Message, MsgStatus, Role, Scroll};

struct Cached {
    rev: u64,
    lines: Vec<Line<'static>>,
}

/// Wrapped transcript lines, rebuilt only for messages that changed.
#[derive(Default)]
pub(crate) struct ChatLines {
    width: u16,
    details: bool,
    /// Whether code was highlighted when the cache was built: the tables
    /// load in the background, and answers drawn before are redrawn once.
    highlighted: bool,
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
pub(crate) fn message_lines(
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
        let mark = if (details || msg.expanded) && !msg.detail.is_empty() { "▾ " } else { "▸ " };
        let mut lines = Vec::new();
        let one: String = msg.text.chars().take(avail.saturating_sub(2)).collect();
        lines.push(Line::from(vec![Span::raw(INDENT), Span::styled(format!("{mark}{one}"), body)]));
        if (details || msg.expanded) && !msg.detail.is_empty() {
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
                MsgStatus::Broken => {
                    plain("⚠ the answer broke off here", avail, style(theme, "chat.error"), &mut lines);
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
        let highlighted = super::highlight::global().is_some();
        if width != self.width || details != self.details || highlighted != self.highlighted {
            self.cached.clear();
            self.width = width;
            self.details = details;
            self.highlighted = highlighted;
        }
        self.cached.truncate(transcript.len());
        for (i, msg) in transcript.iter().enumerate() {
            let fresh = self.cached.get(i).is_some_and(|c| c.rev == msg.rev);
            if fresh {
                continue;
            }
            if msg.status == MsgStatus::Streaming && msg.role == Role::Assistant {
                self.update_streaming(i, msg, width, theme);
                continue;
            }
            let lines = message_lines(msg, width, theme, details, None);
            match self.cached.get_mut(i) {
                Some(c) => *c = Cached { rev: msg.rev, lines },
                None => self.cached.push(Cached { rev: msg.rev, lines }),
            }
        }
        self.total = self.cached.iter().map(|c| c.lines.len()).sum();
    }

    /// The answer being streamed grows at its end: keep the lines the
    /// markdown cache left unchanged and copy only the rest, so a frame costs
    /// the few lines that changed rather than the whole answer.
    fn update_streaming(&mut self, i: usize, msg: &Message, width: u16, theme: &Theme) {
        let avail = (width as usize).saturating_sub(INDENT.len()).max(1) as u16;
        self.streaming.render(&msg.text, avail, theme);
        let unchanged = self.streaming.unchanged();
        let md_lines = self.streaming.lines();
        match self.cached.get_mut(i) {
            Some(c) if c.lines.len() >= 2 => {
                // Label line, then the markdown lines; the last line is the blank separator.
                c.lines.truncate((1 + unchanged).min(c.lines.len() - 1));
                c.lines.extend(indented(md_lines[unchanged.min(md_lines.len())..].iter().cloned()));
                c.lines.push(Line::default());
                c.rev = msg.rev;
            }
            _ => {
                let lines = message_lines(msg, width, theme, self.details, Some(&mut self.streaming));
                let c = Cached { rev: msg.rev, lines };
                if i < self.cached.len() {
                    self.cached[i] = c;
                } else {
                    self.cached.push(c);
                }
            }
        }
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// The rows shown in a pane of `height` rows: from `scroll.follow_top`
    /// when following a stream, else ending `from_bottom` rows above the end.
    fn window(&self, height: usize, scroll: Scroll) -> (usize, usize) {
        if scroll.from_bottom == 0
            && let Some(top) = scroll.follow_top
        {
            let top = top.min(self.total);
            return (top, (top + height).min(self.total));
        }
        let end = self.total.saturating_sub(scroll.from_bottom);
        (end.saturating_sub(height), end)
    }

    /// The rows to show in a pane of `height` rows.
    pub(crate) fn visible(&self, height: usize, scroll: Scroll) -> Vec<Line<'static>> {
        let (start, end) = self.window(height, scroll);
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

    /// The rows of message `i`, counted from the top of the transcript.
    pub(crate) fn rows_of(&self, i: usize) -> std::ops::Range<usize> {
        let start: usize = self.cached.iter().take(i).map(|c| c.lines.len()).sum();
        start..start + self.cached.get(i).map_or(0, |c| c.lines.len())
    }

    /// The first row shown and the number of rows, for a pane of `height`.
    pub fn view(&self, height: usize, scroll: Scroll) -> std::ops::Range<usize> {
        let (start, end) = self.window(height, scroll);
        start..end
    }

    /// The index of the last message with a row in view.
    pub(crate) fn last_visible_message(&self, height: usize, scroll: Scroll) -> Option<usize> {
        let (start, end) = self.window(height, scroll);
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
                    hint(crate::config::keymap::Action::Submit),
                    hint(crate::config::keymap::Action::InsertNewline),
                    super::status::key_label(
                        state,
                        crate::config::keymap::Context::Global,
                        crate::config::keymap::Action::Help
                    ),
                ),
                style(&state.theme, "ui.text.dim"),
            )),
        ];
        frame.render_widget(Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: false }), area);
        return;
    }
    let rows = lines.visible(area.height as usize, state.chat_scroll);
    frame.render_widget(Paragraph::new(rows).style(Style::default()), area);
    // The selected message is marked down its left edge.
    if let Some(sel) = state.selected {
        let view = lines.view(area.height as usize, state.chat_scroll);
        let marked = lines.rows_of(sel);
        let mark = style(&state.theme, "ui.selection");
        for row in marked.start.max(view.start)..marked.end.min(view.end) {
            let y = area.y + (row - view.start) as u16;
            if let Some(cell) = frame.buffer_mut().cell_mut((area.x, y)) {
                cell.set_symbol("▌").set_style(mark);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ColorDepth;

    fn text_of(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn a_streamed_answer_matches_a_fresh_render_at_every_step() {
        let (theme, _) = Theme::load("default", &[], ColorDepth::TrueColor);
        let answer = "# Title\n\nSome **bold** text that wraps around the narrow pane width.\n\n- one\n- two\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\nThe end.";
        let mut lines = ChatLines::default();
        let mut msg = Message::new(Role::Assistant, "");
        msg.status = MsgStatus::Streaming;
        let mut transcript = vec![Message::new(Role::User, "question"), msg];
        let mut at = 0;
        while at < answer.len() {
            let next = (at + 3).min(answer.len());
            transcript[1].text.push_str(&answer[at..next]);
            transcript[1].rev += 1;
            at = next;
            lines.update(&transcript, 30, &theme, false);
            let fresh = message_lines(&transcript[1], 30, &theme, false, None);
            assert_eq!(text_of(&lines.cached[1].lines), text_of(&fresh), "after {:?}", &answer[..at]);
        }
        assert_eq!(lines.total(), lines.cached.iter().map(|c| c.lines.len()).sum::<usize>());
    }

    #[test]
    fn visible_rows_follow_the_anchor_or_the_end() {
        let (theme, _) = Theme::load("default", &[], ColorDepth::TrueColor);
        let transcript: Vec<Message> = (0..10).map(|i| Message::new(Role::User, format!("m{i}"))).collect();
        let mut lines = ChatLines::default();
        lines.update(&transcript, 40, &theme, false);
        assert_eq!(lines.total(), 30);
        let end = text_of(&lines.visible(3, Scroll::default()));
        assert_eq!(end, ["you", "  m9", ""]);
        let anchored = text_of(&lines.visible(3, Scroll { from_bottom: 0, follow_top: Some(0) }));
        assert_eq!(anchored, ["you", "  m0", ""]);
        let up = text_of(&lines.visible(3, Scroll { from_bottom: 3, follow_top: Some(0) }));
        assert_eq!(up, ["you", "  m8", ""]);
        assert_eq!(lines.last_visible_message(3, Scroll::default()), Some(9));
    }
}
