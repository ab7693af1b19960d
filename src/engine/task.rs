//! The session's task: one loop over the front-end's commands, the agent's
//! events, the tools' requests for approval and the results of writing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::answer::{self, Decided};
use super::{Answer, AppliedFile, Command, Event, Request, Setup, policy};
use crate::agent::{Agent, AgentCommand, AgentConfig, AgentEvent, TurnOutcome};
use crate::config::Policy;
use crate::git::{ApplyReport, UndoRecord, UndoReport};
use crate::llm::Provider;
use crate::llm::select::Profile;
use crate::patch::FileChange;
use crate::session::audit::{AuditLog, Record};
use crate::session::journal::{Entry, Journal};
use crate::tools::approval::{Approval, Approvals, FileVerdict};
use crate::tools::protected::Protected;

/// Where a request's answer goes.
enum Reply {
    Changes(oneshot::Sender<Vec<FileVerdict>>),
    /// A command's or a permission's: granted, or refused with a reason.
    Leave(oneshot::Sender<Result<(), String>>),
}

/// A request waiting for the front-end's answer.
struct Pending {
    request: Request,
    reply: Reply,
}

/// Written in the background, one at a time: writes and undos of the same
/// files must not interleave.
enum Job {
    Apply { id: u64, changes: Vec<FileChange>, decided: Vec<Decided>, by_policy: bool },
    Undo { files: Vec<PathBuf>, record: UndoRecord },
}

enum Done {
    Applied {
        id: u64,
        decided: Vec<Decided>,
        report: ApplyReport,
        by_policy: bool,
    },
    Undone {
        files: Vec<PathBuf>,
        report: UndoReport,
    },
    /// The writing thread died: nothing of change set `id` (if it was one)
    /// is known to be written, and it must not wait forever.
    Broken {
        id: Option<u64>,
        message: String,
    },
}

/// A change set written, kept for undo.
struct Written {
    record: UndoRecord,
    files: Vec<PathBuf>,
}

pub(super) struct Task {
    root: PathBuf,
    policy: Policy,
    allow_commands: Vec<String>,
    /// Prefixes the user allowed for this session.
    remembered: Vec<String>,
    /// Permissions the user allowed for this session: (kind, remember key).
    remembered_permissions: Vec<(&'static str, String)>,
    protected: Protected,
    audit: Option<AuditLog>,
    journal: Option<Journal>,
    /// The model's name for the journal's header.
    model_label: String,
    agent: mpsc::UnboundedSender<AgentCommand>,
    agent_events: mpsc::UnboundedReceiver<AgentEvent>,
    approvals: mpsc::UnboundedReceiver<Approval>,
    events: mpsc::UnboundedSender<Event>,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    jobs: mpsc::UnboundedSender<Job>,
    done: mpsc::UnboundedReceiver<Done>,
    undo: Vec<Written>,
    /// Outcomes the model has not heard (its turn had ended): sent with the
    /// next message.
    notes: Vec<String>,
    /// Answers owed to the tools for change sets being written.
    replies: HashMap<u64, oneshot::Sender<Vec<FileVerdict>>>,
}

fn label(profile: &Profile) -> String {
    format!("{} {}", profile.name, profile.model)
}

impl Task {
    pub(super) fn start(
        setup: Setup,
        provider: Arc<dyn Provider>,
        profile: Profile,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let (approvals_tx, approvals) = mpsc::unbounded_channel();
        let tools: Arc<dyn crate::tools::ToolRegistry> = if setup.tools {
            let config = crate::tools::toolbox::ToolboxConfig {
                root: setup.root.clone(),
                index: setup.index.clone(),
                map_tokens: setup.map_tokens,
            };
            let approvals = Approvals(approvals_tx);
            let mut toolbox = crate::tools::toolbox::Toolbox::new(config, approvals.clone());
            for make in &setup.extra_tools {
                if let Err(e) = toolbox.add(make(approvals.clone())) {
                    tracing::error!("tool left out: {e}");
                }
            }
            Arc::new(toolbox)
        } else {
            Arc::new(crate::tools::NoTools)
        };
        let (agent_events_tx, agent_events) = mpsc::unbounded_channel();
        let (agent, commands) = mpsc::unbounded_channel();
        let config = AgentConfig {
            root: setup.root.clone(),
            cwd: setup.cwd.clone(),
            is_git: setup.is_git,
            max_tool_rounds: setup.max_tool_rounds,
            index: setup.index.clone(),
            map_tokens: setup.map_tokens,
        };
        let model_label = label(&profile);
        let agent_task = Agent::new(provider, profile, tools, config, agent_events_tx).with_budget(setup.limits);
        tokio::spawn(agent_task.run(commands));
        let (jobs, done) = worker(setup.root.clone());
        Self {
            root: setup.root,
            policy: setup.policy,
            allow_commands: setup.allow_commands,
            remembered: Vec::new(),
            remembered_permissions: Vec::new(),
            protected: setup.protected,
            audit: setup.audit,
            journal: setup.journal,
            model_label,
            agent,
            agent_events,
            approvals,
            events,
            pending: HashMap::new(),
            next_id: 0,
            jobs,
            done,
            undo: Vec::new(),
            notes: Vec::new(),
            replies: HashMap::new(),
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            tokio::select! {
                // The agent's events before the tools' requests: what it
                // reported before a call asked (earlier results) is told
                // first.
                biased;
                command = commands.recv() => match command {
                    Some(c) => self.command(c),
                    None => break,
                },
                Some(ev) = self.agent_events.recv() => self.agent_event(ev),
                Some(req) = self.approvals.recv() => self.approval(req),
                Some(done) = self.done.recv() => self.finished(done),
            }
        }
        let _ = self.agent.send(AgentCommand::Cancel);
        self.flush(std::time::Duration::from_secs(2));
    }

