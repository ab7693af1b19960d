//! The metrics pane: the model's tokens, cost and speed, the tools, the
//! user's decisions, the budgets, the index, tandem's own CPU and memory,
//! and the terminal. One scrolled list of rows; sections a session has no
//! figures for are left out.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style::style;
use crate::config::Theme;
use crate::config::keymap::Action;
use crate::config::keymap::Context;
use crate::metrics::budget::{self, Level};
use crate::metrics::format_cost;
use crate::metrics::stats::{Cost, Latencies, Series};
use crate::view::state::{AppState, IndexStatus};

/// Columns of the labels.
const LABEL: usize = 14;
/// Columns of a figure in the two-column (turn, session) rows.
const COLUMN: usize = 12;
/// Where sparklines start, after the label and the figures they follow.
const SPARK_AT: usize = LABEL + 24;
const SPARK_MAX: usize = 40;

struct Rows<'a> {
    theme: &'a Theme,
    width: usize,
    lines: Vec<Line<'static>>,
}

impl Rows<'_> {
    fn label(&self) -> Style {
        style(self.theme, "metrics.label")
    }

    fn value(&self) -> Style {
        style(self.theme, "metrics.value")
    }

    fn level(&self, level: Level) -> Style {
        match level {
            Level::Ok => self.value(),
            Level::Warn => style(self.theme, "metrics.warning"),
            Level::Exceeded => style(self.theme, "metrics.bad"),
        }
    }

    fn section(&mut self, title: &str, rest: Vec<Span<'static>>) {
        if !self.lines.is_empty() {
            self.lines.push(Line::default());
        }
        let mut spans = vec![Span::styled(title.to_string(), style(self.theme, "ui.text.accent"))];
        spans.extend(rest);
        self.lines.push(Line::from(spans));
    }

    fn row(&mut self, label: &str, value: impl Into<String>) {
        let v = self.value();
        self.styled(label, vec![Span::styled(value.into(), v)]);
    }

    fn styled(&mut self, label: &str, spans: Vec<Span<'static>>) {
        let mut all = vec![Span::styled(format!("{label:<LABEL$}"), self.label())];
        all.extend(spans);
        self.lines.push(Line::from(all));
    }

    /// A row of figures followed by a sparkline of `series`, where it fits.
    fn with_spark(&mut self, label: &str, text: String, series: &Series) {
        let mut spans = vec![Span::styled(format!("{text:<w$}", w = SPARK_AT - LABEL), self.value())];
        let room = self.width.saturating_sub(SPARK_AT).min(SPARK_MAX);
        if room >= 5 && series.len() > 1 {
            spans.push(Span::styled(sparkline(series, room), style(self.theme, "metrics.sparkline")));
        }
        self.styled(label, spans);
    }
}

/// The last `width` values of `series` as block characters, scaled to the
/// largest of them. Written by hand: ratatui's `Sparkline` draws into an
/// area of its own, and these rows scroll with the rest of the pane.
pub(crate) fn sparkline(series: &Series, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let skip = series.len().saturating_sub(width);
    let shown: Vec<f64> = series.values().skip(skip).collect();
    let max = shown.iter().copied().fold(0.0, f64::max);
    shown
        .iter()
        .map(|v| if max > 0.0 { BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize] } else { BARS[0] })
        .collect()
}

/// Token counts short enough for a column: `9,999`, `12.3k`, `1.23M`.
pub fn count(n: u64) -> String {
    match n {
        0..10_000 => {
            let s = n.to_string();
            if s.len() > 3 { format!("{},{}", &s[..s.len() - 3], &s[s.len() - 3..]) } else { s }
        }
        // Bounds where rounding would show one more digit than the range.
        10_000..99_950 => format!("{:.1}k", n as f64 / 1e3),
        99_950..999_500 => format!("{:.0}k", n as f64 / 1e3),
        _ => format!("{:.2}M", n as f64 / 1e6),
    }
}

pub(crate) fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    match ms {
        ms if ms < 1.0 => "<1 ms".into(),
        ms if ms < 1000.0 => format!("{ms:.0} ms"),
        ms if ms < 10_000.0 => format!("{:.1} s", ms / 1000.0),
        ms if ms < 60_000.0 => format!("{:.0} s", ms / 1000.0),
        _ => format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60),
    }
}

fn percentiles(l: &Latencies) -> String {
    match (l.p50(), l.p95()) {
        (Some(a), Some(b)) => format!("p50 {} · p95 {}", duration(a), duration(b)),
        _ => "—".into(),
    }
}

