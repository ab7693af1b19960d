//! The tool registry: tools are [`Tool`] objects registered by name at
//! start, and every call passes through [`Registry::call`], where an unknown
//! name or malformed arguments become an error for the model and every
//! result is redacted.
//!
//! tandem's own tools are listed once, in `tools::BUILTINS`. Their names
//! are known without a repository, since the configuration names tools
//! before any repository is opened.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::approval::CommandGate;
use super::proposals::Proposals;
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput, ToolRegistry};
use crate::config::{Diagnostic, Layered};
use crate::index::SharedIndex;
use crate::llm::{ToolCall, ToolSpec};

/// Time a call may run when its tool does not say.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest tool name: OpenAI's limit, and Anthropic's.
const MAX_NAME_LEN: usize = 64;

struct Entry {
    /// Read once, at registration: every request sends every spec.
    spec: ToolSpec,
    tool: Arc<dyn Tool>,
}

/// Tools by name, in the order they were registered (the order the model
/// sees them in).
#[derive(Default)]
pub(crate) struct Registry {
    entries: Vec<Entry>,
    /// Index into `entries`: looked up on every call.
    by_name: HashMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RegisterError {
    #[error("a tool named `{0}` is already registered")]
    Duplicate(String),
    #[error("`{0}` is not a usable tool name: providers take 1 to {MAX_NAME_LEN} ASCII letters, digits, `_` or `-`")]
    BadName(String),
}

/// Whether every provider takes `name` as a tool's name; one they refuse
/// would fail every request of the session.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `tool` under the name of its spec. A second tool of the same
    /// name is refused: the model could not tell them apart.
    pub(crate) fn register(&mut self, tool: Arc<dyn Tool>) -> Result<(), RegisterError> {
        let spec = tool.spec();
        if !valid_name(&spec.name) {
            return Err(RegisterError::BadName(spec.name));
        }
        if self.by_name.contains_key(&spec.name) {
            return Err(RegisterError::Duplicate(spec.name));
        }
        self.by_name.insert(spec.name.clone(), self.entries.len());
        self.entries.push(Entry { spec, tool });
        Ok(())
    }

    /// tandem's own tools for one repository, in the order of
    /// `tools::BUILTINS`.
    pub(crate) fn builtin(cx: &BuiltinContext) -> Self {
        Self::from_list(super::BUILTINS, cx)
    }

    /// The tools of `list` that `cx` has what they need for.
    pub(crate) fn from_list(list: &[Builtin], cx: &BuiltinContext) -> Self {
        let mut registry = Self::new();
        for tool in list.iter().filter_map(|b| (b.build)(cx)) {
            if let Err(e) = registry.register(tool) {
                // A mistake in the list, which the tests guard against: the
                // first tool of the name stays.
                tracing::error!("built-in tool left out: {e}");
            }
        }
        registry
    }

    /// The names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.spec.name.as_str())
    }

    fn find(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.by_name.get(name).map(|&i| &self.entries[i].tool)
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

impl ToolRegistry for Registry {
    fn specs(&self) -> Vec<ToolSpec> {
        self.entries.iter().map(|e| e.spec.clone()).collect()
    }

    fn call(&self, call: ToolCall, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let Some(tool) = self.find(&call.name) else {
            let names: Vec<&str> = self.names().collect();
            let msg = format!("there is no tool named `{}`; the tools are: {}", call.name, names.join(", "));
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
        self.find(&call.name).map_or(Some(DEFAULT_TIMEOUT), |t| t.timeout())
    }
}

/// What the built-in tools are made from: one repository's workspace, the
/// round's proposals, the index when there is one, and the gate a command
/// passes before it runs.
pub(crate) struct BuiltinContext {
    pub workspace: Arc<Workspace>,
    pub proposals: Arc<Proposals>,
    pub index: Option<SharedIndex>,
    /// Tokens of a `repo_map` call that names no size.
    pub map_tokens: usize,
    pub gate: Arc<dyn CommandGate>,
}

/// A tool tandem ships.
pub(crate) trait BuiltinTool: Tool + Sized + 'static {
    /// Its name, the one its spec gives.
    const NAME: &'static str;

    /// The tool for the repository of `cx`, or `None` when `cx` lacks what
    /// it needs (the symbol tools without an index).
    fn build(cx: &BuiltinContext) -> Option<Self>;
}

/// One line of a list of built-in tools: see [`builtin`].
pub(crate) struct Builtin {
    name: &'static str,
    build: fn(&BuiltinContext) -> Option<Arc<dyn Tool>>,
}

/// The line of `T` in a list of built-in tools.
pub(crate) const fn builtin<T: BuiltinTool>() -> Builtin {
    Builtin { name: T::NAME, build: build_shared::<T> }
}

fn build_shared<T: BuiltinTool>(cx: &BuiltinContext) -> Option<Arc<dyn Tool>> {
    T::build(cx).map(|tool| Arc::new(tool) as Arc<dyn Tool>)
}

/// The names of tandem's own tools, in the order the model sees them.
pub(crate) fn builtin_names() -> impl Iterator<Item = &'static str> {
    super::BUILTINS.iter().map(|b| b.name)
}

/// What is wrong in the configuration's names of tools: a
/// `budget.max_tool_calls_per_minute` entry for a tool tandem does not
/// have. The configuration cannot tell (it sits below the tools); whoever
/// shows its diagnostics adds these.
pub(crate) fn config_diagnostics(layered: &Layered) -> Vec<Diagnostic> {
    let names: Vec<&str> = builtin_names().collect();
    crate::config::budget::unknown_tools(layered, &names)
}

#[cfg(test)]
mod tests;
