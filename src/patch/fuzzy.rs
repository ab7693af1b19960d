//! Finding lines the model quoted in a file that may differ from the quote
//! in whitespace or typography, in steps of growing leniency, and telling
//! the model where the nearest thing was when nothing matched.

use std::borrow::Cow;

/// How loosely two lines are compared; each level is tried only when the
/// stricter ones found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Exact,
    TrailingWhitespace,
    /// Leading and trailing whitespace ignored; the replacement is then
    /// re-indented to the file's indentation.
    Indentation,
    /// As `Indentation`, with typographic punctuation and Unicode spaces
    /// read as their ASCII counterparts.
    Unicode,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Exact, Level::TrailingWhitespace, Level::Indentation, Level::Unicode];

    /// The part of `line` this level compares.
    pub(crate) fn key(self, line: &str) -> Cow<'_, str> {
        match self {
            Level::Exact => Cow::Borrowed(line),
            Level::TrailingWhitespace => Cow::Borrowed(line.trim_end()),
            Level::Indentation => Cow::Borrowed(line.trim()),
            Level::Unicode => match normalize(line) {
                Cow::Borrowed(plain) => Cow::Borrowed(plain.trim()),
                Cow::Owned(normalized) => Cow::Owned(normalized.trim().to_string()),
            },
        }
    }

    /// Whether a match at this level says nothing about indentation, so new
    /// text must be shifted to the file's.
    pub(crate) fn reindents(self) -> bool {
        matches!(self, Level::Indentation | Level::Unicode)
    }
}

/// Typographic punctuation and Unicode spaces as the ASCII a model tends to
/// write instead (and the other way round: files keep them, models drop them).
pub(crate) fn normalize(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{00B4}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}' | '\u{00BB}' => out.push('"'),
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => out.push(' '),
            // Invisible: zero-width space and joiners, byte-order mark.
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Where `needle` occurs in `hay` at or after `from`: every start, at the
/// first level that finds any. An empty needle finds nothing.
pub(crate) fn find(hay: &[&str], needle: &[&str], from: usize) -> Option<(Level, Vec<usize>)> {
    Level::ALL.into_iter().find_map(|level| {
        let starts = find_at(hay, needle, from, level);
        (!starts.is_empty()).then_some((level, starts))
    })
}

/// Every start of `needle` in `hay` at or after `from`, at one level. At
/// the levels that ignore indentation, a start counts only when one
/// uniform shift ([`Reindent::between`]) turns the needle's indentation
/// into the hay's: a needle indented unevenly says something else about
/// the code's structure than the file does.
pub(crate) fn find_at(hay: &[&str], needle: &[&str], from: usize, level: Level) -> Vec<usize> {
    let n = needle.len();
    let loose = find_loose(hay, needle, from, level);
    if !level.reindents() {
        return loose;
    }
    loose.into_iter().filter(|&at| Reindent::between(&hay[at..at + n], needle).is_some()).collect()
}

/// Every start where the keys of `needle`'s lines equal the hay's.
fn find_loose(hay: &[&str], needle: &[&str], from: usize, level: Level) -> Vec<usize> {
    let Some(last) = hay.len().checked_sub(needle.len()) else { return Vec::new() };
    if needle.is_empty() || from > last {
        return Vec::new();
    }
    let needle: Vec<Cow<'_, str>> = needle.iter().map(|l| level.key(l)).collect();
    // Keys are computed once per line, not once per comparison.
    let keys: Vec<Cow<'_, str>> = hay[from..].iter().map(|l| level.key(l)).collect();
    (0..=last - from).filter(|&at| keys[at..at + needle.len()] == needle[..]).map(|at| at + from).collect()
}

/// The first start at or after `from` where `needle` would match if each
/// line's indentation were ignored on its own, though no uniform shift
/// makes it match: for an error that says so.
pub(crate) fn find_uneven(hay: &[&str], needle: &[&str], from: usize) -> Option<usize> {
    let n = needle.len();
    find_loose(hay, needle, from, Level::Unicode)
        .into_iter()
        .find(|&at| Reindent::between(&hay[at..at + n], needle).is_none())
}

/// Starts from `starts` that do not overlap the one before, each match
/// being `len` lines long.
pub(crate) fn disjoint(starts: &[usize], len: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for &at in starts {
        if out.last().is_none_or(|&prev| at >= prev + len.max(1)) {
            out.push(at);
        }
    }
    out
}

/// A shift of indentation: the prefix a quote's lines have in place of
/// the file's. Every non-blank line of the quote is `remove` + rest where
/// the file has `add` + the same rest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Reindent {
    remove: String,
    add: String,
}

