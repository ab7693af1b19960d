//! The Anthropic provider against a scripted loopback server.

mod llm_server;

use std::time::{Duration, Instant};

use futures::StreamExt;
use llm_server::{KEY, Reply, Server, Step, assert_no_key, collect, config, decode, split_at, text, with_started};
use serde_json::json;
use tandem::llm::anthropic::{Anthropic, AnthropicDecoder};
use tandem::llm::{ChatMessage, LlmError, LlmEvent, Provider, Request, StopReason, ToolCall, ToolSpec, Usage};
use tokio_util::sync::CancellationToken;

const ENV: &str = "ANTHROPIC_API_KEY";

fn sse(event: &str, data: &str) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

fn start() -> String {
    sse(
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-test","stop_reason":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":7,"cache_read_input_tokens":100,"output_tokens":1}}}"#,
    )
}

fn text_block() -> String {
    [
        sse(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        sse("ping", r#"{"type": "ping"}"#),
        sse(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hé"}}"#,
        ),
        sse(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"llo ✓"}}"#,
        ),
        sse("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
    ]
    .concat()
}

fn end(reason: &str) -> String {
    sse(
        "message_delta",
        &format!(
            r#"{{"type":"message_delta","delta":{{"stop_reason":"{reason}","stop_sequence":null}},"usage":{{"output_tokens":42}}}}"#
        ),
    ) + &sse("message_stop", r#"{"type":"message_stop"}"#)
}

/// Text, then a tool call whose JSON arrives in fragments.
fn tool_answer() -> String {
    [
        start(),
        text_block(),
        sse(
            "content_block_start",
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"read_file","input":{}}}"#,
        ),
        sse("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#),
        sse(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a"}}"#,
        ),
        sse("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":".rs\"}"}}"#),
        sse("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        end("tool_use"),
    ]
    .concat()
}

fn text_answer() -> String {
    [start(), text_block(), end("end_turn")].concat()
}

/// The stream's counts in tandem's form: the API's `input_tokens` (25)
/// leave out the cache reads (100) and writes (7); tandem's count them in.
const USAGE: Usage = Usage {
    input_tokens: 25 + 100 + 7,
    output_tokens: 42,
    cache_read_tokens: 100,
    cache_write_tokens: 7,
    reasoning_tokens: 0,
};

fn tool_events() -> Vec<Result<LlmEvent, LlmError>> {
    vec![
        Ok(LlmEvent::TextDelta("Hé".into())),
        Ok(LlmEvent::TextDelta("llo ✓".into())),
        Ok(LlmEvent::ToolCallStarted { index: 0, name: "read_file".into() }),
        Ok(LlmEvent::ToolCall(ToolCall {
            id: "toolu_1".into(),
            name: "read_file".into(),
            arguments: r#"{"path": "a.rs"}"#.into(),
        })),
        Ok(LlmEvent::Usage(USAGE)),
        Ok(LlmEvent::Done(StopReason::ToolUse)),
    ]
}

fn text_events() -> Vec<Result<LlmEvent, LlmError>> {
    vec![
        Ok(LlmEvent::TextDelta("Hé".into())),
        Ok(LlmEvent::TextDelta("llo ✓".into())),
        Ok(LlmEvent::Usage(USAGE)),
        Ok(LlmEvent::Done(StopReason::EndTurn)),
    ]
}

fn request() -> Request {
    Request {
        model: "claude-test".into(),
        system: "You are terse.".into(),
        messages: vec![ChatMessage::User { text: "hi".into() }],
        tools: vec![],
        max_tokens: 1024,
        temperature: None,
    }
}

fn provider(server: &Server, key: Option<&str>) -> Anthropic {
    Anthropic::new(config(server.url(), key, ENV)).unwrap()
}

async fn run(replies: Vec<Reply>) -> (Vec<Result<LlmEvent, LlmError>>, Server) {
    let server = Server::start(replies).await;
    let events = collect(provider(&server, Some(KEY)).stream(request(), CancellationToken::new())).await;
    assert_no_key(&events);
    (events, server)
}

#[test]
fn every_split_point_gives_the_same_events() {
    for (body, expected) in [(tool_answer(), tool_events()), (tool_answer().replace('\n', "\r\n"), tool_events())] {
        let body = body.as_bytes();
        assert_eq!(decode(AnthropicDecoder::default(), &[body]), expected);
        for i in 0..=body.len() {
            assert_eq!(decode(AnthropicDecoder::default(), &split_at(body, &[i])), expected, "split at {i}");
        }
    }
}

#[tokio::test]
async fn split_points_over_http() {
    let answer = tool_answer();
    let body = answer.as_bytes();
    let e_acute = answer.find('é').unwrap() + 1;
    for cut in [1, 6, e_acute, answer.find("\n\n").unwrap() + 1, body.len() - 1] {
        let (events, _) = run(vec![Reply::sse(split_at(body, &[cut]))]).await;
        assert_eq!(events, with_started(tool_events()), "split at {cut}");
    }
    let (events, _) = run(vec![Reply::sse(body.chunks(13)).chunked()]).await;
    assert_eq!(events, with_started(tool_events()));
}

#[tokio::test]
async fn crlf_and_keep_alive_comments() {
    let body = text_answer().replace("\n\n", "\n\n: keep-alive\n\n").replace('\n', "\r\n");
    let (events, _) = run(vec![Reply::sse(body.as_bytes().chunks(50))]).await;
    assert_eq!(events, with_started(text_events()));
}

#[tokio::test]
async fn two_tool_calls_one_without_input() {
    let body = [
        start(),
        sse("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_a","name":"status","input":{}}}"#),
        sse("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        sse("content_block_start", r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_b","name":"grep","input":{}}}"#),
        sse("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":\"x\"}"}}"#),
        sse("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        end("tool_use"),
    ]
    .concat();
    let (events, _) = run(vec![Reply::sse([body])]).await;
    let call = |id: &str, name: &str, args: &str| {
        Ok(LlmEvent::ToolCall(ToolCall { id: id.into(), name: name.into(), arguments: args.into() }))
    };
    assert_eq!(
        events,
        with_started(vec![
            Ok(LlmEvent::ToolCallStarted { index: 0, name: "status".into() }),
            call("toolu_a", "status", "{}"),
            Ok(LlmEvent::ToolCallStarted { index: 1, name: "grep".into() }),
            call("toolu_b", "grep", r#"{"q":"x"}"#),
            Ok(LlmEvent::Usage(USAGE)),
            Ok(LlmEvent::Done(StopReason::ToolUse)),
        ])
    );
}

