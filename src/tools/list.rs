//! `list_files`: the repository's files as git would see them: ignored and
//! hidden files left out.

use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::args;
use super::registry::{BuiltinContext, BuiltinTool};
use super::scope::Scope;
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput};
use crate::llm::ToolSpec;

const MAX_ENTRIES: usize = 1000;

pub struct ListFiles {
    workspace: Arc<Workspace>,
}

impl ListFiles {
    pub fn new(workspace: Arc<Workspace>) -> Self {
        Self { workspace }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Args {
    /// Glob pattern, e.g. `**/*.rs`
    glob: Option<String>,
    /// Directory to list, relative to the repository root (default: the root)
    path: Option<String>,
}

impl BuiltinTool for ListFiles {
    const NAME: &'static str = "list_files";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self::new(cx.workspace.clone()))
    }
}

impl Tool for ListFiles {
    fn spec(&self) -> ToolSpec {
        args::spec::<Args>(
            Self::NAME,
            format!(
                "List the repository's files (not directories), sorted, one path per line relative to the \
                 repository root. Files ignored by .gitignore and hidden files are left out. `path` limits the \
                 listing to a directory; `glob` filters by a pattern matched against the path from the root or \
                 from `path` (e.g. `**/*.rs`, `src/**/mod.rs`, `*.toml`; `*` also matches across `/`). At most \
                 {MAX_ENTRIES} paths are returned."
            ),
        )
    }

    fn run(&self, args: serde_json::Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let workspace = self.workspace.clone();
        let cancel = ctx.cancel.clone();
        args::run_parsed(Self::NAME, args, move |args: Args| list(&workspace, &args, &cancel))
    }

