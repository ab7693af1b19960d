//! `/test` and `auto_test`: the project's test command runs after the
//! model's edits are applied, and its failures go back to the model until
//! the tests pass.

mod common;

use common::{Session, git_repo};
use tandem::llm::ChatMessage;

const CARGO_TOML: &str = "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
const LIB: &str = "pub fn answer() -> i32 {\n    41 // broken\n}\n";
/// Stands in for `cargo test`: fails until the code says it is fixed.
const CHECK: &str = "grep -q fixed src/lib.rs || { echo 'test answer ... FAILED: expected 42'; exit 1; }\n";

/// The first edit does not fix the test; the second, made after the model
/// saw the failure, does.
const SCRIPT: &str = r#"
[[turns]]
text = "Trying a change."
tool_calls = [
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "// broken", "new_text": "// still wrong"}' },
]

[[turns]]
text = "Changed it."

[[turns]]
text = "I see the failure."
tool_calls = [
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "    41 // still wrong", "new_text": "    42 // fixed"}' },
]

[[turns]]
text = "Fixed now."
"#;

/// A model that should not be asked.
const NO_TURNS: &str = "[[turns]]\ntext = \"unexpected\"\n";

/// A model that answers once, without tools.
const LOOKING: &str = "[[turns]]\ntext = \"Looking.\"\n";

type Requests = std::sync::Arc<std::sync::Mutex<Vec<tandem::llm::Request>>>;

/// The app on `repo` with the real tools, the `[checks]` table changed by
/// `configure`, and proposals applied without review when `auto_edit`.
fn checks_session(
    script: &str,
    repo: &tempfile::TempDir,
    auto_edit: bool,
    configure: impl FnOnce(&mut tandem::config::ChecksConfig),
) -> (Session, Requests) {
    Session::with_tools_configured(script, repo.path(), 120, 40, |app| {
        if auto_edit {
            app.state.policy = tandem::config::Policy::AutoEdit;
        }
        configure(&mut app.state.config.checks);
    })
}

/// After [`SCRIPT`]: the second edit is in, the model was sent one failure,
/// and the chat shows the failing run before the passing one. Returns the
/// failure as the model got it.
fn assert_fixed_after_one_failure(
    s: &Session,
    repo: &tempfile::TempDir,
    requests: &Requests,
    failed_prefix: &str,
    passed_prefix: &str,
) -> String {
    let lib = std::fs::read_to_string(repo.path().join("src/lib.rs")).expect("lib.rs");
    assert!(lib.contains("42 // fixed"), "{lib}");
    let mut users = user_messages(requests);
    assert_eq!(users.len(), 2, "{users:#?}");
    let chat = chat(s);
    let failed = chat.iter().position(|t| t.starts_with(failed_prefix));
    let passed = chat.iter().position(|t| t.starts_with(passed_prefix));
    assert!(failed.is_some() && passed.is_some() && failed < passed, "{chat:#?}");
    users.remove(1)
}

fn user_messages(requests: &Requests) -> Vec<String> {
    let requests = requests.lock().expect("requests");
    let last = requests.last().expect("a request");
    last.messages
        .iter()
        .filter_map(|m| match m {
            ChatMessage::User { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn chat(s: &Session) -> Vec<String> {
    s.app.state.transcript.iter().map(|m| m.text.clone()).collect()
}

#[test]
fn auto_test_sends_failures_to_the_model_until_the_tests_pass() {
    let repo = git_repo(&[("Cargo.toml", CARGO_TOML), ("src/lib.rs", LIB), ("check.sh", CHECK)]);
    let (mut s, requests) = checks_session(SCRIPT, &repo, true, |checks| {
        checks.test_cmd = "sh check.sh".into();
        checks.auto_test = true;
    });
    s.keys("make answer return 42<Enter>");

    let failure = assert_fixed_after_one_failure(
        &s,
        &repo,
        &requests,
        "✗ tests failed (exit 1) · `sh check.sh`",
        "✓ tests passed · `sh check.sh`",
    );
    assert!(failure.contains("`sh check.sh` exited with code 1"), "{failure}");
    assert!(failure.contains("test answer ... FAILED: expected 42"), "{failure}");

    let chat = chat(&s);
    assert!(chat.iter().any(|t| t.contains("fix round 1 of 3")), "{chat:#?}");
    assert!(chat.iter().any(|t| t == "The tests pass after 1 fix round."), "{chat:#?}");

    let checks = &s.app.state.checks;
    assert_eq!((checks.runs, checks.failures, checks.fix_rounds), (2, 1, 0));
    // The metrics pane shows the command, where it came from, and the runs.
    let screen: String = tandem::ui::metrics::lines(&s.app.state, 100)
        .iter()
        .map(|l| l.spans.iter().map(|sp| sp.content.as_ref()).collect::<String>() + "\n")
        .collect();
    assert!(screen.contains("sh check.sh (config)"), "{screen}");
    assert!(screen.contains("2 · 1 failed"), "{screen}");
}

#[test]
fn auto_test_stops_after_max_fix_rounds() {
    let script = r#"
[[turns]]
tool_calls = [
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "// broken", "new_text": "// still wrong"}' },
]

[[turns]]
text = "Changed it."

[[turns]]
tool_calls = [
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "// still wrong", "new_text": "// wrong again"}' },
]

[[turns]]
text = "Changed it again."
"#;
    let repo = git_repo(&[("src/lib.rs", LIB), ("check.sh", CHECK)]);
    let (mut s, requests) = checks_session(script, &repo, true, |checks| {
        checks.test_cmd = "sh check.sh".into();
        checks.auto_test = true;
        checks.max_fix_rounds = 1;
    });
    s.keys("fix it<Enter>");
    assert_eq!(user_messages(&requests).len(), 2);
    let chat = chat(&s);
    assert_eq!(chat.iter().filter(|t| t.starts_with("✗ tests failed")).count(), 2, "{chat:#?}");
    assert!(chat.iter().any(|t| t.contains("still fail after 1 fix round")), "{chat:#?}");
}

#[test]
fn slash_test_that_passes_sends_nothing_to_the_model() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, requests) = checks_session(NO_TURNS, &repo, false, |checks| checks.test_cmd = "true".into());
    s.keys("/test<Enter>");
    assert!(requests.lock().expect("requests").is_empty());
    let chat = chat(&s);
    assert!(chat.iter().any(|t| t.starts_with("✓ tests passed · `true`")), "{chat:#?}");
}

