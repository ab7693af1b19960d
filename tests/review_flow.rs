//! The model proposes edits through the real tools; the user decides hunk by
//! hunk in the diff-approval pane; what was accepted is written and staged
//! in a real git repository, and the model is told what happened.

mod common;

use common::{LIB, Session, git_repo, staged};

/// A screen snapshot with the temporary repository's name and the
/// figures that depend on timing masked.
macro_rules! assert_review_screen {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({filters => vec![
            (r"\.tmp[A-Za-z0-9]{6}", "[repo]   "),
            (r"frames( +)\d+ +", "frames$1[n] "),
            (r"last frame( +)\d+ µs +", "last frame$1[t] µs "),
            (r"written( +)[\d.]+ KB +", "written$1[n] KB "),
            (r"(first token|tokens/s|latency)( +)[^│\n]*[^│\s]( *)", "$1$2[timing] "),
        ]}, {
            insta::assert_snapshot!($name, $screen);
        });
    };
}

/// Two `edit_file` calls on one file in one round: one review of two hunks.
const SCRIPT: &str = r#"
[[turns]]
text = "I'll make two changes."
tool_calls = [
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "    a + b\n", "new_text": "    a.wrapping_add(b)\n"}' },
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "pub fn old_name()", "new_text": "pub fn new_name()"}' },
]

[[turns]]
text = "Noted."
"#;

fn expected_first_hunk_only() -> String {
    LIB.replace("    a + b\n", "    a.wrapping_add(b)\n")
}

/// The last message of the last request to the model that `pick` takes.
fn last_sent(
    requests: &std::sync::Mutex<Vec<tandem::llm::Request>>,
    pick: impl Fn(&tandem::llm::ChatMessage) -> Option<String>,
) -> String {
    let requests = requests.lock().expect("requests");
    requests.last().expect("a request").messages.iter().rev().find_map(pick).expect("a matching message")
}

fn last_tool_result(requests: &std::sync::Mutex<Vec<tandem::llm::Request>>) -> String {
    last_sent(requests, |m| match m {
        tandem::llm::ChatMessage::Tool { content, .. } => Some(content.clone()),
        _ => None,
    })
}

#[test]
fn accept_one_hunk_reject_one_with_reason_stages_only_the_accepted_one() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, requests) = Session::with_tools(SCRIPT, repo.path(), 120, 40);
    // After a pause the proposal takes the keyboard from the idle composer.
    s.keys("rename it<Enter><Wait>");
    // The turn waits for the review; nothing is written yet.
    let screen = s.screen();
    assert!(screen.contains("1 file(s) · 2 hunk(s)"), "{screen}");
    assert!(screen.contains("a.wrapping_add(b)"), "{screen}");
    assert_eq!(std::fs::read_to_string(repo.path().join("src/lib.rs")).expect("read"), LIB);
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(LIB));
    assert_review_screen!("review_two_hunks_120x40", s.screen());

    // Decision keys count once the review has been on screen a moment.
    s.keys("<Wait>yrkeep the old name<Enter><Enter>");
    let expected = expected_first_hunk_only();
    assert_eq!(std::fs::read_to_string(repo.path().join("src/lib.rs")).expect("read"), expected);
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(expected.as_str()));
    let told = last_tool_result(&requests);
    assert!(told.contains("1 of 2 hunk(s) accepted"), "{told}");
    assert!(told.contains("hunk 1 @@ -1,5 +1,5 @@: accepted"), "{told}");
    assert!(told.contains("rejected: \"keep the old name\""), "{told}");
    assert!(told.contains("written and staged"), "{told}");
    let screen = s.screen();
    assert!(screen.contains("Noted."), "{screen}");
    assert!(screen.contains("No proposed edits."), "{screen}");
}

#[test]
fn undo_reverts_the_working_tree_and_the_index() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, _) = Session::with_tools(SCRIPT, repo.path(), 120, 40);
    s.keys("rename it<Enter><Wait>");
    s.keys("<Wait>Y<Enter>");
    let all = LIB.replace("    a + b\n", "    a.wrapping_add(b)\n").replace("old_name", "new_name");
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(all.as_str()));
    s.keys("<F3><Wait>u");
    assert_eq!(std::fs::read_to_string(repo.path().join("src/lib.rs")).expect("read"), LIB);
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(LIB));
    assert!(s.screen().contains("Undo: src/lib.rs reverted"), "{}", s.screen());
}

