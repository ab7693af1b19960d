//! CPU and memory of tandem itself, read from `/proc/self` on Linux (two
//! small files, no crate needed); elsewhere there is no reading and the pane
//! says "n/a".

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// CPU time is counted in ticks of 10 ms: over one second a share moves in
/// steps of 1%, so an idle process would flicker between 0% and 1% and be
/// redrawn for it. Over this window the steps are 0.2%.
pub(crate) const CPU_WINDOW: Duration = Duration::from_secs(5);

/// One reading, as the metrics pane shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessSample {
    /// Share of one core used over the last [`CPU_WINDOW`] (or since the
    /// first reading); `None` on the first reading.
    pub cpu_percent: Option<f64>,
    /// Resident memory in bytes.
    pub rss_bytes: u64,
}

impl ProcessSample {
    /// What the pane shows of it: whole percent, tenths of a megabyte. A
    /// reading that leaves these alone needs no redraw.
    pub(crate) fn shown(&self) -> (Option<i64>, u64) {
        (self.cpu_percent.map(|c| c.round() as i64), self.rss_bytes / 100_000)
    }
}

/// CPU time (user + system) in clock ticks, from the text of `/proc/PID/stat`.
/// The command name (field 2) is in parentheses and may itself hold spaces
/// and parentheses, so the fields are counted after the last `)`.
pub(crate) fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Resident pages, from the text of `/proc/PID/statm` (its second field).
pub(crate) fn parse_statm_resident(statm: &str) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse().ok()
}

/// CPU share of one core: `ticks` of CPU over `seconds` of wall time.
pub(crate) fn cpu_percent(ticks: u64, ticks_per_sec: u64, seconds: f64) -> Option<f64> {
    (seconds > 0.0 && ticks_per_sec > 0).then(|| ticks as f64 / ticks_per_sec as f64 / seconds * 100.0)
}

/// Reads `/proc/self`, remembering the last reading to turn CPU time into
/// a share.
#[derive(Debug)]
pub(crate) struct Sampler {
    ticks_per_sec: u64,
    page_size: u64,
    /// Earlier readings of CPU time within [`CPU_WINDOW`], oldest first.
    history: VecDeque<(u64, Instant)>,
}

impl Sampler {
    /// `None` where there is no `/proc/self` to read.
    pub fn new() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            use nix::unistd::{SysconfVar, sysconf};
            let ticks = sysconf(SysconfVar::CLK_TCK).ok().flatten().and_then(|n| u64::try_from(n).ok())?;
            let page = sysconf(SysconfVar::PAGE_SIZE).ok().flatten().and_then(|n| u64::try_from(n).ok())?;
            let sampler = Self { ticks_per_sec: ticks, page_size: page, history: VecDeque::new() };
            std::fs::metadata("/proc/self/statm").ok().map(|_| sampler)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// Read now. About 20 µs: two reads of small in-memory files.
    pub(crate) fn sample(&mut self, now: Instant) -> Option<ProcessSample> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let ticks = parse_stat_ticks(&stat)?;
        let rss_bytes = parse_statm_resident(&statm)? * self.page_size;
        Some(ProcessSample { cpu_percent: self.cpu(ticks, now), rss_bytes })
    }

    /// The share of CPU since the oldest reading within the window, and
    /// remember this one.
    fn cpu(&mut self, ticks: u64, now: Instant) -> Option<f64> {
        while self.history.len() > 1
            && self.history.get(1).is_some_and(|(_, at)| now.saturating_duration_since(*at) >= CPU_WINDOW)
        {
            self.history.pop_front();
        }
        let cpu = self.history.front().and_then(|&(t, at)| {
            cpu_percent(ticks.saturating_sub(t), self.ticks_per_sec, now.saturating_duration_since(at).as_secs_f64())
        });
        self.history.push_back((ticks, now));
        cpu
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let stat = "4242 (tandem (x) y) S 1 4242 4242 34816 4242 4194304 1000 0 0 0 150 25 0 0 20 0 3 0 100 \
                    50000000 8000 18446744073709551615";
        assert_eq!(parse_stat_ticks(stat), Some(175));
        assert_eq!(parse_stat_ticks("garbage"), None);
        assert_eq!(parse_stat_ticks("1 (x) S 1 2"), None);
    }

    #[test]
    fn statm_resident_is_the_second_field() {
        assert_eq!(parse_statm_resident("12000 8300 2100 900 0 4000 0\n"), Some(8300));
        assert_eq!(parse_statm_resident("12000"), None);
    }

    #[test]
    fn cpu_share_of_one_core() {
        // 50 ticks at 100 per second over 2 s of wall time: a quarter core.
        assert_eq!(cpu_percent(50, 100, 2.0), Some(25.0));
        assert_eq!(cpu_percent(50, 100, 0.0), None);
    }

    #[test]
    fn cpu_share_is_taken_over_the_window() {
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        let mut sampler = Sampler { ticks_per_sec: 100, page_size: 4096, history: VecDeque::new() };
        assert_eq!(sampler.cpu(0, s(0)), None);
        // One tick in the first second is 1%.
        assert_eq!(sampler.cpu(1, s(1)), Some(1.0));
        assert_eq!(sampler.cpu(1, s(2)), Some(0.5));
        for n in 3..=9 {
            sampler.cpu(1, s(n));
        }
        // The tick at 1 s is out of the window now: 0 ticks over 5 s.
        assert_eq!(sampler.cpu(1, s(10)), Some(0.0));
        assert!(sampler.history.len() <= 6);
        let shown = ProcessSample { cpu_percent: Some(0.4), rss_bytes: 31_449_999 }.shown();
        assert_eq!(shown, (Some(0), 314));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_can_be_read() {
        let mut s = Sampler::new().expect("a sampler on Linux");
        let first = s.sample(Instant::now()).expect("a reading");
        assert!(first.rss_bytes > 1_000_000, "{first:?}");
        assert_eq!(first.cpu_percent, None, "no share from one reading");
        let second = s.sample(Instant::now() + std::time::Duration::from_millis(10)).expect("a reading");
        assert!(second.cpu_percent.is_some());
    }
}