    fn describe(&self, args: &serde_json::Value) -> String {
        match (args::str_arg(args, "path"), args::str_arg(args, "glob")) {
            (None, None) => "list files".to_string(),
            (Some(path), None) => format!("list {path}"),
            (None, Some(glob)) => format!("list {glob}"),
            (Some(path), Some(glob)) => format!("list {glob} in {path}"),
        }
    }
}

fn list(workspace: &Workspace, args: &Args, cancel: &CancellationToken) -> ToolOutput {
    let scope = match Scope::new(workspace, args.path.as_deref(), args.glob.as_deref()) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut paths = Vec::new();
    if let Err(e) = scope.for_each_file(workspace, cancel, |_, rel| paths.push(rel)) {
        return e;
    }
    // Sorted as whole paths (`a.rs` before `a/b.rs`), not directory by directory.
    paths.sort();
    let total = paths.len();
    if total == 0 {
        return ToolOutput::ok(no_match_message(args, &scope.base_rel, &scope.base), "listed 0 files");
    }
    let mut content = paths[..total.min(MAX_ENTRIES)].join("\n");
    if total > MAX_ENTRIES {
        content.push_str(&format!("\n… {} more; narrow the glob or path", total - MAX_ENTRIES));
    }
    ToolOutput::ok(content, format!("listed {total} file{}", if total == 1 { "" } else { "s" }))
}

fn no_match_message(args: &Args, base_rel: &str, base: &Path) -> String {
    let place =
        if base.is_file() { format!("`{base_rel}` (an ignored or hidden file)") } else { format!("`{base_rel}`") };
    match &args.glob {
        Some(glob) => format!("no files match `{glob}` in {place}; ignored and hidden files are not listed"),
        None => format!("no files in {place}; ignored and hidden files are not listed"),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use serde_json::json;

    use super::*;
    use crate::tools::test_files::{tree, write_files};

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, ListFiles) {
        let dir = tree(&[
            ("Cargo.toml", "x"),
            ("src/lib.rs", "x"),
            ("src/tools/mod.rs", "x"),
            ("src/tools/read.rs", "x"),
            ("target/debug/out.rs", "x"),
            (".hidden/x.rs", "x"),
            (".env", "x"),
            (".git/config", "x"),
            ("notes.log", "x"),
            (".gitignore", "target/\n*.log\n"),
        ]);
        let outside = tree(&[("secret.rs", "s")]);
        symlink(outside.path().join("secret.rs"), dir.path().join("src/escape.rs")).unwrap();
        symlink(dir.path().join("src/lib.rs"), dir.path().join("src/alias.rs")).unwrap();
        symlink(outside.path(), dir.path().join("ext")).unwrap();
        let ws = Arc::new(Workspace::new(dir.path()));
        (dir, outside, ListFiles::new(ws))
    }

    async fn call(tool: &ListFiles, args: serde_json::Value) -> ToolOutput {
        tool.run(args, ToolContext::new(CancellationToken::new())).await
    }

    #[tokio::test]
    async fn lists_files_sorted_without_ignored_hidden_or_escaping() {
        let (_d, _o, tool) = setup();
        let out = call(&tool, json!({})).await;
        assert!(!out.is_error, "{}", out.content);
        assert_eq!(out.content, "Cargo.toml\nsrc/alias.rs\nsrc/lib.rs\nsrc/tools/mod.rs\nsrc/tools/read.rs");
        assert_eq!(out.summary, "listed 5 files");
    }

    #[tokio::test]
    async fn filters_by_glob_and_path() {
        let (_d, _o, tool) = setup();
        let out = call(&tool, json!({"glob": "**/mod.rs"})).await;
        assert_eq!(out.content, "src/tools/mod.rs");
        let out = call(&tool, json!({"glob": "*.toml"})).await;
        assert_eq!(out.content, "Cargo.toml");
        let out = call(&tool, json!({"path": "src/tools"})).await;
        assert_eq!(out.content, "src/tools/mod.rs\nsrc/tools/read.rs");
        let out = call(&tool, json!({"path": "src", "glob": "tools/r*.rs"})).await;
        assert_eq!(out.content, "src/tools/read.rs");
        let out = call(&tool, json!({"path": "src", "glob": "src/*.rs"})).await;
        assert!(out.content.contains("src/lib.rs"));
    }

    #[tokio::test]
    async fn reports_empty_results_and_bad_input() {
        let (_d, _o, tool) = setup();
        let out = call(&tool, json!({"glob": "*.py"})).await;
        assert!(!out.is_error && out.content.starts_with("no files match `*.py`"), "{}", out.content);
        let out = call(&tool, json!({"glob": "src/[a"})).await;
        assert!(out.is_error && out.content.contains("invalid glob"), "{}", out.content);
        let out = call(&tool, json!({"path": "nope"})).await;
        assert!(out.is_error && out.content.contains("does not exist"));
        let out = call(&tool, json!({"path": ".git"})).await;
        assert!(out.is_error && out.content.contains(".git"));
        let out = call(&tool, json!({"path": "ext"})).await;
        assert!(out.is_error && out.content.contains("symbolic link"), "{}", out.content);
    }

    #[tokio::test]
    async fn root_ignore_rules_apply_to_subdirectories_but_rules_above_the_root_do_not() {
        // A home directory kept in git often ignores everything.
        let outer = tree(&[(".gitignore", "*\n")]);
        let repo = outer.path().join("repo");
        write_files(
            &repo,
            &[
                ("src/a.rs", "x"),
                ("src/gen/b.rs", "x"),
                ("src/c.gen.rs", "x"),
                ("target/out.rs", "x"),
                ("src/keep.gen.rs", "x"),
                (".git/info/exclude", "gen/\n"),
                (".gitignore", "target/\n*.gen.rs\n!keep.gen.rs\n"),
            ],
        );
        let tool = ListFiles::new(Arc::new(Workspace::new(&repo)));
        let out = call(&tool, json!({})).await;
        assert_eq!(out.content, "src/a.rs\nsrc/keep.gen.rs");
        let out = call(&tool, json!({"path": "src"})).await;
        assert_eq!(out.content, "src/a.rs\nsrc/keep.gen.rs");
        // Asked for by name, an ignored directory is listed.
        let out = call(&tool, json!({"path": "target"})).await;
        assert_eq!(out.content, "target/out.rs");
    }

    #[tokio::test]
    async fn caps_the_listing() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..1005 {
            std::fs::write(dir.path().join(format!("f{i:04}.txt")), "").unwrap();
        }
        let tool = ListFiles::new(Arc::new(Workspace::new(dir.path())));
        let out = call(&tool, json!({})).await;
        assert_eq!(out.content.lines().count(), MAX_ENTRIES + 1);
        assert!(out.content.ends_with("… 5 more; narrow the glob or path"));
        assert_eq!(out.summary, "listed 1005 files");
    }

    #[test]
    fn describes_the_call() {
        let (_d, _o, tool) = setup();
        assert_eq!(tool.describe(&json!({})), "list files");
        assert_eq!(tool.describe(&json!({"glob": "**/*.rs", "path": "src"})), "list **/*.rs in src");
    }
}
