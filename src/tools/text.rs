//! Text shown to the model, shared by the tools that return lines of it.

/// Longer lines (minified code, data, one-line output) are cut, so one line
/// cannot use up a tool's whole budget.
pub(crate) const MAX_LINE_BYTES: usize = 2000;

/// One line for the model: secrets redacted, without the `\r` of a `\r\n`
/// ending, and when `full_len` is over [`MAX_LINE_BYTES`], cut to that with
/// a note of its full length. `line` may hold only the start of a line
/// `full_len` bytes long.
pub(crate) fn cut_line(line: &[u8], full_len: usize) -> String {
    let cut_short = full_len > line.len();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = String::from_utf8_lossy(line);
    // Redacted before it is cut; when the caller kept only the line's start,
    // a tail that begins a secret goes too.
    let redactor = crate::secrets::redactor();
    let text = if cut_short { redactor.redact_cut(&text) } else { redactor.redact(&text).into_owned() };
    if full_len <= MAX_LINE_BYTES {
        return text;
    }
    let bytes = text.as_bytes();
    let cut = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_LINE_BYTES)]);
    // The cut may split a character; its remains would show as U+FFFD.
    format!("{} … [line cut: {full_len} bytes]", cut.trim_end_matches('\u{FFFD}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_lose_only_a_carriage_return() {
        assert_eq!(cut_line(b"let x = 1;\r", 11), "let x = 1;");
        assert_eq!(cut_line(b"a\rb", 3), "a\rb");
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        // Byte 2000 falls inside an "é".
        let line = format!("a{}", "é".repeat(3000));
        let cut = cut_line(line.as_bytes(), line.len());
        assert!(cut.ends_with(" … [line cut: 6001 bytes]"), "{}", &cut[cut.len() - 40..]);
        assert!(!cut.contains('\u{FFFD}'));
        assert_eq!(cut.len(), MAX_LINE_BYTES - 1 + " … [line cut: 6001 bytes]".len());
        // Given only the line's start, the note still has the full length.
        assert_eq!(cut_line(&line.as_bytes()[..MAX_LINE_BYTES], 6001), cut);
    }
}
