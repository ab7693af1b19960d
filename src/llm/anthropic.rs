//! The Anthropic Messages API wire format.

use std::collections::BTreeMap;

use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::http;
use super::retry::{self, StreamDecoder};
use super::sse::SseEvent;
use super::{ChatMessage, EventStream, HttpConfig, LlmError, LlmEvent, Provider, Request, StopReason, ToolCall, Usage};

pub(crate) const API_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone)]
pub struct Anthropic {
    config: HttpConfig,
    client: reqwest::Client,
}

impl Anthropic {
    pub fn new(config: HttpConfig) -> Result<Self, LlmError> {
        let client = http::build_client(&config)?;
        Ok(Self { config, client })
    }
}

impl Provider for Anthropic {
    fn describe(&self) -> String {
        let host = http::host_of(&self.config.base_url);
        if host == "api.anthropic.com" { "anthropic".to_owned() } else { format!("anthropic-compatible {host}") }
    }

    fn stream(&self, request: Request, cancel: CancellationToken) -> EventStream {
        let url = messages_url(&self.config.base_url);
        let body = request_body(&request);
        retry::post_sse(
            &self.client,
            &self.config,
            url,
            headers(&self.config),
            &body,
            AnthropicDecoder::default,
            cancel,
        )
    }
}

/// `{base}/v1/messages`, also for a base URL that already ends in `/v1`.
pub(crate) fn messages_url(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if base.ends_with("/v1/messages") {
        base.to_owned()
    } else if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

fn headers(config: &HttpConfig) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    headers.insert(HeaderName::from_static("anthropic-version"), HeaderValue::from_static(API_VERSION));
    headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    if let Some(key) = &config.api_key {
        let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
            let env = config.api_key_env.as_deref().unwrap_or("the api_key_env of this provider profile");
            LlmError::Auth {
                status: 0,
                message: format!("the API key contains characters not allowed in HTTP: check {env}"),
            }
        })?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-api-key"), value);
    }
    Ok(headers)
}

/// The JSON body of a streaming Messages request.
pub(crate) fn request_body(request: &Request) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("max_tokens".into(), json!(request.max_tokens));
    // The API rejects empty text blocks, and an empty system prompt is one.
    if !request.system.is_empty() {
        body.insert("system".into(), json!(request.system));
    }
    body.insert("stream".into(), json!(true));
    body.insert("messages".into(), Value::Array(messages_json(&request.messages)));
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(http::f32_to_json(t)));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    Value::Object(body)
}

/// Tool results travel as user messages, and the API wants strictly
/// alternating roles, so consecutive same-role messages are merged.
fn messages_json(messages: &[ChatMessage]) -> Vec<Value> {
    let mut merged: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message {
            ChatMessage::User { text } => ("user", text_block(text).into_iter().collect()),
            ChatMessage::Assistant { text, tool_calls } => {
                let mut blocks: Vec<Value> = text_block(text).into_iter().collect();
                blocks.extend(tool_calls.iter().map(
                    |c| json!({"type": "tool_use", "id": c.id, "name": c.name, "input": tool_input(&c.arguments)}),
                ));
                ("assistant", blocks)
            }
            ChatMessage::Tool { call_id, content, is_error, .. } => (
                "user",
                vec![json!({"type": "tool_result", "tool_use_id": call_id, "content": content, "is_error": is_error})],
            ),
        };
        if blocks.is_empty() {
            continue;
        }
        match merged.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => merged.push((role, blocks)),
        }
    }
    merged
        .into_iter()
        .map(|(role, mut content)| {
            // The API wants tool results before any text in a user turn.
            content.sort_by_key(|b| b.get("type").and_then(Value::as_str) != Some("tool_result"));
            json!({"role": role, "content": content})
        })
        .collect()
}

fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({"type": "text", "text": text}))
}

/// `tool_use.input` must be an object; arguments the model garbled become
/// `{}` (the tool already reported the error back as its result).
fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(map)) => Value::Object(map),
        _ => json!({}),
    }
}

#[derive(Debug)]
enum Block {
    Text,
    Tool { ordinal: usize, id: String, name: String, json: String, initial: Option<String>, emitted: bool },
    Other,
}

/// Decodes Messages API stream events.
#[derive(Debug, Default)]
pub struct AnthropicDecoder {
    blocks: BTreeMap<u64, Block>,
    tools: usize,
    usage: Reported,
    usage_seen: bool,
    stop: Option<StopReason>,
    finished: bool,
}

