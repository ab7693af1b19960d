//! Repository index: which files exist, what they define and reference, how
//! they relate, and a ranked map of the repository for the model's context.
//!
//! Pipeline: walk (ignore rules, size/binary checks) → parse in parallel with
//! tree-sitter (or reuse cached tags) → reference graph → per-request
//! personalized PageRank → map fitted to a token budget. No UI code here.

mod cache;
mod graph;
mod lang;
mod lookup;
mod map;
mod query;
mod stats;
mod tags;
mod walk;
mod watch;

pub use watch::{WatchHandle, watch};

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use cache::FORMAT_VERSION as CACHE_FORMAT_VERSION;
pub use graph::MIN_NAME_LEN;
pub use lang::Lang;
pub(crate) use lookup::{OutlineItem, SymbolHit};
pub use map::{MapRequest, Mentions, RepoMap, extract_mentions};
pub use stats::{IndexStats, PhaseTimes, render_stats};
pub use tags::{Def, DefKind, Extractor, FileTags, Ref};
pub use walk::{IgnoreRules, OpenError, SkipReason, Skipped, TANDEM_IGNORE, check_regular, open_regular, special_kind};

use cache::FileEntry;
use graph::Graph;
use walk::{Candidate, WalkConfig};

/// Default per-file size limit: bigger sources are almost always generated.
pub(crate) const DEFAULT_MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Errors that stop an index from being built or saved. Per-file problems are
/// not errors: those files are skipped and listed in the statistics.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index root {0} is not a directory")]
    NotADirectory(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not encode the index cache: {0}")]
    CacheEncode(String),
    #[error("cannot watch {path} for changes: {reason}")]
    Watch { path: PathBuf, reason: String },
}

/// What to index and where to cache it.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    pub root: PathBuf,
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Index dot-files and dot-directories (`.git` is always skipped).
    pub include_hidden: bool,
    /// Where to persist parsed tags between runs; `None` disables caching.
    pub cache_file: Option<PathBuf>,
}

impl IndexOptions {
    /// Defaults: 1 MB limit, hidden files skipped, no cache.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        IndexOptions {
            root: root.into(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            include_hidden: false,
            cache_file: None,
        }
    }

    /// As the configuration's `[index]` says, cached in `cache_file`: what
    /// the app, `tandem exec`, `tandem map` and `tandem index` all build.
    pub fn from_config(
        root: impl Into<PathBuf>,
        cfg: &crate::config::IndexConfig,
        cache_file: Option<PathBuf>,
    ) -> Self {
        IndexOptions {
            max_file_size: cfg.max_file_size,
            include_hidden: cfg.include_hidden,
            cache_file,
            ..Self::new(root)
        }
    }
}

/// The index of one repository.
pub struct Index {
    opts: IndexOptions,
    /// Canonical root, so absolute paths given by callers map back to index keys.
    canonical_root: PathBuf,
    files: BTreeMap<PathBuf, FileEntry>,
    graph: Graph,
    stats: IndexStats,
    /// Rank and render time of the latest `map`, which takes `&self`.
    map_times: Mutex<(Duration, Duration)>,
    /// Token counts of map lines, reused by later maps.
    line_tokens: Mutex<map::LineTokens>,
}

/// The repository index, shared between the app (which builds it in the
/// background), the agent (which maps it for each request) and the symbol
/// tools. `None` until the first build is done.
pub type SharedIndex = std::sync::Arc<std::sync::RwLock<Option<Index>>>;

/// What happened to one file in the parse phase.
enum Outcome {
    Cached(FileEntry),
    Parsed(FileEntry),
    Skipped(SkipReason),
}

