//! The one door from the application into drawing: a `Screen` owns what
//! drawing keeps between frames (wrapped chat lines, the focused hunk's
//! highlighting, the cells the terminal shows) and answers the questions the
//! application asks about the geometry it draws (how tall a page is, how far
//! a pane scrolls).

use ratatui::Frame;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect};

use super::chat::ChatLines;
use super::diff::HunkHighlight;
use super::layout::{self, Plan};
use crate::view::state::{AppState, Pane};

#[derive(Default)]
pub(crate) struct Screen {
    size: Rect,
    chat: ChatLines,
    highlight: HunkHighlight,
    /// What the terminal shows now, to send only what changes.
    shown: Buffer,
}

impl Screen {
    pub(crate) fn resize(&mut self, size: Rect) {
        self.size = size;
    }

    /// Where each pane goes at the current size.
    pub(crate) fn plan(&self, state: &AppState) -> Plan {
        layout::plan(state, self.size)
    }

    /// Rows visible in `pane` (at least one; ten while it is not shown).
    pub(crate) fn page(&self, state: &AppState, pane: Pane) -> usize {
        self.plan(state).pane(pane).map_or(10, |r| r.height.saturating_sub(2) as usize).max(1)
    }

    /// The help overlay's page height and how far it scrolls.
    pub(crate) fn help_scroll(&self, state: &AppState) -> (usize, usize) {
        let page = super::help::area(self.size).height.saturating_sub(2) as usize;
        (page.max(1), super::help::max_scroll(state, self.size))
    }

    /// How far the metrics pane scrolls with `page` rows showing.
    pub(crate) fn metrics_max_scroll(&self, state: &AppState, page: usize) -> usize {
        let width = self.plan(state).metrics.map_or(80, |r| r.width.saturating_sub(4));
        super::metrics::lines(state, width).len().saturating_sub(page)
    }

    /// The transcript wrapped to the chat pane's width, brought up to date.
    pub(crate) fn chat(&mut self, state: &AppState) -> &ChatLines {
        let width = self.plan(state).chat.map_or(80, |r| r.width.saturating_sub(4));
        self.chat.update(&state.transcript, width, &state.theme, state.show_details);
        &self.chat
    }

    /// Forget the wrapped transcript (it was replaced, not appended to).
    pub(crate) fn forget_chat(&mut self) {
        self.chat = ChatLines::default();
    }

    /// Draw one frame: bring the caches up to date, keep a followed chat in
    /// view (this moves `state.chat_scroll`), then render. Returns the
    /// cursor position, if the cursor shows.
    pub fn render(&mut self, frame: &mut Frame, state: &mut AppState) -> Option<Position> {
        self.size = frame.area();
        let plan = self.plan(state);
        if let Some(r) = plan.chat {
            self.chat.update(&state.transcript, r.width.saturating_sub(4), &state.theme, state.show_details);
            follow(state, self.chat.total(), r.height.saturating_sub(2) as usize);
        }
        if plan.diff.is_some() {
            self.highlight.update(state);
        }
        super::draw(frame, state, &self.chat, &self.highlight)
    }

    /// Nothing is known about what the terminal shows: the next frame
    /// sends every cell.
    pub(crate) fn forget_shown(&mut self) {
        self.shown = Buffer::default();
    }

    /// Take the frame just drawn into `current` and return the cells that
    /// differ from what the terminal showed; `current` is left holding the
    /// old frame, which the terminal resets before the next one.
    pub(crate) fn take_frame(&mut self, current: &mut Buffer) -> Vec<(u16, u16, Cell)> {
        // A resize or clear blanks the screen: diff against a blank buffer.
        if self.shown.area != current.area {
            self.shown = Buffer::empty(current.area);
        }
        std::mem::swap(&mut self.shown, current);
        super::diff_fill::updates(current, &self.shown).into_iter().map(|(x, y, c)| (x, y, c.clone())).collect()
    }
}

/// Keep a followed chat in view. While an answer streams, the view jumps
/// half a page when the text reaches the bottom instead of moving up a row
/// with every new line: a moved pane must be redrawn whole, so this is the
/// difference between a dozen full redraws per answer and hundreds. When
/// nothing streams, the view rests on the end.
fn follow(state: &mut AppState, total: usize, height: usize) {
    let busy = state.model.busy();
    let scroll = &mut state.chat_scroll;
    if scroll.from_bottom > 0 || height == 0 {
        scroll.follow_top = None;
        return;
    }
    let top = if !busy {
        total.saturating_sub(height)
    } else {
        match scroll.follow_top {
            // The new text still fits below: stay.
            Some(top) if total <= top + height => top,
            _ if total <= height => 0,
            // Jump so the last line sits half way down.
            _ => total - height.div_ceil(2),
        }
    };
    scroll.follow_top = Some(top);
}
