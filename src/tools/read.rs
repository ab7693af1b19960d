//! `read_file`: a text file, or part of one, with line numbers.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;

use super::args;
use super::registry::{BuiltinContext, BuiltinTool};
use super::text::{MAX_LINE_BYTES, cut_line};
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput};
use crate::index::OpenError;
use crate::llm::ToolSpec;

/// Lines shown per call; the note at the end says where to continue.
const MAX_LINES: usize = 2000;
/// Bytes of numbered text per call, for files of long lines.
const MAX_BYTES: usize = 100 * 1024;
/// How much of the start is checked for NUL bytes, as git does.
const BINARY_SNIFF: usize = 8192;

pub struct ReadFile {
    workspace: Arc<Workspace>,
}

impl ReadFile {
    pub fn new(workspace: Arc<Workspace>) -> Self {
        Self { workspace }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Args {
    /// File path relative to the repository root
    path: String,
    /// First line to show (default 1)
    #[schemars(range(min = 1))]
    start_line: Option<u64>,
    /// Last line to show, inclusive
    #[schemars(range(min = 1))]
    end_line: Option<u64>,
}

impl BuiltinTool for ReadFile {
    const NAME: &'static str = "read_file";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self::new(cx.workspace.clone()))
    }
}

impl Tool for ReadFile {
    fn spec(&self) -> ToolSpec {
        args::spec::<Args>(
            Self::NAME,
            format!(
                "Read a text file of the repository. Lines come numbered (`   12\\tcode`); the numbers are not part \
                 of the file. At most {MAX_LINES} lines or {} KB are returned per call; the end says which \
                 start_line to pass to read on. Pass start_line/end_line (1-based, inclusive) to read part of a \
                 large file. Directories are refused: use list_files for those.",
                MAX_BYTES / 1024
            ),
        )
    }

    fn run(&self, args: serde_json::Value, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let workspace = self.workspace.clone();
        args::run_parsed(Self::NAME, args, move |args: Args| read(&workspace, &args))
    }

