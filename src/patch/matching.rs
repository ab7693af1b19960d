//! Replacing the text the model quotes (`old_text`) with its new text, when
//! the quote may differ from the file in whitespace or typography.
//!
//! The quote is looked for exactly first (anywhere, even inside a line),
//! then as whole lines ignoring trailing whitespace, then ignoring
//! indentation, then with typographic punctuation and Unicode spaces read
//! as ASCII. Indentation may differ only by one uniform shift, which the
//! new text is then given too; lines the new text keeps from the quote
//! keep the file's own bytes. Errors are written for the model to correct
//! its next call.

use super::fuzzy::{self, Level, Reindent};
use super::lines::{Doc, Eol};

/// Why an edit could not be made; the messages are addressed to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// An empty quote would match everywhere.
    #[error(
        "`old_text` is empty but {path} is not. To replace the whole file use write_file; otherwise put the \
         lines to change in `old_text`"
    )]
    EmptyOldText { path: String },
    /// The edit would change nothing.
    #[error("`old_text` and `new_text` are the same, so the edit would change nothing in {path}")]
    NoChange { path: String },
    /// The quote matches more than once and `replace_all` is not set.
    #[error(
        "`old_text` matches {} places in {path} (lines {}); include more surrounding lines so it matches one, or \
         set replace_all",
        .lines.len(),
        join(.lines)
    )]
    Ambiguous {
        path: String,
        /// 1-based first lines of the matches.
        lines: Vec<usize>,
    },
    /// The new text is there and the old one is not.
    #[error(
        "`old_text` was not found in {path}, but `new_text` is already there (line {line}): the edit seems \
         already applied. Read the file again before editing it further"
    )]
    AlreadyApplied {
        path: String,
        /// 1-based line where the new text starts.
        line: usize,
    },
    /// The quote's lines are there, but indented by different amounts than
    /// the file's: matching them would move lines between blocks.
    #[error(
        "`old_text` matches lines {first}-{last} of {path} only if its lines are re-indented by different amounts, \
         which would change which block each line is in; nothing was changed. Quote the lines with the file's own \
         indentation{tabs}:\n{excerpt}"
    )]
    UnevenIndentation {
        path: String,
        /// 1-based lines of the file the quote would match.
        first: usize,
        last: usize,
        /// Says so when the file indents with tabs and the quote with
        /// spaces, or the other way round.
        tabs: &'static str,
        excerpt: String,
    },
    /// The quote matched with its indentation shifted, and a line of the
    /// new text lacks the indentation that shift takes away.
    #[error(
        "`old_text` matches {path} with its indentation shifted ({shift}), but line {line} of `new_text` is \
         indented less than that, so it would fall outside the block being edited; nothing was changed. Quote \
         `old_text` and write `new_text` with the file's own indentation"
    )]
    NewTextIndentation {
        path: String,
        /// 1-based line of `new_text`.
        line: usize,
        shift: String,
    },
    /// The quote is nowhere in the file, even loosely.
    #[error("`old_text` was not found in {path}. {hint}")]
    NotFound {
        path: String,
        /// Where the most similar lines are, with the lines themselves.
        hint: String,
    },
}

/// `content` with `old` replaced by `new` (every occurrence if
/// `replace_all`, otherwise the only one). `path` only names the file in
/// errors.
///
/// The model writes `\n`; `new` is given the file's prevailing line ending.
/// When the quote matched only ignoring indentation (which it may only by
/// one uniform shift), `new` is shifted the same way; its lines that are
/// the quote's lines unchanged stay the file's lines byte for byte.
pub fn edit(path: &str, content: &str, old: &str, new: &str, replace_all: bool) -> Result<String, EditError> {
    let path = path.to_string();
    let doc = Doc::parse(content);
    if old.is_empty() {
        return if content.is_empty() { Ok(new.to_string()) } else { Err(EditError::EmptyOldText { path }) };
    }
    if old == new {
        return Err(EditError::NoChange { path });
    }
    if let Some(result) = edit_exact(&path, content, doc.eol, old, new, replace_all)? {
        return Ok(result);
    }
    let quote = Quote::of(old);
    let hay = doc.texts();
    if let Some((level, starts)) = fuzzy::find(&hay, &quote.lines, 0) {
        if starts.len() > 1 && !replace_all {
            return Err(EditError::Ambiguous { path, lines: starts.iter().map(|s| s + 1).collect() });
        }
        return replace_lines(&path, &doc, &quote, &fuzzy::disjoint(&starts, quote.lines.len()), level, new);
    }
    if let Some(at) = fuzzy::find_uneven(&hay, &quote.lines, 0) {
        return Err(uneven(path, &hay, at, &quote.lines));
    }
    Err(not_found(path, content, doc.eol, &hay, &quote, new))
}

