//! The text of a block as it is collected, before it is wrapped: one
//! string and the style of each stretch of it.

use ratatui::style::Style;

use super::MAX_TEXT_BYTES;

/// The text of a paragraph, heading or table cell before wrapping, with
/// the style of each byte range: runs start at their byte offset and last
/// until the next run.
#[derive(Default)]
pub(super) struct Inline {
    pub(super) text: String,
    runs: Vec<(usize, Style)>,
    /// Bytes dropped past [`MAX_TEXT_BYTES`].
    pub(super) skipped: usize,
}

impl Inline {
    pub(super) fn push(&mut self, s: &str, style: Style) {
        let room = MAX_TEXT_BYTES.saturating_sub(self.text.len());
        let s = if s.len() > room {
            let cut = s.floor_char_boundary(room);
            self.skipped += s.len() - cut;
            &s[..cut]
        } else {
            s
        };
        self.push_unbounded(s, style);
    }

    pub(super) fn push_unbounded(&mut self, s: &str, style: Style) {
        if s.is_empty() {
            return;
        }
        if self.runs.last().map(|r| r.1) != Some(style) {
            self.runs.push((self.text.len(), style));
        }
        // The terminal would not show control characters anyway (ratatui
        // drops them); removing them here keeps widths honest.
        if s.contains(|c: char| c.is_control() && c != '\n') {
            let clean = s.chars().filter_map(|c| match c {
                '\t' => Some(' '),
                '\n' => Some('\n'),
                c if c.is_control() => None,
                c => Some(c),
            });
            self.text.extend(clean);
        } else {
            self.text.push_str(s);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.text.is_empty() && self.skipped == 0
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.runs.clear();
        self.skipped = 0;
    }

    /// The styled pieces of `range`, which must be on char boundaries.
    pub(super) fn pieces(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = (&str, Style)> {
        let first = self.runs.partition_point(|r| r.0 <= range.start).saturating_sub(1);
        self.runs[first..].iter().enumerate().map_while(move |(i, &(start, style))| {
            let end = self.runs.get(first + i + 1).map_or(self.text.len(), |r| r.0).min(range.end);
            let start = start.max(range.start);
            (start < range.end).then(|| (&self.text[start..end.max(start)], style))
        })
    }
}
