//! The session's figures as the metrics pane shows them, updated as things
//! happen (a request ended, a tool call ended, the user decided), never by
//! polling. What happened is told in plain terms: the layers above translate
//! their own events into these calls.

use std::collections::BTreeMap;
use std::time::Duration;

use super::budget::Limits;
use super::process::ProcessSample;
use super::stats::{Latencies, RequestStats, Series, TokenTally};

#[derive(Debug, Clone, Default)]
pub struct ModelFigures {
    /// The running (or last) turn.
    pub turn: TokenTally,
    pub session: TokenTally,
    pub retries: u64,
    /// Requests that ended with an error.
    pub errors: u64,
    pub first_token: Latencies,
    /// Whole requests, from sending to the end of the answer.
    pub latency: Latencies,
    /// Output tokens per second of each request that streamed some.
    pub tokens_per_sec: Series,
    /// Seconds of each request.
    pub latency_series: Series,
    /// Output tokens and time spent generating them, over the session.
    pub generated_tokens: u64,
    pub generating: Duration,
    /// Prompt tokens of the last request, and the model's window.
    pub context: Option<(u64, u64)>,
    /// Turns stopped by a budget.
    pub stopped_by_budget: u64,
}

impl ModelFigures {
    /// Output tokens per second over the whole session.
    pub(crate) fn session_tokens_per_sec(&self) -> Option<f64> {
        let secs = self.generating.as_secs_f64();
        (self.generated_tokens > 0 && secs > 0.0).then(|| self.generated_tokens as f64 / secs)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ToolFigures {
    /// Calls that ran.
    pub calls: u64,
    /// Calls that ran and failed.
    pub failed: u64,
    /// Calls a budget did not let run.
    pub refused: u64,
    pub latency: Latencies,
}

impl ToolFigures {
    /// Share of the calls that ran and succeeded, 0–100.
    pub(crate) fn success_percent(&self) -> Option<f64> {
        (self.calls > 0).then(|| (self.calls - self.failed) as f64 / self.calls as f64 * 100.0)
    }
}

/// What the user decided in the diff-approval pane, and what ran unasked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Approvals {
    pub hunks_accepted: u64,
    pub hunks_edited: u64,
    pub hunks_rejected: u64,
    pub commands_approved: u64,
    pub commands_denied: u64,
    /// Commands that ran without asking (read-only, allowed, or policy).
    pub commands_unasked: u64,
}

impl Approvals {
    /// Count a hunk by its verdict (`accepted`, `edited`, `rejected`).
    pub(crate) fn hunk(&mut self, verdict: &str) {
        match verdict {
            "accepted" => self.hunks_accepted += 1,
            "edited" => self.hunks_edited += 1,
            _ => self.hunks_rejected += 1,
        }
    }
}

/// Everything the metrics pane shows that is not the app's own state.
#[derive(Debug, Clone, Default)]
pub struct SessionMetrics {
    pub model: ModelFigures,
    /// By tool name.
    pub tools: BTreeMap<String, ToolFigures>,
    pub approvals: Approvals,
    /// The last reading of tandem's own CPU and memory; `None` is "n/a".
    pub process: Option<ProcessSample>,
    /// The budgets in force, to show against what was used.
    pub limits: Limits,
}

impl SessionMetrics {
    /// A turn started: the turn's figures start from nothing.
    pub(crate) fn turn_started(&mut self) {
        self.model.turn = TokenTally::default();
    }

    /// A request failed and is sent again.
    pub(crate) fn retried(&mut self) {
        self.model.retries += 1;
    }

    /// A turn was stopped by a budget.
    pub(crate) fn stopped_by_budget(&mut self) {
        self.model.stopped_by_budget += 1;
    }

    /// A tool call ran to its end after `elapsed`, failed or not.
    pub(crate) fn tool_done(&mut self, name: &str, failed: bool, elapsed: Duration) {
        let t = self.tools.entry(name.to_string()).or_default();
        t.calls += 1;
        t.failed += u64::from(failed);
        t.latency.push(elapsed);
    }

    /// A budget did not let a call of `name` run.
    pub(crate) fn tool_refused(&mut self, name: &str) {
        self.tools.entry(name.to_string()).or_default().refused += 1;
    }

