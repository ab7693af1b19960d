//! What tools ask of the session: a review of the edits proposed in a round,
//! or leave to run a command. The engine answers, by its policy or by asking
//! the front-end (`crate::engine`).

use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

use crate::patch::FileChange;

/// What one file's review came to, in words for the model: per hunk,
/// accepted, rejected (with the user's reason) or edited, and whether the
/// result was written and staged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerdict {
    pub path: PathBuf,
    pub report: String,
}

pub enum Approval {
    /// The edits of one round, per file, to accept or reject hunk by hunk.
    Review { files: Vec<FileChange>, reply: oneshot::Sender<Vec<FileVerdict>> },
    /// A command to run; `Err` carries the user's reason for refusing.
    Command { command: String, reply: oneshot::Sender<Result<(), String>> },
}

impl std::fmt::Debug for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Approval::Review { files, .. } => write!(f, "Review({} files)", files.len()),
            Approval::Command { command, .. } => write!(f, "Command({command})"),
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
}

/// Asks whether a command may run. `Err(reason)` declines it; the reason is
/// passed to the model. The session's engine answers: by its policy, or by
/// asking the user.
pub trait CommandGate: Send + Sync {
    fn check(&self, command: &str) -> futures::future::BoxFuture<'static, Result<(), String>>;
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
pub fn hunk_line(index: usize, hunk: &crate::patch::Hunk, what: &str) -> String {
    format!("hunk {} {}: {what}", index + 1, crate::patch::hunks::header(hunk))
}