    fn describe(&self, args: &serde_json::Value) -> String {
        let path = args::str_arg(args, "path").unwrap_or("?");
        let start = args.get("start_line").and_then(serde_json::Value::as_u64);
        let end = args.get("end_line").and_then(serde_json::Value::as_u64);
        match (start, end) {
            (None, None) => format!("read {path}"),
            (start, Some(end)) => format!("read {path}:{}-{end}", start.unwrap_or(1)),
            (Some(start), None) => format!("read {path}:{start}-"),
        }
    }
}

fn read(workspace: &Workspace, args: &Args) -> ToolOutput {
    let start = args.start_line.unwrap_or(1);
    if start == 0 {
        return ToolOutput::error("start_line must be at least 1: lines are numbered from 1");
    }
    if let Some(end) = args.end_line
        && end < start
    {
        return ToolOutput::error(format!(
            "end_line ({end}) is before start_line ({start}); give a range start <= end"
        ));
    }
    let abs = match workspace.resolve(&args.path) {
        Ok(p) => p,
        Err(e) => return ToolOutput::error(e.to_string()),
    };
    let rel = workspace.relative(&abs);
    let file = match workspace.open(&abs) {
        Ok((file, _)) => file,
        Err(OpenError::NotFound) => {
            return ToolOutput::error(format!("`{rel}` does not exist; use list_files to find the right path"));
        }
        Err(OpenError::Directory) => {
            return ToolOutput::error(format!(
                "`{rel}` is a directory; use list_files with path `{rel}` to see its files, then read one of them"
            ));
        }
        Err(e) => return ToolOutput::error(format!("`{rel}` {e}")),
    };
    match render(file, start, args.end_line) {
        Ok(Rendered::Binary) => ToolOutput::error(format!(
            "`{rel}` is a binary file (it contains NUL bytes); read_file only shows text. \
             Use run_command (e.g. `file {rel}` or `xxd {rel} | head`) to inspect it"
        )),
        Ok(Rendered::PastEnd { total }) => ToolOutput::error(format!(
            "`{rel}` has {total} lines; start_line {start} is past the end. Pass a start_line between 1 and {total}"
        )),
        Ok(Rendered::Empty) => ToolOutput::ok(format!("`{rel}` is empty"), format!("read {rel} (empty)")),
        Ok(Rendered::Lines { text, first, last, total, capped }) => {
            let whole = first == 1 && last == total;
            let mut content = text;
            if capped {
                content.push_str(&format!(
                    "\n[showing lines {first}-{last} of {total}; call read_file with start_line {} to read on]",
                    last + 1
                ));
            } else if !whole {
                content.push_str(&format!("\n[lines {first}-{last} of {total}]"));
            }
            let summary = if whole {
                format!("read {rel} ({total} lines)")
            } else {
                format!("read {rel}:{first}-{last} of {total}")
            };
            ToolOutput::ok(content, summary)
        }
        Err(e) => ToolOutput::error(format!("cannot read `{rel}`: {e}")),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Rendered {
    Binary,
    Empty,
    PastEnd { total: u64 },
    Lines { text: String, first: u64, last: u64, total: u64, capped: bool },
}

/// Numbers lines `start..=end` within the size caps, and counts the rest so
/// the model knows how long the file is.
fn render(file: impl Read, start: u64, end: Option<u64>) -> io::Result<Rendered> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    if reader.fill_buf()?.iter().take(BINARY_SNIFF).any(|&b| b == 0) {
        return Ok(Rendered::Binary);
    }
    let mut text = String::new();
    let mut shown = 0usize;
    let mut last = 0u64;
    let mut capped = false;
    let total = for_each_line(&mut reader, |n, line, full_len| {
        if n < start || end.is_some_and(|e| n > e) || capped {
            return;
        }
        if shown >= MAX_LINES || text.len() >= MAX_BYTES {
            capped = true;
            return;
        }
        text.push_str(&format!("{n:>6}\t{}\n", cut_line(line, full_len)));
        shown += 1;
        last = n;
    })?;
    if total == 0 {
        return Ok(Rendered::Empty);
    }
    if start > total {
        return Ok(Rendered::PastEnd { total });
    }
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(Rendered::Lines { text, first: start, last, total, capped })
}

/// Calls `f(line_number, head_of_line, full_length)` for each line without
/// ever holding more than [`MAX_LINE_BYTES`] of one line, so a huge file
/// without newlines cannot exhaust memory. Returns the line count.
fn for_each_line(reader: &mut impl BufRead, mut f: impl FnMut(u64, &[u8], usize)) -> io::Result<u64> {
    let mut count = 0u64;
    let mut line = Vec::new();
    let mut len = 0usize;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            if len > 0 {
                count += 1;
                f(count, &line, len);
            }
            return Ok(count);
        }
        let (chunk, consumed, ended) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = MAX_LINE_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        len += chunk.len();
        reader.consume(consumed);
        if ended {
            count += 1;
            f(count, &line, len);
            line.clear();
            len = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn setup(files: &[(&str, &[u8])]) -> (tempfile::TempDir, ReadFile) {
        let dir = crate::tools::test_files::tree(files);
        let ws = Arc::new(Workspace::new(dir.path()));
        (dir, ReadFile::new(ws))
    }

    async fn call(tool: &ReadFile, args: serde_json::Value) -> ToolOutput {
        let ctx = ToolContext::new(tokio_util::sync::CancellationToken::new());
        tool.run(args, ctx).await
    }

    fn numbered(n: usize) -> Vec<u8> {
        (1..=n).map(|i| format!("line {i}\n")).collect::<String>().into_bytes()
    }

    #[tokio::test]
    async fn reads_a_whole_file_with_numbers() {
        let (_d, tool) = setup(&[("src/a.rs", b"fn main() {}\r\nlet x = 1;\n")]);
        let out = call(&tool, json!({"path": "src/a.rs"})).await;
        assert!(!out.is_error, "{}", out.content);
        assert_eq!(out.content, "     1\tfn main() {}\n     2\tlet x = 1;");
        assert_eq!(out.summary, "read src/a.rs (2 lines)");
    }

    #[tokio::test]
    async fn reads_a_range() {
        let (_d, tool) = setup(&[("a.txt", &numbered(50))]);
        let out = call(&tool, json!({"path": "a.txt", "start_line": 10, "end_line": 12})).await;
        assert_eq!(out.content, "    10\tline 10\n    11\tline 11\n    12\tline 12\n[lines 10-12 of 50]");
        assert_eq!(out.summary, "read a.txt:10-12 of 50");
        let out = call(&tool, json!({"path": "a.txt", "start_line": 49, "end_line": 100})).await;
        assert!(out.content.starts_with("    49\tline 49\n    50\tline 50"), "{}", out.content);
    }

    #[tokio::test]
    async fn caps_long_files_and_says_where_to_continue() {
        let (_d, tool) = setup(&[("big.txt", &numbered(2500))]);
        let out = call(&tool, json!({"path": "big.txt"})).await;
        assert_eq!(out.content.lines().filter(|l| l.contains("\tline")).count(), MAX_LINES);
        assert!(
            out.content.ends_with("[showing lines 1-2000 of 2500; call read_file with start_line 2001 to read on]")
        );
        let out = call(&tool, json!({"path": "big.txt", "start_line": 2001})).await;
        assert!(out.content.starts_with("  2001\tline 2001"));
        assert!(out.content.ends_with("  2500\tline 2500\n[lines 2001-2500 of 2500]"), "{}", out.content);
    }

    #[tokio::test]
    async fn caps_by_bytes_and_cuts_long_lines() {
        let long = "x".repeat(5000);
        let content: String = (0..200).map(|_| format!("{long}\n")).collect();
        let (_d, tool) = setup(&[("wide.txt", content.as_bytes())]);
        let out = call(&tool, json!({"path": "wide.txt"})).await;
        assert!(out.content.contains("… [line cut: 5000 bytes]"));
        assert!(out.content.len() < MAX_BYTES + 4 * MAX_LINE_BYTES);
        assert!(out.content.contains("call read_file with start_line"), "{}", &out.content[out.content.len() - 200..]);
    }

    #[tokio::test]
    async fn refuses_binary_files_and_directories() {
        let (_d, tool) = setup(&[("bin.dat", b"\x7fELF\x00\x01"), ("src/x.rs", b"x")]);
        let out = call(&tool, json!({"path": "bin.dat"})).await;
        assert!(out.is_error && out.content.contains("binary"), "{}", out.content);
        let out = call(&tool, json!({"path": "src"})).await;
        assert!(out.is_error && out.content.contains("use list_files"), "{}", out.content);
    }

    #[tokio::test]
    async fn explains_bad_ranges_and_missing_files() {
        let (_d, tool) = setup(&[("a.txt", &numbered(3)), ("empty.txt", b"")]);
        let out = call(&tool, json!({"path": "a.txt", "start_line": 9})).await;
        assert!(out.is_error && out.content.contains("has 3 lines"), "{}", out.content);
        let out = call(&tool, json!({"path": "a.txt", "start_line": 3, "end_line": 2})).await;
        assert!(out.is_error && out.content.contains("before start_line"));
        let out = call(&tool, json!({"path": "a.txt", "start_line": 0})).await;
        assert!(out.is_error && out.content.contains("numbered from 1"));
        let out = call(&tool, json!({"path": "nope.txt"})).await;
        assert!(out.is_error && out.content.contains("does not exist"));
        let out = call(&tool, json!({"path": "empty.txt"})).await;
        assert!(!out.is_error && out.content.contains("is empty"));
        let out = call(&tool, json!({"path": "../etc/passwd"})).await;
        assert!(out.is_error && out.content.contains("outside the repository"));
        let out = call(&tool, json!({"file": "a.txt"})).await;
        assert!(out.is_error && out.content.contains("invalid arguments for read_file"));
    }

    #[test]
    fn last_line_without_newline_counts() {
        let mut r = BufReader::new(&b"a\nb"[..]);
        let mut seen = Vec::new();
        let n = for_each_line(&mut r, |n, l, _| seen.push((n, l.to_vec()))).unwrap();
        assert_eq!(n, 2);
        assert_eq!(seen, vec![(1, b"a".to_vec()), (2, b"b".to_vec())]);
    }

    #[test]
    fn describes_ranges() {
        let (_d, tool) = setup(&[]);
        assert_eq!(tool.describe(&json!({"path": "src/lib.rs"})), "read src/lib.rs");
        assert_eq!(
            tool.describe(&json!({"path": "src/lib.rs", "start_line": 10, "end_line": 40})),
            "read src/lib.rs:10-40"
        );
        assert_eq!(tool.describe(&json!({"path": "src/lib.rs", "start_line": 10})), "read src/lib.rs:10-");
    }
}
