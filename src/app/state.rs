//! The state the UI draws: plain data, no channels, no clocks.

use crate::app::composer::Composer;
use crate::config::keys::Key;
use crate::config::{Config, Diagnostic, Keymap, Theme};
use crate::git::RepoInfo;

/// What has keyboard focus. The composer belongs to the chat pane but takes
/// keys of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Composer,
    Chat,
    Diff,
    Metrics,
}

impl Focus {
    /// The order focus cycles in.
    pub const CYCLE: [Focus; 4] = [Focus::Composer, Focus::Chat, Focus::Diff, Focus::Metrics];

    pub fn pane(self) -> Pane {
        match self {
            Focus::Composer | Focus::Chat => Pane::Chat,
            Focus::Diff => Pane::Diff,
            Focus::Metrics => Pane::Metrics,
        }
    }

    pub fn context(self) -> crate::config::keymap::Context {
        use crate::config::keymap::Context;
        match self {
            Focus::Composer => Context::Composer,
            Focus::Chat => Context::Chat,
            Focus::Diff => Context::Diff,
            Focus::Metrics => Context::Metrics,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Focus::Composer => "composer",
            Focus::Chat => "chat",
            Focus::Diff => "diff",
            Focus::Metrics => "metrics",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Chat,
    Diff,
    Metrics,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Chat, Pane::Diff, Pane::Metrics];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Chat => "Chat",
            Pane::Diff => "Diff approval",
            Pane::Metrics => "Metrics",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
    /// tandem speaking: start-up notes, configuration problems, hints.
    Notice,
    Error,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub role: Role,
    pub text: String,
}

/// Scroll position of a pane, counted in lines from the bottom so that a
/// growing transcript stays put when followed (offset 0) and stays still when
/// the user has scrolled up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub from_bottom: usize,
}

impl Scroll {
    pub fn follows(self) -> bool {
        self.from_bottom == 0
    }

    pub fn up(&mut self, n: usize, max: usize) {
        self.from_bottom = (self.from_bottom + n).min(max);
    }

    pub fn down(&mut self, n: usize) {
        self.from_bottom = self.from_bottom.saturating_sub(n);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help { scroll: usize },
}

/// A one-line message in the status line until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

/// Counters the metrics pane shows about the app itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct UiStats {
    pub frames: u64,
    pub keys: u64,
    pub last_frame_us: u64,
}

pub struct AppState {
    pub config: Config,
    pub keymap: Keymap,
    pub theme: Theme,
    pub repo: RepoInfo,
    /// Problems found in the configuration at start-up.
    pub diagnostics: Vec<Diagnostic>,
    pub focus: Focus,
    /// Whether the focused pane fills the screen.
    pub zoomed: bool,
    pub overlay: Option<Overlay>,
    pub composer: Composer,
    pub transcript: Vec<Message>,
    pub chat_scroll: Scroll,
    /// First shown row of the diff and metrics panes.
    pub diff_top: usize,
    pub metrics_top: usize,
    /// Keys of a chord typed so far.
    pub pending: Vec<Key>,
    pub flash: Option<Flash>,
    pub stats: UiStats,
    /// Whether tandem runs over ssh (a lower frame cap).
    pub over_ssh: bool,
}

impl AppState {
    pub fn new(config: Config, keymap: Keymap, theme: Theme, repo: RepoInfo, diagnostics: Vec<Diagnostic>) -> Self {
        let mut composer = Composer::new(config.composer.history_size);
        composer.set_history(Vec::new());
        let mut state = Self {
            config,
            keymap,
            theme,
            repo,
            diagnostics,
            focus: Focus::Composer,
            zoomed: false,
            overlay: None,
            composer,
            transcript: Vec::new(),
            chat_scroll: Scroll::default(),
            diff_top: 0,
            metrics_top: 0,
            pending: Vec::new(),
            flash: None,
            stats: UiStats::default(),
            over_ssh: false,
        };
        if !state.diagnostics.is_empty() {
            let mut text = String::from("Configuration problems (tandem started with the defaults for these):");
            for d in &state.diagnostics {
                text.push_str("\n- ");
                text.push_str(&d.to_string());
            }
            text.push_str("\nRun `tandem config check` after fixing them.");
            state.transcript.push(Message { role: Role::Error, text });
        }
        state
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}
