//! The reviewer of a headless run. With nobody to ask, it answers what the
//! engine's policy leaves to a person: edits are set aside in one patch file
//! for the user to review (all of them under suggest, those of protected
//! files under the other policies), and commands and other requests for
//! leave are refused. What the engine writes by policy is reported as it
//! happens.

use std::path::{Path, PathBuf};

use super::output::{Event, Outcome, Output, ProposedFile};
use crate::config::Policy;
use crate::engine::{self, Answer, AppliedFile, FileAnswer, Request};
use crate::patch::{ChangeKind, FileChange};

/// What became of a file, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileResult {
    pub path: PathBuf,
    pub outcome: Outcome,
}

pub(crate) struct Reviewer {
    policy: Policy,
    root: PathBuf,
    /// Where the set-aside edits go.
    patch_path: PathBuf,
    gathered: Gathered,
    /// Written at least once.
    pub patch_written: bool,
    /// Files written (or refused) by the policy.
    pub results: Vec<FileResult>,
    /// The run failed although the turn did not: the patch could not be
    /// written (said in an error event when it happened).
    pub failed: bool,
}

impl Reviewer {
    pub fn new(policy: Policy, root: PathBuf, patch_path: PathBuf) -> Self {
        Self {
            policy,
            root,
            patch_path,
            gathered: Gathered::default(),
            patch_written: false,
            results: Vec::new(),
            failed: false,
        }
    }

    pub(crate) fn patch_path(&self) -> &Path {
        &self.patch_path
    }

    /// Files and hunks in the patch.
    pub(crate) fn proposed(&self) -> (usize, usize) {
        (self.gathered.changes.len(), self.gathered.changes.iter().map(|c| c.hunks.len()).sum())
    }

    /// Report one of the engine's review events, and answer it when it asks.
    pub(crate) fn on_event(&mut self, ev: &engine::Event, out: &mut Output) -> Option<(u64, Answer)> {
        match ev {
            engine::Event::Proposed { files, .. } => {
                out.event(&Event::Proposal { files: proposed_files(files), patch: None });
                None
            }
            engine::Event::ApprovalRequested { id, request: Request::Changes { files, protected, policy_accepts } } => {
                Some((*id, Answer::Changes(self.set_aside(files, protected, *policy_accepts, out))))
            }
            engine::Event::ApprovalRequested { id, request: Request::Command { .. } } => {
                let reason = format!(
                    "tandem runs headless under the {} policy, which runs only read-only commands and those [tools] \
                     allow_commands names, and there is nobody to ask. Do without it, or say in your answer which \
                     command the user should run",
                    self.policy.name()
                );
                Some((*id, Answer::Unattended { reason }))
            }
            engine::Event::ApprovalRequested { id, request: Request::Permission(p) } => {
                let reason = format!(
                    "tandem runs headless under the {} policy, which does not give this leave ({}), and there is \
                     nobody to ask. Do without it, or say in your answer what the user should allow",
                    self.policy.name(),
                    p.kind.label
                );
                out.event(&Event::PermissionRefused {
                    kind: p.kind.name.to_string(),
                    title: p.title.clone(),
                    detail: p.detail.clone(),
                    reason: reason.clone(),
                });
                Some((*id, Answer::Unattended { reason }))
            }
            engine::Event::Applied { files, .. } => {
                for f in files.iter().filter(|f| f.outcome != engine::Outcome::SetAside) {
                    self.written(f, out);
                }
                None
            }
            _ => None,
        }
    }

