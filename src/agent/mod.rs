//! The agent: one conversation with the model, run as a background task.
//!
//! It takes [`AgentCommand`]s from the app and answers with [`AgentEvent`]s.
//! A turn streams the model's answer, runs the tools it calls, feeds their
//! results back, and repeats until the model ends the turn (or the round
//! limit, a cancel, or an error does).

mod accounting;
pub mod budget;
mod calls;
mod events;
pub(crate) mod prompt;
mod redact;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::index::SharedIndex;
use crate::llm::select::Profile;
use crate::llm::{ChatMessage, LlmError, LlmEvent, Provider, Request, StopReason, ToolCall};
use crate::metrics::budget::Budget;
use crate::tools::ToolRegistry;
use accounting::RequestTrack;
pub use events::{AgentCommand, AgentEvent, TurnOutcome};

pub(crate) struct AgentConfig {
    pub root: PathBuf,
    pub cwd: PathBuf,
    pub is_git: bool,
    pub max_tool_rounds: u32,
    pub index: Option<SharedIndex>,
    /// Tokens of the repository map in each request; 0 sends none.
    pub map_tokens: usize,
}

pub(crate) struct Agent {
    provider: Arc<dyn Provider>,
    profile: Profile,
    tools: Arc<dyn ToolRegistry>,
    config: AgentConfig,
    conversation: Vec<ChatMessage>,
    events: UnboundedSender<AgentEvent>,
    /// Messages that arrived while a turn was running.
    queued: VecDeque<String>,
    /// What fitting to the context window last did, to report only changes.
    last_fit: (usize, usize),
    /// tandem's estimate of the last request's prompt, in tokens.
    context_estimate: u64,
    budget: Budget,
}

/// How long stream events gather after a burst before the next read.
const STREAM_GATHER: Duration = Duration::from_millis(20);
/// Bursts shorter than this mean a slow stream, worth gathering.
const SLOW_BURST: usize = 8;
/// Most events handled in one burst, so a cancel is seen promptly even when
/// a fast stream never pauses.
const MAX_BURST: usize = 256;

enum StreamEnd {
    Done(StopReason),
    Cancelled,
    Failed(LlmError),
}

impl Agent {
    pub fn new(
        provider: Arc<dyn Provider>,
        profile: Profile,
        tools: Arc<dyn ToolRegistry>,
        config: AgentConfig,
        events: UnboundedSender<AgentEvent>,
    ) -> Self {
        Self {
            provider,
            profile,
            tools,
            config,
            conversation: Vec::new(),
            events,
            queued: VecDeque::new(),
            last_fit: (0, 0),
            context_estimate: 0,
            budget: Budget::default(),
        }
    }

    /// Add `m` to the conversation and tell the app.
    fn remember(&mut self, m: ChatMessage) {
        self.emit(AgentEvent::Recorded(m.clone()));
        self.conversation.push(m);
    }

    fn emit(&self, ev: AgentEvent) {
        let _ = self.events.send(redact::event(ev, &crate::secrets::redactor()));
    }

    /// Serve commands until the app goes away.
    pub async fn run(mut self, mut commands: UnboundedReceiver<AgentCommand>) {
        while let Some(cmd) = commands.recv().await {
            match cmd {
                AgentCommand::User { text } => {
                    self.queued.push_back(text);
                    while let Some(text) = self.queued.pop_front() {
                        self.turn(&mut commands, Some(text)).await;
                    }
                }
                AgentCommand::Retry => {
                    if matches!(self.conversation.last(), Some(ChatMessage::User { .. } | ChatMessage::Tool { .. })) {
                        self.turn(&mut commands, None).await;
                    }
                }
                AgentCommand::Cancel => {}
                AgentCommand::Reset(conversation) => self.conversation = conversation,
                AgentCommand::Switch { provider, profile } => {
                    self.provider = provider;
                    self.profile = profile;
                }
            }
        }
    }

