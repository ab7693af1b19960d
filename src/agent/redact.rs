//! The agent's two choke points for secrets: the model's stream on its way
//! in (a server, or a model, that echoes a key), and every event on its way
//! out to the chat, `tandem exec`, the journal and the log.

use std::sync::Arc;

use futures::StreamExt;

use super::{AgentEvent, TurnOutcome};
use crate::llm::{ChatMessage, EventStream, LlmEvent, ToolCall};
use crate::secrets::{Redactor, StreamRedactor};

/// `events` with the secrets replaced: in the answer's text even when one
/// arrives split across deltas (the tail that may begin one waits for the
/// next delta, or the end), in tool calls' arguments, retry reasons and
/// errors.
pub(super) fn model_stream(events: EventStream, redactor: Arc<Redactor>) -> EventStream {
    if redactor.is_empty() {
        return events;
    }
    let mut text = StreamRedactor::new(redactor.clone());
    Box::pin(events.flat_map(move |item| {
        let mut out = Vec::new();
        match item {
            Ok(LlmEvent::TextDelta(t)) => {
                let ready = text.push(&t);
                if !ready.is_empty() {
                    out.push(Ok(LlmEvent::TextDelta(ready)));
                }
            }
            Ok(LlmEvent::ToolCall(c)) => out.push(Ok(LlmEvent::ToolCall(call(c, &redactor)))),
            Ok(LlmEvent::Retrying { attempt, max, delay, reason }) => {
                out.push(Ok(LlmEvent::Retrying { attempt, max, delay, reason: redactor.redact(&reason).into_owned() }));
            }
            Ok(done @ LlmEvent::Done(_)) => {
                flush(&mut text, &mut out);
                out.push(Ok(done));
            }
            Ok(other) => out.push(Ok(other)),
            Err(e) => {
                flush(&mut text, &mut out);
                out.push(Err(crate::llm::http::redact_error(e, None)));
            }
        }
        futures::stream::iter(out)
    }))
}

fn flush(text: &mut StreamRedactor, out: &mut Vec<Result<LlmEvent, crate::llm::LlmError>>) {
    let rest = text.finish();
    if !rest.is_empty() {
        out.push(Ok(LlmEvent::TextDelta(rest)));
    }
}

fn call(c: ToolCall, r: &Redactor) -> ToolCall {
    ToolCall { id: c.id, name: r.redact(&c.name).into_owned(), arguments: r.redact(&c.arguments).into_owned() }
}

fn message(m: ChatMessage, r: &Redactor) -> ChatMessage {
    let s = |t: String| r.redact(&t).into_owned();
    match m {
        ChatMessage::User { text } => ChatMessage::User { text: s(text) },
        ChatMessage::Assistant { text, tool_calls } => {
            ChatMessage::Assistant { text: s(text), tool_calls: tool_calls.into_iter().map(|c| call(c, r)).collect() }
        }
        ChatMessage::Tool { call_id, name, content, is_error } => {
            ChatMessage::Tool { call_id, name, content: s(content), is_error }
        }
    }
}

