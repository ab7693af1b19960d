//! Keys typed ahead never decide.
//!
//! A hurried user types the next question while the model works. When a
//! proposal or a command request arrives mid-word, the rest of that word must
//! not become accepts, rejects, applies or runs. The rules, all measured on
//! the loop's own [`Clock`]:
//!
//! - The diff pane takes focus by itself only from an idle composer: empty,
//!   no chord half typed, and no key or paste for [`QUIET_BEFORE_FOCUS`].
//!   Otherwise the review waits and the status line says so.
//! - A decision key counts only once the item has been on screen (a frame
//!   showing it was flushed to the terminal) and only if the run of keys it
//!   belongs to began at least [`GUARD`] after that frame. A run is keys less
//!   than [`GUARD`] apart: someone typing through the moment the review
//!   appeared has not stopped to read it until they pause. Key repeats (a
//!   held key) never decide. Anything else is swallowed with a note.
//! - After the diff pane took focus by itself, an early key gives the focus
//!   back to where it was and is handled there: the user was typing, and the
//!   review waits for them to open it.
//!
//! The model of this is Chromium's `InputEventActivationProtector`
//! (ui/views/input_event_activation_protector.cc), which guards permission
//! prompts and dialogs: input between the dialog becoming visible and its
//! frame being presented is unintended, and so are key repeats; clicks within
//! the double-click interval (500 ms by default) of that frame, or less than
//! that interval after the previous click, are too. Here keys are how
//! decisions are made, so the timing rules apply to keys. Firefox holds the
//! buttons of its install and download dialogs disabled for
//! `security.dialog_enable_delay` (1000 ms) for the same reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::keymap::Action;
use crate::view::state::Focus;

/// How long after the frame that first showed an item a run of keys must
/// begin to decide it, and the gap that ends a run of keys. 500 ms is
/// Chromium's interval for the same guard (the default double-click interval
/// on Windows and GTK). It is several times a typist's gap between keys
/// (10-15 keys/s is a key every 70-100 ms; an average typist's is about
/// 200 ms), and longer than the quarter second it takes to react to
/// something seen at all, so a key already on its way when the frame changed
/// falls inside it. A user who reads the hunk before pressing `y` waits
/// longer than this anyway.
pub(crate) const GUARD: Duration = Duration::from_millis(500);

/// Quiet needed before a proposal may take the keyboard from an empty
/// composer. Writing research (Chenoweth and Hayes's bursts of typing,
/// keystroke loggers such as Inputlog) commonly takes a gap of 2 s between
/// keys as the end of a burst; shorter gaps are part of typing. A user who
/// just sent a message or cleared the composer, or is moving around the
/// chat, is still at the keyboard and about to type more.
pub(crate) const QUIET_BEFORE_FOCUS: Duration = Duration::from_secs(2);

/// The loop's clock: the monotonic clock in use, or one that moves only when
/// told to (tests and scripted input, which must not depend on how fast a
/// shared machine runs).
#[derive(Debug, Clone)]
pub struct Clock(Kind);

#[derive(Debug, Clone)]
enum Kind {
    System,
    Manual {
        start: Instant,
        elapsed_ns: Arc<AtomicU64>,
        /// The loop owes the screen a frame (see [`Clock::settled`]).
        frame_pending: Arc<AtomicBool>,
    },
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    pub(crate) fn system() -> Self {
        Clock(Kind::System)
    }

    /// A clock that stands still until [`Clock::advance`] moves it.
    pub fn manual() -> Self {
        Clock(Kind::Manual {
            start: Instant::now(),
            elapsed_ns: Arc::new(AtomicU64::new(0)),
            frame_pending: Arc::new(AtomicBool::new(false)),
        })
    }

    pub(crate) fn is_manual(&self) -> bool {
        matches!(self.0, Kind::Manual { .. })
    }

    pub(crate) fn now(&self) -> Instant {
        match &self.0 {
            Kind::System => Instant::now(),
            Kind::Manual { start, elapsed_ns, .. } => *start + Duration::from_nanos(elapsed_ns.load(Ordering::SeqCst)),
        }
    }