/// A cost that may be partly unpriced: "unknown" (with what is priced, if
/// anything), never $0.
fn cost(c: &Cost) -> String {
    match c.total() {
        Some(_) => format_cost(c.total()),
        None if c.known > 0.0 => format!("unknown (≥{})", format_cost(Some(c.known))),
        None => "unknown".into(),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn model(r: &mut Rows, state: &AppState) {
    let Some(profile) = &state.model.profile else { return };
    let m = &state.metrics.model;
    let turns = plural(state.model.turns, "turn", "turns");
    r.section("Model", vec![Span::styled(format!("  {} · {turns}", state.model.label), r.label())]);
    r.lines.push(Line::from(Span::styled(
        format!("{:LABEL$}{:>COLUMN$}  {:>COLUMN$}", "", "this turn", "session"),
        r.label(),
    )));
    let (t, s) = (&m.turn.usage, &m.session.usage);
    let two = |a: String, b: String| format!("{a:>COLUMN$}  {b:>COLUMN$}");
    r.row("tokens in", two(count(t.input_tokens), count(s.input_tokens)));
    r.row("tokens out", two(count(t.output_tokens), count(s.output_tokens)));
    let cached = |u: &crate::llm::Usage| format!("{} / {}", count(u.cache_read_tokens), count(u.cache_write_tokens));
    r.row("cached r / w", two(cached(t), cached(s)));
    let session_cost = m.session.cost;
    let level = state.metrics.limits.max_cost_usd.map_or(Level::Ok, |max| budget::level(session_cost.known, max));
    let cost_style = if session_cost.unknown { style(r.theme, "metrics.warning") } else { r.level(level) };
    // Before any request there is nothing to price.
    let shown = |t: &crate::metrics::stats::TokenTally| if t.requests == 0 { "—".into() } else { cost(&t.cost) };
    let turn_cost = format!("{:>COLUMN$}  ", shown(&m.turn));
    r.styled(
        "cost",
        vec![Span::styled(turn_cost, r.value()), Span::styled(format!("{:>COLUMN$}", shown(&m.session)), cost_style)],
    );
    r.row("first token", percentiles(&m.first_token));
    let speed = match (m.tokens_per_sec.last(), m.session_tokens_per_sec()) {
        (Some(last), Some(all)) => format!("{last:.0} last · {all:.0} session"),
        _ => "—".into(),
    };
    r.with_spark("tokens/s", speed, &m.tokens_per_sec);
    r.with_spark("latency", percentiles(&m.latency), &m.latency_series);
    let errors = plural(m.errors, "error", "errors");
    let errors_style = if m.errors > 0 { style(r.theme, "metrics.bad") } else { r.value() };
    let mut spans =
        vec![Span::styled(format!("{} · {} · ", m.session.requests, plural(m.retries, "retry", "retries")), r.value())];
    spans.push(Span::styled(errors, errors_style));
    r.styled("requests", spans);
    let window = profile.context_window;
    match m.context {
        Some((used, window)) => {
            let share = used as f64 / window as f64;
            let text = format!("{} of {} ({:.0}%)", count(used), count(window), share * 100.0);
            let st = r.level(budget::level(used as f64, window as f64));
            r.styled("context", vec![Span::styled(text, st)]);
        }
        None => r.row("context", format!("— of {}", count(window))),
    }
}

fn budgets(r: &mut Rows, state: &AppState) {
    let limits = &state.metrics.limits;
    if !limits.any() {
        return;
    }
    r.section("Budget", Vec::new());
    if let Some(max) = limits.max_cost_usd {
        let spent = state.metrics.model.session.cost;
        let level = budget::level(spent.known, max);
        let mut text = format!(
            "{} of {} ({:.0}%)",
            format_cost(Some(spent.known)),
            format_cost(Some(max)),
            spent.known / max * 100.0
        );
        if spent.unknown {
            text.push_str(", some unpriced");
        }
        let st = r.level(level);
        r.styled("cost", vec![Span::styled(text, st)]);
    }
    if let Some(max) = limits.max_turns {
        let used = state.model.turns;
        let st = r.level(budget::level(used as f64, f64::from(max)));
        r.styled("turns", vec![Span::styled(format!("{used} of {max}"), st)]);
    }
    let mut parts = Vec::new();
    if let Some(n) = limits.tool_calls_per_minute {
        parts.push(format!("{n} each"));
    }
    parts.extend(limits.per_tool.iter().filter(|(_, n)| **n > 0).map(|(name, n)| format!("{name} {n}")));
    if !parts.is_empty() {
        r.row("calls/min", parts.join(" · "));
    }
    if state.metrics.model.stopped_by_budget > 0 {
        let n = plural(state.metrics.model.stopped_by_budget, "turn", "turns");
        r.styled("stopped", vec![Span::styled(n, style(r.theme, "metrics.bad"))]);
    }
}

fn tools(r: &mut Rows, state: &AppState) {
    let tools = &state.metrics.tools;
    if state.model.profile.is_none() && tools.is_empty() {
        return;
    }
    if tools.is_empty() {
        r.section("Tools", Vec::new());
        r.row("calls", "none yet");
        return;
    }
    let head = format!("{:w$}{:>5}{:>6}{:>8}{:>8}", "", "calls", "ok", "p50", "p95", w = LABEL - "Tools".len());
    r.section("Tools", vec![Span::styled(head, r.label())]);
    for (name, t) in tools {
        let name = if name.chars().count() >= LABEL {
            format!("{}…", name.chars().take(LABEL - 2).collect::<String>())
        } else {
            name.clone()
        };
        let ok = t.success_percent().map_or_else(|| "—".into(), |p| format!("{p:.0}%"));
        let ok_style = match t.success_percent() {
            Some(p) if p < 100.0 => style(r.theme, "metrics.warning"),
            _ => r.value(),
        };
        let (p50, p95) = match (t.latency.p50(), t.latency.p95()) {
            (Some(a), Some(b)) => (duration(a), duration(b)),
            _ => ("—".into(), "—".into()),
        };
        r.styled(
            &name,
            vec![
                Span::styled(format!("{:>5}", t.calls), r.value()),
                Span::styled(format!("{ok:>6}"), ok_style),
                Span::styled(format!("{p50:>8}{p95:>8}"), r.value()),
            ],
        );
    }
    let refused: Vec<String> =
        tools.iter().filter(|(_, t)| t.refused > 0).map(|(n, t)| format!("{n} {}", t.refused)).collect();
    if !refused.is_empty() {
        let text = format!("{} (budget)", refused.join(" · "));
        r.styled("refused", vec![Span::styled(text, style(r.theme, "metrics.warning"))]);
    }
}

fn approvals(r: &mut Rows, state: &AppState) {
    let a = &state.metrics.approvals;
    let hunks = a.hunks_accepted + a.hunks_edited + a.hunks_rejected;
    let commands = a.commands_approved + a.commands_denied + a.commands_unasked;
    if hunks + commands == 0 && state.model.profile.is_none() {
        return;
    }
    r.section("Approvals", Vec::new());
    r.row(
        "hunks",
        format!("{} accepted · {} edited · {} rejected", a.hunks_accepted, a.hunks_edited, a.hunks_rejected),
    );
    r.row(
        "commands",
        format!("{} approved · {} denied · {} unasked", a.commands_approved, a.commands_denied, a.commands_unasked),
    );
}

fn checks(r: &mut Rows, state: &AppState) {
    let c = &state.checks;
    let Some(commands) = &c.commands else { return };
    if commands.test.is_none() && commands.lint.is_none() && c.runs == 0 {
        return;
    }
    let auto = &state.config.checks;
    let head = if auto.auto_test { "  auto_test on" } else { "" };
    r.section("Checks", vec![Span::styled(head.to_string(), r.label())]);
    for (label, check) in [("test", &commands.test), ("lint", &commands.lint)] {
        let value = match check {
            Some(check) => format!("{} ({})", check.command, check.source),
            None => "none".into(),
        };
        r.row(label, value);
    }
    let last = match (c.running, &c.last) {
        (Some(kind), _) => format!("running {}…", kind.noun()),
        (None, Some(last)) => last.clone(),
        (None, None) => "not run yet".into(),
    };
    r.row("last", last);
    r.row("runs", format!("{} · {} failed", c.runs, c.failures));
    if auto.auto_test {
        r.row("fix rounds", format!("{} of {}", c.fix_rounds, auto.max_fix_rounds));
    }
}

fn index(r: &mut Rows, state: &AppState) {
    let idx = &state.index;
    let rows: Vec<(&str, String)> = match &idx.status {
        IndexStatus::NotStarted => return,
        IndexStatus::Disabled => vec![("index", "off (index.enabled)".into())],
        IndexStatus::Building { done, total } => vec![
            ("index", format!("building: {done}/{total} files")),
            ("speed", format!("{} files/s", idx.files_per_sec)),
        ],
        IndexStatus::Ready { files, definitions, references, seconds } => vec![
            ("files", count(*files as u64)),
            ("definitions", count(*definitions as u64)),
            ("references", count(*references as u64)),
            ("built in", format!("{seconds:.2} s ({} files/s)", idx.files_per_sec)),
            (
                "last update",
                idx.last_update.map_or_else(|| "none".into(), |(n, ms)| format!("{n} file(s), {ms:.1} ms")),
            ),
            (
                "last map",
                idx.last_map
                    .as_ref()
                    .map_or_else(|| "none sent yet".into(), |(_, t)| format!("{} tokens", count(*t as u64))),
            ),
        ],
        IndexStatus::Failed(e) => vec![("index", format!("failed: {e}"))],
    };
    r.section("Index", Vec::new());
    for (label, value) in rows {
        r.row(label, value);
    }
}

fn process(r: &mut Rows, state: &AppState) {
    r.section("Process", Vec::new());
    match state.metrics.process {
        Some(p) => {
            // Exactly what `ProcessSample::shown` holds, which decides redraws.
            let (cpu, tenths_mb) = p.shown();
            r.row("CPU", cpu.map_or_else(|| "measuring…".into(), |c| format!("{c}% of a core")));
            r.row("memory", format!("{}.{} MB resident", tenths_mb / 10, tenths_mb % 10));
        }
        None => {
            r.row("CPU", "n/a");
            r.row("memory", "n/a");
        }
    }
}

fn terminal(r: &mut Rows, state: &AppState) {
    let fps = if state.over_ssh { state.config.ui.ssh_frame_rate } else { state.config.ui.frame_rate };
    let stats = &state.shown_stats;
    r.section("Terminal", Vec::new());
    r.row("frames", stats.frames.to_string());
    r.row("last frame", format!("{} µs", stats.last_frame_us));
    r.row("frame cap", format!("{fps}/s{}", if state.over_ssh { " (ssh)" } else { "" }));
    r.row("keys", stats.keys.to_string());
    r.row("written", format!("{:.1} KB", stats.bytes as f64 / 1000.0));
}

/// Every row of the pane at `width` columns, top to bottom.
pub fn lines(state: &AppState, width: u16) -> Vec<Line<'static>> {
    let mut r = Rows { theme: &state.theme, width: width as usize, lines: Vec::new() };
    model(&mut r, state);
    budgets(&mut r, state);
    tools(&mut r, state);
    approvals(&mut r, state);
    checks(&mut r, state);
    index(&mut r, state);
    process(&mut r, state);
    terminal(&mut r, state);
    r.lines
}

/// The first row shown when the pane is scrolled to `top`: the last page
/// stays full.
pub(crate) fn first_row(total: usize, height: usize, top: usize) -> usize {
    top.min(total.saturating_sub(height))
}

pub fn render(frame: &mut Frame, area: Rect, state: &AppState) {
    let mut lines = lines(state, area.width);
    let height = area.height as usize;
    let skip = first_row(lines.len(), height, state.metrics_top);
    lines.drain(..skip);
    // Say that more follows, and how to see it, in place of the last row.
    if lines.len() > height && height > 1 {
        let key = super::status::key_label(state, Context::Metrics, Action::ScrollDown);
        let more = lines.len() - height + 1;
        lines.truncate(height - 1);
        lines.push(Line::from(Span::styled(
            format!("↓ {more} more rows ({key} scrolls)"),
            style(&state.theme, "ui.status.hint"),
        )));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stay_short() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(9_999), "9,999");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(count(200_000), "200k");
        assert_eq!(count(99_960), "100k");
        assert_eq!(count(999_999), "1.00M");
        assert_eq!(count(1_047_576), "1.05M");
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(Duration::from_micros(300)), "<1 ms");
        assert_eq!(duration(Duration::from_millis(42)), "42 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.2 s");
        assert_eq!(duration(Duration::from_secs(42)), "42 s");
        assert_eq!(duration(Duration::from_secs(125)), "2m 05s");
    }

    #[test]
    fn sparklines_scale_to_the_largest_value_shown() {
        let mut s = Series::default();
        for v in [0.0, 1.0, 2.0, 4.0, 8.0] {
            s.push(v);
        }
        assert_eq!(sparkline(&s, 10), "▁▂▃▅█");
        // Narrower: the latest values.
        assert_eq!(sparkline(&s, 2), "▅█");
        assert_eq!(sparkline(&Series::default(), 5), "");
    }

    #[test]
    fn unknown_cost_is_never_zero() {
        assert_eq!(cost(&Cost { known: 0.0, unknown: true }), "unknown");
        assert_eq!(cost(&Cost { known: 0.5, unknown: true }), "unknown (≥$0.50)");
        assert_eq!(cost(&Cost { known: 0.0, unknown: false }), "$0.0000");
    }

    #[test]
    fn the_last_page_stays_full() {
        assert_eq!(first_row(50, 20, 0), 0);
        assert_eq!(first_row(50, 20, 10), 10);
        assert_eq!(first_row(50, 20, 99), 30);
        assert_eq!(first_row(10, 20, 5), 0);
    }
}
