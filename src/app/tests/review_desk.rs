use std::time::Duration;

use super::*;
use crate::app::approve::ReviewDesk;
use crate::app::cx::Handled;
use crate::config::keymap::{Action, Context};
use crate::config::keys::{Key, KeyCode, KeySeq, Mods};
use crate::engine::{Answer, AppliedFile, Event, Outcome, Request};
use crate::patch::FileChange;
use crate::view::review::Item;
use crate::view::state::Focus;

fn command(id: u64, command: &str) -> Event {
    Event::ApprovalRequested { id, request: Request::Command { command: command.into() } }
}

/// A change set of one file with two hunks, far enough apart.
fn changes(id: u64) -> Event {
    let base: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    let proposed = base.replace("line 2\n", "line two\n").replace("line 19\n", "line nineteen\n");
    let file = FileChange::new("src/a.rs".into(), Some(base), Some(proposed), None).expect("a change");
    assert_eq!(file.hunks.len(), 2);
    let request = Request::Changes { files: vec![file], protected: vec![None], policy_accepts: false };
    Event::ApprovalRequested { id, request }
}

fn key(c: char) -> Key {
    Key { code: KeyCode::Char(c), mods: Mods::default() }
}

/// The keys of a decision, for the guard's message.
fn y() -> KeySeq {
    KeySeq(vec![key('y')])
}

/// The item arrived and a frame showed it long enough ago to decide.
fn shown_and_read(rig: &mut Rig, desk: &mut ReviewDesk) {
    desk.frame_shown(&mut rig.cx());
    rig.clock.advance(Duration::from_secs(1));
    desk.input(&mut rig.cx(), false);
}

#[test]
fn a_command_request_takes_focus_from_an_idle_composer_and_is_allowed() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    assert_eq!(desk.on_engine(&mut rig.cx(), command(7, "cargo test")), Handled::Yes);
    assert_eq!(rig.state.focus, Focus::Diff);
    assert_eq!(rig.flash(), "Diff approval: the model asks to run `cargo test`");
    shown_and_read(&mut rig, &mut desk);
    assert_eq!(desk.guard_decision(&mut rig.cx(), Action::AcceptHunk, &y()), Handled::No);
    assert_eq!(desk.on_action(&mut rig.cx(), Action::AcceptHunk), Handled::Yes);
    let sent = rig.sent();
    assert!(
        matches!(&sent[..], [Command::Decide { id: 7, answer: Answer::Allow { remember: None } }]),
        "{:?}",
        names(&sent)
    );
    assert!(rig.state.review.is_empty());
    assert_eq!(rig.state.metrics.approvals.commands_approved, 1);
}

#[test]
fn a_review_waits_for_someone_typing() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    rig.state.composer.insert_str("half a thou");
    desk.input(&mut rig.cx(), false);
    let _ = desk.on_engine(&mut rig.cx(), command(1, "ls"));
    assert_eq!(rig.state.focus, Focus::Composer, "the keyboard stays with the composer");
    let open = rig.state.keymap.key_label(Context::Global, Action::FocusDiff);
    assert_eq!(rig.flash(), format!("Diff approval: the model asks to run `ls` ({open} to review)"));
}

#[test]
fn a_key_typed_through_the_arrival_does_not_decide_and_gives_the_focus_back() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    let _ = desk.on_engine(&mut rig.cx(), command(3, "rm -rf build"));
    assert_eq!(rig.state.focus, Focus::Diff);
    desk.frame_shown(&mut rig.cx());
    rig.clock.advance(Duration::from_millis(100));
    desk.input(&mut rig.cx(), false);
    // Moving about is fine; deciding is not, yet.
    assert_eq!(desk.guard_decision(&mut rig.cx(), Action::NextHunk, &y()), Handled::No);
    assert_eq!(desk.guard_decision(&mut rig.cx(), Action::AcceptHunk, &y()), Handled::Yes);
    assert!(rig.flash().starts_with("Review just arrived: y ignored."), "{}", rig.flash());
    desk.give_focus_back(&mut rig.cx());
    assert_eq!(rig.state.focus, Focus::Composer, "the user was typing: the key goes where they were");
    // A pause as long as the guard, and the next key decides.
    rig.clock.advance(Duration::from_millis(600));
    desk.input(&mut rig.cx(), false);
    assert_eq!(desk.guard_decision(&mut rig.cx(), Action::AcceptHunk, &y()), Handled::No);
    // A held key's repeats never do.
    desk.input(&mut rig.cx(), true);
    assert_eq!(desk.guard_decision(&mut rig.cx(), Action::AcceptHunk, &y()), Handled::Yes);
    assert!(rig.sent().is_empty());
}

#[test]
fn a_rejection_reason_is_typed_in_the_pane_and_sent() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    let _ = desk.on_engine(&mut rig.cx(), command(4, "curl example.com"));
    assert_eq!(desk.on_key(&mut rig.cx(), &key('x')), Handled::No, "no reason is being typed");
    let _ = desk.on_action(&mut rig.cx(), Action::RejectWithReason);
    assert_eq!(rig.state.review.reason.as_deref(), Some(""));
    for c in "no netx".chars() {
        assert_eq!(desk.on_key(&mut rig.cx(), &key(c)), Handled::Yes);
    }
    let _ = desk.on_key(&mut rig.cx(), &Key { code: KeyCode::Backspace, mods: Mods::default() });
    let _ = desk.on_key(&mut rig.cx(), &Key { code: KeyCode::Enter, mods: Mods::default() });
    let sent = rig.sent();
    assert!(
        matches!(&sent[..], [Command::Decide { id: 4, answer: Answer::Refuse { reason } }] if reason == "no net"),
        "{:?}",
        names(&sent)
    );
    assert_eq!(rig.state.metrics.approvals.commands_denied, 1);
    assert!(rig.state.review.is_empty());
}

