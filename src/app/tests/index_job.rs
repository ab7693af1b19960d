use std::time::Duration;

use super::*;
use crate::app::index_job::{IndexEvent, IndexJob};
use crate::index::IndexStats;
use crate::view::state::IndexStatus;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The next event of the index job.
fn next(rt: &tokio::runtime::Runtime, rig: &mut Rig) -> IndexEvent {
    match rt.block_on(rig.next_event()) {
        AppEvent::Index(ev) => ev,
        _ => panic!("an event of the index job"),
    }
}

#[test]
fn a_disabled_index_is_not_built() {
    let mut rig = Rig::new();
    let mut job = IndexJob::default();
    rig.state.config.index.enabled = false;
    job.start(&mut rig.cx());
    assert_eq!(rig.state.index.status, IndexStatus::Disabled);
    assert!(rig.rx.try_recv().is_err(), "no work was started");
}

#[test]
fn a_build_reports_progress_then_the_index_is_ready_for_the_engine() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("lib.rs"), "pub fn answer() -> u32 { 42 }\n").expect("write");
    let rt = runtime();
    let _guard = rt.enter();
    let mut rig = Rig::new();
    rig.state = state_in(dir.path().to_path_buf());
    let mut job = IndexJob::default();
    job.start(&mut rig.cx());
    assert_eq!(rig.state.index.status, IndexStatus::Building { done: 0, total: 0 });
    loop {
        match next(&rt, &mut rig) {
            ev @ IndexEvent::Progress { .. } => job.on_event(&mut rig.cx(), ev),
            ev @ IndexEvent::Ready(_) => {
                job.on_event(&mut rig.cx(), ev);
                break;
            }
            _ => panic!("only progress before the index is ready"),
        }
    }
    let IndexStatus::Ready { files, definitions, .. } = rig.state.index.status else {
        panic!("ready: {:?}", rig.state.index.status)
    };
    assert_eq!(files, 1);
    assert!(definitions >= 1, "`answer` is a definition");
    let shared = job.shared();
    assert!(shared.read().expect("lock").is_some(), "the engine's handle sees the built index");
}

#[test]
fn a_failed_build_says_the_model_works_without_it() {
    let mut rig = Rig::new();
    let mut job = IndexJob::default();
    job.on_event(&mut rig.cx(), IndexEvent::Progress { done: 250, total: 1000 });
    assert_eq!(rig.state.index.status, IndexStatus::Building { done: 250, total: 1000 });
    job.on_event(&mut rig.cx(), IndexEvent::Ready(Err("disk on fire".into())));
    assert_eq!(rig.state.index.status, IndexStatus::Failed("disk on fire".into()));
    assert_eq!(
        rig.last(),
        Some((Role::Error, "The repository index could not be built: disk on fire. The model works without it."))
    );
}

#[test]
fn changed_files_wait_for_the_update_running_then_go_in_the_next() {
    let rt = runtime();
    let _guard = rt.enter();
    let mut rig = Rig::new();
    let mut job = IndexJob::default();
    rig.state.index.status = IndexStatus::Ready { files: 10, definitions: 5, references: 2, seconds: 1.5 };
    job.on_event(&mut rig.cx(), IndexEvent::FilesChanged(vec!["a.rs".into()]));
    assert!(job.busy(), "an update runs");
    job.on_event(&mut rig.cx(), IndexEvent::FilesChanged(vec!["b.rs".into(), "b.rs".into()]));
    let stats = IndexStats { definitions: 6, references: 3, ..IndexStats::default() };
    let updated = |files| IndexEvent::Updated { stats: stats.clone(), files, elapsed: Duration::from_millis(4) };
    job.on_event(&mut rig.cx(), updated(1));
    assert_eq!(rig.state.index.last_update, Some((1, 4.0)));
    let IndexStatus::Ready { definitions, seconds, .. } = rig.state.index.status else { panic!("ready") };
    assert_eq!((definitions, seconds), (6, 1.5), "the figures change; the build time stays");
    assert!(job.busy(), "the file that waited went into the next round");
    job.on_event(&mut rig.cx(), updated(1));
    assert!(!job.busy(), "nothing was left");
}
