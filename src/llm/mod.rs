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
    pub fn expose(&self) -> &str {
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

/// Token counts of one request. Cached counts are zero where the provider
/// does not report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
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
    pub fn is_retryable(&self) -> bool {
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
