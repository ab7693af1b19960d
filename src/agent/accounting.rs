//! What the agent measures and limits: each request's timing, tokens and
//! cost, and the session's budgets, checked before each turn, request and
//! tool call.

use std::time::{Duration, Instant};

use super::{Agent, AgentEvent};
use crate::llm::{ChatMessage, ToolCall, Usage};
use crate::metrics::budget::{Budget, Check, Limits};
use crate::metrics::stats::RequestStats;

/// What is measured of one request while it streams.
pub(super) struct RequestTrack {
    pub started: Instant,
    pub first_token: Option<Duration>,
    pub usage: Usage,
}

impl RequestTrack {
    pub fn new() -> Self {
        Self { started: Instant::now(), first_token: None, usage: Usage::default() }
    }

    pub(crate) fn token(&mut self) {
        if self.first_token.is_none() {
            self.first_token = Some(self.started.elapsed());
        }
    }
}

impl Agent {
    /// Hold the session to these budgets (none by default).
    pub(crate) fn with_budget(mut self, limits: Limits) -> Self {
        self.budget = Budget::new(limits);
        self
    }

    /// Pass on a budget's warning; `Some(reason)` when it refuses.
    pub(super) fn budget_refuses(&self, check: Check) -> Option<String> {
        match check {
            Check::Ok => None,
            Check::Warn(text) => {
                self.emit(AgentEvent::BudgetWarning(text));
                None
            }
            Check::Exceeded(why) => Some(why),
        }
    }

    /// Report a request that ended, and count its cost against the budget.
    pub(super) fn request_ended(&mut self, track: &RequestTrack, failed: bool) {
        let usage = track.usage;
        let prices = &self.profile.prices;
        let cost = if usage != Usage::default() {
            crate::metrics::cost(&usage, prices)
        } else if track.first_token.is_none() || (prices.input == Some(0.0) && prices.output == Some(0.0)) {
            Some(0.0)
        } else {
            // An answer came but the provider reported no tokens: its cost
            // is not known.
            None
        };
        let context_tokens = match usage.input_tokens {
            0 => self.context_estimate,
            n => n,
        };
        self.emit(AgentEvent::RequestEnded(RequestStats {
            first_token: track.first_token,
            elapsed: track.started.elapsed(),
            usage,
            cost,
            context_tokens,
            context_window: self.profile.context_window,
            failed,
        }));
        let check = self.budget.add_cost(cost);
        self.budget_refuses(check);
    }

    /// Answer calls that will not run, so that every call in the
    /// conversation has its result; `reason` follows the tool's name.
    pub(super) fn refuse_calls(&mut self, calls: &[ToolCall], reason: &str) {
        for call in calls {
            let (id, name) = (call.id.clone(), call.name.clone());
            let reason = format!("`{name}` {reason}");
            self.emit(AgentEvent::ToolRefused { id: id.clone(), name: name.clone(), reason: reason.clone() });
            self.remember(ChatMessage::Tool { call_id: id, name, content: reason, is_error: true });
        }
    }
}
