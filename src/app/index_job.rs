//! Building the repository index in the background from start-up: the app is
//! usable at once, the status line shows the progress, and the agent maps
//! the index once it is there.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{App, AppEvent};
use crate::view::state::IndexStatus;

/// How often, in files, the build reports progress.
const PROGRESS_EVERY: usize = 250;

impl App {
    /// Start indexing the repository after the first frame, on threads of
    /// its own.
    pub fn start_index(&mut self) {
        let cfg = &self.state.config.index;
        if !cfg.enabled {
            self.state.index.status = IndexStatus::Disabled;
            return;
        }
        let opts = crate::index::IndexOptions::from_config(&self.state.repo.root, cfg, self.index_cache.clone());
        let shared = self.index.clone();
        let tx = self.tx.clone();
        self.index_started = Some(Instant::now());
        self.state.index.status = IndexStatus::Building { done: 0, total: 0 };
        tokio::spawn(async move {
            // Spawned tasks first run after the loop has drawn, so the walk
            // never competes with the first frame.
            tokio::task::spawn_blocking(move || {
                let progress = |done: usize, total: usize| {
                    if done.is_multiple_of(PROGRESS_EVERY) || done == total {
                        let _ = tx.send(AppEvent::IndexProgress { done, total });
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
                let _ = tx.send(AppEvent::IndexReady(outcome));
            });
        });
    }

    pub(super) fn index_progress(&mut self, done: usize, total: usize) {
        self.state.index.status = IndexStatus::Building { done, total };
        if let Some(started) = self.index_started {
            let secs = started.elapsed().as_secs_f64();
            if secs > 0.0 {
                self.state.index.files_per_sec = (done as f64 / secs) as u64;
            }
        }
    }

    pub(super) fn index_ready(&mut self, outcome: Result<crate::index::IndexStats, String>) {
        let secs = self.index_started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        match outcome {
            Ok(stats) => {
                self.start_watcher();
                let files = stats.files();
                if secs > 0.0 {
                    self.state.index.files_per_sec = (files as f64 / secs) as u64;
                }
                self.state.index.status = IndexStatus::Ready {
                    files,
                    definitions: stats.definitions,
                    references: stats.references,
                    seconds: secs,
                };
            }
            Err(e) => {
                self.state.index.status = IndexStatus::Failed(e.clone());
                self.state.error(format!("The repository index could not be built: {e}. The model works without it."));
            }
        }
    }
}

impl App {
    /// Follow the user's edits: changed files go to `Index::update`.
    fn start_watcher(&mut self) {
        let tx = self.tx.clone();
        match crate::index::watch(&self.state.repo.root, move |paths| {
            let _ = tx.send(AppEvent::FilesChanged(paths));
        }) {
            Ok(handle) => self.watcher = Some(handle),
            // The index still works; it just stays as it was built.
            Err(e) => tracing::warn!("{e}"),
        }
    }

    pub(super) fn files_changed(&mut self, paths: Vec<PathBuf>) {
        self.pending_changes.extend(paths);
        if !self.index_updating {
            self.update_index();
        }
    }

    /// Re-index the changed files off the UI thread. Changes that arrive
    /// meanwhile wait for the next round.
    fn update_index(&mut self) {
        if self.pending_changes.is_empty() {
            return;
        }
        let mut changed = std::mem::take(&mut self.pending_changes);
        changed.sort();
        changed.dedup();
        self.index_updating = true;
        let shared = self.index.clone();
        let tx = self.tx.clone();
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
            let _ = tx.send(AppEvent::IndexUpdated { stats, files: changed.len(), elapsed });
        });
    }

    pub(super) fn index_updated(&mut self, stats: crate::index::IndexStats, files: usize, elapsed: Duration) {
        self.index_updating = false;
        if let IndexStatus::Ready { seconds, .. } = self.state.index.status {
            self.state.index.status = IndexStatus::Ready {
                files: stats.files(),
                definitions: stats.definitions,
                references: stats.references,
                seconds,
            };
        }
        self.state.index.last_update = Some((files, elapsed.as_secs_f64() * 1000.0));
        self.update_index();
    }
}
