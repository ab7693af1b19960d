//! Where each pane goes for a given terminal size and state.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::view::review::Item;
use crate::view::state::{AppState, Pane};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// A tab bar naming the panes, when only one pane is shown.
    pub tabs: Option<Rect>,
    pub chat: Option<Rect>,
    pub composer: Option<Rect>,
    pub diff: Option<Rect>,
    pub metrics: Option<Rect>,
    pub status: Rect,
}

impl Plan {
    pub(crate) fn pane(&self, pane: Pane) -> Option<Rect> {
        match pane {
            Pane::Chat => self.chat,
            Pane::Diff => self.diff,
            Pane::Metrics => self.metrics,
        }
    }
}

/// Rows the composer needs: its wrapped text within the configured height,
/// plus its border.
pub(crate) fn composer_height(state: &AppState, width: u16) -> u16 {
    let inner = width.saturating_sub(4).max(1) as usize;
    let mut rows = 0usize;
    let max = state.config.composer.max_height as usize;
    for line in state.composer.lines() {
        rows += super::wrap::wrap_ranges(line, inner.saturating_sub(1).max(1)).len();
        if rows >= max {
            break;
        }
    }
    rows.clamp(1, max) as u16 + 2
}

/// One pane at a time below `split_min_width` columns, side by side above.
pub(crate) fn single_pane(state: &AppState, area: Rect) -> bool {
    area.width < state.config.ui.split_min_width
}

pub(crate) fn plan(state: &AppState, area: Rect) -> Plan {
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let mut plan = Plan { status, ..Plan::default() };
    let focused = state.focus.pane();

    let chat_column = |plan: &mut Plan, r: Rect| {
        let h = composer_height(state, r.width).min(r.height.saturating_sub(3).max(3));
        let [chat, composer] = Layout::vertical([Constraint::Min(1), Constraint::Length(h)]).areas(r);
        plan.chat = Some(chat);
        plan.composer = Some(composer);
    };

    if state.zoomed || single_pane(state, area) {
        let body = if state.zoomed {
            body
        } else {
            let [tabs, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
            plan.tabs = Some(tabs);
            rest
        };
        match focused {
            Pane::Chat => chat_column(&mut plan, body),
            Pane::Diff => plan.diff = Some(body),
            Pane::Metrics => plan.metrics = Some(body),
        }
        return plan;
    }

    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    chat_column(&mut plan, left);
    let [diff, metrics] = Layout::vertical([Constraint::Percentage(65), Constraint::Percentage(35)]).areas(right);
    plan.diff = Some(diff);
    plan.metrics = Some(metrics);
    plan
}

/// A pane's name in the tab bar. With one pane on screen, the status line
/// may be cut short; the diff tab says itself that something waits.
pub(crate) fn tab_title(state: &AppState, pane: Pane) -> String {
    let waits = match state.review.front() {
        Some(Item::Changes { .. }) => "review waits",
        Some(Item::Command { .. }) => "command waits",
        Some(Item::Permission { .. }) => "request waits",
        None => return pane.title().to_string(),
    };
    if pane == Pane::Diff && state.focus.pane() != Pane::Diff {
        format!("{} · {waits}", pane.title())
    } else {
        pane.title().to_string()
    }
}