#[test]
fn split_and_reject_everything_writes_nothing() {
    let script = r#"
[[turns]]
tool_calls = [{ name = "write_file", arguments = '{"path": "src/lib.rs", "content": "pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\n// one\n// 2\n// three\n// four\n// five\n// six\n// seven\n\npub fn old_name() -> &\u0027static str {\n    \"hello\"\n}\n"}' }]

[[turns]]
text = "Fine."
"#;
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, requests) = Session::with_tools(script, repo.path(), 120, 40);
    s.keys("change it<Enter><Wait>");
    // One hunk with two changes, close together: split into two.
    assert!(s.screen().contains("1 hunk(s)"), "{}", s.screen());
    s.keys("<Wait>s");
    assert!(s.screen().contains("2 hunk(s)"), "{}", s.screen());
    s.keys("<Wait>N<Enter>");
    assert_eq!(std::fs::read_to_string(repo.path().join("src/lib.rs")).expect("read"), LIB);
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(LIB));
    assert!(last_tool_result(&requests).contains("0 of 2 hunk(s) accepted"));
}

#[test]
fn a_proposal_at_80x24_takes_the_screen_and_reads() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, _) = Session::with_tools(SCRIPT, repo.path(), 80, 24);
    s.keys("rename it<Enter><Wait>");
    assert_review_screen!("review_two_hunks_80x24", s.screen());
}

#[test]
fn edited_hunk_is_applied_as_the_user_wrote_it() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, requests) = Session::with_tools(SCRIPT, repo.path(), 120, 40);
    s.keys("rename it<Enter><Wait>");
    // The "editor" rewrites the hunk's new text in place.
    let editor = repo.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/wrapping_add/saturating_add/' \"$1\"\n").expect("editor");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    // SAFETY of set_var: this test's process runs tests in threads, but no
    // other test reads EDITOR or VISUAL.
    unsafe {
        std::env::remove_var("VISUAL");
        std::env::set_var("EDITOR", &editor);
    }
    s.keys("<Wait>en<Enter>");
    let expected = LIB.replace("    a + b\n", "    a.saturating_add(b)\n");
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(expected.as_str()));
    assert!(last_tool_result(&requests).contains("accepted after the user edited it"));
}

#[test]
fn commands_wait_for_approval_and_a_refusal_reaches_the_model() {
    let script = r#"
[[turns]]
tool_calls = [{ name = "run_command", arguments = '{"command": "echo hi > made.txt"}' }]

[[turns]]
tool_calls = [{ name = "run_command", arguments = '{"command": "echo again > made.txt"}' }]

[[turns]]
text = "Done."
"#;
    let repo = git_repo(&[("README", "x\n")]);
    let (mut s, requests) = Session::with_tools(script, repo.path(), 120, 40);
    s.keys("make a file<Enter><Wait>");
    assert!(s.screen().contains("$ echo hi > made.txt"), "{}", s.screen());
    s.keys("<Wait>rnot now<Enter>");
    assert!(!repo.path().join("made.txt").exists());
    assert!(last_tool_result(&requests).contains("not now"));
    assert!(s.screen().contains("$ echo again > made.txt"), "{}", s.screen());
    s.keys("<Wait>y");
    assert_eq!(std::fs::read_to_string(repo.path().join("made.txt")).expect("made"), "again\n");
    assert!(s.screen().contains("Done."), "{}", s.screen());
}

#[test]
fn auto_edit_policy_applies_and_stages_without_asking() {
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    // The policy is the session's from its start (the engine holds it).
    let (mut s, _) = Session::with_tools_configured(SCRIPT, repo.path(), 120, 40, |app| {
        app.state.policy = tandem::config::Policy::AutoEdit;
    });
    s.keys("rename it<Enter>");
    let all = LIB.replace("    a + b\n", "    a.wrapping_add(b)\n").replace("old_name", "new_name");
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(all.as_str()));
    assert!(s.screen().contains("Applied by policy"), "{}", s.screen());
}

#[test]
fn a_review_outlives_a_stopped_turn_and_the_model_hears_the_outcome_next() {
    let script = r#"
[[turns]]
tool_calls = [{ name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "    a + b\n", "new_text": "    a.wrapping_add(b)\n"}' }]

[[turns]]
text = "Next."
"#;
    let repo = git_repo(&[("src/lib.rs", LIB)]);
    let (mut s, requests) = Session::with_tools(script, repo.path(), 120, 40);
    s.keys("change it<Enter><Wait>");
    // Stop the turn while the review waits; the review stays.
    s.keys("<C-c>");
    assert!(s.screen().contains("1 hunk(s)"), "{}", s.screen());
    s.keys("<F3><Wait>y<Enter>");
    let expected = expected_first_hunk_only();
    assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(expected.as_str()));
    s.keys("<F2>ihow is it now<Enter>");
    let last_user = last_sent(&requests, |m| match m {
        tandem::llm::ChatMessage::User { text } => Some(text.clone()),
        _ => None,
    });
    assert!(last_user.contains("1 of 1 hunk(s) accepted") && last_user.ends_with("how is it now"), "{last_user}");
}