/// `ev` with the secrets replaced in every text it carries.
pub(super) fn event(ev: AgentEvent, r: &Redactor) -> AgentEvent {
    if r.is_empty() {
        return ev;
    }
    let s = |t: String| r.redact(&t).into_owned();
    match ev {
        AgentEvent::Text(t) => AgentEvent::Text(s(t)),
        AgentEvent::ToolCallStarted { name } => AgentEvent::ToolCallStarted { name: s(name) },
        AgentEvent::ToolRunning { id, name, description } => {
            AgentEvent::ToolRunning { id, name: s(name), description: s(description) }
        }
        AgentEvent::ToolProgress { id, text } => AgentEvent::ToolProgress { id, text: s(text) },
        AgentEvent::ToolDone { id, name, mut output, elapsed } => {
            output.content = s(output.content);
            output.summary = s(output.summary);
            AgentEvent::ToolDone { id, name: s(name), output, elapsed }
        }
        AgentEvent::ToolRefused { id, name, reason } => {
            AgentEvent::ToolRefused { id, name: s(name), reason: s(reason) }
        }
        AgentEvent::BudgetWarning(t) => AgentEvent::BudgetWarning(s(t)),
        AgentEvent::Retrying { attempt, max, delay, reason } => {
            AgentEvent::Retrying { attempt, max, delay, reason: s(reason) }
        }
        AgentEvent::Notice(t) => AgentEvent::Notice(s(t)),
        AgentEvent::MapUsed { text, tokens, files } => AgentEvent::MapUsed { text: s(text), tokens, files },
        AgentEvent::TurnEnded(TurnOutcome::Failed { message, partial, retryable }) => {
            AgentEvent::TurnEnded(TurnOutcome::Failed { message: s(message), partial, retryable })
        }
        AgentEvent::TurnEnded(TurnOutcome::OverBudget(t)) => AgentEvent::TurnEnded(TurnOutcome::OverBudget(s(t))),
        AgentEvent::Recorded(m) => AgentEvent::Recorded(message(m, r)),
        other @ (AgentEvent::TurnStarted
        | AgentEvent::Responding
        | AgentEvent::RequestEnded(_)
        | AgentEvent::TurnEnded(_)) => other,
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;
    use crate::llm::{LlmError, StopReason};

    const KEY: &str = "sk-test-0123456789abcdef";

    fn redactor() -> Arc<Redactor> {
        Arc::new(Redactor::new([KEY]))
    }

    #[tokio::test]
    async fn a_key_split_across_deltas_and_in_a_tool_call_never_comes_out() {
        let (a, b) = KEY.split_at(9);
        let events: Vec<Result<LlmEvent, LlmError>> = vec![
            Ok(LlmEvent::Started),
            Ok(LlmEvent::TextDelta(format!("key: {a}"))),
            Ok(LlmEvent::TextDelta(format!("{b} ok"))),
            Ok(LlmEvent::ToolCall(ToolCall {
                id: "1".into(),
                name: "run_command".into(),
                arguments: format!("{{\"command\":\"echo {KEY}\"}}"),
            })),
            Ok(LlmEvent::TextDelta(" sk-te".into())),
            Ok(LlmEvent::Done(StopReason::EndTurn)),
        ];
        let out: Vec<_> = model_stream(Box::pin(futures::stream::iter(events)), redactor()).collect().await;
        let text: String = out
            .iter()
            .filter_map(|e| match e {
                Ok(LlmEvent::TextDelta(t)) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "key: [REDACTED] ok sk-te");
        assert!(
            out.iter()
                .any(|e| matches!(e, Ok(LlmEvent::ToolCall(c)) if c.arguments == "{\"command\":\"echo [REDACTED]\"}"))
        );
        assert!(matches!(out.last(), Some(Ok(LlmEvent::Done(_)))));
    }

    #[test]
    fn events_lose_the_key_in_every_text() {
        let r = redactor();
        let ev = event(
            AgentEvent::ToolRunning { id: "1".into(), name: "x".into(), description: format!("$ echo {KEY}") },
            &r,
        );
        assert_eq!(
            ev,
            AgentEvent::ToolRunning { id: "1".into(), name: "x".into(), description: "$ echo [REDACTED]".into() }
        );
        let ev = event(AgentEvent::Recorded(ChatMessage::User { text: format!("my key is {KEY}") }), &r);
        assert_eq!(ev, AgentEvent::Recorded(ChatMessage::User { text: "my key is [REDACTED]".into() }));
        let failed = TurnOutcome::Failed { message: format!("bad {KEY}"), partial: false, retryable: false };
        let ev = event(AgentEvent::TurnEnded(failed), &r);
        assert!(
            matches!(ev, AgentEvent::TurnEnded(TurnOutcome::Failed { message, .. }) if message == "bad [REDACTED]")
        );
    }
}
