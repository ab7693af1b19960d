use std::sync::Arc;

use super::*;
use crate::agent::{AgentEvent, TurnOutcome};
use crate::app::conversation::{Conversation, ConversationEvent};
use crate::app::cx::Handled;
use crate::checks::Kind;
use crate::config::keymap::Action;
use crate::view::state::MsgStatus;

/// Type `text` in the composer and submit it.
fn submit(rig: &mut Rig, conv: &mut Conversation, text: &str) {
    rig.state.composer.clear();
    rig.state.composer.insert_str(text);
    assert_eq!(conv.on_action(&mut rig.cx(), Action::Submit), Handled::Yes);
}

#[test]
fn a_message_goes_to_the_engine_shown_counted_and_remembered() {
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    rig.state.chat_scroll.from_bottom = 7;
    submit(&mut rig, &mut conv, "hello");
    assert_eq!(rig.last(), Some((Role::User, "hello")));
    assert!(rig.state.composer.is_empty());
    assert_eq!(rig.state.chat_scroll.from_bottom, 0, "sending jumps to the end of the chat");
    assert_eq!(conv.sent(), 1);
    assert!(rig.state.model.busy(), "busy from the moment it is sent");
    let sent = rig.sent();
    assert!(matches!(&sent[..], [Command::User { text }] if text == "hello"), "{:?}", names(&sent));
    assert_eq!(rig.asks(), vec![Ask::Remember("hello".into())]);
    // A second message while the first turn runs is queued, and says so.
    submit(&mut rig, &mut conv, "and this");
    assert!(rig.flash().starts_with("Queued"), "{}", rig.flash());
    assert_eq!(rig.state.model.turns_pending, 2);
}

#[test]
fn slash_commands_ask_the_other_controllers_and_are_not_messages() {
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    submit(&mut rig, &mut conv, "/test");
    submit(&mut rig, &mut conv, "/lint");
    submit(&mut rig, &mut conv, "/clear");
    assert_eq!(
        rig.asks(),
        vec![
            Ask::Remember("/test".into()),
            Ask::RunCheck { kind: Kind::Test, auto: false },
            Ask::Remember("/lint".into()),
            Ask::RunCheck { kind: Kind::Lint, auto: false },
            Ask::Remember("/clear".into()),
            Ask::ClearSession,
        ]
    );
    assert_eq!(conv.sent(), 0);
    assert!(rig.sent().is_empty());
    // `//` sends a literal slash.
    submit(&mut rig, &mut conv, "//etc/hosts is odd");
    assert_eq!(rig.last(), Some((Role::User, "/etc/hosts is odd")));
    assert_eq!(conv.sent(), 1);
    // An unknown command is a problem in the chat, not a message.
    submit(&mut rig, &mut conv, "/frobnicate");
    assert_eq!(rig.last().map(|(r, _)| r), Some(Role::Error));
    assert_eq!(conv.sent(), 1);
}

#[test]
fn without_an_engine_nothing_is_sent_and_the_chat_says_why() {
    let mut rig = Rig::offline();
    let mut conv = Conversation::default();
    submit(&mut rig, &mut conv, "hello");
    let (role, text) = rig.last().expect("a message");
    assert_eq!(role, Role::Error);
    assert!(text.contains("not ready yet"), "{text}");
    rig.state.model.offline = true;
    submit(&mut rig, &mut conv, "hello");
    assert!(rig.last().is_some_and(|(_, t)| t.starts_with("No model is connected")));
    assert!(!rig.state.model.busy());
}

#[test]
fn streamed_text_becomes_one_answer_and_the_end_of_a_turn_asks_for_the_tests() {
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    rig.state.model.turns_pending = 1;
    for ev in [AgentEvent::TurnStarted, AgentEvent::Text("Hel".into()), AgentEvent::Text("lo".into())] {
        conv.on_agent(&mut rig.cx(), ev);
    }
    let answer = rig.state.transcript.last().expect("the answer");
    assert_eq!((answer.role, answer.text.as_str(), &answer.status), (Role::Assistant, "Hello", &MsgStatus::Streaming));
    assert_eq!(rig.state.model.activity, "answering");
    assert!(rig.asks().is_empty());
    conv.on_agent(&mut rig.cx(), AgentEvent::TurnEnded(TurnOutcome::Completed));
    assert_eq!(rig.state.transcript.len(), 1);
    assert_eq!(rig.state.transcript[0].status, MsgStatus::Done);
    assert!(!rig.state.model.busy());
    assert_eq!(rig.state.model.turns, 1);
    assert_eq!(rig.asks(), vec![Ask::AutoTest]);
}

