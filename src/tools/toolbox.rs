//! The registry of tandem's real tools.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::approval::Approvals;
use super::proposals::Proposals;
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput, ToolRegistry};
use crate::index::SharedIndex;
use crate::llm::{ToolCall, ToolSpec};

pub struct Toolbox {
    tools: Vec<Arc<dyn Tool>>,
    /// The tools' names, in the order of `tools`: looked up on every call,
    /// where building each schema again would be waste.
    names: Vec<String>,
    proposals: Arc<Proposals>,
    approvals: Approvals,
}

/// What the toolbox is built from.
pub struct ToolboxConfig {
    pub root: PathBuf,
    pub index: Option<SharedIndex>,
    /// Tokens of a `repo_map` call that names no size.
    pub map_tokens: usize,
}

impl Toolbox {
    pub fn new(config: ToolboxConfig, approvals: Approvals) -> Self {
        let workspace = Arc::new(Workspace::new(&config.root));
        let proposals = Arc::new(Proposals::default());
        let mut tools: Vec<Arc<dyn Tool>> = vec![
            Arc::new(super::read::ReadFile::new(workspace.clone())),
            Arc::new(super::list::ListFiles::new(workspace.clone())),
            Arc::new(super::grep::Grep::new(workspace.clone())),
        ];
        if let Some(index) = config.index {
            tools.push(Arc::new(super::symbols::FindSymbol(index.clone())));
            tools.push(Arc::new(super::symbols::References(index.clone())));
            tools.push(Arc::new(super::symbols::Outline(index.clone())));
            tools.push(Arc::new(super::symbols::RepoMapTool { index, tokens: config.map_tokens.max(1024) }));
        }
        tools.extend([
            Arc::new(super::edit::EditFile::new(workspace.clone(), proposals.clone())) as Arc<dyn Tool>,
            Arc::new(super::edit::WriteFile::new(workspace.clone(), proposals.clone())),
            Arc::new(super::edit::ApplyPatch::new(workspace.clone(), proposals.clone())),
            Arc::new(super::shell::RunCommand::new(workspace, Arc::new(approvals.clone()))),
        ]);
        let names = tools.iter().map(|t| t.spec().name).collect();
        Self { tools, names, proposals, approvals }
    }

    fn find(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.names.iter().position(|n| n == name).map(|i| &self.tools[i])
    }
}

fn redacted(output: ToolOutput) -> ToolOutput {
    let redactor = crate::secrets::redactor();
    ToolOutput {
        content: redactor.redact(&output.content).into_owned(),
        summary: redactor.redact(&output.summary).into_owned(),
        is_error: output.is_error,
    }
}

fn parse_args(call: &ToolCall) -> Result<serde_json::Value, String> {
    let text = if call.arguments.trim().is_empty() { "{}" } else { call.arguments.as_str() };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v @ serde_json::Value::Object(_)) => Ok(v),
        Ok(_) => Err(format!("the arguments of {} must be a JSON object matching its schema", call.name)),
        Err(e) => {
            Err(format!("the arguments of {} are not valid JSON ({e}); send an object matching its schema", call.name))
        }
    }
}

impl ToolRegistry for Toolbox {
    fn specs(&self) -> Vec<ToolSpec> {
        self.tools.iter().map(|t| t.spec()).collect()
    }

    fn call(&self, call: ToolCall, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let Some(tool) = self.find(&call.name) else {
            let msg = format!("there is no tool named `{}`; the tools are: {}", call.name, self.names.join(", "));
            return Box::pin(async move { ToolOutput::error(msg) });
        };
        match parse_args(&call) {
            Ok(args) => {
                let run = tool.run(args, ctx);
                // Every tool's result, whatever it read, reaches the model
                // and the chat without the secrets tandem knows.
                Box::pin(async move { redacted(run.await) })
            }
            Err(msg) => Box::pin(async move { ToolOutput::error(msg) }),
        }
    }

    fn describe(&self, call: &ToolCall) -> String {
        // Before the arguments are cut to a line.
        let call = ToolCall { arguments: crate::secrets::redact(&call.arguments), ..call.clone() };
        match (self.find(&call.name), parse_args(&call)) {
            (Some(tool), Ok(args)) => tool.describe(&args),
            _ => {
                let args: String = call.arguments.replace('\n', " ").chars().take(80).collect();
                format!("{}({args})", call.name)
            }
        }
    }

    fn timeout(&self, call: &ToolCall) -> Option<Duration> {
        self.find(&call.name).map_or(Some(Duration::from_secs(120)), |t| t.timeout())
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
        assert_eq!(names, crate::tools::TOOL_NAMES, "tools::TOOL_NAMES lists every tool");
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
