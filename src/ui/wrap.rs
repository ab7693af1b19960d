//! Word wrapping by display width.
//!
//! Written here rather than taken from `textwrap` because the chat needs
//! wrapping that keeps byte ranges of styled spans (see `chat`), and both
//! share this one greedy rule.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Split `text` (one logical line, no newlines) into pieces of at most
/// `width` columns, breaking after spaces where possible and inside words
/// only when a word is longer than a line. Returns byte ranges.
pub(crate) fn wrap_ranges(text: &str, width: usize) -> Vec<std::ops::Range<usize>> {
    let width = width.max(1);
    if simple(text) {
        return wrap_simple(text, width);
    }
    wrap_general(text, width)
}

fn wrap_general(text: &str, width: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut col = 0;
    // The byte offset just after the last space on this row, and the column there.
    let mut last_break: Option<(usize, usize)> = None;
    for (i, g) in text.grapheme_indices(true) {
        let w = g.width();
        // A space that does not fit ends the row and hangs past its edge,
        // as in terminals and editors, instead of pushing the last word down.
        if g == " " && col + w > width {
            out.push(start..i + 1);
            start = i + 1;
            col = 0;
            last_break = None;
            continue;
        }
        if col + w > width && col > 0 {
            match last_break {
                Some((b, bcol)) if b > start => {
                    out.push(start..b);
                    start = b;
                    col -= bcol;
                }
                _ => {
                    out.push(start..i);
                    start = i;
                    col = 0;
                }
            }
            last_break = None;
        }
        col += w;
        if g == " " {
            last_break = Some((i + g.len(), col));
        }
    }
    if start < text.len() || out.is_empty() {
        out.push(start..text.len());
    }
    out
}

/// Whether each char of `s` is one grapheme whose width does not depend on
/// its neighbours, so that widths can be summed char by char: true for
/// printable ASCII, Latin, punctuation, arrows, box drawing, symbols and
/// CJK ideographs; false for tabs and control characters, combining marks,
/// joiners, emoji sequences and Hangul jamo.
pub(crate) fn simple(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, ' '..='~' | '\u{a0}'..='\u{2ff}' | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205e}'
            | '\u{2100}'..='\u{2bff}' | '\u{4e00}'..='\u{9fff}' | '\u{ff01}'..='\u{ff60}')
    })
}

/// The same rule for [`simple`] text, char by char: most of an answer, and
/// the hot path while one streams (finding graphemes costs more than the
/// rest of rendering).
fn wrap_simple(text: &str, width: usize) -> Vec<std::ops::Range<usize>> {
    use unicode_width::UnicodeWidthChar;
    let mut out = Vec::new();
    let (mut start, mut col) = (0, 0);
    let mut last_break: Option<(usize, usize)> = None;
    for (i, c) in text.char_indices() {
        let w = c.width().unwrap_or(0);
        if c == ' ' && col + w > width {
            out.push(start..i + 1);
            (start, col, last_break) = (i + 1, 0, None);
            continue;
        }
        if col + w > width && col > 0 {
            match last_break {
                Some((at, at_col)) if at > start => {
                    out.push(start..at);
                    start = at;
                    col -= at_col;
                }
                _ => {
                    out.push(start..i);
                    (start, col) = (i, 0);
                }
            }
            last_break = None;
        }
        col += w;
        if c == ' ' {
            last_break = Some((i + 1, col));
        }
    }
    if start < text.len() || out.is_empty() {
        out.push(start..text.len());
    }
    out
}

/// Wrap a multi-line text into display rows.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<&str> {
    let mut rows = Vec::new();
    for line in text.split('\n') {
        for r in wrap_ranges(line, width) {
            rows.push(&line[r]);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_after_spaces() {
        assert_eq!(wrap("the quick brown fox", 10), ["the quick ", "brown fox"]);
    }

    #[test]
    fn a_space_at_the_edge_hangs() {
        assert_eq!(wrap("the quick brown", 9), ["the quick ", "brown"]);
    }

    #[test]
    fn long_words_are_cut() {
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wide_characters_count_two_columns() {
        assert_eq!(wrap("日本語テキスト", 6), ["日本語", "テキス", "ト"]);
    }

    #[test]
    fn empty_lines_are_kept() {
        assert_eq!(wrap("a\n\nb", 5), ["a", "", "b"]);
    }

    #[test]
    fn the_simple_path_agrees_with_the_general_one() {
        let texts = [
            "déjà vu à la carte — «quoted» text",
            "日本語 漢字文字 English mixed",
            "the quick brown fox jumps over the lazy dog",
            "a  b   c    d",
            "   leading spaces and trailing   ",
            "averyveryverylongwordthatneverends and more",
            "",
            "x",
        ];
        for t in texts {
            for w in 1..20 {
                let general = wrap_general(t, w);
                assert!(simple(t), "{t:?}");
                assert_eq!(wrap_simple(t, w), general, "{t:?} at {w}");
            }
        }
    }

    #[test]
    fn the_simple_path_agrees_on_random_text() {
        let pool = ["a", "bc", " ", "  ", "—", "’", "é", "日本", "─", "•", "\u{ad}", "…", "xyz", "Ω", "→"];
        let mut seed = 7u64;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(pool[(seed >> 33) as usize % pool.len()]);
            }
            assert!(simple(&text), "{text:?}");
            for width in 1..12 {
                assert_eq!(wrap_simple(&text, width), wrap_general(&text, width), "{text:?} at {width}");
            }
        }
        assert!(!simple("e\u{301}") && !simple("a\tb") && !simple("👍🏽") && !simple("\u{1100}\u{1161}"));
    }

    #[test]
    fn every_row_fits() {
        let text = "lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod tempor";
        for w in 1..30 {
            for row in wrap(text, w) {
                assert!(row.trim_end_matches(' ').width() <= w, "{row:?} wider than {w}");
            }
            assert_eq!(wrap(text, w).concat(), text);
        }
    }
}
