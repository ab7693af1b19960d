//! Session journals: a conversation recorded by the app, resumed by another
//! app with its chat shown and the model given the earlier conversation;
//! `/clear` starting a new journal; `tandem sessions`, `--continue` and
//! `--resume` of the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::Session;
use tandem::app::session::SessionSetup;
use tandem::llm::ChatMessage;
use tandem::session::journal;
use tandem::view::state::Role;

const FIRST: &str = r#"
[[turns]]
text = "Let me look."
tool_calls = [{ name = "read_file", arguments = '{"path": "notes.txt"}' }]
usage = { input = 100, output = 10 }

[[turns]]
text = "The notes say hello."
usage = { input = 150, output = 5 }
"#;

const SECOND: &str = r#"
[[turns]]
text = "Still here."
"#;

fn journals(dir: &Path) -> Vec<PathBuf> {
    journal::list(dir)
}

#[test]
fn a_resumed_session_shows_its_chat_and_gives_the_model_its_conversation() {
    let repo = common::git_repo(&[("notes.txt", "hello\n")]);
    let data = tempfile::tempdir().expect("dir");
    let dir = data.path().join("sessions");

    let (mut s, _) = Session::with_tools(FIRST, repo.path(), 100, 30);
    s.app.start_session(SessionSetup { dir: Some(dir.clone()), resume: None });
    s.keys("what do the notes say?<Enter>");
    s.app.flush_journal();
    let paths = journals(&dir);
    assert_eq!(paths.len(), 1);
    let loaded = journal::load(&paths[0]).expect("load");
    assert_eq!(loaded.skipped, 0);
    let earlier = journal::conversation(&loaded.entries);
    assert_eq!(earlier.len(), 4, "{earlier:?}");
    assert!(matches!(&earlier[2], ChatMessage::Tool { content, is_error: false, .. } if content.contains("hello")));
    assert!(loaded.entries.iter().any(|e| matches!(e, journal::Entry::Usage { .. })));
    // One entry per request, with the tokens the provider reported.
    let input: Vec<u64> = loaded
        .entries
        .iter()
        .filter_map(|e| match e {
            journal::Entry::Usage { usage, .. } => Some(usage.input_tokens),
            _ => None,
        })
        .collect();
    assert_eq!(input, [100, 150]);
    let id = paths[0].file_stem().expect("stem").to_string_lossy().into_owned();

    let (mut s, requests) = Session::with_tools(SECOND, repo.path(), 100, 30);
    s.app.start_session(SessionSetup { dir: Some(dir.clone()), resume: Some((id.clone(), loaded.entries)) });
    s.keys("and now?<Enter>");
    let screen = s.screen();
    assert!(screen.contains("what do the notes say?"), "{screen}");
    assert!(screen.contains("The notes say hello."), "{screen}");
    assert!(screen.contains("Still here."), "{screen}");
    let sent = requests.lock().expect("requests")[0].messages.clone();
    let mut expected = earlier.clone();
    expected.push(ChatMessage::User { text: "and now?".into() });
    assert_eq!(sent, expected);
    // The same journal goes on.
    s.app.flush_journal();
    assert_eq!(journals(&dir).len(), 1);
    let again = journal::load(&paths[0]).expect("load");
    assert_eq!(journal::conversation(&again.entries).len(), 6);

    // /clear: an empty chat and conversation, and a new journal with the
    // next message.
    s.keys("/clear<Enter>");
    assert!(s.app.state.transcript.iter().all(|m| m.role == Role::Notice), "{:?}", s.app.state.transcript);
    assert_ne!(s.app.session_id(), Some(id.as_str()));
    s.app.flush_journal();
    assert_eq!(journals(&dir).len(), 1, "a new session writes nothing until something happens");
}

