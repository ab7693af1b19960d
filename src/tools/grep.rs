//! `grep`: a regex search over the repository's files, ignore-aware like
//! `list_files`.

use std::sync::Arc;

use futures::future::BoxFuture;
use grep_regex::RegexMatcherBuilder;
use grep_searcher::sinks::Lossy;
use grep_searcher::{BinaryDetection, SearcherBuilder};
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::args;
use super::registry::{BuiltinContext, BuiltinTool};
use super::scope::Scope;
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput};
use crate::llm::ToolSpec;

const MAX_MATCHES: usize = 200;
/// Characters of a matching line shown; minified files would otherwise
/// flood the result.
const MAX_LINE_CHARS: usize = 200;

pub struct Grep {
    workspace: Arc<Workspace>,
}

impl Grep {
    pub fn new(workspace: Arc<Workspace>) -> Self {
        Self { workspace }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Args {
    /// Regular expression, e.g. `fn\s+parse_`
    pattern: String,
    /// Directory or file to search, relative to the repository root (default: the root)
    path: Option<String>,
    /// Only files matching this glob, e.g. `**/*.rs`
    glob: Option<String>,
    /// Ignore case (default false)
    #[serde(default)]
    case_insensitive: bool,
}

impl BuiltinTool for Grep {
    const NAME: &'static str = "grep";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self::new(cx.workspace.clone()))
    }
}

impl Tool for Grep {
    fn spec(&self) -> ToolSpec {
        args::spec::<Args>(
            Self::NAME,
            format!(
                "Search the repository's files for a regular expression (Rust regex syntax, matched per line). \
                 Results are `path:line: text`, sorted by path; lines are cut at {MAX_LINE_CHARS} characters and \
                 at most {MAX_MATCHES} matches are shown. Files ignored by .gitignore, hidden files and binary \
                 files are skipped. `path` limits the search to a directory or file; `glob` filters files like \
                 list_files does (e.g. `**/*.rs`). Escape regex metacharacters to search for literal text."
            ),
        )
    }

    fn run(&self, args: serde_json::Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let workspace = self.workspace.clone();
        let cancel = ctx.cancel.clone();
        args::run_parsed(Self::NAME, args, move |args: Args| grep(&workspace, &args, &cancel))
    }