#[test]
fn applying_with_undecided_hunks_asks_again_then_sends_the_decisions() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    let _ = desk.on_engine(&mut rig.cx(), changes(9));
    assert!(rig.flash().starts_with("Diff approval: 1 file(s), 2 hunk(s) to review"), "{}", rig.flash());
    let _ = desk.on_action(&mut rig.cx(), Action::AcceptHunk);
    let _ = desk.on_action(&mut rig.cx(), Action::ApplyDecisions);
    assert!(rig.flash().starts_with("1 hunk(s) undecided"), "{}", rig.flash());
    assert!(rig.sent().is_empty());
    let _ = desk.on_action(&mut rig.cx(), Action::ApplyDecisions);
    let sent = rig.sent();
    let [Command::Decide { id: 9, answer: Answer::Changes(files) }] = &sent[..] else {
        panic!("one decision: {:?}", names(&sent))
    };
    let verdicts: Vec<&str> = files[0].hunks.iter().map(|h| h.verdict.label()).collect();
    assert_eq!(verdicts, ["accepted", "rejected"]);
    assert!(rig.state.review.applying);
    // While the engine writes, decisions wait.
    let _ = desk.on_action(&mut rig.cx(), Action::RejectAll);
    assert_eq!(rig.flash(), "Writing the last decisions; a moment…");
}

#[test]
fn what_was_applied_is_reported_and_may_run_the_tests() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    rig.state.config.checks.auto_test = true;
    let _ = desk.on_engine(&mut rig.cx(), changes(2));
    rig.state.review.applying = true;
    let file = AppliedFile {
        path: "src/a.rs".into(),
        hunks: vec!["accepted", "rejected"],
        outcome: Outcome::Staged,
        state: "written and staged".into(),
        reason: None,
    };
    let _ = desk.on_engine(&mut rig.cx(), Event::Applied { id: 2, files: vec![file], by_policy: false });
    assert!(!rig.state.review.applying);
    assert!(rig.state.review.is_empty(), "the applied set leaves the queue");
    assert_eq!(rig.last(), Some((Role::Notice, "Applied: src/a.rs 1/2 (written and staged)")));
    assert!(rig.state.checks.due);
    assert_eq!((rig.state.metrics.approvals.hunks_accepted, rig.state.metrics.approvals.hunks_rejected), (1, 1));
    assert_eq!(rig.asks(), vec![Ask::AutoTest]);
}

#[test]
fn undo_and_the_policy_go_to_the_engine() {
    let mut rig = Rig::offline();
    let mut desk = ReviewDesk::default();
    let _ = desk.on_action(&mut rig.cx(), Action::UndoApplied);
    assert_eq!(rig.flash(), "Nothing to undo");
    assert!(!rig.state.review.applying);

    let mut rig = Rig::new();
    let _ = desk.on_action(&mut rig.cx(), Action::UndoApplied);
    assert!(rig.state.review.applying);
    let _ = desk.on_engine(&mut rig.cx(), Event::Undone { text: "src/a.rs restored".into(), retry: false });
    assert!(!rig.state.review.applying);
    assert_eq!(rig.last(), Some((Role::Notice, "Undo: src/a.rs restored")));
    let before = rig.state.policy;
    let _ = desk.on_action(&mut rig.cx(), Action::CyclePolicy);
    assert_ne!(rig.state.policy, before);
    assert_eq!(rig.flash(), format!("Policy: {}", rig.state.policy.name()));
    assert_eq!(names(&rig.sent()), ["undo", "set-policy"]);
}

#[test]
fn the_queue_shows_the_next_item_once_the_first_is_answered() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    let _ = desk.on_engine(&mut rig.cx(), command(1, "make"));
    let _ = desk.on_engine(&mut rig.cx(), command(2, "make install"));
    assert_eq!(rig.flash(), "Diff approval: the model asks to run `make`", "the second waits its turn");
    let _ = desk.on_action(&mut rig.cx(), Action::RejectHunk);
    assert_eq!(rig.flash(), "Diff approval: the model asks to run `make install`");
    assert!(matches!(rig.state.review.front(), Some(Item::Command { id: 2, .. })));
    let _ = desk.on_action(&mut rig.cx(), Action::SplitHunk);
    assert!(rig.flash().starts_with("That key works on proposed edits"), "{}", rig.flash());
}

#[test]
fn the_agent_and_other_actions_are_not_the_desks() {
    let mut rig = Rig::new();
    let mut desk = ReviewDesk::default();
    let ev = Event::Agent(crate::agent::AgentEvent::TurnStarted);
    assert_eq!(desk.on_engine(&mut rig.cx(), ev), Handled::No);
    for action in [Action::Submit, Action::ScrollDown, Action::FocusChat, Action::CopyAnswer] {
        assert_eq!(desk.on_action(&mut rig.cx(), action), Handled::No, "{action}");
    }
    let _ = desk.on_action(&mut rig.cx(), Action::AcceptAll);
    assert_eq!(rig.flash(), "No proposed edits");
}