    async fn request(&mut self) -> Request {
        let (root, cwd, is_git) = (self.config.root.clone(), self.config.cwd.clone(), self.config.is_git);
        let has_tools = !self.tools.specs().is_empty();
        // AGENTS.md files are read from disk: off the thread the UI runs on.
        let mut system =
            tokio::task::spawn_blocking(move || prompt::system_prompt(&root, &cwd, is_git, has_tools, &today()))
                .await
                .unwrap_or_else(|_| prompt::SYSTEM_PROMPT.to_string());
        if let Some(map) = self.repo_map().await {
            system.push_str(&format!(
                "\n\n# Repository map\n\nThe definitions of this repository most relevant to the request, \
                 by file, with the lines that enclose them:\n\n{}",
                map.text
            ));
            self.emit(AgentEvent::MapUsed { tokens: map.tokens, files: map.files.len(), text: map.text });
        }
        // AGENTS.md files and the map quote the repository, which may hold a key.
        let system = crate::secrets::redact(&system);
        let tools = self.tools.specs();
        let fixed = budget::estimate(&system)
            + tools
                .iter()
                .map(|t| budget::estimate(&t.description) + budget::estimate(&t.parameters.to_string()))
                .sum::<u64>();
        let limit = self.profile.context_window.saturating_sub(u64::from(self.profile.max_output_tokens));
        let fitted = budget::fit(&self.conversation, fixed, limit);
        let now = (fitted.shortened_outputs, fitted.dropped_turns);
        if now != self.last_fit && now != (0, 0) {
            let mut parts = Vec::new();
            if fitted.shortened_outputs > 0 {
                parts.push(format!("shortened {} older tool outputs", fitted.shortened_outputs));
            }
            if fitted.dropped_turns > 0 {
                parts.push(format!("left out the {} oldest turns", fitted.dropped_turns));
            }
            self.emit(AgentEvent::Notice(format!(
                "To fit the model's context window ({} tokens), tandem {}.",
                self.profile.context_window,
                parts.join(" and ")
            )));
        }
        self.last_fit = now;
        self.context_estimate = fitted.estimated_tokens;
        Request {
            model: self.profile.model.clone(),
            system,
            messages: fitted.messages,
            tools,
            max_tokens: self.profile.max_output_tokens,
            temperature: None,
        }
    }

    /// A turn for the user's message `text` (`None`: ask again after a
    /// failed turn).
    async fn turn(&mut self, commands: &mut UnboundedReceiver<AgentCommand>, text: Option<String>) {
        // A refused turn does not start: the model never sees its message.
        let check = self.budget.start_turn();
        if let Some(why) = self.budget_refuses(check) {
            self.emit(AgentEvent::TurnEnded(TurnOutcome::OverBudget(why)));
            return;
        }
        self.emit(AgentEvent::TurnStarted);
        if let Some(text) = text {
            self.remember(ChatMessage::User { text });
        }
        for _round in 0..self.config.max_tool_rounds {
            if let Some(why) = self.budget_refuses(self.budget.check_cost()) {
                self.emit(AgentEvent::TurnEnded(TurnOutcome::OverBudget(why)));
                return;
            }
            let request = self.request().await;
            let mut track = RequestTrack::new();
            let cancel = CancellationToken::new();
            let mut stream =
                redact::model_stream(self.provider.stream(request, cancel.clone()), crate::secrets::redactor());
            let mut text = String::new();
            let mut calls: Vec<ToolCall> = Vec::new();
            // After a short burst of events, let the next ones gather for a
            // moment before reading the socket again: the screen shows text at
            // most a few times a second, and one read of several tokens costs
            // a fraction of one read per token. A fast stream, whose bursts
            // are long, is read as fast as it comes.
            let mut resume: Option<tokio::time::Instant> = None;
            let end = loop {
                tokio::select! {
                    cmd = commands.recv() => if self.on_command_while_busy(cmd) {
                        cancel.cancel();
                        break StreamEnd::Cancelled;
                    },
                    _ = async { if let Some(at) = resume { tokio::time::sleep_until(at).await } }, if resume.is_some() => {
                        resume = None;
                    }
                    ev = stream.next(), if resume.is_none() => {
                        if let Some(end) = self.on_llm_event(ev, &mut text, &mut calls, &mut track) {
                            break end;
                        }
                        let mut ended = None;
                        let mut burst = 1;
                        while burst < MAX_BURST {
                            match stream.next().now_or_never() {
                                Some(ev) => {
                                    burst += 1;
                                    if let Some(end) = self.on_llm_event(ev, &mut text, &mut calls, &mut track) {
                                        ended = Some(end);
                                        break;
                                    }
                                }
                                None => break,
                            }
                        }
                        if let Some(end) = ended {
                            break end;
                        }
                        // A long burst means the data comes faster than one
                        // token at a time: read on at once.
                        if burst < SLOW_BURST {
                            resume = Some(tokio::time::Instant::now() + STREAM_GATHER);
                        }
                    }
                }
            };
            drop(stream);
            self.request_ended(&track, matches!(end, StreamEnd::Failed(_)));
            match end {
                StreamEnd::Cancelled => {
                    if !text.is_empty() {
                        // Keep what the model said, so the next turn knows.
                        text.push_str("\n\n[the user stopped this answer here]");
                        self.remember(ChatMessage::Assistant { text, tool_calls: Vec::new() });
                    }
                    self.emit(AgentEvent::TurnEnded(TurnOutcome::Cancelled));
                    return;
                }
                StreamEnd::Failed(e) => {
                    tracing::warn!("turn failed: {e}");
                    let outcome = TurnOutcome::Failed {
                        message: e.to_string(),
                        partial: !text.is_empty(),
                        retryable: e.is_retryable() || matches!(e, LlmError::Broken(_)),
                    };
                    self.emit(AgentEvent::TurnEnded(outcome));
                    return;
                }
                StreamEnd::Done(stop) => {
                    let has_calls = !calls.is_empty();
                    self.remember(ChatMessage::Assistant { text, tool_calls: calls.clone() });
                    if !has_calls {
                        if stop == StopReason::MaxTokens {
                            self.emit(AgentEvent::Notice(
                                "The answer reached the profile's max_output_tokens and was cut off.".into(),
                            ));
                        }
                        self.emit(AgentEvent::TurnEnded(TurnOutcome::Completed));
                        return;
                    }
                    if let Some(why) = self.budget_refuses(self.budget.check_cost()) {
                        self.refuse_calls(&calls, "was not run: the session's cost budget is used up");
                        self.emit(AgentEvent::TurnEnded(TurnOutcome::OverBudget(why)));
                        return;
                    }
                    if !self.run_tools(calls, commands).await {
                        self.emit(AgentEvent::TurnEnded(TurnOutcome::Cancelled));
                        return;
                    }
                }
            }
        }
        self.emit(AgentEvent::TurnEnded(TurnOutcome::RoundLimit(self.config.max_tool_rounds)));
    }

