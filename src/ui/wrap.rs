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
pub fn wrap_ranges(text: &str, width: usize) -> Vec<std::ops::Range<usize>> {
    let width = width.max(1);
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return wrap_ascii(text.as_bytes(), width);
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

/// The same rule for printable ASCII, where every byte is one column and
/// one grapheme: the common case, and the hot one while an answer streams.
fn wrap_ascii(text: &[u8], width: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut col = 0;
    let mut last_break: Option<(usize, usize)> = None;
    for (i, &b) in text.iter().enumerate() {
        if b == b' ' && col + 1 > width {
            out.push(start..i + 1);
            start = i + 1;
            col = 0;
            last_break = None;
            continue;
        }
        if col + 1 > width && col > 0 {
            match last_break {
                Some((brk, bcol)) if brk > start => {
                    out.push(start..brk);
                    start = brk;
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
        col += 1;
        if b == b' ' {
            last_break = Some((i + 1, col));
        }
    }
    if start < text.len() || out.is_empty() {
        out.push(start..text.len());
    }
    out
}

/// Wrap a multi-line text into display rows.
pub fn wrap(text: &str, width: usize) -> Vec<&str> {
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
    fn the_ascii_path_agrees_with_the_general_one() {
        let texts = [
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
                assert_eq!(wrap_ascii(t.as_bytes(), w), general, "{t:?} at {w}");
            }
        }
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
