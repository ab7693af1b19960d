use std::sync::Mutex;
use std::time::Instant;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::*;
use crate::llm::scripted::Scripted;
use crate::llm::select::Prices;
use crate::llm::{EventStream, ToolSpec};
use crate::metrics::budget::Limits;
use crate::tools::{ToolContext, ToolOutput};

/// Records every request, then answers from a script.
struct Recording {
    inner: Scripted,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Provider for Recording {
    fn describe(&self) -> String {
        "recording".into()
    }
    fn stream(&self, request: Request, cancel: CancellationToken) -> EventStream {
        if let Ok(mut r) = self.requests.lock() {
            r.push(request.clone());
        }
        self.inner.stream(request, cancel)
    }
}

/// A tool that echoes its `text` argument, or fails on invalid JSON.
struct Echo;

impl ToolRegistry for Echo {
    fn specs(&self) -> Vec<ToolSpec> {
        vec![ToolSpec {
            name: "echo".into(),
            description: "Echo the text".into(),
            parameters: serde_json::json!({"type": "object", "properties": {"text": {"type": "string"}}}),
        }]
    }
    fn call(&self, call: ToolCall, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        Box::pin(async move {
            match serde_json::from_str::<serde_json::Value>(&call.arguments) {
                Ok(v) => ToolOutput::ok(format!("echo: {}", v["text"].as_str().unwrap_or("")), "echoed"),
                Err(e) => ToolOutput::error(format!("arguments are not JSON: {e}")),
            }
        })
    }
}

fn profile(window: u64) -> Profile {
    Profile {
        name: "test".into(),
        kind: Some(crate::config::ProviderKind::OpenAi),
        model: "m".into(),
        context_window: window,
        max_output_tokens: 100,
        prices: Prices::default(),
        available_models: Vec::new(),
    }
}

struct Harness {
    commands: mpsc::UnboundedSender<AgentCommand>,
    events: mpsc::UnboundedReceiver<AgentEvent>,
    requests: Arc<Mutex<Vec<Request>>>,
}

fn start(script: &str, rounds: u32) -> Harness {
    start_with_index(script, rounds, None)
}

fn start_with_index(script: &str, rounds: u32, index: Option<SharedIndex>) -> Harness {
    start_with(script, rounds, index, profile(100_000), Limits::default())
}

fn start_with(script: &str, rounds: u32, index: Option<SharedIndex>, profile: Profile, limits: Limits) -> Harness {
    let dir = std::env::temp_dir();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let provider =
        Arc::new(Recording { inner: Scripted::from_toml("test", script).expect("script"), requests: requests.clone() });
    let (etx, erx) = mpsc::unbounded_channel();
    let (ctx, crx) = mpsc::unbounded_channel();
    let agent = Agent::new(
        provider,
        profile,
        Arc::new(Echo),
        AgentConfig { root: dir.clone(), cwd: dir, is_git: true, max_tool_rounds: rounds, index, map_tokens: 512 },
        etx,
    )
    .with_budget(limits);
    tokio::spawn(agent.run(crx));
    Harness { commands: ctx, events: erx, requests }
}

impl Harness {
    /// Events up to and including the end of the turn.
    async fn turn(&mut self) -> Vec<AgentEvent> {
        let mut out = Vec::new();
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(10), self.events.recv())
                .await
                .expect("turn did not end in time")
                .expect("agent stopped");
            let end = matches!(ev, AgentEvent::TurnEnded(_));
            out.push(ev);
            if end {
                return out;
            }
        }
    }

    fn send(&self, text: &str) {
        self.commands.send(AgentCommand::User { text: text.into() }).expect("send");
    }
}

