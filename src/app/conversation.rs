//! The conversation: choosing the model and starting the session's engine
//! with it, sending messages (and slash commands), taking in the agent's
//! events, cancelling and retrying turns, switching models with `/model`,
//! and `/export`.
//!
//! It owns the count of messages sent and the directory tandem started in.
//! It answers [`ConversationEvent`]s, the agent's events, the `Submit` and
//! `Retry` actions, and the ask to send a message to the model (the checks
//! send failures that way).

use std::path::PathBuf;
use std::sync::Arc;

use super::AppEvent;
use super::cx::{Ask, Cx, Handled};
use crate::agent::AgentEvent;
use crate::config::keymap::Action;
use crate::engine::Command;
use crate::llm::Provider;
use crate::llm::select::{self, Choice, Profile};
use crate::view::state::{AppState, IndexStatus, Message, Overlay, Role};

/// Where the model comes from.
pub enum ModelSource {
    /// Pick from configuration and environment (`llm::select::choose`).
    Auto,
    /// Replay a script (`--provider script:FILE`).
    Script(PathBuf),
}

/// What the conversation's background work reports.
pub(crate) enum ConversationEvent {
    /// The provider chosen at start-up, or why there is none.
    ModelChosen(Choice),
    /// `/model` built the provider asked for, or says why not.
    ModelSwitched(select::Built),
    /// `/export` finished: the file written, or what went wrong.
    Exported(Result<PathBuf, String>),
}

impl From<ConversationEvent> for AppEvent {
    fn from(ev: ConversationEvent) -> Self {
        AppEvent::Conversation(ev)
    }
}

pub(crate) struct Conversation {
    /// Messages sent this session.
    sent: usize,
    /// The directory tandem was started in (for AGENTS.md and /export).
    cwd: PathBuf,
}

impl Default for Conversation {
    fn default() -> Self {
        Self { sent: 0, cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")) }
    }
}

fn describe(profile: &Profile) -> String {
    format!("{} {}", profile.name, profile.model)
}

impl Conversation {
    /// Messages sent this session.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// Choose the model (off the loop; the app is usable at once) and
    /// start the engine with it.
    pub fn start_model(&mut self, cx: &mut Cx, source: ModelSource) {
        match source {
            ModelSource::Script(path) => match select::script(&path) {
                Ok((provider, profile)) => self.attach(cx, provider, profile),
                Err(e) => {
                    cx.state.model.offline = true;
                    cx.state.error(format!("Cannot use the script: {e}"));
                }
            },
            ModelSource::Auto => {
                cx.state.model.activity = "looking for a model…".into();
                cx.state.model.choosing = true;
                let config = cx.state.config.clone();
                let tx = cx.sender();
                // Building an HTTP client loads the system's certificates
                // (~20 ms): on a thread of its own, not the UI's.
                tokio::task::spawn_blocking(move || {
                    let choice = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        Ok(rt) => rt.block_on(select::choose(&config, &crate::launch::env_var)),
                        Err(e) => Choice::Offline(format!("Cannot start the model's runtime: {e}")),
                    };
                    let _ = tx.send(ConversationEvent::ModelChosen(choice).into());
                });
            }
        }
    }

    /// Use `provider` for the conversation from now on: the session's
    /// engine starts with the first one.
    pub(crate) fn attach(&mut self, cx: &mut Cx, provider: Arc<dyn Provider>, profile: Profile) {
        let model = &mut cx.state.model;
        model.label = describe(&profile);
        model.offline = false;
        model.activity.clear();
        model.profile = Some(profile.clone());
        if cx.engine.started() {
            cx.engine.send(Command::Switch { provider, profile });
            return;
        }
        let s = &mut *cx.state;
        let mut setup = crate::engine::Setup::new(&s.config, s.repo.root.clone(), self.cwd.clone(), s.repo.is_git);
        setup.policy = s.policy;
        // The pane shows the limits the engine holds.
        s.metrics.limits = setup.limits.clone();
        cx.engine.start(setup, provider, profile);
    }