#[test]
fn clear_starts_a_new_journal_and_an_empty_conversation() {
    let repo = common::git_repo(&[("notes.txt", "hello\n")]);
    let data = tempfile::tempdir().expect("dir");
    let dir = data.path().join("sessions");
    let script = "[[turns]]\ntext = \"one\"\n[[turns]]\ntext = \"two\"\n";
    let (mut s, requests) = Session::with_tools(script, repo.path(), 100, 30);
    s.app.start_session(SessionSetup { dir: Some(dir.clone()), resume: None });
    s.keys("first<Enter>");
    s.keys("/clear<Enter>");
    s.keys("second<Enter>");
    s.app.flush_journal();
    let paths = journals(&dir);
    assert_eq!(paths.len(), 2);
    assert_eq!(requests.lock().expect("requests")[1].messages, vec![ChatMessage::User { text: "second".into() }]);
    let firsts: Vec<String> =
        paths.iter().map(|p| journal::Summary::of(p, &journal::load(p).expect("load").entries).first_prompt).collect();
    assert!(firsts.contains(&"first".to_string()) && firsts.contains(&"second".to_string()), "{firsts:?}");
}

#[test]
fn proposals_and_decisions_are_journaled() {
    let repo = common::git_repo(&[("a.txt", "one\n")]);
    let data = tempfile::tempdir().expect("dir");
    let dir = data.path().join("sessions");
    let script = r#"
[[turns]]
tool_calls = [{ name = "edit_file", arguments = '{"path": "a.txt", "old_text": "one", "new_text": "two"}' }]

[[turns]]
text = "Done."
"#;
    let (mut s, _) = Session::with_tools(script, repo.path(), 100, 30);
    s.app.start_session(SessionSetup { dir: Some(dir.clone()), resume: None });
    s.keys("change it<Enter><Wait>");
    s.keys("<Wait>y<Enter>");
    s.app.flush_journal();
    let entries = journal::load(&journals(&dir)[0]).expect("load").entries;
    assert!(
        entries.iter().any(|e| matches!(e, journal::Entry::Proposal { files } if files == &[("a.txt".to_string(), 1)])),
        "{entries:?}"
    );
    assert!(
        entries.iter().any(
            |e| matches!(e, journal::Entry::Decision { path, outcome } if path == "a.txt" && outcome.starts_with("1/1"))
        ),
        "{entries:?}"
    );
    let results = entries.iter().filter(|e| matches!(e, journal::Entry::ToolResult { ok: true, .. })).count();
    assert_eq!(results, 1, "{entries:?}");
}

/// The binary with its directories under `home`.
fn tandem(home: &Path, repo: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .current_dir(repo)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TANDEM_MODEL_PROFILE", "openai")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .expect("run tandem")
}

#[test]
fn sessions_lists_and_flags_explain_missing_sessions() {
    let repo = common::git_repo(&[("a.txt", "a\n")]);
    let home = tempfile::tempdir().expect("home");
    let out = tandem(home.path(), repo.path(), &["--continue"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no earlier session"), "{err}");
    let out = tandem(home.path(), repo.path(), &["--resume", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no session nope") && err.contains("tandem sessions"), "{err}");
    let out = tandem(home.path(), repo.path(), &["--resume", "../x"]);
    assert!(!out.status.success());
    let out = tandem(home.path(), repo.path(), &["sessions"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("No sessions"));

    // A journal cut in the middle of its last line, as by a kill.
    let data = home.path().join("data").join("tandem");
    let dir = journal::repo_dir(&data, repo.path());
    let mut j = journal::Journal::open(
        &dir,
        "20261122T080000Z-42",
        Some(journal::Entry::SessionStarted {
            id: "20261122T080000Z-42".into(),
            root: repo.path().to_path_buf(),
            time: "2026-11-22T08:00:00Z".into(),
            model: "script test".into(),
        }),
    );
    j.record(journal::Entry::User { text: "explain the   build".into() });
    j.record(journal::Entry::Assistant { text: "It builds.".into() });
    j.record(journal::Entry::Usage { usage: Default::default(), cost: Some(0.25) });
    j.flush(Duration::from_secs(5));
    let mut f = std::fs::OpenOptions::new().append(true).open(j.path()).expect("open");
    std::io::Write::write_all(&mut f, b"{\"type\":\"user\",\"te").expect("torn line");
    let out = tandem(home.path(), repo.path(), &["sessions"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("20261122T080000Z-42") && text.contains("2026-11-22 08:00:00"), "{text}");
    assert!(text.contains("explain the build") && text.contains("$0.25"), "{text}");
}
