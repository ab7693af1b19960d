//! The OpenAI chat-completions wire format, as spoken by OpenAI and by the
//! compatible local servers (Ollama, vLLM, llama.cpp, LM Studio), which
//! differ in the details handled leniently here.

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::http::{self, Failure};
use super::retry::{self, StreamDecoder};
use super::sse::SseEvent;
use super::{ChatMessage, EventStream, HttpConfig, LlmError, LlmEvent, Provider, Request, StopReason, ToolCall, Usage};

#[derive(Debug, Clone)]
pub struct OpenAi {
    config: HttpConfig,
    client: reqwest::Client,
}

impl OpenAi {
    pub fn new(config: HttpConfig) -> Result<Self, LlmError> {
        let client = http::build_client(&config)?;
        Ok(Self { config, client })
    }
}

impl Provider for OpenAi {
    fn describe(&self) -> String {
        let host = http::host_of(&self.config.base_url);
        if host == "api.openai.com" {
            "openai".to_owned()
        } else if host.ends_with(":11434") {
            "ollama".to_owned()
        } else {
            format!("openai-compatible {host}")
        }
    }

    fn stream(&self, request: Request, cancel: CancellationToken) -> EventStream {
        let url = http::join_url(&self.config.base_url, "chat/completions");
        let headers = auth_headers(&self.config).map(|mut h| {
            h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
            h
        });
        let body = request_body(&request);
        retry::post_sse(&self.client, &self.config, url, headers, &body, OpenAiDecoder::default, cancel)
    }
}

/// `Authorization: Bearer` only when a key is set: local servers need none.
fn auth_headers(config: &HttpConfig) -> Result<HeaderMap, LlmError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = &config.api_key {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
            let env = config.api_key_env.as_deref().unwrap_or("the api_key_env of this provider profile");
            LlmError::Auth {
                status: 0,
                message: format!("the API key contains characters not allowed in HTTP: check {env}"),
            }
        })?;
        // Keeps it out of hyper's and reqwest's Debug output.
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// The model ids the server offers (`GET {base_url}/models`); a quick probe
/// of whether something OpenAI-compatible, such as Ollama, is listening.
pub async fn list_models(config: &HttpConfig) -> Result<Vec<String>, LlmError> {
    let client = http::build_client(config)?;
    let url = http::join_url(&config.base_url, "models");
    let headers = auth_headers(config)?;
    let fetch = async {
        let response = http::get(&client, &url, headers, config).await.map_err(|f: Failure| f.error)?;
        let bytes = response.bytes().await.map_err(|e| LlmError::Broken(e.to_string()))?;
        let json: Value = serde_json::from_slice(&bytes)
            .map_err(|e| LlmError::Protocol(format!("the model list is not JSON: {e}")))?;
        let data = json
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| LlmError::Protocol("the model list has no `data` array".into()))?;
        Ok(data.iter().filter_map(|m| m.get("id").and_then(Value::as_str)).map(str::to_owned).collect())
    };
    let limit = config.connect_timeout.saturating_add(config.idle_timeout);
    let result = tokio::time::timeout(limit, fetch).await.unwrap_or(Err(LlmError::IdleTimeout(limit)));
    result.map_err(|e| http::redact_error(e, config.api_key.as_ref()))
}

/// The JSON body of a streaming chat-completions request.
pub(crate) fn request_body(request: &Request) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    messages.extend(request.messages.iter().map(message_json));
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
    // Not `max_completion_tokens`: the local servers only know this name.
    body.insert("max_tokens".into(), json!(request.max_tokens));
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(http::f32_to_json(t)));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters}})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    Value::Object(body)
}

fn message_json(message: &ChatMessage) -> Value {
    match message {
        ChatMessage::User { text } => json!({"role": "user", "content": text}),
        ChatMessage::Assistant { text, tool_calls } => {
            let mut m = Map::new();
            m.insert("role".into(), json!("assistant"));
            let content = if text.is_empty() && !tool_calls.is_empty() { Value::Null } else { json!(text) };
            m.insert("content".into(), content);
            if !tool_calls.is_empty() {
                let calls: Vec<Value> = tool_calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments}})
                    })
                    .collect();
                m.insert("tool_calls".into(), Value::Array(calls));
            }
            Value::Object(m)
        }
        ChatMessage::Tool { call_id, content, .. } => {
            json!({"role": "tool", "tool_call_id": call_id, "content": content})
        }
    }
}

#[derive(Debug, Default)]
struct PartialCall {
    /// The server's `index`, which orders the calls.
    key: u64,
    id: String,
    name: String,
    arguments: String,
    emitted: bool,
}

/// Decodes `chat.completion.chunk` events. Only choice 0 is followed.
#[derive(Debug, Default)]
pub struct OpenAiDecoder {
    /// In order of first appearance; `ToolCallStarted::index` is the
    /// position here.
    calls: Vec<PartialCall>,
    finish: Option<StopReason>,
    usage: Option<Usage>,
    finished: bool,
}