    pub(crate) fn on_event(&mut self, cx: &mut Cx, ev: ConversationEvent) {
        match ev {
            ConversationEvent::ModelChosen(choice) => self.model_chosen(cx, choice),
            ConversationEvent::ModelSwitched(result) => {
                cx.state.model.choosing = false;
                match result {
                    Ok((provider, profile)) => {
                        cx.state.notice(format!("Now using {}.", describe(&profile)));
                        self.attach(cx, provider, profile);
                    }
                    Err(e) => cx.state.error(format!("Cannot switch: {e}.")),
                }
            }
            ConversationEvent::Exported(Ok(path)) => cx.state.notice(format!("Wrote the chat to {}.", path.display())),
            ConversationEvent::Exported(Err(e)) => cx.state.error(format!("Cannot export the chat: {e}")),
        }
    }

    fn model_chosen(&mut self, cx: &mut Cx, choice: Choice) {
        cx.state.model.choosing = false;
        match choice {
            Choice::Ready(provider, profile) => {
                if !profile.available_models.is_empty() {
                    cx.state.notice(format!(
                        "Using the Ollama server on localhost with {}. Its models: {}. `/model ollama NAME` switches.",
                        profile.model,
                        profile.available_models.join(", ")
                    ));
                }
                tracing::info!(model = %describe(&profile), "model ready");
                self.attach(cx, provider, profile);
            }
            Choice::Offline(help) => {
                cx.state.model.offline = true;
                cx.state.model.activity.clear();
                cx.state.notice(help);
            }
        }
    }

    /// One event of the agent: into the figures, the chat and the status
    /// line. A turn's end may let the tests run.
    pub(crate) fn on_agent(&mut self, cx: &mut Cx, ev: AgentEvent) {
        super::agent_metrics::record(&mut cx.state.metrics, &ev);
        if super::agent_chat::record(cx.state, ev) {
            cx.ask(Ask::AutoTest);
        }
    }

    pub(crate) fn on_action(&mut self, cx: &mut Cx, action: Action) -> Handled {
        match action {
            Action::Submit => {
                let Some(text) = cx.state.composer.take() else { return Handled::Yes };
                cx.ask(Ask::Remember(text.clone()));
                cx.state.chat_scroll.from_bottom = 0;
                self.dispatch(cx, text);
            }
            Action::Retry => self.retry(cx),
            _ => return Handled::No,
        }
        Handled::Yes
    }

    /// Send a message to the model, or run it as a slash command (`//`
    /// at the start sends a literal `/`).
    fn dispatch(&mut self, cx: &mut Cx, text: String) {
        let text = match text.strip_prefix('/') {
            Some(rest) if rest.starts_with('/') => rest.to_string(),
            Some(cmd) => {
                let cmd = cmd.trim().to_string();
                self.slash(cx, &cmd);
                return;
            }
            None => text,
        };
        // The model gets the message as typed; the screen never shows a key.
        cx.state.push(Message::new(Role::User, crate::secrets::redact(&text)));
        self.send(cx, text);
    }

    /// Send `text` to the model as the user's message (the chat shows it
    /// already, in full or in short).
    pub(crate) fn send(&mut self, cx: &mut Cx, text: String) {
        self.sent += 1;
        if cx.engine.started() {
            if cx.state.model.busy() {
                cx.flash("Queued: it goes to the model when this turn ends", false);
            }
            // Busy from now, not from the agent's first event, so the
            // status line and "run until idle" see the turn at once.
            cx.state.model.turns_pending += 1;
            cx.engine.send(Command::User { text });
        } else if cx.state.model.offline {
            cx.state.error("No model is connected, so this was not sent; see above for how to set one up.");
        } else {
            cx.state.error("The model is not ready yet; send the message again in a moment.");
        }
    }