#[test]
fn slash_lint_that_fails_asks_the_model_to_fix_it() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, requests) = checks_session(LOOKING, &repo, false, |checks| {
        checks.lint_cmd = "echo 'warning: unused variable'; exit 2".into();
    });
    s.keys("/lint<Enter>");
    let users = user_messages(&requests);
    assert_eq!(users.len(), 1, "{users:#?}");
    assert!(users[0].contains("exited with code 2") && users[0].contains("warning: unused variable"), "{}", users[0]);
}

#[test]
fn slash_test_without_a_command_says_how_to_set_one() {
    let repo = git_repo(&[("notes.txt", "hi")]);
    let (mut s, requests) = Session::with_tools(NO_TURNS, repo.path(), 120, 40);
    s.keys("/test<Enter>");
    assert!(requests.lock().expect("requests").is_empty());
    assert!(chat(&s).iter().any(|t| t.contains("set `checks.test_cmd`")), "{:#?}", chat(&s));
}

#[test]
fn a_check_over_its_time_limit_is_killed_and_reported() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, requests) = checks_session(LOOKING, &repo, false, |checks| {
        checks.test_cmd = "echo started; sleep 30".into();
        checks.timeout_secs = 1;
    });
    let started = std::time::Instant::now();
    s.keys("/test<Enter>");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let chat = chat(&s);
    assert!(
        chat.iter().any(|t| t.starts_with("✗ tests did not finish (timed out after 1 s (checks.timeout_secs))")),
        "{chat:#?}"
    );
    let users = user_messages(&requests);
    assert!(users[0].contains("did not finish") && users[0].contains("started"), "{}", users[0]);
}

/// The same loop with a real `cargo test` on a fixture crate whose test fails
/// until the model's second edit. (Its own target directory, so it never waits
/// on the lock of the cargo running this test.)
#[test]
fn auto_test_with_cargo_test_on_a_fixture_crate() {
    const LIB_WITH_TEST: &str = "pub fn answer() -> i32 {\n    41 // broken\n}\n\n#[test]\nfn answer_is_42() {\n    assert_eq!(answer(), 42);\n}\n";
    let repo = git_repo(&[("Cargo.toml", CARGO_TOML), ("src/lib.rs", LIB_WITH_TEST), (".gitignore", "target/\n")]);
    let (mut s, requests) = checks_session(SCRIPT, &repo, true, |checks| {
        checks.test_cmd = "CARGO_TARGET_DIR=target cargo test --offline --quiet".into();
        checks.auto_test = true;
    });
    s.keys("make answer return 42<Enter>");

    let failure = assert_fixed_after_one_failure(&s, &repo, &requests, "✗ tests failed (exit 101)", "✓ tests passed");
    assert!(failure.contains("answer_is_42"), "the failing test's name reaches the model: {failure}");
}

#[test]
fn commands_are_looked_up_off_the_loop_at_start_up() {
    let repo = git_repo(&[("Cargo.toml", CARGO_TOML), ("src/lib.rs", LIB)]);
    let (mut s, requests) = Session::with_tools(NO_TURNS, repo.path(), 120, 40);
    s.keys("");
    assert!(requests.lock().expect("requests").is_empty());
    let commands = s.app.state.checks.commands.clone().expect("looked up once the loop is idle");
    assert_eq!(
        commands.test.map(|t| (t.command, t.source)),
        Some(("cargo test".into(), "detected from Cargo.toml".into()))
    );
}
