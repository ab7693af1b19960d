//! A tool that asks for leave before it acts, for the tests of the engine
//! and of `tandem exec`: the way an MCP client's tool will ask before it
//! forwards a call. No tool tandem ships asks for a permission yet.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::approval::{Permission, PermissionGate, PermissionKind};
use super::{Tool, ToolContext, ToolOutput};
use crate::config::Policy;
use crate::llm::ToolSpec;

/// Opening a door: granted without asking under full-auto only.
pub(crate) const DOOR: PermissionKind =
    PermissionKind { name: "door", label: "door opening", granted_by: &[Policy::FullAuto] };

/// `open_door {door, detail?}`: asks for leave of kind [`DOOR`] ("the model
/// wants to open door `NAME`", the detail as given or `open NAME`,
/// remembered by the door's name) and, once it has it, writes `NAME.open`
/// in its directory. A refusal is the tool's error, with the reason.
pub(crate) struct OpenDoor {
    dir: PathBuf,
    gate: Arc<dyn PermissionGate>,
}

impl OpenDoor {
    pub fn new(dir: PathBuf, gate: Arc<dyn PermissionGate>) -> Self {
        Self { dir, gate }
    }
}

impl Tool for OpenDoor {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "open_door".into(),
            description: "Open a door, once the user allows it.".into(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": { "door": { "type": "string" }, "detail": { "type": "string" } },
                "required": ["door"],
            }),
        }
    }

    fn run(&self, args: serde_json::Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let door = args["door"].as_str().unwrap_or_default().to_string();
        let detail = args["detail"].as_str().map_or_else(|| format!("open {door}"), str::to_string);
        let (dir, gate) = (self.dir.clone(), self.gate.clone());
        Box::pin(async move {
            if door.is_empty() || !door.chars().all(|c| c.is_ascii_lowercase()) {
                return ToolOutput::error("a door is named in lowercase letters");
            }
            let asked = Permission {
                kind: DOOR,
                title: format!("the model wants to open door `{door}`"),
                detail,
                remember_key: Some(door.clone()),
            };
            let answer = tokio::select! {
                a = gate.ask(asked) => a,
                _ = ctx.cancel.cancelled() => Err("stopped".into()),
            };
            match answer {
                Ok(()) => match std::fs::write(dir.join(format!("{door}.open")), "open\n") {
                    Ok(()) => ToolOutput::ok(format!("door {door} is open"), format!("opened {door}")),
                    Err(e) => ToolOutput::error(format!("door {door} is stuck: {e}")),
                },
                Err(reason) => ToolOutput::error(format!("door {door} stays shut: {reason}")),
            }
        })
    }

    fn describe(&self, args: &serde_json::Value) -> String {
        format!("open door {}", args["door"].as_str().unwrap_or("?"))
    }

    /// Waiting for the user is not running.
    fn timeout(&self) -> Option<Duration> {
        None
    }
}
