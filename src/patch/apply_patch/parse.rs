//! Reading `*** Begin Patch` text into a [`Patch`].

use super::{Chunk, FileOp, Patch, PatchError};
use crate::patch::{HunkLine, LineKind};

const BEGIN: &str = "*** Begin Patch";
const END: &str = "*** End Patch";
const ADD: &str = "*** Add File:";
const DELETE: &str = "*** Delete File:";
const UPDATE: &str = "*** Update File:";
const MOVE: &str = "*** Move to:";
const END_OF_FILE: &str = "*** End of File";

/// Parses a patch, forgiving a ``` fence or a shell heredoc around it.
pub fn parse(text: &str) -> Result<Patch, PatchError> {
    let lines: Vec<&str> = text.lines().collect();
    let (begin, end) = bounds(&lines)?;
    let mut parser = Parser { lines: &lines, at: begin + 1, end };
    let mut ops = Vec::new();
    while parser.at < end {
        let line = lines[parser.at].trim();
        if line.is_empty() {
            parser.at += 1;
        } else if let Some(path) = parser.path(ADD)? {
            ops.push(parser.add(path)?);
        } else if let Some(path) = parser.path(DELETE)? {
            parser.at += 1;
            ops.push(FileOp::Delete { path });
        } else if let Some(path) = parser.path(UPDATE)? {
            ops.push(parser.update(path)?);
        } else {
            return Err(
                parser.error(format!("expected `{ADD} PATH`, `{DELETE} PATH` or `{UPDATE} PATH`, found `{line}`"))
            );
        }
    }
    Ok(Patch { ops })
}

/// The indices of the `*** Begin Patch` and `*** End Patch` lines, once
/// fences, heredoc lines and blank lines around them are set aside.
fn bounds(lines: &[&str]) -> Result<(usize, usize), PatchError> {
    let (mut lo, mut hi) = (0, lines.len());
    loop {
        while lo < hi && lines[lo].trim().is_empty() {
            lo += 1;
        }
        while hi > lo && lines[hi - 1].trim().is_empty() {
            hi -= 1;
        }
        if lo == hi {
            return Err(PatchError::Syntax {
                line: 1,
                message: format!("the patch is empty; it starts with `{BEGIN}`"),
            });
        }
        let (first, last) = (lines[lo].trim(), lines[hi - 1].trim());
        if first == BEGIN {
            break;
        }
        let closer = if first.starts_with("```") {
            Some("```".to_string())
        } else if let Some(word) = heredoc(first) {
            Some(word)
        } else {
            return Err(PatchError::Syntax {
                line: lo + 1,
                message: format!("the first line of a patch must be `{BEGIN}`, found `{first}`"),
            });
        };
        lo += 1;
        if hi > lo && closer.as_deref() == Some(last) {
            hi -= 1;
        }
    }
    if hi - lo < 2 || lines[hi - 1].trim() != END {
        return Err(PatchError::Syntax {
            line: hi,
            message: format!("the last line of a patch must be `{END}`; the patch may have been cut short"),
        });
    }
    Ok((lo, hi - 1))
}

/// The terminating word of a heredoc opener such as `apply_patch <<'EOF'`.
fn heredoc(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("<<")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest).trim();
    let word = rest.trim_matches(|c| c == '\'' || c == '"');
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| word.to_string())
}

struct Parser<'a> {
    lines: &'a [&'a str],
    /// The next line to read.
    at: usize,
    /// The `*** End Patch` line.
    end: usize,
}

