//! A command's output as `run_command` keeps it: whole lines from stdout
//! and stderr in arrival order, secrets redacted, with only the head and
//! tail kept for the model and a bounded backlog for the chat.

use std::collections::VecDeque;
use std::sync::Arc;

use super::text::cut_line;
use crate::secrets::Redactor;

const HEAD_LINES: usize = 100;
const HEAD_BYTES: usize = 8 * 1024;
const TAIL_LINES: usize = 100;
const TAIL_BYTES: usize = 8 * 1024;
/// Output without a newline is broken into lines of this size, so a
/// runaway partial line cannot grow without bound.
const MAX_PENDING_BYTES: usize = 64 * 1024;
/// Lines waiting for the next progress call; older ones are dropped when
/// the command prints faster than the chat is updated.
const MAX_PROGRESS_LINES: usize = 200;

#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug)]
pub struct Capture {
    /// Secrets are replaced in each whole line, before it is cut or kept:
    /// output arrives in pieces, but a line is assembled before it is used.
    redactor: Arc<Redactor>,
    /// Partial lines, one per stream, so the two never mix within a line.
    pending: [Vec<u8>; 2],
    head: Vec<String>,
    head_bytes: usize,
    tail: VecDeque<String>,
    tail_bytes: usize,
    elided: usize,
    total: usize,
    progress: VecDeque<String>,
    progress_skipped: usize,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new(crate::secrets::redactor())
    }
}

impl Capture {
    pub fn new(redactor: Arc<Redactor>) -> Self {
        Self {
            redactor,
            pending: Default::default(),
            head: Vec::new(),
            head_bytes: 0,
            tail: VecDeque::new(),
            tail_bytes: 0,
            elided: 0,
            total: 0,
            progress: VecDeque::new(),
            progress_skipped: 0,
        }
    }

    pub fn push(&mut self, stream: Stream, bytes: &[u8]) {
        let index = stream as usize;
        let mut rest = bytes;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            self.pending[index].extend_from_slice(&rest[..newline]);
            let line = std::mem::take(&mut self.pending[index]);
            self.push_line(&line);
            rest = &rest[newline + 1..];
        }
        self.pending[index].extend_from_slice(rest);
        if self.pending[index].len() > MAX_PENDING_BYTES {
            // The break must not fall inside a secret: a tail that may begin
            // one waits for the rest.
            let keep = self.redactor.safe_len(&self.pending[index]);
            let rest = self.pending[index].split_off(keep);
            let line = std::mem::replace(&mut self.pending[index], rest);
            self.push_line(&line);
        }
    }

    /// Ends the partial lines: the output is complete.
    pub fn finish(&mut self) {
        for index in 0..self.pending.len() {
            if !self.pending[index].is_empty() {
                let line = std::mem::take(&mut self.pending[index]);
                self.push_line(&line);
            }
        }
    }

    pub(crate) fn total_lines(&self) -> usize {
        self.total
    }

    /// The lines that arrived since the last call, each ending in `\n`.
    pub fn take_progress(&mut self) -> Option<String> {
        if self.progress.is_empty() {
            return None;
        }
        let mut text = String::new();
        if self.progress_skipped > 0 {
            text.push_str(&format!("… {} lines skipped …\n", self.progress_skipped));
            self.progress_skipped = 0;
        }
        for line in self.progress.drain(..) {
            text.push_str(&line);
            text.push('\n');
        }
        Some(text)
    }

    /// Head, a note of what was left out, tail.
    pub fn render(&self) -> String {
        let mut lines: Vec<&str> = self.head.iter().map(String::as_str).collect();
        let note = format!("… {} lines elided …", self.elided);
        if self.elided > 0 {
            lines.push(&note);
        }
        lines.extend(self.tail.iter().map(String::as_str));
        lines.join("\n")
    }

    fn push_line(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let line = clean_line(self.redactor.redact(&text).as_bytes());
        self.total += 1;
        if self.progress.len() == MAX_PROGRESS_LINES {
            self.progress.pop_front();
            self.progress_skipped += 1;
        }
        self.progress.push_back(line.clone());
        if self.tail.is_empty() && self.head.len() < HEAD_LINES && self.head_bytes + line.len() <= HEAD_BYTES {
            self.head_bytes += line.len();
            self.head.push(line);
            return;
        }
        self.tail_bytes += line.len();
        self.tail.push_back(line);
        while self.tail.len() > TAIL_LINES || (self.tail_bytes > TAIL_BYTES && self.tail.len() > 1) {
            if let Some(dropped) = self.tail.pop_front() {
                self.tail_bytes -= dropped.len();
                self.elided += 1;
            }
        }
    }
}