#[test]
fn retry_works_only_after_a_retryable_failure() {
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    assert_eq!(conv.on_action(&mut rig.cx(), Action::Retry), Handled::Yes);
    assert_eq!(rig.flash(), "Nothing to retry");
    assert!(rig.sent().is_empty());
    rig.state.model.turns_pending = 1;
    let failed = TurnOutcome::Failed { message: "overloaded".into(), partial: false, retryable: true };
    conv.on_agent(&mut rig.cx(), AgentEvent::TurnEnded(failed));
    let (role, text) = rig.last().expect("the problem");
    assert_eq!(role, Role::Error);
    assert!(text.starts_with("The model's answer failed: overloaded.") && text.contains("to retry"), "{text}");
    assert!(rig.state.model.can_retry);
    let _ = conv.on_action(&mut rig.cx(), Action::Retry);
    assert_eq!(names(&rig.sent()), ["retry"]);
    assert!(!rig.state.model.can_retry);
    assert!(rig.state.model.busy());
}

#[test]
fn cancel_stops_a_running_turn_and_nothing_else() {
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    assert!(!conv.cancel_turn(&mut rig.cx()));
    assert!(rig.sent().is_empty());
    rig.state.model.turns_pending = 1;
    assert!(conv.cancel_turn(&mut rig.cx()));
    assert_eq!(names(&rig.sent()), ["cancel"]);
    assert_eq!(rig.state.model.activity, "stopping…");
}

#[test]
fn actions_of_other_controllers_are_left_alone() {
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    for action in [Action::AcceptHunk, Action::ScrollUp, Action::FocusDiff, Action::Quit] {
        assert_eq!(conv.on_action(&mut rig.cx(), action), Handled::No, "{action}");
    }
    assert!(rig.asks().is_empty() && rig.sent().is_empty());
}

#[test]
fn a_switch_is_sent_to_the_running_engine() {
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    let script = "[[turns]]\ntext = \"hi\"\n";
    let provider = crate::llm::scripted::Scripted::from_toml("s", script).expect("script");
    let profile = crate::llm::select::Profile {
        name: "script".into(),
        kind: None,
        model: "other".into(),
        context_window: 1000,
        max_output_tokens: 100,
        prices: Default::default(),
        available_models: Vec::new(),
    };
    rig.state.model.choosing = true;
    conv.on_event(&mut rig.cx(), ConversationEvent::ModelSwitched(Ok((Arc::new(provider), profile))));
    assert!(!rig.state.model.choosing);
    assert_eq!(rig.state.model.label, "script other");
    assert_eq!(rig.last(), Some((Role::Notice, "Now using script other.")));
    assert_eq!(names(&rig.sent()), ["switch"]);
    let no_model = crate::llm::select::SelectError::NoModel { name: "local".into() };
    conv.on_event(&mut rig.cx(), ConversationEvent::ModelSwitched(Err(no_model)));
    let (role, text) = rig.last().expect("a problem");
    assert_eq!(role, Role::Error);
    assert!(text.starts_with("Cannot switch: the profile `local` names no model"), "{text}");
}

#[test]
fn export_writes_the_chat_as_markdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chat.md");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut rig = Rig::new();
    let mut conv = Conversation::default();
    rig.state.push(crate::view::state::Message::new(Role::Assistant, "An answer."));
    let _guard = rt.enter();
    submit(&mut rig, &mut conv, &format!("/export {}", path.display()));
    let ev = rt.block_on(rig.next_event());
    let AppEvent::Conversation(ev) = ev else { panic!("an event of the conversation") };
    conv.on_event(&mut rig.cx(), ev);
    let (role, text) = rig.last().expect("a notice");
    assert_eq!(role, Role::Notice);
    assert!(text.starts_with("Wrote the chat to"), "{text}");
    let written = std::fs::read_to_string(&path).expect("the file");
    assert!(written.starts_with("# tandem chat\n"), "{written}");
    assert!(written.contains("## tandem\n\nAn answer."), "{written}");
}