fn text_of(events: &[AgentEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_text_answer_ends_the_turn() {
    let mut h = start("[[turns]]\ntext = \"Hello there.\"\n", 5);
    h.send("hi");
    let events = h.turn().await;
    assert_eq!(events.first(), Some(&AgentEvent::TurnStarted));
    assert_eq!(text_of(&events), "Hello there.");
    assert_eq!(events.last(), Some(&AgentEvent::TurnEnded(TurnOutcome::Completed)));
    let reqs = h.requests.lock().expect("lock");
    assert_eq!(reqs[0].messages, vec![ChatMessage::User { text: "hi".into() }]);
    assert!(reqs[0].system.contains("You are tandem"));
    assert_eq!(reqs[0].tools[0].name, "echo");
}

#[tokio::test]
async fn tool_results_go_back_to_the_model_until_it_answers() {
    let script = r#"
[[turns]]
text = "Let me check."
tool_calls = [{ name = "echo", arguments = '{"text": "ping"}' }, { name = "echo", arguments = 'not json' }]
[[turns]]
text = "It said ping."
"#;
    let mut h = start(script, 5);
    h.send("check");
    let events = h.turn().await;
    assert_eq!(events.last(), Some(&AgentEvent::TurnEnded(TurnOutcome::Completed)));
    let done: Vec<&ToolOutput> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolDone { output, .. } => Some(output),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 2);
    assert_eq!(done[0].content, "echo: ping");
    assert!(done[1].is_error);
    let reqs = h.requests.lock().expect("lock");
    assert_eq!(reqs.len(), 2);
    let second = &reqs[1].messages;
    assert!(matches!(&second[1], ChatMessage::Assistant { tool_calls, .. } if tool_calls.len() == 2));
    assert!(matches!(&second[2], ChatMessage::Tool { content, is_error: false, .. } if content == "echo: ping"));
    assert!(matches!(&second[3], ChatMessage::Tool { is_error: true, .. }));
}

#[tokio::test]
async fn the_round_limit_stops_a_looping_model() {
    let call = "tool_calls = [{ name = \"echo\", arguments = '{\"text\": \"again\"}' }]\n";
    let script = format!("[[turns]]\n{call}[[turns]]\n{call}[[turns]]\n{call}");
    let mut h = start(&script, 2);
    h.send("loop");
    let events = h.turn().await;
    assert_eq!(events.last(), Some(&AgentEvent::TurnEnded(TurnOutcome::RoundLimit(2))));
    assert_eq!(h.requests.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn cancel_stops_the_stream_and_keeps_the_partial_answer() {
    let mut h = start(
        "[[turns]]\ndelay_ms = 30\ntext = \"one two three four five six seven eight nine ten\"\n[[turns]]\ntext = \"next\"\n",
        5,
    );
    h.send("count");
    // Wait for some text, then cancel.
    loop {
        if let Some(AgentEvent::Text(_)) = h.events.recv().await {
            break;
        }
    }
    let t0 = Instant::now();
    h.commands.send(AgentCommand::Cancel).expect("cancel");
    let events = h.turn().await;
    assert!(t0.elapsed() < Duration::from_secs(2));
    assert_eq!(events.last(), Some(&AgentEvent::TurnEnded(TurnOutcome::Cancelled)));
    h.send("again");
    h.turn().await;
    let reqs = h.requests.lock().expect("lock");
    let ChatMessage::Assistant { text, .. } = &reqs[1].messages[1] else { panic!("assistant message kept") };
    assert!(text.starts_with("one ") && text.ends_with("[the user stopped this answer here]"), "{text}");
}

#[tokio::test]
async fn a_broken_stream_fails_the_turn_and_retry_asks_again() {
    let mut h = start("[[turns]]\ntext = \"partial answ\"\nfail = \"broken\"\n[[turns]]\ntext = \"whole answer\"\n", 5);
    h.send("question");
    let events = h.turn().await;
    assert_eq!(text_of(&events), "partial answ");
    match events.last() {
        Some(AgentEvent::TurnEnded(TurnOutcome::Failed { partial: true, retryable: true, message })) => {
            assert!(message.contains("broke"), "{message}");
        }
        other => panic!("unexpected end {other:?}"),
    }
    h.commands.send(AgentCommand::Retry).expect("retry");
    let events = h.turn().await;
    assert_eq!(text_of(&events), "whole answer");
    let reqs = h.requests.lock().expect("lock");
    // The retry asks the same question, without the broken partial answer.
    assert_eq!(reqs[1].messages, vec![ChatMessage::User { text: "question".into() }]);
}

#[tokio::test]
async fn messages_sent_during_a_turn_are_queued() {
    let mut h = start("[[turns]]\ndelay_ms = 20\ntext = \"a b c d e\"\n[[turns]]\ntext = \"second\"\n", 5);
    h.send("first");
    h.send("follow-up");
    let first = h.turn().await;
    assert_eq!(text_of(&first), "a b c d e");
    let second = h.turn().await;
    assert_eq!(text_of(&second), "second");
}

#[test]
fn today_is_a_date() {
    let d = today();
    assert_eq!(d.len(), 10);
    assert!(d.starts_with("20"), "{d}");
}

#[tokio::test]
async fn requests_carry_a_repository_map_ranked_for_the_message() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index/repo");
    let (index, _) = crate::index::Index::build(&crate::index::IndexOptions::new(root), &|_, _| {}).expect("index");
    let shared: SharedIndex = Arc::new(std::sync::RwLock::new(Some(index)));
    let mut h = start_with_index("[[turns]]\ntext = \"ok\"\n", 5, Some(shared));
    h.send("why does Config::new fail?");
    let events = h.turn().await;
    let map = events.iter().find_map(|e| match e {
        AgentEvent::MapUsed { text, tokens, .. } => Some((text.clone(), *tokens)),
        _ => None,
    });
    let (text, tokens) = map.expect("a map was sent");
    assert!(tokens > 0 && tokens <= 512, "{tokens}");
    assert!(text.contains("config.rs"), "{text}");
    let reqs = h.requests.lock().expect("lock");
    assert!(reqs[0].system.contains("# Repository map"));
    assert!(reqs[0].system.contains(&text));
}

#[test]
fn files_in_play_come_from_tool_call_paths_newest_first() {
    let call =
        |p: &str| ToolCall { id: "c".into(), name: "read_file".into(), arguments: format!("{{\"path\": \"{p}\"}}") };
    let conv = vec![
        ChatMessage::Assistant { text: String::new(), tool_calls: vec![call("a.rs"), call("b.rs")] },
        ChatMessage::Assistant { text: String::new(), tool_calls: vec![call("c.rs"), call("a.rs")] },
    ];
    assert_eq!(files_in_play(&conv), vec![PathBuf::from("c.rs"), PathBuf::from("a.rs"), PathBuf::from("b.rs")]);
}

fn priced(input: f64, output: f64) -> Profile {
    Profile { prices: Prices { input: Some(input), output: Some(output), ..Prices::default() }, ..profile(100_000) }
}

fn outcome(events: &[AgentEvent]) -> &TurnOutcome {
    match events.last() {
        Some(AgentEvent::TurnEnded(o)) => o,
        other => panic!("not the end of a turn: {other:?}"),
    }
}

fn warnings(events: &[AgentEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::BudgetWarning(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn each_request_reports_its_timing_tokens_and_cost() {
    let script = "[[turns]]\npause_ms = 30\ntext = \"one two three\"\nusage = { input = 2000, output = 30 }\n";
    let mut h = start_with(script, 5, None, priced(1.0, 10.0), Limits::default());
    h.send("hi");
    let events = h.turn().await;
    let stats = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::RequestEnded(s) => Some(*s),
            _ => None,
        })
        .expect("a request ended");
    let first = stats.first_token.expect("a first token");
    assert!(first >= Duration::from_millis(30) && first <= stats.elapsed, "{stats:?}");
    assert_eq!(stats.usage.output_tokens, 30);
    assert!((stats.cost.expect("priced") - (2000.0 + 300.0) / 1e6).abs() < 1e-12, "{stats:?}");
    assert_eq!((stats.context_tokens, stats.context_window, stats.failed), (2000, 100_000, false));
}

#[tokio::test]
async fn the_turn_budget_refuses_a_turn_past_it() {
    let script = "[[turns]]\ntext = \"one\"\n[[turns]]\ntext = \"two\"\n";
    let limits = Limits { max_turns: Some(1), ..Limits::default() };
    let mut h = start_with(script, 5, None, profile(100_000), limits);
    h.send("first");
    let events = h.turn().await;
    assert_eq!(outcome(&events), &TurnOutcome::Completed);
    assert_eq!(warnings(&events).len(), 1, "the last turn is announced: {events:?}");
    h.send("second");
    let events = h.turn().await;
    let TurnOutcome::OverBudget(why) = outcome(&events) else { panic!("refused: {events:?}") };
    assert!(why.contains("all 1 of its turns (budget.max_turns)") && why.contains("max_turns"), "{why}");
    assert!(!events.contains(&AgentEvent::TurnStarted), "a refused turn does not start");
    assert_eq!(h.requests.lock().expect("lock").len(), 1, "nothing was sent for the second message");
}

#[tokio::test]
async fn the_cost_budget_stops_a_turn_before_its_tools_and_next_request() {
    // $1 per million input tokens: the first answer costs $0.60 of $0.50.
    let script = r#"
[[turns]]
text = "Let me check."
usage = { input = 600000, output = 0 }
tool_calls = [{ name = "echo", arguments = '{"text": "ping"}' }]
[[turns]]
text = "never asked"
"#;
    let limits = Limits { max_cost_usd: Some(0.5), ..Limits::default() };
    let mut h = start_with(script, 5, None, priced(1.0, 1.0), limits);
    h.send("check");
    let events = h.turn().await;
    let TurnOutcome::OverBudget(why) = outcome(&events) else { panic!("stopped: {events:?}") };
    assert!(why.contains("cost $0.60, reaching its budget of $0.50 (budget.max_cost_usd)"), "{why}");
    assert!(warnings(&events).iter().any(|w| w.contains("no further requests")), "{events:?}");
    assert!(events.iter().any(|e| matches!(e, AgentEvent::ToolRefused { name, .. } if name == "echo")));
    assert!(!events.iter().any(|e| matches!(e, AgentEvent::ToolDone { .. })), "the tool did not run");
    assert_eq!(h.requests.lock().expect("lock").len(), 1);
    // The next message is refused at once, and the call has its result in
    // the conversation.
    h.send("go on");
    let events = h.turn().await;
    assert!(matches!(outcome(&events), TurnOutcome::OverBudget(_)));
    assert_eq!(h.requests.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn a_tool_over_its_per_minute_limit_is_refused_and_the_model_told() {
    let script = r#"
[[turns]]
tool_calls = [{ name = "echo", arguments = '{"text": "a"}' }, { name = "echo", arguments = '{"text": "b"}' }]
[[turns]]
text = "I will wait."
"#;
    let limits = Limits { per_tool: [("echo".to_string(), 1)].into(), ..Limits::default() };
    let mut h = start_with(script, 5, None, profile(100_000), limits);
    h.send("echo twice");
    let events = h.turn().await;
    assert_eq!(outcome(&events), &TurnOutcome::Completed);
    let ran = events.iter().filter(|e| matches!(e, AgentEvent::ToolDone { name, .. } if name == "echo")).count();
    assert_eq!(ran, 1);
    let refused = events.iter().find_map(|e| match e {
        AgentEvent::ToolRefused { name, reason, .. } => Some((name.clone(), reason.clone())),
        _ => None,
    });
    let (name, reason) = refused.expect("the second call was refused");
    assert_eq!(name, "echo");
    assert!(reason.contains("called once in the last minute"), "{reason}");
    let reqs = h.requests.lock().expect("lock");
    let told = reqs[1].messages.iter().any(|m| {
        matches!(m, ChatMessage::Tool { content, is_error: true, .. }
            if content.contains("budget.max_tool_calls_per_minute") && content.contains("echo = 2"))
    });
    assert!(told, "{:?}", reqs[1].messages);
}
