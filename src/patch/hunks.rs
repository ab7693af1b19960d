//! Hunks: computing them from two versions of a file, splitting them, and
//! applying any subset of them, to the version they came from or to another
//! one (the file as it is now on disk, or the copy in git's index).

use similar::{Algorithm, DiffTag};

use super::lines::{Doc, Eol, Line};
use super::{Hunk, HunkLine, LineKind};

/// Lines of unchanged context around each change, as `diff -U3`.
const CONTEXT: usize = 3;

/// The changes from `base` to `proposed`, with 3 lines of context.
///
/// Lines are compared by their text and by whether their ending is the one
/// their file mostly uses, so a proposal written with other endings than
/// the file's (all LF for a CRLF file) differs only where its text does.
/// Applying hunks gives added lines the target file's prevailing ending.
/// Whether the file ends in a newline is compared, and recorded in
/// [`Hunk::old_missing_newline`] and [`Hunk::new_missing_newline`].
///
/// `apply_hunks(base, &hunks(base, proposed))` is `proposed` byte for byte
/// when `proposed` keeps `base`'s line-ending style, as every proposal made
/// by this module does. In a file of mixed endings, a line with the
/// minority ending that the diff counts as added comes out with the
/// prevailing one.
pub fn hunks(base: &str, proposed: &str) -> Vec<Hunk> {
    let old = Doc::parse(base);
    let new = Doc::parse(proposed);
    let (old_keys, new_keys) = (keys(&old), keys(&new));
    let ops = similar::capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys);
    let old_missing = old.missing_final_newline();
    let new_missing = new.missing_final_newline();

    let mut out = Vec::new();
    for group in similar::group_diff_ops(ops, CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let (old_range, new_range) =
            (first.old_range().start..last.old_range().end, first.new_range().start..last.new_range().end);
        let mut lines = Vec::new();
        for op in &group {
            let (tag, o, n) = op.as_tag_tuple();
            let line = |kind, text: &str| HunkLine { kind, text: text.to_string() };
            match tag {
                DiffTag::Equal => lines.extend(old.lines[o].iter().map(|l| line(LineKind::Context, &l.text))),
                DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                    lines.extend(old.lines[o].iter().map(|l| line(LineKind::Removed, &l.text)));
                    lines.extend(new.lines[n].iter().map(|l| line(LineKind::Added, &l.text)));
                }
            }
        }
        out.push(Hunk {
            old_start: line_number(old_range.start, old_range.len()),
            old_lines: old_range.len(),
            new_start: line_number(new_range.start, new_range.len()),
            new_lines: new_range.len(),
            lines,
            old_missing_newline: old_missing && !old_range.is_empty() && old_range.end == old.lines.len(),
            new_missing_newline: new_missing && !new_range.is_empty() && new_range.end == new.lines.len(),
            crlf: new.eol == Eol::CrLf,
        });
    }
    out
}

/// What the diff compares of each line. The unterminated last line differs
/// from the same text with an ending, which is how a change to the final
/// newline becomes a hunk.
fn keys<'d>(doc: &'d Doc<'_>) -> Vec<(&'d str, Ending)> {
    let ending = |eol: &str| match eol {
        "" => Ending::None,
        e if e == doc.eol.as_str() => Ending::Prevailing,
        _ => Ending::Other,
    };
    doc.lines.iter().map(|l| (l.text.as_ref(), ending(l.eol))).collect()
}

/// How a line ends, relative to its file, for comparing lines of two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ending {
    Prevailing,
    Other,
    None,
}

/// Why a hunk could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyFailure {
    /// Neither exactly nor ignoring trailing whitespace.
    #[error("its context and removed lines are not in the file")]
    NotFound,
    /// The nearest matches are as near as each other.
    #[error("its context and removed lines occur at lines {}, equally near line {expected}", list(.lines))]
    Ambiguous {
        /// The 1-based lines where the equally near matches start.
        lines: Vec<usize>,
        /// The 1-based line where the hunk was expected.
        expected: usize,
    },
    /// A hunk that adds or removes the final newline must end at the end.
    #[error("it changes the newline at the end of the file, but its lines are not at the end of the file")]
    NotAtEnd,
}

/// A hunk that [`apply_hunks`] could not place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hunk {} {header} does not apply: {why}", .index + 1)]
pub struct ApplyError {
    /// The hunk's position in the slice given to [`apply_hunks`], from 0
    /// (the message counts from 1).
    pub index: usize,
    /// The hunk's `@@ -a,b +c,d @@` header.
    pub header: String,
    /// What went wrong.
    pub why: ApplyFailure,
}

