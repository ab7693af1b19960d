//! The diff-approval pane: the files and hunks of the proposal under review,
//! the focused hunk highlighted with line numbers and a +/- gutter, and what
//! has been decided. A command or another request for leave waiting for
//! approval shows here too.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::highlight::StyledLine;
use super::style::style;
use crate::config::keymap::Action;
use crate::config::keymap::Context;
use crate::patch::LineKind;
use crate::view::review::{Decision, FileReview, HunkReview, Item, kind_label};
use crate::view::state::AppState;

fn key(state: &AppState, action: Action) -> String {
    super::status::key_label(state, Context::Diff, action)
}

/// The focused hunk's syntax highlighting, kept between frames: it changes
/// only when the focus moves or the hunk itself changes (split, edit), and
/// highlighting costs far more than drawing.
#[derive(Default)]
pub(crate) struct HunkHighlight {
    /// What `lines` were made from: file extension, syntax theme, hunk.
    key: Option<(String, String, crate::patch::Hunk)>,
    lines: Option<Vec<StyledLine>>,
}

impl HunkHighlight {
    /// Bring the highlighting up to date with the focused hunk.
    pub fn update(&mut self, state: &AppState) {
        let Some((f, h)) = state.review.focused() else {
            *self = Self::default();
            return;
        };
        let theme = &state.theme;
        let ext = f.shown_path().extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        if self.key.as_ref().is_some_and(|(e, t, k)| *e == ext && t == theme.syntax_theme() && *k == h.hunk) {
            return;
        }
        // Until the highlighter has loaded (a thread of its own at start-up)
        // the hunk shows plain, and is highlighted on a later frame.
        let Some(hl) = super::highlight::global() else {
            *self = Self::default();
            return;
        };
        let code: String = h.hunk.lines.iter().map(|l| format!("{}\n", l.text.replace('\t', "    "))).collect();
        self.lines = hl.highlight_for_depth(&code, &ext, theme.syntax_theme(), theme.depth());
        self.key = Some((ext, theme.syntax_theme().to_string(), h.hunk.clone()));
    }
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState, highlight: &HunkHighlight) {
    match state.review.front() {
        None => render_empty(frame, area, state),
        Some(Item::Command { command, .. }) => render_command(frame, area, state, command),
        Some(Item::Permission { permission, .. }) => render_permission(frame, area, state, permission),
        Some(Item::Changes { .. }) => render_changes(frame, area, state, highlight),
    }
}