    /// A request to the model ended, answered or failed.
    pub(crate) fn request_ended(&mut self, s: &RequestStats) {
        let m = &mut self.model;
        m.turn.add(&s.usage, s.cost);
        m.session.add(&s.usage, s.cost);
        m.errors += u64::from(s.failed);
        if let Some(ft) = s.first_token {
            m.first_token.push(ft);
        }
        m.latency.push(s.elapsed);
        m.latency_series.push(s.elapsed.as_secs_f64());
        if let (Some(tps), Some(ft)) = (s.tokens_per_sec(), s.first_token) {
            m.tokens_per_sec.push(tps);
            m.generated_tokens += s.usage.output_tokens;
            m.generating += s.elapsed.saturating_sub(ft);
        }
        if s.context_window > 0 && s.context_tokens > 0 {
            m.context = Some((s.context_tokens, s.context_window));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Usage;

    fn request(output: u64, first_ms: u64, total_ms: u64, cost: Option<f64>) -> RequestStats {
        RequestStats {
            first_token: Some(Duration::from_millis(first_ms)),
            elapsed: Duration::from_millis(total_ms),
            usage: Usage { input_tokens: 1000, output_tokens: output, ..Usage::default() },
            cost,
            context_tokens: 1000,
            context_window: 8000,
            failed: false,
        }
    }

    #[test]
    fn requests_feed_the_turn_and_the_session() {
        let mut m = SessionMetrics::default();
        m.turn_started();
        m.request_ended(&request(100, 500, 2500, Some(0.01)));
        m.retried();
        m.request_ended(&request(50, 200, 1200, Some(0.02)));
        assert_eq!(m.model.turn.usage.output_tokens, 150);
        assert_eq!(m.model.turn.requests, 2);
        m.turn_started();
        m.request_ended(&request(10, 100, 600, None));
        assert_eq!(m.model.turn.usage.output_tokens, 10);
        assert_eq!(m.model.turn.cost.total(), None);
        assert_eq!(m.model.session.usage.output_tokens, 160);
        assert_eq!(m.model.session.cost.total(), None);
        assert!((m.model.session.cost.known - 0.03).abs() < 1e-12);
        assert_eq!(m.model.retries, 1);
        assert_eq!(m.model.tokens_per_sec.values().collect::<Vec<_>>(), vec![50.0, 50.0, 20.0]);
        // 160 tokens over 2 + 1 + 0.5 s of generating.
        assert_eq!(m.model.session_tokens_per_sec(), Some(160.0 / 3.5));
        assert_eq!(m.model.latency.p50(), Some(Duration::from_millis(1200)));
        assert_eq!(m.model.first_token.p95(), Some(Duration::from_millis(500)));
        assert_eq!(m.model.context, Some((1000, 8000)));
        assert_eq!(m.model.errors, 0);
        m.request_ended(&RequestStats { failed: true, first_token: None, ..request(0, 0, 300, None) });
        assert_eq!(m.model.errors, 1);
        // A request with no first token streamed nothing: no rate from it.
        assert_eq!(m.model.tokens_per_sec.values().count(), 3);
        m.stopped_by_budget();
        assert_eq!(m.model.stopped_by_budget, 1);
    }

    #[test]
    fn tool_calls_by_name() {
        let mut m = SessionMetrics::default();
        m.tool_done("grep", false, Duration::from_millis(4));
        m.tool_done("grep", false, Duration::from_millis(6));
        m.tool_done("run_command", true, Duration::from_millis(900));
        m.tool_refused("run_command");
        let grep = &m.tools["grep"];
        assert_eq!((grep.calls, grep.failed, grep.success_percent()), (2, 0, Some(100.0)));
        assert_eq!(grep.latency.p50(), Some(Duration::from_millis(4)));
        let run = &m.tools["run_command"];
        assert_eq!((run.calls, run.failed, run.refused, run.success_percent()), (1, 1, 1, Some(0.0)));
        m.tool_refused("list_files");
        assert_eq!((m.tools["list_files"].calls, m.tools["list_files"].success_percent()), (0, None));
    }
}
