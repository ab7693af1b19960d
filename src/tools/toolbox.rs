//! A session's tools: tandem's built-in ones for one repository, and the
//! review of the edits they propose in a round.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::approval::Approvals;
use super::proposals::Proposals;
use super::registry::{BuiltinContext, RegisterError, Registry};
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput, ToolRegistry};
use crate::index::SharedIndex;
use crate::llm::{ToolCall, ToolSpec};

pub(crate) struct Toolbox {
    registry: Registry,
    proposals: Arc<Proposals>,
    approvals: Approvals,
}

/// What the toolbox is built from.
pub(crate) struct ToolboxConfig {
    pub root: PathBuf,
    pub index: Option<SharedIndex>,
    /// Tokens of a `repo_map` call that names no size.
    pub map_tokens: usize,
}

impl Toolbox {
    pub fn new(config: ToolboxConfig, approvals: Approvals) -> Self {
        let proposals = Arc::new(Proposals::default());
        let cx = BuiltinContext {
            workspace: Arc::new(Workspace::new(&config.root)),
            proposals: proposals.clone(),
            index: config.index,
            map_tokens: config.map_tokens,
            gate: Arc::new(approvals.clone()),
        };
        Self { registry: Registry::builtin(&cx), proposals, approvals }
    }

    /// Adds a tool besides tandem's own, after them (the model sees the
    /// tools in the order added). A name already taken is refused.
    pub(crate) fn add(&mut self, tool: Arc<dyn Tool>) -> Result<(), RegisterError> {
        self.registry.register(tool)
    }
}

impl ToolRegistry for Toolbox {
    fn specs(&self) -> Vec<ToolSpec> {
        self.registry.specs()
    }

    fn call(&self, call: ToolCall, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        self.registry.call(call, ctx)
    }

    fn describe(&self, call: &ToolCall) -> String {
        self.registry.describe(call)
    }

    fn timeout(&self, call: &ToolCall) -> Option<Duration> {
        self.registry.timeout(call)
    }

    fn finish_round(&self, cancel: CancellationToken) -> BoxFuture<'static, Vec<(String, String)>> {
        let changes = self.proposals.take();
        let approvals = self.approvals.clone();
        Box::pin(async move {
            if changes.is_empty() {
                return Vec::new();
            }
            let files: Vec<_> = changes.iter().map(|(c, _)| c.clone()).collect();
            let verdicts = tokio::select! {
                v = approvals.review(files) => v,
                _ = cancel.cancelled() => None,
            };
            let Some(verdicts) = verdicts else {
                // The review stays with the user; whatever they decide is
                // told with their next message.
                return changes
                    .iter()
                    .filter_map(|(c, calls)| {
                        let last = calls.last()?.clone();
                        Some((last, format!("{}: not reviewed yet (the turn was stopped).", c.path.display())))
                    })
                    .collect();
            };
            changes
                .iter()
                .filter_map(|(c, calls)| {
                    let v = verdicts.iter().find(|v| v.path == c.path)?;
                    Some((calls.last()?.clone(), v.report.clone()))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, arguments: &str) -> ToolCall {
        ToolCall { id: "c1".into(), name: name.into(), arguments: arguments.into() }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn symbol_tools_answer_from_the_index_and_bad_calls_say_what_to_fix() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
        std::fs::write(
            dir.path().join("src/lib.rs"),
            "pub fn parse_config() -> u32 {\n    1\n}\n\npub fn main() {\n    parse_config();\n}\n",
        )
        .expect("write");
        let opts = crate::index::IndexOptions::new(dir.path());
        let (index, _) = crate::index::Index::build(&opts, &|_, _| {}).expect("index");
        let shared: SharedIndex = Arc::new(std::sync::RwLock::new(Some(index)));
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let config = ToolboxConfig { root: dir.path().to_path_buf(), index: Some(shared), map_tokens: 1024 };
        let tools = Toolbox::new(config, Approvals(tx));
        let names: Vec<String> = tools.specs().into_iter().map(|s| s.name).collect();
        let builtin: Vec<&str> = crate::tools::registry::builtin_names().collect();
        assert_eq!(names, builtin, "every built-in tool is there when the index is");
        assert_eq!(
            names,
            [
                "read_file",
                "list_files",
                "grep",
                "find_symbol",
                "references",
                "outline",
                "repo_map",
                "edit_file",
                "write_file",
                "apply_patch",
                "run_command"
            ],
            "the model sees the tools in this order"
        );
        let ctx = || ToolContext::new(CancellationToken::new());

        let out = tools.call(call("find_symbol", r#"{"name": "parse_config"}"#), ctx()).await;
        assert!(!out.is_error && out.content.contains("src/lib.rs:1-3"), "{out:?}");
        let out = tools.call(call("references", r#"{"name": "parse_config"}"#), ctx()).await;
        assert!(!out.is_error && out.content.contains("src/lib.rs:6"), "{out:?}");
        let out = tools.call(call("outline", r#"{"path": "src/lib.rs"}"#), ctx()).await;
        assert!(out.content.contains("parse_config") && out.content.contains("main"), "{out:?}");
        let out = tools.call(call("repo_map", "{}"), ctx()).await;
        assert!(!out.is_error && out.content.contains("lib.rs"), "{out:?}");

        let out = tools.call(call("find_symbol", r#"{"name": "  "}"#), ctx()).await;
        assert!(out.is_error && out.content.contains("non-empty"), "{out:?}");
        let out = tools.call(call("find_symbol", "{}"), ctx()).await;
        assert!(out.is_error && out.content.contains("missing field `name`"), "{out:?}");
        let out = tools.call(call("edit_file", "not json"), ctx()).await;
        assert!(out.is_error && out.content.contains("not valid JSON"), "{out:?}");
        let out = tools.call(call("no_such_tool", "{}"), ctx()).await;
        assert!(out.is_error && out.content.contains("read_file"), "{out:?}");
    }
}