/// The edit as a plain substring replacement, if the quote (in the file's
/// line endings) occurs verbatim; `Ok(None)` if it does not.
///
/// An occurrence that starts inside a line's indentation leaves part of
/// that indentation outside the quote: when the quote or the new text
/// spans lines, the quote's lines are then indented differently from the
/// file's, and the edit is left to the line matching, which allows that
/// only as one uniform shift.
fn edit_exact(
    path: &str,
    content: &str,
    eol: Eol,
    old: &str,
    new: &str,
    replace_all: bool,
) -> Result<Option<String>, EditError> {
    let old = eol.convert(old);
    let starts: Vec<usize> = content.match_indices(old.as_str()).map(|(at, _)| at).collect();
    let multiline = old.contains('\n') || new.contains('\n');
    if multiline && starts.iter().any(|&at| inside_indentation(content, at)) {
        return Ok(None);
    }
    match starts.len() {
        0 => Ok(None),
        1 => Ok(Some(content.replacen(old.as_str(), &eol.convert(new), 1))),
        _ if replace_all => Ok(Some(content.replace(old.as_str(), &eol.convert(new)))),
        _ => Err(EditError::Ambiguous {
            path: path.to_string(),
            lines: starts.iter().map(|&at| line_of(content, at)).collect(),
        }),
    }
}

/// Whether byte `at` is inside a line's indentation, past its start.
fn inside_indentation(content: &str, at: usize) -> bool {
    let start = content[..at].rfind('\n').map_or(0, |i| i + 1);
    at > start && content[start..at].chars().all(|c| c == ' ' || c == '\t')
}

/// A quote split into the whole lines it names.
struct Quote<'a> {
    lines: Vec<&'a str>,
    /// The quote ends with a line ending, so the matched lines' last ending
    /// is part of what it replaces.
    ends_with_newline: bool,
}

impl<'a> Quote<'a> {
    fn of(text: &'a str) -> Self {
        let ends_with_newline = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines = body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
        Quote { lines, ends_with_newline }
    }
}

/// `doc` with each match (a run of whole lines starting at one of `starts`)
/// replaced by `new`. Lines of `new` that are lines of the quote, unchanged,
/// are the file's lines as they were (with their whitespace, typography
/// and endings); the others are shifted as the quote was, when the match
/// was loose about indentation.
fn replace_lines(
    path: &str,
    doc: &Doc<'_>,
    quote: &Quote<'_>,
    starts: &[usize],
    level: Level,
    new: &str,
) -> Result<String, EditError> {
    let eol = doc.eol.as_str();
    let hay = doc.texts();
    let new = Quote::of(new);
    let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &quote.lines, &new.lines);
    let mut out = String::new();
    let mut next = 0;
    for &at in starts {
        let end = at + quote.lines.len();
        for line in &doc.lines[next..at] {
            out.push_str(&line.text);
            out.push_str(line.eol);
        }
        let reindent =
            if level.reindents() { Reindent::between(&hay[at..end], &quote.lines) } else { Some(Reindent::default()) };
        let Some(reindent) = reindent else { return Err(uneven(path.to_string(), &hay, at, &quote.lines)) };
        // Per line of the new text: the file's line it keeps, if any.
        let mut kept: Vec<Option<usize>> = vec![None; new.lines.len()];
        for op in &ops {
            if let similar::DiffOp::Equal { old_index, new_index, len } = *op {
                for k in 0..len {
                    kept[new_index + k] = Some(at + old_index + k);
                }
            }
        }
        for (j, (line, kept)) in new.lines.iter().zip(&kept).enumerate() {
            let ending = match kept {
                Some(i) => {
                    out.push_str(&doc.lines[*i].text);
                    Some(doc.lines[*i].eol).filter(|e| !e.is_empty()).unwrap_or(eol)
                }
                None => {
                    let shifted = reindent.apply(line).ok_or_else(|| EditError::NewTextIndentation {
                        path: path.to_string(),
                        line: j + 1,
                        shift: reindent.describe(),
                    })?;
                    out.push_str(&shifted);
                    eol
                }
            };
            if j + 1 < new.lines.len() || new.ends_with_newline {
                out.push_str(ending);
            }
        }
        if !quote.ends_with_newline {
            out.push_str(doc.lines[end - 1].eol);
        }
        next = end;
    }
    for line in &doc.lines[next..] {
        out.push_str(&line.text);
        out.push_str(line.eol);
    }
    Ok(out)
}

