//! Problems found while reading configuration, keymap and theme files.
//!
//! A problem never stops tandem from starting: the loader keeps the built-in
//! value for whatever was wrong and reports a `Diagnostic`, which the app shows
//! in the chat pane and the status line and `tandem config check` prints.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Where the problem is: a file path, `built-in default.toml`, or an
    /// environment variable name.
    pub source: String,
    /// 1-based line in `source`, when the source is a file.
    pub line: Option<usize>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(source: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, source: source.into(), line, message: message.into() }
    }

    pub(crate) fn warning(source: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, source: source.into(), line, message: message.into() }
    }

    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match self.line {
            Some(line) => write!(f, "{level}: {}:{line}: {}", self.source, self.message),
            None => write!(f, "{level}: {}: {}", self.source, self.message),
        }
    }
}

/// 1-based line number of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_source_and_line() {
        let d = Diagnostic::error("/tmp/c.toml", Some(3), "`ui.frame_rate` expects an integer");
        assert_eq!(d.to_string(), "error: /tmp/c.toml:3: `ui.frame_rate` expects an integer");
        let w = Diagnostic::warning("TANDEM_UI_THEME", None, "unknown theme");
        assert_eq!(w.to_string(), "warning: TANDEM_UI_THEME: unknown theme");
    }

    #[test]
    fn line_of_counts_newlines_before_offset() {
        let text = "a\nbb\nccc";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 2), 2);
        assert_eq!(line_of(text, 5), 3);
        assert_eq!(line_of(text, 999), 3);
    }
}
