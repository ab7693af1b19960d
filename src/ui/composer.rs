//! The composer: the message being written, under the chat.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::style::style;
use super::wrap::wrap_ranges;
use crate::config::keymap::Action;
use crate::config::keymap::Context;
use crate::view::state::{AppState, Focus};

/// Draw the composer; returns where the cursor goes when it has focus.
pub fn render(frame: &mut Frame, area: Rect, state: &AppState) -> Option<Position> {
    let focused = state.focus == Focus::Composer;
    let theme = &state.theme;
    let border = if focused { "ui.pane.border.focus" } else { "ui.pane.border" };
    let title = if focused { "ui.pane.title.focus" } else { "ui.pane.title" };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style(theme, border))
        .title(Span::styled(" Message ", style(theme, title)))
        .padding(ratatui::widgets::Padding::horizontal(1));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return None;
    }

    if state.composer.is_empty() {
        let send = super::status::key_label(state, Context::Composer, Action::Submit);
        let nl = super::status::key_label(state, Context::Composer, Action::InsertNewline);
        let text = format!("Ask tandem… ({send} to send, {nl} for a new line)");
        frame.render_widget(Paragraph::new(Span::styled(text, style(theme, "ui.composer.placeholder"))), inner);
        return focused.then(|| Position::new(inner.x, inner.y));
    }

    // Wrap one column short so the cursor has room at the end of a full row.
    let width = (inner.width as usize).saturating_sub(1).max(1);
    let (crow, ccol) = state.composer.cursor();
    let height = inner.height as usize;
    let mut rows: Vec<&str> = Vec::new();
    let mut cursor = (0usize, 0usize);
    // Every line takes at least one row, so lines further than `height` from
    // the cursor's line cannot be on screen: a large paste is not rewrapped
    // whole on every frame.
    let first = crow.saturating_sub(height);
    let lines = state.composer.lines();
    let last = (crow + height + 1).min(lines.len());
    for (i, line) in lines.iter().enumerate().take(last).skip(first) {
        let ranges = wrap_ranges(line, width);
        let last = ranges.len() - 1;
        for (j, r) in ranges.iter().enumerate() {
            if i == crow && ccol >= r.start && (ccol < r.end || j == last) {
                cursor = (rows.len(), line[r.start..ccol].width());
            }
            rows.push(&line[r.clone()]);
        }
    }
    let top = (cursor.0 + 1).saturating_sub(height);
    let body = style(theme, "ui.composer");
    let visible: Vec<Line> =
        rows.iter().skip(top).take(height).map(|r| Line::from(Span::styled(r.to_string(), body))).collect();
    frame.render_widget(Paragraph::new(visible), inner);
    let x = inner.x + (cursor.1 as u16).min(inner.width.saturating_sub(1));
    let y = inner.y + (cursor.0 - top) as u16;
    focused.then(|| Position::new(x, y))
}
