//! Tools the model can call. The agent sees them only through
//! [`ToolRegistry`]: their schemas, and a call that returns text for the model.
//! Each tool is a [`Tool`] in a file of its own, registered by name in a
//! [`registry::Registry`]; tandem's own are listed in `BUILTINS`, and
//! [`toolbox::Toolbox`] holds them for a session.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::llm::{ToolCall, ToolSpec};

/// What a tool call gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// The text the model receives.
    pub content: String,
    /// The call failed; `content` says why, so the model can correct itself.
    pub is_error: bool,
    /// One line for the chat, e.g. `read src/main.rs (120 lines)`.
    pub summary: String,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>, summary: impl Into<String>) -> Self {
        Self { content: content.into(), is_error: false, summary: summary.into() }
    }

    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        Self { summary: message.clone(), content: message, is_error: true }
    }
}

/// What a running call may use besides its arguments.
#[derive(Clone)]
pub struct ToolContext {
    /// Cancelled when the user stops the turn or the call times out.
    pub cancel: CancellationToken,
    /// Output as it arrives (a command's), shown in the chat under the call.
    pub progress: Arc<dyn Fn(&str) + Send + Sync>,
    /// The provider's id of the call, to tie a proposal to the call that made it.
    pub call_id: String,
}

impl ToolContext {
    pub fn new(cancel: CancellationToken) -> Self {
        Self { cancel, progress: Arc::new(|_| {}), call_id: String::new() }
    }
}

pub(crate) trait ToolRegistry: Send + Sync {
    fn specs(&self) -> Vec<ToolSpec>;

    /// Run one call. Unknown tools and invalid arguments are errors returned
    /// as output, never panics.
    fn call(&self, call: ToolCall, ctx: ToolContext) -> BoxFuture<'static, ToolOutput>;

    /// A one-line description of a call for the chat, before it runs.
    fn describe(&self, call: &ToolCall) -> String {
        let args = call.arguments.replace('\n', " ");
        let args: String = args.chars().take(80).collect();
        format!("{}({args})", call.name)
    }

    /// Longest time a call may run; `None` when the tool keeps its own time
    /// (a command waiting for the user's approval is not running yet).
    fn timeout(&self, _call: &ToolCall) -> Option<Duration> {
        Some(Duration::from_secs(120))
    }

    /// Called once every call of a model's round has run. Edits proposed
    /// during the round go to the user as one review here; the answer is text
    /// to add to the results of the calls that proposed them, as
    /// `(call id, text)`.
    fn finish_round(&self, _cancel: CancellationToken) -> BoxFuture<'static, Vec<(String, String)>> {
        Box::pin(async { Vec::new() })
    }
}

/// No tools: the model can only talk.
pub(crate) struct NoTools;

impl ToolRegistry for NoTools {
    fn specs(&self) -> Vec<ToolSpec> {
        Vec::new()
    }

    fn call(&self, call: ToolCall, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        Box::pin(async move { ToolOutput::error(format!("there is no tool named `{}`", call.name)) })
    }
}

/// One tool: its schema, and a call on parsed arguments.
pub trait Tool: Send + Sync {
    fn spec(&self) -> ToolSpec;

    /// Run with the model's arguments. Argument errors are returned as
    /// [`ToolOutput::error`] saying what was expected.
    fn run(&self, args: serde_json::Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput>;

    /// One line for the chat before the call runs, e.g. `read src/lib.rs:10-40`.
    fn describe(&self, args: &serde_json::Value) -> String;

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(120))
    }
}

pub mod approval;
pub(crate) mod args;
pub mod edit;
pub mod grep;
pub mod list;
pub mod proposals;
pub(crate) mod protected;
pub mod read;
pub mod read_only;
pub(crate) mod registry;
pub(crate) mod scope;
pub(crate) mod shell;
pub mod shell_output;
pub(crate) mod shell_run;
pub mod symbols;
#[cfg(test)]
pub(crate) mod test_tools;
pub mod text;
pub(crate) mod toolbox;
pub mod workspace;

use registry::builtin;

/// tandem's own tools, in the order the model sees them. A new tool is a
/// file of its own (a [`Tool`] and a [`registry::BuiltinTool`]), its `mod`
/// line above, and one line here.
pub(crate) const BUILTINS: &[registry::Builtin] = &[
    builtin::<read::ReadFile>(),
    builtin::<list::ListFiles>(),
    builtin::<grep::Grep>(),
    builtin::<symbols::FindSymbol>(),
    builtin::<symbols::References>(),
    builtin::<symbols::Outline>(),
    builtin::<symbols::RepoMapTool>(),
    builtin::<edit::EditFile>(),
    builtin::<edit::WriteFile>(),
    builtin::<edit::ApplyPatch>(),
    builtin::<shell::RunCommand>(),
];

/// Files for the tools' tests.
#[cfg(test)]
pub(crate) mod test_files {
    use std::path::Path;

    /// Writes each `(path, content)` under `root`, making directories as needed.
    pub(crate) fn write_files<C: AsRef<[u8]>>(root: &Path, files: &[(&str, C)]) {
        for (path, content) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
    }

    /// A temporary directory holding `files`.
    pub(crate) fn tree<C: AsRef<[u8]>>(files: &[(&str, C)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), files);
        dir
    }
}
