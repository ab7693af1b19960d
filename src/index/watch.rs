//! Watching the repository for changed files, so the index (and the next
//! map) follow the user's edits.
//!
//! The debouncing is a few lines here rather than a debouncer crate: the
//! index wants only "these paths changed" in batches, not event kinds.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher};

use super::{IgnoreRules, IndexError, TANDEM_IGNORE};

/// Changes are gathered until the files have been quiet this long: an
/// editor's save or a `git checkout` arrives as one batch.
const QUIET: Duration = Duration::from_millis(150);

/// Keeps the watch running; dropping it stops the watch.
pub struct WatchHandle {
    _watcher: notify::RecommendedWatcher,
}

/// Whether a changed path matters to the index: inside the root, not under
/// `.git/`, not ignored by the ignore files on its way from the root. The
/// rules are read as the walk reads them, so a FIFO named `.gitignore`
/// cannot stall the watcher; the index's update refuses special files.
fn wanted(root: &Path, rules: &IgnoreRules, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else { return false };
    if rel.components().next().is_some_and(|c| c.as_os_str().eq_ignore_ascii_case(".git")) {
        return false;
    }
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    !rules.is_ignored_or_any_parent(path, is_dir)
}

/// Watch `root` recursively and call `on_change` with each batch of changed
/// paths (absolute, deduplicated), from a thread of its own.
pub fn watch(root: &Path, on_change: impl Fn(Vec<PathBuf>) + Send + 'static) -> Result<WatchHandle, IndexError> {
    let root = root.to_path_buf();
    let err = |e: notify::Error| IndexError::Watch { path: root.clone(), reason: e.to_string() };
    let (raw_tx, raw_rx) = mpsc::channel::<Vec<PathBuf>>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
        // Reads show up as access events (and atime updates as metadata
        // changes); the index's own walk would otherwise wake it again and
        // again. Only changes to content matter.
        Ok(ev) if matches!(ev.kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))) => {}
        Ok(ev) => {
            let _ = raw_tx.send(ev.paths);
        }
        Err(e) => tracing::warn!("file watcher: {e}"),
    })
    .map_err(err)?;
    watcher.watch(&root, RecursiveMode::Recursive).map_err(err)?;
    let rules = IgnoreRules::new(&root, &[TANDEM_IGNORE]);
    std::thread::Builder::new()
        .name("tandem-watch".into())
        .spawn(move || {
            // Ends when the watcher is dropped and its channel closes.
            while let Ok(first) = raw_rx.recv() {
                let mut batch = first;
                while let Ok(more) = raw_rx.recv_timeout(QUIET) {
                    batch.extend(more);
                }
                batch.sort();
                batch.dedup();
                batch.retain(|p| wanted(&root, &rules, p));
                if !batch.is_empty() {
                    on_change(batch);
                }
            }
        })
        .map_err(|e| IndexError::Io { path: PathBuf::from("<watch thread>"), source: e })?;
    Ok(WatchHandle { _watcher: watcher })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changed_files_but_not_git_or_ignored_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canon");
        std::fs::create_dir_all(root.join(".git")).expect("mkdir");
        std::fs::create_dir_all(root.join("target")).expect("mkdir");
        std::fs::write(root.join(".gitignore"), "/target\n").expect("write");
        let (tx, rx) = mpsc::channel();
        let _h = watch(&root, move |paths| {
            let _ = tx.send(paths);
        })
        .expect("watch");
        std::fs::write(root.join(".git/index"), "x").expect("write");
        std::fs::write(root.join("target/out.rs"), "x").expect("write");
        std::fs::write(root.join("lib.rs"), "fn a() {}").expect("write");
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !seen.contains(&root.join("lib.rs")) && std::time::Instant::now() < deadline {
            if let Ok(batch) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.extend(batch);
            }
        }
        assert!(seen.contains(&root.join("lib.rs")), "{seen:?}");
        assert!(
            seen.iter().all(|p| !p.starts_with(root.join(".git")) && !p.starts_with(root.join("target"))),
            "{seen:?}"
        );
    }
}