/// Applies `hunks`, in order, to `text`.
///
/// `text` may differ from the version the hunks were made from: each hunk is
/// looked for by its old side (context and removed lines), first where its
/// line numbers and the hunks before it say it should be, then at the
/// nearest place that matches exactly, then at the nearest place that
/// matches ignoring trailing whitespace. Context lines keep the text as it
/// is in `text`. Added lines take `text`'s prevailing line ending, and
/// `text` keeps its final-newline state unless a hunk changes it.
pub fn apply_hunks(text: &str, hunks: &[Hunk]) -> Result<String, ApplyError> {
    let mut doc = target(text, hunks);
    let mut missing = doc.missing_final_newline();
    let mut offset = 0isize;
    // Where the previous hunk's changes ended: the next one's changes may not
    // start before it, though their context may overlap (as split pieces do).
    let mut floor = 0usize;
    for (index, h) in hunks.iter().enumerate() {
        let sides = Sides::of(h);
        let expected = shift(sides.old_index(h), offset);
        let anchored = h.old_missing_newline != h.new_missing_newline;
        let at = locate(&doc.lines, &sides.old, expected, floor.saturating_sub(sides.lead), anchored)
            .map_err(|why| ApplyError { index, header: header(h), why })?;
        splice(&mut doc, at, h);
        offset = (at + sides.new_len) as isize - (sides.old_index(h) + sides.old.len()) as isize;
        floor = at + sides.new_len - sides.trail.min(sides.new_len);
        if anchored {
            missing = h.new_missing_newline;
        }
    }
    doc.set_final_newline(missing);
    Ok(doc.render())
}

/// `base` with only the hunks whose entry in `accepted` is true (a missing
/// entry counts as false), each applied exactly where its line numbers say.
///
/// The hunks must come from [`hunks`] on this `base` (or from [`split`] of
/// those): their old sides are trusted, not checked.
pub fn select(base: &str, hunks: &[Hunk], accepted: &[bool]) -> String {
    let mut doc = target(base, hunks);
    let mut missing = doc.missing_final_newline();
    let mut offset = 0isize;
    for (h, _) in hunks.iter().zip(accepted).filter(|(_, ok)| **ok) {
        let sides = Sides::of(h);
        let at = shift(sides.old_index(h), offset).min(doc.lines.len());
        splice(&mut doc, at, h);
        offset += sides.new_len as isize - sides.old.len() as isize;
        if h.old_missing_newline != h.new_missing_newline {
            missing = h.new_missing_newline;
        }
    }
    doc.set_final_newline(missing);
    doc.render()
}

/// Splits a hunk at the unchanged lines between its separate changes, so
/// each change can be decided on its own. The context between two changes
/// goes to both pieces. A hunk with a single change comes back whole.
pub fn split(h: &Hunk) -> Vec<Hunk> {
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (i, line) in h.lines.iter().enumerate() {
        if line.kind == LineKind::Context {
            continue;
        }
        match groups.last_mut() {
            Some((_, end)) if *end == i => *end = i + 1,
            _ => groups.push((i, i + 1)),
        }
    }
    if groups.len() < 2 {
        return vec![h.clone()];
    }
    let sides = Sides::of(h);
    let (old_base, new_base) = (sides.old_index(h), sides.new_index(h));
    let count = |lines: &[HunkLine], skip: LineKind| lines.iter().filter(|l| l.kind != skip).count();
    let last = groups.len() - 1;
    (0..groups.len())
        .map(|k| {
            let start = if k == 0 { 0 } else { groups[k - 1].1 };
            let end = if k == last { h.lines.len() } else { groups[k + 1].0 };
            let lines = h.lines[start..end].to_vec();
            let before = &h.lines[..start];
            let (old_lines, new_lines) = (count(&lines, LineKind::Added), count(&lines, LineKind::Removed));
            Hunk {
                old_start: line_number(old_base + count(before, LineKind::Added), old_lines),
                old_lines,
                new_start: line_number(new_base + count(before, LineKind::Removed), new_lines),
                new_lines,
                lines,
                // Only the last piece reaches the end of the file.
                old_missing_newline: k == last && h.old_missing_newline,
                new_missing_newline: k == last && h.new_missing_newline,
                crlf: h.crlf,
            }
        })
        .collect()
}

/// Lines added and removed over all `hunks`: `(added, removed)`.
pub(crate) fn counts(hunks: &[Hunk]) -> (usize, usize) {
    let lines = || hunks.iter().flat_map(|h| &h.lines);
    (lines().filter(|l| l.kind == LineKind::Added).count(), lines().filter(|l| l.kind == LineKind::Removed).count())
}

