use std::time::{Duration, Instant};

use ratatui::style::Modifier;

use super::*;
use crate::ui::style::style;

fn theme(depth: ColorDepth) -> Theme {
    Theme::load("default", &[], depth).0
}

fn plain(lines: &[Line]) -> Vec<String> {
    lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>().trim_end().to_owned()).collect()
}

fn md(text: &str, width: u16) -> Vec<String> {
    plain(&render(text, width, &theme(ColorDepth::TrueColor)))
}

/// The span whose text is exactly `text`.
fn span<'a>(lines: &'a [Line<'static>], text: &str) -> &'a Span<'static> {
    let found = lines.iter().flat_map(|l| &l.spans).find(|s| s.content == text);
    found.unwrap_or_else(|| panic!("no span {text:?} in {lines:?}"))
}

fn assert_fits(lines: &[Line], width: u16) {
    for l in lines {
        assert!(l.width() <= width as usize, "wider than {width}: {l:?}");
    }
}

const ANSWER: &str = "# Fixing the parser\n\nThe `parse` function fails on **empty input** because it calls \
`unwrap()` on the first token; see [the nom docs](https://docs.rs/nom) for the error type.\n\n\
- Check the input first:\n  - return `Ok(None)` when it is empty\n  - otherwise parse as before\n\
- Add a test for the *empty* case\n\n> Note: the old behaviour was never documented, so nobody relies on it.\n\n\
```rust\nfn parse(input: &str) -> Result<Option<Ast>, Error> {\n    if input.trim().is_empty() {\n        \
return Ok(None);\n    }\n    let tokens = lex(input)?; // the lexer already reports positions\n    \
Ok(Some(build(&tokens)?))\n}\n```\n\n| Input | Before | After |\n|---|---|---|\n| `\"\"` | panic | `Ok(None)` |\n\
| `\"1+2\"` | `Ok(Some(..))` | unchanged |\n";

#[test]
fn headings_drop_markers_and_are_styled() {
    let t = theme(ColorDepth::TrueColor);
    let lines = render("## Plan *now*\nThen this.", 40, &t);
    assert_eq!(plain(&lines), ["Plan now", "", "Then this."]);
    let heading = style(&t, "chat.assistant").patch(style(&t, "markup.heading"));
    assert_eq!(span(&lines, "Plan ").style, heading);
    assert!(heading.add_modifier.contains(Modifier::BOLD));
    assert!(span(&lines, "now").style.add_modifier.contains(Modifier::ITALIC));
}

#[test]
fn emphasis_code_and_strikethrough_have_their_styles() {
    let t = theme(ColorDepth::TrueColor);
    let lines = render("a **bold** b *it* c `code` d ~~gone~~", 80, &t);
    assert_eq!(plain(&lines), ["a bold b it c code d gone"]);
    assert!(span(&lines, "bold").style.add_modifier.contains(Modifier::BOLD));
    assert!(!span(&lines, "a ").style.add_modifier.contains(Modifier::BOLD));
    assert!(span(&lines, "it").style.add_modifier.contains(Modifier::ITALIC));
    assert!(span(&lines, "gone").style.add_modifier.contains(Modifier::CROSSED_OUT));
    let code = style(&t, "markup.code");
    assert_eq!((span(&lines, "code").style.fg, span(&lines, "code").style.bg), (code.fg, code.bg));
}

#[test]
fn links_show_their_url_when_it_differs() {
    let t = theme(ColorDepth::TrueColor);
    let lines = render("[docs](https://d.rs) and <https://x.org> and <me@x.org>", 80, &t);
    assert_eq!(plain(&lines), ["docs (https://d.rs) and https://x.org and me@x.org"]);
    assert_eq!(span(&lines, "docs").style, style(&t, "chat.assistant").patch(style(&t, "markup.link")));
    assert_eq!(span(&lines, " (https://d.rs)").style, style(&t, "ui.text.dim"));
}

#[test]
fn paragraphs_wrap_with_their_styles_and_breaks() {
    let t = theme(ColorDepth::TrueColor);
    let lines = render("one two **three four** five\nsix seven  \neight", 12, &t);
    assert_eq!(plain(&lines), ["one two", "three four", "five six", "seven", "eight"]);
    assert!(span(&lines, "three four").style.add_modifier.contains(Modifier::BOLD));
    assert_fits(&lines, 12);
    assert_eq!(md("abcdefghij", 4), ["abcd", "efgh", "ij"]);
}

