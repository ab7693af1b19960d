//! What the app and the agent say to each other: the [`AgentCommand`]s it
//! takes, the [`AgentEvent`]s it answers with, and how a turn ended
//! ([`TurnOutcome`]).

use std::sync::Arc;
use std::time::Duration;

use crate::llm::select::Profile;
use crate::llm::{ChatMessage, Provider};
use crate::metrics::stats::RequestStats;
use crate::tools::ToolOutput;

pub enum AgentCommand {
    User {
        text: String,
    },
    /// Stop the running turn.
    Cancel,
    /// Ask again after a failed turn.
    Retry,
    /// Replace the conversation (a resumed session's, or empty for a new
    /// one). Ignored while a turn runs.
    Reset(Vec<ChatMessage>),
    /// Use another provider from now on.
    Switch {
        provider: Arc<dyn Provider>,
        profile: Profile,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    Completed,
    Cancelled,
    /// The turn failed; `partial` when some of the answer had arrived (it is
    /// kept on screen, marked), `retryable` when asking again may work.
    Failed {
        message: String,
        partial: bool,
        retryable: bool,
    },
    RoundLimit(u32),
    /// A budget from the configuration is used up; the text says which and
    /// how to raise it.
    OverBudget(String),
}

impl TurnOutcome {
    /// The outcome in a word, as `tandem exec --json` and the journal say it.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            TurnOutcome::Completed => "completed",
            TurnOutcome::Cancelled => "cancelled",
            TurnOutcome::Failed { .. } => "failed",
            TurnOutcome::RoundLimit(_) => "round_limit",
            TurnOutcome::OverBudget(_) => "over_budget",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    TurnStarted,
    /// The model's answer started arriving (time to first byte).
    Responding,
    Text(String),
    ToolCallStarted {
        name: String,
    },
    ToolRunning {
        id: String,
        /// The tool's name, e.g. `read_file`.
        name: String,
        /// The call in a line, e.g. `read src/lib.rs:10-40`.
        description: String,
    },
    /// Output of a running call as it arrives (a command's).
    ToolProgress {
        id: String,
        text: String,
    },
    ToolDone {
        id: String,
        name: String,
        output: ToolOutput,
        elapsed: Duration,
    },
    /// A call a budget did not let run; the model was told `reason`.
    ToolRefused {
        id: String,
        name: String,
        reason: String,
    },
    /// One request to the model ended (answered, failed or stopped).
    RequestEnded(RequestStats),
    /// A budget is 80% used, or past it (said once per budget).
    BudgetWarning(String),
    Retrying {
        attempt: u32,
        max: u32,
        delay: Duration,
        reason: String,
    },
    Notice(String),
    /// The repository map sent with a request.
    MapUsed {
        text: String,
        tokens: usize,
        files: usize,
    },
    TurnEnded(TurnOutcome),
    /// A message was added to the conversation (for the session journal).
    Recorded(ChatMessage),
}
