//! Whole screens, as a user reads them, at the two sizes that matter.

mod common;

use common::{app, drive, screen};

#[test]
fn start_screen_120x40() {
    let mut app = app();
    let t = drive(&mut app, "", 120, 40);
    assert_screen!(screen(&t));
}

#[test]
fn start_screen_80x24() {
    let mut app = app();
    let t = drive(&mut app, "", 80, 24);
    assert_screen!(screen(&t));
}

#[test]
fn conversation_120x40() {
    let mut app = app();
    let t = drive(&mut app, "explain the index<Enter>and now<C-j>two lines", 120, 40);
    assert_screen!(screen(&t));
}

#[test]
fn help_overlay_120x40() {
    let mut app = app();
    let t = drive(&mut app, "<F1>", 120, 40);
    assert_screen!(screen(&t));
}

#[test]
fn help_overlay_80x24() {
    let mut app = app();
    let t = drive(&mut app, "<F1>", 80, 24);
    assert_screen!(screen(&t));
}

#[test]
fn narrow_terminal_shows_one_pane_with_tabs_80x24() {
    let mut app = app();
    let t = drive(&mut app, "<F3>", 80, 24);
    assert_screen!(screen(&t));
}

#[test]
fn zoomed_metrics_120x40() {
    let mut app = app();
    let t = drive(&mut app, "<F4><A-z>", 120, 40);
    assert_screen!(screen(&t));
}