#[test]
fn blank_lines_separate_blocks_only() {
    assert_eq!(md("\n\n# A\n\n\n\ntext\n\n---\n\n", 5), ["A", "", "text", "", "─────"]);
    assert_eq!(md("", 10), Vec::<String>::new());
    assert!(render("anything", 0, &theme(ColorDepth::TrueColor)).is_empty());
}

#[test]
fn lists_nest_and_align_continuation_lines() {
    let text = "- alpha beta gamma\n  - one two three\n    1. x\n    2. y\n- [x] done\n- [ ] todo\n\n3. three\n4. four";
    assert_eq!(
        md(text, 14),
        [
            "• alpha beta",
            "  gamma",
            "  ◦ one two",
            "    three",
            "    1. x",
            "    2. y",
            "• [x] done",
            "• [ ] todo",
            "",
            "3. three",
            "4. four",
        ]
    );
    assert_eq!(md("- a\n\n- b\n", 10), ["• a", "", "• b"]);
    assert_eq!(md("Intro:\n- a\n\nAfter.", 10), ["Intro:", "", "• a", "", "After."]);
}

#[test]
fn quotes_nest_and_keep_their_bars_when_wrapped() {
    let text = "> quoted words here\n>\n> > inner\n>\n> back\n\nout";
    assert_eq!(md(text, 12), ["│ quoted", "│ words here", "│", "│ │ inner", "│", "│ back", "", "out"]);
    assert_eq!(md("- item\n  > said\n  > more", 20), ["• item", "  │ said more"]);
}

#[test]
fn code_blocks_are_indented_cut_and_not_wrapped() {
    let text = "```\nshort\n\tlong line that does not fit\n```\n\n    indented code";
    assert_eq!(md(text, 16), ["  short", "      long line…", "", "  indented code"]);
    let lines = render(text, 16, &theme(ColorDepth::TrueColor));
    assert_fits(&lines, 16);
    // Padded to the edge, so that the block's background is a rectangle.
    assert_eq!(lines[0].width(), 16);
}

#[test]
fn an_unclosed_fence_shows_the_code_so_far() {
    assert_eq!(md("Intro\n\n```rust\nfn main() {\n    let x", 30), ["Intro", "", "  fn main() {", "      let x"]);
    assert_eq!(md("Intro\n\n```rust", 30), ["Intro"]);
    assert_eq!(md("Intro\n\n``", 30), ["Intro", "", "``"]);
}

#[test]
fn tables_align_cells_and_are_cut_to_the_width() {
    let text = "| a | long head | n |\n|---|:---:|--:|\n| xy | `c` | 10 |\n| z | | 7 |";
    assert_eq!(
        md(text, 40),
        ["a  │ long head │  n", "───┼───────────┼───", "xy │     c     │ 10", "z  │           │  7"]
    );
    assert_eq!(md(text, 10), ["a  │ long…", "───┼─────…", "xy │     …", "z  │     …"]);
}

#[test]
fn code_is_highlighted_only_on_true_colour_terminals() {
    highlight::warm_up();
    let text = "```rust\nfn main() { let s = \"x\"; }\n```";
    let true_colour = render(text, 40, &theme(ColorDepth::TrueColor));
    let fgs: std::collections::HashSet<_> = true_colour[0].spans.iter().map(|s| s.style.fg).collect();
    assert!(fgs.len() > 2, "{true_colour:?}");
    let t = theme(ColorDepth::Ansi256);
    let lines = render(text, 40, &t);
    let block = style(&t, "markup.code.block");
    assert!(lines[0].spans[1..].iter().all(|s| s.style == block), "{lines:?}");
}

#[test]
fn every_line_fits_at_every_width() {
    let t = theme(ColorDepth::TrueColor);
    let deep = "> - > 1. - deeply nested text that wraps\n>   > ```\n>   > code\n\n日本語のテキスト ✓ — “quoted”";
    for width in 1..=80 {
        assert_fits(&render(ANSWER, width, &t), width);
        assert_fits(&render(deep, width, &t), width);
    }
}

#[test]
fn huge_input_is_cut_quickly() {
    let t = theme(ColorDepth::TrueColor);
    let inputs = [
        "word ".repeat(200_000),
        "x".repeat(1 << 20),
        format!("```rust\n{}\n```", "a".repeat(1 << 20)),
        format!("```\n{}```", "line\n".repeat(200_000)),
        "- item\n".repeat(60_000),
    ];
    for input in &inputs {
        let start = Instant::now();
        let lines = render(input, 80, &t);
        assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
        assert!(plain(&lines).iter().any(|l| l.contains('…')), "no cut marker");
        assert_fits(&lines, 80);
    }
}

