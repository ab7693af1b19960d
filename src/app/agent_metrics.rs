//! What the agent's events mean for the session's figures. Metrics sit
//! below the agent and know nothing of its events; this one function says
//! which event counts as what.

use crate::agent::{AgentEvent, TurnOutcome};
use crate::metrics::SessionMetrics;

/// Take in one event of the agent.
pub fn record(metrics: &mut SessionMetrics, ev: &AgentEvent) {
    match ev {
        AgentEvent::TurnStarted => metrics.turn_started(),
        AgentEvent::Retrying { .. } => metrics.retried(),
        AgentEvent::RequestEnded(stats) => metrics.request_ended(stats),
        AgentEvent::ToolDone { name, output, elapsed, .. } => metrics.tool_done(name, output.is_error, *elapsed),
        AgentEvent::ToolRefused { name, .. } => metrics.tool_refused(name),
        AgentEvent::TurnEnded(TurnOutcome::OverBudget(_)) => metrics.stopped_by_budget(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::llm::Usage;
    use crate::metrics::stats::RequestStats;
    use crate::tools::ToolOutput;

    fn request(output: u64, first_ms: u64, total_ms: u64, cost: Option<f64>) -> AgentEvent {
        AgentEvent::RequestEnded(RequestStats {
            first_token: Some(Duration::from_millis(first_ms)),
            elapsed: Duration::from_millis(total_ms),
            usage: Usage { input_tokens: 1000, output_tokens: output, ..Usage::default() },
            cost,
            context_tokens: 1000,
            context_window: 8000,
            failed: false,
        })
    }

    #[test]
    fn requests_feed_the_turn_and_the_session() {
        let mut m = SessionMetrics::default();
        record(&mut m, &AgentEvent::TurnStarted);
        record(&mut m, &request(100, 500, 2500, Some(0.01)));
        record(&mut m, &AgentEvent::Retrying { attempt: 1, max: 3, delay: Duration::ZERO, reason: "429".into() });
        record(&mut m, &request(50, 200, 1200, Some(0.02)));
        assert_eq!(m.model.turn.usage.output_tokens, 150);
        assert_eq!(m.model.turn.requests, 2);
        record(&mut m, &AgentEvent::TurnStarted);
        record(&mut m, &request(10, 100, 600, None));
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
    }

    #[test]
    fn tool_calls_by_name() {
        let mut m = SessionMetrics::default();
        let done = |name: &str, ok: bool, ms: u64| AgentEvent::ToolDone {
            id: "c".into(),
            name: name.into(),
            output: if ok { ToolOutput::ok("x", "x") } else { ToolOutput::error("no") },
            elapsed: Duration::from_millis(ms),
        };
        record(&mut m, &done("grep", true, 4));
        record(&mut m, &done("grep", true, 6));
        record(&mut m, &done("run_command", false, 900));
        record(&mut m, &AgentEvent::ToolRefused { id: "d".into(), name: "run_command".into(), reason: "limit".into() });
        let grep = &m.tools["grep"];
        assert_eq!((grep.calls, grep.failed, grep.success_percent()), (2, 0, Some(100.0)));
        assert_eq!(grep.latency.p50(), Some(Duration::from_millis(4)));
        let run = &m.tools["run_command"];
        assert_eq!((run.calls, run.failed, run.refused, run.success_percent()), (1, 1, 1, Some(0.0)));
    }

    #[test]
    fn only_a_budget_stop_counts_among_turn_endings() {
        let mut m = SessionMetrics::default();
        for outcome in [TurnOutcome::Completed, TurnOutcome::Cancelled, TurnOutcome::OverBudget("cost".into())] {
            record(&mut m, &AgentEvent::TurnEnded(outcome));
        }
        assert_eq!(m.model.stopped_by_budget, 1);
        record(&mut m, &AgentEvent::Text("words".into()));
        assert_eq!((m.model.retries, m.model.turn.requests, m.tools.len()), (0, 0, 0));
    }
}
