//! The status line: where tandem runs, what is pending, and key hints
//! generated from the active keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::style::style;
use crate::config::keymap::Action;
use crate::config::keymap::Context;
use crate::view::state::AppState;

/// The first key bound to `action` in `ctx` (or globally), in keymap notation.
pub(crate) fn key_label(state: &AppState, ctx: Context, action: Action) -> String {
    state.keymap.key_label(ctx, action)
}

/// What waits for the user while the diff pane does not have focus, and
/// the key that opens it.
pub(crate) fn review_waits(state: &AppState) -> Option<String> {
    if state.focus == crate::view::state::Focus::Diff {
        return None;
    }
    let what = match state.review.front()? {
        crate::view::review::Item::Changes { .. } => "edits wait for your review",
        crate::view::review::Item::Command { .. } => "a command waits for your approval",
        crate::view::review::Item::Permission { .. } => "a request for leave waits for your answer",
    };
    Some(format!("{what}: {}", key_label(state, Context::Global, Action::FocusDiff)))
}

/// Hints for the focused context: its own hinted actions, then the global
/// ones, each with its first key.
pub(crate) fn hints(state: &AppState) -> Vec<(String, &'static str)> {
    let ctx = state.focus.context();
    let mut out = Vec::new();
    for scope in [ctx, Context::Global] {
        for &action in Action::ALL {
            let Some(hint) = action.hint() else { continue };
            if out.iter().any(|(_, h)| *h == hint) {
                continue;
            }
            if let Some(k) = state.keymap.keys_for(scope, action).into_iter().next() {
                out.push((k.to_string(), hint));
            }
        }
    }
    out
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let base = style(theme, "ui.status");
    // Each part with the order it gives way in when the line is too short
    // (highest first; 0 never): a note about the key just pressed or a
    // review waiting matters more than where tandem runs.
    let mut parts: Vec<(u8, Span)> = vec![(0, Span::styled(" tandem ", style(theme, "ui.status.mode")))];
    if state.repo.is_git {
        let mut repo = format!(" {}", state.repo.name());
        if let Some(b) = &state.repo.branch {
            repo.push_str(&format!(" ({b})"));
        }
        parts.push((6, Span::styled(repo, base)));
    } else {
        parts.push((
            2,
            Span::styled(" not a git repository: edits are written, not staged", style(theme, "ui.status.warning")),
        ));
    }
    let model = &state.model;
    if model.offline {
        parts.push((3, Span::styled(" · no model", style(theme, "ui.status.warning"))));
    } else if !model.label.is_empty() {
        parts.push((5, Span::styled(format!(" · {}", model.label), base)));
    }
    if let crate::view::state::IndexStatus::Building { done, total } = state.index.status {
        let text = if total == 0 { " · indexing…".to_string() } else { format!(" · indexing {done}/{total}") };
        parts.push((4, Span::styled(text, style(theme, "ui.status.hint"))));
    }
    // Whatever the turn did last, while something waits for the user that
    // is what holds it up. A review that did not take the keyboard (the
    // user was typing) says which key opens it, for as long as it waits.
    if let Some(waits) = review_waits(state) {
        parts.push((0, Span::styled(format!(" · {waits}"), style(theme, "ui.status.warning"))));
    } else {
        let activity = match state.review.front() {
            Some(crate::view::review::Item::Changes { .. }) if model.busy() => {
                "waiting for your review of the proposed edits"
            }
            Some(crate::view::review::Item::Command { .. }) => "waiting for your approval to run a command",
            Some(crate::view::review::Item::Permission { .. }) => "waiting for your answer to a request for leave",
            _ => model.activity.as_str(),
        };
        if !activity.is_empty() {
            parts.push((3, Span::styled(format!(" · {activity}"), style(theme, "ui.status.hint"))));
        }
    }
    if !state.pending.is_empty() {
        let keys: Vec<String> = state.pending.iter().map(|k| k.to_string()).collect();
        parts.push((0, Span::styled(format!("  {} …", keys.join(" ")), style(theme, "ui.status.key"))));
    }
    if let Some(flash) = &state.flash {
        let scope = if flash.error { "ui.status.error" } else { "ui.status.hint" };
        parts.push((0, Span::styled(format!("  {}", flash.text), style(theme, scope))));
    } else if !state.diagnostics.is_empty() {
        let n = state.diagnostics.len();
        let text = format!("  {n} config problem{} (see chat)", if n == 1 { "" } else { "s" });
        let scope = if state.error_count() > 0 { "ui.status.error" } else { "ui.status.warning" };
        parts.push((1, Span::styled(text, style(theme, scope))));
    }
    let width = |parts: &[(u8, Span)]| parts.iter().map(|(_, s)| s.content.width()).sum::<usize>();
    while width(&parts) > area.width as usize {
        let Some(rank) = parts.iter().map(|(r, _)| *r).max().filter(|&r| r > 0) else { break };
        if let Some(i) = parts.iter().position(|(r, _)| *r == rank) {
            parts.remove(i);
        }
    }
    let mut left: Vec<Span> = parts.into_iter().map(|(_, s)| s).collect();

    let used: usize = left.iter().map(|s| s.content.width()).sum();
    let mut right: Vec<Span> = Vec::new();
    if state.config.ui.hints {
        let budget = (area.width as usize).saturating_sub(used + 2);
        let mut width = 0;
        for (key, hint) in hints(state) {
            let w = key.width() + hint.width() + 3;
            if width + w > budget {
                break;
            }
            width += w;
            right.push(Span::styled(key, style(theme, "ui.status.key")));
            right.push(Span::styled(format!(" {hint}  "), style(theme, "ui.status.hint")));
        }
    }
    let right_width: usize = right.iter().map(|s| s.content.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + right_width);
    left.push(Span::styled(" ".repeat(pad), base));
    left.extend(right);
    frame.render_widget(Paragraph::new(Line::from(left)).style(base), area);
}
