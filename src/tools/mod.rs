//! Tools the model can call. The agent sees them only through
//! [`ToolRegistry`]: their schemas, and a call that returns text for the model.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::llm::{ToolCall, ToolSpec};

/// What a tool call gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// The text the model receives.
    pub content: String,
    /// The call failed; `content` says why, so the model can correct itself.
    pub is_error: bool,
    /// One line for the chat, e.g. `read src/main.rs (120 lines)`.
    pub summary: String,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>, summary: impl Into<String>) -> Self {
        Self { content: content.into(), is_error: false, summary: summary.into() }
    }

    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        Self { summary: message.clone(), content: message, is_error: true }
    }
}

pub trait ToolRegistry: Send + Sync {
    fn specs(&self) -> Vec<ToolSpec>;

    /// Run one call. Unknown tools and invalid arguments are errors returned
    /// as output, never panics.
    fn call(&self, call: ToolCall, cancel: CancellationToken) -> BoxFuture<'static, ToolOutput>;

    /// A one-line description of a call for the chat, before it runs.
    fn describe(&self, call: &ToolCall) -> String {
        let args = call.arguments.replace('\n', " ");
        let args: String = args.chars().take(80).collect();
        format!("{}({args})", call.name)
    }

    /// Longest time a call may run.
    fn timeout(&self) -> Duration {
        Duration::from_secs(120)
    }
}

/// No tools: the model can only talk.
pub struct NoTools;

impl ToolRegistry for NoTools {
    fn specs(&self) -> Vec<ToolSpec> {
        Vec::new()
    }

    fn call(&self, call: ToolCall, _cancel: CancellationToken) -> BoxFuture<'static, ToolOutput> {
        Box::pin(async move { ToolOutput::error(format!("there is no tool named `{}`", call.name)) })
    }
}
