//! The help overlay: every binding of the active keymap, by context, and
//! the slash commands.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::style::style;
use crate::config::keymap::Action;
use crate::config::keymap::Context;
use crate::view::state::AppState;

const KEY_COLUMN: usize = 20;

/// An action and every key bound to it, in keymap notation.
type ActionKeys = (Action, Vec<String>);

/// The bindings by context (contexts without any left out), each action once
/// with all its keys: what the overlay and the README list.
fn grouped(keymap: &crate::config::Keymap) -> Vec<(Context, Vec<ActionKeys>)> {
    let bindings = keymap.bindings();
    let mut out = Vec::new();
    for ctx in Context::ALL {
        let mut rows: Vec<ActionKeys> = Vec::new();
        for (c, keys, action) in &bindings {
            if *c != ctx {
                continue;
            }
            match rows.iter_mut().find(|(a, _)| a == action) {
                Some((_, ks)) => ks.push(keys.to_string()),
                None => rows.push((*action, vec![keys.to_string()])),
            }
        }
        if !rows.is_empty() {
            out.push((ctx, rows));
        }
    }
    out
}

/// The overlay's lines at `width` columns: for each context, each action with
/// all its keys, descriptions wrapped under their own column.
pub fn lines(state: &AppState, width: u16) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let doc_width = (width as usize).saturating_sub(KEY_COLUMN + 1).max(10);
    let mut out = Vec::new();
    for (ctx, rows) in grouped(&state.keymap) {
        if !out.is_empty() {
            out.push(Line::default());
        }
        let title = match ctx {
            Context::Global => "Everywhere",
            Context::Composer => "Composer",
            Context::Chat => "Chat pane",
            Context::Diff => "Diff-approval pane",
            Context::Metrics => "Metrics pane",
        };
        out.push(Line::from(Span::styled(title.to_string(), style(theme, "ui.help.section"))));
        for (action, keys) in rows {
            let keys = format!("  {:<w$}", keys.join(", "), w = KEY_COLUMN - 2);
            let doc = super::wrap::wrap(action.doc(), doc_width);
            for (i, part) in doc.into_iter().enumerate() {
                let left = if i == 0 { keys.clone() } else { " ".repeat(KEY_COLUMN) };
                out.push(Line::from(vec![
                    Span::styled(left, style(theme, "ui.help.key")),
                    Span::styled(format!(" {}", part.trim_end()), style(theme, "ui.help")),
                ]));
            }
        }
    }
    out.push(Line::default());
    out.push(Line::from(Span::styled("Slash commands (in the composer)".to_string(), style(theme, "ui.help.section"))));
    for c in crate::config::slash::COMMANDS {
        let usage = format!("  {}", crate::config::slash::usage(c));
        let doc = super::wrap::wrap(c.doc, doc_width);
        // A usage wider than the key column gets a line of its own.
        let mut left = if usage.chars().count() < KEY_COLUMN {
            format!("{usage:<KEY_COLUMN$}")
        } else {
            out.push(Line::from(Span::styled(usage, style(theme, "ui.help.key"))));
            " ".repeat(KEY_COLUMN)
        };
        for part in doc {
            out.push(Line::from(vec![
                Span::styled(std::mem::replace(&mut left, " ".repeat(KEY_COLUMN)), style(theme, "ui.help.key")),
                Span::styled(format!(" {}", part.trim_end()), style(theme, "ui.help")),
            ]));
        }
    }
    out
}

/// The overlay's box: most of the screen, never more than 100 columns; on
/// small screens all of it, since half-hidden panes around it only distract.
pub(crate) fn area(screen: Rect) -> Rect {
    let small = screen.width < 90 || screen.height < 30;
    let w = if small { screen.width } else { screen.width.saturating_sub(4).min(100) };
    let h = if small { screen.height.saturating_sub(1) } else { screen.height.saturating_sub(2) };
    Rect::new(screen.x + (screen.width - w) / 2, screen.y + (screen.height - h) / 2, w, h)
}

pub fn render(frame: &mut Frame, screen: Rect, state: &AppState, scroll: usize) {
    let theme = &state.theme;
    let area = area(screen);
    let title = format!(" Keys ({} keymap) ", state.config.ui.keymap);
    let close = super::status::key_label(state, Context::Global, Action::Help);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style(theme, "ui.help.border"))
        .title(Span::styled(title, style(theme, "ui.pane.title.focus")))
        .title_bottom(Span::styled(
            format!(" {close} or Esc closes · ↑↓ PgUp PgDn scroll "),
            style(theme, "ui.text.dim"),
        ))
        .style(style(theme, "ui.help"));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let all = lines(state, inner.width);
    let max = all.len().saturating_sub(inner.height as usize);
    let rows: Vec<Line> = all.into_iter().skip(scroll.min(max)).take(inner.height as usize).collect();
    frame.render_widget(Paragraph::new(rows), inner);
}

/// How far the overlay can scroll on a screen of `height` rows.
pub(crate) fn max_scroll(state: &AppState, screen: Rect) -> usize {
    let a = area(screen);
    lines(state, a.width.saturating_sub(2)).len().saturating_sub(a.height.saturating_sub(2) as usize)
}

/// The bindings of `keymap` as markdown tables, one per context: the key
/// list in the README is generated from the default keymap with this.
pub fn markdown(keymap: &crate::config::Keymap) -> String {
    let mut out = String::new();
    for (ctx, rows) in grouped(keymap) {
        let rows = rows.into_iter().map(|(a, keys)| (a, keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>()));
        out.push_str(&format!("\n**{}**\n\n| keys | action | what it does |\n| --- | --- | --- |\n", ctx.name()));
        for (action, keys) in rows {
            out.push_str(&format!("| {} | `{}` | {} |\n", keys.join(" "), action.name(), action.doc()));
        }
    }
    out
}
