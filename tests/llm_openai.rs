//! The OpenAI-compatible provider against a scripted loopback server.

mod llm_server;

use std::time::{Duration, Instant};

use futures::StreamExt;
use llm_server::{KEY, Reply, Server, Step, assert_no_key, collect, config, decode, split_at, text, with_started};
use serde_json::json;
use tandem::llm::openai::{OpenAi, OpenAiDecoder, list_models};
use tandem::llm::{ChatMessage, LlmError, LlmEvent, Provider, Request, StopReason, ToolCall, ToolSpec, Usage};
use tokio_util::sync::CancellationToken;

const ENV: &str = "OPENAI_API_KEY";

/// A short answer in the shape OpenAI sends with `include_usage`: the
/// finish reason, then a usage chunk with empty `choices`, then `[DONE]`.
const ANSWER: &str = concat!(
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hé\"},\"finish_reason\":null}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"llo ✓\"},\"finish_reason\":null}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,",
    "\"prompt_tokens_details\":{\"cached_tokens\":8}}}\n\n",
    "data: [DONE]\n\n",
);

const USAGE: Usage =
    Usage { input_tokens: 12, output_tokens: 3, cache_read_tokens: 8, cache_write_tokens: 0, reasoning_tokens: 0 };

fn answer_events() -> Vec<Result<LlmEvent, LlmError>> {
    vec![
        Ok(LlmEvent::TextDelta("Hé".into())),
        Ok(LlmEvent::TextDelta("llo ✓".into())),
        Ok(LlmEvent::Usage(USAGE)),
        Ok(LlmEvent::Done(StopReason::EndTurn)),
    ]
}

fn request() -> Request {
    Request {
        model: "gpt-test".into(),
        system: "You are terse.".into(),
        messages: vec![ChatMessage::User { text: "hi".into() }],
        tools: vec![],
        max_tokens: 256,
        temperature: None,
    }
}

fn provider(server: &Server, key: Option<&str>) -> OpenAi {
    OpenAi::new(config(format!("{}/v1", server.url()), key, ENV)).unwrap()
}

async fn run(replies: Vec<Reply>) -> (Vec<Result<LlmEvent, LlmError>>, Server) {
    let server = Server::start(replies).await;
    let events = collect(provider(&server, Some(KEY)).stream(request(), CancellationToken::new())).await;
    assert_no_key(&events);
    (events, server)
}

#[test]
fn every_split_point_gives_the_same_events() {
    let body = ANSWER.as_bytes();
    assert_eq!(decode(OpenAiDecoder::default(), &[body]), answer_events());
    for i in 0..=body.len() {
        assert_eq!(decode(OpenAiDecoder::default(), &split_at(body, &[i])), answer_events(), "split at {i}");
    }
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(decode(OpenAiDecoder::default(), &bytes), answer_events());
}

#[tokio::test]
async fn split_points_over_http() {
    let body = ANSWER.as_bytes();
    // Inside "data", inside the multi-byte "é" and "✓", between events.
    let e_acute = ANSWER.find('é').unwrap() + 1;
    let check = ANSWER.find('✓').unwrap() + 2;
    for cut in [1, 3, e_acute, check, ANSWER.find("\n\n").unwrap() + 1, body.len() - 3] {
        let (events, _) = run(vec![Reply::sse(split_at(body, &[cut]))]).await;
        assert_eq!(events, with_started(answer_events()), "split at {cut}");
    }
    let (events, _) = run(vec![Reply::sse(body.chunks(7)).chunked()]).await;
    assert_eq!(events, with_started(answer_events()));
}

#[tokio::test]
async fn crlf_comments_and_multiline_data() {
    let body = concat!(
        ": keep-alive\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\r\ndata: \"delta\":{\"content\":\"Hé\"}}]}\r\n\r\n",
        ": keep-alive\r\n\r\n",
        "data: {\"choices\":[]}\r\n\r\n",
        "data:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"llo ✓\"}}]}\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],",
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"prompt_tokens_details\":{\"cached_tokens\":8}}}\r\n\r\n",
    );
    // Usage arrives with the finish reason and the server closes without
    // `[DONE]`: still a complete answer.
    let (events, _) = run(vec![Reply::sse(body.as_bytes().chunks(40))]).await;
    assert_eq!(events, with_started(answer_events()));
}