fn render_empty(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let text = vec![
        Line::from(Span::styled("No proposed edits.", style(theme, "ui.text"))),
        Line::default(),
        Line::from(Span::styled(
            "When the model proposes a change, its hunks appear here: accept or reject each one, \
             and what you accept is written and staged in git.",
            style(theme, "ui.text.dim"),
        )),
        Line::default(),
        Line::from(Span::styled(
            format!(
                "Policy: {} ({} switches) · {} undoes the last applied change",
                state.policy.name(),
                super::status::key_label(state, Context::Global, Action::CyclePolicy),
                key(state, Action::UndoApplied),
            ),
            style(theme, "ui.text.dim"),
        )),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
}

fn render_command(frame: &mut Frame, area: Rect, state: &AppState, command: &str) {
    let theme = &state.theme;
    let mut text = vec![
        Line::from(Span::styled("The model asks to run a command in the repository:", style(theme, "ui.text"))),
        Line::default(),
    ];
    for (i, l) in command.lines().enumerate() {
        let prompt = if i == 0 { "$ " } else { "  " };
        text.push(Line::from(vec![
            Span::styled(prompt, style(theme, "diff.gutter")),
            Span::styled(l.to_string(), style(theme, "diff.file")),
        ]));
    }
    text.push(Line::default());
    text.push(Line::from(Span::styled(
        format!(
            "{} run · {} refuse · {} refuse with a reason · {} always allow commands starting like this",
            key(state, Action::AcceptHunk),
            key(state, Action::RejectHunk),
            key(state, Action::RejectWithReason),
            key(state, Action::AlwaysAllow),
        ),
        style(theme, "ui.text.dim"),
    )));
    if let Some(reason) = &state.review.reason {
        text.push(reason_line(state, reason, "Why not (Enter sends, Esc goes back): "));
    }
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
}

/// A request for leave: what kind, its title and its detail (made safe and
/// cut to size when the item was made), and the keys that answer it, which
/// stay on screen however long the detail is; a detail taller than the pane
/// scrolls with the pane's scroll keys, and says so.
fn render_permission(frame: &mut Frame, area: Rect, state: &AppState, permission: &crate::engine::Permission) {
    let theme = &state.theme;
    let width = area.width as usize;
    let mut head = vec![Line::from(Span::styled(
        format!("The model asks for leave: {}", permission.kind.label),
        style(theme, "ui.text"),
    ))];
    head.extend(
        super::wrap::wrap(&permission.title, width)
            .into_iter()
            .map(|row| Line::from(Span::styled(row.to_string(), style(theme, "diff.file")))),
    );
    head.push(Line::default());
    let rows: Vec<Line> = permission
        .detail
        .lines()
        .flat_map(|l| super::wrap::wrap(l, width.saturating_sub(2)))
        .map(|row| Line::from(vec![Span::styled("│ ", style(theme, "diff.gutter")), Span::raw(row.to_string())]))
        .collect();
    let mut parts = vec![
        format!("{} allow", key(state, Action::AcceptHunk)),
        format!("{} refuse", key(state, Action::RejectHunk)),
        format!("{} refuse with a reason", key(state, Action::RejectWithReason)),
    ];
    if let Some(k) = &permission.remember_key {
        parts.push(format!("{} always allow `{k}` this session", key(state, Action::AlwaysAllow)));
    }
    let mut footer: Vec<Line> = wrap_parts(&parts, width)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style(theme, "ui.text.dim"))))
        .collect();
    if let Some(reason) = &state.review.reason {
        footer.push(reason_line(state, reason, "Why not (Enter sends, Esc goes back): "));
    }
    let height = area.height as usize;
    // In a pane too short for all of it, the keys stay.
    footer.truncate(height);
    head.truncate(height - footer.len());
    let mut room = height.saturating_sub(head.len() + footer.len());
    let mut lines = head;
    if rows.len() > room {
        // One row says where in the detail the pane is.
        room = room.saturating_sub(1);
        let top = state.review.scroll.min(rows.len() - room);
        let shown = rows.len().min(top + room);
        lines.extend(rows[top..shown].iter().cloned());
        lines.push(Line::from(Span::styled(
            format!(
                "rows {}–{shown} of {} · {} / {} scroll",
                (top + 1).min(shown),
                rows.len(),
                key(state, Action::PageDown),
                key(state, Action::PageUp)
            ),
            style(theme, "ui.text.dim"),
        )));
    } else {
        lines.extend(rows);
    }
    while lines.len() < height.saturating_sub(footer.len()) {
        lines.push(Line::default());
    }
    lines.extend(footer);
    lines.truncate(height);
    frame.render_widget(Paragraph::new(lines), area);
}

/// `parts` joined with " · ", broken into lines of at most `width` columns
/// between parts.
fn wrap_parts(parts: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for p in parts {
        let add = if cur.is_empty() { p.chars().count() } else { cur.chars().count() + 3 + p.chars().count() };
        if !cur.is_empty() && add > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push_str(" · ");
        }
        cur.push_str(p);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn reason_line(state: &AppState, reason: &str, prompt: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(prompt.to_string(), style(&state.theme, "ui.text.accent")),
        Span::styled(format!("{reason}▏"), style(&state.theme, "ui.text")),
    ])
}

fn decision_mark(state: &AppState, h: &HunkReview) -> Span<'static> {
    let glyph = match (&h.decision, h.edited) {
        (Decision::Accepted, true) => "✎",
        (Decision::Accepted, false) => "✓",
        (Decision::Rejected { .. }, _) => "✗",
        (Decision::Pending, _) => "·",
    };
    Span::styled(glyph, decision_style(state, h))
}

fn decision_word(h: &HunkReview) -> String {
    match (&h.decision, h.edited) {
        (Decision::Accepted, true) => "edited, accepted".into(),
        (Decision::Accepted, false) => "accepted".into(),
        (Decision::Rejected { reason: Some(r) }, _) => format!("rejected: {r}"),
        (Decision::Rejected { reason: None }, _) => "rejected".into(),
        (Decision::Pending, _) => "undecided".into(),
    }
}