#[test]
fn a_review_arriving_mid_word_waits_and_the_status_line_says_so() {
    for (w, h) in [(120, 40), (80, 24)] {
        let repo = git_repo(&[("src/lib.rs", LIB)]);
        let (mut s, requests) = Session::with_tools(SCRIPT, repo.path(), w, h);
        // The user types the next message while the model works; the
        // proposal arrives mid-word and the rest of the word is text.
        s.keys("rename it<Enter><Wait>please a");
        s.keys("dd a test");
        assert_eq!(s.app.state.focus, tandem::view::state::Focus::Composer);
        assert_eq!(s.app.state.composer.text(), "please add a test");
        assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(LIB));
        assert_eq!(requests.lock().expect("requests").len(), 1);
        assert_review_screen!(format!("review_waits_while_typing_{w}x{h}"), s.screen());
        // The focus key opens it; after a look, the keys decide.
        s.keys("<Wait><F3><Wait>Y<Enter>");
        let all = LIB.replace("    a + b\n", "    a.wrapping_add(b)\n").replace("old_name", "new_name");
        assert_eq!(staged(repo.path(), "src/lib.rs").as_deref(), Some(all.as_str()));
        assert_eq!(s.app.state.composer.text(), "please add a test");
    }
}

/// Opening a door: a kind of leave for this test, granted by full-auto only.
const DOOR: tandem::engine::PermissionKind = tandem::engine::PermissionKind {
    name: "door",
    label: "door opening",
    granted_by: &[tandem::config::Policy::FullAuto],
};

/// `open_door {door, detail?}`: asks for leave of kind [`DOOR`], remembered
/// by the door's name, then writes `NAME.open` in the repository. No tool
/// tandem ships asks for a permission yet; an MCP server's tool will.
struct OpenDoor {
    root: std::path::PathBuf,
    gate: std::sync::Arc<dyn tandem::tools::approval::PermissionGate>,
}

impl tandem::tools::Tool for OpenDoor {
    fn spec(&self) -> tandem::llm::ToolSpec {
        tandem::llm::ToolSpec {
            name: "open_door".into(),
            description: "Open a door, once the user allows it.".into(),
            parameters: serde_json::json!({"type": "object", "properties": {"door": {"type": "string"}}}),
        }
    }

    fn run(
        &self,
        args: serde_json::Value,
        _ctx: tandem::tools::ToolContext,
    ) -> futures::future::BoxFuture<'static, tandem::tools::ToolOutput> {
        let door = args["door"].as_str().unwrap_or("front").to_string();
        let detail = args["detail"].as_str().map_or_else(|| format!("open {door}"), str::to_string);
        let (root, gate) = (self.root.clone(), self.gate.clone());
        Box::pin(async move {
            let asked = tandem::engine::Permission {
                kind: DOOR,
                title: format!("the model wants to open door `{door}`"),
                detail,
                remember_key: Some(door.clone()),
            };
            match gate.ask(asked).await {
                Ok(()) => {
                    std::fs::write(root.join(format!("{door}.open")), "open\n").expect("open the door");
                    tandem::tools::ToolOutput::ok(format!("door {door} is open"), format!("opened {door}"))
                }
                Err(reason) => tandem::tools::ToolOutput::error(format!("door {door} stays shut: {reason}")),
            }
        })
    }

    fn describe(&self, args: &serde_json::Value) -> String {
        format!("open door {}", args["door"].as_str().unwrap_or("?"))
    }

    fn timeout(&self) -> Option<std::time::Duration> {
        None
    }
}

/// The app with the real tools and `open_door` in the repository at `root`.
fn with_door(
    script: &str,
    root: &std::path::Path,
) -> (Session, std::sync::Arc<std::sync::Mutex<Vec<tandem::llm::Request>>>) {
    let dir = root.to_path_buf();
    let door: tandem::engine::ToolMaker = std::sync::Arc::new(move |approvals| {
        std::sync::Arc::new(OpenDoor { root: dir.clone(), gate: std::sync::Arc::new(approvals) })
            as std::sync::Arc<dyn tandem::tools::Tool>
    });
    Session::with_tools_configured(script, root, 120, 40, |app| app.add_tools(vec![door]))
}

