//! Conversations with a scripted model through the real event loop: what the
//! user sees in the chat and the status line.

mod common;

use common::Session;
use tandem::view::state::{MsgStatus, Role};

const ANSWER: &str = r#"
[[turns]]
usage = { input = 1200, output = 60 }
text = """
# Ranking

The index ranks files with **PageRank** over the `reference graph`.

- first point
- second point

```rust
fn rank() -> Vec<f64> {
    vec![1.0]
}
```
"""
"#;

#[test]
fn a_streamed_answer_is_rendered_as_markdown() {
    let mut s = Session::with_script(ANSWER, 120, 40);
    s.keys("how does ranking work?<Enter>");
    let screen = s.screen();
    assert!(screen.contains("how does ranking work?"), "{screen}");
    assert!(screen.contains("Ranking"), "{screen}");
    assert!(!screen.contains("# Ranking"), "heading marker shown raw:\n{screen}");
    // The paragraph is wrapped to the pane, inline markup dropped.
    assert!(screen.contains("The index ranks files with PageRank over the reference"), "{screen}");
    assert!(screen.contains("fn rank() -> Vec<f64> {"), "{screen}");
    let last = s.app.state.transcript.last().expect("answer");
    assert_eq!(last.role, Role::Assistant);
    assert_eq!(last.status, MsgStatus::Done);
    assert_eq!(s.app.state.metrics.model.session.usage.input_tokens, 1200);
    assert!(!s.app.state.model.busy());
}

#[test]
fn tool_calls_show_as_one_line_and_expand() {
    let script = r#"
[[turns]]
text = "Looking."
tool_calls = [{ name = "read_file", arguments = '{"path": "src/lib.rs"}' }]
[[turns]]
text = "Done looking."
"#;
    let mut s = Session::with_script(script, 120, 40);
    s.keys("look<Enter>");
    let screen = s.screen();
    // No tool of that name exists here, so the call fails and says so in one line.
    assert!(screen.contains("▸ ✗ there is no tool named `read_file`"), "{screen}");
    assert!(screen.contains("Done looking."), "{screen}");
    s.keys("<A-t>");
    assert!(s.app.state.show_details);
}

#[test]
fn a_broken_stream_keeps_the_partial_answer_and_retries() {
    let script = r#"
[[turns]]
text = "The first half of the answ"
fail = "broken"
[[turns]]
text = "The whole answer."
"#;
    let mut s = Session::with_script(script, 120, 40);
    s.keys("question<Enter>");
    let screen = s.screen();
    assert!(screen.contains("The first half of the answ"), "{screen}");
    assert!(screen.contains("⚠ the answer broke off here"), "{screen}");
    let problem = s.app.state.transcript.last().expect("a problem message");
    assert_eq!(problem.role, Role::Error);
    assert!(
        problem.text.contains("the stream broke mid-answer") && problem.text.ends_with("Press C-r to retry."),
        "{}",
        problem.text
    );
    assert!(s.app.state.model.can_retry);
    s.keys("<C-r>");
    assert!(s.screen().contains("The whole answer."), "{}", s.screen());
    assert!(!s.app.state.model.can_retry);
}

#[test]
fn esc_cancels_a_long_answer() {
    let script = "[[turns]]\ndelay_ms = 40\ntext = \"one two three four five six seven eight nine ten eleven twelve thirteen fourteen\"\n";
    let mut s = Session::with_script(script, 120, 40);
    // Send, then cancel right away: the loop handles Esc while the answer streams.
    s.keys("count<Enter><Esc>");
    let last = s.app.state.transcript.last().expect("message");
    assert!(!last.text.contains("fourteen"), "the answer ran to the end: {}", last.text);
    assert!(!s.app.state.model.busy());
    assert!(s.screen().contains("stopped") || last.role == Role::User, "{}", s.screen());
}

