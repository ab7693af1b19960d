use super::*;
use crate::app::cx::Handled;
use crate::app::panes::{Panes, code_blocks};
use crate::config::keymap::Action;
use crate::config::keys::{Key, KeyCode, Mods};
use crate::view::state::{Focus, Message, Overlay};

fn act(rig: &mut Rig, panes: &mut Panes, action: Action) -> Handled {
    panes.on_action(&mut rig.cx(), action)
}

#[test]
fn focus_cycles_through_the_panes_both_ways() {
    let mut rig = Rig::new();
    let mut panes = Panes::default();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let _ = act(&mut rig, &mut panes, Action::FocusNext);
        seen.push(rig.state.focus);
    }
    assert_eq!(seen, [Focus::Chat, Focus::Diff, Focus::Metrics, Focus::Composer]);
    let _ = act(&mut rig, &mut panes, Action::FocusPrev);
    assert_eq!(rig.state.focus, Focus::Metrics);
    let _ = act(&mut rig, &mut panes, Action::FocusComposer);
    assert_eq!(rig.state.focus, Focus::Composer);
}

#[test]
fn copying_takes_the_selected_answer_or_the_last_one() {
    let mut rig = Rig::new();
    let mut panes = Panes::default();
    let _ = act(&mut rig, &mut panes, Action::CopyAnswer);
    assert_eq!(rig.flash(), "There is no answer to copy");
    assert!(rig.state.flash.as_ref().is_some_and(|f| f.error));
    assert_eq!(panes.take_clipboard(), None);
    rig.state.push(Message::new(Role::Assistant, "first answer"));
    rig.state.push(Message::new(Role::User, "more?"));
    rig.state.push(Message::new(Role::Assistant, "second\n\n```sh\nmake\n```\n"));
    let _ = act(&mut rig, &mut panes, Action::CopyAnswer);
    assert_eq!(panes.take_clipboard().as_deref(), Some("second\n\n```sh\nmake\n```\n"));
    assert_eq!(panes.take_clipboard(), None, "once");
    let _ = act(&mut rig, &mut panes, Action::CopyCode);
    assert_eq!(panes.take_clipboard().as_deref(), Some("make\n"));
    assert_eq!(rig.flash(), "Copied code block (5 characters) to the clipboard");
    // Select the first answer: copying takes it.
    for _ in 0..3 {
        let _ = act(&mut rig, &mut panes, Action::SelectPrev);
    }
    assert_eq!(rig.state.selected, Some(0));
    let _ = act(&mut rig, &mut panes, Action::CopyAnswer);
    assert_eq!(panes.take_clipboard().as_deref(), Some("first answer"));
}

#[test]
fn cancel_closes_the_overlay_then_drops_the_selection_then_is_not_the_panes() {
    let mut rig = Rig::new();
    let mut panes = Panes::default();
    rig.state.push(Message::new(Role::User, "hello"));
    let _ = act(&mut rig, &mut panes, Action::SelectNext);
    let _ = act(&mut rig, &mut panes, Action::Help);
    assert_eq!(rig.state.overlay, Some(Overlay::Help { scroll: 0 }));
    assert_eq!(panes.close(&mut rig.cx()), Handled::Yes);
    assert_eq!(rig.state.overlay, None);
    assert_eq!(rig.state.selected, Some(0));
    assert_eq!(panes.close(&mut rig.cx()), Handled::Yes);
    assert_eq!(rig.state.selected, None);
    assert_eq!(panes.close(&mut rig.cx()), Handled::No);
}

#[test]
fn the_chat_scrolls_up_from_the_bottom_and_back() {
    let mut rig = Rig::new();
    let mut panes = Panes::default();
    for i in 0..100 {
        rig.state.push(Message::new(Role::Notice, format!("line {i}")));
    }
    let _ = act(&mut rig, &mut panes, Action::ScrollUp);
    assert_eq!(rig.state.chat_scroll.from_bottom, 1);
    let _ = act(&mut rig, &mut panes, Action::PageUp);
    let page = rig.screen.page(&rig.state, crate::view::state::Pane::Chat);
    assert_eq!(rig.state.chat_scroll.from_bottom, 1 + page);
    let _ = act(&mut rig, &mut panes, Action::ScrollTop);
    let top = rig.state.chat_scroll.from_bottom;
    let _ = act(&mut rig, &mut panes, Action::ScrollUp);
    assert_eq!(rig.state.chat_scroll.from_bottom, top, "no further than the top");
    let _ = act(&mut rig, &mut panes, Action::ScrollBottom);
    assert_eq!(rig.state.chat_scroll.from_bottom, 0);
}

#[test]
fn unbound_keys_type_in_the_composer_and_elsewhere_say_so() {
    let mut rig = Rig::new();
    let mut panes = Panes::default();
    let key = |c| Key { code: KeyCode::Char(c), mods: Mods::default() };
    panes.unbound(&mut rig.cx(), &[key('h')]);
    panes.unbound(&mut rig.cx(), &[key('i')]);
    assert_eq!(rig.state.composer.text(), "hi");
    rig.state.focus = Focus::Metrics;
    panes.unbound(&mut rig.cx(), &[key('z')]);
    assert!(rig.flash().starts_with("z does nothing in the metrics"), "{}", rig.flash());
    panes.unbound(&mut rig.cx(), &[key('g'), key('x')]);
    assert_eq!(rig.flash(), "g x is not bound");
    assert_eq!(rig.state.composer.text(), "hi");
    panes.paste(&mut rig.cx(), " there");
    assert_eq!((rig.state.focus, rig.state.composer.text()), (Focus::Composer, "hi there".to_string()));
}

#[test]
fn other_controllers_actions_are_not_the_panes() {
    let mut rig = Rig::new();
    let mut panes = Panes::default();
    for action in [Action::Submit, Action::Retry, Action::AcceptHunk, Action::CyclePolicy, Action::Quit] {
        assert_eq!(act(&mut rig, &mut panes, action), Handled::No, "{action}");
    }
}

#[test]
fn code_blocks_are_found_fenced_indented_and_unfinished() {
    let text = "Run:\n\n```\ncargo test\n```\n\nor\n\n    make\n\nthen\n\n```rust\nfn main() {";
    assert_eq!(code_blocks(text), ["cargo test\n", "make\n", "fn main() {"]);
    assert!(code_blocks("no code here").is_empty());
}

/// Every action is the loop's own or some controller's.
#[test]
fn every_action_has_a_controller() {
    let loops = [Action::Quit, Action::Suspend, Action::Redraw, Action::Cancel, Action::Interrupt];
    for &action in Action::ALL {
        if loops.contains(&action) {
            continue;
        }
        let mut rig = Rig::new();
        let taken = Panes::default().on_action(&mut rig.cx(), action).yes()
            || crate::app::conversation::Conversation::default().on_action(&mut rig.cx(), action).yes()
            || crate::app::approve::ReviewDesk::default().on_action(&mut rig.cx(), action).yes();
        assert!(taken, "no controller takes {action}");
    }
}