    fn slash(&mut self, cx: &mut Cx, cmd: &str) {
        use crate::config::slash::Slash;
        match Slash::parse(cmd) {
            Ok(Slash::Model(args)) => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.slash_model(cx, &args);
            }
            Ok(Slash::Export(path)) => self.export(cx, PathBuf::from(path)),
            Ok(Slash::Map) => match &cx.state.index.last_map {
                Some((text, tokens)) => {
                    let text = format!("The repository map sent with the last request ({tokens} tokens):\n\n{text}");
                    cx.state.notice(text);
                }
                None => cx.state.notice(match cx.state.index.status {
                    IndexStatus::Ready { .. } => "No request has been sent yet; the map is made for each one.",
                    _ => "The repository index is not ready yet, so no map has been sent.",
                }),
            },
            Ok(Slash::Clear) => cx.ask(Ask::ClearSession),
            Ok(Slash::Test) => cx.ask(Ask::RunCheck { kind: crate::checks::Kind::Test, auto: false }),
            Ok(Slash::Lint) => cx.ask(Ask::RunCheck { kind: crate::checks::Kind::Lint, auto: false }),
            Ok(Slash::Help) => {
                cx.state.overlay = Some(Overlay::Help { scroll: 0 });
                cx.state.notice(crate::config::slash::help_line());
            }
            Err(e) => cx.state.error(e.to_string()),
        }
    }

    fn slash_model(&mut self, cx: &mut Cx, args: &[&str]) {
        let s = &mut *cx.state;
        if args.is_empty() {
            let current = s.model.profile.as_ref().map_or_else(|| "none".to_string(), describe);
            let names: Vec<String> = s
                .config
                .providers
                .iter()
                .map(|(n, p)| if p.model.is_empty() { n.clone() } else { format!("{n} ({})", p.model) })
                .collect();
            s.notice(format!(
                "Model in use: {current}. Profiles: {}. `/model PROFILE [MODEL]` switches.",
                names.join(", ")
            ));
            return;
        }
        // `/model NAME` is a profile if one has that name, else a model of
        // the profile in use.
        let (profile, model) = if s.config.providers.contains_key(args[0]) {
            (args[0].to_string(), args.get(1).map(|m| m.to_string()))
        } else if let Some(p) = &s.model.profile {
            (p.name.clone(), Some(args[0].to_string()))
        } else {
            s.error(format!("There is no profile `{}` and no model in use to change.", args[0]));
            return;
        };
        // Building the HTTP client loads certificates: off the UI thread,
        // as at start-up.
        let config = s.config.clone();
        let tx = cx.sender();
        cx.state.model.choosing = true;
        tokio::task::spawn_blocking(move || {
            let result = select::build(&config, &profile, model.as_deref(), &crate::launch::env_var);
            let _ = tx.send(ConversationEvent::ModelSwitched(result).into());
        });
    }

    fn export(&mut self, cx: &mut Cx, path: PathBuf) {
        let path = if path.is_relative() { self.cwd.join(path) } else { path };
        let text = transcript_markdown(cx.state);
        let tx = cx.sender();
        tokio::task::spawn_blocking(move || {
            let result =
                std::fs::write(&path, text).map(|_| path.clone()).map_err(|e| format!("{}: {e}", path.display()));
            let _ = tx.send(ConversationEvent::Exported(result).into());
        });
    }

    fn retry(&mut self, cx: &mut Cx) {
        if !cx.state.model.can_retry {
            cx.flash("Nothing to retry", false);
            return;
        }
        if cx.engine.started() {
            cx.state.model.can_retry = false;
            cx.state.model.turns_pending += 1;
            cx.engine.send(Command::Retry);
        }
    }

    /// Stop the running turn; false when none runs.
    pub(crate) fn cancel_turn(&mut self, cx: &mut Cx) -> bool {
        if !cx.state.model.busy() {
            return false;
        }
        if cx.engine.send(Command::Cancel) {
            cx.state.model.activity = "stopping…".into();
        }
        true
    }

    /// What the session did, printed to the normal screen on exit.
    pub fn summary(&self, state: &AppState) -> String {
        let session = &state.metrics.model.session;
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
}

/// The chat as markdown, for /export.
pub(crate) fn transcript_markdown(state: &AppState) -> String {
    let mut out = String::from("# tandem chat\n");
    for m in &state.transcript {
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