impl Index {
    /// [`Index::build`], then save the cache (when `opts` has a cache file).
    /// The warnings, a failure to save included, are logged and returned.
    pub(crate) fn build_and_save(
        opts: &IndexOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<(Index, Vec<String>), IndexError> {
        let (index, mut warnings) = Index::build(opts, progress)?;
        if let Err(e) = index.save_cache() {
            warnings.push(format!("cannot save the index cache: {e}"));
        }
        for w in &warnings {
            tracing::warn!("index: {w}");
        }
        Ok((index, warnings))
    }

    /// Walks and parses the repository, reusing the cache where files are unchanged.
    /// Returns warnings (e.g. a discarded cache) instead of printing them.
    pub fn build(
        opts: &IndexOptions,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<(Index, Vec<String>), IndexError> {
        if !opts.root.is_dir() {
            return Err(IndexError::NotADirectory(opts.root.clone()));
        }
        let canonical_root =
            opts.root.canonicalize().map_err(|source| IndexError::Io { path: opts.root.clone(), source })?;
        let mut warnings = Vec::new();
        let cached = match &opts.cache_file {
            Some(path) => {
                let (entries, warning) = cache::load(path);
                warnings.extend(warning);
                entries
            }
            None => BTreeMap::new(),
        };

        let started = Instant::now();
        let walked = walk::walk(&walk_config(opts));
        let walk_time = started.elapsed();

        let started = Instant::now();
        let total = walked.candidates.len();
        progress(0, total);
        let outcomes = process_all(opts, &walked.candidates, |rel| cached.get(rel), progress);
        let mut files = BTreeMap::new();
        let mut skipped = walked.skipped;
        let (mut hits, mut misses) = (0, 0);
        for (cand, outcome) in walked.candidates.iter().zip(outcomes) {
            record(cand, outcome, &mut files, &mut skipped, &mut hits, &mut misses);
        }
        let parse_time = started.elapsed();

        let mut index = Index {
            opts: opts.clone(),
            canonical_root,
            files,
            graph: Graph::default(),
            stats: IndexStats { skipped, other_files: walked.other_files, ..IndexStats::default() },
            map_times: Mutex::new((Duration::ZERO, Duration::ZERO)),
            line_tokens: Mutex::new(map::LineTokens::default()),
        };
        index.stats.times.walk = walk_time;
        index.stats.times.parse = parse_time;
        index.finish(hits, misses, None);
        Ok((index, warnings))
    }

    /// Re-indexes the given paths (absolute or root-relative): modified and new files
    /// are re-parsed, vanished ones dropped; a rename is the old and the new path.
    /// Directories are expanded. Unchanged files (same size and mtime) are not re-read.
    pub fn update(&mut self, changed: &[PathBuf]) {
        let started = Instant::now();
        let cfg = walk_config(&self.opts);
        let mut cands: Vec<Candidate> = Vec::new();
        let mut gone: HashSet<PathBuf> = HashSet::new();
        let mut touched: HashSet<PathBuf> = HashSet::new();
        let mut new_skips = Vec::new();
        for path in changed {
            let rel = self.relative(path);
            let abs = self.opts.root.join(&rel);
            touched.insert(rel.clone());
            if abs.is_dir() {
                let sub = walk::walk(&WalkConfig { root: &self.opts.root, ..cfg.clone() });
                let prefix = rel.clone();
                let present: HashSet<PathBuf> = sub.candidates.iter().map(|c| c.rel.clone()).collect();
                gone.extend(self.files.keys().filter(|k| k.starts_with(&prefix) && !present.contains(*k)).cloned());
                cands.extend(sub.candidates.into_iter().filter(|c| c.rel.starts_with(&prefix)));
                continue;
            }
            // A deleted directory takes its files with it.
            if !abs.exists() {
                gone.extend(self.files.keys().filter(|k| k.starts_with(&rel)).cloned());
                continue;
            }
            let Some(lang) = Lang::from_path(&rel) else { continue };
            if !self.files.contains_key(&rel) && !walk::is_walkable(&cfg, &rel) {
                continue;
            }
            match walk::candidate(&cfg, rel.clone(), lang) {
                Ok(c) => cands.push(c),
                Err(reason) => {
                    gone.insert(rel.clone());
                    new_skips.push(Skipped { path: rel, reason });
                }
            }
        }
        // Old verdicts on touched paths are stale; the new ones are recorded below.
        self.stats.skipped.retain(|s| !touched.iter().any(|t| s.path.starts_with(t)));
        self.stats.skipped.extend(new_skips);
        for rel in &gone {
            self.files.remove(rel);
        }
        let walk_time = started.elapsed();

        let started = Instant::now();
        let outcomes = process_all(&self.opts, &cands, |rel| self.files.get(rel), &|_, _| {});
        let (mut hits, mut misses) = (0, 0);
        let mut skipped = std::mem::take(&mut self.stats.skipped);
        for (cand, outcome) in cands.iter().zip(outcomes) {
            if matches!(outcome, Outcome::Skipped(_)) {
                self.files.remove(&cand.rel);
            }
            record(cand, outcome, &mut self.files, &mut skipped, &mut hits, &mut misses);
        }
        self.stats.skipped = skipped;
        self.stats.times.walk = walk_time;
        self.stats.times.parse = started.elapsed();
        let changed: Vec<PathBuf> = gone.into_iter().chain(cands.into_iter().map(|c| c.rel)).collect();
        self.finish(hits, misses, Some(&changed));
    }

    /// Brings the graph and the counts up to date after files changed: patches the graph
    /// for `changed` paths, or rebuilds it for a fresh index or when patching would not pay.
    fn finish(&mut self, hits: usize, misses: usize, changed: Option<&[PathBuf]>) {
        let started = Instant::now();
        match changed {
            Some(changed) if changed.len() * 4 <= self.files.len() && !self.graph.needs_rebuild() => {
                self.graph.patch(&self.files, changed);
                if self.graph.needs_rebuild() {
                    self.graph = Graph::build(&self.files);
                }
            }
            _ => self.graph = Graph::build(&self.files),
        }
        let s = &mut self.stats;
        s.times.graph = started.elapsed();
        s.cache_hits = hits;
        s.cache_misses = misses;
        s.graph_edges = self.graph.edge_count();
        s.files_by_lang.clear();
        (s.lines, s.definitions, s.references, s.partial_files) = (0, 0, 0, 0);
        for e in self.files.values() {
            *s.files_by_lang.entry(e.tags.lang.name().to_string()).or_default() += 1;
            s.lines += u64::from(e.tags.lines);
            s.definitions += e.tags.defs.len();
            s.references += e.tags.refs.len();
            s.partial_files += usize::from(e.tags.partial);
        }
        s.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        s.skipped.dedup_by(|a, b| a.path == b.path);
    }

    /// Persists parsed tags to `cache_file` (no-op without one). Atomic: safe with concurrent writers.
    pub fn save_cache(&self) -> Result<(), IndexError> {
        match &self.opts.cache_file {
            Some(path) => cache::save(path, &self.files),
            None => Ok(()),
        }
    }

    /// The ranked repository map for a request; never exceeds `req.tokens`.
    pub fn map(&self, req: &MapRequest) -> RepoMap {
        let started = Instant::now();
        let focus: Vec<PathBuf> = req.focus.iter().map(|f| self.relative(f)).collect();
        let req_rel = MapRequest { focus, ..req.clone() };
        let (p, focus) = map::personalize(&self.graph, Path::new(""), &req_rel);
        // More definitions than tokens never fit: each one takes a line of at least a token.
        let ranked = map::rank_definitions(&self.graph, &p, &focus, req.tokens);
        let rank_time = started.elapsed();
        let started = Instant::now();
        let mut known = self.line_tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let out = map::fit(&self.graph, &self.files, &ranked, req.tokens, &mut known);
        drop(known);
        if let Ok(mut t) = self.map_times.lock() {
            *t = (rank_time, started.elapsed());
        }
        out
    }

    /// Definitions named `name`; with `fuzzy`, also near matches (case, prefix,
    /// substring, edit distance ≤ 2, subsequence), best first.
    pub fn find_definitions(&self, name: &str, fuzzy: bool) -> Vec<SymbolHit> {
        lookup::find_definitions(&self.files, name, fuzzy)
    }

    /// Every reference to `name`, by path then line.
    pub fn references(&self, name: &str) -> Vec<SymbolHit> {
        lookup::references(&self.files, name)
    }

    /// Definitions of one file in source order; `None` if the file is not indexed.
    pub fn outline(&self, path: &Path) -> Option<Vec<OutlineItem>> {
        self.files.get(&self.relative(path)).map(lookup::outline)
    }

    /// Tags of one indexed file.
    pub fn file_tags(&self, path: &Path) -> Option<&FileTags> {
        self.files.get(&self.relative(path)).map(|e| &e.tags)
    }

    /// Indexed files, relative to the root, in path order.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }

    /// Statistics, including the timings of the latest `map`.
    pub fn stats(&self) -> IndexStats {
        let mut s = self.stats.clone();
        if let Ok(t) = self.map_times.lock() {
            (s.times.rank, s.times.render) = *t;
        }
        s
    }

    pub fn root(&self) -> &Path {
        &self.opts.root
    }

    fn relative(&self, path: &Path) -> PathBuf {
        if path.is_relative() {
            return path.to_path_buf();
        }
        path.strip_prefix(&self.opts.root)
            .or_else(|_| path.strip_prefix(&self.canonical_root))
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

fn walk_config(opts: &IndexOptions) -> WalkConfig<'_> {
    WalkConfig { root: &opts.root, max_file_size: opts.max_file_size, include_hidden: opts.include_hidden }
}

/// Parses candidates in parallel, reusing `previous` tags when the file is unchanged, and
/// reports each file done. Outcomes come back in `cands` order.
fn process_all<'a>(
    opts: &IndexOptions,
    cands: &[Candidate],
    previous: impl Fn(&Path) -> Option<&'a FileEntry> + Sync,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<Outcome> {
    // Largest files first, so no thread is left parsing a big file while the others idle.
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cands[i].size));
    // Every thread of the pool takes the next file from one counter. A parallel iterator
    // splits the list into ranges up front, and on this size-sorted list that leaves one
    // thread with most of the bytes: measured 30-50% slower on two cores.
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let per_thread: Vec<Vec<(usize, Outcome)>> = rayon::broadcast(|_| {
        let mut ex = Extractor::default();
        let mut out = Vec::new();
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            out.push((i, process(opts, &cands[i], previous(&cands[i].rel), &mut ex)));
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, cands.len());
        }
        out
    });
    let mut outcomes: Vec<(usize, Outcome)> = per_thread.into_iter().flatten().collect();
    outcomes.sort_unstable_by_key(|o| o.0);
    outcomes.into_iter().map(|(_, o)| o).collect()
}

