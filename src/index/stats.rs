//! Index statistics, for `tandem index` and the metrics panel.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::walk::Skipped;

/// Wall time of each phase of the latest build, update and map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseTimes {
    pub walk: Duration,
    pub parse: Duration,
    pub graph: Duration,
    pub rank: Duration,
    pub render: Duration,
}

/// Counts describing the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexStats {
    /// Indexed files per language name.
    pub files_by_lang: BTreeMap<String, usize>,
    pub lines: u64,
    pub definitions: usize,
    pub references: usize,
    /// Indexed files whose parse had syntax errors (their tags are partial).
    pub partial_files: usize,
    /// Files in languages without tag support.
    pub other_files: usize,
    pub skipped: Vec<Skipped>,
    pub graph_edges: usize,
    /// Files whose tags came from the cache in the latest build or update.
    pub cache_hits: usize,
    /// Files parsed in the latest build or update.
    pub cache_misses: usize,
    pub times: PhaseTimes,
}

impl IndexStats {
    pub fn files(&self) -> usize {
        self.files_by_lang.values().sum()
    }

    /// Skipped files per reason label.
    pub(crate) fn skipped_by_reason(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for s in &self.skipped {
            *out.entry(s.reason.label()).or_default() += 1;
        }
        out
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Human-readable summary, one fact per line.
pub fn render_stats(stats: &IndexStats) -> String {
    let mut s = String::new();
    let langs: Vec<String> = stats.files_by_lang.iter().map(|(l, n)| format!("{l} {n}")).collect();
    let _ = writeln!(s, "files:        {} ({})", stats.files(), langs.join(", "));
    let _ = writeln!(s, "lines:        {}", stats.lines);
    let _ = writeln!(s, "definitions:  {}", stats.definitions);
    let _ = writeln!(s, "references:   {}", stats.references);
    let _ = writeln!(s, "graph edges:  {}", stats.graph_edges);
    let _ = writeln!(s, "partial:      {} (syntax errors)", stats.partial_files);
    let _ = writeln!(s, "other files:  {} (no tag support)", stats.other_files);
    let reasons: Vec<String> = stats.skipped_by_reason().iter().map(|(r, n)| format!("{r} {n}")).collect();
    if reasons.is_empty() {
        let _ = writeln!(s, "skipped:      0");
    } else {
        let _ = writeln!(s, "skipped:      {} ({})", stats.skipped.len(), reasons.join(", "));
    }
    for sk in stats.skipped.iter().take(20) {
        let _ = writeln!(s, "  {}: {}", sk.path.display(), sk.reason);
    }
    if stats.skipped.len() > 20 {
        let _ = writeln!(s, "  … {} more", stats.skipped.len() - 20);
    }
    let _ = writeln!(s, "cache:        {} hits, {} misses", stats.cache_hits, stats.cache_misses);
    let t = &stats.times;
    let _ = writeln!(
        s,
        "time:         walk {}, parse {}, graph {}, rank {}, render {}",
        ms(t.walk),
        ms(t.parse),
        ms(t.graph),
        ms(t.rank),
        ms(t.render)
    );
    s
}