    /// The loop says whether it owes the screen a frame (manual clocks only).
    pub(super) fn set_frame_pending(&self, pending: bool) {
        if let Kind::Manual { frame_pending, .. } = &self.0 {
            frame_pending.store(pending, Ordering::SeqCst);
        }
    }

    /// Resolves once the loop has drawn what it owed the screen. A scripted
    /// pause waits for this before it moves the clock on, so what the keys
    /// before it changed is on screen from the start of the pause, as it
    /// would be for a user who stops typing.
    pub(crate) async fn settled(&self) {
        let Kind::Manual { frame_pending, .. } = &self.0 else { return };
        std::future::poll_fn(|cx| {
            if frame_pending.load(Ordering::SeqCst) {
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await
    }

    /// Move a manual clock (and its clones) on by `by`. False for the system
    /// clock, which moves by itself: the caller waits for real instead.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        match &self.0 {
            Kind::System => false,
            Kind::Manual { elapsed_ns, .. } => {
                let ns = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
                elapsed_ns.fetch_add(ns, Ordering::SeqCst);
                true
            }
        }
    }
}

/// Actions that decide something about the item under review, or change
/// what is applied: none may come from a key the user typed before seeing
/// the item. Undo is among them: a `u` typed ahead would revert the last
/// applied change set. Moving around and scrolling are not.
pub(crate) fn decides(action: Action) -> bool {
    matches!(
        action,
        Action::AcceptHunk
            | Action::RejectHunk
            | Action::RejectWithReason
            | Action::AcceptFile
            | Action::RejectFile
            | Action::AcceptAll
            | Action::RejectAll
            | Action::SplitHunk
            | Action::EditHunk
            | Action::ApplyDecisions
            | Action::UndoApplied
            | Action::AlwaysAllow
    )
}

/// What the guard knows about the user's keys and the item on screen.
#[derive(Debug, Default)]
pub(super) struct KeyGuard {
    last_input: Option<Instant>,
    /// When the run of keys the last key belongs to began.
    run_start: Option<Instant>,
    /// The last key was the terminal repeating a held key.
    repeat: bool,
    /// The item a flushed frame showed first, and when.
    shown: Option<(u64, Instant)>,
    /// The item whose arrival moved focus to the diff pane, and the focus
    /// it moved from.
    took_focus: Option<(u64, Focus)>,
}

impl KeyGuard {
    /// A key or a paste arrived at `at` (read from the terminal).
    pub fn input(&mut self, at: Instant, repeat: bool) {
        let new_run = match self.last_input {
            Some(last) => at.saturating_duration_since(last) >= GUARD,
            None => true,
        };
        if new_run {
            self.run_start = Some(at);
        }
        self.last_input = Some(at);
        self.repeat = repeat;
    }

    /// No key or paste for [`QUIET_BEFORE_FOCUS`] up to `now`.
    pub(crate) fn quiet(&self, now: Instant) -> bool {
        self.last_input.is_none_or(|last| now.saturating_duration_since(last) >= QUIET_BEFORE_FOCUS)
    }

    /// A frame showing `item` was flushed at `at`. Only the first counts:
    /// the user has seen it since.
    pub(crate) fn drawn(&mut self, item: u64, at: Instant) {
        if self.shown.is_none_or(|(id, _)| id != item) {
            self.shown = Some((item, at));
        }
    }

    /// The last key came too early to be about `item`: before a frame
    /// showed it, or in a run of keys that began less than [`GUARD`] after.
    pub(crate) fn early(&self, item: u64) -> bool {
        match (self.shown, self.run_start) {
            (Some((id, at)), Some(run)) if id == item => run < at + GUARD,
            (Some((id, _)), None) if id == item => false,
            _ => true,
        }
    }

    /// The last key may decide about `item`.
    pub(crate) fn may_decide(&self, item: u64) -> bool {
        !self.repeat && !self.early(item)
    }

    /// `item`'s arrival moved focus to the diff pane, away from `from`.
    pub(crate) fn took_focus(&mut self, item: u64, from: Focus) {
        self.took_focus = Some((item, from));
    }

