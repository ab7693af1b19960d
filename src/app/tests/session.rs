use super::*;
use crate::app::session::{Session, SessionEvent, SessionSetup};
use crate::llm::ChatMessage;
use crate::session::journal::Entry;
use crate::view::state::MsgStatus;

#[test]
fn history_read_from_the_file_comes_before_what_was_sent_since() {
    let mut rig = Rig::new();
    let mut session = Session::default();
    rig.state.composer.set_history(vec!["sent early".into()]);
    session.on_event(&mut rig.cx(), SessionEvent::History(vec!["old one".into(), "old two".into()]));
    assert_eq!(rig.state.composer.history(), ["old one", "old two", "sent early"]);
}

#[test]
fn a_new_session_journals_in_the_directory_and_the_engine_writes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rig = Rig::new();
    let mut session = Session::default();
    assert_eq!(session.id(), None);
    session.start(&mut rig.cx(), SessionSetup { dir: Some(dir.path().to_path_buf()), resume: None });
    assert!(session.id().is_some());
    assert_eq!(names(&rig.sent()), ["use-journal"]);
    assert!(rig.state.transcript.is_empty(), "a new session says nothing");
}

#[test]
fn clear_starts_a_new_session_with_an_empty_chat_and_conversation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rig = Rig::new();
    let mut session = Session::default();
    session.start(&mut rig.cx(), SessionSetup { dir: Some(dir.path().to_path_buf()), resume: None });
    let first = session.id().map(str::to_string);
    rig.sent();
    rig.state.notice("something said before");
    rig.state.model.turns_pending = 1;
    session.clear(&mut rig.cx());
    assert_eq!(rig.last(), Some((Role::Error, "The model is busy; stop its turn first, then /clear.")));
    assert_eq!(session.id().map(str::to_string), first, "a busy model keeps its session");
    assert!(rig.sent().is_empty());
    rig.state.model.turns_pending = 0;
    session.clear(&mut rig.cx());
    let id = session.id().expect("an id").to_string();
    assert_ne!(Some(id.clone()), first);
    assert_eq!(rig.state.transcript.len(), 1);
    assert_eq!(
        rig.last(),
        Some((Role::Notice, &*format!("New session {id}: the model starts from an empty conversation.")))
    );
    let sent = rig.sent();
    assert!(matches!(&sent[..], [Command::UseJournal(_), Command::Reset(c)] if c.is_empty()), "{:?}", names(&sent));
}

#[test]
fn a_resumed_session_shows_its_chat_and_gives_the_engine_its_conversation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rig = Rig::new();
    let mut session = Session::default();
    let entries = vec![
        Entry::User { text: "what is here?".into() },
        Entry::Assistant { text: "Let me look.".into() },
        Entry::ToolCall { id: "c1".into(), name: "list_files".into(), arguments: "{}".into() },
        Entry::ToolResult { id: "c1".into(), ok: true, output: "src/\nCargo.toml".into() },
        Entry::ToolCall { id: "c2".into(), name: "read_file".into(), arguments: "{}".into() },
    ];
    let setup = SessionSetup { dir: Some(dir.path().to_path_buf()), resume: Some(("abc".into(), entries)) };
    session.start(&mut rig.cx(), setup);
    assert_eq!(session.id(), Some("abc"), "the resumed session's journal goes on");
    let chat: Vec<(Role, &str, MsgStatus)> =
        rig.state.transcript.iter().map(|m| (m.role, m.text.as_str(), m.status.clone())).collect();
    assert_eq!(
        chat,
        [
            (Role::User, "what is here?", MsgStatus::Done),
            (Role::Assistant, "Let me look.", MsgStatus::Done),
            (Role::Tool, "✓ list_files: src/", MsgStatus::Done),
            (Role::Tool, "… read_file", MsgStatus::Broken),
            (
                Role::Notice,
                "Resumed session abc (1 message sent before); the model has its conversation.",
                MsgStatus::Done
            ),
        ]
    );
    let sent = rig.sent();
    let [Command::UseJournal(_), Command::Reset(conversation)] = &sent[..] else {
        panic!("the journal, then the conversation: {:?}", names(&sent))
    };
    assert!(matches!(conversation.first(), Some(ChatMessage::User { .. })), "{conversation:?}");
}

#[test]
fn without_a_directory_a_resumed_chat_shows_but_nothing_is_journaled() {
    let mut rig = Rig::offline();
    let mut session = Session::default();
    let entries = vec![Entry::User { text: "hi".into() }];
    session.start(&mut rig.cx(), SessionSetup { dir: None, resume: Some(("xyz".into(), entries)) });
    assert_eq!(session.id(), None);
    assert_eq!(rig.state.transcript.len(), 2);
    assert_eq!(rig.state.transcript[0].text, "hi");
}
