//! The app's side of the conversation: starting a provider, turning agent
//! events into chat messages and status, and the slash commands.

use std::path::PathBuf;
use std::sync::Arc;

use super::cx::Ask;
use super::{App, AppEvent};
use crate::agent::{AgentEvent, TurnOutcome};
use crate::engine::{Command, Event};
use crate::llm::Provider;
use crate::llm::select::{self, Choice, Profile};
use crate::view::state::{Message, MsgStatus, Role};

/// Where the model comes from.
pub enum ModelSource {
    /// Pick from configuration and environment (`llm::select::choose`).
    Auto,
    /// Replay a script (`--provider script:FILE`).
    Script(PathBuf),
}

fn describe(profile: &Profile) -> String {
    format!("{} {}", profile.name, profile.model)
}

impl App {
    /// Start choosing a provider in the background; the app is usable at once.
    /// Choose the model (off the loop) and start the agent with the tools
    /// set up before (none unless [`App::enable_tools`] ran).
    pub fn start_model(&mut self, source: ModelSource) {
        match source {
            ModelSource::Script(path) => match select::script(&path) {
                Ok((provider, profile)) => self.attach_agent(provider, profile),
                Err(e) => {
                    self.state.model.offline = true;
                    self.state.error(format!("Cannot use the script: {e}"));
                }
            },
            ModelSource::Auto => {
                self.state.model.activity = "looking for a model…".into();
                self.state.model.choosing = true;
                let config = self.state.config.clone();
                let tx = self.tx.clone();
                // Building an HTTP client loads the system's certificates
                // (~20 ms): on a thread of its own, not the UI's.
                tokio::task::spawn_blocking(move || {
                    let choice = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(rt) => rt.block_on(select::choose(&config, &crate::launch::env_var)),
                        Err(e) => Choice::Offline(format!("Cannot start the model's runtime: {e}")),
                    };
                    let _ = tx.send(AppEvent::ModelChosen(choice));
                });
            }
        }
    }

    /// Use `provider` for the conversation from now on: the session's
    /// engine starts with the first one.
    pub fn attach_agent(&mut self, provider: Arc<dyn Provider>, profile: Profile) {
        self.state.model.label = describe(&profile);
        self.state.model.offline = false;
        self.state.model.activity.clear();
        self.state.model.profile = Some(profile.clone());
        if self.engine.started() {
            self.engine.send(Command::Switch { provider, profile });
            return;
        }
        let root = self.state.repo.root.clone();
        let mut setup = crate::engine::Setup::new(&self.state.config, root, self.cwd.clone(), self.state.repo.is_git);
        setup.policy = self.state.policy;
        // The pane shows the limits the engine holds.
        self.state.metrics.limits = setup.limits.clone();
        self.engine.start(setup, provider, profile);
    }

    /// One event of the session; true when it only adds to what streams
    /// (drawn at the streaming frame rate).
    pub(super) fn engine_event(&mut self, ev: Event) -> bool {
        match ev {
            Event::Agent(ev) => {
                self.handle_agent(ev);
                return true;
            }
            Event::ApprovalRequested { id, request } => self.approval_requested(id, request),
            Event::Proposed { .. } => {}
            Event::CommandAllowed { .. } => self.state.metrics.approvals.commands_unasked += 1,
            Event::Applied { id, files, by_policy } => self.applied(id, files, by_policy),
            Event::Undone { text, retry } => self.undone(text, retry),
            Event::NothingToUndo => {
                self.state.review.applying = false;
                self.flash("Nothing to undo", false);
            }
        }
        false
    }

    pub(super) fn model_chosen(&mut self, choice: Choice) {
        self.state.model.choosing = false;
        match choice {
            Choice::Ready(provider, profile) => {
                if !profile.available_models.is_empty() {
                    self.state.notice(format!(
                        "Using the Ollama server on localhost with {}. Its models: {}. `/model ollama NAME` switches.",
                        profile.model,
                        profile.available_models.join(", ")
                    ));
                }
                tracing::info!(model = %describe(&profile), "model ready");
                self.attach_agent(provider, profile);
            }
            Choice::Offline(help) => {
                self.state.model.offline = true;
                self.state.model.activity.clear();
                self.state.notice(help);
            }
        }
    }

    fn current_assistant(&mut self) -> &mut Message {
        let streaming =
            self.state.transcript.last().is_some_and(|m| m.role == Role::Assistant && m.status == MsgStatus::Streaming);
        if !streaming {
            let mut m = Message::new(Role::Assistant, "");
            m.status = MsgStatus::Streaming;
            self.state.transcript.push(m);
        }
        let last = self.state.transcript.len() - 1;
        &mut self.state.transcript[last]
    }

    /// End the streaming answer (if any) with `status`.
    fn close_answer(&mut self, status: MsgStatus) {
        if let Some(m) = self.state.transcript.iter_mut().rev().find(|m| m.status == MsgStatus::Streaming) {
            m.status = status;
            m.rev += 1;
        }
    }

    pub(super) fn handle_agent(&mut self, ev: AgentEvent) {
        super::agent_metrics::record(&mut self.state.metrics, &ev);
        let m = &mut self.state.model;
        match ev {
            AgentEvent::TurnStarted => {
                m.can_retry = false;
                m.turns += 1;
                m.activity = "waiting for the model…".into();
            }
            AgentEvent::Responding => m.activity = "answering".into(),
            AgentEvent::Text(t) => {
                m.activity = "answering".into();
                let msg = self.current_assistant();
                msg.text.push_str(&t);
                msg.rev += 1;
            }
            AgentEvent::ToolCallStarted { name } => m.activity = format!("writing a call to {name}…"),
            AgentEvent::ToolRunning { id, description, .. } => {
                m.activity = format!("running {description}");
                self.close_answer(MsgStatus::Done);
                let mut msg = Message::new(Role::Tool, format!("… {description}"));
                msg.call_id = id;
                msg.status = MsgStatus::Streaming;
                self.state.transcript.push(msg);
            }
            AgentEvent::ToolProgress { id, text } => {
                if let Some(msg) =
                    self.state.transcript.iter_mut().rev().find(|m| m.role == Role::Tool && m.call_id == id)
                {
                    // The whole output arrives with the result; while it
                    // runs, the chat keeps the recent part.
                    const KEEP: usize = 64 * 1024;
                    msg.detail.push_str(&text);
                    if msg.detail.len() > KEEP {
                        let mut cut = msg.detail.len() - KEEP / 2;
                        while !msg.detail.is_char_boundary(cut) {
                            cut += 1;
                        }
                        msg.detail.drain(..cut);
                    }
                    msg.rev += 1;
                }
            }
            AgentEvent::ToolRefused { id, name, reason } => {
                self.close_answer(MsgStatus::Done);
                // The first sentence names the tool and the limit; the rest,
                // how to raise it, is in the details.
                let first = reason.split(". ").next().unwrap_or(&reason).trim_end_matches('.');
                let text = if first.contains(&format!("`{name}`")) {
                    format!("✗ {first}")
                } else {
                    format!("✗ {name}: {first}")
                };
                let mut msg = Message::new(Role::Tool, text);
                msg.call_id = id;
                msg.detail = reason;
                msg.status = MsgStatus::Broken;
                self.state.transcript.push(msg);
            }
            AgentEvent::ToolDone { id, output, elapsed, .. } => {
                if let Some(msg) =
                    self.state.transcript.iter_mut().rev().find(|m| m.role == Role::Tool && m.call_id == id)
                {
                    let mark = if output.is_error { "✗" } else { "✓" };
                    msg.text = format!(
                        "{mark} {} · {:.1} s",
                        output.summary.lines().next().unwrap_or(""),
                        elapsed.as_secs_f64()
                    );
                    msg.detail = output.content;
                    msg.status = if output.is_error { MsgStatus::Broken } else { MsgStatus::Done };
                    msg.rev += 1;
                }
            }
            // Counted by the metrics, per request.
            AgentEvent::RequestEnded(_) => {}
            AgentEvent::BudgetWarning(text) => {
                // The whole text is long for a status line at 80 columns.
                self.flash("Budget warning: see the chat", false);
                self.state.notice(text);
            }
            AgentEvent::Retrying { attempt, max, delay, reason } => {
                m.activity = format!("retrying in {} s, {attempt}/{max} ({reason})", delay.as_secs_f64().ceil() as u64);
            }
            AgentEvent::Notice(text) => self.state.notice(text),
            AgentEvent::MapUsed { text, tokens, .. } => self.state.index.last_map = Some((text, tokens)),
            AgentEvent::Recorded(_) => {}
            AgentEvent::TurnEnded(outcome) => {
                self.state.shown_stats = self.state.stats;
                let m = &mut self.state.model;
                m.turns_pending = m.turns_pending.saturating_sub(1);
                m.activity.clear();
                match outcome {
                    TurnOutcome::Completed => self.close_answer(MsgStatus::Done),
                    TurnOutcome::Cancelled => self.close_answer(MsgStatus::Cancelled),
                    TurnOutcome::Failed { message, partial, retryable } => {
                        let key = self
                            .state
                            .keymap
                            .key_label(crate::config::keymap::Context::Global, crate::config::keymap::Action::Retry);
                        if partial {
                            // The reason is in the problem message below.
                            self.close_answer(MsgStatus::Broken);
                        }
                        self.state.model.can_retry = retryable;
                        let hint = if retryable { format!(" Press {key} to retry.") } else { String::new() };
                        self.state.error(format!("The model's answer failed: {message}.{hint}"));
                    }
                    TurnOutcome::OverBudget(why) => {
                        self.close_answer(MsgStatus::Done);
                        self.state.error(format!("Stopped by the budget: {why}"));
                    }
                    TurnOutcome::RoundLimit(n) => {
                        self.close_answer(MsgStatus::Done);
                        self.state.notice(format!(
                            "The turn stopped after {n} model requests (model.max_tool_rounds). Send a message to go on."
                        ));
                    }
                }
                self.asks.push(Ask::AutoTest);
            }
        }
    }

    /// Send a message to the model, or run it as a slash command (`//`
    /// at the start sends a literal `/`).
    pub(super) fn dispatch(&mut self, text: String) {
        let text = match text.strip_prefix('/') {
            Some(rest) if rest.starts_with('/') => rest.to_string(),
            Some(cmd) => {
                let cmd = cmd.trim().to_string();
                self.slash(&cmd);
                return;
            }
            None => text,
        };
        // The model gets the message as typed; the screen never shows a key.
        self.state.push(Message::new(Role::User, crate::secrets::redact(&text)));
        self.send_to_agent(text);
    }

    /// Send `text` to the model as the user's message (the chat shows it
    /// already, in full or in short).
    pub(super) fn send_to_agent(&mut self, text: String) {
        self.sent += 1;
        match self.engine.started() {
            true => {
                if self.state.model.busy() {
                    self.flash("Queued: it goes to the model when this turn ends", false);
                }
                // Busy from now, not from the agent's first event, so the
                // status line and "run until idle" see the turn at once.
                self.state.model.turns_pending += 1;
                self.engine.send(Command::User { text });
            }
            false if self.state.model.offline => {
                self.state.error("No model is connected, so this was not sent; see above for how to set one up.");
            }
            false => self.state.error("The model is not ready yet; send the message again in a moment."),
        }
    }

    fn slash(&mut self, cmd: &str) {
        use crate::config::slash::Slash;
        match Slash::parse(cmd) {
            Ok(Slash::Model(args)) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.slash_model(&args);
            }
            Ok(Slash::Export(path)) => self.export(PathBuf::from(path)),
            Ok(Slash::Map) => match &self.state.index.last_map {
                Some((text, tokens)) => {
                    let text = format!("The repository map sent with the last request ({tokens} tokens):\n\n{text}");
                    self.state.notice(text);
                }
                None => self.state.notice(match self.state.index.status {
                    crate::view::state::IndexStatus::Ready { .. } => {
                        "No request has been sent yet; the map is made for each one."
                    }
                    _ => "The repository index is not ready yet, so no map has been sent.",
                }),
            },
            Ok(Slash::Clear) => self.asks.push(Ask::ClearSession),
            Ok(Slash::Test) => self.asks.push(Ask::RunCheck { kind: crate::checks::Kind::Test, auto: false }),
            Ok(Slash::Lint) => self.asks.push(Ask::RunCheck { kind: crate::checks::Kind::Lint, auto: false }),
            Ok(Slash::Help) => {
                self.state.overlay = Some(crate::view::state::Overlay::Help { scroll: 0 });
                self.state.notice(crate::config::slash::help_line());
            }
            Err(e) => self.state.error(e.to_string()),
        }
    }

    fn slash_model(&mut self, args: &[&str]) {
        if args.is_empty() {
            let current = self.state.model.profile.as_ref().map_or_else(|| "none".to_string(), describe);
            let names: Vec<String> = self
                .state
                .config
                .providers
                .iter()
                .map(|(n, p)| if p.model.is_empty() { n.clone() } else { format!("{n} ({})", p.model) })
                .collect();
            self.state.notice(format!(
                "Model in use: {current}. Profiles: {}. `/model PROFILE [MODEL]` switches.",
                names.join(", ")
            ));
            return;
        }
        // `/model NAME` is a profile if one has that name, else a model of
        // the profile in use.
        let (profile, model) = if self.state.config.providers.contains_key(args[0]) {
            (args[0].to_string(), args.get(1).map(|m| m.to_string()))
        } else if let Some(p) = &self.state.model.profile {
            (p.name.clone(), Some(args[0].to_string()))
        } else {
            self.state.error(format!("There is no profile `{}` and no model in use to change.", args[0]));
            return;
        };
        // Building the HTTP client loads certificates: off the UI thread,
        // as at start-up.
        let config = self.state.config.clone();
        let tx = self.tx.clone();
        self.state.model.choosing = true;
        tokio::task::spawn_blocking(move || {
            let result = select::build(&config, &profile, model.as_deref(), &crate::launch::env_var);
            let _ = tx.send(AppEvent::ModelSwitched(result));
        });
    }

    pub(super) fn model_switched(&mut self, result: select::Built) {
        self.state.model.choosing = false;
        match result {
            Ok((provider, profile)) => {
                self.state.notice(format!("Now using {}.", describe(&profile)));
                self.attach_agent(provider, profile);
            }
            Err(e) => self.state.error(format!("Cannot switch: {e}.")),
        }
    }

    /// What the session did, printed to the normal screen on exit.
    pub fn summary(&self) -> String {
        let session = &self.state.metrics.model.session;
        let u = &session.usage;
        let mut out = format!("tandem: {} message{} sent", self.sent, if self.sent == 1 { "" } else { "s" });
        if u.input_tokens + u.output_tokens > 0 {
            out.push_str(&format!(
                "; {} tokens in, {} out, cost {}",
                u.input_tokens,
                u.output_tokens,
                crate::metrics::format_cost(session.cost.total())
            ));
        }
        out.push_str("; nothing was staged.");
        out
    }

    /// The chat as markdown, for /export.
    pub fn transcript_markdown(&self) -> String {
        let mut out = String::from("# tandem chat\n");
        for m in &self.state.transcript {
            let (title, body) = match m.role {
                Role::User => ("## You", m.text.clone()),
                Role::Assistant => ("## tandem", m.text.clone()),
                Role::Tool => ("### Tool call", format!("{}\n\n```\n{}\n```", m.text, m.detail)),
                Role::Notice => ("> note", m.text.replace('\n', "\n> ")),
                Role::Error => ("> problem", m.text.replace('\n', "\n> ")),
            };
            if title.starts_with('>') {
                out.push_str(&format!("\n{title}: {body}\n"));
            } else {
                out.push_str(&format!("\n{title}\n\n{body}\n"));
            }
        }
        out
    }

    fn export(&mut self, path: PathBuf) {
        let path = if path.is_relative() { self.cwd.join(path) } else { path };
        let text = self.transcript_markdown();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result =
                std::fs::write(&path, text).map(|_| path.clone()).map_err(|e| format!("{}: {e}", path.display()));
            let _ = tx.send(AppEvent::Exported(result));
        });
    }

    pub(super) fn copy(&mut self, text: Option<String>, what: &str) {
        match text {
            Some(t) if !t.is_empty() => {
                self.flash(format!("Copied {what} ({} characters) to the clipboard", t.chars().count()), false);
                self.clipboard = Some(t);
            }
            _ => self.flash(format!("There is no {what} to copy"), true),
        }
    }

    /// The last answer's text.
    pub(super) fn last_answer(&self) -> Option<String> {
        self.state.transcript.iter().rev().find(|m| m.role == Role::Assistant).map(|m| m.text.clone())
    }

    pub(super) fn retry(&mut self) {
        if !self.state.model.can_retry {
            self.flash("Nothing to retry", false);
            return;
        }
        if self.engine.started() {
            self.state.model.can_retry = false;
            self.state.model.turns_pending += 1;
            self.engine.send(Command::Retry);
        }
    }

    pub(super) fn cancel_turn(&mut self) -> bool {
        if !self.state.model.busy() {
            return false;
        }
        if self.engine.send(Command::Cancel) {
            self.state.model.activity = "stopping…".into();
        }
        true
    }
}

/// The fenced and indented code blocks of a markdown text, in order, for
/// copying.
pub(super) fn code_blocks(text: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for ev in Parser::new(text) {
        match ev {
            Event::Start(Tag::CodeBlock(_)) => current = Some(String::new()),
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    // A block still streaming has no end yet.
    out.extend(current);
    out
}