/// The error for a quote whose lines are at `at` only if each is
/// re-indented on its own.
fn uneven(path: String, hay: &[&str], at: usize, quoted: &[&str]) -> EditError {
    let tabs = tabs_hint(&hay[at..at + quoted.len()], quoted);
    let excerpt = fuzzy::excerpt(hay, at, quoted.len());
    EditError::UnevenIndentation { path, first: at + 1, last: at + quoted.len(), tabs, excerpt }
}

/// Words for an error when the file's lines (`found`) are indented with
/// tabs and the quote's with spaces, or the other way round: the most
/// common way a quote is indented unevenly.
pub(crate) fn tabs_hint(found: &[&str], quoted: &[&str]) -> &'static str {
    let uses = |lines: &[&str], c: char| lines.iter().any(|l| l[..l.len() - l.trim_start().len()].contains(c));
    match (uses(found, '\t'), uses(quoted, '\t')) {
        (true, false) => " (it indents these lines with tabs)",
        (false, true) if uses(found, ' ') => " (it indents these lines with spaces, not tabs)",
        _ => "",
    }
}

/// The error for a quote found nowhere: either the edit is already in the
/// file, or here is what looks most like the quote.
fn not_found(path: String, content: &str, eol: Eol, hay: &[&str], quote: &Quote<'_>, new: &str) -> EditError {
    // Only a new text that adds a line of its own says anything: a bare `}`
    // left over from the old text would be found in any file.
    let old_lines: Vec<&str> = quote.lines.iter().map(|l| l.trim()).collect();
    let distinctive = Quote::of(new).lines.iter().any(|l| !l.trim().is_empty() && !old_lines.contains(&l.trim()));
    if distinctive {
        if let Some(at) = content.find(eol.convert(new).as_str()) {
            return EditError::AlreadyApplied { path, line: line_of(content, at) };
        }
        let new_quote = Quote::of(new);
        if let Some((_, starts)) = fuzzy::find(hay, &new_quote.lines, 0) {
            return EditError::AlreadyApplied { path, line: starts[0] + 1 };
        }
    }
    EditError::NotFound { path, hint: closest_hint(hay, &quote.lines) }
}

/// Where the lines most like `quoted` are, shown with line numbers, and how
/// to go on; shared with the `*** Begin Patch` errors.
pub(crate) fn closest_hint(hay: &[&str], quoted: &[&str]) -> String {
    const ALIKE: f64 = 0.3;
    match fuzzy::closest(hay, quoted) {
        Some((start, score)) if score >= ALIKE => {
            let len = quoted.len().min(hay.len() - start);
            let span =
                if len == 1 { format!("line {}", start + 1) } else { format!("lines {}-{}", start + 1, start + len) };
            format!(
                "The most similar part of the file is {span}:\n{}Quote the file's lines exactly, or read the file \
                 again if it may have changed.",
                fuzzy::excerpt(hay, start, len)
            )
        }
        _ => "Nothing in the file looks like it; read the file again to see its current content.".to_string(),
    }
}

