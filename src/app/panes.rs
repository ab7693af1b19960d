//! The panes: where the keyboard is and what each pane shows. Focus and
//! zoom, the help overlay, scrolling, the chat's selection, tool details
//! and copying, and the composer's editing keys and typed text.
//!
//! It owns the text waiting to go to the clipboard with the next frame. It
//! answers the actions above, pastes, keys no binding takes, and the first
//! part of cancel (closing the overlay, dropping the selection).

use super::cx::{Cx, Handled};
use crate::config::keymap::{Action, Context};
use crate::config::keys::Key;
use crate::view::state::{Focus, Overlay, Pane, Role};

#[derive(Default)]
pub(crate) struct Panes {
    /// Text to put on the clipboard with the next frame.
    clipboard: Option<String>,
}

impl Panes {
    /// Text to put on the clipboard with this frame.
    pub(crate) fn take_clipboard(&mut self) -> Option<String> {
        self.clipboard.take()
    }

    pub(crate) fn on_action(&mut self, cx: &mut Cx, action: Action) -> Handled {
        let s = &mut *cx.state;
        match action {
            Action::Help => {
                s.overlay = match s.overlay {
                    Some(Overlay::Help { .. }) => None,
                    None => Some(Overlay::Help { scroll: 0 }),
                };
            }
            Action::FocusNext | Action::FocusPrev => {
                let order = Focus::CYCLE;
                let i = order.iter().position(|f| *f == s.focus).unwrap_or(0);
                let n = order.len();
                s.focus = order[if action == Action::FocusNext { (i + 1) % n } else { (i + n - 1) % n }];
            }
            Action::FocusChat => s.focus = Focus::Chat,
            Action::FocusDiff => s.focus = Focus::Diff,
            Action::FocusMetrics => s.focus = Focus::Metrics,
            Action::FocusComposer => s.focus = Focus::Composer,
            Action::Zoom => s.zoomed = !s.zoomed,
            Action::CopyAnswer => {
                let answer = selected_or_last_answer(cx);
                self.copy(cx, answer, "answer");
            }
            Action::CopyCode => {
                let code = selected_or_visible_code_block(cx);
                self.copy(cx, code, "code block");
            }
            Action::ToggleDetails => match s.selected.and_then(|i| s.transcript.get_mut(i)) {
                Some(m) if m.role == Role::Tool => {
                    m.expanded = !m.expanded;
                    m.rev += 1;
                }
                _ => {
                    s.show_details = !s.show_details;
                    cx.screen.forget_chat();
                }
            },
            Action::SelectPrev | Action::SelectNext => select(cx, action == Action::SelectNext),
            Action::InsertNewline => s.composer.insert_newline(),
            Action::HistoryPrev => s.composer.up_or_history(),
            Action::HistoryNext => s.composer.down_or_history(),
            Action::CursorLeft => s.composer.left(),
            Action::CursorRight => s.composer.right(),
            Action::CursorWordLeft => s.composer.word_left(),
            Action::CursorWordRight => s.composer.word_right(),
            Action::CursorLineStart => s.composer.line_start(),
            Action::CursorLineEnd => s.composer.line_end(),
            Action::DeleteBack => s.composer.delete_back(),
            Action::DeleteForward => s.composer.delete_forward(),
            Action::DeleteWordBack => s.composer.delete_word_back(),
            Action::DeleteToLineStart => s.composer.delete_to_line_start(),
            Action::DeleteToLineEnd => s.composer.delete_to_line_end(),
            Action::ClearComposer => s.composer.clear(),
            Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown
            | Action::ScrollTop
            | Action::ScrollBottom => scroll(cx, action),
            _ => return Handled::No,
        }
        Handled::Yes
    }

    /// Cancel, first: close the help overlay, else drop the selection.
    pub(crate) fn close(&mut self, cx: &mut Cx) -> Handled {
        if cx.state.overlay.take().is_some() || cx.state.selected.take().is_some() {
            return Handled::Yes;
        }
        Handled::No
    }

    /// Pasted text goes into the composer.
    pub(crate) fn paste(&mut self, cx: &mut Cx, text: &str) {
        cx.state.focus = Focus::Composer;
        cx.state.composer.insert_str(text);
    }

    /// Keys no binding takes (`typed` holds them all, a chord's included):
    /// text in the composer, else a hint.
    pub(crate) fn unbound(&mut self, cx: &mut Cx, typed: &[Key]) {
        if cx.state.overlay.is_some() {
            return;
        }
        let [key] = typed else {
            let keys: Vec<String> = typed.iter().map(|k| k.to_string()).collect();
            cx.flash(format!("{} is not bound", keys.join(" ")), true);
            return;
        };
        match (cx.state.focus, super::input::typed_char(key)) {
            (Focus::Composer, Some(c)) => cx.state.composer.insert_char(c),
            (focus, _) => {
                let help = cx.state.keymap.key_label(Context::Global, Action::Help);
                cx.flash(format!("{key} does nothing in the {} — {help} lists the keys", focus.label()), false);
            }
        }
    }

