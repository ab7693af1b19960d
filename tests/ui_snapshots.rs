//! Whole screens, as a user reads them, at the two sizes that matter.

mod common;

use common::{app, drive, screen};

#[test]
fn start_screen_120x40() {
    let mut app = app();
    let t = drive(&mut app, "", 120, 40);
    assert_screen!(screen(&t));
}

#[test]
fn start_screen_80x24() {
    let mut app = app();
    let t = drive(&mut app, "", 80, 24);
    assert_screen!(screen(&t));
}

#[test]
fn conversation_120x40() {
    let mut app = app();
    let t = drive(&mut app, "explain the index<Enter>and now<C-j>two lines", 120, 40);
    assert_screen!(screen(&t));
}

#[test]
fn help_overlay_120x40() {
    let mut app = app();
    let t = drive(&mut app, "<F1>", 120, 40);
    assert_screen!(screen(&t));
}

#[test]
fn help_overlay_80x24() {
    let mut app = app();
    let t = drive(&mut app, "<F1>", 80, 24);
    assert_screen!(screen(&t));
}

#[test]
fn narrow_terminal_shows_one_pane_with_tabs_80x24() {
    let mut app = app();
    let t = drive(&mut app, "<F3>", 80, 24);
    assert_screen!(screen(&t));
}

#[test]
fn zoomed_metrics_120x40() {
    let mut app = app();
    let t = drive(&mut app, "<F4><A-z>", 120, 40);
    assert_screen!(screen(&t));
}

const MARKDOWN_ANSWER: &str = r#"
[[turns]]
usage = { input = 900, output = 120 }
text = """
## How the map is ranked

The index keeps every **symbol** and ranks files with *personalized* PageRank over the `reference graph`:

1. files in play get extra weight
2. identifiers you mention weigh more

> Ranking runs again only when a file changes.

```rust
fn rank(graph: &Graph) -> Vec<f64> {
    let mut r = vec![1.0; graph.len()];
    for _ in 0..20 {
        r = graph.step(&r);
    }
    r
}
```
"""
"#;

#[test]
fn chat_with_markdown_and_code_120x40() {
    let mut s = common::Session::with_script(MARKDOWN_ANSWER, 120, 40);
    s.keys("how is the map ranked?<Enter>");
    assert_screen!(s.screen());
}

#[test]
fn chat_with_markdown_and_code_80x24() {
    let mut s = common::Session::with_script(MARKDOWN_ANSWER, 80, 24);
    s.keys("how is the map ranked?<Enter>");
    assert_screen!(s.screen());
}

/// The app after a made-up session with every figure of the metrics pane
/// filled in, none of them from a clock or /proc.
fn populated() -> tandem::app::App {
    use std::time::Duration;
    use tandem::agent::{AgentEvent, TurnOutcome};
    use tandem::llm::Usage;
    use tandem::llm::select::{Prices, Profile};
    use tandem::metrics::process::ProcessSample;
    use tandem::metrics::stats::RequestStats;
    use tandem::tools::ToolOutput;
    use tandem::view::state::IndexStatus;

    let mut app = app();
    let s = &mut app.state;
    let prices = Prices { input: Some(3.0), output: Some(15.0), cache_read: Some(0.3), cache_write: Some(3.75) };
    let profile = Profile {
        name: "anthropic".into(),
        kind: Some(tandem::config::ProviderKind::Anthropic),
        model: "claude-sonnet-4-5".into(),
        context_window: 200_000,
        max_output_tokens: 8192,
        prices,
        available_models: Vec::new(),
    };
    s.model.label = "anthropic claude-sonnet-4-5".into();
    s.model.profile = Some(profile);
    s.model.turns = 3;
    s.config.budget.max_cost_usd = 1.0;
    s.config.budget.max_turns = 20;
    s.config.budget.max_tool_calls_per_minute =
        tandem::config::ToolCallLimit::PerTool([("run_command".to_string(), 5), ("default".to_string(), 30)].into());
    s.metrics.limits = tandem::metrics::budget::Limits::from_config(&s.config.budget);
    let ms = Duration::from_millis;
    // `input` is the prompt's uncached part; the usage counts the whole prompt.
    let request = |input: u64, output: u64, cache_read: u64, first: u64, total: u64| {
        let usage = Usage {
            input_tokens: input + cache_read,
            output_tokens: output,
            cache_read_tokens: cache_read,
            ..Usage::default()
        };
        AgentEvent::RequestEnded(RequestStats {
            first_token: Some(ms(first)),
            elapsed: ms(total),
            usage,
            cost: tandem::metrics::cost(&usage, &prices),
            context_tokens: input + cache_read,
            context_window: 200_000,
            failed: false,
        })
    };
    let tool = |name: &str, ok: bool, elapsed: u64| AgentEvent::ToolDone {
        id: "c".into(),
        name: name.into(),
        output: if ok { ToolOutput::ok("", "") } else { ToolOutput::error("failed") },
        elapsed: ms(elapsed),
    };
    let mut events = vec![AgentEvent::TurnStarted, request(9_800, 420, 0, 900, 5_100), tool("read_file", true, 3)];
    events.extend([
        tool("grep", true, 18),
        request(4_100, 380, 9_800, 700, 4_300),
        AgentEvent::TurnEnded(TurnOutcome::Completed),
    ]);
    events.extend([
        AgentEvent::TurnStarted,
        AgentEvent::Retrying { attempt: 1, max: 5, delay: ms(500), reason: "429".into() },
        request(6_300, 610, 13_900, 1_400, 9_600),
        tool("read_file", true, 5),
        tool("run_command", true, 2_300),
        tool("run_command", false, 41_000),
        AgentEvent::ToolRefused { id: "d".into(), name: "run_command".into(), reason: "limit".into() },
        request(3_200, 150, 20_200, 650, 2_900),
        AgentEvent::TurnEnded(TurnOutcome::Completed),
        AgentEvent::TurnStarted,
        request(2_900, 1_020, 23_400, 800, 12_400),
    ]);
    for ev in &events {
        tandem::app::agent_metrics::record(&mut s.metrics, ev);
    }
    s.metrics.approvals = tandem::metrics::session::Approvals {
        hunks_accepted: 5,
        hunks_edited: 1,
        hunks_rejected: 2,
        commands_approved: 2,
        commands_denied: 1,
        commands_unasked: 4,
    };
    s.metrics.process = Some(ProcessSample { cpu_percent: Some(1.3), rss_bytes: 31_400_000 });
    s.index.status = IndexStatus::Ready { files: 412, definitions: 5_230, references: 18_004, seconds: 0.84 };
    s.index.files_per_sec = 490;
    s.index.last_update = Some((2, 3.1));
    s.index.last_map = Some(("map".into(), 1_019));
    app
}

#[test]
fn metrics_pane_populated_80x24() {
    let mut app = populated();
    let t = drive(&mut app, "<F4>", 80, 24);
    assert_screen!(screen(&t), made_up_timing);
}

#[test]
fn metrics_pane_populated_scrolled_to_the_end_80x24() {
    let mut app = populated();
    let t = drive(&mut app, "<F4>G", 80, 24);
    assert_screen!(screen(&t), made_up_timing);
}

#[test]
fn metrics_pane_populated_120x40() {
    let mut app = populated();
    let t = drive(&mut app, "<F4>", 120, 40);
    assert_screen!(screen(&t), made_up_timing);
}

#[test]
fn metrics_pane_populated_zoomed_120x40() {
    let mut app = populated();
    let t = drive(&mut app, "<F4><A-z>", 120, 40);
    assert_screen!(screen(&t), made_up_timing);
}
