//! Fitting text into columns without wrapping it: code lines and table rows
//! are cut with "…", tabs expand to their stops, control characters go.

use std::borrow::Cow;

use ratatui::style::Style;
use ratatui::text::Span;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::TAB;
use crate::ui::wrap::simple;

/// Spaces without an allocation for the usual widths.
pub(super) fn spaces(n: usize) -> Cow<'static, str> {
    const SPACES: &str = "                                                                ";
    match SPACES.get(..n) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(" ".repeat(n)),
    }
}

/// Append as much of `text` as fits before column `limit` to `spans`,
/// expanding tabs and dropping control characters; `col` is where it
/// starts and is moved past it. Returns whether all of it fitted. With no
/// `spans` it only measures.
fn put(text: &str, style: Style, col: &mut usize, limit: usize, spans: Option<&mut Vec<Span<'static>>>) -> bool {
    if simple(text) {
        let mut cut = text.len();
        for (i, c) in text.char_indices() {
            let w = c.width().unwrap_or(0);
            if *col + w > limit {
                cut = i;
                break;
            }
            *col += w;
        }
        if let Some(spans) = spans.filter(|_| cut > 0) {
            spans.push(Span::styled(text[..cut].to_owned(), style));
        }
        return cut == text.len();
    }
    let mut out = String::new();
    let mut complete = true;
    for g in text.graphemes(true) {
        let w = match g {
            "\t" => TAB - *col % TAB,
            g if g.contains(char::is_control) => continue,
            g => g.width(),
        };
        if *col + w > limit {
            complete = false;
            break;
        }
        *col += w;
        if spans.is_some() {
            match g {
                "\t" => out.push_str(&spaces(w)),
                g => out.push_str(g),
            }
        }
    }
    if let Some(spans) = spans.filter(|_| !out.is_empty()) {
        spans.push(Span::styled(out, style));
    }
    complete
}

/// Append `pieces` to `spans`, cut with "…" (in `marker`) if wider than
/// `room` columns. Returns the columns used.
pub(super) fn fit(pieces: &[(&str, Style)], room: usize, marker: Style, spans: &mut Vec<Span<'static>>) -> usize {
    let mut col = 0;
    let fits = pieces.iter().all(|&(text, style)| put(text, style, &mut col, room, None));
    let limit = if fits { room } else { room.saturating_sub(1) };
    col = 0;
    for &(text, style) in pieces {
        if !put(text, style, &mut col, limit, Some(spans)) {
            break;
        }
    }
    if !fits && room > 0 {
        spans.push(Span::styled("…", marker));
        col += 1;
    }
    col
}
