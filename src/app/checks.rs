//! The checks: `/test`, `/lint` and `auto_test`. Runs the project's test
//! and lint commands off the loop, shows each run in the chat, and asks the
//! conversation to send failures to the model, for a bounded number of fix
//! rounds.
//!
//! It owns the running check's cancellation token and chat message, and
//! whether the commands are being looked up. It answers [`ChecksEvent`]s,
//! the asks to run a check or the tests when due, and cancel.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::AppEvent;
use super::cx::{Ask, Cx};
use crate::checks::{Commands, Kind, Outcome};
use crate::view::state::{Message, MsgStatus, Role};

/// The `call_id` of a check's message in the chat.
const CHECK_ID: &str = "check";

/// What the checks' background work reports.
#[derive(Debug)]
pub(crate) enum ChecksEvent {
    /// The test and lint commands, looked up at start-up.
    Resolved(Commands),
    /// A test or lint run looked its command up; it runs now unless
    /// `commands` has none for `kind`. `auto` when auto_test started it.
    Started { kind: Kind, auto: bool, commands: Commands },
    /// A test or lint run ended; `auto` when auto_test started it.
    Done { outcome: Outcome, auto: bool },
}

impl From<ChecksEvent> for AppEvent {
    fn from(ev: ChecksEvent) -> Self {
        AppEvent::Checks(ev)
    }
}

#[derive(Default)]
pub(crate) struct Checks {
    /// Stops the test or lint run in progress.
    cancel: Option<CancellationToken>,
    /// Where the running check's message is in the chat.
    msg: Option<usize>,
    /// The test and lint commands are being looked up (at start-up).
    resolving: bool,
}

impl Checks {
    /// The commands are being looked up.
    pub fn busy(&self) -> bool {
        self.resolving
    }

