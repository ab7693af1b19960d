//! Replacing secret values with a fixed marker: in whole texts, in texts
//! that were cut short, in JSON values, and in text that arrives in pieces.
//!
//! Hand-written rather than a regex or aho-corasick set: the needles are a
//! handful of literal strings, every occurrence (overlapping ones too) must
//! go, and a stream must hold back exactly the tail that could still become
//! one; those three needs are easier to get right in plain code.

use std::borrow::Cow;
use std::sync::Arc;

/// What a secret is replaced with.
pub const MARKER: &str = "[REDACTED]";

/// Values shorter than this are not redacted: they cannot be real secrets,
/// and replacing every `true` or `1` would ruin the output.
pub const MIN_SECRET_LEN: usize = 8;

/// A piece this long at the end of a text cut short, that begins a secret,
/// is replaced too; shorter ones (`sk-`) say nothing about the secret.
const MIN_CUT_PIECE: usize = 4;

/// Lines of a multi-line value (a PEM key, a JSON credential) at least this
/// long are needles of their own: commands print them line by line.
const MIN_LINE_LEN: usize = 16;

/// The secret values tandem knows, each in the spellings it can take in
/// text: as is, escaped for JSON (with `/` escaped too, as some servers
/// do), and percent-encoded for URLs.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, deduplicated.
    needles: Vec<String>,
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} spellings)", self.needles.len())
    }
}

