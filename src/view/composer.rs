//! The message being written: a multi-line buffer with a cursor, word motions
//! and history recall. Pure state; the composer widget in `ui` draws it.

use unicode_segmentation::UnicodeSegmentation;

#[derive(Debug, Clone)]
pub struct Composer {
    lines: Vec<String>,
    /// Cursor line, and byte offset in that line (always on a grapheme boundary).
    row: usize,
    col: usize,
    history: Vec<String>,
    /// Position while recalling history; `None` when editing a fresh message.
    recall: Option<usize>,
    /// The unsent text put aside when history recall started.
    draft: Option<String>,
    history_limit: usize,
}

impl Default for Composer {
    fn default() -> Self {
        Self::new(500)
    }
}

fn prev_boundary(s: &str, at: usize) -> usize {
    s[..at].grapheme_indices(true).next_back().map_or(0, |(i, _)| i)
}

fn next_boundary(s: &str, at: usize) -> usize {
    s[at..].graphemes(true).next().map_or(at, |g| at + g.len())
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Composer {
    pub fn new(history_limit: usize) -> Self {
        Self {
            lines: vec![String::new()],
            row: 0,
            col: 0,
            history: Vec::new(),
            recall: None,
            draft: None,
            history_limit,
        }
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    pub fn is_empty(&self) -> bool {
        self.lines.len() == 1 && self.lines[0].is_empty()
    }

    /// Cursor as (line, byte offset in line).
    pub(crate) fn cursor(&self) -> (usize, usize) {
        (self.row, self.col)
    }

    pub(crate) fn set_text(&mut self, text: &str) {
        self.lines = text.split('\n').map(str::to_string).collect();
        self.row = self.lines.len() - 1;
        self.col = self.lines[self.row].len();
    }

    pub(crate) fn clear(&mut self) {
        self.lines = vec![String::new()];
        self.row = 0;
        self.col = 0;
        self.recall = None;
        self.draft = None;
    }

    /// Insert text at the cursor; newlines split lines. Pastes arrive here in
    /// one call, so a large paste costs one pass over its text.
    pub fn insert_str(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let tail = self.lines[self.row].split_off(self.col);
        let mut parts = text.split('\n');
        if let Some(first) = parts.next() {
            self.lines[self.row].push_str(first);
        }
        let mut inserted = Vec::new();
        for part in parts {
            inserted.push(part.to_string());
        }
        if inserted.is_empty() {
            self.col = self.lines[self.row].len();
            self.lines[self.row].push_str(&tail);
        } else {
            let n = inserted.len();
            let at = self.row + 1;
            self.lines.splice(at..at, inserted);
            self.row += n;
            self.col = self.lines[self.row].len();
            self.lines[self.row].push_str(&tail);
        }
    }

    pub(crate) fn insert_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.insert_str(c.encode_utf8(&mut buf));
    }

    pub(crate) fn insert_newline(&mut self) {
        self.insert_str("\n");
    }

    pub(crate) fn left(&mut self) {
        if self.col > 0 {
            self.col = prev_boundary(&self.lines[self.row], self.col);
        } else if self.row > 0 {
            self.row -= 1;
            self.col = self.lines[self.row].len();
        }
    }

    pub(crate) fn right(&mut self) {
        if self.col < self.lines[self.row].len() {
            self.col = next_boundary(&self.lines[self.row], self.col);
        } else if self.row + 1 < self.lines.len() {
            self.row += 1;
            self.col = 0;
        }
    }

    pub(crate) fn line_start(&mut self) {
        self.col = 0;
    }

    pub(crate) fn line_end(&mut self) {
        self.col = self.lines[self.row].len();
    }

    pub(crate) fn word_left(&mut self) {
        if self.col == 0 {
            self.left();
            return;
        }
        let line = &self.lines[self.row];
        let before: Vec<(usize, char)> = line[..self.col].char_indices().collect();
        let mut i = before.len();
        while i > 0 && !is_word_char(before[i - 1].1) {
            i -= 1;
        }
        while i > 0 && is_word_char(before[i - 1].1) {
            i -= 1;
        }
        self.col = before.get(i).map_or(0, |&(b, _)| b);
    }

    pub(crate) fn word_right(&mut self) {
        let line = &self.lines[self.row];
        if self.col >= line.len() {
            self.right();
            return;
        }
        let mut it = line[self.col..].char_indices().peekable();
        while it.peek().is_some_and(|&(_, c)| !is_word_char(c)) {
            it.next();
        }
        while it.peek().is_some_and(|&(_, c)| is_word_char(c)) {
            it.next();
        }
        self.col = it.peek().map_or(line.len(), |&(i, _)| self.col + i);
    }

    pub(crate) fn delete_back(&mut self) {
        if self.col > 0 {
            let start = prev_boundary(&self.lines[self.row], self.col);
            self.lines[self.row].replace_range(start..self.col, "");
            self.col = start;
        } else if self.row > 0 {
            let line = self.lines.remove(self.row);
            self.row -= 1;
            self.col = self.lines[self.row].len();
            self.lines[self.row].push_str(&line);
        }
    }

    pub(crate) fn delete_forward(&mut self) {
        if self.col < self.lines[self.row].len() {
            let end = next_boundary(&self.lines[self.row], self.col);
            self.lines[self.row].replace_range(self.col..end, "");
        } else if self.row + 1 < self.lines.len() {
            let next = self.lines.remove(self.row + 1);
            self.lines[self.row].push_str(&next);
        }
    }

    pub(crate) fn delete_word_back(&mut self) {
        let end = (self.row, self.col);
        self.word_left();
        if (self.row, self.col) == end {
            return;
        }
        if self.row == end.0 {
            self.lines[self.row].replace_range(self.col..end.1, "");
        } else {
            // Crossed a line break: join the lines.
            let line = self.lines.remove(end.0);
            self.lines[self.row].push_str(&line[end.1..]);
        }
    }

    pub(crate) fn delete_to_line_start(&mut self) {
        self.lines[self.row].replace_range(..self.col, "");
        self.col = 0;
    }

    pub(crate) fn delete_to_line_end(&mut self) {
        if self.col == self.lines[self.row].len() {
            self.delete_forward();
        } else {
            self.lines[self.row].truncate(self.col);
        }
    }

    fn move_vertically(&mut self, down: bool) {
        let target = if down { self.row + 1 } else { self.row - 1 };
        // Keep the display column, not the byte offset.
        let width = unicode_width::UnicodeWidthStr::width(&self.lines[self.row][..self.col]);
        self.row = target;
        let line = &self.lines[self.row];
        let mut col = 0;
        let mut w = 0;
        for g in line.graphemes(true) {
            let gw = unicode_width::UnicodeWidthStr::width(g);
            if w + gw > width {
                break;
            }
            w += gw;
            col += g.len();
        }
        self.col = col;
    }

    /// Up: a line up, or on the first line the previous history entry.
    pub(crate) fn up_or_history(&mut self) {
        if self.row > 0 {
            self.move_vertically(false);
            return;
        }
        let next = match self.recall {
            None if !self.history.is_empty() => self.history.len() - 1,
            Some(i) if i > 0 => i - 1,
            _ => return,
        };
        if self.recall.is_none() {
            self.draft = Some(self.text());
        }
        self.recall = Some(next);
        let text = self.history[next].clone();
        self.set_text(&text);
    }

    /// Down: a line down, or on the last line the next history entry (and
    /// finally the draft that was being written).
    pub(crate) fn down_or_history(&mut self) {
        if self.row + 1 < self.lines.len() {
            self.move_vertically(true);
            return;
        }
        let Some(i) = self.recall else { return };
        if i + 1 < self.history.len() {
            self.recall = Some(i + 1);
            let text = self.history[i + 1].clone();
            self.set_text(&text);
        } else {
            self.recall = None;
            let draft = self.draft.take().unwrap_or_default();
            self.set_text(&draft);
        }
    }

    pub(crate) fn set_history(&mut self, entries: Vec<String>) {
        self.history = entries;
        self.trim_history();
    }

    pub fn history(&self) -> &[String] {
        &self.history
    }

    fn trim_history(&mut self) {
        if self.history.len() > self.history_limit {
            let excess = self.history.len() - self.history_limit;
            self.history.drain(..excess);
        }
    }

    fn remember(&mut self, text: &str) {
        if !text.trim().is_empty() && self.history.last().map(String::as_str) != Some(text) {
            self.history.push(text.to_string());
            self.trim_history();
        }
    }

    /// Put the text aside in history without sending it, and clear.
    pub(crate) fn stash(&mut self) {
        let text = self.text();
        self.remember(&text);
        self.clear();
    }

    /// Take the text for sending: it is remembered in history and the
    /// composer is cleared. `None` when there is nothing to send.
    pub fn take(&mut self) -> Option<String> {
        let text = self.text();
        if text.trim().is_empty() {
            return None;
        }
        self.remember(&text);
        self.clear();
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> Composer {
        let mut c = Composer::new(10);
        c.insert_str(s);
        c
    }

    #[test]
    fn insert_and_newlines() {
        let mut c = typed("hello");
        c.insert_newline();
        c.insert_str("world");
        assert_eq!(c.text(), "hello\nworld");
        assert_eq!(c.cursor(), (1, 5));
        c.line_start();
        c.delete_back();
        assert_eq!(c.text(), "helloworld");
        assert_eq!(c.cursor(), (0, 5));
    }

    #[test]
    fn paste_in_the_middle_keeps_the_tail() {
        let mut c = typed("ad");
        c.left();
        c.insert_str("b\r\nc");
        assert_eq!(c.text(), "ab\ncd");
        assert_eq!(c.cursor(), (1, 1));
    }

    #[test]
    fn graphemes_are_deleted_whole() {
        let mut c = typed("e\u{301}x");
        c.left();
        c.delete_back();
        assert_eq!(c.text(), "x");
    }

    #[test]
    fn word_motions_and_deletes() {
        let mut c = typed("fn foo_bar(x)");
        c.word_left();
        assert_eq!(c.cursor().1, "fn foo_bar(".len());
        c.word_left();
        assert_eq!(c.cursor().1, 3);
        c.word_right();
        assert_eq!(c.cursor().1, "fn foo_bar".len());
        c.line_end();
        c.delete_word_back();
        assert_eq!(c.text(), "fn foo_bar(");
        c.delete_to_line_start();
        assert_eq!(c.text(), "");
    }

    #[test]
    fn kill_to_end_joins_at_line_end() {
        let mut c = typed("ab\ncd");
        c.up_or_history();
        c.line_start();
        c.right();
        c.delete_to_line_end();
        assert_eq!(c.text(), "a\ncd");
        c.delete_to_line_end();
        assert_eq!(c.text(), "acd");
    }

    #[test]
    fn history_recall_restores_the_draft() {
        let mut c = Composer::new(10);
        c.insert_str("first");
        assert_eq!(c.take().as_deref(), Some("first"));
        c.insert_str("second");
        c.take();
        c.insert_str("draft");
        c.up_or_history();
        assert_eq!(c.text(), "second");
        c.up_or_history();
        assert_eq!(c.text(), "first");
        c.up_or_history();
        assert_eq!(c.text(), "first");
        c.down_or_history();
        assert_eq!(c.text(), "second");
        c.down_or_history();
        assert_eq!(c.text(), "draft");
    }

    #[test]
    fn vertical_moves_keep_the_column() {
        let mut c = typed("abcdef\nxy\nlonger line");
        c.up_or_history();
        assert_eq!(c.cursor(), (1, 2));
        c.up_or_history();
        assert_eq!(c.cursor(), (0, 2));
    }

    #[test]
    fn blank_messages_are_not_sent_and_history_is_bounded() {
        let mut c = Composer::new(2);
        c.insert_str("  \n ");
        assert_eq!(c.take(), None);
        c.clear();
        for m in ["a", "b", "c"] {
            c.insert_str(m);
            c.take();
        }
        assert_eq!(c.history(), ["b", "c"]);
    }
}
