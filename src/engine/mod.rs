//! One session of tandem: the agent and its tools, the approval policy, the
//! review of what the model proposes, applying and undoing what was
//! approved, budgets, the audit log and the session journal.
//!
//! Front-ends (the app, `tandem exec`) talk to it through one pair of
//! channels: [`Command`]s in, [`Event`]s out. The policy is decided here,
//! once: a front-end hears [`Event::ApprovalRequested`] only when someone
//! has to answer, and answers with [`Command::Decide`]. Nothing here knows
//! about terminals.
//!
//! # What is asked
//!
//! A [`Request`] is one of three: the edits of a round ([`Request::Changes`],
//! reviewed hunk by hunk), a command ([`Request::Command`]), or leave of
//! any other kind ([`Request::Permission`]). A tool asks for a
//! [`Permission`] through its approvals channel
//! (`tools::approval::Approvals::permission`) and waits. The engine
//! decides, in this order:
//!
//! 1. the kind's policy rule ([`PermissionKind::granted_by`]): granted
//!    without asking under the policies it lists;
//! 2. what the user allowed for the session: an earlier "always allow" of
//!    the same kind and [`Permission::remember_key`];
//! 3. otherwise someone is asked: [`Event::ApprovalRequested`]. The app
//!    shows it on the review desk, answered with the same keys as a
//!    command; `tandem exec`, with nobody to ask, refuses it with
//!    [`Answer::Unattended`] and a reason the model is given.
//!
//! Every grant and refusal is in the audit log (event `permission`).
//!
//! ## Adding a kind
//!
//! A new kind of leave is one [`PermissionKind`] constant beside the code
//! that asks for it, with its policy rule (`granted_by`; leave it empty to
//! always ask). Nothing else changes: not the engine, not the review desk,
//! not the app, not `tandem exec`. What is coming:
//!
//! - MCP: a server's tool call. Before it forwards a call, the MCP
//!   client's tool asks for leave of kind `MCP_TOOL` (granted by
//!   full-auto), titled like "server `github` wants to run tool
//!   `create_issue`", with the call's arguments as the detail and
//!   `github/create_issue` as the key "always allow" remembers; it forwards
//!   the call only when granted. The server's tools join the session
//!   through [`Setup::extra_tools`].
//! - Sandbox: a command that wants more than its sandbox gives (the
//!   network, a write outside the repository). The command runner asks for
//!   leave of kind `SANDBOX_ESCAPE`, which lists no policy (even full-auto
//!   asks: it confines commands, it does not free them), titled like
//!   "`npm install` wants network access", with the command and what it
//!   wants as the detail, and no key to remember.

mod answer;
mod policy;
mod task;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::agent::AgentEvent;
use crate::config::{Config, Policy};
use crate::index::SharedIndex;
use crate::llm::select::Profile;
use crate::llm::{ChatMessage, Provider};
use crate::metrics::budget::Limits;
use crate::patch::{FileChange, Hunk};
use crate::session::audit::AuditLog;
use crate::session::journal::Journal;
use crate::tools::approval::Approvals;
use crate::tools::protected::Protected;

pub use crate::tools::approval::{Permission, PermissionKind};
pub(crate) use answer::accept_all;
pub use policy::{command_allowed, command_prefix};

/// Makes one tool for a session, given the session's [`Approvals`] (through
/// which the tool asks for leave).
pub type ToolMaker = Arc<dyn Fn(Approvals) -> Arc<dyn crate::tools::Tool> + Send + Sync>;

/// What a session is made of, besides its model.
pub(crate) struct Setup {
    pub root: PathBuf,
    /// Where tandem was started (for AGENTS.md files between it and the root).
    pub cwd: PathBuf,
    pub is_git: bool,
    pub policy: Policy,
    /// Command prefixes that run without asking (`[tools] allow_commands`).
    pub allow_commands: Vec<String>,
    pub protected: Protected,
    pub max_tool_rounds: u32,
    /// Tokens of the repository map in each request; 0 sends none.
    pub map_tokens: usize,
    pub limits: Limits,
    pub index: Option<SharedIndex>,
    /// Give the model the real tools; without them it can only talk.
    pub tools: bool,
    /// Tools besides tandem's own, after them (with `tools` only): how a
    /// server's tools (MCP) join a session.
    pub extra_tools: Vec<ToolMaker>,
    pub audit: Option<AuditLog>,
    pub journal: Option<Journal>,
}

impl Setup {
    /// A session in `root` with the configuration's policy, limits and
    /// rules, the real tools, and no audit log or journal.
    pub fn new(config: &Config, root: PathBuf, cwd: PathBuf, is_git: bool) -> Self {
        Self {
            root,
            cwd,
            is_git,
            policy: config.tools.policy,
            allow_commands: config.tools.allow_commands.clone(),
            protected: Protected::new(&config.tools.protected_paths).0,
            max_tool_rounds: config.model.max_tool_rounds,
            map_tokens: config.index.map_tokens,
            limits: Limits::from_config(&config.budget),
            index: None,
            tools: true,
            extra_tools: Vec::new(),
            audit: None,
            journal: None,
        }
    }
}

/// What a front-end asks of the session.
pub enum Command {
    /// A message from the user; it waits if a turn is running.
    User {
        text: String,
    },
    /// Stop the running turn.
    Cancel,
    /// Ask again after a failed turn.
    Retry,
    /// Replace the conversation (a resumed session's, or empty for a new one).
    Reset(Vec<ChatMessage>),
    /// Use another model from now on.
    Switch {
        provider: Arc<dyn Provider>,
        profile: Profile,
    },
    /// The answer to [`Event::ApprovalRequested`] `id`.
    Decide {
        id: u64,
        answer: Answer,
    },
    /// Undo the last change set written, in the working tree and the index.
    Undo,
    SetPolicy(Policy),
    /// Record the session in `journal` from now on (a new one after
    /// `/clear`, or a resumed one).
    UseJournal(Journal),
    /// Write what the journal and the audit log still hold, then answer.
    Flush(oneshot::Sender<()>),
}

