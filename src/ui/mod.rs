//! Drawing: state in, a ratatui buffer out. No I/O, no clocks, no channels.

pub(crate) mod chat;
pub(crate) mod composer;
pub(crate) mod diff;
pub(crate) mod diff_fill;
pub mod help;
pub mod highlight;
pub(crate) mod layout;
pub mod markdown;
pub mod metrics;
mod screen;
pub(crate) mod status;
pub(crate) mod style;
pub(crate) mod wrap;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Padding, Paragraph};

use crate::config::keymap::Action;
use crate::config::keymap::Context;
use crate::view::state::{AppState, Focus, Overlay, Pane};
pub(crate) use layout::Plan;
pub(crate) use screen::Screen;
use style::style;

/// A pane's frame: border and title, marked when focused. Returns the inside.
fn pane_block(frame: &mut Frame, area: Rect, state: &AppState, pane: Pane) -> Rect {
    // The composer marks its own border; the chat pane around it stays plain.
    let focused = state.focus != Focus::Composer && state.focus.pane() == pane;
    let theme = &state.theme;
    let (border, title) =
        if focused { ("ui.pane.border.focus", "ui.pane.title.focus") } else { ("ui.pane.border", "ui.pane.title") };
    let mut label = format!(" {} ", pane.title());
    if focused && state.zoomed {
        label.push_str("(zoomed) ");
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style(theme, border))
        .title(Span::styled(label, style(theme, title)))
        .padding(Padding::horizontal(1));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

fn render_tabs(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let mut spans = Vec::new();
    for pane in Pane::ALL {
        let scope = if state.focus.pane() == pane { "ui.tabs.active" } else { "ui.tabs" };
        let action = match pane {
            Pane::Chat => Action::FocusChat,
            Pane::Diff => Action::FocusDiff,
            Pane::Metrics => Action::FocusMetrics,
        };
        let key = status::key_label(state, Context::Global, action);
        spans.push(Span::styled(format!(" {key} {} ", layout::tab_title(state, pane)), style(theme, scope)));
        spans.push(Span::styled(" ", style(theme, "ui.tabs")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(style(theme, "ui.tabs")), area);
}

/// Draw the whole screen. Returns where the terminal's cursor should be
/// (in the composer, when it has focus), or `None` to hide it.
pub(crate) fn draw(
    frame: &mut Frame,
    state: &AppState,
    chat_lines: &chat::ChatLines,
    hunk: &diff::HunkHighlight,
) -> Option<Position> {
    let area = frame.area();
    frame.render_widget(Block::default().style(style(&state.theme, "ui.background")), area);
    let plan = layout::plan(state, area);
    if let Some(r) = plan.tabs {
        render_tabs(frame, r, state);
    }
    if let Some(r) = plan.chat {
        let inner = pane_block(frame, r, state, Pane::Chat);
        chat::render(frame, inner, state, chat_lines);
    }
    let mut cursor = None;
    if let Some(r) = plan.composer {
        cursor = composer::render(frame, r, state);
    }
    if let Some(r) = plan.diff {
        let inner = pane_block(frame, r, state, Pane::Diff);
        diff::render(frame, inner, state, hunk);
    }
    if let Some(r) = plan.metrics {
        let inner = pane_block(frame, r, state, Pane::Metrics);
        metrics::render(frame, inner, state);
    }
    status::render(frame, plan.status, state);
    if let Some(Overlay::Help { scroll }) = state.overlay {
        help::render(frame, area, state, scroll);
        cursor = None;
    }
    cursor
}

/// The characters of a buffer, one line per row with trailing spaces
/// trimmed: what a user reads on screen, for snapshots.
pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            line.push_str(sym);
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