    /// If `item`'s arrival took the focus, where it was; forgets it, so the
    /// focus goes back once at most.
    pub(crate) fn give_back(&mut self, item: u64) -> Option<Focus> {
        match self.took_focus {
            Some((id, from)) if id == item => {
                self.took_focus = None;
                Some(from)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn nothing_decides_before_the_item_is_drawn() {
        let t0 = Instant::now();
        let mut g = KeyGuard::default();
        g.input(t0, false);
        assert!(g.early(1));
        g.input(t0 + ms(10_000), false);
        assert!(g.early(1), "a long pause is not enough: the item was never on screen");
        g.drawn(2, t0);
        assert!(g.early(1), "another item's frame says nothing about this one");
    }

    #[test]
    fn a_run_of_keys_that_began_before_the_guard_never_decides() {
        let t0 = Instant::now();
        let mut g = KeyGuard::default();
        g.drawn(1, t0);
        // Typing through the arrival at 80 ms a key, for two seconds.
        for i in 0..25 {
            g.input(t0 + ms(100 + 80 * i), false);
            assert!(g.early(1), "key {i}");
        }
        // A pause as long as the guard starts a run that may decide.
        g.input(t0 + ms(100 + 80 * 24 + 500), false);
        assert!(g.may_decide(1));
    }

    #[test]
    fn the_guard_boundary() {
        let t0 = Instant::now();
        let mut g = KeyGuard::default();
        g.drawn(1, t0);
        g.input(t0 + GUARD - ms(1), false);
        assert!(g.early(1));
        let mut g = KeyGuard::default();
        g.drawn(1, t0);
        g.input(t0 + GUARD, false);
        assert!(!g.early(1));
        // Keys that follow quickly belong to the same run and may decide too.
        g.input(t0 + GUARD + ms(50), false);
        assert!(g.may_decide(1));
    }

    #[test]
    fn a_repeated_key_never_decides() {
        let t0 = Instant::now();
        let mut g = KeyGuard::default();
        g.drawn(1, t0);
        g.input(t0 + ms(5_000), true);
        assert!(!g.may_decide(1));
        g.input(t0 + ms(6_000), false);
        assert!(g.may_decide(1));
    }

    #[test]
    fn the_first_frame_counts() {
        let t0 = Instant::now();
        let mut g = KeyGuard::default();
        g.drawn(1, t0);
        g.drawn(1, t0 + ms(5_000));
        g.input(t0 + ms(1_000), false);
        assert!(g.may_decide(1));
    }

    #[test]
    fn quiet_means_no_input_for_a_while() {
        let t0 = Instant::now();
        let mut g = KeyGuard::default();
        assert!(g.quiet(t0));
        g.input(t0, false);
        assert!(!g.quiet(t0 + QUIET_BEFORE_FOCUS - ms(1)));
        assert!(g.quiet(t0 + QUIET_BEFORE_FOCUS));
    }

    #[test]
    fn focus_goes_back_once_and_only_for_its_item() {
        let mut g = KeyGuard::default();
        g.took_focus(3, Focus::Composer);
        assert_eq!(g.give_back(4), None);
        assert_eq!(g.give_back(3), Some(Focus::Composer));
        assert_eq!(g.give_back(3), None);
    }

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_follow() {
        let c = Clock::manual();
        let other = c.clone();
        let t0 = c.now();
        assert_eq!(c.now(), t0);
        assert!(c.advance(ms(250)));
        assert_eq!(other.now(), t0 + ms(250));
        assert!(!Clock::system().advance(ms(1)));
    }

    #[test]
    fn navigation_does_not_decide() {
        for a in [Action::NextHunk, Action::PrevFile, Action::ScrollDown, Action::FocusComposer, Action::Help] {
            assert!(!decides(a), "{a}");
        }
        for a in [Action::AcceptHunk, Action::ApplyDecisions, Action::AlwaysAllow, Action::EditHunk] {
            assert!(decides(a), "{a}");
        }
    }
}
