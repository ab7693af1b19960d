//! Model providers: one request in, a stream of events out.
//!
//! Each wire format lives in its own file; retries, backoff and timeouts live
//! here in `llm` and nowhere above it, so the agent sees either events or one
//! final error.

pub mod anthropic;
pub mod http;
pub mod openai;
pub mod retry;
pub mod scripted;
pub mod select;
pub mod sse;

use std::fmt;
use std::time::Duration;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// An API key. It is never printed: not in Debug, not in errors, not in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The key itself, for the one place that puts it in a request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One complete tool call requested by the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for the call, echoed back with the result.
    pub id: String,
    pub name: String,
    /// The arguments as the JSON text the model wrote (may be invalid JSON;
    /// the tool registry reports that back to the model).
    pub arguments: String,
}

/// A message of the conversation, in provider-neutral form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessage {
    User { text: String },
    Assistant { text: String, tool_calls: Vec<ToolCall> },
    Tool { call_id: String, name: String, content: String, is_error: bool },
}

/// A tool the model may call: name, description and JSON schema of the
/// arguments object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub model: String,
    /// The system prompt (OpenAI: a leading system message; Anthropic: the
    /// `system` field).
    pub system: String,
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: u32,
    pub temperature: Option<f32>,
}

/// Token counts of one request, in one form whatever the provider: each
/// decoder turns its API's report into this, so pricing and the metrics pane
/// count the same way for every provider and never ask which one answered.
///
/// The cache and reasoning counts are parts of the totals, never additions
/// to them. A count the provider does not report is zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Every token of the prompt, cached or not: `cache_read_tokens` of them
    /// were read from the provider's prompt cache, `cache_write_tokens`
    /// written to it, and the rest are plain input.
    pub input_tokens: u64,
    /// Every token generated, reasoning included.
    pub output_tokens: u64,
    /// Of `input_tokens`, those read from the prompt cache.
    pub cache_read_tokens: u64,
    /// Of `input_tokens`, those written to the prompt cache.
    pub cache_write_tokens: u64,
    /// Of `output_tokens`, those spent on reasoning. Absent from sessions
    /// recorded before it was counted.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// Prompt tokens neither read from nor written to the cache: those
    /// billed at the plain input price.
    pub(crate) fn uncached_input_tokens(&self) -> u64 {
        self.input_tokens.saturating_sub(self.cache_read_tokens).saturating_sub(self.cache_write_tokens)
    }

    /// Keeps each part within its total. A server's counts are untrusted
    /// input: one that reports more cached tokens than its prompt held must
    /// not make a cost out of tokens that were never sent.
    pub(crate) fn within_totals(mut self) -> Self {
        self.cache_read_tokens = self.cache_read_tokens.min(self.input_tokens);
        self.cache_write_tokens = self.cache_write_tokens.min(self.input_tokens - self.cache_read_tokens);
        self.reasoning_tokens = self.reasoning_tokens.min(self.output_tokens);
        self
    }
}

/// Session totals saturate rather than overflow: a hostile server can report
/// `u64::MAX` tokens.
impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(other.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.saturating_add(other.cache_write_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(other.reasoning_tokens);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    EndTurn,
    ToolUse,
    MaxTokens,
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LlmEvent {
    /// The HTTP response started (status 200): time to first byte.
    Started,
    TextDelta(String),
    /// The model began a tool call; its arguments are still streaming.
    ToolCallStarted {
        index: usize,
        name: String,
    },
    /// A tool call whose arguments are complete.
    ToolCall(ToolCall),
    Usage(Usage),
    /// A failed attempt will be retried after `delay`.
    Retrying {
        attempt: u32,
        max: u32,
        delay: Duration,
        reason: String,
    },
    /// The answer is complete.
    Done(StopReason),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    #[error("cannot reach {url}: {reason}")]
    Connect { url: String, reason: String },
    /// 401/403: the message names the key or variable to check.
    #[error("{message}")]
    Auth { status: u16, message: String },
    #[error("the server answered {status}: {message}")]
    Http { status: u16, message: String },
    #[error(
        "no data from the model for {0:?}; the stream was given up (raise [model] idle_timeout_secs if it is this slow)"
    )]
    IdleTimeout(Duration),
    /// The stream ended before the answer did.
    #[error("the stream broke mid-answer: {0}")]
    Broken(String),
    #[error("the server's answer could not be understood: {0}")]
    Protocol(String),
    #[error("cancelled")]
    Cancelled,
}

impl LlmError {
    /// Whether trying the same request again may succeed.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            LlmError::Connect { .. } | LlmError::IdleTimeout(_) | LlmError::Broken(_) => true,
            LlmError::Http { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

pub type EventStream = BoxStream<'static, Result<LlmEvent, LlmError>>;

/// A model behind some wire format.
pub trait Provider: Send + Sync {
    /// For the status line and logs, e.g. `openai gpt-4.1` or `ollama`.
    fn describe(&self) -> String;

    /// Stream one answer. Connection errors, 429 and 5xx before the answer
    /// starts are retried inside (announced by `LlmEvent::Retrying`); the
    /// stream ends after `Done` or one `Err`. Cancelling the token ends the
    /// stream with `Err(Cancelled)` promptly and drops the connection.
    fn stream(&self, request: Request, cancel: CancellationToken) -> EventStream;
}

/// How to reach a provider over HTTP.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`,
    /// `https://api.anthropic.com`.
    pub base_url: String,
    pub api_key: Option<Secret>,
    /// The variable the key came from, named in 401/403 messages.
    pub api_key_env: Option<String>,
    pub connect_timeout: Duration,
    /// Longest silence allowed while streaming.
    pub idle_timeout: Duration,
    pub max_retries: u32,
    /// First backoff delay; doubled each attempt, with jitter.
    pub backoff_base: Duration,
    /// Ceiling on any single wait, including a server's Retry-After.
    pub backoff_max: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            api_key: None,
            api_key_env: None,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            max_retries: 5,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, read: u64, write: u64, reasoning: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: read,
            cache_write_tokens: write,
            reasoning_tokens: reasoning,
        }
    }

    #[test]
    fn the_parts_stay_within_their_totals() {
        let u = usage(1000, 50, 600, 300, 20);
        assert_eq!(u.within_totals(), u);
        assert_eq!(u.uncached_input_tokens(), 100);
        // Counts that do not add up are cut to what the prompt held.
        let odd = usage(100, 10, 250, 40, 99).within_totals();
        assert_eq!(odd, usage(100, 10, 100, 0, 10));
        assert_eq!(odd.uncached_input_tokens(), 0);
        assert_eq!(usage(100, 0, 70, 70, 0).within_totals(), usage(100, 0, 70, 30, 0));
    }

    #[test]
    fn totals_saturate_instead_of_overflowing() {
        let mut total = usage(u64::MAX, 1, 0, 0, 0);
        total += usage(5, u64::MAX, 3, 2, 1);
        assert_eq!(total, usage(u64::MAX, u64::MAX, 3, 2, 1));
    }

    #[test]
    fn usage_recorded_before_reasoning_was_counted_still_reads() {
        let old = r#"{"input_tokens":3,"output_tokens":2,"cache_read_tokens":1,"cache_write_tokens":0}"#;
        let u: Usage = serde_json::from_str(old).expect("old usage");
        assert_eq!(u, usage(3, 2, 1, 0, 0));
    }
}
