//! Unit tests of the controllers, without a terminal: each test builds a
//! [`Rig`] (the state, the screen's geometry, a manual clock, the loop's
//! channel and an engine link that records commands), calls a controller
//! with its context, and looks at the state, the commands sent, the events
//! queued and the asks made.

mod checks;
mod conversation;
mod index_job;
mod panes;
mod review_desk;
mod session;

use std::path::PathBuf;

use ratatui::layout::Rect;
use tokio::sync::mpsc;

use super::AppEvent;
use super::cx::{Ask, Cx};
use super::engine_link::EngineLink;
use super::guard::Clock;
use crate::config::{self, ColorDepth, LoadOptions, Paths};
use crate::engine::Command;
use crate::git::RepoInfo;
use crate::ui;
use crate::view::state::{AppState, Role};

/// What a controller is called with, owned by the test.
pub(super) struct Rig {
    pub state: AppState,
    pub screen: ui::Screen,
    pub clock: Clock,
    pub tx: mpsc::UnboundedSender<AppEvent>,
    pub rx: mpsc::UnboundedReceiver<AppEvent>,
    pub engine: EngineLink,
    pub asks: Vec<Ask>,
}

/// The state with the built-in configuration and keymap, in `root`.
pub(super) fn state_in(root: PathBuf) -> AppState {
    let none = |_: &str| None;
    let opts = LoadOptions {
        paths: Paths::default(),
        config_file: None,
        project_root: None,
        theme_flag: None,
        keymap_flag: Some("default".to_string()),
        profile_flag: None,
        policy_flag: None,
        env: &none,
        color_depth: ColorDepth::TrueColor,
        trust: config::TrustMode::Stored,
    };
    let s = config::load(&opts);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let repo = RepoInfo { root, is_git: false, branch: None };
    AppState::new(s.config, s.keymap, s.theme, repo, s.diagnostics)
}

impl Rig {
    /// A 120×40 screen, a manual clock, and an engine link that records.
    pub fn new() -> Self {
        Self::with_engine(EngineLink::recording())
    }

    /// Like [`Rig::new`], with no engine started.
    pub(crate) fn offline() -> Self {
        Self::with_engine(EngineLink::default())
    }

    fn with_engine(engine: EngineLink) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut screen = ui::Screen::default();
        screen.resize(Rect::new(0, 0, 120, 40));
        Self {
            state: state_in(PathBuf::from("/nonexistent/tandem-test")),
            screen,
            clock: Clock::manual(),
            tx,
            rx,
            engine,
            asks: Vec::new(),
        }
    }

    pub(crate) fn cx(&mut self) -> Cx<'_> {
        Cx {
            state: &mut self.state,
            screen: &mut self.screen,
            clock: &self.clock,
            tx: &self.tx,
            engine: &mut self.engine,
            asks: &mut self.asks,
        }
    }

    /// The commands sent to the engine since the last call.
    pub fn sent(&mut self) -> Vec<Command> {
        self.engine.take_sent()
    }

    /// The asks made since the last call.
    pub(crate) fn asks(&mut self) -> Vec<Ask> {
        std::mem::take(&mut self.asks)
    }

    /// The chat's last message: its role and text.
    pub(crate) fn last(&self) -> Option<(Role, &str)> {
        self.state.transcript.last().map(|m| (m.role, m.text.as_str()))
    }

    /// The status line's message.
    pub(crate) fn flash(&self) -> &str {
        self.state.flash.as_ref().map_or("", |f| f.text.as_str())
    }

    /// The next event background work sent, waiting for it at most ten
    /// seconds.
    pub(crate) async fn next_event(&mut self) -> AppEvent {
        let wait = std::time::Duration::from_secs(10);
        tokio::time::timeout(wait, self.rx.recv()).await.expect("an event in time").expect("the channel is open")
    }
}

/// The names of commands, to compare without matching each.
pub(super) fn names(commands: &[Command]) -> Vec<&'static str> {
    commands
        .iter()
        .map(|c| match c {
            Command::User { .. } => "user",
            Command::Cancel => "cancel",
            Command::Retry => "retry",
            Command::Reset(_) => "reset",
            Command::Switch { .. } => "switch",
            Command::Decide { .. } => "decide",
            Command::Undo => "undo",
            Command::SetPolicy(_) => "set-policy",
            Command::UseJournal(_) => "use-journal",
            Command::Flush(_) => "flush",
        })
        .collect()
}
