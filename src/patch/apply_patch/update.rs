//! Applying the chunks of an `*** Update File` to the file's text.

use super::{Chunk, PatchError};
use crate::patch::fuzzy::{self, Level, Reindent};
use crate::patch::lines::{Doc, Line};
use crate::patch::matching::{closest_hint, tabs_hint};
use crate::patch::{HunkLine, LineKind};

/// `content` with `chunks` applied, keeping its line endings and, unless a
/// chunk says otherwise, its final-newline state.
pub(super) fn apply_chunks(path: &str, content: &str, chunks: &[Chunk]) -> Result<String, PatchError> {
    let doc = Doc::parse(content);
    let hay = doc.texts();
    let eol = doc.eol.as_str();
    let mut missing = doc.missing_final_newline();
    // (first line replaced, lines replaced, replacement), in file order.
    let mut edits: Vec<(usize, usize, Vec<Line<'_>>)> = Vec::new();
    // Each chunk is looked for after the previous one.
    let mut cursor = 0;
    for (n, chunk) in chunks.iter().enumerate() {
        let fail =
            |message: String| PatchError::Chunk { path: path.to_string(), chunk: n + 1, line: chunk.line, message };
        let mut anchor = None;
        for text in &chunk.anchors {
            let Some(at) = find_anchor(&hay, text, cursor) else {
                let after = if cursor > 0 { format!(" after line {cursor}") } else { String::new() };
                return Err(fail(format!(
                    "no line of the file matches `@@ {text}`{after}; an `@@` line quotes one line of the file (such \
                     as the line declaring the enclosing function or class), and stacked `@@` lines must come in \
                     file order"
                )));
            };
            anchor = Some(at);
            cursor = at + 1;
        }
        let found = locate(&hay, chunk, anchor, cursor).map_err(fail)?;
        let Found { at, lines, level } = found;
        let old: Vec<&str> = old_side(lines);
        let end = at + old.len();
        if chunk.old_missing_newline || chunk.new_missing_newline {
            if end != hay.len() {
                return Err(fail(format!(
                    "`\\ No newline at end of file` only fits a chunk that ends at the end of the file, and this \
                     one ends at line {end} of {}",
                    hay.len()
                )));
            }
            missing = chunk.new_missing_newline;
        }
        let reindent =
            if level.reindents() { Reindent::between(&hay[at..end], &old) } else { Some(Reindent::default()) };
        let Some(reindent) = reindent else {
            return Err(fail(uneven(&hay, &old, at)));
        };
        let mut next = at;
        let mut replacement = Vec::new();
        for line in lines {
            match line.kind {
                // The file's own line: the chunk's copy may differ in whitespace.
                LineKind::Context => {
                    replacement.push(doc.lines[next].clone());
                    next += 1;
                }
                LineKind::Removed => next += 1,
                LineKind::Added => {
                    let Some(text) = reindent.apply(&line.text) else {
                        return Err(fail(format!(
                            "its context and removed lines match with their indentation shifted ({}), but the added \
                             line `{}` is indented less than that, so it would fall outside the block being edited; \
                             write the chunk with the file's own indentation",
                            reindent.describe(),
                            line.text
                        )));
                    };
                    replacement.push(Line::new(text.into_owned(), eol));
                }
            }
        }
        edits.push((at, old.len(), replacement));
        if !old.is_empty() {
            cursor = end;
        }
    }
    // A chunk with nothing to find appends at the end, so later chunks may
    // sit before it.
    edits.sort_by_key(|(at, _, _)| *at);
    let mut out = Doc { lines: Vec::with_capacity(doc.lines.len()), eol: doc.eol };
    let mut next = 0;
    for (at, len, replacement) in edits {
        out.lines.extend_from_slice(&doc.lines[next..at]);
        out.lines.extend(replacement);
        next = at + len;
    }
    out.lines.extend_from_slice(&doc.lines[next..]);
    out.set_final_newline(missing);
    Ok(out.render())
}

/// Where a chunk's lines go.
struct Found<'c> {
    at: usize,
    /// The chunk's lines, less any blank context lines at the end that did
    /// not fit (the blank line before the next marker that Codex models
    /// tend to leave).
    lines: &'c [HunkLine],
    level: Level,
}

fn old_side(lines: &[HunkLine]) -> Vec<&str> {
    lines.iter().filter(|l| l.kind != LineKind::Added).map(|l| l.text.as_str()).collect()
}