fn process(opts: &IndexOptions, cand: &Candidate, previous: Option<&FileEntry>, ex: &mut Extractor) -> Outcome {
    if let Some(prev) = previous
        && prev.size == cand.size
        && prev.mtime_ns == cand.mtime_ns
        && prev.tags.lang == cand.lang
    {
        return Outcome::Cached(prev.clone());
    }
    let loaded = match walk::load(&opts.root, &cand.rel, opts.max_file_size) {
        Ok(l) => l,
        Err(reason) => return Outcome::Skipped(reason),
    };
    // Touched but identical (checkout, `touch`): keep the tags, refresh the metadata.
    if let Some(prev) = previous
        && prev.hash == loaded.hash
        && prev.tags.lang == cand.lang
    {
        return Outcome::Cached(FileEntry { size: loaded.size, mtime_ns: cand.mtime_ns, ..prev.clone() });
    }
    match ex.extract(cand.lang, &loaded.text) {
        Some(tags) => {
            Outcome::Parsed(FileEntry { size: loaded.size, mtime_ns: cand.mtime_ns, hash: loaded.hash, tags })
        }
        None => Outcome::Skipped(SkipReason::ParseFailed),
    }
}

fn record(
    cand: &Candidate,
    outcome: Outcome,
    files: &mut BTreeMap<PathBuf, FileEntry>,
    skipped: &mut Vec<Skipped>,
    hits: &mut usize,
    misses: &mut usize,
) {
    match outcome {
        Outcome::Cached(e) => {
            *hits += 1;
            files.insert(cand.rel.clone(), e);
        }
        Outcome::Parsed(e) => {
            *misses += 1;
            files.insert(cand.rel.clone(), e);
        }
        Outcome::Skipped(reason) => skipped.push(Skipped { path: cand.rel.clone(), reason }),
    }
}