impl Reindent {
    /// The shift that turns the indentation of every non-blank line of
    /// `quoted` into that of the line of `found` beside it, if one shift
    /// does (blank lines say nothing about indentation).
    ///
    /// It is read from the first non-blank line, keeping the longest
    /// indentation both share at their ends: any other shift that fits
    /// that line is this one with the same text added to `remove` and
    /// `add`, and so fits no line this one does not.
    pub(crate) fn between(found: &[&str], quoted: &[&str]) -> Option<Self> {
        let mut pairs = found.iter().zip(quoted).filter(|(_, q)| !q.trim().is_empty());
        let Some((f, q)) = pairs.next() else { return Some(Reindent::default()) };
        let (fi, qi) = (indentation(f), indentation(q));
        let shared: usize =
            fi.chars().rev().zip(qi.chars().rev()).take_while(|(a, b)| a == b).map(|(a, _)| a.len_utf8()).sum();
        let shift = Reindent { remove: qi[..qi.len() - shared].to_string(), add: fi[..fi.len() - shared].to_string() };
        pairs.all(|(f, q)| shift.indent(indentation(q)).is_some_and(|i| i == indentation(f))).then_some(shift)
    }

    /// `line` moved by the shift; blank lines are left alone. `None` when
    /// the line lacks the indentation the shift takes away: it would sit
    /// outside the block the quote's lines are in.
    pub fn apply<'l>(&self, line: &'l str) -> Option<Cow<'l, str>> {
        if line.trim().is_empty() || (self.remove.is_empty() && self.add.is_empty()) {
            return Some(Cow::Borrowed(line));
        }
        let rest = line.strip_prefix(self.remove.as_str())?;
        Some(Cow::Owned(format!("{}{rest}", self.add)))
    }

    fn indent(&self, indent: &str) -> Option<String> {
        indent.strip_prefix(self.remove.as_str()).map(|rest| format!("{}{rest}", self.add))
    }

    /// The shift in words, for an error: what the quote has that the file
    /// has not.
    pub(crate) fn describe(&self) -> String {
        format!("{:?} in place of {:?}", self.remove, self.add)
    }
}

fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The window of `hay`, as long as `needle`, that looks most like it, with
/// its score in 0..=1: the mean over its lines of a character-bigram
/// similarity, whitespace and typography aside. `None` when nothing is
/// alike at all.
pub(crate) fn closest(hay: &[&str], needle: &[&str]) -> Option<(usize, f64)> {
    if hay.is_empty() || needle.is_empty() {
        return None;
    }
    let grams = |l: &&str| bigrams(&Level::Unicode.key(l));
    let hay_grams: Vec<Vec<u64>> = hay.iter().map(grams).collect();
    let needle_grams: Vec<Vec<u64>> = needle.iter().map(grams).collect();
    let width = needle.len().min(hay.len());
    let mut best: Option<(usize, f64)> = None;
    for start in 0..=hay.len() - width {
        let total: f64 = (0..width).map(|i| dice(&hay_grams[start + i], &needle_grams[i])).sum();
        let score = total / needle.len() as f64;
        if score > best.map_or(0.0, |(_, s)| s) {
            best = Some((start, score));
        }
    }
    best
}

/// Lines `start..start + len` of `hay`, numbered from 1, for an error
/// message; long excerpts are cut short.
pub(crate) fn excerpt(hay: &[&str], start: usize, len: usize) -> String {
    const MAX: usize = 30;
    let end = (start + len).min(hay.len());
    let width = end.min(start + MAX).to_string().len();
    let mut out = String::new();
    for (i, line) in hay.iter().enumerate().take(end.min(start + MAX)).skip(start) {
        out.push_str(&format!("{:>width$} | {line}\n", i + 1));
    }
    if end > start + MAX {
        out.push_str(&format!("{:>width$} | ... ({} more lines)\n", "", end - start - MAX));
    }
    out
}

/// Sorted character bigrams, each packed into a number, of a line's text;
/// a one-character line counts as one gram.
fn bigrams(s: &str) -> Vec<u64> {
    let chars: Vec<char> = s.chars().collect();
    let mut grams: Vec<u64> = match chars.len() {
        0 => Vec::new(),
        1 => vec![u64::from(u32::from(chars[0]))],
        _ => chars.windows(2).map(|w| (u64::from(u32::from(w[0])) << 32) | u64::from(u32::from(w[1]))).collect(),
    };
    grams.sort_unstable();
    grams
}

