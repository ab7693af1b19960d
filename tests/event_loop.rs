//! Key handling through the real event loop, driven by key scripts.

mod common;

use common::{app, app_with, drive, drive_on, screen};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tandem::app::Exit;
use tandem::view::state::{Focus, Role};

#[test]
fn typing_newline_and_submit() {
    let mut app = app();
    let t = drive(&mut app, "hello<C-j>world<Enter>", 120, 40);
    let sent = app.state.transcript.iter().find(|m| m.role == Role::User).expect("the message");
    assert_eq!(sent.text, "hello\nworld");
    // No model is attached in this test, and the chat says so.
    assert_eq!(app.state.transcript.last().map(|m| m.role), Some(Role::Error));
    assert!(app.state.composer.is_empty());
    let s = screen(&t);
    assert!(s.contains("hello") && s.contains("world"), "{s}");
}

#[test]
fn history_recall_brings_back_sent_messages() {
    let mut app = app();
    drive(&mut app, "first<Enter>second<Enter><Up><Up>", 120, 40);
    assert_eq!(app.state.composer.text(), "first");
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    drive_on(&mut app, &mut t, "<Down><Down>");
    assert_eq!(app.state.composer.text(), "");
}

#[test]
fn focus_cycles_and_is_marked() {
    let mut app = app();
    assert_eq!(app.state.focus, Focus::Composer);
    drive(&mut app, "<Tab>", 120, 40);
    assert_eq!(app.state.focus, Focus::Chat);
    drive(&mut app, "<Tab><Tab>", 120, 40);
    assert_eq!(app.state.focus, Focus::Metrics);
    drive(&mut app, "<S-Tab>", 120, 40);
    assert_eq!(app.state.focus, Focus::Diff);
    drive(&mut app, "<Tab><Tab>", 120, 40);
    assert_eq!(app.state.focus, Focus::Composer);
}

#[test]
fn help_opens_and_closes_and_swallows_other_keys() {
    let mut app = app();
    let t = drive(&mut app, "<F1>", 120, 40);
    assert!(screen(&t).contains("Keys (default keymap)"));
    let t = drive(&mut app, "abc", 120, 40);
    assert!(app.state.composer.is_empty(), "typing went through the overlay");
    assert!(screen(&t).contains("Keys (default keymap)"));
    let t = drive(&mut app, "<Esc>", 120, 40);
    assert!(!screen(&t).contains("Keys (default keymap)"));
}

#[test]
fn quit_key_ends_the_loop() {
    let mut app = app();
    let mut t = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    assert_eq!(drive_on(&mut app, &mut t, "<C-q>never typed"), Exit::Quit);
    assert!(app.state.composer.is_empty());
}

#[test]
fn interrupt_clears_then_warns_then_quits() {
    let mut app = app();
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    assert_eq!(drive_on(&mut app, &mut t, "draft<Esc>"), Exit::InputClosed);
    assert_eq!(app.state.composer.text(), "draft", "Esc must not throw a draft away");
    assert_eq!(drive_on(&mut app, &mut t, "<C-c>"), Exit::InputClosed);
    assert!(app.state.composer.is_empty());
    assert_eq!(drive_on(&mut app, &mut t, "<Up>"), Exit::InputClosed);
    assert_eq!(app.state.composer.text(), "draft", "a cleared draft comes back from history");
    assert_eq!(drive_on(&mut app, &mut t, "<C-c>"), Exit::InputClosed);
    assert_eq!(drive_on(&mut app, &mut t, "<C-c>"), Exit::InputClosed);
    assert!(screen(&t).contains("Nothing to cancel"), "{}", screen(&t));
    assert_eq!(drive_on(&mut app, &mut t, "<C-c>"), Exit::Quit);
}

#[test]
fn chords_wait_for_their_second_key() {
    let mut app = app();
    // Scroll up in a long transcript, then `g g` goes to the top and `G` back down.
    let mut script = String::new();
    for i in 0..60 {
        script.push_str(&format!("message {i}<Enter>"));
    }
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    drive_on(&mut app, &mut t, &script);
    drive_on(&mut app, &mut t, "<F2>g");
    assert_eq!(app.state.pending.len(), 1, "first key of the chord is pending");
    assert!(screen(&t).contains("g …"), "pending chord shown: {}", screen(&t));
    drive_on(&mut app, &mut t, "g");
    assert!(app.state.pending.is_empty());
    assert!(app.state.chat_scroll.from_bottom > 0);
    assert!(screen(&t).contains("message 0"), "{}", screen(&t));
    drive_on(&mut app, &mut t, "G");
    assert_eq!(app.state.chat_scroll.from_bottom, 0);
    assert!(screen(&t).contains("message 59"));
}

#[test]
fn paging_scrolls_the_chat_while_typing() {
    let mut app = app();
    let mut script = String::new();
    for i in 0..60 {
        script.push_str(&format!("line {i}<Enter>"));
    }
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    drive_on(&mut app, &mut t, &script);
    drive_on(&mut app, &mut t, "<PageUp>");
    assert!(app.state.chat_scroll.from_bottom > 20);
    assert_eq!(app.state.focus, Focus::Composer);
    drive_on(&mut app, &mut t, "<PageDown><PageDown>");
    assert_eq!(app.state.chat_scroll.from_bottom, 0);
}

#[test]
fn large_paste_lands_in_the_composer_whole() {
    let mut app = app();
    let text: String = (0..20_000).map(|i| format!("pasted line {i}\n")).collect();
    app.handle_event(crossterm::event::Event::Paste(text.clone()));
    let t = drive(&mut app, "", 120, 40);
    assert_eq!(app.state.composer.text(), text);
    let s = screen(&t);
    // The composer shows the end of the paste, where the cursor is.
    assert!(s.contains("pasted line 19999"), "{s}");
}

#[test]
fn zoom_toggles() {
    let mut app = app();
    let t = drive(&mut app, "<F3><A-z>", 120, 40);
    assert!(app.state.zoomed);
    let s = screen(&t);
    assert!(s.contains("Diff approval (zoomed)") && !s.contains("Metrics"), "{s}");
    drive(&mut app, "<A-z>", 120, 40);
    assert!(!app.state.zoomed);
}

#[test]
fn unbound_key_in_a_pane_says_how_to_find_keys() {
    let mut app = app();
    let t = drive(&mut app, "<F3>x", 120, 40);
    assert!(screen(&t).contains("x does nothing in the diff"), "{}", screen(&t));
}

#[test]
fn vim_and_emacs_keymaps_drive_the_same_actions() {
    let mut app = app_with("emacs");
    let mut t = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
    assert_eq!(drive_on(&mut app, &mut t, "<C-x><C-c>"), Exit::Quit);
    let mut app = app_with("vim");
    drive(&mut app, "abc<C-h>", 80, 24);
    assert_eq!(app.state.composer.text(), "ab");
}

#[test]
fn tiny_and_odd_terminal_sizes_do_not_break_the_layout() {
    for (w, h) in [(1, 1), (2, 2), (10, 3), (20, 5), (99, 10), (100, 10), (300, 8), (40, 100)] {
        let mut app = app();
        let script = "some text<C-j>more<F1><Esc><Tab><Tab><A-z><F3><F4><A-z>";
        let t = drive(&mut app, script, w, h);
        assert_eq!(screen(&t).lines().count(), h as usize, "{w}x{h}");
    }
}