#[tokio::test]
async fn close_after_stop_reason_without_message_stop() {
    let body = text_answer();
    let body = &body[..body.find("event: message_stop").unwrap()];
    let (events, _) = run(vec![Reply::sse([body])]).await;
    assert_eq!(events, with_started(text_events()));
}

#[tokio::test]
async fn request_body_and_headers() {
    let server = Server::start(vec![Reply::sse([text_answer()]), Reply::sse([text_answer()])]).await;
    let mut req = request();
    req.temperature = Some(0.2);
    req.tools = vec![ToolSpec {
        name: "read_file".into(),
        description: "Reads a file".into(),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
    }];
    req.messages = vec![
        ChatMessage::User { text: "read both".into() },
        ChatMessage::Assistant {
            text: "Reading.".into(),
            tool_calls: vec![
                ToolCall { id: "t1".into(), name: "read_file".into(), arguments: r#"{"path":"a.rs"}"#.into() },
                ToolCall { id: "t2".into(), name: "read_file".into(), arguments: r#"{"path":"#.into() },
            ],
        },
        ChatMessage::Tool {
            call_id: "t1".into(),
            name: "read_file".into(),
            content: "fn a() {}".into(),
            is_error: false,
        },
        ChatMessage::Tool {
            call_id: "t2".into(),
            name: "read_file".into(),
            content: "bad arguments".into(),
            is_error: true,
        },
        ChatMessage::User { text: "and?".into() },
    ];
    let events = collect(provider(&server, Some(KEY)).stream(req, CancellationToken::new())).await;
    assert_eq!(events, with_started(text_events()));
    let recorded = &server.requests()[0];
    assert_eq!(recorded.path, "/v1/messages");
    assert_eq!(recorded.header("x-api-key"), Some(KEY));
    assert_eq!(recorded.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(recorded.header("authorization"), None);
    assert!(recorded.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(
        recorded.body,
        json!({
            "model": "claude-test",
            "max_tokens": 1024,
            "system": "You are terse.",
            "stream": true,
            "temperature": 0.2,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "read both"}]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Reading."},
                    {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a.rs"}},
                    {"type": "tool_use", "id": "t2", "name": "read_file", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "fn a() {}", "is_error": false},
                    {"type": "tool_result", "tool_use_id": "t2", "content": "bad arguments", "is_error": true},
                    {"type": "text", "text": "and?"}
                ]}
            ],
            "tools": [{"name": "read_file", "description": "Reads a file",
                       "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}}]
        })
    );

    // A base URL that already ends in /v1 is not doubled.
    let cfg = config(format!("{}/v1/", server.url()), None, ENV);
    let events = collect(Anthropic::new(cfg).unwrap().stream(request(), CancellationToken::new())).await;
    assert_eq!(events, with_started(text_events()));
    let recorded = &server.requests()[1];
    assert_eq!(recorded.path, "/v1/messages");
    assert_eq!(recorded.header("x-api-key"), None);
    assert!(recorded.body.get("tools").is_none());
}

#[tokio::test]
async fn overloaded_before_the_answer_is_retried() {
    let overloaded =
        start() + &sse("error", r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
    let (events, server) = run(vec![Reply::sse([overloaded]), Reply::sse([text_answer()])]).await;
    let Ok(LlmEvent::Started) = &events[0] else { panic!("{events:?}") };
    let Ok(LlmEvent::Retrying { attempt: 1, reason, .. }) = &events[1] else { panic!("{events:?}") };
    assert!(reason.contains("529") && reason.contains("Overloaded"), "{reason}");
    assert_eq!(events[2..], with_started(text_events())[..]);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn overloaded_mid_answer_is_final() {
    let body = start()
        + &text_block()
        + &sse("error", r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
    let (events, server) = run(vec![Reply::sse([body]), Reply::sse([text_answer()])]).await;
    assert_eq!(text(&events), "Héllo ✓");
    assert_eq!(events.last(), Some(&Err(LlmError::Http { status: 529, message: "Overloaded".into() })));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let start = Instant::now();
    let limited = Reply::json(429, r#"{"type":"error","error":{"type":"rate_limit_error","message":"Too many"}}"#)
        .header("retry-after", "1");
    let (events, _) = run(vec![limited, Reply::sse([text_answer()])]).await;
    let Ok(LlmEvent::Retrying { attempt: 1, delay, reason, .. }) = &events[0] else { panic!("{events:?}") };
    assert_eq!(*delay, Duration::from_secs(1));
    assert!(reason.contains("Too many"), "{reason}");
    assert!(start.elapsed() >= Duration::from_millis(950));
    assert_eq!(events[1..], with_started(text_events())[..]);
}

#[tokio::test]
async fn server_error_then_success() {
    let (events, _) = run(vec![Reply::json(503, ""), Reply::sse([text_answer()])]).await;
    assert!(matches!(&events[0], Ok(LlmEvent::Retrying { attempt: 1, .. })), "{events:?}");
    assert_eq!(events[1..], with_started(text_events())[..]);
}

#[tokio::test]
async fn disconnect_mid_answer_is_broken() {
    let partial = start() + &text_block();
    let (events, server) =
        run(vec![Reply::sse([partial]).chunked().then(Step::Drop), Reply::sse([text_answer()])]).await;
    assert_eq!(text(&events), "Héllo ✓");
    assert!(matches!(events.last(), Some(Err(LlmError::Broken(_)))), "{events:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn malformed_event_is_skipped() {
    let body = text_answer().replacen(
        "event: content_block_stop",
        "event: content_block_delta\ndata: {\"type\":\n\nevent: content_block_stop",
        1,
    );
    let (events, _) = run(vec![Reply::sse([body])]).await;
    assert_eq!(events, with_started(text_events()));
}

#[tokio::test]
async fn stalled_stream_times_out() {
    let server =
        Server::start(vec![Reply::sse([start() + &text_block()]).then(Step::Sleep(Duration::from_secs(3)))]).await;
    let mut cfg = config(server.url(), None, ENV);
    cfg.idle_timeout = Duration::from_millis(300);
    let events = collect(Anthropic::new(cfg).unwrap().stream(request(), CancellationToken::new())).await;
    assert_eq!(text(&events), "Héllo ✓");
    assert_eq!(events.last(), Some(&Err(LlmError::IdleTimeout(Duration::from_millis(300)))));
}

#[tokio::test]
async fn unauthorized_names_the_variable_not_the_key() {
    let body =
        format!(r#"{{"type":"error","error":{{"type":"authentication_error","message":"invalid x-api-key {KEY}"}}}}"#);
    for status in [401, 403] {
        let (events, server) = run(vec![Reply::json(status, &body)]).await;
        let [Err(err @ LlmError::Auth { message, .. })] = &events[..] else { panic!("{events:?}") };
        assert!(message.contains(ENV), "{message}");
        assert!(!format!("{err} {err:?}").contains(KEY), "{err:?}");
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn cancel_ends_the_stream_promptly_and_closes_the_connection() {
    let tick = sse(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#,
    );
    let mut chunks = vec![start()];
    chunks.extend(std::iter::repeat_n(tick.clone(), 3));
    // A long silence after three deltas: the cancel must not wait for the
    // next byte (or the idle timeout) to be noticed.
    let reply = Reply::sse(chunks).then(Step::Sleep(Duration::from_secs(10))).then(Step::Bytes(tick.into()));
    let server = Server::start(vec![reply]).await;
    let cancel = CancellationToken::new();
    let mut stream = provider(&server, None).stream(request(), cancel.clone());
    let mut deltas = 0;
    while deltas < 3 {
        if let Some(Ok(LlmEvent::TextDelta(_))) = stream.next().await {
            deltas += 1;
        }
    }
    let trigger = cancel.clone();
    let cancelled_at = Instant::now() + Duration::from_millis(30);
    tokio::spawn(async move {
        tokio::time::sleep_until(cancelled_at.into()).await;
        trigger.cancel();
    });
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item);
    }
    let ended = Instant::now();
    assert_eq!(last, Some(Err(LlmError::Cancelled)));
    // Target 100 ms; the slack only absorbs scheduler noise.
    let latency = ended.duration_since(cancelled_at);
    eprintln!("cancel latency: {latency:?}");
    assert!(latency < Duration::from_millis(500), "{latency:?}");
    let deadline = Instant::now() + Duration::from_secs(1);
    while server.client_closed().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.client_closed().len(), 1, "the server saw the connection close");
}