    fn describe(&self, args: &serde_json::Value) -> String {
        let pattern = args::str_arg(args, "pattern").unwrap_or("?");
        let mut label = format!("grep \"{pattern}\"");
        if let Some(path) = args::str_arg(args, "path") {
            label.push_str(&format!(" in {path}"));
        }
        if let Some(glob) = args::str_arg(args, "glob") {
            label.push_str(&format!(" ({glob})"));
        }
        label
    }
}

fn grep(workspace: &Workspace, args: &Args, cancel: &CancellationToken) -> ToolOutput {
    let matcher = match RegexMatcherBuilder::new()
        .case_insensitive(args.case_insensitive)
        // Searching line by line needs patterns that cannot span lines.
        .line_terminator(Some(b'\n'))
        .build(&args.pattern)
    {
        Ok(m) => m,
        Err(e) => return ToolOutput::error(format!("invalid regex `{}`: {e}", args.pattern)),
    };
    let scope = match Scope::new(workspace, args.path.as_deref(), args.glob.as_deref()) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut searcher =
        SearcherBuilder::new().binary_detection(BinaryDetection::quit(b'\x00')).line_number(true).build();

    let mut shown = Vec::new();
    let mut total_matches = 0usize;
    let mut total_files = 0usize;
    // Files with a match that did not make it into `shown`.
    let mut files_beyond = 0usize;
    let walked = scope.for_each_file(workspace, cancel, |path, rel| {
        let mut in_file = 0usize;
        let mut beyond_in_file = false;
        let sink = Lossy(|line_number, line: &str| {
            in_file += 1;
            if shown.len() < MAX_MATCHES {
                shown.push(format!("{rel}:{line_number}: {}", clip(line)));
            } else {
                beyond_in_file = true;
            }
            Ok(true)
        });
        // An unreadable file is skipped rather than failing the search, and
        // so is one that stopped being a regular file inside the repository
        // since the walk listed it (a FIFO would block the search).
        let Ok((file, _)) = workspace.open(path) else { return };
        if searcher.search_file(&matcher, &file, sink).is_err() {
            return;
        }
        if in_file > 0 {
            total_matches += in_file;
            total_files += 1;
            files_beyond += usize::from(beyond_in_file);
        }
    });
    if let Err(e) = walked {
        return e;
    }
    let base_rel = scope.base_rel;

    if total_matches == 0 {
        let scope = if args.glob.is_some() || base_rel != "." { format!(" in `{base_rel}`") } else { String::new() };
        let glob = args.glob.as_deref().map(|g| format!(" (files matching `{g}`)")).unwrap_or_default();
        return ToolOutput::ok(
            format!(
                "no matches for `{}`{scope}{glob}; ignored, hidden and binary files are not searched",
                args.pattern
            ),
            format!("grep \"{}\": no matches", args.pattern),
        );
    }
    let mut content = shown.join("\n");
    if total_matches > shown.len() {
        content.push_str(&format!(
            "\n… {} more matches in {files_beyond} file{}; narrow the pattern, path or glob",
            total_matches - shown.len(),
            if files_beyond == 1 { "" } else { "s" }
        ));
    }
    let summary = format!(
        "grep \"{}\": {total_matches} match{} in {total_files} file{}",
        args.pattern,
        if total_matches == 1 { "" } else { "es" },
        if total_files == 1 { "" } else { "s" }
    );
    ToolOutput::ok(content, summary)
}

fn clip(line: &str) -> String {
    // Secrets go before the line is cut, so none is cut in half and shown.
    let line = crate::secrets::redact(line.trim_end_matches(['\n', '\r']));
    let line = line.as_str();
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((cut, _)) => format!("{} …", &line[..cut]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use serde_json::json;

    use super::*;
    use crate::tools::test_files::tree;

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, Grep) {
        let dir = tree::<&[u8]>(&[
            ("src/lib.rs", b"pub fn parse() {}\nfn helper() {}\n"),
            ("src/main.rs", b"fn main() {\n    Parse::new();\n}\n"),
            ("README.md", b"call parse to parse\n"),
            ("target/gen.rs", b"fn parse_generated() {}\n"),
            (".hidden.rs", b"fn parse_hidden() {}\n"),
            (".git/config", b"parse\n"),
            ("data.bin", b"parse\x00\x01\x02"),
            (".gitignore", b"target/\n"),
        ]);
        let outside = tree(&[("secret.rs", "fn parse_secret() {}\n")]);
        symlink(outside.path().join("secret.rs"), dir.path().join("src/escape.rs")).unwrap();
        let ws = Arc::new(Workspace::new(dir.path()));
        (dir, outside, Grep::new(ws))
    }

    async fn call(tool: &Grep, args: serde_json::Value) -> ToolOutput {
        tool.run(args, ToolContext::new(CancellationToken::new())).await
    }

    #[tokio::test]
    async fn finds_matches_in_sorted_order_skipping_ignored_hidden_binary_and_escaping() {
        let (_d, _o, tool) = setup();
        let out = call(&tool, json!({"pattern": "parse"})).await;
        assert!(!out.is_error, "{}", out.content);
        assert_eq!(out.content, "README.md:1: call parse to parse\nsrc/lib.rs:1: pub fn parse() {}");
        assert_eq!(out.summary, "grep \"parse\": 2 matches in 2 files");
    }

    #[tokio::test]
    async fn case_insensitive_path_and_glob() {
        let (_d, _o, tool) = setup();
        let out = call(&tool, json!({"pattern": "parse", "case_insensitive": true, "path": "src"})).await;
        assert_eq!(out.content, "src/lib.rs:1: pub fn parse() {}\nsrc/main.rs:2:     Parse::new();");
        let out = call(&tool, json!({"pattern": "parse", "glob": "*.md"})).await;
        assert_eq!(out.content, "README.md:1: call parse to parse");
        let out = call(&tool, json!({"pattern": "fn \\w+\\(", "path": "src/lib.rs"})).await;
        assert_eq!(out.content, "src/lib.rs:1: pub fn parse() {}\nsrc/lib.rs:2: fn helper() {}");
    }

    #[tokio::test]
    async fn invalid_regex_reports_the_error() {
        let (_d, _o, tool) = setup();
        let out = call(&tool, json!({"pattern": "fn (unclosed"})).await;
        assert!(out.is_error);
        assert!(out.content.starts_with("invalid regex `fn (unclosed`:"), "{}", out.content);
        assert!(out.content.contains("unclosed group"), "{}", out.content);
    }

    #[tokio::test]
    async fn no_matches_is_not_an_error() {
        let (_d, _o, tool) = setup();
        let out = call(&tool, json!({"pattern": "zzz_nothing"})).await;
        assert!(!out.is_error);
        assert!(out.content.starts_with("no matches for `zzz_nothing`"));
        let out = call(&tool, json!({"pattern": "x", "path": "../"})).await;
        assert!(out.is_error && out.content.contains("outside the repository"));
    }

    #[tokio::test]
    async fn caps_matches_and_clips_lines() {
        let many: String = (0..150).map(|i| format!("hit {i}\n")).collect();
        let long = format!("hit {}\n", "é".repeat(500));
        let dir = tree(&[("a.txt", &many), ("b.txt", &many), ("c.txt", &many), ("long.txt", &long)]);
        let tool = Grep::new(Arc::new(Workspace::new(dir.path())));
        let out = call(&tool, json!({"pattern": "^hit"})).await;
        let lines: Vec<_> = out.content.lines().collect();
        assert_eq!(lines.len(), MAX_MATCHES + 1);
        assert_eq!(lines[MAX_MATCHES], "… 251 more matches in 3 files; narrow the pattern, path or glob");
        assert_eq!(out.summary, "grep \"^hit\": 451 matches in 4 files");
        let out = call(&tool, json!({"pattern": "^hit", "path": "long.txt"})).await;
        assert_eq!(out.content.chars().count(), "long.txt:1: ".len() + MAX_LINE_CHARS + 2);
        assert!(out.content.ends_with(" …"));
    }

    #[test]
    fn describes_the_call() {
        let (_d, _o, tool) = setup();
        assert_eq!(tool.describe(&json!({"pattern": "fn main", "path": "src"})), "grep \"fn main\" in src");
    }
}
