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

const MARKDOWN_ANSWER: &str = r#"
[[turns]]
usage = { input = 900, output = 120 }
text = """
## How the map is ranked

The index keeps every **symbol** and ranks files with *personalized* PageRank over the `reference graph`:

1. files in play get extra weight
2. identifiers you mention weigh more

> Ranking runs again only when a file changes.

```rust
fn rank(graph: &Graph) -> Vec<f64> {
    let mut r = vec![1.0; graph.len()];
    for _ in 0..20 {
        r = graph.step(&r);
    }
    r
}
```
"""
"#;

#[test]
fn chat_with_markdown_and_code_120x40() {
    let mut s = common::Session::with_script(MARKDOWN_ANSWER, 120, 40);
    s.keys("how is the map ranked?<Enter>");
    assert_screen!(s.screen());
}

#[test]
fn chat_with_markdown_and_code_80x24() {
    let mut s = common::Session::with_script(MARKDOWN_ANSWER, 80, 24);
    s.keys("how is the map ranked?<Enter>");
    assert_screen!(s.screen());
}
