//! The diff-approval and metrics panes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::style;
use crate::app::state::{AppState, IndexStatus};

fn row(theme: &crate::config::Theme, label: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<14}"), style(theme, "metrics.label")),
        Span::styled(value, style(theme, "metrics.value")),
    ])
}

pub fn render_metrics(frame: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let fps = if state.over_ssh { state.config.ui.ssh_frame_rate } else { state.config.ui.frame_rate };
    let model = &state.model;
    let mut lines = Vec::new();
    if let Some(profile) = &model.profile {
        let u = &model.usage;
        let cost = crate::metrics::cost(u, &profile.prices, &profile.kind);
        lines.extend([
            Line::from(Span::styled("Model", style(theme, "ui.text.accent"))),
            row(theme, "model", model.label.clone()),
            row(theme, "turns", model.turns.to_string()),
            row(theme, "tokens in", u.input_tokens.to_string()),
            row(theme, "tokens out", u.output_tokens.to_string()),
            row(theme, "cached", format!("{} read, {} written", u.cache_read_tokens, u.cache_write_tokens)),
            row(theme, "cost", crate::metrics::format_cost(cost)),
            Line::default(),
        ]);
    }
    let idx = &state.index;
    let index_rows: Vec<Line> = match &idx.status {
        IndexStatus::NotStarted => Vec::new(),
        IndexStatus::Disabled => vec![row(theme, "index", "off (index.enabled)".into())],
        IndexStatus::Building { done, total } => vec![
            row(theme, "index", format!("building: {done}/{total} files")),
            row(theme, "speed", format!("{} files/s", idx.files_per_sec)),
        ],
        IndexStatus::Ready { files, definitions, references, seconds } => vec![
            row(theme, "files", files.to_string()),
            row(theme, "definitions", definitions.to_string()),
            row(theme, "references", references.to_string()),
            row(theme, "built in", format!("{seconds:.2} s ({} files/s)", idx.files_per_sec)),
            row(
                theme,
                "last update",
                idx.last_update.map_or_else(|| "none".into(), |(n, ms)| format!("{n} file(s), {ms:.1} ms")),
            ),
            row(
                theme,
                "last map",
                idx.last_map.as_ref().map_or_else(|| "none sent yet".into(), |(_, t)| format!("{t} tokens")),
            ),
        ],
        IndexStatus::Failed(e) => vec![row(theme, "index", format!("failed: {e}"))],
    };
    if !index_rows.is_empty() {
        lines.push(Line::from(Span::styled("Index", style(theme, "ui.text.accent"))));
        lines.extend(index_rows);
        lines.push(Line::default());
    }
    lines.extend([
        Line::from(Span::styled("Terminal", style(theme, "ui.text.accent"))),
        row(theme, "frames", state.shown_stats.frames.to_string()),
        row(theme, "last frame", format!("{} µs", state.shown_stats.last_frame_us)),
        row(theme, "frame cap", format!("{fps}/s{}", if state.over_ssh { " (ssh)" } else { "" })),
        row(theme, "keys", state.shown_stats.keys.to_string()),
        row(theme, "written", format!("{:.1} KB", state.shown_stats.bytes as f64 / 1000.0)),
    ]);
    let skip = state.metrics_top.min(lines.len().saturating_sub(1));
    lines.drain(..skip);
    frame.render_widget(Paragraph::new(lines), area);
}