    /// Gather the files nobody can review into the patch file, accept the
    /// others (those the policy accepts), and say so.
    fn set_aside(
        &mut self,
        files: &[FileChange],
        protected: &[Option<String>],
        policy_accepts: bool,
        out: &mut Output,
    ) -> Vec<FileAnswer> {
        let aside: Vec<bool> = protected.iter().map(|p| p.is_some() || !policy_accepts).collect();
        let open: Vec<FileChange> = files.iter().zip(&aside).filter(|(_, a)| !**a).map(|(f, _)| f.clone()).collect();
        if !open.is_empty() {
            out.event(&Event::Proposal { files: proposed_files(&open), patch: None });
        }
        let deferred: Vec<FileChange> = files.iter().zip(&aside).filter(|(_, a)| **a).map(|(f, _)| f.clone()).collect();
        for f in &deferred {
            self.gathered.add(f.clone());
        }
        let written = self.write_patch();
        let patch = self.patch_path.display().to_string();
        out.event(&Event::Proposal { files: proposed_files(&deferred), patch: Some(patch.clone()) });
        if let Err(e) = &written {
            out.event(&Event::Error { message: e.clone() });
            self.failed = true;
        }
        let mut answers = Vec::new();
        for ((f, aside), pattern) in files.iter().zip(&aside).zip(protected) {
            let mut answer = engine::accept_all(f);
            if *aside {
                let (outcome, reason) = match &written {
                    Ok(()) => (Outcome::Proposed, None),
                    Err(e) => (Outcome::Refused, Some(e.clone())),
                };
                let path = f.path.display().to_string();
                out.event(&Event::Decision { path, outcome, reason: reason.clone(), hunks: f.hunks.len() });
                let because = match pattern {
                    Some(p) => format!("the file is protected ({p}): its edits always wait for the user's own review"),
                    None => format!("tandem runs headless under the {} policy", self.policy.name()),
                };
                answer.set_aside = Some(match &reason {
                    None => format!(
                        "{}: NOT applied. {because}: the {} hunk(s) were recorded in a patch for the user to \
                         review, and the file on disk is unchanged. Do not propose them again. Further edits of \
                         this file, made against it as it is on disk, are added to the same patch.",
                        f.path.display(),
                        f.hunks.len()
                    ),
                    Some(e) => format!("{}: NOT applied and NOT recorded: {e}.", f.path.display()),
                });
            }
            answers.push(answer);
        }
        answers
    }

    fn written(&mut self, f: &AppliedFile, out: &mut Output) {
        let outcome = match f.outcome {
            engine::Outcome::Staged => Outcome::Staged,
            engine::Outcome::Written => Outcome::Applied,
            _ => Outcome::Refused,
        };
        let path = f.path.display().to_string();
        out.event(&Event::Decision { path, outcome, reason: f.reason.clone(), hunks: f.hunks.len() });
        self.results.push(FileResult { path: f.path.clone(), outcome });
    }

    fn write_patch(&mut self) -> Result<(), String> {
        let text: String = self
            .gathered
            .changes
            .iter()
            .map(|c| {
                let deleted_mode =
                    (c.kind == ChangeKind::Delete).then(|| crate::git::write::git_mode(&self.root.join(&c.path)));
                crate::patch::unified::render(c, deleted_mode)
            })
            .collect();
        let path = &self.patch_path;
        let fail = |e: std::io::Error| format!("cannot write the patch file {}: {e}", path.display());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        crate::git::write::write_atomic(path, &text, None).map_err(fail)?;
        self.patch_written = true;
        Ok(())
    }
}

fn proposed_files(files: &[FileChange]) -> Vec<ProposedFile> {
    files
        .iter()
        .map(|f| ProposedFile {
            path: f.path.display().to_string(),
            new_path: f.new_path.as_ref().map(|p| p.display().to_string()),
            kind: format!("{:?}", f.kind).to_lowercase(),
            hunks: f.hunks.len(),
        })
        .collect()
}

/// The edits of a suggest run, gathered across rounds into one change per
/// file. Nothing is applied in between, so every round's edits are made
/// against the files as they are on disk: a later edit of a file is laid
/// over the earlier ones where it fits, and replaces them where it does not
/// (the model rewrote what it had proposed).
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    pub changes: Vec<FileChange>,
}

