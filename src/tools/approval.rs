//! What tools ask of the session: a review of the edits proposed in a round,
//! leave to run a command, or leave for anything else ([`Permission`]). The
//! engine answers, by its policy or by asking the front-end
//! (`crate::engine`).
//!
//! # Asking for leave
//!
//! A tool that needs the user's leave before it acts sends a [`Permission`]:
//! a kind, a one-line title, the detail of what exactly is asked, and what
//! "always allow" would remember. It waits for the answer
//! ([`Approvals::permission`], or a [`PermissionGate`] it was given) and
//! acts only on `Ok(())`; `Err(reason)` is the refusal, in words for the
//! model.
//!
//! Adding a kind is one constant, in the code that asks:
//!
//! ```text
//! pub const MCP_TOOL: PermissionKind = PermissionKind {
//!     name: "mcp-tool",
//!     label: "MCP tool call",
//!     // The policy rule: granted without asking under full-auto.
//!     granted_by: &[Policy::FullAuto],
//! };
//! ```
//!
//! The engine applies the rule (then what the user allowed for the session,
//! then asks), the review desk and `tandem exec` show and answer every kind
//! alike: nothing else changes, in the app or anywhere.

use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

use crate::config::Policy;
use crate::patch::FileChange;

/// What one file's review came to, in words for the model: per hunk,
/// accepted, rejected (with the user's reason) or edited, and whether the
/// result was written and staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerdict {
    pub path: PathBuf,
    pub report: String,
}

/// A kind of leave a tool may ask for, and the policy rule for it.
///
/// Kinds are constants next to the code that asks (see the module's docs):
/// a server's tool call over MCP, a command leaving its sandbox. The rule
/// is a list of policies, not a guess from the request: what a kind may do
/// unasked is decided once, where the kind is made, and read in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionKind {
    /// A stable name, for the audit log, `tandem exec --json` and what
    /// "always allow" remembers: `mcp-tool`, `sandbox-escape`.
    pub name: &'static str,
    /// What the user is asked for, in a few words: "MCP tool call".
    pub label: &'static str,
    /// The policies under which it is granted without asking. Empty (the
    /// default to choose): always asked, whatever the policy.
    pub granted_by: &'static [Policy],
}

impl PermissionKind {
    /// Whether `policy` grants this kind without asking.
    pub(crate) fn granted_under(&self, policy: Policy) -> bool {
        self.granted_by.contains(&policy)
    }
}

/// Leave a tool asks for, other than a review of edits or a command (which
/// have requests of their own).
///
/// Everything here may come from the model or from a server: the front-ends
/// show `title`, `detail` and `remember_key` made safe for a terminal
/// (`crate::printable`) and cut to a bounded size, never as they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub kind: PermissionKind,
    /// What is asked, in one line: "server `github` wants to run tool
    /// `create_issue`".
    pub title: String,
    /// What exactly is asked, shown as it is (made safe, not reworded): the
    /// tool's arguments, the path to write, the host to reach.
    pub detail: String,
    /// What "always allow" remembers for the session (with the kind): later
    /// requests of the kind with the same key are granted without asking.
    /// `None`: each request is allowed once, or refused.
    pub remember_key: Option<String>,
}

pub enum Approval {
    /// The edits of one round, per file, to accept or reject hunk by hunk.
    Review { files: Vec<FileChange>, reply: oneshot::Sender<Vec<FileVerdict>> },
    /// A command to run; `Err` carries the user's reason for refusing.
    Command { command: String, reply: oneshot::Sender<Result<(), String>> },
    /// Leave of another kind; `Err` carries the reason it was refused.
    Permission { permission: Permission, reply: oneshot::Sender<Result<(), String>> },
}

impl std::fmt::Debug for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Approval::Review { files, .. } => write!(f, "Review({} files)", files.len()),
            Approval::Command { command, .. } => write!(f, "Command({command})"),
            Approval::Permission { permission, .. } => {
                write!(f, "Permission({}: {})", permission.kind.name, permission.title)
            }
        }
    }
}

/// The tools' end of the channel to the app.
#[derive(Clone)]
pub struct Approvals(pub mpsc::UnboundedSender<Approval>);

impl Approvals {
    /// Ask for a review and wait for the verdicts; `None` when the app is
    /// gone or the review was dropped unanswered.
    pub async fn review(&self, files: Vec<FileChange>) -> Option<Vec<FileVerdict>> {
        let (reply, answer) = oneshot::channel();
        self.0.send(Approval::Review { files, reply }).ok()?;
        answer.await.ok()
    }