impl Parser<'_> {
    fn error(&self, message: String) -> PatchError {
        PatchError::Syntax { line: self.at + 1, message }
    }

    fn skip_blank_lines(&mut self) {
        while self.at < self.end && self.lines[self.at].trim().is_empty() {
            self.at += 1;
        }
    }

    /// The path of a `marker PATH` line at the current line.
    fn path(&self, marker: &str) -> Result<Option<String>, PatchError> {
        let Some(path) = self.lines[self.at].trim().strip_prefix(marker) else { return Ok(None) };
        let path = path.trim();
        if path.is_empty() {
            return Err(self.error(format!("`{marker}` needs a path")));
        }
        Ok(Some(path.to_string()))
    }

    /// Whether `line` starts the next file's operation. Inside a chunk a
    /// marker must start its line: a context line is indented by its
    /// prefix, so ` *** Add File: x` there is text. Where no line of a file
    /// can be (between chunks, and in an added file, whose lines all start
    /// with `+`), a marker may be indented, as Codex's parser allows.
    fn is_file_marker(line: &str, in_chunk: bool) -> bool {
        let line = if in_chunk { line.trim_end() } else { line.trim() };
        [ADD, DELETE, UPDATE].iter().any(|m| line.starts_with(m))
    }

    fn add(&mut self, path: String) -> Result<FileOp, PatchError> {
        self.at += 1;
        let mut lines: Vec<String> = Vec::new();
        let mut blank_run = 0;
        let mut final_newline = true;
        while self.at < self.end && !Self::is_file_marker(self.lines[self.at], false) {
            let line = self.lines[self.at];
            if let Some(text) = line.strip_prefix('+') {
                lines.extend(std::iter::repeat_n(String::new(), blank_run));
                blank_run = 0;
                lines.push(text.to_string());
            } else if line.trim().is_empty() {
                // Kept only if more `+` lines follow: a blank line that lost its `+`.
                blank_run += 1;
            } else if line.starts_with('\\') && !lines.is_empty() {
                final_newline = false;
            } else {
                return Err(self
                    .error(format!("every line of an added file starts with `+`, found `{line}` in `{ADD} {path}`")));
            }
            self.at += 1;
        }
        let mut contents = lines.join("\n");
        if final_newline && !lines.is_empty() {
            contents.push('\n');
        }
        Ok(FileOp::Add { path, contents })
    }

    fn update(&mut self, path: String) -> Result<FileOp, PatchError> {
        let start = self.at;
        self.at += 1;
        self.skip_blank_lines();
        let mut move_to = None;
        if self.at < self.end
            && let Some(to) = self.path(MOVE)?
        {
            move_to = Some(to);
            self.at += 1;
        }
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut open: Option<Chunk> = None;
        while self.at < self.end && !Self::is_file_marker(self.lines[self.at], open.is_some()) {
            let line = self.lines[self.at];
            let trimmed = line.trim();
            if open.is_none() && trimmed.is_empty() {
                // Between chunks (after `*** End of File`, or before the
                // first one) a blank line separates; it is no line of the
                // file, as Codex's parser skips it too.
            } else if line.trim_end() == END_OF_FILE {
                let Some(mut chunk) = open.take().filter(|c| !c.lines.is_empty()) else {
                    return Err(self.error(format!("`{END_OF_FILE}` must follow the lines of a chunk")));
                };
                chunk.end_of_file = true;
                chunks.push(chunk);
            } else if line.starts_with("***") {
                return Err(self.error(format!("unknown marker `{trimmed}` in `{UPDATE} {path}`")));
            } else if let Some(anchor) = line.strip_prefix("@@") {
                // A new `@@` after lines starts a new chunk; right after another `@@` it narrows the same one.
                if let Some(chunk) = open.take_if(|c| !c.lines.is_empty()) {
                    chunks.push(chunk);
                }
                let chunk = open.get_or_insert_with(|| new_chunk(self.at + 1));
                if let Some(anchor) = anchor_text(anchor) {
                    chunk.anchors.push(anchor);
                }
            } else if line.starts_with('\\') {
                let Some(last) = open.as_mut().and_then(|c| c.lines.last().map(|l| l.kind)) else {
                    return Err(self.error("`\\ No newline at end of file` must follow a line of a chunk".into()));
                };
                if let Some(chunk) = open.as_mut() {
                    chunk.old_missing_newline |= last != LineKind::Added;
                    chunk.new_missing_newline |= last != LineKind::Removed;
                }
            } else {
                let (kind, text) = match line.chars().next() {
                    None => (LineKind::Context, ""),
                    Some(' ') => (LineKind::Context, &line[1..]),
                    Some('-') => (LineKind::Removed, &line[1..]),
                    Some('+') => (LineKind::Added, &line[1..]),
                    Some(_) if trimmed.is_empty() => (LineKind::Context, ""),
                    Some(_) => {
                        return Err(self.error(format!(
                            "every line of a chunk starts with ` ` (context), `-` (removed) or `+` (added), \
                             found `{line}`"
                        )));
                    }
                };
                open.get_or_insert_with(|| new_chunk(self.at + 1))
                    .lines
                    .push(HunkLine { kind, text: text.to_string() });
            }
            self.at += 1;
        }
        if let Some(chunk) = open {
            if chunk.lines.is_empty() {
                return Err(PatchError::Syntax { line: chunk.line, message: "this `@@` chunk has no lines".into() });
            }
            chunks.push(chunk);
        }
        if chunks.is_empty() && move_to.is_none() {
            return Err(PatchError::Syntax {
                line: start + 1,
                message: format!("`{UPDATE} {path}` has no changes; give `@@` chunks, or `{MOVE} PATH`"),
            });
        }
        Ok(FileOp::Update { path, move_to, chunks })
    }
}

fn new_chunk(line: usize) -> Chunk {
    Chunk {
        anchors: Vec::new(),
        lines: Vec::new(),
        end_of_file: false,
        old_missing_newline: false,
        new_missing_newline: false,
        line,
    }
}

