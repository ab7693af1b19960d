//! The tool calls of one round: each run in turn under the budgets, a
//! timeout and the user's cancel, then one review of the edits they
//! proposed, whose outcome joins their results.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::{Agent, AgentCommand, AgentEvent, redact};
use crate::llm::{ChatMessage, ToolCall};
use crate::metrics::budget::Check;
use crate::tools::{ToolContext, ToolOutput};

impl Agent {
    /// Run the calls one after another, then let the user review the edits
    /// they proposed, and add each result to the conversation. Returns false
    /// when the user cancelled.
    pub(super) async fn run_tools(
        &mut self,
        calls: Vec<ToolCall>,
        commands: &mut UnboundedReceiver<AgentCommand>,
    ) -> bool {
        let mut cancelled = false;
        let mut results: Vec<(String, String, ToolOutput)> = Vec::new();
        for call in calls {
            let id = call.id.clone();
            let name = call.name.clone();
            let check = if cancelled { Check::Ok } else { self.budget.tool_call(&name, Instant::now()) };
            let output = if cancelled {
                ToolOutput::error("not run: the user cancelled the turn")
            } else if let Some(why) = self.budget_refuses(check) {
                self.emit(AgentEvent::ToolRefused { id: id.clone(), name: name.clone(), reason: why.clone() });
                ToolOutput::error(why)
            } else {
                self.emit(AgentEvent::ToolRunning {
                    id: id.clone(),
                    name: name.clone(),
                    description: self.tools.describe(&call),
                });
                let started = Instant::now();
                let cancel = CancellationToken::new();
                let events = self.events.clone();
                let progress_id = id.clone();
                let ctx = ToolContext {
                    cancel: cancel.clone(),
                    progress: Arc::new(move |text: &str| {
                        let progress = AgentEvent::ToolProgress { id: progress_id.clone(), text: text.to_string() };
                        let _ = events.send(redact::event(progress, &crate::secrets::redactor()));
                    }),
                    call_id: id.clone(),
                };
                let timeout = self.tools.timeout(&call);
                let fut = self.tools.call(call, ctx);
                let limit = async {
                    match timeout {
                        Some(t) => tokio::time::sleep(t).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::pin!(fut);
                tokio::pin!(limit);
                let output = loop {
                    tokio::select! {
                        out = &mut fut => break out,
                        _ = &mut limit => {
                            cancel.cancel();
                            let secs = timeout.map_or(0, |t| t.as_secs());
                            break ToolOutput::error(format!("the tool did not finish within {secs} s and was stopped"));
                        }
                        cmd = commands.recv() => if self.on_command_while_busy(cmd) {
                            cancel.cancel();
                            cancelled = true;
                            break ToolOutput::error("stopped: the user cancelled the turn");
                        },
                    }
                };
                self.emit(AgentEvent::ToolDone {
                    id: id.clone(),
                    name: name.clone(),
                    output: output.clone(),
                    elapsed: started.elapsed(),
                });
                output
            };
            results.push((id, name, output));
        }
        // Edits proposed in this round: one review, whose outcome joins the
        // results of the calls that proposed them.
        let cancel = CancellationToken::new();
        let review = self.tools.finish_round(cancel.clone());
        tokio::pin!(review);
        let verdicts = loop {
            tokio::select! {
                v = &mut review => break v,
                cmd = commands.recv(), if !cancelled => if self.on_command_while_busy(cmd) {
                    cancel.cancel();
                    cancelled = true;
                },
            }
        };
        for (call_id, text) in verdicts {
            if let Some((_, _, output)) = results.iter_mut().find(|(id, _, _)| *id == call_id) {
                output.content.push_str("\n\n");
                output.content.push_str(&text);
            }
        }
        for (call_id, name, output) in results {
            self.remember(ChatMessage::Tool { call_id, name, content: output.content, is_error: output.is_error });
        }
        !cancelled
    }
}
