//! Incremental Server-Sent Events parser, following the WHATWG
//! `text/event-stream` rules.
//!
//! Bytes are buffered until a whole line is present and only then decoded,
//! so a read that ends inside a multi-byte UTF-8 character or between the
//! `\r` and `\n` of a CRLF is harmless.

use std::mem;

/// Default ceiling on one line and on one event's data. Model answers arrive
/// as many small events; anything near this size is a broken or hostile
/// server, and refusing it keeps memory bounded.
pub(crate) const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` when absent (the spec's "message").
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen on the stream (ids persist across events).
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("an event-stream line or event exceeded {limit} bytes")]
    TooLong { limit: usize },
}

#[derive(Debug)]
pub struct SseParser {
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous push ended in `\r`; a leading `\n` in the next push
    /// belongs to that line ending.
    pending_cr: bool,
    /// The BOM may only be stripped from the very first line.
    first_line: bool,
    event_type: String,
    data: String,
    /// Whether any `data` field was seen since the last dispatch; the spec
    /// dispatches only events that had one (even if it was empty).
    has_data: bool,
    last_id: Option<String>,
    max_line: usize,
    failed: Option<SseError>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self::with_max_line(DEFAULT_MAX_LINE)
    }

    pub(crate) fn with_max_line(max_line: usize) -> Self {
        Self {
            line: Vec::new(),
            pending_cr: false,
            first_line: true,
            event_type: String::new(),
            data: String::new(),
            has_data: false,
            last_id: None,
            max_line,
            failed: None,
        }
    }

    /// Feeds the next bytes of the body and returns the events they complete.
    /// After an error the parser stays failed.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut out = Vec::new();
        let mut rest = bytes;
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let is_cr = rest[pos] == b'\r';
            let mut after = &rest[pos + 1..];
            if is_cr {
                match after.first() {
                    Some(b'\n') => after = &after[1..],
                    Some(_) => {}
                    None => self.pending_cr = true,
                }
            }
            if self.line.len() + pos > self.max_line {
                return Err(self.fail());
            }
            self.line.extend_from_slice(&rest[..pos]);
            let line = mem::take(&mut self.line);
            self.process_line(&line, &mut out)?;
            // Reuse the allocation: most lines are similar in size.
            self.line = line;
            self.line.clear();
            rest = after;
        }
        if self.line.len() + rest.len() > self.max_line {
            return Err(self.fail());
        }
        self.line.extend_from_slice(rest);
        Ok(out)
    }

    /// The body ended. Unlike the spec, which discards an unterminated
    /// event, this dispatches it: some servers close right after the last
    /// `data:` line without the blank line, and that event is the end of the
    /// answer.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut out = Vec::new();
        if !self.line.is_empty() {
            let line = mem::take(&mut self.line);
            self.process_line(&line, &mut out)?;
        }
        self.pending_cr = false;
        Ok(out.pop().or_else(|| self.dispatch()))
    }

    fn fail(&mut self) -> SseError {
        let err = SseError::TooLong { limit: self.max_line };
        self.failed = Some(err.clone());
        self.line = Vec::new();
        self.data = String::new();
        err
    }

    fn process_line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut raw = raw;
        if self.first_line {
            self.first_line = false;
            raw = raw.strip_prefix(BOM).unwrap_or(raw);
        }
        if raw.is_empty() {
            if let Some(event) = self.dispatch() {
                out.push(event);
            }
            return Ok(());
        }
        if raw[0] == b':' {
            return Ok(());
        }
        let line = String::from_utf8_lossy(raw);
        let (field, value) = match line.find(':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => self.event_type = value.to_owned(),
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_line {
                    return Err(self.fail());
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // An id containing NUL is ignored, per the spec.
            "id" if !value.contains('\0') => {
                self.last_id = if value.is_empty() { None } else { Some(value.to_owned()) };
            }
            // `retry` only matters to reconnecting browsers; unknown fields
            // are ignored by the spec.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event_type = mem::take(&mut self.event_type);
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event: if event_type.is_empty() { None } else { Some(event_type) },
            data: mem::take(&mut self.data),
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.push(c).unwrap());
        }
        out.extend(p.finish().unwrap());
        out
    }

    fn ev(event: Option<&str>, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent { event: event.map(str::to_owned), data: data.to_owned(), id: id.map(str::to_owned) }
    }

    #[test]
    fn basic_fields_and_dispatch() {
        let got = parse_all(&[b"event: ping\ndata: {\"a\":1}\nid: 7\n\ndata:no-space\n\n"]);
        assert_eq!(got, vec![ev(Some("ping"), "{\"a\":1}", Some("7")), ev(None, "no-space", Some("7"))]);
    }

    #[test]
    fn line_endings_lf_crlf_cr() {
        let expected = vec![ev(None, "a", None), ev(None, "b", None)];
        assert_eq!(parse_all(&[b"data: a\n\ndata: b\n\n"]), expected);
        assert_eq!(parse_all(&[b"data: a\r\n\r\ndata: b\r\n\r\n"]), expected);
        assert_eq!(parse_all(&[b"data: a\r\rdata: b\r\r"]), expected);
    }

    #[test]
    fn crlf_split_across_pushes_is_one_line_ending() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: a\r").unwrap().is_empty());
        // If the `\n` were a second line ending, this would dispatch early.
        assert!(p.push(b"\ndata: b\r").unwrap().is_empty());
        assert_eq!(p.push(b"\n\r\n").unwrap(), vec![ev(None, "a\nb", None)]);
    }

    #[test]
    fn comments_multiline_and_colonless_fields() {
        let got = parse_all(&[b": keep-alive\n\ndata: one\ndata\ndata:  two\n: note\n\n"]);
        assert_eq!(got, vec![ev(None, "one\n\n two", None)]);
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        assert_eq!(parse_all(&[b"event: x\n\nid: 3\n\ndata: y\n\n"]), vec![ev(None, "y", Some("3"))]);
    }

    #[test]
    fn bom_split_and_utf8_split() {
        let body = "\u{FEFF}data: héllo ✓\n\n".as_bytes();
        for i in 0..body.len() {
            assert_eq!(parse_all(&[&body[..i], &body[i..]]), vec![ev(None, "héllo ✓", None)], "split at {i}");
        }
    }

    #[test]
    fn bom_only_stripped_at_start() {
        assert_eq!(parse_all(&[b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"]), vec![ev(None, "a", None)]);
    }

    #[test]
    fn finish_dispatches_unterminated_event() {
        assert_eq!(parse_all(&[b"data: [DONE]"]), vec![ev(None, "[DONE]", None)]);
        assert_eq!(parse_all(&[b"data: x\n"]), vec![ev(None, "x", None)]);
        assert_eq!(parse_all(&[b"data: x\n\n"]), vec![ev(None, "x", None)]);
    }

    #[test]
    fn long_lines_are_refused() {
        let mut p = SseParser::with_max_line(8);
        assert!(p.push(b"data: 12").is_ok());
        assert_eq!(p.push(b"3"), Err(SseError::TooLong { limit: 8 }));
        assert!(p.push(b"\n\n").is_err());
        let mut p = SseParser::with_max_line(8);
        assert!(p.push(b"data: 1234567890\n").is_err());
        let mut p = SseParser::with_max_line(8);
        assert!(p.push(b"data: 1234\ndata: 1234\n").is_err());
    }

    fn chunked(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut start = 0;
        for c in cuts {
            out.push(bytes[start..c].to_vec());
            start = c;
        }
        out.push(bytes[start..].to_vec());
        out
    }

    fn valid_stream() -> impl Strategy<Value = Vec<u8>> {
        let field = prop_oneof![
            "[a-zé✓{}\":, ]{0,12}".prop_map(|v| format!("data: {v}")),
            "[a-z]{1,6}".prop_map(|v| format!("event: {v}")),
            "[0-9]{1,3}".prop_map(|v| format!("id: {v}")),
            Just(": keep-alive".to_owned()),
            Just(String::new()),
        ];
        let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
        (any::<bool>(), prop::collection::vec((field, eol), 0..20)).prop_map(|(bom, lines)| {
            let mut s = if bom { "\u{FEFF}".to_owned() } else { String::new() };
            for (l, e) in lines {
                s.push_str(&l);
                s.push_str(e);
            }
            s.into_bytes()
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512),
                                       cuts in prop::collection::vec(any::<usize>(), 0..8)) {
            let mut p = SseParser::with_max_line(64);
            for c in chunked(&bytes, &cuts) {
                let _ = p.push(&c);
            }
            let _ = p.finish();
        }

        #[test]
        fn chunking_does_not_change_events(body in valid_stream(),
                                           cuts in prop::collection::vec(any::<usize>(), 0..8)) {
            let whole = parse_all(&[&body]);
            let pieces = chunked(&body, &cuts);
            let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(parse_all(&refs), whole.clone());
            let bytewise: Vec<&[u8]> = body.chunks(1).collect();
            prop_assert_eq!(parse_all(&bytewise), whole);
        }
    }
}