/// The text after `@@`, if it names a line. A unified-diff header
/// (`@@ -12,7 +12,8 @@ fn f`) gives only its trailing text.
fn anchor_text(after: &str) -> Option<String> {
    let text = after.trim();
    let text = unified_header(text).unwrap_or(text);
    (!text.is_empty()).then(|| text.to_string())
}

/// What follows `-a,b +c,d @@` at the start of `text`, if it starts so.
fn unified_header(text: &str) -> Option<&str> {
    let range = |s: &str, sign: char| {
        let s = s.strip_prefix(sign)?;
        s.split(',').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(())
    };
    let mut parts = text.splitn(3, ' ');
    range(parts.next()?, '-')?;
    range(parts.next()?, '+')?;
    let rest = parts.next().unwrap_or("");
    Some(rest.strip_prefix("@@").unwrap_or(rest).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: LineKind, text: &str) -> HunkLine {
        HunkLine { kind, text: text.into() }
    }

    fn chunks(patch: &str) -> Vec<Chunk> {
        match parse(patch) {
            Ok(Patch { ops }) => match ops.into_iter().next() {
                Some(FileOp::Update { chunks, .. }) => chunks,
                other => panic!("not an update: {other:?}"),
            },
            Err(e) => panic!("{e}"),
        }
    }

    fn error(patch: &str) -> String {
        parse(patch).map(|p| format!("{p:?}")).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn all_operations() {
        let patch = "*** Begin Patch\n*** Add File: a.txt\n+one\n+\n+two\n*** Delete File: b.txt\n\
                     *** Update File: c.txt\n*** Move to: d.txt\n@@ fn main\n ctx\n-old\n+new\n*** End Patch";
        let Ok(Patch { ops }) = parse(patch) else { panic!("parses") };
        assert_eq!(ops[0], FileOp::Add { path: "a.txt".into(), contents: "one\n\ntwo\n".into() });
        assert_eq!(ops[1], FileOp::Delete { path: "b.txt".into() });
        let FileOp::Update { path, move_to, chunks } = &ops[2] else { panic!("update") };
        assert_eq!((path.as_str(), move_to.as_deref()), ("c.txt", Some("d.txt")));
        assert_eq!(chunks[0].anchors, vec!["fn main".to_string()]);
        assert_eq!(chunks[0].line, 9);
        assert_eq!(
            chunks[0].lines,
            vec![line(LineKind::Context, "ctx"), line(LineKind::Removed, "old"), line(LineKind::Added, "new")]
        );
    }

    #[test]
    fn stacked_anchors_chunks_and_end_of_file() {
        let cs = chunks(
            "*** Begin Patch\n*** Update File: f\n@@ class A\n@@     def f():\n-a\n+b\n@@\n-c\n+d\n*** End of File\n*** End Patch",
        );
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].anchors, vec!["class A".to_string(), "def f():".to_string()]);
        assert!(!cs[0].end_of_file && cs[1].end_of_file);
        assert!(cs[1].anchors.is_empty());
    }

    #[test]
    fn wrappers_and_sloppy_markers() {
        let plain = "*** Begin Patch\n*** Update File: f\n@@\n a\n\n-b\n+c\n*** End Patch";
        let expected = chunks(plain);
        assert_eq!(expected[0].lines[1], line(LineKind::Context, ""));
        for wrapped in [
            format!("```\n{plain}\n```"),
            format!("```diff\n{plain}\n```\n"),
            format!("<<'EOF'\n{plain}\nEOF\n"),
            format!("apply_patch <<\"PATCH\"\n{plain}\nPATCH"),
            format!("```bash\napply_patch <<EOF\n{plain}\nEOF\n```"),
            plain.replace("\n", "\r\n"),
            plain.replace("*** Update File: f", "*** Update File: f   ").replace("*** End Patch", "*** End Patch  "),
            format!("\n\n  {plain}\n\n"),
        ] {
            // Line numbers count the wrapper's lines too.
            let same_but_line = chunks(&wrapped).into_iter().map(|c| Chunk { line: 3, ..c }).collect::<Vec<_>>();
            assert_eq!(same_but_line, expected, "{wrapped:?}");
        }
    }

    #[test]
    fn first_chunk_may_omit_its_marker() {
        let cs = chunks("*** Begin Patch\n*** Update File: f\n import a\n+import b\n*** End Patch");
        assert_eq!(cs[0].lines.len(), 2);
        assert!(cs[0].anchors.is_empty());
    }

    #[test]
    fn unified_headers_are_not_anchors() {
        let cs = chunks(
            "*** Begin Patch\n*** Update File: f\n@@ -1,2 +1,2 @@\n-a\n+b\n@@ -9 +9 @@ fn g()\n-c\n+d\n*** End Patch",
        );
        assert!(cs[0].anchors.is_empty());
        assert_eq!(cs[1].anchors, vec!["fn g()".to_string()]);
    }

    #[test]
    fn no_newline_markers() {
        let cs = chunks("*** Begin Patch\n*** Update File: f\n@@\n-a\n\\ No newline at end of file\n+a\n*** End Patch");
        assert!(cs[0].old_missing_newline && !cs[0].new_missing_newline);
        let Ok(Patch { ops }) =
            parse("*** Begin Patch\n*** Add File: f\n+x\n\\ No newline at end of file\n*** End Patch")
        else {
            panic!("parses")
        };
        assert_eq!(ops[0], FileOp::Add { path: "f".into(), contents: "x".into() });
    }

    #[test]
    fn errors_point_at_lines() {
        assert_eq!(
            error("*** Update File: f\n*** End Patch"),
            "invalid patch at line 1: the first line of a patch must be `*** Begin Patch`, found `*** Update File: f`"
        );
        assert_eq!(
            error("*** Begin Patch\n*** Update File: f\n@@\n-a\n+b"),
            "invalid patch at line 5: the last line of a patch must be `*** End Patch`; the patch may have been cut short"
        );
        assert_eq!(
            error("*** Begin Patch\n*** Update File: f\n@@\n-a\nb\n*** End Patch"),
            "invalid patch at line 5: every line of a chunk starts with ` ` (context), `-` (removed) or `+` (added), \
             found `b`"
        );
        assert_eq!(
            error("*** Begin Patch\n*** Add File: f\n+a\noops\n*** End Patch"),
            "invalid patch at line 4: every line of an added file starts with `+`, found `oops` in `*** Add File: f`"
        );
        assert_eq!(
            error("*** Begin Patch\n*** Update File: f\n*** End Patch"),
            "invalid patch at line 2: `*** Update File: f` has no changes; give `@@` chunks, or `*** Move to: PATH`"
        );
        assert_eq!(
            error("*** Begin Patch\n*** Update File: f\n@@ x\n*** Delete File: g\n*** End Patch"),
            "invalid patch at line 3: this `@@` chunk has no lines"
        );
        assert_eq!(
            error("*** Begin Patch\n*** Frobnicate: f\n*** End Patch"),
            "invalid patch at line 2: expected `*** Add File: PATH`, `*** Delete File: PATH` or `*** Update File: \
             PATH`, found `*** Frobnicate: f`"
        );
        assert_eq!(error(""), "invalid patch at line 1: the patch is empty; it starts with `*** Begin Patch`");
    }

    #[test]
    fn blank_lines_between_chunks_separate() {
        // After `*** End of File`, after the update's header and its move:
        // no chunk of blank lines, as Codex's parser skips them.
        let patch = "*** Begin Patch\n*** Update File: f\n\n*** Move to: g\n  \n@@\n-a\n+b\n*** End of File\n\n\t\n\
                     *** End Patch";
        let Ok(Patch { ops }) = parse(patch) else { panic!("parses") };
        let FileOp::Update { move_to, chunks: cs, .. } = &ops[0] else { panic!("an update") };
        assert_eq!(move_to.as_deref(), Some("g"));
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].lines, vec![line(LineKind::Removed, "a"), line(LineKind::Added, "b")]);
        // Inside a chunk a blank line is a blank context line.
        let cs = chunks("*** Begin Patch\n*** Update File: f\n@@\n a\n\n-b\n*** End Patch");
        assert_eq!(cs[0].lines[1], line(LineKind::Context, ""));
    }

    #[test]
    fn indented_markers_between_operations() {
        let patch = "*** Begin Patch\n*** Add File: a\n+x\n  *** Update File: f\n@@\n-a\n+b\n*** End of File\n\
                     \t*** Delete File: g\n*** End Patch";
        let Ok(Patch { ops }) = parse(patch) else { panic!("parses") };
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[2], FileOp::Delete { path: "g".into() });
        // Right after a chunk's lines an indented marker is a context line.
        let cs = chunks("*** Begin Patch\n*** Update File: f\n@@\n-a\n+b\n *** Delete File: g\n*** End Patch");
        assert_eq!(cs[0].lines[2], line(LineKind::Context, "*** Delete File: g"));
    }

    #[test]
    fn trailing_blank_lines_of_an_added_file_are_dropped() {
        let Ok(Patch { ops }) = parse("*** Begin Patch\n*** Add File: f\n+a\n\n*** Delete File: g\n*** End Patch")
        else {
            panic!("parses")
        };
        assert_eq!(ops[0], FileOp::Add { path: "f".into(), contents: "a\n".into() });
    }
}
