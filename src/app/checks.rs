//! `/test`, `/lint` and `auto_test`: running the project's checks off the
//! loop, showing each run in the chat, and sending failures to the model.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{App, AppEvent};
use crate::checks::{Kind, Outcome};
use crate::view::state::{Message, MsgStatus, Role};

/// The `call_id` of a check's message in the chat.
const CHECK_ID: &str = "check";

impl App {
    /// Look up the test and lint commands off the loop (it stats and
    /// reads files at the repository root), for the metrics pane.
    pub(super) fn resolve_checks(&mut self) {
        let config = self.state.config.checks.clone();
        let root = self.state.repo.root.clone();
        let tx = self.tx.clone();
        self.resolving_checks = true;
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(AppEvent::ChecksResolved(crate::checks::resolve(&config, &root)));
        });
    }

    pub(super) fn checks_resolved(&mut self, commands: crate::checks::Commands) {
        self.resolving_checks = false;
        // A run may have looked them up since, and more recently.
        if self.state.checks.commands.is_none() {
            self.state.checks.commands = Some(commands);
        }
    }

    /// Run the test or lint command; `auto` when auto_test asks. The
    /// command is looked up again (the project may have changed) off the
    /// loop; [`App::check_started`] shows the run once it is known.
    pub(super) fn run_check(&mut self, kind: Kind, auto: bool) {
        if let Some(running) = self.state.checks.running {
            self.state.error(format!("The {} are still running; wait for them to finish.", running.noun()));
            return;
        }
        self.state.checks.running = Some(kind);
        self.state.model.activity = format!("running {}…", kind.noun());
        let cancel = CancellationToken::new();
        self.check_cancel = Some(cancel.clone());
        let config = self.state.config.checks.clone();
        let root = self.state.repo.root.clone();
        let timeout = Duration::from_secs(config.timeout_secs);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let lookup = {
                let root = root.clone();
                tokio::task::spawn_blocking(move || crate::checks::resolve(&config, &root))
            };
            // Resolving only reads files; should it panic, nothing is found.
            let commands = lookup.await.unwrap_or_default();
            let check = commands.get(kind).cloned();
            let _ = tx.send(AppEvent::CheckStarted { kind, auto, commands });
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
            let _ = tx.send(AppEvent::CheckDone { outcome, auto });
        });
    }

    /// A run's command was looked up: show that it runs, or say there is
    /// none (and the run is over).
    pub(super) fn check_started(&mut self, kind: Kind, auto: bool, commands: crate::checks::Commands) {
        let check = commands.get(kind).cloned();
        self.state.checks.commands = Some(commands);
        let Some(check) = check else {
            self.check_ended();
            self.state.error(format!(
                "No {} command: none was detected (Cargo, npm, Go and Python projects are); set `{}` in .tandem/config.toml.",
                kind.noun(),
                kind.key()
            ));
            return;
        };
        if !auto {
            // A run the user asked for starts a new count of fix rounds.
            self.state.checks.fix_rounds = 0;
        }
        let mut msg = Message::new(Role::Tool, format!("… running {}: `{}`", kind.noun(), check.command));
        msg.call_id = CHECK_ID.into();
        msg.status = MsgStatus::Streaming;
        self.check_msg = Some(self.state.transcript.len());
        self.state.push(msg);
    }

    /// No check runs any more.
    fn check_ended(&mut self) {
        self.check_cancel = None;
        self.state.checks.running = None;
        if self.state.model.activity.starts_with("running ") || self.state.model.activity == "stopping…" {
            self.state.model.activity.clear();
        }
    }

    /// Stop a running check; false when none runs.
    pub(super) fn cancel_check(&mut self) -> bool {
        match self.check_cancel.take() {
            Some(token) if self.state.checks.running.is_some() => {
                token.cancel();
                self.state.model.activity = "stopping…".into();
                true
            }
            _ => false,
        }
    }

    pub(super) fn check_done(&mut self, outcome: Outcome, auto: bool) {
        self.check_ended();
        let passed = outcome.passed();
        let headline = outcome.headline();
        let checks = &mut self.state.checks;
        checks.runs += 1;
        if !passed {
            checks.failures += 1;
        }
        checks.last = Some(headline.clone());
        // Gone if the chat was cleared meanwhile.
        let found = self
            .check_msg
            .take()
            .and_then(|i| self.state.transcript.get_mut(i))
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
                self.state.push(m);
            }
        }
        let cancelled = outcome.cancelled();
        if passed {
            let rounds = std::mem::take(&mut self.state.checks.fix_rounds);
            if auto && rounds > 0 {
                self.state.notice(format!(
                    "The {} pass after {rounds} fix round{}.",
                    outcome.kind.noun(),
                    if rounds == 1 { "" } else { "s" }
                ));
            }
            return;
        }
        if cancelled {
            self.state.checks.fix_rounds = 0;
            return;
        }
        let max = self.state.config.checks.max_fix_rounds;
        let note = if auto {
            self.state.checks.fix_rounds += 1;
            let round = self.state.checks.fix_rounds;
            if round > max {
                self.state.checks.fix_rounds = 0;
                self.state.notice(format!(
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
        self.state.notice(format!("Sent the {what} to the model to fix{note}."));
        self.send_to_agent(outcome.failure_message());
    }

    /// After an applied change set, with auto_test on: run the tests once
    /// the model's turn and the reviews are over.
    pub(super) fn auto_test_if_due(&mut self) {
        let ready = self.state.checks.due
            && !self.state.model.busy()
            && self.state.review.is_empty()
            && !self.state.review.applying
            && self.state.checks.running.is_none();
        if ready {
            self.state.checks.due = false;
            self.run_check(Kind::Test, true);
        }
    }
}
