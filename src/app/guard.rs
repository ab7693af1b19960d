//! The loop's clock. Keys are timed against what the screen showed, on a
//! clock that is the monotonic clock in use and, for scripted input, one
//! that moves only when the script pauses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    pub fn system() -> Self {
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

    pub fn is_manual(&self) -> bool {
        matches!(self.0, Kind::Manual { .. })
    }

    pub fn now(&self) -> Instant {
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
    pub async fn settled(&self) {
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
    pub fn advance(&self, by: Duration) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
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
}