    fn copy(&mut self, cx: &mut Cx, text: Option<String>, what: &str) {
        match text {
            Some(t) if !t.is_empty() => {
                cx.flash(format!("Copied {what} ({} characters) to the clipboard", t.chars().count()), false);
                self.clipboard = Some(t);
            }
            _ => cx.flash(format!("There is no {what} to copy"), true),
        }
    }
}

/// While the help overlay is open, keys only scroll or close it (or leave).
pub(crate) fn allowed_over_overlay(action: Action) -> bool {
    matches!(
        action,
        Action::Help
            | Action::Cancel
            | Action::Interrupt
            | Action::Quit
            | Action::Suspend
            | Action::Redraw
            | Action::ScrollUp
            | Action::ScrollDown
            | Action::PageUp
            | Action::PageDown
            | Action::HalfPageUp
            | Action::HalfPageDown
            | Action::ScrollTop
            | Action::ScrollBottom
    )
}

/// Scroll the help overlay if it is open, else the focused pane.
fn scroll(cx: &mut Cx, action: Action) {
    if let Some(Overlay::Help { scroll }) = cx.state.overlay {
        let (page, max) = cx.screen.help_scroll(cx.state);
        let next = step(scroll, action, page, max, false);
        cx.state.overlay = Some(Overlay::Help { scroll: next });
        return;
    }
    let pane = cx.state.focus.pane();
    let page = cx.page(pane);
    match pane {
        Pane::Chat => {
            let max = cx.screen.chat(cx.state).total().saturating_sub(page);
            let s = &mut cx.state.chat_scroll;
            s.from_bottom = step(s.from_bottom, action, page, max, true);
        }
        Pane::Diff => cx.state.review.scroll = step(cx.state.review.scroll, action, page, usize::MAX / 2, false),
        Pane::Metrics => {
            let max = cx.screen.metrics_max_scroll(cx.state, page);
            cx.state.metrics_top = step(cx.state.metrics_top.min(max), action, page, max, false);
        }
    }
}

/// A scroll position after `action`. `from_bottom` positions grow upwards.
fn step(pos: usize, action: Action, page: usize, max: usize, from_bottom: bool) -> usize {
    let delta = match action {
        Action::ScrollUp | Action::ScrollDown => 1,
        Action::PageUp | Action::PageDown => page,
        Action::HalfPageUp | Action::HalfPageDown => (page / 2).max(1),
        Action::ScrollTop => return if from_bottom { max } else { 0 },
        Action::ScrollBottom => return if from_bottom { 0 } else { max },
        _ => return pos,
    };
    let up = matches!(action, Action::ScrollUp | Action::PageUp | Action::HalfPageUp);
    let grow = up == from_bottom;
    if grow { (pos + delta).min(max) } else { pos.saturating_sub(delta) }
}

/// Move the selection to the previous or next message, and into view.
fn select(cx: &mut Cx, next: bool) {
    let n = cx.state.transcript.len();
    if n == 0 {
        return;
    }
    let i = match (cx.state.selected, next) {
        (None, _) => n - 1,
        (Some(i), true) => (i + 1).min(n - 1),
        (Some(i), false) => i.saturating_sub(1),
    };
    cx.state.selected = Some(i);
    let page = cx.page(Pane::Chat);
    let scroll = cx.state.chat_scroll;
    let lines = cx.screen.chat(cx.state);
    let (rows, view, total) = (lines.rows_of(i), lines.view(page, scroll), lines.total());
    if rows.start < view.start || rows.end > view.end {
        // Put the message's first row at the top of the pane.
        let end = (rows.start + page).min(total);
        cx.state.chat_scroll.from_bottom = total - end;
        cx.state.chat_scroll.follow_top = None;
    }
}

/// The selected message's text if it is an answer, else the last answer.
fn selected_or_last_answer(cx: &Cx) -> Option<String> {
    let t = &cx.state.transcript;
    match cx.state.selected.and_then(|i| t.get(i)) {
        Some(m) if m.role == Role::Assistant => Some(m.text.clone()),
        _ => t.iter().rev().find(|m| m.role == Role::Assistant).map(|m| m.text.clone()),
    }
}

/// The last code block of the selected answer, or else of the last answer
/// in view.
fn selected_or_visible_code_block(cx: &mut Cx) -> Option<String> {
    let height = cx.page(Pane::Chat);
    let last = match cx.state.selected {
        Some(i) if i < cx.state.transcript.len() => i,
        _ => cx.screen.chat(cx.state).last_visible_message(height, cx.state.chat_scroll)?,
    };
    cx.state.transcript[..=last]
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .find_map(|m| code_blocks(&m.text).pop())
}

/// The fenced and indented code blocks of a markdown text, in order, for
/// copying.
pub(crate) fn code_blocks(text: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for ev in Parser::new(text) {
        match ev {
            Event::Start(Tag::CodeBlock(_)) => current = Some(String::new()),
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    // A block still streaming has no end yet.
    out.extend(current);
    out
}
