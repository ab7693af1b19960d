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
use crate::agent::SharedIndex;
use crate::llm::{ToolCall, ToolSpec};

pub struct Toolbox {
    tools: Vec<Arc<dyn Tool>>,
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
        Self { tools, proposals, approvals }
    }

    fn find(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.spec().name == name)
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
            let names: Vec<String> = self.tools.iter().map(|t| t.spec().name).collect();
            let msg = format!("there is no tool named `{}`; the tools are: {}", call.name, names.join(", "));
            return Box::pin(async move { ToolOutput::error(msg) });
        };
        match parse_args(&call) {
            Ok(args) => tool.run(args, ctx),
            Err(msg) => Box::pin(async move { ToolOutput::error(msg) }),
        }
    }

    fn describe(&self, call: &ToolCall) -> String {
        match (self.find(&call.name), parse_args(call)) {
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