    /// Look up the test and lint commands off the loop (it stats and
    /// reads files at the repository root), for the metrics pane.
    pub(crate) fn resolve(&mut self, cx: &mut Cx) {
        let config = cx.state.config.checks.clone();
        let root = cx.state.repo.root.clone();
        let tx = cx.sender();
        self.resolving = true;
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(ChecksEvent::Resolved(crate::checks::resolve(&config, &root)).into());
        });
    }

    pub(crate) fn on_event(&mut self, cx: &mut Cx, ev: ChecksEvent) {
        match ev {
            ChecksEvent::Resolved(commands) => {
                self.resolving = false;
                // A run may have looked them up since, and more recently.
                if cx.state.checks.commands.is_none() {
                    cx.state.checks.commands = Some(commands);
                }
            }
            ChecksEvent::Started { kind, auto, commands } => self.started(cx, kind, auto, commands),
            ChecksEvent::Done { outcome, auto } => self.done(cx, outcome, auto),
        }
    }

    /// Run the test or lint command; `auto` when auto_test asks. The
    /// command is looked up again (the project may have changed) off the
    /// loop; [`ChecksEvent::Started`] shows the run once it is known.
    pub fn run(&mut self, cx: &mut Cx, kind: Kind, auto: bool) {
        if let Some(running) = cx.state.checks.running {
            cx.state.error(format!("The {} are still running; wait for them to finish.", running.noun()));
            return;
        }
        cx.state.checks.running = Some(kind);
        cx.state.model.activity = format!("running {}…", kind.noun());
        let cancel = CancellationToken::new();
        self.cancel = Some(cancel.clone());
        let config = cx.state.config.checks.clone();
        let root = cx.state.repo.root.clone();
        let timeout = Duration::from_secs(config.timeout_secs);
        let tx = cx.sender();
        tokio::spawn(async move {
            let lookup = {
                let root = root.clone();
                tokio::task::spawn_blocking(move || crate::checks::resolve(&config, &root))
            };
            // Resolving only reads files; should it panic, nothing is found.
            let commands = lookup.await.unwrap_or_default();
            let check = commands.get(kind).cloned();
            let _ = tx.send(ChecksEvent::Started { kind, auto, commands }.into());
            let Some(check) = check else { return };
            let started = Instant::now();
            let ctx = crate::tools::ToolContext::new(cancel);
            let hint = "; raise checks.timeout_secs if it needs longer";
            let run = crate::tools::shell_run::run_shell(&root, &check.command, timeout, hint, &ctx).await;
            let outcome = Outcome {
                kind,
                command: check.command,
                ending: run.ending,
                output: run.output.content,
                elapsed: started.elapsed(),
            };
            let _ = tx.send(ChecksEvent::Done { outcome, auto }.into());
        });
    }

    /// A run's command was looked up: show that it runs, or say there is
    /// none (and the run is over).
    fn started(&mut self, cx: &mut Cx, kind: Kind, auto: bool, commands: Commands) {
        let check = commands.get(kind).cloned();
        cx.state.checks.commands = Some(commands);
        let Some(check) = check else {
            self.ended(cx);
            cx.state.error(format!(
                "No {} command: none was detected (Cargo, npm, Go and Python projects are); set `{}` in .tandem/config.toml.",
                kind.noun(),
                kind.key()
            ));
            return;
        };
        if !auto {
            // A run the user asked for starts a new count of fix rounds.
            cx.state.checks.fix_rounds = 0;
        }
        let mut msg = Message::new(Role::Tool, format!("… running {}: `{}`", kind.noun(), check.command));
        msg.call_id = CHECK_ID.into();
        msg.status = MsgStatus::Streaming;
        self.msg = Some(cx.state.transcript.len());
        cx.state.push(msg);
    }

    /// No check runs any more.
    fn ended(&mut self, cx: &mut Cx) {
        self.cancel = None;
        cx.state.checks.running = None;
        let activity = &mut cx.state.model.activity;
        if activity.starts_with("running ") || activity == "stopping…" {
            activity.clear();
        }
    }

    /// Stop a running check; false when none runs.
    pub(crate) fn cancel(&mut self, cx: &mut Cx) -> bool {
        match self.cancel.take() {
            Some(token) if cx.state.checks.running.is_some() => {
                token.cancel();
                cx.state.model.activity = "stopping…".into();
                true
            }
            _ => false,
        }
    }

    fn done(&mut self, cx: &mut Cx, outcome: Outcome, auto: bool) {
        self.ended(cx);
        let passed = outcome.passed();
        let headline = outcome.headline();
        let checks = &mut cx.state.checks;
        checks.runs += 1;
        if !passed {
            checks.failures += 1;
        }
        checks.last = Some(headline.clone());
        // Gone if the chat was cleared meanwhile.
        let found = self
            .msg
            .take()
            .and_then(|i| cx.state.transcript.get_mut(i))
            .filter(|m| m.role == Role::Tool && m.call_id == CHECK_ID && m.status == MsgStatus::Streaming);
        let status = if passed { MsgStatus::Done } else { MsgStatus::Broken };
        match found {
            Some(m) => {
                m.text = headline;
                m.detail = outcome.output.clone();
                m.status = status;
                m.rev += 1;
            }
            None => {
                let mut m = Message::new(Role::Tool, headline);
                m.call_id = CHECK_ID.into();
                m.detail = outcome.output.clone();
                m.status = status;
                cx.state.push(m);
            }
        }
        let state = &mut *cx.state;
        if passed {
            let rounds = std::mem::take(&mut state.checks.fix_rounds);
            if auto && rounds > 0 {
                state.notice(format!(
                    "The {} pass after {rounds} fix round{}.",
                    outcome.kind.noun(),
                    if rounds == 1 { "" } else { "s" }
                ));
            }
            return;
        }
        if outcome.cancelled() {
            state.checks.fix_rounds = 0;
            return;
        }
        let max = state.config.checks.max_fix_rounds;
        let note = if auto {
            state.checks.fix_rounds += 1;
            let round = state.checks.fix_rounds;
            if round > max {
                state.checks.fix_rounds = 0;
                state.notice(format!(
                    "The {} still fail after {max} fix round{} (checks.max_fix_rounds); auto_test stopped here. /test runs them again.",
                    outcome.kind.noun(),
                    if max == 1 { "" } else { "s" }
                ));
                return;
            }
            format!(" (fix round {round} of {max})")
        } else {
            String::new()
        };
        let what = match outcome.kind {
            Kind::Test => "test failures",
            Kind::Lint => "lint problems",
        };
        state.notice(format!("Sent the {what} to the model to fix{note}."));
        cx.ask(Ask::SendToModel(outcome.failure_message()));
    }

    /// After an applied change set, with auto_test on: run the tests once
    /// the model's turn and the reviews are over.
    pub(crate) fn auto_test_if_due(&mut self, cx: &mut Cx) {
        let s = &cx.state;
        let ready =
            s.checks.due && !s.model.busy() && s.review.is_empty() && !s.review.applying && s.checks.running.is_none();
        if ready {
            cx.state.checks.due = false;
            self.run(cx, Kind::Test, true);
        }
    }
}