#[tokio::test]
async fn close_after_finish_reason_without_usage_or_done() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"length\"}]}\n\n";
    let (events, _) = run(vec![Reply::sse([body])]).await;
    assert_eq!(
        events,
        with_started(vec![Ok(LlmEvent::TextDelta("ok".into())), Ok(LlmEvent::Done(StopReason::MaxTokens))])
    );
}

#[tokio::test]
async fn parallel_tool_calls_are_assembled_by_index() {
    let chunk = |delta: &str| format!("data: {{\"choices\":[{{\"index\":0,\"delta\":{delta}}}]}}\n\n");
    let body = [
        chunk(
            r#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read_file","arguments":""}}]}"#,
        ),
        chunk(
            r#"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"list_dir","arguments":""}}]}"#,
        ),
        chunk(r#"{"tool_calls":[{"index":1,"function":{"arguments":"{\"path\":"}}]}"#),
        chunk(r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":\"a.rs\"}"}}]}"#),
        chunk(r#"{"tool_calls":[{"index":1,"function":{"arguments":"\".\"}"}}]}"#),
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n".into(),
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9}}\n\n".into(),
        "data: [DONE]\n\n".into(),
    ];
    let (events, _) = run(vec![Reply::sse(body)]).await;
    let call = |id: &str, name: &str, arguments: &str| {
        Ok(LlmEvent::ToolCall(ToolCall { id: id.into(), name: name.into(), arguments: arguments.into() }))
    };
    assert_eq!(
        events,
        with_started(vec![
            Ok(LlmEvent::ToolCallStarted { index: 0, name: "read_file".into() }),
            Ok(LlmEvent::ToolCallStarted { index: 1, name: "list_dir".into() }),
            call("call_a", "read_file", r#"{"path":"a.rs"}"#),
            call("call_b", "list_dir", r#"{"path":"."}"#),
            Ok(LlmEvent::Usage(Usage { input_tokens: 5, output_tokens: 9, ..Usage::default() })),
            Ok(LlmEvent::Done(StopReason::ToolUse)),
        ])
    );
}

#[tokio::test]
async fn request_body_and_headers() {
    let server = Server::start(vec![Reply::sse([ANSWER]), Reply::sse([ANSWER])]).await;
    let mut req = request();
    req.temperature = Some(0.2);
    req.tools = vec![ToolSpec {
        name: "read_file".into(),
        description: "Reads a file".into(),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
    }];
    req.messages = vec![
        ChatMessage::User { text: "read a.rs".into() },
        ChatMessage::Assistant {
            text: String::new(),
            tool_calls: vec![ToolCall {
                id: "call_1".into(),
                name: "read_file".into(),
                arguments: "{\"path\":\"a.rs\"}".into(),
            }],
        },
        ChatMessage::Tool {
            call_id: "call_1".into(),
            name: "read_file".into(),
            content: "fn main() {}".into(),
            is_error: false,
        },
    ];
    let events = collect(provider(&server, None).stream(req, CancellationToken::new())).await;
    assert_eq!(events, with_started(answer_events()));
    let recorded = &server.requests()[0];
    assert_eq!(recorded.method, "POST");
    assert_eq!(recorded.path, "/v1/chat/completions");
    assert_eq!(recorded.header("authorization"), None, "no key, no Authorization header");
    assert!(recorded.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(
        recorded.body,
        json!({
            "model": "gpt-test",
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": 256,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "read a.rs"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"a.rs\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "fn main() {}"}
            ],
            "tools": [{"type": "function", "function": {
                "name": "read_file", "description": "Reads a file",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}
            }}]
        })
    );

    let events = collect(provider(&server, Some(KEY)).stream(request(), CancellationToken::new())).await;
    assert_eq!(events, with_started(answer_events()));
    let recorded = &server.requests()[1];
    assert_eq!(recorded.header("authorization"), Some(&*format!("Bearer {KEY}")));
    assert!(recorded.body.get("tools").is_none(), "no tools, no `tools` field");
    assert!(recorded.body.get("temperature").is_none());
}

