//! Budgets through the real event loop: a turn stopped at its limit says why
//! in the chat, a tool over its per-minute limit is refused with a message,
//! and the metrics pane shows what was used.

mod common;

use common::Session;
use tandem::config::{BudgetConfig, ToolCallLimit};
use tandem::llm::select::Prices;
use tandem::view::state::Role;

/// A session with a scripted model at `prices`, held to `budget`.
fn session(script: &str, budget: BudgetConfig, prices: Prices) -> Session {
    let profile = tandem::llm::select::Profile { prices, ..common::script_profile() };
    Session::with_script_profile(script, 120, 40, profile, |app| app.state.config.budget = budget)
}

fn last_error(s: &Session) -> String {
    s.app.state.transcript.iter().rev().find(|m| m.role == Role::Error).map(|m| m.text.clone()).unwrap_or_default()
}

#[test]
fn a_turn_past_the_turn_budget_stops_and_says_why() {
    let script = "[[turns]]\ntext = \"First answer.\"\n[[turns]]\ntext = \"Never sent.\"\n";
    let budget = BudgetConfig { max_turns: 1, ..BudgetConfig::default() };
    let mut s = session(script, budget, Prices::default());
    s.keys("one<Enter>");
    let screen = s.screen();
    assert!(screen.contains("First answer."), "{screen}");
    // The last turn the budget allows is announced.
    assert!(screen.contains("This is the last of the 1 turns the session's budget"), "{screen}");
    s.keys("two<Enter>");
    let screen = s.screen();
    assert!(!screen.contains("Never sent."), "{screen}");
    assert!(screen.contains("problem"), "{screen}");
    assert!(screen.contains("Stopped by the budget: This session has used all 1"), "{screen}");
    let error = last_error(&s);
    assert!(error.contains("all 1 of its turns (budget.max_turns)"), "{error}");
    assert!(error.contains("raise `max_turns` under [budget]"), "{error}");
    assert!(!s.app.state.model.busy());
    // The metrics pane counts it.
    assert_eq!(s.app.state.metrics.model.stopped_by_budget, 1);
}

#[test]
fn the_cost_budget_stops_a_turn_before_its_tool_calls() {
    let script = r#"
[[turns]]
text = "Reading it."
usage = { input = 400000, output = 1000 }
tool_calls = [{ name = "read_file", arguments = '{"path": "src/lib.rs"}' }]
[[turns]]
text = "Never sent."
"#;
    let prices = Prices { input: Some(1.0), output: Some(2.0), ..Prices::default() };
    let budget = BudgetConfig { max_cost_usd: 0.25, ..BudgetConfig::default() };
    let mut s = session(script, budget, prices);
    s.keys("read it<Enter>");
    let screen = s.screen();
    assert!(screen.contains("✗ `read_file` was not run: the session's cost budget"), "{screen}");
    let error = last_error(&s);
    assert!(
        error.starts_with(
            "Stopped by the budget: This session has cost $0.40, reaching its budget of $0.25 (budget.max_cost_usd)"
        ),
        "{error}"
    );
    assert!(!screen.contains("Never sent."), "{screen}");
    let cost = s.app.state.metrics.model.session.cost;
    assert_eq!(cost.total(), Some(0.402));
}

#[test]
fn a_tool_call_over_its_per_minute_limit_is_refused_with_a_message() {
    let repo = common::git_repo(&[("src/lib.rs", "pub fn one() -> u32 {\n    1\n}\n")]);
    let script = r#"
[[turns]]
tool_calls = [
  { name = "read_file", arguments = '{"path": "src/lib.rs"}' },
  { name = "read_file", arguments = '{"path": "src/lib.rs"}' },
]
[[turns]]
text = "The second read was refused."
"#;
    let (mut s, requests) = Session::with_tools_configured(script, repo.path(), 120, 40, |app| {
        app.state.config.budget.max_tool_calls_per_minute =
            ToolCallLimit::PerTool([("read_file".to_string(), 1)].into());
    });
    s.keys("read twice<Enter>");
    let screen = s.screen();
    assert!(screen.contains("✗ `read_file` was not run: it was called once"), "{screen}");
    assert!(screen.contains("The second read was refused."), "{screen}");
    let reqs = requests.lock().expect("requests");
    let refused = reqs[1].messages.iter().any(|m| {
        matches!(m, tandem::llm::ChatMessage::Tool { content, is_error: true, .. }
            if content.contains("max_tool_calls_per_minute = { read_file = 2 }"))
    });
    assert!(refused, "the model is told how to raise the limit: {:?}", reqs[1].messages);
    let read = &s.app.state.metrics.tools["read_file"];
    assert_eq!((read.calls, read.refused), (1, 1));
}

/// A per-tool limit naming no tool is reported by `tandem config check`
/// and `tandem config show`, which know the tools' names.
#[test]
fn config_check_and_show_warn_about_a_limit_for_a_tool_that_does_not_exist() {
    let repo = common::git_repo(&[("README", "x\n")]);
    let home = tempfile::tempdir().expect("home");
    std::fs::create_dir_all(home.path().join("config/tandem")).expect("mkdir");
    std::fs::write(
        home.path().join("config/tandem/config.toml"),
        "[budget]\nmax_tool_calls_per_minute = { run_comand = 5, read_file = 3 }\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(args)
            .current_dir(repo.path())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .output()
            .expect("run tandem")
    };
    let warning = "`budget.max_tool_calls_per_minute` names `run_comand`, which is not a tool (ignored); \
                   the tools are read_file, list_files, grep, find_symbol, references, outline, repo_map, \
                   edit_file, write_file, apply_patch, run_command, and `default` applies to the tools not named";
    let check = run(&["config", "check"]);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "a warning is not an error: {stdout}");
    assert!(stdout.contains(&format!("config.toml:2: {warning}")), "{stdout}");
    assert!(stdout.contains(": 0 errors, 1 warning"), "{stdout}");
    assert!(!stdout.contains("names `read_file`"), "{stdout}");
    let show = run(&["config", "show"]);
    let stderr = String::from_utf8_lossy(&show.stderr);
    assert!(stderr.contains(warning), "{stderr}");
}
