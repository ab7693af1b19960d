//! What the app hands a controller when it calls one, and what controllers
//! answer.
//!
//! Each concern of the app is a controller that owns its private fields
//! (channels, tokens, timers, watchers, journal handles). What the screen
//! draws stays in [`AppState`]. A controller is called with a [`Cx`]: the
//! state, the screen's geometry, the loop's clock, the sender back to the
//! loop, the session's engine, and a queue of [`Ask`]s, work for another
//! controller that the app routes once the call returns. Keys and actions
//! are answered with [`Handled`]: the app offers them to one controller
//! after another until one takes them.

use tokio::sync::mpsc;

use super::AppEvent;
use super::engine_link::EngineLink;
use super::guard::Clock;
use crate::checks::Kind;
use crate::ui;
use crate::view::state::{AppState, Flash, Pane};

/// Whether a controller took a key or an action.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handled {
    Yes,
    No,
}

impl Handled {
    pub(crate) fn yes(self) -> bool {
        self == Handled::Yes
    }
}

/// Work one controller asks of another, done in order once the asking
/// controller returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ask {
    /// The conversation sends `text` to the model as the user's message
    /// (the chat shows it already).
    SendToModel(String),
    /// The checks run the tests or lints; `auto` when auto_test asks.
    RunCheck { kind: Kind, auto: bool },
    /// A turn or a review ended: the checks run the tests if an applied
    /// change set waits for them.
    AutoTest,
    /// The session starts a new one (`/clear`).
    ClearSession,
    /// The session keeps a sent message in the history file.
    Remember(String),
}

/// One call into a controller.
pub(crate) struct Cx<'a> {
    pub state: &'a mut AppState,
    /// Drawing's caches and geometry.
    pub screen: &'a mut ui::Screen,
    /// The loop's clock, which times keys against what the screen showed.
    pub clock: &'a Clock,
    /// Background work reports to the loop through this.
    pub tx: &'a mpsc::UnboundedSender<AppEvent>,
    pub engine: &'a mut EngineLink,
    pub asks: &'a mut Vec<Ask>,
}

impl Cx<'_> {
    /// Show `text` in the status line until the next key.
    pub(crate) fn flash(&mut self, text: impl Into<String>, error: bool) {
        self.state.flash = Some(Flash { text: text.into(), error });
    }

    pub fn ask(&mut self, ask: Ask) {
        self.asks.push(ask);
    }

    /// Where each pane goes at the current size.
    pub(crate) fn plan(&self) -> ui::Plan {
        self.screen.plan(self.state)
    }

    /// Rows visible in `pane`.
    pub(crate) fn page(&self, pane: Pane) -> usize {
        self.screen.page(self.state, pane)
    }

    /// A sender for background work to report through.
    pub(crate) fn sender(&self) -> mpsc::UnboundedSender<AppEvent> {
        self.tx.clone()
    }
}