impl StreamDecoder for OpenAiDecoder {
    fn on_event(&mut self, event: SseEvent) -> Result<Vec<LlmEvent>, LlmError> {
        let mut out = Vec::new();
        if self.finished {
            return Ok(out);
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(self.closing());
        }
        if data.is_empty() {
            return Ok(out);
        }
        let json: Value = match serde_json::from_str(data) {
            Ok(json) => json,
            Err(e) if event.event.as_deref() == Some("error") => {
                tracing::debug!(error = %e, "error event is not JSON");
                return Err(LlmError::Http { status: 500, message: http::truncate(data) });
            }
            Err(e) => {
                tracing::warn!(error = %e, bytes = data.len(), "skipping an event that is not JSON");
                return Ok(out);
            }
        };
        if let Some(error) = json.get("error").filter(|e| !e.is_null()) {
            return Err(stream_error(error));
        }
        if event.event.as_deref() == Some("error") {
            return Err(stream_error(&json));
        }
        if let Some(usage) = json.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(parse_usage(usage));
        }
        let choices = json.get("choices").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let choice =
            choices.iter().find(|c| c.get("index").and_then(Value::as_u64) == Some(0)).or_else(|| choices.first());
        if let Some(choice) = choice {
            if let Some(delta) = choice.get("delta") {
                if let Some(text) = delta.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    out.push(LlmEvent::TextDelta(text.to_owned()));
                }
                if let Some(fragments) = delta.get("tool_calls").and_then(Value::as_array) {
                    for (pos, fragment) in fragments.iter().enumerate() {
                        self.tool_fragment(pos, fragment, &mut out);
                    }
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str).filter(|r| !r.is_empty()) {
                self.finish = Some(stop_reason(reason));
                // The calls are complete now; the usage chunk may lag.
                self.emit_calls(&mut out);
            }
        }
        // Nothing else is coming, whether or not `[DONE]` follows.
        if self.finish.is_some() && self.usage.is_some() {
            out.extend(self.closing());
        }
        Ok(out)
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn on_end(&mut self) -> Option<Vec<LlmEvent>> {
        self.finish.is_some().then(|| self.closing())
    }
}

impl OpenAiDecoder {
    fn tool_fragment(&mut self, pos: usize, fragment: &Value, out: &mut Vec<LlmEvent>) {
        let id = fragment.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
        let slot = match fragment.get("index").and_then(Value::as_u64) {
            Some(key) => self.slot_by_key(key),
            // Ollama sends whole calls without `index`: an unseen id is a
            // new call, otherwise the position in the array is the index.
            None => match id {
                Some(id) => match self.calls.iter().position(|c| c.id == id) {
                    Some(i) => i,
                    None => {
                        let key = self.calls.iter().map(|c| c.key.saturating_add(1)).max().unwrap_or(0);
                        self.slot_by_key(key)
                    }
                },
                None => self.slot_by_key(pos as u64),
            },
        };
        let call = &mut self.calls[slot];
        if let Some(id) = id
            && call.id.is_empty()
        {
            call.id = id.to_owned();
        }
        let function = fragment.get("function");
        // Some servers repeat the name in every fragment; only the first
        // one counts.
        if let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str).filter(|n| !n.is_empty())
            && call.name.is_empty()
        {
            call.name = name.to_owned();
            out.push(LlmEvent::ToolCallStarted { index: slot, name: call.name.clone() });
        }
        match function.and_then(|f| f.get("arguments")) {
            Some(Value::String(part)) => call.arguments.push_str(part),
            None | Some(Value::Null) => {}
            // Some servers send the arguments as an object, not as text.
            Some(other) => call.arguments.push_str(&other.to_string()),
        }
    }

    fn slot_by_key(&mut self, key: u64) -> usize {
        match self.calls.iter().position(|c| c.key == key) {
            Some(i) => i,
            None => {
                self.calls.push(PartialCall { key, ..PartialCall::default() });
                self.calls.len() - 1
            }
        }
    }

    fn emit_calls(&mut self, out: &mut Vec<LlmEvent>) {
        let mut order: Vec<usize> = (0..self.calls.len()).filter(|&i| !self.calls[i].emitted).collect();
        order.sort_by_key(|&i| self.calls[i].key);
        for i in order {
            let call = &mut self.calls[i];
            call.emitted = true;
            let id = if call.id.is_empty() { format!("call_{i}") } else { call.id.clone() };
            // A call without parameters may come with no argument text.
            let arguments = if call.arguments.trim().is_empty() { "{}".to_owned() } else { call.arguments.clone() };
            out.push(LlmEvent::ToolCall(ToolCall { id, name: call.name.clone(), arguments }));
        }
    }

    fn closing(&mut self) -> Vec<LlmEvent> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        self.finished = true;
        self.emit_calls(&mut out);
        if let Some(usage) = self.usage {
            out.push(LlmEvent::Usage(usage));
        }
        let reason = match self.finish.take() {
            // Older Ollama reports "stop" even when it called tools.
            Some(StopReason::EndTurn) | None if !self.calls.is_empty() => StopReason::ToolUse,
            Some(reason) => reason,
            None => StopReason::EndTurn,
        };
        out.push(LlmEvent::Done(reason));
        out
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" | "end_turn" | "eos" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        other => StopReason::Other(other.to_owned()),
    }
}