impl StreamDecoder for AnthropicDecoder {
    fn on_event(&mut self, event: SseEvent) -> Result<Vec<LlmEvent>, LlmError> {
        let mut out = Vec::new();
        if self.finished || event.data.trim().is_empty() {
            return Ok(out);
        }
        let json: Value = match serde_json::from_str(&event.data) {
            Ok(json) => json,
            Err(e) => {
                tracing::warn!(error = %e, bytes = event.data.len(), "skipping an event that is not JSON");
                return Ok(out);
            }
        };
        // The `type` inside the data is authoritative; the SSE event name
        // is the fallback for proxies that drop it.
        let kind = json.get("type").and_then(Value::as_str).or(event.event.as_deref()).unwrap_or("");
        let index = json.get("index").and_then(Value::as_u64);
        match kind {
            "message_start" => {
                if let Some(usage) = json.get("message").and_then(|m| m.get("usage")) {
                    self.merge_usage(usage);
                }
            }
            "content_block_start" => {
                let index = index.unwrap_or_else(|| self.blocks.keys().next_back().map_or(0, |k| k.saturating_add(1)));
                let block = json.get("content_block").unwrap_or(&Value::Null);
                self.start_block(index, block, &mut out);
            }
            "content_block_delta" => {
                let delta = json.get("delta").unwrap_or(&Value::Null);
                self.delta(index, delta, &mut out);
            }
            "content_block_stop" => {
                if let Some(Block::Tool { .. }) = index.and_then(|i| self.blocks.get(&i)) {
                    self.emit_tools(index, &mut out);
                }
            }
            "message_delta" => {
                if let Some(reason) = json
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                    .filter(|r| !r.is_empty())
                {
                    self.stop = Some(stop_reason(reason));
                }
                if let Some(usage) = json.get("usage") {
                    self.merge_usage(usage);
                }
            }
            "message_stop" => out.extend(self.closing()),
            "error" => return Err(stream_error(json.get("error").unwrap_or(&json))),
            "ping" => {}
            other => tracing::debug!(event = other, "ignoring an unknown event"),
        }
        Ok(out)
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn on_end(&mut self) -> Option<Vec<LlmEvent>> {
        self.stop.is_some().then(|| self.closing())
    }
}

impl AnthropicDecoder {
    fn start_block(&mut self, index: u64, block: &Value, out: &mut Vec<LlmEvent>) {
        let text = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let state = match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                let initial = text("text");
                if !initial.is_empty() {
                    out.push(LlmEvent::TextDelta(initial));
                }
                Block::Text
            }
            Some("tool_use") => {
                let ordinal = self.tools;
                self.tools += 1;
                let name = text("name");
                out.push(LlmEvent::ToolCallStarted { index: ordinal, name: name.clone() });
                // The API sends `input: {}` here and the arguments as deltas;
                // some proxies send the whole input up front instead.
                let initial =
                    block.get("input").filter(|i| i.as_object().is_some_and(|o| !o.is_empty())).map(Value::to_string);
                Block::Tool { ordinal, id: text("id"), name, json: String::new(), initial, emitted: false }
            }
            // Thinking and server-side tool blocks are not part of the answer.
            _ => Block::Other,
        };
        self.blocks.insert(index, state);
    }

    fn delta(&mut self, index: Option<u64>, delta: &Value, out: &mut Vec<LlmEvent>) {
        match delta.get("type").and_then(Value::as_str) {
            Some("text_delta") => {
                if let Some(text) = delta.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    out.push(LlmEvent::TextDelta(text.to_owned()));
                }
            }
            Some("input_json_delta") => {
                let part = delta.get("partial_json").and_then(Value::as_str).unwrap_or("");
                match index.and_then(|i| self.blocks.get_mut(&i)) {
                    Some(Block::Tool { json, .. }) => json.push_str(part),
                    _ => tracing::warn!(?index, "arguments for a block that is not a tool call"),
                }
            }
            _ => {}
        }
    }

    /// Emits the finished tool block `only`, or every tool not yet emitted.
    fn emit_tools(&mut self, only: Option<u64>, out: &mut Vec<LlmEvent>) {
        for (index, block) in self.blocks.iter_mut() {
            if only.is_some_and(|o| o != *index) {
                continue;
            }
            if let Block::Tool { ordinal, id, name, json, initial, emitted: emitted @ false } = block {
                *emitted = true;
                let arguments = if !json.trim().is_empty() {
                    json.clone()
                } else {
                    initial.clone().unwrap_or_else(|| "{}".to_owned())
                };
                let id = if id.is_empty() { format!("toolu_{ordinal}") } else { id.clone() };
                out.push(LlmEvent::ToolCall(ToolCall { id, name: name.clone(), arguments }));
            }
        }
    }

    /// Counts in `message_delta` are cumulative, so later values replace
    /// earlier ones.
    fn merge_usage(&mut self, usage: &Value) {
        let count = |value: Option<&Value>| value.and_then(Value::as_u64);
        let thinking = usage.get("output_tokens_details").and_then(|d| d.get("thinking_tokens"));
        let u = &mut self.usage;
        for (value, slot) in [
            (usage.get("input_tokens"), &mut u.input),
            (usage.get("output_tokens"), &mut u.output),
            (usage.get("cache_creation_input_tokens"), &mut u.cache_write),
            (usage.get("cache_read_input_tokens"), &mut u.cache_read),
            (thinking, &mut u.thinking),
        ] {
            if let Some(n) = count(value) {
                *slot = n;
                self.usage_seen = true;
            }
        }
    }

    fn closing(&mut self) -> Vec<LlmEvent> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.finished = true;
        self.emit_tools(None, &mut out);
        if self.usage_seen {
            out.push(LlmEvent::Usage(self.usage.normalised()));
        }
        let reason = self.stop.take().unwrap_or(if self.tools > 0 { StopReason::ToolUse } else { StopReason::EndTurn });
        out.push(LlmEvent::Done(reason));
        out
    }
}