/// Sørensen–Dice coefficient of two sorted multisets; two empty lines are
/// alike.
fn dice(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_in_order() {
        let hay = ["fn a() {", "    let x = 1;   ", "}"];
        assert_eq!(find(&hay, &["    let x = 1;   "], 0), Some((Level::Exact, vec![1])));
        assert_eq!(find(&hay, &["    let x = 1;"], 0), Some((Level::TrailingWhitespace, vec![1])));
        assert_eq!(find(&hay, &["let x = 1;"], 0), Some((Level::Indentation, vec![1])));
        assert_eq!(find(&hay, &["let y = 1;"], 0), None);
        assert_eq!(find(&hay, &["}"], 0), Some((Level::Exact, vec![2])));
        assert_eq!(find(&hay, &["fn a() {"], 1), None);
    }

    #[test]
    fn unicode_punctuation_and_spaces() {
        let hay = ["say(“it’s done — really…”);", "a\u{00A0}b"];
        assert_eq!(find(&hay, &["say(\"it's done - really...\");"], 0), Some((Level::Unicode, vec![0])));
        assert_eq!(find(&hay, &["a b"], 0), Some((Level::Unicode, vec![1])));
        // The other way round: the file is plain, the quote typographic.
        assert_eq!(find(&["it's"], &["it’s"], 0), Some((Level::Unicode, vec![0])));
    }

    #[test]
    fn a_stricter_level_hides_looser_matches() {
        let hay = ["x", "  x", "x "];
        assert_eq!(find(&hay, &["x"], 0), Some((Level::Exact, vec![0])));
        assert_eq!(find(&hay, &["  x "], 0), Some((Level::TrailingWhitespace, vec![1])));
    }

    #[test]
    fn overlapping_matches_and_disjoint_ones() {
        let hay = ["a", "a", "a"];
        let (_, starts) = find(&hay, &["a", "a"], 0).unwrap_or((Level::Exact, Vec::new()));
        assert_eq!(starts, vec![0, 1]);
        assert_eq!(disjoint(&starts, 2), vec![0]);
    }

    #[test]
    fn reindent_deeper_shallower_and_tabs() {
        let shift = |found: &[&str], quoted: &[&str]| Reindent::between(found, quoted).unwrap_or_default();
        let apply = |r: &Reindent, line: &str| r.apply(line).map(Cow::into_owned);
        let r = shift(&["        foo()"], &["foo()"]);
        assert_eq!(apply(&r, "bar()").as_deref(), Some("        bar()"));
        assert_eq!(apply(&r, "    nested()").as_deref(), Some("            nested()"));
        assert_eq!(apply(&r, "").as_deref(), Some(""));
        let r = shift(&["    foo()"], &["        foo()"]);
        assert_eq!(apply(&r, "        bar()").as_deref(), Some("    bar()"));
        assert_eq!(apply(&r, "    }").as_deref(), Some("}"));
        // Shallower than what the shift takes away: outside the quote's block.
        assert_eq!(apply(&r, "  }"), None);
        let r = shift(&["\tfoo()"], &["    foo()"]);
        assert_eq!(apply(&r, "    bar()").as_deref(), Some("\tbar()"));
        assert_eq!(apply(&r, "        baz()").as_deref(), Some("\t    baz()"));
        let r = shift(&["", "  x"], &["", "x"]);
        assert_eq!(apply(&r, "y").as_deref(), Some("  y"));
        // A tab-indented file quoted four spaces deeper: the spaces go, the
        // tabs stay.
        let r = shift(&["\tif x {", "\t\ty();"], &["    \tif x {", "    \t\ty();"]);
        assert_eq!(apply(&r, "    \t\tz();").as_deref(), Some("\t\tz();"));
    }

    #[test]
    fn a_shift_must_fit_every_line() {
        let file = ["    if x > 0:", "        log(x)", "    return x"];
        assert!(Reindent::between(&file, &["if x > 0:", "    log(x)", "return x"]).is_some());
        assert!(Reindent::between(&file, &["    if x > 0:", "        log(x)", "        return x"]).is_none());
        assert!(Reindent::between(&file, &["if x > 0:", "  log(x)", "return x"]).is_none());
        // Blank lines fit any shift.
        assert!(Reindent::between(&["  a", "", "  b"], &["a", "      ", "b"]).is_some());
        // Tabs for spaces is not a shift.
        assert!(Reindent::between(&["\ta", "\t\tb"], &["    a", "        b"]).is_none());
    }

    #[test]
    fn uneven_quotes_are_not_found_but_named() {
        let hay = ["def f(x):", "    if x > 0:", "        log(x)", "    return x"];
        let quote = ["    if x > 0:", "        log(x)", "        return x"];
        assert_eq!(find(&hay, &quote, 0), None);
        assert_eq!(find_uneven(&hay, &quote, 0), Some(1));
        assert_eq!(find(&hay, &["if x > 0:", "    log(x)"], 0), Some((Level::Indentation, vec![1])));
    }

    #[test]
    fn closest_window_and_excerpt() {
        let hay = ["fn main() {", "    println!(\"hello\");", "}", "fn other() {", "    nothing();", "}"];
        let (start, score) = closest(&hay, &["fn main() {", "    println!(\"hallo\");"]).unwrap_or((99, 0.0));
        assert_eq!(start, 0);
        assert!(score > 0.8 && score < 1.0, "{score}");
        assert_eq!(excerpt(&hay, 0, 2), "1 | fn main() {\n2 |     println!(\"hello\");\n");
        assert_eq!(closest(&hay, &["zzzz"]), None);
    }

    #[test]
    fn long_excerpts_are_cut() {
        let hay: Vec<String> = (1..=100).map(|i| format!("line {i}")).collect();
        let hay: Vec<&str> = hay.iter().map(String::as_str).collect();
        let text = excerpt(&hay, 10, 50);
        assert!(text.starts_with("11 | line 11\n"));
        assert!(text.ends_with("40 | line 40\n   | ... (20 more lines)\n"), "{text}");
    }
}
