//! The arithmetic behind the metrics pane: percentiles of latencies, token
//! and cost tallies, bounded series for sparklines, and the figures of one
//! request to the model.

use std::collections::VecDeque;
use std::time::Duration;

use crate::llm::Usage;

/// Durations, kept sorted, for percentiles.
///
/// Percentiles use the nearest-rank method: the p-th percentile of n sorted
/// samples is the sample at rank ⌈p/100 · n⌉ (1-based), so it is always a
/// value that was measured, never an average of two. With one sample every
/// percentile is that sample; with none there is no percentile. A session
/// makes at most a few thousand calls, so the samples are kept whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Latencies {
    sorted: Vec<Duration>,
}

impl Latencies {
    pub fn push(&mut self, d: Duration) {
        let at = self.sorted.partition_point(|x| *x <= d);
        self.sorted.insert(at, d);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.sorted.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The `p`-th percentile (0 < p ≤ 100) by nearest rank; `None` without samples.
    pub(crate) fn percentile(&self, p: f64) -> Option<Duration> {
        let n = self.sorted.len();
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        Some(self.sorted[rank.clamp(1, n) - 1])
    }

    pub(crate) fn p50(&self) -> Option<Duration> {
        self.percentile(50.0)
    }

    pub(crate) fn p95(&self) -> Option<Duration> {
        self.percentile(95.0)
    }
}

/// The last `cap` values of a figure, oldest first, for a sparkline.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    values: VecDeque<f64>,
    cap: usize,
}

/// Points a sparkline keeps: more than the widest pane shows.
pub(crate) const SERIES_CAP: usize = 120;

impl Default for Series {
    fn default() -> Self {
        Self::new(SERIES_CAP)
    }
}

impl Series {
    pub fn new(cap: usize) -> Self {
        Self { values: VecDeque::with_capacity(cap.min(SERIES_CAP)), cap: cap.max(1) }
    }

    pub fn push(&mut self, v: f64) {
        if self.values.len() == self.cap {
            self.values.pop_front();
        }
        self.values.push_back(v);
    }

    pub(crate) fn values(&self) -> impl DoubleEndedIterator<Item = f64> + ExactSizeIterator + '_ {
        self.values.iter().copied()
    }

    pub(crate) fn last(&self) -> Option<f64> {
        self.values.back().copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A sum of costs in US dollars where some parts may have no price.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    /// The sum of the parts whose price is known.
    pub known: f64,
    /// Some part had no price: the total is not known.
    pub unknown: bool,
}

impl Cost {
    pub(crate) fn add(&mut self, cost: Option<f64>) {
        match cost {
            Some(c) => self.known += c,
            None => self.unknown = true,
        }
    }

    /// The total, when every part had a price.
    pub fn total(&self) -> Option<f64> {
        (!self.unknown).then_some(self.known)
    }
}

/// Tokens and cost of some requests (a turn's, or the session's).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TokenTally {
    pub usage: Usage,
    pub cost: Cost,
    pub requests: u64,
}

impl TokenTally {
    pub(crate) fn add(&mut self, usage: &Usage, cost: Option<f64>) {
        self.usage += *usage;
        self.cost.add(cost);
        self.requests += 1;
    }
}

/// Output tokens per second of generation: from the first token to the end
/// of the answer, so the wait for the first token does not count. `None`
/// when there is nothing to divide (no tokens, or no time between them).
pub(crate) fn tokens_per_sec(output_tokens: u64, first_token: Option<Duration>, elapsed: Duration) -> Option<f64> {
    let generating = elapsed.checked_sub(first_token?)?;
    // Below a millisecond the clock says more than the tokens do.
    if output_tokens == 0 || generating < Duration::from_millis(1) {
        return None;
    }
    Some(output_tokens as f64 / generating.as_secs_f64())
}

/// The figures of one request to the model, measured by the agent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestStats {
    /// From sending the request to the first text or tool call; `None` when
    /// none came.
    pub first_token: Option<Duration>,
    /// From sending the request to its end (retries included).
    pub elapsed: Duration,
    pub usage: Usage,
    /// At the profile's prices; `None` when a price needed is unknown.
    pub cost: Option<f64>,
    /// Tokens of the prompt: the provider's count (`usage.input_tokens`), or
    /// tandem's estimate when the provider reported none.
    pub context_tokens: u64,
    pub context_window: u64,
    /// The request ended with an error (not a cancel).
    pub failed: bool,
}