/// The counts as the Messages API reports them. Its `input_tokens` leaves
/// out the tokens read from and written to the cache; its `output_tokens`
/// include the thinking.
#[derive(Debug, Default)]
struct Reported {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    thinking: u64,
}

impl Reported {
    fn normalised(&self) -> Usage {
        Usage {
            input_tokens: self.input.saturating_add(self.cache_read).saturating_add(self.cache_write),
            output_tokens: self.output,
            cache_read_tokens: self.cache_read,
            cache_write_tokens: self.cache_write,
            reasoning_tokens: self.thinking,
        }
        .within_totals()
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" | "stop_sequence" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        other => StopReason::Other(other.to_owned()),
    }
}

/// An `error` event: the stream's equivalent of an HTTP error status.
fn stream_error(error: &Value) -> LlmError {
    let kind = error.get("type").and_then(Value::as_str).unwrap_or("");
    let status = match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };
    let message = error.get("message").and_then(Value::as_str).map_or_else(|| kind.to_owned(), str::to_owned);
    LlmError::Http { status, message: http::truncate(&message) }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn feed(d: &mut AnthropicDecoder, data: &str) -> Result<Vec<LlmEvent>, LlmError> {
        d.on_event(SseEvent { data: data.to_owned(), ..SseEvent::default() })
    }

    #[test]
    fn urls() {
        assert_eq!(messages_url("https://api.anthropic.com"), "https://api.anthropic.com/v1/messages");
        assert_eq!(messages_url("https://proxy/v1/"), "https://proxy/v1/messages");
        assert_eq!(messages_url("https://proxy/v1/messages"), "https://proxy/v1/messages");
    }

    #[test]
    fn overloaded_and_unknown_errors() {
        let mut d = AnthropicDecoder::default();
        let e = feed(&mut d, r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
        assert_eq!(e, Err(LlmError::Http { status: 529, message: "Overloaded".into() }));
        assert!(e.unwrap_err().is_retryable());
        let e = feed(&mut d, r#"{"type":"error","error":{"type":"invalid_request_error","message":"x"}}"#);
        assert!(!e.unwrap_err().is_retryable());
    }

    #[test]
    fn input_up_front_and_missing_stop() {
        let mut d = AnthropicDecoder::default();
        feed(&mut d, r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"n","input":{"a":1}}}"#).unwrap();
        assert_eq!(d.on_end(), None);
        let events = feed(&mut d, r#"{"type":"message_stop"}"#).unwrap();
        assert_eq!(
            events,
            vec![
                LlmEvent::ToolCall(ToolCall { id: "t".into(), name: "n".into(), arguments: r#"{"a":1}"#.into() }),
                LlmEvent::Done(StopReason::ToolUse)
            ]
        );
    }

    #[test]
    fn garbled_arguments_become_an_empty_input() {
        assert_eq!(tool_input("{\"a\":"), json!({}));
        assert_eq!(tool_input("[1]"), json!({}));
        assert_eq!(tool_input("{\"a\":1}"), json!({"a": 1}));
    }

    /// The usage a stream reports, fed its events' data in order.
    fn usage_of(events: &[&str]) -> Option<Usage> {
        let mut d = AnthropicDecoder::default();
        let mut out = Vec::new();
        for data in events {
            out.extend(feed(&mut d, data).expect("decoded"));
        }
        out.into_iter().find_map(|e| match e {
            LlmEvent::Usage(u) => Some(u),
            _ => None,
        })
    }

    // The shapes below follow the `Usage`, `MessageDeltaUsage` and
    // `OutputTokensDetails` types of the anthropic-sdk-python SDK
    // (src/anthropic/types/) and the streams of its fixtures
    // (tests/fixtures/fable-fallback/*.sse): `message_start` carries the
    // input counts and `cache_creation` by lifetime, `message_delta` the
    // cumulative counts with `output_tokens_details`.

    #[test]
    fn cache_reads_and_writes_join_the_input_count() {
        let start = r#"{"type":"message_start","message":{"model":"claude-sonnet-4-5","id":"msg_1","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":100,"cache_creation_input_tokens":20,"cache_read_input_tokens":60,
                "cache_creation":{"ephemeral_5m_input_tokens":20,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}"#;
        let delta = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
            "usage":{"input_tokens":100,"cache_creation_input_tokens":20,"cache_read_input_tokens":60,"output_tokens":547,"output_tokens_details":{"thinking_tokens":312}}}"#;
        let u = usage_of(&[start, delta, r#"{"type":"message_stop"}"#]).expect("usage");
        assert_eq!(
            u,
            Usage {
                input_tokens: 180,
                output_tokens: 547,
                cache_read_tokens: 60,
                cache_write_tokens: 20,
                reasoning_tokens: 312
            }
        );
        assert_eq!(u.uncached_input_tokens(), 100);
    }

    #[test]
    fn a_delta_with_only_the_output_count_keeps_the_start_counts() {
        let start = r#"{"type":"message_start","message":{"usage":{"input_tokens":25,"cache_creation_input_tokens":7,"cache_read_input_tokens":100,"output_tokens":1}}}"#;
        let delta = r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":42}}"#;
        let u = usage_of(&[start, delta, r#"{"type":"message_stop"}"#]).expect("usage");
        assert_eq!((u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens), (132, 42, 100, 7));
        assert_eq!(u.reasoning_tokens, 0);
    }

    #[test]
    fn null_cache_counts_are_zero_and_huge_ones_saturate() {
        let start = r#"{"type":"message_start","message":{"usage":{"input_tokens":12,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":1}}}"#;
        let delta = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":6}}"#;
        let u = usage_of(&[start, delta, r#"{"type":"message_stop"}"#]).expect("usage");
        assert_eq!(u, Usage { input_tokens: 12, output_tokens: 6, ..Usage::default() });

        let start = r#"{"type":"message_start","message":{"usage":{"input_tokens":18446744073709551615,"cache_read_input_tokens":5,"cache_creation_input_tokens":5,"output_tokens":2}}}"#;
        let delta = r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2,"output_tokens_details":{"thinking_tokens":9}}}"#;
        let u = usage_of(&[start, delta, r#"{"type":"message_stop"}"#]).expect("usage");
        assert_eq!((u.input_tokens, u.cache_read_tokens, u.reasoning_tokens), (u64::MAX, 5, 2));
    }

    proptest! {
        #[test]
        fn arbitrary_payloads_never_panic(data in ".{0,200}", kind in prop_oneof![
                Just("message_start"), Just("content_block_start"), Just("content_block_delta"),
                Just("content_block_stop"), Just("message_delta"), Just("message_stop"), Just("error"), Just("ping")],
                v in crate::llm::openai::tests::arb_json(), index in prop_oneof![Just(json!(0)), Just(json!(-1)), Just(json!(u64::MAX)), Just(json!("x"))]) {
            let mut d = AnthropicDecoder::default();
            let _ = feed(&mut d, &data);
            for key in ["message", "content_block", "delta", "usage", "error"] {
                let _ = feed(&mut d, &json!({"type": kind, "index": index, key: v}).to_string());
            }
            let _ = feed(&mut d, &json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": v}}).to_string());
            let _ = d.on_end();
            let _ = feed(&mut d, r#"{"type":"message_stop"}"#);
        }
    }
}