/// The unified-diff header, `@@ -a,b +c,d @@`.
pub(crate) fn header(h: &Hunk) -> String {
    format!("@@ -{},{} +{},{} @@", h.old_start, h.old_lines, h.new_start, h.new_lines)
}

/// A short hash of a hunk's lines and final-newline flags (not of its
/// position), as 16 hex digits: 64-bit FNV-1a, stable across builds and
/// platforms, for naming a hunk in the audit log.
pub(crate) fn hunk_hash(h: &Hunk) -> String {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for line in &h.lines {
        feed(match line.kind {
            LineKind::Context => b" ",
            LineKind::Removed => b"-",
            LineKind::Added => b"+",
        });
        feed(line.text.as_bytes());
        feed(b"\n");
    }
    // Spelled as in a unified diff so that hunks that differ only here differ.
    if h.old_missing_newline {
        feed(b"\\old\n");
    }
    if h.new_missing_newline {
        feed(b"\\new\n");
    }
    format!("{hash:016x}")
}

/// The text to apply `hunks` to, with the ending its new lines get.
fn target<'a>(text: &'a str, hunks: &[Hunk]) -> Doc<'a> {
    let mut doc = Doc::parse(text);
    if !doc.has_endings() && hunks.iter().any(|h| h.crlf) {
        doc.eol = Eol::CrLf;
    }
    doc
}

/// A hunk's two sides, as `apply_hunks` needs them.
struct Sides<'h> {
    old: Vec<&'h str>,
    new_len: usize,
    /// Context lines before the first change and after the last one.
    lead: usize,
    trail: usize,
}

impl<'h> Sides<'h> {
    fn of(h: &'h Hunk) -> Self {
        let old = h.lines.iter().filter(|l| l.kind != LineKind::Added).map(|l| l.text.as_str()).collect();
        let new_len = h.lines.iter().filter(|l| l.kind != LineKind::Removed).count();
        let is_context = |l: &&HunkLine| l.kind == LineKind::Context;
        let lead = h.lines.iter().take_while(is_context).count();
        let trail = h.lines.iter().rev().take_while(is_context).count();
        Sides { old, new_len, lead, trail }
    }

    /// The 0-based index of the first old line; for an old side with no
    /// lines, the index it inserts before (`old_start` is then the line it
    /// inserts after).
    fn old_index(&self, h: &Hunk) -> usize {
        if self.old.is_empty() { h.old_start } else { h.old_start.saturating_sub(1) }
    }

    fn new_index(&self, h: &Hunk) -> usize {
        if self.new_len == 0 { h.new_start } else { h.new_start.saturating_sub(1) }
    }
}

/// The unified-diff line number for a side starting at `index` with `len`
/// lines: 1-based, or the line before when the side is empty.
fn line_number(index: usize, len: usize) -> usize {
    if len == 0 { index } else { index + 1 }
}

fn shift(index: usize, offset: isize) -> usize {
    index.saturating_add_signed(offset)
}

/// Where `old` starts in `lines`, at or after `min`; see [`apply_hunks`].
/// `at_end`: the old side must end where the file ends.
fn locate(lines: &[Line<'_>], old: &[&str], expected: usize, min: usize, at_end: bool) -> Result<usize, ApplyFailure> {
    if old.is_empty() {
        let at = if at_end { lines.len() } else { expected.min(lines.len()).max(min.min(lines.len())) };
        return Ok(at);
    }
    let Some(last) = lines.len().checked_sub(old.len()) else {
        return Err(if at_end { ApplyFailure::NotAtEnd } else { ApplyFailure::NotFound });
    };
    for ignore_trailing_space in [false, true] {
        let eq = |a: &str, b: &str| if ignore_trailing_space { a.trim_end() == b.trim_end() } else { a == b };
        let matches_at = |at: usize| lines[at..at + old.len()].iter().zip(old).all(|(l, o)| eq(&l.text, o));
        if at_end {
            if last >= min && matches_at(last) {
                return Ok(last);
            }
            continue;
        }
        if (min..=last).contains(&expected) && matches_at(expected) {
            return Ok(expected);
        }
        let found: Vec<usize> = (min..=last).filter(|&at| matches_at(at)).collect();
        let Some(best) = found.iter().map(|&at| at.abs_diff(expected)).min() else { continue };
        let nearest: Vec<usize> = found.into_iter().filter(|&at| at.abs_diff(expected) == best).collect();
        if let [at] = nearest[..] {
            return Ok(at);
        }
        return Err(ApplyFailure::Ambiguous {
            lines: nearest.iter().map(|at| at + 1).collect(),
            expected: expected + 1,
        });
    }
    Err(if at_end { ApplyFailure::NotAtEnd } else { ApplyFailure::NotFound })
}

/// Replaces the hunk's old side at `at` with its new side. Context comes
/// from the document (it may differ from the hunk's in whitespace); added
/// lines get the document's line ending.
fn splice<'a>(doc: &mut Doc<'a>, at: usize, h: &'a Hunk) {
    let eol = doc.eol.as_str();
    let mut next = at;
    let mut replacement = Vec::new();
    for line in &h.lines {
        match line.kind {
            LineKind::Context => {
                let kept = doc.lines.get(next).cloned().unwrap_or_else(|| Line::new(line.text.as_str(), eol));
                replacement.push(kept);
                next += 1;
            }
            LineKind::Removed => next += 1,
            LineKind::Added => replacement.push(Line::new(line.text.as_str(), eol)),
        }
    }
    let end = next.min(doc.lines.len());
    doc.lines.splice(at..end, replacement);
}