/// One line as a terminal would show it: after the last carriage return
/// (progress bars redraw that way), cut like any line for the model.
fn clean_line(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let shown = match raw.iter().rposition(|&b| b == b'\r') {
        Some(cr) => &raw[cr + 1..],
        None => raw,
    };
    cut_line(shown, shown.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_lines_of_two_streams_do_not_mix() {
        let mut c = Capture::default();
        c.push(Stream::Stdout, b"hel");
        c.push(Stream::Stderr, b"warning\n");
        c.push(Stream::Stdout, b"lo\nwor");
        c.finish();
        assert_eq!(c.render(), "warning\nhello\nwor");
        assert_eq!(c.total_lines(), 3);
    }

    #[test]
    fn carriage_returns_keep_the_last_redraw() {
        let mut c = Capture::default();
        c.push(Stream::Stdout, b"10%\r50%\r100%\r\nwindows line\r\n");
        assert_eq!(c.render(), "100%\nwindows line");
    }

    #[test]
    fn head_and_tail_are_kept_by_lines() {
        let mut c = Capture::default();
        for i in 1..=1000 {
            c.push(Stream::Stdout, format!("{i}\n").as_bytes());
        }
        let rendered = c.render();
        let lines: Vec<_> = rendered.lines().collect();
        assert_eq!(lines.len(), HEAD_LINES + 1 + TAIL_LINES);
        assert_eq!(lines[HEAD_LINES - 1], "100");
        assert_eq!(lines[HEAD_LINES], "… 800 lines elided …");
        assert_eq!(lines[HEAD_LINES + 1], "901");
    }

    #[test]
    fn head_and_tail_are_kept_by_bytes() {
        let mut c = Capture::default();
        let wide = "x".repeat(1000);
        for _ in 0..50 {
            c.push(Stream::Stdout, format!("{wide}\n").as_bytes());
        }
        let rendered = c.render();
        assert!(rendered.len() <= HEAD_BYTES + TAIL_BYTES + 100, "{}", rendered.len());
        assert!(rendered.contains("… 34 lines elided …"));
    }

    #[test]
    fn long_lines_are_cut() {
        let mut c = Capture::default();
        c.push(Stream::Stdout, "é".repeat(3000).as_bytes());
        c.finish();
        let rendered = c.render();
        assert!(rendered.ends_with(" … [line cut: 6000 bytes]"));
        assert!(!rendered.contains('\u{FFFD}'));
    }

    #[test]
    fn runaway_partial_lines_are_broken_up() {
        let mut c = Capture::default();
        for _ in 0..100 {
            c.push(Stream::Stdout, &[b'y'; 1024]);
        }
        assert_eq!(c.total_lines(), 1);
        assert!(c.pending[0].len() < MAX_PENDING_BYTES);
    }

    #[test]
    fn a_secret_split_across_reads_or_a_forced_line_break_is_redacted() {
        let key = "sk-test-0123456789abcdef";
        let redactor = Arc::new(Redactor::new([key]));
        for cut in 1..key.len() {
            let mut c = Capture::new(redactor.clone());
            c.push(Stream::Stdout, format!("key={}", &key[..cut]).as_bytes());
            c.push(Stream::Stdout, format!("{}\n", &key[cut..]).as_bytes());
            assert_eq!(c.take_progress().unwrap(), "key=[REDACTED]\n");
            let mut c = Capture::new(redactor.clone());
            c.push(Stream::Stdout, &[b'x'; MAX_PENDING_BYTES - 2]);
            c.push(Stream::Stdout, &key.as_bytes()[..cut]);
            c.push(Stream::Stdout, format!("{} end\n", &key[cut..]).as_bytes());
            c.finish();
            let rendered = c.render();
            let leaked = (0..=key.len() - 6).find(|&i| rendered.contains(&key[i..i + 6]));
            assert_eq!(leaked, None, "cut {cut}: {rendered}");
            if cut >= 3 {
                // The break came before the key was whole, and waited for it.
                assert!(rendered.ends_with("\n[REDACTED] end"), "cut {cut}: {rendered}");
            }
        }
    }

    #[test]
    fn progress_is_bounded_and_says_what_it_skipped() {
        let mut c = Capture::default();
        assert_eq!(c.take_progress(), None);
        for i in 0..250 {
            c.push(Stream::Stdout, format!("{i}\n").as_bytes());
        }
        let text = c.take_progress().unwrap();
        assert!(text.starts_with("… 50 lines skipped …\n50\n"));
        assert!(text.ends_with("249\n"));
        assert_eq!(c.take_progress(), None);
    }
}