    /// The repository map for the next request: ranked for the files the
    /// conversation has touched and the words of the last message. Computed
    /// off the UI thread; `None` without an index or budget.
    async fn repo_map(&self) -> Option<crate::index::RepoMap> {
        let index = self.config.index.clone()?;
        if self.config.map_tokens == 0 {
            return None;
        }
        let mentions = self
            .conversation
            .iter()
            .rev()
            .find_map(|m| match m {
                ChatMessage::User { text } => Some(text.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let req = crate::index::MapRequest {
            tokens: self.config.map_tokens,
            focus: files_in_play(&self.conversation),
            mentions,
        };
        tokio::task::spawn_blocking(move || {
            let guard = index.read().ok()?;
            guard.as_ref().map(|i| i.map(&req))
        })
        .await
        .ok()
        .flatten()
        .filter(|m| !m.text.is_empty())
    }

    /// Handle one event of the model's stream; `Some` when the stream ended.
    fn on_llm_event(
        &mut self,
        ev: Option<Result<LlmEvent, LlmError>>,
        text: &mut String,
        calls: &mut Vec<ToolCall>,
        track: &mut RequestTrack,
    ) -> Option<StreamEnd> {
        match ev {
            Some(Ok(LlmEvent::Started)) => self.emit(AgentEvent::Responding),
            Some(Ok(LlmEvent::TextDelta(t))) => {
                track.token();
                text.push_str(&t);
                self.emit(AgentEvent::Text(t));
            }
            Some(Ok(LlmEvent::ToolCallStarted { name, .. })) => {
                track.token();
                self.emit(AgentEvent::ToolCallStarted { name });
            }
            Some(Ok(LlmEvent::ToolCall(mut call))) => {
                track.token();
                if call.id.is_empty() {
                    call.id = format!("call_{}", calls.len());
                }
                calls.push(call);
            }
            Some(Ok(LlmEvent::Usage(u))) => track.usage += u,
            Some(Ok(LlmEvent::Retrying { attempt, max, delay, reason })) => {
                self.emit(AgentEvent::Retrying { attempt, max, delay, reason });
            }
            Some(Ok(LlmEvent::Done(stop))) => return Some(StreamEnd::Done(stop)),
            Some(Err(LlmError::Cancelled)) => return Some(StreamEnd::Cancelled),
            Some(Err(e)) => return Some(StreamEnd::Failed(e)),
            None => return Some(StreamEnd::Failed(LlmError::Broken("the answer ended without finishing".into()))),
        }
        None
    }

    /// A command that arrived during a turn (while the model answers or
    /// tools run): messages queue, a switch applies to the next request.
    /// Returns true for a cancel.
    fn on_command_while_busy(&mut self, cmd: Option<AgentCommand>) -> bool {
        match cmd {
            Some(AgentCommand::Cancel) | None => return true,
            Some(AgentCommand::User { text }) => self.queued.push_back(text),
            Some(AgentCommand::Switch { provider, profile }) => {
                self.provider = provider;
                self.profile = profile;
            }
            Some(AgentCommand::Retry | AgentCommand::Reset(_)) => {}
        }
        false
    }
}

/// Files the model has asked tools about in this conversation (a `path`
/// argument), most recent first: the "files in play" of the repository map.
fn files_in_play(conversation: &[ChatMessage]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for m in conversation.iter().rev() {
        if let ChatMessage::Assistant { tool_calls, .. } = m {
            for call in tool_calls {
                let Ok(args) = serde_json::from_str::<serde_json::Value>(&call.arguments) else { continue };
                if let Some(p) = args.get("path").and_then(|p| p.as_str()) {
                    let p = PathBuf::from(p);
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// Today's date (UTC) as YYYY-MM-DD, for the system prompt.
fn today() -> String {
    let mut now = crate::session::utc_now();
    now.truncate("YYYY-MM-DD".len());
    now
}

#[cfg(test)]
mod tests;