#[test]
fn slash_commands_model_export_and_unknown() {
    let mut s = Session::with_script(ANSWER, 120, 40);
    s.keys("/model<Enter>");
    assert!(s.screen().contains("Model in use: script test"), "{}", s.screen());
    let dir = tempfile::tempdir().expect("tempdir");
    s.keys("hello<Enter>");
    let file = dir.path().join("chat.md");
    s.keys(&format!("/export {}<Enter>", file.display()));
    // The export runs off the loop; let it finish (the file exists before
    // all of it is written).
    let mut md = String::new();
    for _ in 0..250 {
        md = std::fs::read_to_string(&file).unwrap_or_default();
        if md.contains("# Ranking") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(md.contains("## You\n\nhello"), "{md}");
    assert!(md.contains("## tandem\n\n# Ranking"), "{md}");
    s.keys("/frobnicate<Enter>");
    assert!(s.screen().contains("Unknown command /frobnicate"), "{}", s.screen());
    assert_eq!(s.app.sent(), 1, "slash commands are not messages");
}

#[test]
fn copy_answer_reports_what_was_copied() {
    let mut s = Session::with_script(ANSWER, 120, 40);
    s.keys("q<Enter>");
    s.keys("<A-y>");
    assert!(s.screen().contains("Copied answer ("), "{}", s.screen());
    s.keys("<F2>c");
    assert!(s.screen().contains("Copied code block (40 characters)"), "{}", s.screen());
}

#[test]
fn without_a_model_the_chat_says_how_to_set_one_up() {
    let mut app = common::app();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _g = rt.enter();
    app.state.model.offline = true;
    app.state.notice(tandem::llm::select::OFFLINE_HELP);
    let t = common::drive(&mut app, "hello<Enter>", 120, 40);
    let screen = common::screen(&t);
    assert!(screen.contains("No model is configured"), "{screen}");
    assert!(screen.contains("not sent"), "{screen}");
    assert!(screen.contains("no model"), "status line: {screen}");
}

#[test]
fn a_selected_tool_call_expands_alone_and_copy_takes_the_selected_answer() {
    let script = r#"
[[turns]]
text = "First answer:\n\n```sh\necho one\n```\n"
[[turns]]
text = "Looking."
tool_calls = [{ name = "read_file", arguments = '{"path": "a.rs"}' }, { name = "grep", arguments = '{"q": "x"}' }]
[[turns]]
text = "Second answer:\n\n```sh\necho two\n```\n"
"#;
    let mut s = Session::with_script(script, 120, 40);
    s.keys("one<Enter>");
    s.keys("two<Enter>");
    let tools: Vec<usize> =
        s.app.state.transcript.iter().enumerate().filter(|(_, m)| m.role == Role::Tool).map(|(i, _)| i).collect();
    assert_eq!(tools.len(), 2);
    // From the end: the last answer, then the second tool call.
    s.keys("<F2>[[");
    assert_eq!(s.app.state.selected, Some(tools[1]));
    assert!(s.screen().contains("▌"), "selection marked:\n{}", s.screen());
    s.keys("t");
    assert!(s.app.state.transcript[tools[1]].expanded);
    assert!(!s.app.state.transcript[tools[0]].expanded, "only the selected call expands");
    assert!(!s.app.state.show_details);
    assert!(s.screen().contains("▾ ✗ there is no tool named `grep`"), "{}", s.screen());
    // Up to the first answer: copy takes its code, not the last one's.
    let first = s.app.state.transcript.iter().position(|m| m.text.starts_with("First answer")).expect("first");
    while s.app.state.selected != Some(first) {
        s.keys("[");
    }
    s.keys("c");
    assert!(s.screen().contains("Copied code block (9 characters)"), "{}", s.screen());
    s.keys("<Esc>");
    assert_eq!(s.app.state.selected, None);
}

#[test]
fn the_index_builds_in_the_background_and_shows_in_the_metrics_pane() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index/repo");
    let mut s = Session::with_script("[[turns]]\ntext = \"ok\"\n", 120, 40);
    s.app.state.repo.root = root;
    {
        let _g = s.rt.enter();
        s.app.start_index();
    }
    s.keys("");
    match &s.app.state.index.status {
        tandem::view::state::IndexStatus::Ready { files, definitions, .. } => {
            assert_eq!(*files, 4);
            assert!(*definitions > 0);
        }
        other => panic!("index not ready: {other:?}"),
    }
    s.keys("where is Config::new?<Enter>");
    assert!(s.app.state.index.last_map.is_some());
    s.keys("/map<Enter>");
    let shown = &s.app.state.transcript.last().expect("the map message").text;
    assert!(shown.starts_with("The repository map sent with the last request"), "{shown}");
    assert!(shown.contains("src/config.rs"), "{shown}");
    // Below the model's figures: zoomed, the pane shows it.
    s.keys("<F4><A-z>");
    assert!(s.screen().contains("definitions"), "{}", s.screen());
}

#[test]
fn a_saved_file_reaches_the_index_and_the_next_map() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index/repo");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::fs::canonicalize(dir.path()).expect("canon");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    for f in std::fs::read_dir(fixture.join("src")).expect("fixture") {
        let f = f.expect("entry").path();
        std::fs::copy(&f, root.join("src").join(f.file_name().expect("name"))).expect("copy");
    }
    let mut s = Session::with_script("[[turns]]\ntext = \"ok\"\n[[turns]]\ntext = \"ok\"\n", 120, 40);
    s.app.state.repo.root = root.clone();
    {
        let _g = s.rt.enter();
        s.app.start_index();
    }
    s.keys("");
    let found = |s: &Session| {
        s.app
            .index()
            .read()
            .expect("lock")
            .as_ref()
            .is_some_and(|i| !i.find_definitions("freshly_saved_helper", false).is_empty())
    };
    assert!(!found(&s));
    std::fs::write(root.join("src/util.rs"), "pub fn freshly_saved_helper(x: u32) -> u32 { x }\n").expect("save");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !found(&s) && std::time::Instant::now() < deadline {
        // Let the loop take the watcher's events and the update's result.
        s.keys("");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(found(&s), "the saved definition never reached the index");
    s.keys("where is freshly_saved_helper used?<Enter>");
    let (map, _) = s.app.state.index.last_map.clone().expect("a map");
    assert!(map.contains("freshly_saved_helper"), "{map}");
    assert!(s.app.state.index.last_update.is_some());
}

#[test]
fn model_switches_profile_without_blocking_the_loop() {
    let mut s = Session::with_script(ANSWER, 120, 40);
    s.keys("/model ollama qwen-test<Enter>");
    assert!(!s.app.state.model.choosing);
    assert_eq!(s.app.state.model.label, "ollama qwen-test");
    assert!(s.app.state.transcript.last().is_some_and(|m| m.text == "Now using ollama qwen-test."));
    // A name that is not a profile is a model of the profile in use.
    s.keys("/model other-model<Enter>");
    assert_eq!(s.app.state.model.label, "ollama other-model");
}