/// Someone's answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Per file of the change set, in the order requested.
    Changes(Vec<FileAnswer>),
    /// Run the command; with `remember`, also every later simple command
    /// starting with it, for this session. For a [`Request::Permission`]:
    /// grant it; with `remember` (any text: "always allow"), also every
    /// later request of its kind with its `remember_key`, for this session
    /// (nothing is remembered for a request without one).
    Allow { remember: Option<String> },
    /// Do not run the command, or grant the permission; the model is told
    /// `reason`.
    Refuse { reason: String },
    /// Nobody is there to answer (a headless run): refused, and recorded
    /// as such; the model is told `reason`.
    Unattended { reason: String },
}

/// What became of one proposed file's hunks.
#[derive(Debug, Clone, PartialEq)]
pub struct FileAnswer {
    /// Every hunk as reviewed (split or edited ones as they ended up), with
    /// its fate.
    pub hunks: Vec<HunkAnswer>,
    /// The file was set aside rather than reviewed (a headless run records
    /// it in a patch file): what the model is told about it instead.
    pub set_aside: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HunkAnswer {
    pub hunk: Hunk,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Accepted as the user rewrote it.
    Edited,
    Rejected(Option<String>),
    /// Not decided when the set was applied: rejected.
    Undecided,
}

impl Verdict {
    /// The verdict in a word: `accepted`, `edited` or `rejected`.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Edited => "edited",
            Verdict::Rejected(_) | Verdict::Undecided => "rejected",
        }
    }

    pub(crate) fn accepts(&self) -> bool {
        matches!(self, Verdict::Accepted | Verdict::Edited)
    }
}

/// What someone has to answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// The edits of one round of tool calls.
    Changes {
        files: Vec<FileChange>,
        /// Per file, the protected-path pattern it falls under: its hunks
        /// are accepted one by one only, whatever the policy.
        protected: Vec<Option<String>>,
        /// The policy accepts the files that are not protected; only the
        /// protected ones wait for a person.
        policy_accepts: bool,
    },
    /// A command the policy does not let run unasked.
    Command { command: String },
    /// Leave of another kind that neither the policy nor the session's
    /// "always allow" grants: answered with [`Answer::Allow`],
    /// [`Answer::Refuse`] or [`Answer::Unattended`].
    Permission(Permission),
}

/// What the session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The agent's progress: answer text, tool calls, usage, turn ends.
    Agent(AgentEvent),
    /// Someone has to answer with [`Command::Decide`] `id`.
    ApprovalRequested {
        id: u64,
        request: Request,
    },
    /// A change set the policy accepts whole: it is written at once.
    Proposed {
        id: u64,
        files: Vec<FileChange>,
    },
    /// A command ran without asking, and why it could.
    CommandAllowed {
        command: String,
        why: &'static str,
    },
    /// A change set's answer was carried out.
    Applied {
        id: u64,
        files: Vec<AppliedFile>,
        by_policy: bool,
    },
    /// The last change set was undone where it could be; `text` says what
    /// became of each file; `retry` when something was left to try again.
    Undone {
        text: String,
        retry: bool,
    },
    NothingToUndo,
}

/// One file of an applied change set.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedFile {
    pub path: PathBuf,
    /// Each hunk's verdict in a word (`accepted`, `edited`, `rejected`).
    pub hunks: Vec<&'static str>,
    pub outcome: Outcome,
    /// What became of the accepted hunks, or why the file was not written,
    /// in words: "written and staged", "NOT written: …".
    pub state: String,
    /// Why the file was not written or not staged, when it was not.
    pub reason: Option<String>,
}

impl AppliedFile {
    pub(crate) fn accepted(&self) -> usize {
        self.hunks.iter().filter(|h| **h != "rejected").count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Staged,
    /// Written, not staged (outside git, or the index could not be written).
    Written,
    /// Accepted hunks that could not be written.
    Refused,
    /// Nothing was accepted.
    Rejected,
    /// Set aside for later (a headless run's patch file).
    SetAside,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum EngineError {
    #[error("the session has ended")]
    Stopped,
}

/// The front-end's end of the command channel.
#[derive(Clone)]
pub(crate) struct Handle {
    tx: mpsc::UnboundedSender<Command>,
}

impl Handle {
    pub(crate) fn send(&self, command: Command) -> Result<(), EngineError> {
        self.tx.send(command).map_err(|_| EngineError::Stopped)
    }

    /// Wait, at most `limit`, until the journal and audit log are written.
    pub async fn flush(&self, limit: std::time::Duration) {
        let (done, wait) = oneshot::channel();
        if self.send(Command::Flush(done)).is_ok() {
            let _ = tokio::time::timeout(limit, wait).await;
        }
    }
}

pub(crate) type Events = mpsc::UnboundedReceiver<Event>;

/// Start a session with `provider`; it runs until the [`Handle`] (and its
/// clones) are dropped.
pub(crate) fn spawn(setup: Setup, provider: Arc<dyn Provider>, profile: Profile) -> (Handle, Events) {
    let (tx, commands) = mpsc::unbounded_channel();
    let (events_tx, events) = mpsc::unbounded_channel();
    tokio::spawn(task::Task::start(setup, provider, profile, events_tx).run(commands));
    (Handle { tx }, events)
}