fn list(lines: &[usize]) -> String {
    lines.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(h: &Hunk) -> String {
        let mut out = header(h);
        for l in &h.lines {
            let sign = match l.kind {
                LineKind::Context => ' ',
                LineKind::Removed => '-',
                LineKind::Added => '+',
            };
            out.push('\n');
            out.push(sign);
            out.push_str(&l.text);
        }
        out
    }

    #[test]
    fn three_lines_of_context_like_diff_u3() {
        let base = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n";
        let proposed = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\n13\nfourteen\n15\n";
        let hs = hunks(base, proposed);
        assert_eq!(hs.len(), 2);
        assert_eq!(render(&hs[0]), "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8");
        assert_eq!(render(&hs[1]), "@@ -11,5 +11,5 @@\n 11\n 12\n 13\n-14\n+fourteen\n 15");
        assert_eq!(counts(&hs), (2, 2));
    }

    #[test]
    fn nearby_changes_share_a_hunk_and_split_apart() {
        let base = "a\nb\nc\nd\ne\nf\ng\n";
        let proposed = "A\nb\nc\nd\ne\nf\nG\n";
        let hs = hunks(base, proposed);
        assert_eq!(hs.len(), 1);
        let pieces = split(&hs[0]);
        assert_eq!(pieces.len(), 2);
        assert_eq!(render(&pieces[0]), "@@ -1,6 +1,6 @@\n-a\n+A\n b\n c\n d\n e\n f");
        assert_eq!(render(&pieces[1]), "@@ -2,6 +2,6 @@\n b\n c\n d\n e\n f\n-g\n+G");
        assert_eq!(select(base, &pieces, &[false, true]), "a\nb\nc\nd\ne\nf\nG\n");
        assert_eq!(apply_hunks(base, &pieces[1..]).as_deref(), Ok("a\nb\nc\nd\ne\nf\nG\n"));
        assert_eq!(apply_hunks(base, &pieces).as_deref(), Ok(proposed));
        assert_eq!(split(&pieces[0]), vec![pieces[0].clone()]);
    }

    #[test]
    fn empty_files_and_headers() {
        let add = hunks("", "x\ny\n");
        assert_eq!(render(&add[0]), "@@ -0,0 +1,2 @@\n+x\n+y");
        let delete = hunks("x\n", "");
        assert_eq!(render(&delete[0]), "@@ -1,1 +0,0 @@\n-x");
        assert!(hunks("same\n", "same\n").is_empty());
        assert_eq!(apply_hunks("", &add).as_deref(), Ok("x\ny\n"));
        assert_eq!(apply_hunks("x\n", &delete).as_deref(), Ok(""));
    }

    #[test]
    fn final_newline_added_and_removed() {
        let hs = hunks("a\nb", "a\nb\n");
        assert_eq!(render(&hs[0]), "@@ -1,2 +1,2 @@\n a\n-b\n+b");
        assert!(hs[0].old_missing_newline && !hs[0].new_missing_newline);
        assert_eq!(apply_hunks("a\nb", &hs).as_deref(), Ok("a\nb\n"));
        let hs = hunks("a\nb\n", "a\nb");
        assert_eq!(apply_hunks("a\nb\n", &hs).as_deref(), Ok("a\nb"));
        // A target that has since grown below the hunk cannot lose its end there.
        let err = apply_hunks("a\nb\nc\n", &hs).unwrap_err();
        assert_eq!(err.why, ApplyFailure::NotAtEnd);
    }

    #[test]
    fn target_keeps_its_own_final_newline_state() {
        // Appending to an unterminated file: the new last line stays unterminated.
        let hs = hunks("a\nb", "a\nb\nc");
        assert_eq!(apply_hunks("a\nb", &hs).as_deref(), Ok("a\nb\nc"));
        // The same hunk on a copy that does end in a newline keeps it.
        assert_eq!(apply_hunks("a\nb\n", &hs).as_deref(), Ok("a\nb\nc\n"));
    }

    #[test]
    fn crlf_files_stay_crlf_and_the_index_copy_keeps_lf() {
        let base = "one\r\ntwo\r\nthree\r\n";
        let hs = hunks(base, "one\r\n2\r\nthree\r\n");
        assert!(hs[0].lines.iter().all(|l| !l.text.contains('\r')));
        assert_eq!(apply_hunks(base, &hs).as_deref(), Ok("one\r\n2\r\nthree\r\n"));
        // git's index holds LF when core.autocrlf converts on checkout.
        assert_eq!(apply_hunks("one\ntwo\nthree\n", &hs).as_deref(), Ok("one\n2\nthree\n"));
    }

    #[test]
    fn mixed_endings_are_kept_where_untouched() {
        let base = "a\nb\r\nc\nd\n";
        let proposed = "a\nb\r\nc\nD\n";
        let hs = hunks(base, proposed);
        assert_eq!(render(&hs[0]), "@@ -1,4 +1,4 @@\n a\n b\n c\n-d\n+D");
        assert_eq!(apply_hunks(base, &hs).as_deref(), Ok(proposed));
        // Rewriting the file's odd ending is a change of that line.
        let hs = hunks(base, "a\nb\nc\nd\n");
        assert_eq!(counts(&hs), (1, 1));
        assert_eq!(apply_hunks(base, &hs).as_deref(), Ok("a\nb\nc\nd\n"));
    }

    #[test]
    fn a_proposal_in_other_endings_differs_only_in_its_text() {
        let hs = hunks("one\r\ntwo\r\n", "one\nTWO\n");
        assert_eq!(counts(&hs), (1, 1));
        assert_eq!(apply_hunks("one\r\ntwo\r\n", &hs).as_deref(), Ok("one\r\nTWO\r\n"));
    }

    #[test]
    fn applies_to_a_file_that_moved_on() {
        let base = "a\nb\nc\nd\ne\n";
        let hs = hunks(base, "a\nb\nC\nd\ne\n");
        let drifted = "new 1\nnew 2\na\nb  \nc\nd\ne\n";
        assert_eq!(apply_hunks(drifted, &hs).as_deref(), Ok("new 1\nnew 2\na\nb  \nC\nd\ne\n"));
    }

    #[test]
    fn nearest_match_wins_and_ties_are_errors() {
        let h = hunks("x\nold\ny\n", "x\nnew\ny\n").remove(0);
        let text = "x\nold\ny\nfiller\nx\nold\ny\n";
        let moved = Hunk { old_start: 5, new_start: 5, ..h.clone() };
        assert_eq!(apply_hunks(text, std::slice::from_ref(&moved)).as_deref(), Ok("x\nold\ny\nfiller\nx\nnew\ny\n"));
        let between = Hunk { old_start: 3, new_start: 3, ..h };
        let err = apply_hunks(text, &[between]).unwrap_err();
        assert_eq!(err.why, ApplyFailure::Ambiguous { lines: vec![1, 5], expected: 3 });
        assert_eq!(
            err.to_string(),
            "hunk 1 @@ -3,3 +3,3 @@ does not apply: its context and removed lines occur at lines 1 and 5, \
             equally near line 3"
        );
    }

    #[test]
    fn missing_context_names_the_hunk() {
        let hs = hunks("a\nb\nc\n", "a\nB\nc\n");
        let err = apply_hunks("something else\n", &hs).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hunk 1 @@ -1,3 +1,3 @@ does not apply: its context and removed lines are not in the file"
        );
    }

    #[test]
    fn hash_is_stable_and_ignores_position() {
        let h = hunks("a\nb\n", "a\nc\n").remove(0);
        let moved = Hunk { old_start: 40, new_start: 41, ..h.clone() };
        assert_eq!(hunk_hash(&h), hunk_hash(&moved));
        assert_eq!(hunk_hash(&h).len(), 16);
        assert_eq!(hunk_hash(&h), "66d88a101d3b28b5");
        assert_ne!(hunk_hash(&h), hunk_hash(&hunks("a\nb\n", "a\nd\n")[0]));
    }
}