    fn emit(&self, ev: Event) {
        let _ = self.events.send(ev);
    }

    fn audit(&self, rec: Record) {
        if let Some(log) = &self.audit {
            log.record(rec);
        }
    }

    fn journal(&mut self, entry: Entry) {
        if let Some(j) = &mut self.journal {
            if let Some(Entry::SessionStarted { model, .. }) = &mut j.header {
                model.clone_from(&self.model_label);
            }
            j.record(entry);
        }
    }

    fn flush(&self, limit: std::time::Duration) {
        if let Some(j) = &self.journal {
            j.flush(limit);
        }
        if let Some(a) = &self.audit {
            a.flush(limit);
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::User { text } => {
                // Outcomes of reviews the model did not wait for (its turn
                // was stopped) go with this message, so it knows the files.
                let text = if self.notes.is_empty() {
                    text
                } else {
                    let notes = std::mem::take(&mut self.notes).join("\n\n");
                    format!("[Since your last turn, tandem applied the user's decisions:\n{notes}]\n\n{text}")
                };
                let _ = self.agent.send(AgentCommand::User { text });
            }
            Command::Cancel => {
                let _ = self.agent.send(AgentCommand::Cancel);
            }
            Command::Retry => {
                let _ = self.agent.send(AgentCommand::Retry);
            }
            Command::Reset(conversation) => {
                if conversation.is_empty() {
                    self.notes.clear();
                }
                let _ = self.agent.send(AgentCommand::Reset(conversation));
            }
            Command::Switch { provider, profile } => {
                self.model_label = label(&profile);
                let _ = self.agent.send(AgentCommand::Switch { provider, profile });
            }
            Command::Decide { id, answer } => self.decide(id, answer),
            Command::Undo => self.start_undo(),
            Command::SetPolicy(policy) => self.policy = policy,
            Command::UseJournal(journal) => self.journal = Some(journal),
            Command::Flush(done) => {
                self.flush(std::time::Duration::from_secs(2));
                let _ = done.send(());
            }
        }
    }