fn decision_style(state: &AppState, h: &HunkReview) -> Style {
    match h.decision {
        Decision::Accepted => style(&state.theme, "diff.accepted"),
        Decision::Rejected { .. } => style(&state.theme, "diff.rejected"),
        Decision::Pending => style(&state.theme, "diff.pending"),
    }
}

fn file_row(state: &AppState, i: usize, f: &FileReview, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let focused = i == state.review.file;
    let (added, removed) = f.counts();
    let mut spans = vec![
        Span::styled(if focused { "▸ " } else { "  " }, style(theme, "ui.text.accent")),
        Span::styled(format!("{} ", kind_label(&f.change.kind)), style(theme, "diff.hunk")),
    ];
    // Accepted hunk by hunk only; the user must know why `a` does nothing.
    let lock = if f.protected.is_some() { "protected " } else { "" };
    spans.push(Span::styled(lock, style(theme, "ui.status.warning")));
    let path = match &f.change.new_path {
        Some(to) => format!("{} → {}", f.change.path.display(), to.display()),
        None => f.change.path.display().to_string(),
    };
    let marks: Vec<Span> = f.hunks.iter().take(12).map(|h| decision_mark(state, h)).collect();
    let counts = format!(" +{added} −{removed}");
    let room = width.saturating_sub(4 + lock.len() + counts.chars().count() + marks.len() + 2);
    let shown: String = if path.chars().count() > room {
        let tail: String =
            path.chars().rev().take(room.saturating_sub(1)).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    } else {
        path
    };
    let pad = room.saturating_sub(shown.chars().count());
    let path_style = if focused { style(theme, "diff.file") } else { style(theme, "ui.text") };
    spans.push(Span::styled(shown, path_style));
    spans.push(Span::raw(" ".repeat(pad + 1)));
    spans.extend(marks);
    spans.push(Span::styled(counts, style(theme, "ui.text.dim")));
    Line::from(spans)
}

fn render_changes(frame: &mut Frame, area: Rect, state: &AppState, highlight: &HunkHighlight) {
    let theme = &state.theme;
    let r = &state.review;
    let files = r.files();
    let width = area.width as usize;
    let (added, removed) = files.iter().map(FileReview::counts).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let undecided = r.undecided();
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{} file(s) · {} hunk(s) · +{added} −{removed}", files.len(), r.total_hunks()),
            style(theme, "ui.text"),
        ),
        Span::styled(
            if undecided > 0 { format!(" · {undecided} undecided") } else { " · all decided".into() },
            style(theme, if undecided > 0 { "diff.pending" } else { "diff.accepted" }),
        ),
        Span::styled(format!(" · {}", state.policy.name()), style(theme, "ui.text.dim")),
    ])];
    if r.items.len() > 1 {
        lines.push(Line::from(Span::styled(
            format!("{} more waiting after this", r.items.len() - 1),
            style(theme, "ui.text.dim"),
        )));
    }
    // The file list gets at most a third of the pane, scrolled to the focus.
    let list_room = (area.height as usize / 3).max(1);
    let first = r.file.saturating_sub(list_room.saturating_sub(1));
    for (i, f) in files.iter().enumerate().skip(first).take(list_room) {
        lines.push(file_row(state, i, f, width));
    }
    if files.len() > list_room {
        lines.push(Line::from(Span::styled(
            format!(
                "  {}/{} files · {} / {} move",
                r.file + 1,
                files.len(),
                key(state, Action::PrevFile),
                key(state, Action::NextFile)
            ),
            style(theme, "ui.text.dim"),
        )));
    }
    lines.push(Line::from(Span::styled("─".repeat(width), style(theme, "diff.gutter"))));
    let head = lines.len();
    let mut body = Vec::new();
    if let Some((f, h)) = r.focused() {
        let header = crate::patch::hunks::header(&h.hunk);
        body.push(Line::from(vec![
            Span::styled(format!("hunk {}/{} ", r.hunk + 1, f.hunks.len()), style(theme, "ui.text")),
            Span::styled(header, style(theme, "diff.hunk")),
            Span::raw(" "),
            Span::styled(decision_word(h), decision_style(state, h)),
        ]));
        body.extend(hunk_lines(state, h, highlight.lines.as_deref(), width));
    }
    let mut footer = Vec::new();
    if let Some(reason) = &r.reason {
        footer.push(reason_line(state, reason, "Reason (Enter rejects, Esc goes back): "));
    } else {
        let hints = [
            (Action::AcceptHunk, "accept"),
            (Action::RejectHunk, "reject"),
            (Action::RejectWithReason, "with reason"),
            (Action::SplitHunk, "split"),
            (Action::EditHunk, "edit"),
            (Action::ApplyDecisions, "apply"),
            (Action::Help, "all keys"),
        ];
        let parts: Vec<String> = hints.iter().map(|(a, label)| format!("{} {label}", key(state, *a))).collect();
        footer.extend(
            wrap_parts(&parts, width).into_iter().map(|l| Line::from(Span::styled(l, style(theme, "ui.text.dim")))),
        );
    }
    let room = (area.height as usize).saturating_sub(head + footer.len());
    let scroll = r.scroll.min(body.len().saturating_sub(room.max(1)));
    lines.extend(body.into_iter().skip(scroll).take(room));
    while lines.len() < area.height as usize - footer.len().min(area.height as usize) {
        lines.push(Line::default());
    }
    lines.extend(footer);
    lines.truncate(area.height as usize);
    frame.render_widget(Paragraph::new(lines), area);
}

