//! A file's text as lines that remember their endings, so that an edit can
//! change some lines and give back every other byte as it was.

use std::borrow::Cow;

/// The line ending a file uses for lines it gains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eol {
    Lf,
    CrLf,
}

impl Eol {
    pub fn as_str(self) -> &'static str {
        match self {
            Eol::Lf => "\n",
            Eol::CrLf => "\r\n",
        }
    }

    /// `text` (with `\n` or `\r\n` endings) with every ending made `self`.
    pub(crate) fn convert(self, text: &str) -> String {
        let lf = text.replace("\r\n", "\n");
        match self {
            Eol::Lf => lf,
            Eol::CrLf => lf.replace('\n', "\r\n"),
        }
    }
}

/// One line: its text and the ending it had, `""` for a last line that has
/// none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub text: Cow<'a, str>,
    pub eol: &'static str,
}

impl<'a> Line<'a> {
    pub fn new(text: impl Into<Cow<'a, str>>, eol: &'static str) -> Self {
        Line { text: text.into(), eol }
    }
}

/// A text split into lines. `eol` is the file's prevailing ending: the one
/// given to lines an edit adds. A file in which neither ending prevails, or
/// that has none, counts as LF.
#[derive(Debug, Clone)]
pub(crate) struct Doc<'a> {
    pub lines: Vec<Line<'a>>,
    pub eol: Eol,
}

impl<'a> Doc<'a> {
    /// Splits at `\n`; a `\r` right before it belongs to the ending, any
    /// other `\r` stays in the text.
    pub fn parse(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let (mut crlf, mut lf) = (0usize, 0usize);
        for piece in text.split_inclusive('\n') {
            let line = if let Some(t) = piece.strip_suffix("\r\n") {
                crlf += 1;
                Line::new(t, "\r\n")
            } else if let Some(t) = piece.strip_suffix('\n') {
                lf += 1;
                Line::new(t, "\n")
            } else {
                Line::new(piece, "")
            };
            lines.push(line);
        }
        Doc { lines, eol: if crlf > lf { Eol::CrLf } else { Eol::Lf } }
    }

    /// Whether any line has an ending, so that `eol` says something.
    pub(crate) fn has_endings(&self) -> bool {
        self.lines.iter().any(|l| !l.eol.is_empty())
    }

    /// The texts of the lines, for matching.
    pub(crate) fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.text.as_ref()).collect()
    }

    /// Whether the text ends without a line ending (an empty text does not).
    pub(crate) fn missing_final_newline(&self) -> bool {
        self.lines.last().is_some_and(|l| l.eol.is_empty())
    }

    /// Gives every line an ending, except the last one when `missing` says
    /// the file ends without one. Needed after edits move lines around: a
    /// former last line may now have lines after it, or a new last line may
    /// carry an ending the file is not meant to end with.
    pub(crate) fn set_final_newline(&mut self, missing: bool) {
        let eol = self.eol.as_str();
        let n = self.lines.len();
        for (i, line) in self.lines.iter_mut().enumerate() {
            if i + 1 == n && missing {
                line.eol = "";
            } else if line.eol.is_empty() {
                line.eol = eol;
            }
        }
    }

    pub fn render(&self) -> String {
        let len = self.lines.iter().map(|l| l.text.len() + l.eol.len()).sum();
        let mut out = String::with_capacity(len);
        for line in &self.lines {
            out.push_str(&line.text);
            out.push_str(line.eol);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render_give_back_the_same_bytes() {
        for text in ["", "\n", "a", "a\n", "a\r\nb", "a\r\nb\r\n", "a\nb\r\nc", "x\ry\n", "\r\n\r\n", "a\r"] {
            assert_eq!(Doc::parse(text).render(), text, "{text:?}");
        }
    }

    #[test]
    fn prevailing_ending() {
        assert_eq!(Doc::parse("a\r\nb\r\nc\n").eol, Eol::CrLf);
        assert_eq!(Doc::parse("a\r\nb\nc\n").eol, Eol::Lf);
        assert_eq!(Doc::parse("a").eol, Eol::Lf);
    }

    #[test]
    fn lone_carriage_returns_stay_in_the_text() {
        let doc = Doc::parse("a\r\rb\r\n");
        assert_eq!(doc.texts(), vec!["a\r\rb"]);
    }

    #[test]
    fn final_newline_is_set_or_dropped() {
        let mut doc = Doc::parse("a\r\nb");
        assert!(doc.missing_final_newline());
        doc.lines.push(Line::new("c", ""));
        doc.set_final_newline(true);
        assert_eq!(doc.render(), "a\r\nb\r\nc");
        doc.set_final_newline(false);
        assert_eq!(doc.render(), "a\r\nb\r\nc\r\n");
    }

    #[test]
    fn convert_endings() {
        assert_eq!(Eol::CrLf.convert("a\nb\r\n"), "a\r\nb\r\n");
        assert_eq!(Eol::Lf.convert("a\r\nb\n"), "a\nb\n");
    }
}