/// Finds the chunk's old side at or after `cursor` (or at the end of the
/// file, for `*** End of File`); the error says what to fix.
fn locate<'c>(hay: &[&str], chunk: &'c Chunk, anchor: Option<usize>, cursor: usize) -> Result<Found<'c>, String> {
    let trailing_blanks =
        chunk.lines.iter().rev().take_while(|l| l.kind == LineKind::Context && l.text.trim().is_empty()).count();
    let variants = [&chunk.lines[..], &chunk.lines[..chunk.lines.len() - trailing_blanks]];
    let old = old_side(&chunk.lines);
    if old.is_empty() {
        // Nothing to find: the lines go after the anchor, or at the end.
        let at = if chunk.end_of_file || anchor.is_none() { hay.len() } else { cursor };
        return Ok(Found { at, lines: &chunk.lines, level: Level::Exact });
    }
    // `@@ def f():` followed by ` def f():` as context: the anchor line is
    // also the chunk's first line.
    let from = match anchor {
        Some(a) if Level::Unicode.key(hay[a]) == Level::Unicode.key(old[0]) => a,
        _ => cursor,
    };
    for lines in variants.into_iter().take(if trailing_blanks > 0 { 2 } else { 1 }) {
        let old = old_side(lines);
        if old.is_empty() {
            continue;
        }
        if chunk.end_of_file {
            let Some(last) = hay.len().checked_sub(old.len()).filter(|&last| last >= from) else { continue };
            if let Some(level) = Level::ALL.into_iter().find(|&l| fuzzy::find_at(hay, &old, last, l).contains(&last)) {
                return Ok(Found { at: last, lines, level });
            }
            continue;
        }
        let Some((level, starts)) = fuzzy::find(hay, &old, from) else { continue };
        // After an anchor the first match is meant; without one, a guess
        // between equals could edit the wrong place.
        if starts.len() > 1 && anchor.is_none() {
            let at: Vec<String> = starts.iter().map(|s| (s + 1).to_string()).collect();
            return Err(format!(
                "its context and removed lines match {} places (lines {}); add context lines, or an `@@` line \
                 quoting the line that declares the enclosing function or class, so that they match one",
                starts.len(),
                at.join(", ")
            ));
        }
        return Ok(Found { at: starts[0], lines, level });
    }
    Err(not_found(hay, chunk, &old, from))
}

/// Why the chunk's lines are not where they should be, as precisely as can
/// be told.
fn not_found(hay: &[&str], chunk: &Chunk, old: &[&str], from: usize) -> String {
    let after = if from > 0 { format!(" after line {from}") } else { String::new() };
    if let Some(at) = fuzzy::find_uneven(hay, old, from) {
        return uneven(hay, old, at);
    }
    if let Some((_, starts)) = fuzzy::find(hay, old, 0) {
        let line = starts[0] + 1;
        return if chunk.end_of_file && starts.iter().all(|&s| s >= from) {
            format!(
                "it is marked `*** End of File` but its lines are at line {line}, not at the end of the file ({} \
                 lines); drop the marker or quote the file's last lines",
                hay.len()
            )
        } else {
            format!(
                "its lines are at line {line}, before the place the previous chunks and `@@` lines lead to \
                 (line {}); chunks must follow the order of the file",
                from + 1
            )
        };
    }
    let new: Vec<&str> = chunk.lines.iter().filter(|l| l.kind != LineKind::Removed).map(|l| l.text.as_str()).collect();
    let changes = chunk.lines.iter().any(|l| l.kind != LineKind::Context);
    if changes && let Some((_, starts)) = fuzzy::find(hay, &new, 0) {
        return format!(
            "its context and removed lines were not found, but its context and added lines are at line {}: the \
             change seems already applied",
            starts[0] + 1
        );
    }
    format!("its context and removed lines were not found{after}. {}", closest_hint(hay, old))
}

/// The error for a chunk whose lines are at `at` only if each is
/// re-indented on its own.
fn uneven(hay: &[&str], old: &[&str], at: usize) -> String {
    let len = old.len();
    format!(
        "its context and removed lines match lines {}-{} only if they are re-indented by different amounts, which \
         would change which block each line is in; write them with the file's own indentation{}:\n{}",
        at + 1,
        at + len,
        tabs_hint(&hay[at..at + len], old),
        fuzzy::excerpt(hay, at, len).trim_end()
    )
}

