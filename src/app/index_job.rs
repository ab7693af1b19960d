//! The index job: building the repository index in the background from
//! start-up (the app is usable at once, the status line shows the
//! progress, and the engine maps the index once it is there), then following
//! the user's edits with a file watcher and updating the index off the loop.
//!
//! It owns the shared index, its cache file, the watcher and the queue of
//! changed files. It answers [`IndexEvent`]s; it takes no keys.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::AppEvent;
use super::cx::Cx;
use crate::index::{IndexStats, SharedIndex};
use crate::view::state::IndexStatus;

/// How often, in files, the build reports progress.
const PROGRESS_EVERY: usize = 250;

/// What the index's background work reports.
#[derive(Debug)]
pub(crate) enum IndexEvent {
    Progress {
        done: usize,
        total: usize,
    },
    /// The index is built (and in the shared slot), or why not.
    Ready(Result<IndexStats, String>),
    /// Files changed on disk (from the watcher).
    FilesChanged(Vec<PathBuf>),
    /// The index took in changed files.
    Updated {
        stats: IndexStats,
        files: usize,
        elapsed: Duration,
    },
}

impl From<IndexEvent> for AppEvent {
    fn from(ev: IndexEvent) -> Self {
        AppEvent::Index(ev)
    }
}

#[derive(Default)]
pub(crate) struct IndexJob {
    /// The repository index, once built; the engine maps it.
    index: SharedIndex,
    /// Where the index is cached between runs.
    cache: Option<PathBuf>,
    started: Option<Instant>,
    watcher: Option<crate::index::WatchHandle>,
    updating: bool,
    pending: Vec<PathBuf>,
}

impl IndexJob {
    /// The index the engine reads, built or not.
    pub(crate) fn shared(&self) -> SharedIndex {
        self.index.clone()
    }

    pub(crate) fn set_cache(&mut self, cache: Option<PathBuf>) {
        self.cache = cache;
    }

    /// Changed files are being taken in.
    pub fn busy(&self) -> bool {
        self.updating
    }

    /// Start indexing the repository after the first frame, on threads of
    /// its own.
    pub(crate) fn start(&mut self, cx: &mut Cx) {
        let cfg = &cx.state.config.index;
        if !cfg.enabled {
            cx.state.index.status = IndexStatus::Disabled;
            return;
        }
        let opts = crate::index::IndexOptions::from_config(&cx.state.repo.root, cfg, self.cache.clone());
        let shared = self.index.clone();
        let tx = cx.sender();
        self.started = Some(Instant::now());
        cx.state.index.status = IndexStatus::Building { done: 0, total: 0 };
        tokio::spawn(async move {
            // Spawned tasks first run after the loop has drawn, so the walk
            // never competes with the first frame.
            tokio::task::spawn_blocking(move || {
                let progress = |done: usize, total: usize| {
                    if done.is_multiple_of(PROGRESS_EVERY) || done == total {
                        let _ = tx.send(IndexEvent::Progress { done, total }.into());
                    }
                };
                let result = crate::index::Index::build_and_save(&opts, &progress);
                let outcome = match result {
                    Ok((index, _)) => {
                        let stats = index.stats();
                        if let Ok(mut slot) = shared.write() {
                            *slot = Some(index);
                        }
                        Ok(stats)
                    }
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(IndexEvent::Ready(outcome).into());
            });
        });
    }

    pub(crate) fn on_event(&mut self, cx: &mut Cx, ev: IndexEvent) {
        match ev {
            IndexEvent::Progress { done, total } => self.progress(cx, done, total),
            IndexEvent::Ready(outcome) => self.ready(cx, outcome),
            IndexEvent::FilesChanged(paths) => {
                self.pending.extend(paths);
                if !self.updating {
                    self.update(cx);
                }
            }
            IndexEvent::Updated { stats, files, elapsed } => self.updated(cx, stats, files, elapsed),
        }
    }

    fn progress(&mut self, cx: &mut Cx, done: usize, total: usize) {
        cx.state.index.status = IndexStatus::Building { done, total };
        if let Some(started) = self.started {
            let secs = started.elapsed().as_secs_f64();
            if secs > 0.0 {
                cx.state.index.files_per_sec = (done as f64 / secs) as u64;
            }
        }
    }

    fn ready(&mut self, cx: &mut Cx, outcome: Result<IndexStats, String>) {
        let secs = self.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        match outcome {
            Ok(stats) => {
                self.watch(cx);
                let files = stats.files();
                if secs > 0.0 {
                    cx.state.index.files_per_sec = (files as f64 / secs) as u64;
                }
                cx.state.index.status = IndexStatus::Ready {
                    files,
                    definitions: stats.definitions,
                    references: stats.references,
                    seconds: secs,
                };
            }
            Err(e) => {
                cx.state.index.status = IndexStatus::Failed(e.clone());
                cx.state.error(format!("The repository index could not be built: {e}. The model works without it."));
            }
        }
    }

    /// Follow the user's edits: changed files go to `Index::update`.
    fn watch(&mut self, cx: &mut Cx) {
        let tx = cx.sender();
        match crate::index::watch(&cx.state.repo.root, move |paths| {
            let _ = tx.send(IndexEvent::FilesChanged(paths).into());
        }) {
            Ok(handle) => self.watcher = Some(handle),
            // The index still works; it just stays as it was built.
            Err(e) => tracing::warn!("{e}"),
        }
    }

    /// Re-index the changed files off the UI thread. Changes that arrive
    /// meanwhile wait for the next round.
    fn update(&mut self, cx: &mut Cx) {
        if self.pending.is_empty() {
            return;
        }
        let mut changed = std::mem::take(&mut self.pending);
        changed.sort();
        changed.dedup();
        self.updating = true;
        let shared = self.index.clone();
        let tx = cx.sender();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let Ok(mut guard) = shared.write() else { return };
            let Some(index) = guard.as_mut() else { return };
            index.update(&changed);
            let stats = index.stats();
            let elapsed = started.elapsed();
            if let Err(e) = index.save_cache() {
                tracing::warn!("cannot save the index cache: {e}");
            }
            let _ = tx.send(IndexEvent::Updated { stats, files: changed.len(), elapsed }.into());
        });
    }

    fn updated(&mut self, cx: &mut Cx, stats: IndexStats, files: usize, elapsed: Duration) {
        self.updating = false;
        if let IndexStatus::Ready { seconds, .. } = cx.state.index.status {
            cx.state.index.status = IndexStatus::Ready {
                files: stats.files(),
                definitions: stats.definitions,
                references: stats.references,
                seconds,
            };
        }
        cx.state.index.last_update = Some((files, elapsed.as_secs_f64() * 1000.0));
        self.update(cx);
    }
}