    /// Record what the agent reports, then pass it on.
    fn agent_event(&mut self, ev: AgentEvent) {
        let entries = match &ev {
            AgentEvent::Recorded(m) => Entry::from_message(m),
            // As the agent priced it, with the profile the request went to.
            AgentEvent::RequestEnded(s) => vec![Entry::Usage { usage: s.usage, cost: s.cost }],
            AgentEvent::TurnEnded(outcome) => vec![Entry::TurnEnded { outcome: turn_outcome(outcome) }],
            _ => Vec::new(),
        };
        for e in entries {
            self.journal(e);
        }
        self.emit(Event::Agent(ev));
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A tool asks: the policy answers, or the front-end is asked.
    fn approval(&mut self, req: Approval) {
        match req {
            Approval::Review { files, reply } => {
                let counts = files.iter().map(|f| (f.path.display().to_string(), f.hunks.len())).collect();
                self.journal(Entry::Proposal { files: counts });
                for f in &files {
                    self.audit(Record::proposal(f, self.policy));
                }
                let id = self.next_id();
                let protected: Vec<Option<String>> =
                    files.iter().map(|f| self.protected.change(f).map(str::to_string)).collect();
                let policy_accepts = policy::accepts_edits(self.policy);
                if policy_accepts && protected.iter().all(Option::is_none) {
                    self.emit(Event::Proposed { id, files: files.clone() });
                    let answers = files.iter().map(answer::accept_all).collect();
                    self.replies.insert(id, reply);
                    self.apply(id, files, answers, true);
                    return;
                }
                let request = Request::Changes { files, protected, policy_accepts };
                self.pending.insert(id, Pending { request: request.clone(), reply: Reply::Changes(reply) });
                self.emit(Event::ApprovalRequested { id, request });
            }
            Approval::Command { command, reply } => {
                let prefixes = self.allow_commands.iter().chain(&self.remembered);
                if let Some(why) = policy::command_allowed(self.policy, &command, &self.root, prefixes) {
                    self.audit(Record::command_allowed(self.policy, why, &command));
                    let _ = reply.send(Ok(()));
                    self.emit(Event::CommandAllowed { command, why });
                    return;
                }
                let id = self.next_id();
                let request = Request::Command { command };
                self.pending.insert(id, Pending { request: request.clone(), reply: Reply::Leave(reply) });
                self.emit(Event::ApprovalRequested { id, request });
            }
            Approval::Permission { permission, reply } => {
                let granted = policy::permission_granted(self.policy, &permission, &self.remembered_permissions);
                if let Some(why) = granted {
                    self.audit(permission_record(self.policy, &permission, &format!("allowed ({why})")));
                    let _ = reply.send(Ok(()));
                    return;
                }
                let id = self.next_id();
                let request = Request::Permission(permission);
                self.pending.insert(id, Pending { request: request.clone(), reply: Reply::Leave(reply) });
                self.emit(Event::ApprovalRequested { id, request });
            }
        }
    }

    fn decide(&mut self, id: u64, answer: Answer) {
        let Some(Pending { request, reply }) = self.pending.remove(&id) else {
            tracing::warn!(id, "an answer to no request");
            return;
        };
        match (request, reply, answer) {
            (Request::Changes { files, .. }, Reply::Changes(reply), Answer::Changes(answers))
                if answer::fits(&files, &answers) =>
            {
                self.replies.insert(id, reply);
                self.apply(id, files, answers, false);
            }
            (Request::Command { command }, Reply::Leave(reply), answer) => {
                let (detail, result) = match answer {
                    Answer::Allow { remember } => {
                        if let Some(prefix) = remember {
                            self.remembered.push(prefix);
                        }
                        (format!("allowed by the user: {command}"), Ok(()))
                    }
                    Answer::Refuse { reason } => (format!("refused by the user ({reason}): {command}"), Err(reason)),
                    Answer::Unattended { reason } => {
                        (format!("refused (nobody to ask in tandem exec): {command}"), Err(reason))
                    }
                    Answer::Changes(_) => {
                        ("refused: the answer was about edits".to_string(), Err("the user said no".to_string()))
                    }
                };
                self.audit(Record::command(self.policy, detail));
                let _ = reply.send(result);
            }
            (Request::Permission(permission), Reply::Leave(reply), answer) => {
                let (what, result) = match answer {
                    Answer::Allow { remember } => match (remember, &permission.remember_key) {
                        (Some(_), Some(key)) => {
                            self.remembered_permissions.push((permission.kind.name, key.clone()));
                            ("allowed by the user for this session".to_string(), Ok(()))
                        }
                        _ => ("allowed by the user".to_string(), Ok(())),
                    },
                    Answer::Refuse { reason } => (format!("refused by the user ({reason})"), Err(reason)),
                    Answer::Unattended { reason } => {
                        ("refused (nobody to ask in tandem exec)".to_string(), Err(reason))
                    }
                    Answer::Changes(_) => {
                        ("refused: the answer was about edits".to_string(), Err("the user said no".to_string()))
                    }
                };
                self.audit(permission_record(self.policy, &permission, &what));
                let _ = reply.send(result);
            }
            (request, reply, answer) => {
                tracing::warn!(id, ?answer, "an answer that does not fit its request; the request stands");
                self.pending.insert(id, Pending { request, reply });
            }
        }
    }

    /// Write and stage the accepted hunks of change set `id`, in the
    /// background; the tool that proposed them hears the outcome after.
    fn apply(&mut self, id: u64, changes: Vec<FileChange>, answers: Vec<super::FileAnswer>, by_policy: bool) {
        let decided: Vec<Decided> = changes.iter().zip(&answers).map(|(c, a)| answer::decide(c, a)).collect();
        for d in &decided {
            self.audit(Record::decision(self.policy, &d.path, d.records.clone()));
        }
        let _ = self.jobs.send(Job::Apply { id, changes, decided, by_policy });
    }

    fn start_undo(&mut self) {
        let Some(written) = self.undo.pop() else {
            self.emit(Event::NothingToUndo);
            return;
        };
        let _ = self.jobs.send(Job::Undo { files: written.files, record: written.record });
    }

    fn finished(&mut self, done: Done) {
        match done {
            Done::Applied { id, decided, report, by_policy } => self.applied(id, decided, report, by_policy),
            Done::Undone { files, report } => self.undone(files, report),
            Done::Broken { id, message } => {
                tracing::error!("{message}");
                match id.and_then(|id| self.replies.remove(&id).map(|tx| (id, tx))) {
                    Some((id, tx)) => {
                        let report = format!("The edits were NOT applied: {message}.");
                        let _ = tx.send(vec![FileVerdict { path: PathBuf::new(), report }]);
                        self.emit(Event::Applied { id, files: Vec::new(), by_policy: false });
                    }
                    None => self.emit(Event::Undone { text: message, retry: false }),
                }
            }
        }
    }

    fn applied(&mut self, id: u64, decided: Vec<Decided>, report: ApplyReport, by_policy: bool) {
        let mut files: Vec<AppliedFile> = Vec::new();
        let mut verdicts = Vec::new();
        let mut written = Vec::new();
        for d in &decided {
            let (file, verdict) = answer::outcome(d, &report);
            if matches!(file.outcome, super::Outcome::Staged | super::Outcome::Written) {
                written.push(d.path.clone());
            }
            self.journal(Entry::Decision {
                path: d.path.display().to_string(),
                outcome: format!("{}/{} hunks accepted ({})", file.accepted(), file.hunks.len(), file.state),
            });
            self.audit(Record::applied(self.policy, &d.path, file.state.clone()));
            files.push(file);
            verdicts.push(verdict);
        }
        if !written.is_empty() {
            self.undo.push(Written { record: report.undo, files: written });
        }
        match self.replies.remove(&id) {
            Some(tx) => {
                if let Err(v) = tx.send(verdicts) {
                    // The turn that proposed these ended (it was stopped):
                    // the model hears the outcome with the next message.
                    self.notes.extend(v.into_iter().map(|v| v.report));
                }
            }
            None => self.notes.extend(verdicts.into_iter().map(|v| v.report)),
        }
        self.emit(Event::Applied { id, files, by_policy });
    }

    fn undone(&mut self, files: Vec<PathBuf>, report: UndoReport) {
        let text = report
            .files
            .iter()
            .map(|f| match (&f.message, f.reverted) {
                (None, true) => format!("{} reverted", f.path.display()),
                (Some(m), true) => format!("{} reverted ({m})", f.path.display()),
                (Some(m), false) => format!("{} left alone: {m}", f.path.display()),
                (None, false) => format!("{} left alone", f.path.display()),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut rec = Record::new("undo", self.policy);
        rec.detail = text.clone();
        rec.file = Some(files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "));
        self.audit(rec);
        // What was left alone stays undoable: once the user has dealt with
        // what stood in the way, undo tries it again.
        let retry = !report.remaining.files.is_empty();
        if retry {
            let files = report.remaining.files.iter().map(|f| f.path.clone()).collect();
            self.undo.push(Written { record: report.remaining, files });
        }
        self.notes.push(format!("The user undid the last applied change set: {text}"));
        self.emit(Event::Undone { text, retry });
    }
}

/// The audit log's record of what became of `permission`.
fn permission_record(
    policy: crate::config::Policy,
    permission: &crate::tools::approval::Permission,
    what: &str,
) -> Record {
    let mut rec = Record::new("permission", policy);
    rec.detail = format!("{what}: {}: {}", permission.kind.name, permission.title);
    rec
}

/// The turn's outcome as the journal keeps it.
fn turn_outcome(outcome: &TurnOutcome) -> String {
    let label = outcome.label();
    match outcome {
        TurnOutcome::Completed | TurnOutcome::Cancelled => label.to_string(),
        TurnOutcome::Failed { message, .. } => format!("{label}: {message}"),
        TurnOutcome::RoundLimit(n) => format!("{label}: {n}"),
        TurnOutcome::OverBudget(why) => format!("{label}: {why}"),
    }
}

/// The background writer: jobs in, one at a time, results out.
fn worker(root: PathBuf) -> (mpsc::UnboundedSender<Job>, mpsc::UnboundedReceiver<Done>) {
    let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
    let (done_tx, done) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let root = root.clone();
            let id = match &job {
                Job::Apply { id, .. } => Some(*id),
                Job::Undo { .. } => None,
            };
            let result = tokio::task::spawn_blocking(move || match job {
                Job::Apply { id, changes, decided, by_policy } => {
                    let approved = answer::approved(&changes, &decided);
                    let report = crate::git::apply(&root, &approved);
                    Done::Applied { id, decided, report, by_policy }
                }
                Job::Undo { files, record } => Done::Undone { files, report: crate::git::undo(&root, &record) },
            })
            .await;
            let done = result.unwrap_or_else(|e| Done::Broken { id, message: format!("writing failed ({e})") });
            if done_tx.send(done).is_err() {
                break;
            }
        }
    });
    (jobs, done)
}