#[tokio::test]
async fn rate_limit_honours_retry_after() {
    let start = Instant::now();
    let (events, server) = run(vec![
        Reply::json(429, r#"{"error":{"message":"slow down"}}"#).header("Retry-After", "1"),
        Reply::sse([ANSWER]),
    ])
    .await;
    let Ok(LlmEvent::Retrying { attempt, max, delay, reason }) = &events[0] else { panic!("{events:?}") };
    assert_eq!((*attempt, *max), (1, 3));
    assert_eq!(*delay, Duration::from_secs(1));
    assert!(reason.contains("429") && reason.contains("slow down"), "{reason}");
    assert!(start.elapsed() >= Duration::from_millis(950), "the wait happened");
    assert_eq!(events[1..], with_started(answer_events())[..]);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn server_error_then_success() {
    let (events, _) = run(vec![Reply::json(500, "oops"), Reply::sse([ANSWER])]).await;
    let Ok(LlmEvent::Retrying { attempt: 1, delay, reason, .. }) = &events[0] else { panic!("{events:?}") };
    assert!(*delay <= Duration::from_millis(10), "{delay:?}");
    assert!(reason.contains("500") && reason.contains("oops"), "{reason}");
    assert_eq!(events[1..], with_started(answer_events())[..]);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_the_message() {
    let long = "x".repeat(2000);
    let body =
        format!(r#"{{"error":{{"message":"model gpt-x does not exist {long}","type":"invalid_request_error"}}}}"#);
    let (events, server) = run(vec![Reply::json(404, &body)]).await;
    let [Err(LlmError::Http { status: 404, message })] = &events[..] else { panic!("{events:?}") };
    assert!(message.starts_with("model gpt-x does not exist") && message.chars().count() <= 301, "{message}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn disconnect_mid_answer_is_broken_and_not_retried() {
    let first = ANSWER.split("\n\n").take(3).collect::<Vec<_>>().join("\n\n") + "\n\n";
    for reply in [Reply::sse([first.clone()]).then(Step::Drop), Reply::sse([first.clone()]).then(Step::Drop).chunked()]
    {
        let (events, server) = run(vec![reply, Reply::sse([ANSWER])]).await;
        assert_eq!(text(&events), "Héllo ✓");
        assert!(matches!(events.last(), Some(Err(LlmError::Broken(_)))), "{events:?}");
        assert_eq!(server.requests().len(), 1, "a partial answer is not retried");
    }
}

#[tokio::test]
async fn malformed_event_is_skipped() {
    let mut parts: Vec<&str> = ANSWER.split_inclusive("\n\n").collect();
    parts.insert(2, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lost\n\n");
    parts.insert(3, "data: not json at all\n\n");
    let (events, _) = run(vec![Reply::sse(parts)]).await;
    assert_eq!(events, with_started(answer_events()));
}

#[tokio::test]
async fn stalled_stream_times_out() {
    let server = Server::start(vec![
        Reply::sse([ANSWER.split_inclusive("\n\n").take(2).collect::<String>()])
            .then(Step::Sleep(Duration::from_secs(3))),
    ])
    .await;
    let mut cfg = config(format!("{}/v1", server.url()), None, ENV);
    cfg.idle_timeout = Duration::from_millis(300);
    let start = Instant::now();
    let events = collect(OpenAi::new(cfg).unwrap().stream(request(), CancellationToken::new())).await;
    assert_eq!(text(&events), "Hé");
    assert_eq!(events.last(), Some(&Err(LlmError::IdleTimeout(Duration::from_millis(300)))));
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unauthorized_names_the_variable_not_the_key() {
    let (events, server) =
        run(vec![Reply::json(401, &format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#))]).await;
    let [Err(err @ LlmError::Auth { status: 401, message })] = &events[..] else { panic!("{events:?}") };
    assert!(message.contains(ENV), "{message}");
    assert!(!format!("{err} {err:?}").contains(KEY));
    assert!(!format!("{:?}", provider(&server, Some(KEY))).contains(KEY), "provider Debug shows the key");
    assert_eq!(server.requests().len(), 1, "auth errors are not retried");
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let mut cfg = config(url, Some(KEY), ENV);
    cfg.max_retries = 1;
    let events = collect(OpenAi::new(cfg).unwrap().stream(request(), CancellationToken::new())).await;
    assert_no_key(&events);
    assert!(matches!(events[0], Ok(LlmEvent::Retrying { attempt: 1, max: 1, .. })), "{events:?}");
    assert!(matches!(&events[1], Err(LlmError::Connect { .. })), "{events:?}");
}

#[tokio::test]
async fn cancel_ends_the_stream_promptly_and_closes_the_connection() {
    let tick = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n";
    // Three deltas, then a long silence: the cancel must not wait for the
    // next byte (or the idle timeout) to be noticed.
    let reply =
        Reply::sse(vec![tick; 3]).chunked().then(Step::Sleep(Duration::from_secs(10))).then(Step::Bytes(tick.into()));
    let server = Server::start(vec![reply]).await;
    let cancel = CancellationToken::new();
    let mut stream = provider(&server, None).stream(request(), cancel.clone());
    let mut deltas = 0;
    while let Some(Ok(event)) = stream.next().await {
        if matches!(event, LlmEvent::TextDelta(_)) {
            deltas += 1;
            if deltas == 3 {
                break;
            }
        }
    }
    let trigger = cancel.clone();
    let cancelled_at = Instant::now() + Duration::from_millis(50);
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
    // The target is 100 ms; the slack only absorbs scheduler noise on a
    // loaded machine.
    let latency = ended.duration_since(cancelled_at);
    eprintln!("cancel latency: {latency:?}");
    assert!(latency < Duration::from_millis(500), "{latency:?}");
    // The stream is still alive: the cancel itself must have closed it.
    let deadline = Instant::now() + Duration::from_secs(1);
    while server.client_closed().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let closed = server.client_closed();
    assert_eq!(closed.len(), 1, "the server saw the connection close");
    assert!(closed[0].duration_since(cancelled_at) < Duration::from_millis(500));
    drop(stream);
}

#[test]
fn describe_names_the_server() {
    let describe = |url: &str| OpenAi::new(config(url.into(), None, ENV)).unwrap().describe();
    assert_eq!(describe("https://api.openai.com/v1"), "openai");
    assert_eq!(describe("http://127.0.0.1:11434/v1"), "ollama");
    assert_eq!(describe("http://gpu-box:8000/v1"), "openai-compatible gpu-box:8000");
}

#[tokio::test]
async fn list_models_reads_ids() {
    let server = Server::start(vec![
        Reply::json(200, r#"{"object":"list","data":[{"id":"llama3.2:latest"},{"id":"qwen3:8b"}]}"#),
        Reply::json(401, "{}"),
    ])
    .await;
    let cfg = config(format!("{}/v1", server.url()), None, ENV);
    assert_eq!(list_models(&cfg).await.unwrap(), ["llama3.2:latest", "qwen3:8b"]);
    let recorded = &server.requests()[0];
    assert_eq!((recorded.method.as_str(), recorded.path.as_str()), ("GET", "/v1/models"));
    assert_eq!(recorded.header("authorization"), None);
    let err = list_models(&config(format!("{}/v1", server.url()), Some(KEY), ENV)).await.unwrap_err();
    assert!(matches!(&err, LlmError::Auth { status: 401, message } if message.contains(ENV)), "{err:?}");
}
