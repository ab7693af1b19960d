//! The state the UI draws: plain data, no channels, no clocks.

use crate::config::keys::Key;
use crate::config::{Config, Diagnostic, Keymap, Theme};
use crate::git::RepoInfo;
use crate::view::composer::Composer;

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
    pub(crate) const CYCLE: [Focus; 4] = [Focus::Composer, Focus::Chat, Focus::Diff, Focus::Metrics];

    pub(crate) fn pane(self) -> Pane {
        match self {
            Focus::Composer | Focus::Chat => Pane::Chat,
            Focus::Diff => Pane::Diff,
            Focus::Metrics => Pane::Metrics,
        }
    }

    pub(crate) fn context(self) -> crate::config::keymap::Context {
        use crate::config::keymap::Context;
        match self {
            Focus::Composer => Context::Composer,
            Focus::Chat => Context::Chat,
            Focus::Diff => Context::Diff,
            Focus::Metrics => Context::Metrics,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Focus::Composer => "composer",
            Focus::Chat => "chat",
            Focus::Diff => "diff",
            Focus::Metrics => "metrics",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pane {
    Chat,
    Diff,
    Metrics,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Chat, Pane::Diff, Pane::Metrics];

    pub(crate) fn title(self) -> &'static str {
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
    /// One tool call: `text` is its one-line summary, `detail` its output.
    Tool,
    /// tandem speaking: start-up notes, configuration problems, hints.
    Notice,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgStatus {
    Streaming,
    Done,
    /// The answer broke off (or a tool call failed); the reason is in the
    /// problem message that follows it.
    Broken,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub role: Role,
    pub text: String,
    pub status: MsgStatus,
    /// A tool call's output, shown when details are on.
    pub detail: String,
    /// The provider's id of a tool call, to find its message again.
    pub call_id: String,
    /// Bumped on every change, so the chat re-wraps only what changed.
    pub rev: u64,
    /// A tool call's output is shown (whatever `show_details` says).
    pub expanded: bool,
}

impl Message {
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            text: text.into(),
            status: MsgStatus::Done,
            detail: String::new(),
            call_id: String::new(),
            rev: 0,
            expanded: false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub enum IndexStatus {
    #[default]
    NotStarted,
    Disabled,
    Building {
        done: usize,
        total: usize,
    },
    Ready {
        files: usize,
        definitions: usize,
        references: usize,
        seconds: f64,
    },
    Failed(String),
}

#[derive(Debug, Clone, Default)]
pub struct IndexState {
    pub status: IndexStatus,
    pub files_per_sec: u64,
    /// The repository map sent with the last request, for `/map`.
    pub last_map: Option<(String, usize)>,
    /// The last update after files changed: files, milliseconds.
    pub last_update: Option<(usize, f64)>,
}

impl ModelState {
    /// A turn is running or queued.
    pub fn busy(&self) -> bool {
        self.turns_pending > 0
    }
}

/// The model as the status line and metrics pane show it.
#[derive(Debug, Clone, Default)]
pub struct ModelState {
    /// e.g. `openai gpt-4.1`; empty while choosing, and when offline.
    pub label: String,
    pub offline: bool,
    /// Turns asked for and not yet ended, counted from the moment a message
    /// is sent (messages queue while one runs).
    pub turns_pending: u32,
    /// A provider is being chosen (at start-up) or built (for `/model`).
    pub choosing: bool,
    /// What the running turn is doing, e.g. "retrying in 4 s, 2/5".
    pub activity: String,
    /// The last turn failed and may work if asked again.
    pub can_retry: bool,
    pub turns: u64,
    /// The profile in use, for prices and the context window.
    pub profile: Option<crate::llm::select::Profile>,
}

/// Scroll position of a pane, counted in lines from the bottom so that a
/// growing transcript stays put when followed (offset 0) and stays still when
/// the user has scrolled up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub from_bottom: usize,
    /// While following a streamed answer: the first row shown. The view
    /// moves in jumps (see `App::follow`), not a row at a time.
    pub follow_top: Option<usize>,
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
    /// Bytes written to the terminal since start.
    pub bytes: u64,
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
    /// First shown row of the metrics pane (the diff pane's is in `review`).
    pub metrics_top: usize,
    /// Keys of a chord typed so far.
    pub pending: Vec<Key>,
    pub flash: Option<Flash>,
    pub stats: UiStats,
    /// The stats as the metrics pane shows them: refreshed on keys and at
    /// the end of turns, not on every frame, since a number that changes
    /// with every frame would make every frame redraw it.
    pub shown_stats: UiStats,
    /// Whether tandem runs over ssh (a lower frame cap).
    pub over_ssh: bool,
    pub model: ModelState,
    /// Tokens, cost, latencies, tools, approvals, budgets, process.
    pub metrics: crate::metrics::SessionMetrics,
    /// Show tool outputs under their calls in the chat.
    pub show_details: bool,
    /// The chat message selected for copying and expanding.
    pub selected: Option<usize>,
    pub index: IndexState,
    /// Proposed edits and commands waiting for the user.
    pub review: crate::view::review::Review,
    /// What may happen without asking.
    pub policy: crate::config::Policy,
    /// The test and lint commands, and what their runs found.
    pub checks: ChecksState,
}

/// The project's checks as the metrics pane shows them.
#[derive(Debug, Clone, Default)]
pub struct ChecksState {
    /// The commands in use; `None` until tandem looked.
    pub commands: Option<crate::checks::Commands>,
    /// The check running now.
    pub running: Option<crate::checks::Kind>,
    /// The last run's headline.
    pub last: Option<String>,
    pub runs: u32,
    pub failures: u32,
    /// Consecutive failing auto-test rounds sent to the model.
    pub fix_rounds: u32,
    /// A change set was applied: run the tests when the turn is over.
    pub due: bool,
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
            metrics_top: 0,
            pending: Vec::new(),
            flash: None,
            stats: UiStats::default(),
            shown_stats: UiStats::default(),
            over_ssh: false,
            model: ModelState::default(),
            metrics: Default::default(),
            show_details: false,
            selected: None,
            index: IndexState::default(),
            review: Default::default(),
            policy: Default::default(),
            checks: Default::default(),
        };
        state.policy = state.config.tools.policy;
        state.metrics.limits = crate::metrics::budget::Limits::from_config(&state.config.budget);
        if !state.diagnostics.is_empty() {
            let mut text = String::from("Configuration problems (tandem started with the defaults for these):");
            for d in &state.diagnostics {
                text.push_str("\n- ");
                text.push_str(&d.to_string());
            }
            text.push_str("\nRun `tandem config check` after fixing them.");
            state.transcript.push(Message::new(Role::Error, text));
        }
        state
    }

    /// Add a message at the end of the chat and follow it.
    pub fn push(&mut self, msg: Message) {
        self.transcript.push(msg);
    }

    pub fn notice(&mut self, text: impl Into<String>) {
        self.push(Message::new(Role::Notice, text));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push(Message::new(Role::Error, text));
    }

    pub(crate) fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}