/// The first line at or after `from` that `text` names: a whole line at
/// the most exact level that finds one, else a line containing it.
fn find_anchor(hay: &[&str], text: &str, from: usize) -> Option<usize> {
    if let Some((_, starts)) = fuzzy::find(hay, &[text], from) {
        return starts.first().copied();
    }
    let wanted = Level::Unicode.key(text);
    (from..hay.len()).find(|&i| Level::Unicode.key(hay[i]).contains(wanted.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::super::{FileOp, Patch};
    use super::*;

    fn update(content: &str, body: &str) -> Result<String, String> {
        let text = format!("*** Begin Patch\n*** Update File: f.txt\n{body}\n*** End Patch");
        let Ok(Patch { ops }) = parse(&text) else { return Err("does not parse".into()) };
        let Some(FileOp::Update { chunks, .. }) = ops.first() else { return Err("not an update".into()) };
        apply_chunks("f.txt", content, chunks).map_err(|e| e.to_string())
    }

    #[test]
    fn levels_and_reindent() {
        let content = "def f():\n    if x:\n        a = 1   \n        b = 2\n";
        assert_eq!(
            update(content, "@@\n         a = 1\n-        b = 2\n+        b = 3"),
            Ok(content.replace("b = 2", "b = 3"))
        );
        // The model dropped the indentation: the added line gets the file's.
        assert_eq!(
            update(content, "@@\n if x:\n-    a = 1\n+    a = 10\n+    c = 0"),
            Ok("def f():\n    if x:\n        a = 10\n        c = 0\n        b = 2\n".into())
        );
        let typographic = "say(“hi”) — ok\nnext\n";
        assert_eq!(update(typographic, "@@\n-say(\"hi\") - ok\n+say(\"bye\")"), Ok("say(\"bye\")\nnext\n".into()));
    }

    #[test]
    fn anchors_nest_and_pick_the_first_match_after_them() {
        let content = "class A:\n    def f():\n        return 1\nclass B:\n    def f():\n        return 1\n";
        let in_b = |value: &str| {
            format!("class A:\n    def f():\n        return 1\nclass B:\n    def f():\n        return {value}\n")
        };
        assert_eq!(
            update(content, "@@ class B:\n@@     def f():\n-        return 1\n+        return 2"),
            Ok(in_b("2"))
        );
        // Without anchors the same lines are ambiguous.
        assert_eq!(
            update(content, "@@\n-        return 1\n+        return 2"),
            Err("f.txt: chunk 1 (patch line 3): its context and removed lines match 2 places (lines 3, 6); add \
                 context lines, or an `@@` line quoting the line that declares the enclosing function or class, so \
                 that they match one"
                .into())
        );
        // An anchor may name only part of its line, and may be the chunk's first context line too.
        assert_eq!(update(content, "@@ class B\n-        return 1\n+        return 3"), Ok(in_b("3")));
        let repeated = "@@ class B:\n class B:\n     def f():\n-        return 1\n+        return 4";
        assert_eq!(update(content, repeated), Ok(in_b("4")));
        assert_eq!(
            update(content, "@@ class C:\n-x\n+y"),
            Err("f.txt: chunk 1 (patch line 3): no line of the file matches `@@ class C:`; an `@@` line quotes one \
                 line of the file (such as the line declaring the enclosing function or class), and stacked `@@` \
                 lines must come in file order"
                .into())
        );
    }

    #[test]
    fn end_of_file_and_final_newline() {
        assert_eq!(update("a\nb\nb\n", "@@\n-b\n+c\n*** End of File"), Ok("a\nb\nc\n".into()));
        assert_eq!(update("a\nb", "@@\n a\n-b\n+c"), Ok("a\nc".into()));
        assert_eq!(update("a\nb", "@@\n-b\n\\ No newline at end of file\n+b"), Ok("a\nb\n".into()));
        assert_eq!(update("a\nb\n", "@@\n-b\n+b\n\\ No newline at end of file"), Ok("a\nb".into()));
        assert_eq!(update("a\nb", "@@\n+c\n*** End of File"), Ok("a\nb\nc".into()));
        assert_eq!(
            update("a\nb\nc\n", "@@\n-a\n+x\n*** End of File"),
            Err("f.txt: chunk 1 (patch line 3): it is marked `*** End of File` but its lines are at line 1, not at \
                 the end of the file (3 lines); drop the marker or quote the file's last lines"
                .into())
        );
    }

    #[test]
    fn crlf_is_kept() {
        assert_eq!(update("a\r\nb\r\nc\r\n", "@@\n a\n-b\n+B\n+B2"), Ok("a\r\nB\r\nB2\r\nc\r\n".into()));
    }

    #[test]
    fn blank_line_before_the_next_marker_is_forgiven() {
        assert_eq!(update("a\nb\n", "@@\n-a\n+x\n"), Ok("x\nb\n".into()));
    }

    #[test]
    fn order_already_applied_and_not_found() {
        let content = "one\ntwo\nthree\nfour\n";
        assert_eq!(
            update(content, "@@\n-three\n+3\n@@\n-one\n+1"),
            Err("f.txt: chunk 2 (patch line 6): its lines are at line 1, before the place the previous chunks and \
                 `@@` lines lead to (line 4); chunks must follow the order of the file"
                .into())
        );
        assert_eq!(
            update("one\n2\nthree\n", "@@\n one\n-two\n+2"),
            Err("f.txt: chunk 1 (patch line 3): its context and removed lines were not found, but its context and \
                 added lines are at line 1: the change seems already applied"
                .into())
        );
        let message = update(content, "@@\n one\n-twelve\n+12").unwrap_err();
        assert!(message.contains("The most similar part of the file is lines 1-2:\n1 | one\n2 | two\n"), "{message}");
    }

    #[test]
    fn pure_additions_go_after_the_anchor_or_at_the_end() {
        assert_eq!(update("fn a() {\n}\n", "@@ fn a() {\n+    body();"), Ok("fn a() {\n    body();\n}\n".into()));
        assert_eq!(update("x\n", "@@\n+y"), Ok("x\ny\n".into()));
    }
}