/// The focused hunk's lines: old and new line numbers, the +/- gutter, and
/// the code, highlighted when the terminal shows 24-bit colour.
fn hunk_lines(
    state: &AppState,
    h: &HunkReview,
    highlighted: Option<&[StyledLine]>,
    width: usize,
) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let (mut old_no, mut new_no) = (h.hunk.old_start.max(1), h.hunk.new_start.max(1));
    let digits =
        (h.hunk.old_start + h.hunk.old_lines).max(h.hunk.new_start + h.hunk.new_lines).to_string().len().max(3);
    let gutter = style(theme, "diff.gutter");
    let mut out = Vec::with_capacity(h.hunk.lines.len());
    for (i, l) in h.hunk.lines.iter().enumerate() {
        let (old, new, sign, scope) = match l.kind {
            LineKind::Context => {
                let n = (Some(old_no), Some(new_no));
                old_no += 1;
                new_no += 1;
                (n.0, n.1, " ", "diff.context")
            }
            LineKind::Removed => {
                old_no += 1;
                (Some(old_no - 1), None, "-", "diff.minus")
            }
            LineKind::Added => {
                new_no += 1;
                (None, Some(new_no - 1), "+", "diff.plus")
            }
        };
        let num = |n: Option<usize>| n.map_or_else(|| " ".repeat(digits), |n| format!("{n:>digits$}"));
        let line_style = style(theme, scope);
        let mut spans = vec![
            Span::styled(format!("{} {} ", num(old), num(new)), gutter),
            Span::styled(sign.to_string(), line_style),
        ];
        let room = width.saturating_sub(digits * 2 + 3);
        match highlighted.and_then(|hl| hl.get(i)) {
            Some(parts) if l.kind != LineKind::Context || line_style.bg.is_none() => {
                let mut used = 0;
                for (s, t) in parts {
                    if used >= room {
                        break;
                    }
                    let t: String = t.chars().take(room - used).collect();
                    used += t.chars().count();
                    // The diff's background marks added and removed lines;
                    // the syntax colours the text on it.
                    let s = match line_style.bg {
                        Some(bg) => s.bg(bg),
                        None => *s,
                    };
                    spans.push(Span::styled(t, s));
                }
                if line_style.bg.is_some() && used < room {
                    spans.push(Span::styled(" ".repeat(room - used), line_style));
                }
            }
            _ => {
                let t: String = l.text.replace('\t', "    ").chars().take(room).collect();
                let pad = if line_style.bg.is_some() { room.saturating_sub(t.chars().count()) } else { 0 };
                spans.push(Span::styled(format!("{t}{}", " ".repeat(pad)), line_style));
            }
        }
        out.push(Line::from(spans));
    }
    out
}