/// Chat completions count the whole prompt in `prompt_tokens` and say in
/// `prompt_tokens_details` how much of it the cache served or took; the
/// whole answer is in `completion_tokens`, reasoning included. That is
/// already [`Usage`]'s form.
fn parse_usage(usage: &Value) -> Usage {
    let count = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let prompt = usage.get("prompt_tokens_details");
    let cached = prompt
        .and_then(|d| d.get("cached_tokens"))
        // DeepSeek's name for the same count.
        .or_else(|| usage.get("prompt_cache_hit_tokens"));
    Usage {
        input_tokens: count(usage.get("prompt_tokens")),
        output_tokens: count(usage.get("completion_tokens")),
        cache_read_tokens: count(cached),
        // In OpenAI's schema; OpenRouter fills it for models that bill
        // writes (Anthropic's, through it).
        cache_write_tokens: count(prompt.and_then(|d| d.get("cache_write_tokens"))),
        reasoning_tokens: count(usage.get("completion_tokens_details").and_then(|d| d.get("reasoning_tokens"))),
    }
    .within_totals()
}

/// An error reported inside a 200 stream (vLLM, OpenRouter, proxies).
fn stream_error(error: &Value) -> LlmError {
    let message = match error.get("message") {
        Some(Value::String(m)) => m.clone(),
        _ => match error {
            Value::String(m) => m.clone(),
            other => other.to_string(),
        },
    };
    let status = error
        .get("code")
        .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok())))
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c))
        .unwrap_or(500);
    LlmError::Http { status, message: http::truncate(&message) }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    fn feed(decoder: &mut OpenAiDecoder, data: &str) -> Result<Vec<LlmEvent>, LlmError> {
        decoder.on_event(SseEvent { data: data.to_owned(), ..SseEvent::default() })
    }

    #[test]
    fn ollama_whole_calls_without_index_and_stop_reason() {
        let mut d = OpenAiDecoder::default();
        let events = feed(
            &mut d,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[
                {"id":"a","function":{"name":"read","arguments":{"path":"x"}}},
                {"id":"b","function":{"name":"list","arguments":"{}"}}]},"finish_reason":"stop"}]}"#,
        )
        .unwrap();
        assert_eq!(
            events,
            vec![
                LlmEvent::ToolCallStarted { index: 0, name: "read".into() },
                LlmEvent::ToolCallStarted { index: 1, name: "list".into() },
                LlmEvent::ToolCall(ToolCall {
                    id: "a".into(),
                    name: "read".into(),
                    arguments: r#"{"path":"x"}"#.into()
                }),
                LlmEvent::ToolCall(ToolCall { id: "b".into(), name: "list".into(), arguments: "{}".into() }),
            ]
        );
        assert_eq!(d.on_end(), Some(vec![LlmEvent::Done(StopReason::ToolUse)]));
    }

    #[test]
    fn errors_inside_the_stream() {
        let mut d = OpenAiDecoder::default();
        let e = feed(&mut d, r#"{"error":{"message":"overloaded","code":503}}"#).unwrap_err();
        assert_eq!(e, LlmError::Http { status: 503, message: "overloaded".into() });
        assert!(feed(&mut d, "not json").unwrap().is_empty());
    }

    /// The usage a stream reports, fed its events' data in order.
    fn usage_of(events: &[&str]) -> Option<Usage> {
        let mut d = OpenAiDecoder::default();
        let mut out = Vec::new();
        for data in events {
            out.extend(feed(&mut d, data).expect("decoded"));
        }
        out.extend(d.on_end().unwrap_or_default());
        out.into_iter().find_map(|e| match e {
            LlmEvent::Usage(u) => Some(u),
            _ => None,
        })
    }

    const FINISH: &str = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1727346169,"model":"o4-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;

    // The shapes below follow the `CompletionUsage`, `PromptTokensDetails`
    // and `CompletionTokensDetails` types of the openai-python SDK
    // (src/openai/types/completion_usage.py) and the usage objects of its
    // chat tests (tests/lib/chat/test_completions.py).

    #[test]
    fn cached_and_reasoning_counts_are_parts_of_the_totals() {
        let usage = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1727346169,"model":"o4-mini","system_fingerprint":"fp_1","choices":[],
            "usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
                "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},
                "completion_tokens_details":{"reasoning_tokens":192,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#;
        let u = usage_of(&[FINISH, usage, "[DONE]"]).expect("usage");
        assert_eq!(
            u,
            Usage {
                input_tokens: 2006,
                output_tokens: 300,
                cache_read_tokens: 1920,
                cache_write_tokens: 0,
                reasoning_tokens: 192
            }
        );
        assert_eq!(u.uncached_input_tokens(), 86);
    }

    #[test]
    fn the_prompt_count_already_holds_the_cached_tokens() {
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_tokens_details":{"cached_tokens":60}}}"#;
        let u = usage_of(&[FINISH, usage]).expect("usage");
        assert_eq!((u.input_tokens, u.cache_read_tokens, u.uncached_input_tokens()), (100, 60, 40));
    }

    #[test]
    fn missing_or_null_details_count_as_zero() {
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":79,"completion_tokens":14,"total_tokens":93,"prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":0}}}"#;
        let u = usage_of(&[FINISH, usage]).expect("usage");
        assert_eq!(u, Usage { input_tokens: 79, output_tokens: 14, ..Usage::default() });
        // A local server that sends only the two counts.
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}"#;
        assert_eq!(usage_of(&[FINISH, usage]), Some(Usage { input_tokens: 7, output_tokens: 3, ..Usage::default() }));
    }

    #[test]
    fn other_servers_names_for_the_cache_counts() {
        // DeepSeek: hits and misses, whose sum is the prompt.
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":500,"completion_tokens":20,"prompt_cache_hit_tokens":448,"prompt_cache_miss_tokens":52}}"#;
        let u = usage_of(&[FINISH, usage]).expect("usage");
        assert_eq!((u.input_tokens, u.cache_read_tokens), (500, 448));
        // OpenRouter in front of a model that bills cache writes.
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":12000,"completion_tokens":40,"prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":11000}}}"#;
        let u = usage_of(&[FINISH, usage]).expect("usage");
        assert_eq!((u.input_tokens, u.cache_write_tokens, u.uncached_input_tokens()), (12000, 11000, 1000));
    }

    #[test]
    fn counts_that_do_not_add_up_are_held_to_the_totals() {
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":18446744073709551615,"cache_write_tokens":3},"completion_tokens_details":{"reasoning_tokens":9}}}"#;
        let u = usage_of(&[FINISH, usage]).expect("usage");
        assert_eq!(
            u,
            Usage {
                input_tokens: 10,
                output_tokens: 4,
                cache_read_tokens: 10,
                cache_write_tokens: 0,
                reasoning_tokens: 4
            }
        );
    }

    proptest! {
        #[test]
        fn arbitrary_payloads_never_panic(data in ".{0,200}", json_ish in "[\\[\\]{}\":,0-9a-z_ ]{0,120}") {
            let mut d = OpenAiDecoder::default();
            let _ = feed(&mut d, &data);
            let _ = feed(&mut d, &json_ish);
            let _ = feed(&mut d, &format!(r#"{{"choices":[{{"delta":{{"tool_calls":[{json_ish}]}}}}]}}"#));
            let _ = feed(&mut d, &format!(r#"{{"choices":[{{"index":0,"delta":{json_ish},"finish_reason":{json_ish}}}],"usage":{json_ish}}}"#));
            let _ = d.on_end();
        }

        #[test]
        fn usage_parts_never_exceed_their_totals(prompt: u64, completion: u64, cached: u64, written: u64, reasoning: u64) {
            let u = parse_usage(&json!({"prompt_tokens": prompt, "completion_tokens": completion,
                "prompt_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
                "completion_tokens_details": {"reasoning_tokens": reasoning}}));
            prop_assert_eq!((u.input_tokens, u.output_tokens), (prompt, completion));
            prop_assert!(u.cache_read_tokens <= u.input_tokens - u.cache_write_tokens);
            prop_assert!(u.reasoning_tokens <= u.output_tokens);
        }

        #[test]
        fn arbitrary_json_values_never_panic(v in arb_json()) {
            let mut d = OpenAiDecoder::default();
            let _ = feed(&mut d, &json!({"choices": [{"index": 0, "delta": {"tool_calls": [v.clone()], "content": v.clone()}, "finish_reason": v.clone()}], "usage": v.clone()}).to_string());
            let _ = feed(&mut d, &json!({"error": v}).to_string());
            let _ = d.on_end();
        }
    }

    pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            "[a-z_]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("index".to_owned()),
                        Just("id".to_owned()),
                        Just("function".to_owned()),
                        Just("name".to_owned()),
                        Just("arguments".to_owned()),
                        Just("code".to_owned()),
                        Just("message".to_owned()),
                        "[a-z]{1,4}"
                    ],
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