fn tool_results(requests: &std::sync::Mutex<Vec<tandem::llm::Request>>) -> Vec<String> {
    let requests = requests.lock().expect("requests");
    requests
        .last()
        .expect("a request")
        .messages
        .iter()
        .filter_map(|m| match m {
            tandem::llm::ChatMessage::Tool { content, .. } => Some(content.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_permission_shows_what_is_asked_made_safe_and_the_keys_answer_it() {
    let hostile = format!(
        "open \u{1b}]52;c;ZXZpbA==\u{7}the \u{1b}[2Jfront door \u{202e}won\u{202c}\n{}",
        (0..500).map(|i| format!("hinge {i}")).collect::<Vec<_>>().join("\n")
    );
    let args = serde_json::json!({"door": "front", "detail": hostile}).to_string();
    let script = format!(
        r#"
[[turns]]
tool_calls = [{{ name = "open_door", arguments = '{args}' }}]

[[turns]]
tool_calls = [{{ name = "open_door", arguments = '{{"door": "back"}}' }}]

[[turns]]
tool_calls = [{{ name = "open_door", arguments = '{{"door": "back"}}' }}]

[[turns]]
tool_calls = [{{ name = "open_door", arguments = '{{"door": "side"}}' }}]

[[turns]]
text = "Done."
"#
    );
    let repo = git_repo(&[("README", "x\n")]);
    let (mut s, requests) = with_door(&script, repo.path());
    s.keys("open the doors<Enter><Wait>");
    let screen = s.screen();
    assert!(screen.contains("The model asks for leave: door opening"), "{screen}");
    assert!(screen.contains("the model wants to open door `front`"), "{screen}");
    assert!(screen.contains("open the front door won"), "{screen}");
    assert!(screen.contains("hinge 0") && !screen.contains("hinge 40"), "{screen}");
    assert!(screen.contains("y allow · n refuse · r refuse with a reason"), "{screen}");
    assert!(screen.contains("! always allow `front` this session"), "{screen}");
    assert!(!screen.chars().any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}'), "{screen:?}");
    assert!(!repo.path().join("front.open").exists());
    // The detail is longer than the pane: it scrolls, down to where it was
    // cut.
    assert!(screen.contains("rows 1–") && screen.contains(" of 31 · PageDown / PageUp scroll"), "{screen}");
    s.keys("<Wait><PageDown><PageDown>");
    let screen = s.screen();
    assert!(screen.contains("hinge 28") && screen.contains("… 471 more line(s) not shown"), "{screen}");

    // Allowed once.
    s.keys("<Wait>y");
    assert!(repo.path().join("front.open").exists());
    assert!(s.screen().contains("the model wants to open door `back`"), "{}", s.screen());
    // Allowed for the session: the second `back` goes unasked.
    s.keys("<Wait>!");
    assert!(s.screen().contains("the model wants to open door `side`"), "{}", s.screen());
    // Refused with a reason, which the model is told.
    s.keys("<Wait>rnot that one<Enter>");
    assert!(!repo.path().join("side.open").exists());
    assert!(s.screen().contains("Done."), "{}", s.screen());
    assert_eq!(
        tool_results(&requests),
        ["door front is open", "door back is open", "door back is open", "door side stays shut: not that one"]
    );
}

#[test]
fn a_key_typed_before_the_permission_was_on_screen_does_not_allow_it() {
    let script = r#"
[[turns]]
tool_calls = [{ name = "open_door", arguments = '{"door": "front"}' }]

[[turns]]
text = "Done."
"#;
    let repo = git_repo(&[("README", "x\n")]);
    let (mut s, requests) = with_door(script, repo.path());
    // The user sends, goes to the (empty) diff pane, and presses `y` and
    // `!` as the request comes up: neither counts.
    s.keys("open the door<Enter><F3>");
    s.keys("y!");
    assert!(!repo.path().join("front.open").exists());
    assert_eq!(requests.lock().expect("requests").len(), 1, "the model heard of no answer");
    assert!(
        matches!(s.app.state.review.front(), Some(tandem::view::review::Item::Permission { .. })),
        "{:?}",
        s.app.state.review.front()
    );
    assert!(s.screen().contains("! ignored"), "{}", s.screen());
    // After a look, the same key allows it.
    s.keys("<Wait><F3><Wait>y");
    assert!(repo.path().join("front.open").exists());
    assert_eq!(tool_results(&requests), ["door front is open"]);
    assert!(s.screen().contains("Done."), "{}", s.screen());
}