#[test]
fn no_prefix_of_a_tricky_document_panics() {
    let t = theme(ColorDepth::TrueColor);
    let tricky = format!(
        "{ANSWER}\n> 1. *a **b `c` d** e*\n>    ```py\n>    x\t= '日本語テキスト'\n\n- [ ] <b>html</b>\n\n\
         <div>\nblock\n</div>\n\n[ref]: https://r \"t\"\n\n![img](u.png) [ref] \u{1b}[31mred\r\n| a |\n|---|\n| é́ |"
    );
    for (end, _) in tricky.char_indices() {
        for width in [1, 7, 33] {
            assert_fits(&render(&tricky[..end], width, &t), width);
        }
    }
}

#[test]
fn the_cache_matches_a_fresh_render_while_streaming() {
    highlight::warm_up();
    let t = theme(ColorDepth::TrueColor);
    // Lines that change what the lines before them are, as they arrive.
    let turns = "see [the docs][d]\n\npara\n#\n#x\n# heading\ntext\n===\n- a\n- b\n\n- c\n  more\n\n   lazy\n> quote\nlazy\n\
                 > > deeper\n| h1 | h2 |\n|----|----|\n| 1 | 2 |\n    lazy too\n\n    code\n\n    more\n\
                 <div>\nhtml\n</div>\nafter\n\n***\n1) one\n2) two\n\n[d]: https://d.rs\n```\nopen";
    for text in [ANSWER, turns] {
        let mut cache = MarkdownCache::default();
        for (end, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let fresh = render(&text[..end], 40, &t);
            assert_eq!(cache.render(&text[..end], 40, &t), fresh.as_slice(), "{:?}", &text[..end]);
        }
        let lines = cache.render(text, 40, &t).len();
        assert_eq!(cache.unchanged(), lines);
        // A shorter text, or another width, renders afresh.
        assert_eq!(cache.render("# x", 40, &t), render("# x", 40, &t).as_slice());
        assert_eq!(cache.unchanged(), 0);
        assert_eq!(cache.render(text, 30, &t), render(text, 30, &t).as_slice());
    }
}

#[test]
fn snapshots_of_a_representative_answer() {
    highlight::warm_up();
    let t = theme(ColorDepth::TrueColor);
    for width in [58, 76] {
        let text = plain(&render(ANSWER, width, &t)).join("\n");
        insta::assert_snapshot!(format!("answer_{width}"), text);
    }
}

/// `cargo test --release -- --ignored --nocapture`: the cost of
/// re-rendering a streaming 9 KB answer after each token.
#[test]
#[ignore]
fn streaming_render_cost() {
    highlight::warm_up();
    let t = theme(ColorDepth::TrueColor);
    let mut text = String::new();
    while text.len() < 9 * 1024 {
        text.push_str(ANSWER.split_once("\n\n").map_or("", |p| p.1));
        text.push_str("\n\n");
    }
    // About four bytes a token.
    let ends: Vec<usize> = (1..=text.len()).filter(|&e| text.is_char_boundary(e)).step_by(4).collect();
    let mut cache = MarkdownCache::default();
    let mut times = Vec::new();
    let mut unchanged = 0;
    for &end in &ends {
        let start = Instant::now();
        std::hint::black_box(cache.render(&text[..end], 76, &t));
        times.push(start.elapsed());
        unchanged += cache.unchanged();
    }
    let lines = cache.render(&text, 76, &t).len();
    let start = Instant::now();
    for _ in 0..100 {
        std::hint::black_box(cache.render(&text, 76, &t).to_vec());
    }
    let clone = start.elapsed() / 100;
    let average = times.iter().sum::<Duration>() / times.len() as u32;
    let tail = &times[times.len() * 9 / 10..];
    let tail_average = tail.iter().sum::<Duration>() / tail.len() as u32;
    times.sort();
    let p99 = times[times.len() * 99 / 100];
    // A width change renders everything again, with highlighting cached.
    let start = Instant::now();
    for i in 0..100 {
        std::hint::black_box(cache.render(&text, 75 + i % 2, &t));
    }
    let full = start.elapsed() / 100;
    println!(
        "{} bytes streamed in {} calls: {average:?} a call on average, {tail_average:?} over the last tenth, \
         p99 {p99:?}; a full re-render {full:?}; cloning all {lines} lines {clone:?}, {} unchanged a call \
         on average",
        text.len(),
        ends.len(),
        unchanged / ends.len()
    );
}