impl Gathered {
    pub(crate) fn add(&mut self, change: FileChange) {
        let Some(i) = self.changes.iter().position(|c| c.path == change.path) else {
            self.changes.push(change);
            return;
        };
        let earlier = &self.changes[i];
        // The file changed on disk between the rounds (a command did it):
        // carry the earlier edits over to it, if they fit.
        let so_far = if earlier.base == change.base {
            earlier.proposed.clone()
        } else {
            earlier.proposed.as_ref().and_then(|_| {
                crate::patch::hunks::apply_hunks(change.base.as_deref().unwrap_or(""), &earlier.hunks).ok()
            })
        };
        let proposed = match (&change.kind, so_far) {
            (ChangeKind::Modify | ChangeKind::Move, Some(text)) => {
                crate::patch::hunks::apply_hunks(&text, &change.hunks).ok().or_else(|| change.proposed.clone())
            }
            _ => change.proposed.clone(),
        };
        let new_path = if change.kind == ChangeKind::Move { change.new_path.clone() } else { earlier.new_path.clone() };
        let merged = FileChange::new(change.path, change.base, proposed, new_path);
        match merged {
            Some(c) => self.changes[i] = c,
            None => {
                self.changes.remove(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modify(path: &str, base: &str, proposed: &str) -> FileChange {
        FileChange::new(path.into(), Some(base.into()), Some(proposed.into()), None).expect("a change")
    }

    const BASE: &str = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n";

    #[test]
    fn later_edits_of_other_lines_join_the_earlier_ones() {
        let mut g = Gathered::default();
        g.add(modify("a.txt", BASE, &BASE.replace("b\n", "B\n")));
        g.add(modify("a.txt", BASE, &BASE.replace("k\n", "K\n")));
        g.add(modify("b.txt", "x\n", "y\n"));
        assert_eq!(g.changes.len(), 2);
        let a = &g.changes[0];
        assert_eq!(a.proposed.as_deref(), Some(BASE.replace("b\n", "B\n").replace("k\n", "K\n").as_str()));
        assert_eq!(a.hunks.len(), 2);
        assert_eq!(a.base.as_deref(), Some(BASE));
    }

    #[test]
    fn a_later_edit_of_the_same_lines_replaces_the_earlier_one_and_undoing_drops_the_file() {
        let mut g = Gathered::default();
        g.add(modify("a.txt", BASE, &BASE.replace("b\n", "B\n")));
        g.add(modify("a.txt", BASE, &BASE.replace("b\n", "beta\n")));
        assert_eq!(g.changes[0].proposed.as_deref(), Some(BASE.replace("b\n", "beta\n").as_str()));
        // Deleting a file proposed for deletion and adding it back.
        g.add(FileChange::new("a.txt".into(), Some(BASE.into()), None, None).expect("delete"));
        assert_eq!(g.changes[0].kind, ChangeKind::Delete);
        g.add(FileChange::new("n.txt".into(), None, Some("new\n".into()), None).expect("add"));
        g.add(FileChange::new("n.txt".into(), None, Some("newer\n".into()), None).expect("add"));
        assert_eq!(g.changes[1].kind, ChangeKind::Add);
        assert_eq!(g.changes[1].proposed.as_deref(), Some("newer\n"));
    }

    fn captured(json: bool) -> (Output, super::super::output::Captured) {
        let out = super::super::output::Captured::default();
        (Output::to(json, Box::new(out.clone()), Box::new(std::io::sink())), out)
    }

    /// A model that edits `a.txt` twice (two rounds) and asks for three
    /// commands, answered by `r` through a real engine in `root`; the tool
    /// results the model got, in order.
    async fn run(r: &mut Reviewer, o: &mut Output, root: &Path, allow: Vec<String>) -> Vec<String> {
        let script = r#"
[[turns]]
tool_calls = [{ name = "write_file", arguments = '{"path": "a.txt", "content": "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"}' }]

[[turns]]
tool_calls = [{ name = "edit_file", arguments = '{"path": "a.txt", "old_text": "k\n", "new_text": "K\n"}' }]

[[turns]]
tool_calls = [
  { name = "run_command", arguments = '{"command": "git status"}' },
  { name = "run_command", arguments = '{"command": "make check"}' },
  { name = "run_command", arguments = '{"command": "rm -rf build"}' },
]

[[turns]]
text = "done"
"#;
        let config = crate::config::built_in();
        let mut setup = crate::engine::Setup::new(&config, root.into(), root.into(), false);
        setup.policy = r.policy;
        setup.allow_commands = allow;
        let provider = crate::llm::scripted::Scripted::from_toml("t", script).expect("script");
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorder = Recorder { inner: provider, requests: requests.clone() };
        let profile = crate::llm::select::Profile {
            name: "script".into(),
            kind: None,
            model: "t".into(),
            context_window: 100_000,
            max_output_tokens: 1000,
            prices: Default::default(),
            available_models: Vec::new(),
        };
        let (engine, mut events) = crate::engine::spawn(setup, std::sync::Arc::new(recorder), profile);
        engine.send(crate::engine::Command::User { text: "go".into() }).expect("send");
        while let Some(ev) = events.recv().await {
            if matches!(ev, crate::engine::Event::Agent(crate::agent::AgentEvent::TurnEnded(_))) {
                break;
            }
            if let Some((id, answer)) = r.on_event(&ev, o) {
                engine.send(crate::engine::Command::Decide { id, answer }).expect("send");
            }
        }
        let requests = requests.lock().expect("requests");
        requests
            .last()
            .map(|req| {
                req.messages
                    .iter()
                    .filter_map(|m| match m {
                        crate::llm::ChatMessage::Tool { content, .. } => Some(content.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    struct Recorder {
        inner: crate::llm::scripted::Scripted,
        requests: std::sync::Arc<std::sync::Mutex<Vec<crate::llm::Request>>>,
    }

    impl crate::llm::Provider for Recorder {
        fn describe(&self) -> String {
            "recorder".into()
        }
        fn stream(
            &self,
            request: crate::llm::Request,
            cancel: tokio_util::sync::CancellationToken,
        ) -> crate::llm::EventStream {
            self.requests.lock().expect("requests").push(request.clone());
            self.inner.stream(request, cancel)
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn suggest_gathers_the_edits_in_the_patch_and_tells_the_model_nothing_was_applied() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("a.txt"), BASE).expect("write");
        let patch = dir.path().join("out").join("run.patch");
        let mut r = Reviewer::new(Policy::Suggest, dir.path().into(), patch.clone());
        let (mut o, out) = captured(true);
        let results = run(&mut r, &mut o, dir.path(), vec!["make check".into()]).await;
        let report = &results[0];
        assert!(report.contains("NOT applied") && report.contains("Do not propose them again"), "{report}");
        assert_eq!(std::fs::read_to_string(dir.path().join("a.txt")).expect("read"), BASE);
        let text = std::fs::read_to_string(&patch).expect("patch");
        assert!(text.contains("+B\n") && text.contains("+K\n"), "{text}");
        assert_eq!(r.proposed(), (1, 2));
        let events: Vec<serde_json::Value> =
            out.text().lines().map(|l| serde_json::from_str(l).expect("json")).collect();
        assert_eq!(events[0]["patch"], patch.display().to_string());
        assert_eq!(events[1]["outcome"], "proposed");

        // git status (read-only) and make check (allowed) ran; rm was refused.
        assert!(!results[2].contains("declined"), "{}", results[2]);
        assert!(!results[3].contains("declined"), "{}", results[3]);
        let refused = &results[4];
        assert!(refused.contains("declined") && refused.contains("suggest policy"), "{refused}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn auto_edit_writes_without_a_patch_and_refuses_commands() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("a.txt");
        let patch = dir.path().join("unused.patch");
        let mut r = Reviewer::new(Policy::AutoEdit, dir.path().into(), patch.clone());
        let (mut o, out) = captured(true);
        std::fs::write(&file, BASE).expect("write");
        let results = run(&mut r, &mut o, dir.path(), Vec::new()).await;
        // Outside git the accepted edits are written, not staged.
        assert!(results[0].contains("1 of 1 hunk(s) accepted"), "{}", results[0]);
        assert_eq!(std::fs::read_to_string(&file).expect("read"), BASE.replace("b\n", "B\n").replace("k\n", "K\n"));
        assert_eq!(r.results.len(), 2);
        assert!(r.results.iter().all(|f| f.outcome == Outcome::Applied), "{:?}", r.results);
        assert!(out.text().contains("\"outcome\":\"applied\""), "{}", out.text());
        assert!(!patch.exists());
        let refused = &results[4];
        assert!(refused.contains("auto-edit policy"), "{refused}");
    }

    #[test]
    fn a_file_the_engine_refused_is_reported_with_its_reason() {
        let dir = tempfile::tempdir().expect("dir");
        let mut r = Reviewer::new(Policy::AutoEdit, dir.path().into(), dir.path().join("p.patch"));
        let (mut o, out) = captured(true);
        let refused = AppliedFile {
            path: "a.txt".into(),
            hunks: vec!["accepted"],
            outcome: engine::Outcome::Refused,
            state: "NOT written: a.txt changed since the proposal".into(),
            reason: Some("a.txt changed since the proposal".into()),
        };
        let ev = engine::Event::Applied { id: 1, files: vec![refused], by_policy: true };
        assert!(r.on_event(&ev, &mut o).is_none());
        assert_eq!(r.results, [FileResult { path: "a.txt".into(), outcome: Outcome::Refused }]);
        assert!(out.text().contains("\"outcome\":\"refused\""), "{}", out.text());
        assert!(out.text().contains("changed since the proposal"), "{}", out.text());
    }

    /// A model that opens two doors with `open_door` (a tool that asks for
    /// leave first), answered by `r` through a real engine in `root`: the
    /// tool results the model got, and what was printed on stdout and stderr.
    async fn run_doors(r: &mut Reviewer, json: bool, root: &Path) -> (Vec<String>, String, String) {
        let script = r#"
[[turns]]
tool_calls = [{ name = "open_door", arguments = '{"door": "front", "detail": "open \u001b]52;c;ZXZpbA==\u0007front\u001b[2J"}' }]

[[turns]]
tool_calls = [{ name = "open_door", arguments = '{"door": "back"}' }]

[[turns]]
text = "done"
"#;
        let config = crate::config::built_in();
        let mut setup = crate::engine::Setup::new(&config, root.into(), root.into(), false);
        setup.policy = r.policy;
        let dir = root.to_path_buf();
        setup.extra_tools.push(std::sync::Arc::new(move |approvals: crate::tools::approval::Approvals| {
            std::sync::Arc::new(crate::tools::test_tools::OpenDoor::new(dir.clone(), std::sync::Arc::new(approvals)))
                as std::sync::Arc<dyn crate::tools::Tool>
        }));
        let provider = crate::llm::scripted::Scripted::from_toml("t", script).expect("script");
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorder = Recorder { inner: provider, requests: requests.clone() };
        let profile = crate::llm::select::Profile {
            name: "script".into(),
            kind: None,
            model: "t".into(),
            context_window: 100_000,
            max_output_tokens: 1000,
            prices: Default::default(),
            available_models: Vec::new(),
        };
        let (out, err) = (super::super::output::Captured::default(), super::super::output::Captured::default());
        let mut o = Output::to(json, Box::new(out.clone()), Box::new(err.clone()));
        let (engine, mut events) = crate::engine::spawn(setup, std::sync::Arc::new(recorder), profile);
        engine.send(crate::engine::Command::User { text: "go".into() }).expect("send");
        while let Some(ev) = events.recv().await {
            if matches!(ev, crate::engine::Event::Agent(crate::agent::AgentEvent::TurnEnded(_))) {
                break;
            }
            if let Some((id, answer)) = r.on_event(&ev, &mut o) {
                engine.send(crate::engine::Command::Decide { id, answer }).expect("send");
            }
        }
        let results = requests
            .lock()
            .expect("requests")
            .last()
            .map(|req| {
                req.messages
                    .iter()
                    .filter_map(|m| match m {
                        crate::llm::ChatMessage::Tool { content, .. } => Some(content.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        (results, out.text(), err.text())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_permission_nobody_can_give_is_refused_with_the_reason_and_reported() {
        let dir = tempfile::tempdir().expect("dir");
        let mut r = Reviewer::new(Policy::AutoEdit, dir.path().into(), dir.path().join("p.patch"));
        let (results, out, _) = run_doors(&mut r, true, dir.path()).await;
        assert!(!dir.path().join("front.open").exists() && !dir.path().join("back.open").exists());
        for (result, door) in results.iter().zip(["front", "back"]) {
            assert!(result.starts_with(&format!("door {door} stays shut: tandem runs headless")), "{result}");
            assert!(result.contains("auto-edit policy") && result.contains("door opening"), "{result}");
        }
        let refused: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
            .filter(|v| v["type"] == "permission_refused")
            .collect();
        assert_eq!(refused.len(), 2, "{out}");
        assert_eq!(refused[0]["kind"], "door");
        assert_eq!(refused[0]["title"], "the model wants to open door `front`");
        // JSON keeps the text exactly, every control escaped.
        assert_eq!(refused[0]["detail"], "open \u{1b}]52;c;ZXZpbA==\u{7}front\u{1b}[2J");
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(refused[1]["reason"].as_str().is_some_and(|r| r.contains("nobody to ask")), "{}", refused[1]);

        // For a person: one line each on stderr, without control sequences.
        let dir = tempfile::tempdir().expect("dir");
        let mut r = Reviewer::new(Policy::Suggest, dir.path().into(), dir.path().join("p.patch"));
        let (_, _, err) = run_doors(&mut r, false, dir.path()).await;
        assert!(err.contains("not allowed, nobody to ask: the model wants to open door `front`"), "{err}");
        assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err:?}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_permission_the_policy_gives_is_not_asked_for() {
        let dir = tempfile::tempdir().expect("dir");
        let mut r = Reviewer::new(Policy::FullAuto, dir.path().into(), dir.path().join("p.patch"));
        let (results, out, _) = run_doors(&mut r, true, dir.path()).await;
        assert_eq!(results, ["door front is open", "door back is open"]);
        assert!(dir.path().join("front.open").exists() && dir.path().join("back.open").exists());
        assert!(!out.contains("permission_refused"), "{out}");
    }

    #[test]
    fn nothing_changed_is_no_change() {
        assert!(FileChange::new("a".into(), Some("x\n".into()), Some("x\n".into()), None).is_none());
        assert!(FileChange::new("a".into(), Some("x\n".into()), Some("x\n".into()), Some("a".into())).is_none());
        let mv = FileChange::new("a".into(), Some("x\n".into()), Some("x\n".into()), Some("b".into())).expect("move");
        assert_eq!(mv.kind, ChangeKind::Move);
    }
}
