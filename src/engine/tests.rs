//! The engine with no terminal: a scripted model in a real git repository,
//! commands in, events out.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::agent::TurnOutcome;
use crate::llm::scripted::Scripted;
use crate::llm::{EventStream, Request as LlmRequest};

/// Every request the model was sent, answered from a script.
struct Recording {
    inner: Scripted,
    requests: Arc<Mutex<Vec<LlmRequest>>>,
}

impl Provider for Recording {
    fn describe(&self) -> String {
        "recording".into()
    }
    fn stream(&self, request: LlmRequest, cancel: tokio_util::sync::CancellationToken) -> EventStream {
        self.requests.lock().expect("requests").push(request.clone());
        self.inner.stream(request, cancel)
    }
}

fn profile() -> Profile {
    Profile {
        name: "script".into(),
        kind: None,
        model: "test".into(),
        context_window: 100_000,
        max_output_tokens: 1000,
        prices: Default::default(),
        available_models: Vec::new(),
    }
}

/// A repository with `files` committed.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = git2::Repository::init(dir.path()).expect("init");
    let mut index = repo.index().expect("index");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        index.add_path(Path::new(path)).expect("add");
    }
    index.write().expect("write index");
    let tree = repo.find_tree(index.write_tree().expect("tree")).expect("find tree");
    let sig = git2::Signature::now("t", "t@example.com").expect("sig");
    repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[]).expect("commit");
    dir
}

fn staged(root: &Path, path: &str) -> Option<String> {
    let repo = git2::Repository::open(root).ok()?;
    let index = repo.index().ok()?;
    let entry = index.get_path(Path::new(path), 0)?;
    let blob = repo.find_blob(entry.id).ok()?;
    String::from_utf8(blob.content().to_vec()).ok()
}

/// A running session and what it said so far.
struct Session {
    handle: Handle,
    events: Events,
    seen: Vec<Event>,
    requests: Arc<Mutex<Vec<LlmRequest>>>,
    dir: tempfile::TempDir,
}