    /// Ask to run `command`.
    pub async fn command(&self, command: &str) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.0
            .send(Approval::Command { command: command.to_string(), reply })
            .map_err(|_| "nobody is there to approve commands".to_string())?;
        answer.await.unwrap_or_else(|_| Err("the request was withdrawn before anyone answered".into()))
    }

    /// Ask for `permission` and wait: `Ok(())` when it is granted (by the
    /// policy, by what the user allowed for the session, or by the user
    /// now); `Err(reason)` for the model otherwise.
    pub(crate) async fn permission(&self, permission: Permission) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        let label = permission.kind.label;
        self.0
            .send(Approval::Permission { permission, reply })
            .map_err(|_| format!("nobody is there to answer a request for leave ({label})"))?;
        answer.await.unwrap_or_else(|_| Err("the request was withdrawn before anyone answered".into()))
    }
}

/// Asks whether a command may run. `Err(reason)` declines it; the reason is
/// passed to the model. The session's engine answers: by its policy, or by
/// asking the user.
pub trait CommandGate: Send + Sync {
    fn check(&self, command: &str) -> futures::future::BoxFuture<'static, Result<(), String>>;
}

/// Asks for leave of any [`PermissionKind`], as [`CommandGate`] does for
/// commands: what a tool holds when it does not hold the whole
/// [`Approvals`]. `Err(reason)` refuses; the reason is for the model.
pub trait PermissionGate: Send + Sync {
    fn ask(&self, permission: Permission) -> futures::future::BoxFuture<'static, Result<(), String>>;
}

/// Approves every command (tests).
pub struct AllowAll;

impl CommandGate for AllowAll {
    fn check(&self, _command: &str) -> futures::future::BoxFuture<'static, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

impl CommandGate for Approvals {
    fn check(&self, command: &str) -> futures::future::BoxFuture<'static, Result<(), String>> {
        let this = self.clone();
        let command = command.to_string();
        Box::pin(async move { this.command(&command).await })
    }
}

impl PermissionGate for Approvals {
    fn ask(&self, permission: Permission) -> futures::future::BoxFuture<'static, Result<(), String>> {
        let this = self.clone();
        Box::pin(async move { this.permission(permission).await })
    }
}

impl FileVerdict {
    /// The model's account of one reviewed file: how many of its hunks were
    /// accepted, each hunk's fate in words (`lines`), and what became of the
    /// accepted ones (`state`, e.g. "written and staged").
    pub fn new(path: PathBuf, accepted: usize, lines: &[String], state: &str) -> Self {
        let mut report = format!("{}: {accepted} of {} hunk(s) accepted.\n", path.display(), lines.len());
        for l in lines {
            report.push_str("- ");
            report.push_str(l);
            report.push('\n');
        }
        report.push_str(&format!("The accepted hunks were {state}."));
        Self { path, report }
    }
}

/// One hunk's fate in words for the model: `hunk 2 @@ -8,3 +8,4 @@: accepted`.
pub(crate) fn hunk_line(index: usize, hunk: &crate::patch::Hunk, what: &str) -> String {
    format!("hunk {} {}: {what}", index + 1, crate::patch::hunks::header(hunk))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: PermissionKind = PermissionKind { name: "test", label: "test leave", granted_by: &[] };

    fn asked() -> Permission {
        Permission { kind: KIND, title: "t".into(), detail: "d".into(), remember_key: None }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_permission_is_granted_refused_or_lost_in_words_for_the_model() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let gate: &dyn PermissionGate = &Approvals(tx);
        let answer = gate.ask(asked());
        let serve = async {
            for result in [Ok(()), Err("no".to_string())] {
                match rx.recv().await {
                    Some(Approval::Permission { permission, reply }) => {
                        assert_eq!(permission, asked());
                        let _ = reply.send(result);
                    }
                    other => panic!("{other:?}"),
                }
            }
            // The third is dropped unanswered.
            drop(rx.recv().await);
            rx
        };
        let second = gate.ask(asked());
        let third = gate.ask(asked());
        let (a, b, c, rx) = tokio::join!(answer, second, third, serve);
        assert_eq!((a, b), (Ok(()), Err("no".to_string())));
        assert_eq!(c, Err("the request was withdrawn before anyone answered".to_string()));
        drop(rx);
        let gone = gate.ask(asked()).await;
        assert_eq!(gone, Err("nobody is there to answer a request for leave (test leave)".to_string()));
    }
}