impl Redactor {
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut needles: Vec<String> = Vec::new();
        let mut add = |v: &str| {
            if v.len() >= MIN_SECRET_LEN {
                for form in spellings(v) {
                    if !needles.contains(&form) {
                        needles.push(form);
                    }
                }
            }
        };
        for value in values {
            let value = value.as_ref();
            add(value);
            if value.contains('\n') {
                for line in value.lines().map(str::trim).filter(|l| l.len() >= MIN_LINE_LEN) {
                    add(line);
                }
            }
        }
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let longest = needles.first().map_or(0, String::len);
        Self { needles, longest }
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every secret replaced by [`MARKER`].
    pub(crate) fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let spans = self.spans(text.as_bytes());
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(splice(text, &spans))
    }

    /// Like [`Redactor::redact`], for a text whose end was cut off: a tail
    /// that begins a secret is replaced as well, since the rest of the
    /// secret may have been what was cut.
    pub(crate) fn redact_cut(&self, text: &str) -> String {
        let mut out = self.redact(text).into_owned();
        let from = self.held_from(out.as_bytes());
        if out.len() - from >= MIN_CUT_PIECE {
            out.truncate(from);
            out.push_str(MARKER);
        }
        out
    }

    /// Redacts every string (and object key) in `value`.
    pub(crate) fn redact_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    self.redact_json(&mut v);
                    map.insert(self.redact(&k).into_owned(), v);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Where the secrets are in `hay`: merged byte ranges, each starting and
    /// ending on a character boundary when `hay` is UTF-8 (a needle is valid
    /// UTF-8, so a match cannot begin or end inside a character).
    fn spans(&self, hay: &[u8]) -> Vec<(usize, usize)> {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        if hay.len() < MIN_SECRET_LEN {
            return spans;
        }
        for needle in &self.needles {
            let n = needle.as_bytes();
            let mut from = 0;
            while let Some(at) = find(&hay[from..], n) {
                spans.push((from + at, from + at + n.len()));
                // Overlapping occurrences count too.
                from += at + 1;
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }

    /// The first byte of the tail of `text` that could be the start of a
    /// secret whose rest has not arrived (`text.len()` when none could).
    fn held_from(&self, text: &[u8]) -> usize {
        let lowest = text.len().saturating_sub(self.longest.saturating_sub(1));
        (lowest..text.len())
            .find(|&i| {
                let tail = &text[i..];
                self.needles.iter().any(|n| n.len() > tail.len() && n.as_bytes().starts_with(tail))
            })
            .unwrap_or(text.len())
    }

    /// How much of `text` (arriving in pieces) can be passed on now: all
    /// but a tail that may be the start of a secret, and never a part of a
    /// secret that is whole in `text` but reaches into that tail. What is
    /// held back is at most as long as the longest secret.
    pub(crate) fn safe_len(&self, text: &[u8]) -> usize {
        if self.is_empty() {
            return text.len();
        }
        let mut cut = self.held_from(text);
        let spans = self.spans(text);
        // A secret that begins before the cut and ends after it stays
        // whole: move the cut back to its start (and again, for a chain of
        // overlapping ones).
        while let Some(&(s, _)) = spans.iter().find(|&&(s, e)| s < cut && cut < e) {
            cut = s;
        }
        cut
    }
}

/// `text` with each span replaced by the marker.
fn splice(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(s, e) in spans {
        out.push_str(&text[at..s]);
        out.push_str(MARKER);
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let at = from + hay[from..=hay.len() - needle.len()].iter().position(|&b| b == first)?;
        if hay[at + 1..at + needle.len()] == *rest {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The ways `value` can be spelled in text tandem handles.
fn spellings(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.get(1..json.len().saturating_sub(1)).unwrap_or_default().to_string();
    forms.push(json.replace('/', "\\/"));
    forms.push(json);
    forms.push(percent_encoded(value));
    forms.retain(|f| f.len() >= MIN_SECRET_LEN);
    forms.dedup();
    forms
}

/// RFC 3986: everything but the unreserved characters as `%XX`.
fn percent_encoded(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text that arrives in pieces (a streamed answer), redacted as a whole:
/// a secret split across pieces is still replaced, because the tail that
/// could begin one is held back until the next piece decides.
#[derive(Debug)]
pub struct StreamRedactor {
    redactor: Arc<Redactor>,
    pending: String,
}

impl StreamRedactor {
    pub fn new(redactor: Arc<Redactor>) -> Self {
        Self { redactor, pending: String::new() }
    }

    /// The redacted text that can be passed on after `piece`; may be empty.
    pub fn push(&mut self, piece: &str) -> String {
        if self.redactor.is_empty() {
            return piece.to_string();
        }
        self.pending.push_str(piece);
        let cut = self.redactor.safe_len(self.pending.as_bytes());
        let rest = self.pending.split_off(cut);
        let ready = std::mem::replace(&mut self.pending, rest);
        self.redactor.redact(&ready).into_owned()
    }

    /// What is still held back, redacted: the text is complete.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.redactor.redact(&rest).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-proj-0123456789abcdef";

    fn r(values: &[&str]) -> Redactor {
        Redactor::new(values.iter().copied())
    }

    #[test]
    fn every_occurrence_is_replaced_and_short_values_are_ignored() {
        let red = r(&[KEY, "short"]);
        assert_eq!(red.redact(&format!("a {KEY} b {KEY}")), format!("a {MARKER} b {MARKER}"));
        assert_eq!(red.redact("short is fine"), "short is fine");
        assert!(matches!(red.redact("nothing here"), Cow::Borrowed(_)));
        assert!(r(&[]).is_empty());
    }

    #[test]
    fn overlapping_secrets_and_repeats_leave_no_piece() {
        let red = r(&["abababab", "babababX"]);
        assert_eq!(red.redact("xabababababababX!"), format!("x{MARKER}!"));
        let red = r(&["AAAAbbbbCC", "bbCCDDDDDD"]);
        assert_eq!(red.redact("AAAAbbbbCCDDDDDD"), MARKER);
    }

    #[test]
    fn json_escaped_slash_escaped_and_percent_encoded_spellings() {
        let secret = "p@ss\"w/rd-é-1234";
        let red = r(&[secret]);
        let json = serde_json::to_string(secret).unwrap();
        assert_eq!(red.redact(&json), format!("\"{MARKER}\""));
        assert_eq!(red.redact(&json.replace('/', "\\/")), format!("\"{MARKER}\""));
        assert_eq!(red.redact(&format!("?key={}", percent_encoded(secret))), format!("?key={MARKER}"));
        let mut v = serde_json::json!({ "a": [secret, 1], secret: { "b": format!("x{secret}") } });
        red.redact_json(&mut v);
        assert_eq!(v, serde_json::json!({ "a": [MARKER, 1], MARKER: { "b": format!("x{MARKER}") } }));
    }

    #[test]
    fn lines_of_a_multi_line_secret_are_secrets_too() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
        let red = r(&[pem]);
        assert_eq!(red.redact("line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), format!("line {MARKER}"));
    }

    #[test]
    fn a_cut_text_loses_a_tail_that_begins_a_secret() {
        let red = r(&[KEY]);
        assert_eq!(red.redact_cut(&format!("x {}", &KEY[..10])), format!("x {MARKER}"));
        // Too short to say anything.
        assert_eq!(red.redact_cut("x sk-"), "x sk-");
        assert_eq!(red.redact_cut(&format!("{KEY} and sk-pr")), format!("{MARKER} and {MARKER}"));
    }

    #[test]
    fn a_stream_never_passes_on_a_piece_of_a_secret_at_any_split() {
        let red = Arc::new(r(&[KEY, "tok_live_00000000"]));
        let text = format!("before {KEY} middle tok_live_00000000 after {KEY}");
        let expected = red.redact(&text).into_owned();
        for a in 0..=text.len() {
            for b in a..=text.len() {
                let mut s = StreamRedactor::new(red.clone());
                let mut out = String::new();
                for piece in [&text[..a], &text[a..b], &text[b..]] {
                    let got = s.push(piece);
                    assert!(!got.contains("sk-proj-0"), "a piece of the key passed at {a},{b}: {got}");
                    out.push_str(&got);
                }
                out.push_str(&s.finish());
                assert_eq!(out, expected, "split at {a},{b}");
            }
        }
    }

    #[test]
    fn a_stream_holds_back_no_more_than_the_longest_secret() {
        let mut s = StreamRedactor::new(Arc::new(r(&[KEY])));
        let mut out = String::new();
        for c in "sk-proj-0123 is not it".chars() {
            out.push_str(&s.push(&c.to_string()));
        }
        assert_eq!(out, "sk-proj-0123 is not it");
        assert_eq!(s.finish(), "");
        let mut s = StreamRedactor::new(Arc::new(r(&[KEY])));
        assert_eq!(s.push("é sk-pro"), "é ");
        assert_eq!(s.finish(), "sk-pro");
    }
}