impl Session {
    fn start(script: &str, files: &[(&str, &str)], setup: impl FnOnce(&mut Setup)) -> Session {
        let dir = repo(files);
        let config = crate::config::built_in();
        let mut s = Setup::new(&config, dir.path().to_path_buf(), dir.path().to_path_buf(), true);
        setup(&mut s);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let provider =
            Recording { inner: Scripted::from_toml("test", script).expect("script"), requests: requests.clone() };
        let (handle, events) = spawn(s, Arc::new(provider), profile());
        Session { handle, events, seen: Vec::new(), requests, dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The next event that `f` picks, keeping the ones before it.
    async fn until<T>(&mut self, what: &str, f: impl Fn(&Event) -> Option<T>) -> T {
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(20), self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {what} within 20 s; seen {:#?}", self.seen))
                .unwrap_or_else(|| panic!("the session ended before {what}"));
            let picked = f(&ev);
            self.seen.push(ev);
            if let Some(t) = picked {
                return t;
            }
        }
    }

    async fn turn_end(&mut self) -> TurnOutcome {
        self.until("the turn's end", |e| match e {
            Event::Agent(AgentEvent::TurnEnded(o)) => Some(o.clone()),
            _ => None,
        })
        .await
    }

    async fn request(&mut self) -> (u64, Request) {
        self.until("a request for approval", |e| match e {
            Event::ApprovalRequested { id, request } => Some((*id, request.clone())),
            _ => None,
        })
        .await
    }

    async fn applied(&mut self) -> (Vec<AppliedFile>, bool) {
        self.until("a change set applied", |e| match e {
            Event::Applied { files, by_policy, .. } => Some((files.clone(), *by_policy)),
            _ => None,
        })
        .await
    }

    fn last_tool_result(&self) -> String {
        let requests = self.requests.lock().expect("requests");
        let last = requests.last().expect("a request");
        last.messages
            .iter()
            .rev()
            .find_map(|m| match m {
                ChatMessage::Tool { content, .. } => Some(content.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

const EDIT: &str = r#"
[[turns]]
tool_calls = [{ name = "edit_file", arguments = '{"path": "a.txt", "old_text": "two", "new_text": "deux"}' }]

[[turns]]
text = "done"
"#;

fn accept(request: &Request) -> Answer {
    let Request::Changes { files, .. } = request else { panic!("not a change set: {request:?}") };
    Answer::Changes(files.iter().map(answer::accept_all).collect())
}

#[tokio::test]
async fn a_proposal_waits_for_the_answer_and_the_model_hears_it() {
    let mut s = Session::start(EDIT, &[("a.txt", "one\ntwo\nthree\n")], |_| {});
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    let (id, request) = s.request().await;
    assert!(matches!(&request, Request::Changes { policy_accepts: false, .. }), "{request:?}");
    // Nothing is written before the answer.
    assert_eq!(std::fs::read_to_string(s.root().join("a.txt")).expect("read"), "one\ntwo\nthree\n");
    s.handle.send(Command::Decide { id, answer: accept(&request) }).expect("send");
    let (files, by_policy) = s.applied().await;
    assert!(!by_policy);
    assert_eq!(files[0].outcome, Outcome::Staged, "{files:?}");
    assert_eq!(s.turn_end().await, TurnOutcome::Completed);
    assert_eq!(staged(s.root(), "a.txt").as_deref(), Some("one\ndeux\nthree\n"));
    assert!(s.last_tool_result().contains("1 of 1 hunk(s) accepted"), "{}", s.last_tool_result());
}

#[tokio::test]
async fn a_policy_that_writes_edits_asks_nothing_but_for_protected_files() {
    let mut s = Session::start(EDIT, &[("a.txt", "one\ntwo\nthree\n")], |s| s.policy = Policy::AutoEdit);
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    let (files, by_policy) = s.applied().await;
    assert!(by_policy);
    assert_eq!(files[0].outcome, Outcome::Staged);
    assert!(!s.seen.iter().any(|e| matches!(e, Event::ApprovalRequested { .. })), "{:#?}", s.seen);
    assert!(s.seen.iter().any(|e| matches!(e, Event::Proposed { .. })));

    let protected = r#"
[[turns]]
tool_calls = [{ name = "edit_file", arguments = '{"path": ".tandem/config.toml", "old_text": "x = 1", "new_text": "x = 2"}' }]

[[turns]]
text = "done"
"#;
    let mut s = Session::start(protected, &[(".tandem/config.toml", "x = 1\n")], |s| s.policy = Policy::FullAuto);
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    let (_, request) = s.request().await;
    let Request::Changes { protected, policy_accepts, .. } = request else { panic!("{request:?}") };
    assert!(policy_accepts);
    assert_eq!(protected, vec![Some(".tandem/**".to_string())]);
    assert_eq!(std::fs::read_to_string(s.root().join(".tandem/config.toml")).expect("read"), "x = 1\n");
}

#[tokio::test]
async fn a_rejection_with_its_reason_reaches_the_model_and_writes_nothing() {
    let mut s = Session::start(EDIT, &[("a.txt", "one\ntwo\nthree\n")], |_| {});
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    let (id, request) = s.request().await;
    let Request::Changes { files, .. } = &request else { panic!() };
    let hunks = files[0]
        .hunks
        .iter()
        .map(|h| HunkAnswer { hunk: h.clone(), verdict: Verdict::Rejected(Some("keep English".into())) })
        .collect();
    s.handle
        .send(Command::Decide { id, answer: Answer::Changes(vec![FileAnswer { hunks, set_aside: None }]) })
        .expect("send");
    let (files, _) = s.applied().await;
    assert_eq!(files[0].outcome, Outcome::Rejected);
    s.turn_end().await;
    assert_eq!(staged(s.root(), "a.txt").as_deref(), Some("one\ntwo\nthree\n"));
    assert!(s.last_tool_result().contains("rejected: \"keep English\""), "{}", s.last_tool_result());
}

const COMMANDS: &str = r#"
[[turns]]
tool_calls = [{ name = "run_command", arguments = '{"command": "git status --short"}' }]

[[turns]]
tool_calls = [{ name = "run_command", arguments = '{"command": "touch made"}' }]

[[turns]]
tool_calls = [{ name = "run_command", arguments = '{"command": "touch again"}' }]

[[turns]]
text = "done"
"#;

#[tokio::test]
async fn commands_run_when_the_policy_allows_or_the_user_does() {
    let mut s = Session::start(COMMANDS, &[("a.txt", "a\n")], |_| {});
    s.handle.send(Command::User { text: "go".into() }).expect("send");
    let why = s
        .until("the read-only command", |e| match e {
            Event::CommandAllowed { why, .. } => Some(*why),
            _ => None,
        })
        .await;
    assert_eq!(why, "read-only");
    let (id, request) = s.request().await;
    assert_eq!(request, Request::Command { command: "touch made".into() });
    s.handle.send(Command::Decide { id, answer: Answer::Allow { remember: Some("touch".into()) } }).expect("send");
    // Remembered: the next one runs unasked.
    let why = s
        .until("the remembered prefix", |e| match e {
            Event::CommandAllowed { command, why } if command == "touch again" => Some(*why),
            _ => None,
        })
        .await;
    assert_eq!(why, "allowed prefix");
    s.turn_end().await;
    assert!(s.root().join("made").exists() && s.root().join("again").exists());
}

#[tokio::test]
async fn a_refused_or_unattended_command_does_not_run_and_the_model_hears_why() {
    for answer in [Answer::Refuse { reason: "not now".into() }, Answer::Unattended { reason: "nobody here".into() }] {
        let script = "[[turns]]\ntool_calls = [{ name = \"run_command\", arguments = '{\"command\": \"touch made\"}' }]\n\n[[turns]]\ntext = \"ok\"\n";
        let mut s = Session::start(script, &[("a.txt", "a\n")], |_| {});
        s.handle.send(Command::User { text: "go".into() }).expect("send");
        let (id, _) = s.request().await;
        let reason = match &answer {
            Answer::Refuse { reason } | Answer::Unattended { reason } => reason.clone(),
            _ => unreachable!(),
        };
        s.handle.send(Command::Decide { id, answer }).expect("send");
        s.turn_end().await;
        assert!(!s.root().join("made").exists());
        assert!(s.last_tool_result().contains(&reason), "{}", s.last_tool_result());
    }
}

#[tokio::test]
async fn undo_reverts_the_last_change_set_and_says_when_there_is_none() {
    let mut s = Session::start(EDIT, &[("a.txt", "one\ntwo\nthree\n")], |s| s.policy = Policy::AutoEdit);
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    s.applied().await;
    s.turn_end().await;
    s.handle.send(Command::Undo).expect("send");
    let (text, retry) = s
        .until("the undo", |e| match e {
            Event::Undone { text, retry } => Some((text.clone(), *retry)),
            _ => None,
        })
        .await;
    assert!(text.contains("a.txt reverted") && !retry, "{text}");
    assert_eq!(staged(s.root(), "a.txt").as_deref(), Some("one\ntwo\nthree\n"));
    s.handle.send(Command::Undo).expect("send");
    s.until("nothing to undo", |e| matches!(e, Event::NothingToUndo).then_some(())).await;
}

#[tokio::test]
async fn a_decision_after_the_turn_was_stopped_goes_with_the_next_message() {
    let script = r#"
[[turns]]
tool_calls = [{ name = "edit_file", arguments = '{"path": "a.txt", "old_text": "two", "new_text": "deux"}' }]

[[turns]]
text = "next"
"#;
    let mut s = Session::start(script, &[("a.txt", "one\ntwo\nthree\n")], |_| {});
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    let (id, request) = s.request().await;
    s.handle.send(Command::Cancel).expect("send");
    assert_eq!(s.turn_end().await, TurnOutcome::Cancelled);
    s.handle.send(Command::Decide { id, answer: accept(&request) }).expect("send");
    s.applied().await;
    s.handle.send(Command::User { text: "and now?".into() }).expect("send");
    s.turn_end().await;
    let requests = s.requests.lock().expect("requests");
    let last_user = requests
        .last()
        .and_then(|r| {
            r.messages.iter().rev().find_map(|m| match m {
                ChatMessage::User { text } => Some(text.clone()),
                _ => None,
            })
        })
        .expect("a user message");
    assert!(last_user.starts_with("[Since your last turn") && last_user.ends_with("and now?"), "{last_user}");
}

#[tokio::test]
async fn an_answer_to_nothing_or_of_the_wrong_kind_changes_nothing() {
    let mut s = Session::start(EDIT, &[("a.txt", "one\ntwo\nthree\n")], |_| {});
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    let (id, request) = s.request().await;
    s.handle.send(Command::Decide { id: id + 100, answer: accept(&request) }).expect("send");
    s.handle.send(Command::Decide { id, answer: Answer::Allow { remember: None } }).expect("send");
    s.handle.send(Command::Decide { id, answer: Answer::Changes(Vec::new()) }).expect("send");
    // The request still stands: the right answer is taken.
    s.handle.send(Command::Decide { id, answer: accept(&request) }).expect("send");
    let (files, _) = s.applied().await;
    assert_eq!(files.len(), 1);
    assert_eq!(staged(s.root(), "a.txt").as_deref(), Some("one\ndeux\nthree\n"));
}

#[tokio::test]
async fn a_file_changed_since_the_proposal_is_refused_and_the_model_told() {
    let mut s = Session::start(EDIT, &[("a.txt", "one\ntwo\nthree\n")], |_| {});
    s.handle.send(Command::User { text: "change it".into() }).expect("send");
    let (id, request) = s.request().await;
    // The user rewrote the very line the hunk changes: it cannot be re-matched.
    std::fs::write(s.root().join("a.txt"), "one\nzwei\nthree\n").expect("write");
    s.handle.send(Command::Decide { id, answer: accept(&request) }).expect("send");
    let (files, _) = s.applied().await;
    s.turn_end().await;
    assert_eq!(files[0].outcome, Outcome::Refused, "{files:?}");
    assert!(files[0].reason.is_some());
    assert_eq!(std::fs::read_to_string(s.root().join("a.txt")).expect("read"), "one\nzwei\nthree\n");
    assert!(s.last_tool_result().contains("NOT written"), "{}", s.last_tool_result());
}

/// The session's tools with `open_door`, which asks for leave of kind
/// `door` before it writes `NAME.open` in the repository.
fn with_door(s: &mut Setup) {
    let root = s.root.clone();
    s.extra_tools.push(Arc::new(move |approvals: crate::tools::approval::Approvals| {
        Arc::new(crate::tools::test_tools::OpenDoor::new(root.clone(), Arc::new(approvals)))
            as Arc<dyn crate::tools::Tool>
    }));
}

fn doors(names: &[&str]) -> String {
    let mut script = String::new();
    for name in names {
        script.push_str(&format!(
            "[[turns]]\ntool_calls = [{{ name = \"open_door\", arguments = '{{\"door\": \"{name}\"}}' }}]\n\n"
        ));
    }
    script.push_str("[[turns]]\ntext = \"done\"\n");
    script
}

fn tool_results(s: &Session) -> Vec<String> {
    let requests = s.requests.lock().expect("requests");
    let last = requests.last().expect("a request");
    last.messages
        .iter()
        .filter_map(|m| match m {
            ChatMessage::Tool { content, .. } => Some(content.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_tool_asking_leave_waits_for_it_and_goes_ahead_once_allowed() {
    let mut s = Session::start(&doors(&["front"]), &[("a.txt", "a\n")], with_door);
    s.handle.send(Command::User { text: "go".into() }).expect("send");
    let (id, request) = s.request().await;
    let Request::Permission(p) = &request else { panic!("not a permission: {request:?}") };
    assert_eq!(p.kind, crate::tools::test_tools::DOOR);
    assert_eq!(p.title, "the model wants to open door `front`");
    assert_eq!(p.detail, "open front");
    assert_eq!(p.remember_key.as_deref(), Some("front"));
    // The tool waits: nothing is done before the answer.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!s.root().join("front.open").exists());
    s.handle.send(Command::Decide { id, answer: Answer::Allow { remember: None } }).expect("send");
    assert_eq!(s.turn_end().await, TurnOutcome::Completed);
    assert!(s.root().join("front.open").exists());
    assert_eq!(s.last_tool_result(), "door front is open");
}

#[tokio::test]
async fn a_refused_or_unattended_permission_leaves_the_tool_undone_and_the_model_hears_why() {
    for answer in
        [Answer::Refuse { reason: "not that door".into() }, Answer::Unattended { reason: "nobody here".into() }]
    {
        let mut s = Session::start(&doors(&["front"]), &[("a.txt", "a\n")], with_door);
        s.handle.send(Command::User { text: "go".into() }).expect("send");
        let (id, _) = s.request().await;
        let reason = match &answer {
            Answer::Refuse { reason } | Answer::Unattended { reason } => reason.clone(),
            _ => unreachable!(),
        };
        s.handle.send(Command::Decide { id, answer }).expect("send");
        s.turn_end().await;
        assert!(!s.root().join("front.open").exists());
        assert_eq!(s.last_tool_result(), format!("door front stays shut: {reason}"));
    }
}

#[tokio::test]
async fn the_kinds_policy_rule_grants_it_unasked_and_the_other_policies_ask() {
    let mut s = Session::start(&doors(&["front"]), &[("a.txt", "a\n")], |s| {
        s.policy = Policy::FullAuto;
        with_door(s);
    });
    s.handle.send(Command::User { text: "go".into() }).expect("send");
    s.turn_end().await;
    assert!(!s.seen.iter().any(|e| matches!(e, Event::ApprovalRequested { .. })), "{:#?}", s.seen);
    assert!(s.root().join("front.open").exists());

    // The rule names full-auto only: auto-edit asks, and so does suggest
    // after a switch from full-auto.
    let mut s = Session::start(&doors(&["front"]), &[("a.txt", "a\n")], |s| {
        s.policy = Policy::AutoEdit;
        with_door(s);
    });
    s.handle.send(Command::User { text: "go".into() }).expect("send");
    let (_, request) = s.request().await;
    assert!(matches!(request, Request::Permission(_)), "{request:?}");
    let mut s = Session::start(&doors(&["front"]), &[("a.txt", "a\n")], |s| {
        s.policy = Policy::FullAuto;
        with_door(s);
    });
    s.handle.send(Command::SetPolicy(Policy::Suggest)).expect("send");
    s.handle.send(Command::User { text: "go".into() }).expect("send");
    let (_, request) = s.request().await;
    assert!(matches!(request, Request::Permission(_)), "{request:?}");
}

#[tokio::test]
async fn always_allow_grants_the_same_kind_and_key_for_the_session_and_nothing_else() {
    let mut s = Session::start(&doors(&["front", "front", "back"]), &[("a.txt", "a\n")], with_door);
    s.handle.send(Command::User { text: "go".into() }).expect("send");
    let (id, _) = s.request().await;
    s.handle.send(Command::Decide { id, answer: Answer::Allow { remember: Some("front".into()) } }).expect("send");
    // The second `front` goes unasked; `back` is asked.
    let (id, request) = s.request().await;
    let Request::Permission(p) = &request else { panic!("{request:?}") };
    assert_eq!(p.remember_key.as_deref(), Some("back"));
    s.handle.send(Command::Decide { id, answer: Answer::Refuse { reason: "no".into() } }).expect("send");
    s.turn_end().await;
    let asked = s.seen.iter().filter(|e| matches!(e, Event::ApprovalRequested { .. })).count();
    assert_eq!(asked, 2, "{:#?}", s.seen);
    assert_eq!(tool_results(&s), ["door front is open", "door front is open", "door back stays shut: no"]);
}

#[tokio::test]
async fn allowed_once_is_asked_again_and_an_answer_about_edits_refuses() {
    let mut s = Session::start(&doors(&["front", "front"]), &[("a.txt", "a\n")], with_door);
    s.handle.send(Command::User { text: "go".into() }).expect("send");
    let (id, _) = s.request().await;
    // An answer to nothing changes nothing; the request still stands.
    s.handle.send(Command::Decide { id: id + 100, answer: Answer::Allow { remember: None } }).expect("send");
    s.handle.send(Command::Decide { id, answer: Answer::Allow { remember: None } }).expect("send");
    let (id, _) = s.request().await;
    s.handle.send(Command::Decide { id, answer: Answer::Changes(Vec::new()) }).expect("send");
    s.turn_end().await;
    assert_eq!(tool_results(&s), ["door front is open", "door front stays shut: the user said no"]);
}
