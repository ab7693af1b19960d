//! What tools ask of the user: a review of the edits proposed in a round, or
//! leave to run a command. The app answers; the policy in force may answer
//! for the user.

use std::path::{Path, PathBuf};

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

impl super::shell::CommandGate for Approvals {
    fn check(&self, command: &str) -> futures::future::BoxFuture<'static, Result<(), String>> {
        let this = self.clone();
        let command = command.to_string();
        Box::pin(async move { this.command(&command).await })
    }
}

/// Why `command` may run without asking under `policy`, if it may: every
/// command under full-auto, read-only ones (judged against the repository
/// at `root`, where commands run) always, and simple commands starting
/// with one of `allowed` (the configured and remembered prefixes).
pub fn command_allowed<'a>(
    policy: crate::config::Policy,
    command: &str,
    root: &Path,
    allowed: impl IntoIterator<Item = &'a String>,
) -> Option<&'static str> {
    if policy == crate::config::Policy::FullAuto {
        return Some("full-auto policy");
    }
    if super::shell::is_read_only(command, root) {
        return Some("read-only");
    }
    let cmd = command.trim();
    let allowed = allowed.into_iter().any(|prefix| {
        cmd == prefix.trim()
            || cmd.strip_prefix(prefix.trim()).is_some_and(|rest| rest.starts_with(' '))
                && super::read_only::is_simple_command(cmd)
    });
    allowed.then_some("allowed prefix")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Policy;

    #[test]
    fn commands_allowed_by_policy_read_only_rules_and_prefixes() {
        let prefixes = vec!["cargo test".to_string()];
        let root = tempfile::tempdir().unwrap();
        let allowed = |policy, command| command_allowed(policy, command, root.path(), &prefixes);
        assert_eq!(allowed(Policy::FullAuto, "rm -rf target"), Some("full-auto policy"));
        assert_eq!(allowed(Policy::Suggest, "git status"), Some("read-only"));
        assert_eq!(allowed(Policy::AutoEdit, "cargo test -p x"), Some("allowed prefix"));
        assert_eq!(allowed(Policy::AutoEdit, "cargo test && rm -rf ~"), None);
        assert_eq!(allowed(Policy::Suggest, "cargo testing"), None);
        assert_eq!(allowed(Policy::Suggest, "rm -rf target"), None);
    }
}