impl RequestStats {
    pub(crate) fn tokens_per_sec(&self) -> Option<f64> {
        tokens_per_sec(self.usage.output_tokens, self.first_token, self.elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn latencies(values: &[u64]) -> Latencies {
        let mut l = Latencies::default();
        for &v in values {
            l.push(ms(v));
        }
        l
    }

    #[test]
    fn percentiles_of_no_samples_are_none() {
        let l = Latencies::default();
        assert_eq!(l.p50(), None);
        assert_eq!(l.p95(), None);
        assert!(l.is_empty());
    }

    #[test]
    fn percentiles_of_one_sample_are_that_sample() {
        let l = latencies(&[42]);
        assert_eq!(l.p50(), Some(ms(42)));
        assert_eq!(l.p95(), Some(ms(42)));
        assert_eq!(l.percentile(1.0), Some(ms(42)));
    }

    #[test]
    fn percentiles_of_an_odd_count_by_nearest_rank() {
        // Pushed out of order; ranks are over the sorted values 10..=50.
        let l = latencies(&[50, 10, 40, 20, 30]);
        // p50: rank ⌈2.5⌉ = 3 → 30; p95: rank ⌈4.75⌉ = 5 → 50.
        assert_eq!(l.p50(), Some(ms(30)));
        assert_eq!(l.p95(), Some(ms(50)));
        assert_eq!(l.percentile(20.0), Some(ms(10)));
        assert_eq!(l.percentile(100.0), Some(ms(50)));
    }

    #[test]
    fn percentiles_of_an_even_count_by_nearest_rank() {
        let l = latencies(&[40, 10, 30, 20]);
        // p50: rank ⌈2⌉ = 2 → 20 (a measured value, not 25).
        assert_eq!(l.p50(), Some(ms(20)));
        // p95: rank ⌈3.8⌉ = 4 → 40.
        assert_eq!(l.p95(), Some(ms(40)));
        let twenty: Vec<u64> = (1..=20).map(|i| i * 10).collect();
        let l = latencies(&twenty);
        assert_eq!(l.p50(), Some(ms(100)));
        assert_eq!(l.p95(), Some(ms(190)));
    }

    #[test]
    fn equal_samples_keep_their_count() {
        let l = latencies(&[5, 5, 5, 1]);
        assert_eq!(l.len(), 4);
        assert_eq!(l.percentile(25.0), Some(ms(1)));
        assert_eq!(l.p50(), Some(ms(5)));
    }

    #[test]
    fn a_series_keeps_the_last_values() {
        let mut s = Series::new(3);
        assert_eq!(s.last(), None);
        for v in 1..=5 {
            s.push(f64::from(v));
        }
        assert_eq!(s.values().collect::<Vec<_>>(), vec![3.0, 4.0, 5.0]);
        assert_eq!(s.last(), Some(5.0));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn tokens_per_second_count_from_the_first_token() {
        // 100 tokens over the 2 s after a 0.5 s wait for the first.
        assert_eq!(tokens_per_sec(100, Some(ms(500)), ms(2500)), Some(50.0));
        assert_eq!(tokens_per_sec(0, Some(ms(500)), ms(2500)), None);
        assert_eq!(tokens_per_sec(100, None, ms(2500)), None);
        // The whole answer arrived at once.
        assert_eq!(tokens_per_sec(100, Some(ms(700)), ms(700)), None);
    }

    #[test]
    fn a_tally_with_an_unpriced_request_has_an_unknown_total() {
        let u = Usage { input_tokens: 10, output_tokens: 5, ..Usage::default() };
        let mut t = TokenTally::default();
        t.add(&u, Some(0.25));
        t.add(&u, Some(0.5));
        assert_eq!(t.cost.total(), Some(0.75));
        assert_eq!(t.usage.input_tokens, 20);
        assert_eq!(t.requests, 2);
        t.add(&u, None);
        assert_eq!(t.cost.total(), None);
        assert_eq!(t.cost.known, 0.75);
    }
}