/// The 1-based line of byte `at` in `content`.
fn line_of(content: &str, at: usize) -> usize {
    content[..at].matches('\n').count() + 1
}

fn join(lines: &[usize]) -> String {
    lines.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(content: &str, old: &str, new: &str) -> String {
        match edit("f.rs", content, old, new, false) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn err(content: &str, old: &str, new: &str) -> String {
        match edit("f.rs", content, old, new, false) {
            Ok(s) => panic!("unexpectedly applied: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn exact_inside_a_line() {
        assert_eq!(ok("let x = 1;\nlet y = 2;\n", "x = 1", "x = 10"), "let x = 10;\nlet y = 2;\n");
    }

    #[test]
    fn trailing_whitespace_level() {
        let content = "fn a() {   \n    body();\t\n}\n";
        // The line the edit keeps keeps its trailing tab.
        assert_eq!(ok(content, "fn a() {\n    body();\n", "fn b() {\n    body();\n"), "fn b() {\n    body();\t\n}\n");
    }

    #[test]
    fn indentation_level_reindents_the_new_text() {
        let content = "impl A {\n    fn a() {\n        one();\n    }\n}\n";
        let old = "fn a() {\n    one();\n}";
        let new = "fn a() {\n    one();\n    two();\n}";
        assert_eq!(ok(content, old, new), "impl A {\n    fn a() {\n        one();\n        two();\n    }\n}\n");
        // Over-indented quote: the new text comes back out.
        let old = "            one();\n";
        assert_eq!(ok(content, old, "            uno();\n"), "impl A {\n    fn a() {\n        uno();\n    }\n}\n");
    }

    #[test]
    fn a_quote_indented_unevenly_is_refused_with_the_files_lines() {
        // The `return` quoted at the `if` body's depth: re-indenting from the
        // first line put the file's `return` into the `if`.
        let content = "def check(x):\n    if x > 0:\n        log(x)\n    return x\n";
        let old = "    if x > 0:\n        log(x)\n        return x\n";
        assert_eq!(
            err(content, old, "    if x > 0:\n        log(x, 1)\n        return x\n"),
            "`old_text` matches lines 2-4 of f.rs only if its lines are re-indented by different amounts, which \
             would change which block each line is in; nothing was changed. Quote the lines with the file's own \
             indentation:\n2 |     if x > 0:\n3 |         log(x)\n4 |     return x\n"
        );
    }

    #[test]
    fn spaces_for_tabs_are_named() {
        let content = "func f() {\n\tif x {\n\t\treturn\n\t}\n}\n";
        let message = err(content, "    if x {\n        return\n    }\n", "    if y {\n        return\n    }\n");
        assert!(message.contains("own indentation (it indents these lines with tabs):\n2 | \tif x {"), "{message}");
    }

    #[test]
    fn new_lines_shallower_than_the_shift_are_refused() {
        let content = "fn a() {\n    one();\n}\n";
        let message = err(content, "        one();\n", "        one();\n  two();\n");
        assert!(message.contains("line 2 of `new_text` is indented less than that"), "{message}");
    }

    #[test]
    fn an_exact_match_inside_the_indentation_is_a_shift() {
        // "  x" occurs inside "    x": as a substring edit the inserted line
        // would sit two columns left of the line it follows.
        let content = "fn a() {\n    x();\n    y();\n}\n";
        assert_eq!(ok(content, "  x();", "  x();\n  z();"), "fn a() {\n    x();\n    z();\n    y();\n}\n");
        // On one line it stays a plain substring edit.
        assert_eq!(ok(content, "  x();", "  w();"), "fn a() {\n    w();\n    y();\n}\n");
    }

    #[test]
    fn lines_the_edit_keeps_keep_their_bytes() {
        let content = "say(“hi”)   \r\n\tnext()\r\nend\r\n";
        assert_eq!(
            ok(content, "\tsay(\"hi\")\n\t\tnext()\n", "\tsay(\"hi\")\n\t\tnext()\n\t\tmore()\n"),
            "say(“hi”)   \r\n\tnext()\r\n\tmore()\r\nend\r\n"
        );
    }

    #[test]
    fn unicode_level() {
        let content = "msg = “don’t — stop”\nnext\n";
        assert_eq!(ok(content, "msg = \"don't - stop\"\n", "msg = \"go\"\n"), "msg = \"go\"\nnext\n");
        let content = "a\u{00A0}=\u{00A0}1\n";
        assert_eq!(ok(content, "a = 1", "a = 2"), "a = 2\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let content = "one\r\ntwo\r\nthree\r\n";
        assert_eq!(ok(content, "two\nthree\n", "2\n3\n"), "one\r\n2\r\n3\r\n");
        assert_eq!(ok(content, "two  \nthree", "2\n3"), "one\r\n2\r\n3\r\n");
    }

    #[test]
    fn missing_final_newline_is_kept() {
        assert_eq!(ok("a\nb", "b", "c"), "a\nc");
        assert_eq!(ok("a\n  b", "b", "c"), "a\n  c");
        assert_eq!(ok("a\n  b", "  b ", "  c"), "a\n  c");
    }

    #[test]
    fn replace_all() {
        assert_eq!(edit("f", "x\ny\nx\n", "x", "z", true).as_deref(), Ok("z\ny\nz\n"));
        assert_eq!(edit("f", "  x\ny\n    x\n", "x\n", "z\n", true).as_deref(), Ok("  z\ny\n    z\n"));
    }

    #[test]
    fn several_matches() {
        let content = "a\nx\nb\nx\nc\nx\n";
        assert_eq!(
            err(content, "x", "y"),
            "`old_text` matches 3 places in f.rs (lines 2, 4, 6); include more surrounding lines so it matches \
             one, or set replace_all"
        );
        assert_eq!(err("  x\n x\n", "x\n", "y\n"), err("  x\n x\n", "x\n", "y\n"));
        assert!(err("  x\n x\n", "x\n", "y\n").contains("(lines 1, 2)"));
    }

    #[test]
    fn not_found_shows_the_closest_lines() {
        let content = "fn main() {\n    let total = compute(1, 2);\n    println!(\"{total}\");\n}\n";
        let message = err(content, "    let total = compute(1, 3);\n    println!(\"{total}\");", "x");
        assert_eq!(
            message,
            "`old_text` was not found in f.rs. The most similar part of the file is lines 2-3:\n\
             2 |     let total = compute(1, 2);\n\
             3 |     println!(\"{total}\");\n\
             Quote the file's lines exactly, or read the file again if it may have changed."
        );
        assert!(
            err(content, "zzz qqq", "x")
                .ends_with("Nothing in the file looks like it; read the file again to see its current content.")
        );
    }

    #[test]
    fn already_applied() {
        let content = "a\nnew line\nc\n";
        assert_eq!(
            err(content, "old line", "new line"),
            "`old_text` was not found in f.rs, but `new_text` is already there (line 2): the edit seems already \
             applied. Read the file again before editing it further"
        );
        assert!(err("a\n    new\n", "old\n", "new\n").contains("(line 2)"));
    }

    #[test]
    fn empty_and_identical() {
        assert!(err("x\n", "", "y").contains("use write_file"));
        assert_eq!(edit("f", "", "", "new\n", false).as_deref(), Ok("new\n"));
        assert_eq!(
            err("x\n", "x", "x"),
            "`old_text` and `new_text` are the same, so the edit would change nothing in f.rs"
        );
    }

    #[test]
    fn quote_ending_with_newline_replaces_the_lines_endings_too() {
        assert_eq!(ok("a\n  b  \nc\n", "b\n", "B\n"), "a\n  B\nc\n");
        assert_eq!(ok("a\n  b  \nc\n", "b\n", ""), "a\nc\n");
        // Without a newline the quote is a substring first: the line stays.
        assert_eq!(ok("a\n  b  \nc\n", "b", ""), "a\n    \nc\n");
    }
}
