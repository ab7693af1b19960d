//! The reviewer of a headless run. With nobody to ask, the policy answers
//! the tools' requests: under suggest the edits are gathered into one patch
//! file and nothing is written; under auto-edit and full-auto they are
//! written and staged through `git::apply`, as the app's `Enter` does.
//! Commands run when the policy or the configured prefixes allow them.

use std::path::{Path, PathBuf};

use super::output::{Event, Outcome, Output, ProposedFile};
use crate::config::Policy;
use crate::git::{Approved, FileOutcome};
use crate::patch::{ChangeKind, FileChange};
use crate::session::audit::{AuditLog, HunkRecord, Record};
use crate::tools::approval::{Approval, FileVerdict, command_allowed, hunk_line};
use crate::tools::protected::Protected;

/// Why edits were recorded in the patch file instead of being written.
enum Deferred {
    Suggest,
    Protected,
}

/// What became of a file, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileResult {
    pub path: PathBuf,
    pub outcome: Outcome,
}

pub struct Reviewer {
    policy: Policy,
    root: PathBuf,
    allow_commands: Vec<String>,
    /// Files whose edits wait for the user whatever the policy: into the
    /// patch file, never written.
    protected: Protected,
    audit: Option<AuditLog>,
    /// Where the suggest policy's patch goes.
    patch_path: PathBuf,
    gathered: Gathered,
    /// Written at least once.
    pub patch_written: bool,
    /// Files written (or refused) under auto-edit and full-auto.
    pub results: Vec<FileResult>,
    /// The run failed although the turn did not: the patch could not be
    /// written (said in an error event when it happened).
    pub failed: bool,
}

impl Reviewer {
    pub fn new(
        policy: Policy,
        root: PathBuf,
        allow_commands: Vec<String>,
        audit: Option<AuditLog>,
        patch_path: PathBuf,
    ) -> Self {
        Self {
            policy,
            root,
            allow_commands,
            protected: Protected::default(),
            audit,
            patch_path,
            gathered: Gathered::default(),
            patch_written: false,
            results: Vec::new(),
            failed: false,
        }
    }

    /// Protect these files as well as `.tandem/`.
    pub fn with_protected(mut self, protected: Protected) -> Self {
        self.protected = protected;
        self
    }

    pub fn patch_path(&self) -> &Path {
        &self.patch_path
    }

    /// Files and hunks in the patch.
    pub fn proposed(&self) -> (usize, usize) {
        (self.gathered.changes.len(), self.gathered.changes.iter().map(|c| c.hunks.len()).sum())
    }

    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    fn audit(&self, rec: Record) {
        if let Some(log) = &self.audit {
            log.record(rec);
        }
    }

    /// Answer one request from the tools.
    pub async fn handle(&mut self, req: Approval, out: &mut Output) {
        match req {
            Approval::Review { files, reply } => {
                for f in &files {
                    self.audit(Record::proposal(f, self.policy));
                }
                let verdicts = if self.policy == Policy::Suggest {
                    self.propose(files, out, &Deferred::Suggest)
                } else {
                    let (protected, open): (Vec<FileChange>, Vec<FileChange>) =
                        files.into_iter().partition(|f| self.protected.change(f).is_some());
                    let mut verdicts = if open.is_empty() { Vec::new() } else { self.apply(open, out).await };
                    if !protected.is_empty() {
                        verdicts.extend(self.propose(protected, out, &Deferred::Protected));
                    }
                    verdicts
                };
                let _ = reply.send(verdicts);
            }
            Approval::Command { command, reply } => {
                let _ = reply.send(self.command(&command));
            }
        }
    }

    fn command(&self, command: &str) -> Result<(), String> {
        let (rec, answer) = match command_allowed(self.policy, command, &self.root, &self.allow_commands) {
            Some(why) => (Record::command_allowed(self.policy, why, command), Ok(())),
            None => {
                let rec = Record::command(self.policy, format!("refused (nobody to ask in tandem exec): {command}"));
                let why = format!(
                    "tandem runs headless under the {} policy, which runs only read-only commands and those \
                     [tools] allow_commands names, and there is nobody to ask. Do without it, or say in your \
                     answer which command the user should run",
                    self.policy.name()
                );
                (rec, Err(why))
            }
        };
        self.audit(rec);
        answer
    }

    /// Gather the edits into the patch file, write nothing else: all of them
    /// under suggest, those of protected files under the other policies.
    fn propose(&mut self, files: Vec<FileChange>, out: &mut Output, why: &Deferred) -> Vec<FileVerdict> {
        for f in &files {
            self.gathered.add(f.clone());
        }
        let written = self.write_patch();
        let patch = self.patch_path.display().to_string();
        out.event(&Event::Proposal { files: proposed_files(&files), patch: Some(patch.clone()) });
        if let Err(e) = &written {
            out.event(&Event::Error { message: e.clone() });
            self.failed = true;
        }
        let mut verdicts = Vec::new();
        for f in &files {
            let (outcome, reason) = match &written {
                Ok(()) => (Outcome::Proposed, None),
                Err(e) => (Outcome::Refused, Some(e.clone())),
            };
            let path = f.path.display().to_string();
            out.event(&Event::Decision { path, outcome, reason: reason.clone(), hunks: f.hunks.len() });
            let note = format!("left for review in {patch}");
            let deferred = f.hunks.iter().map(|h| HunkRecord::new(h, "deferred", Some(note.clone()))).collect();
            self.audit(Record::decision(self.policy, &f.path, deferred));
            let because = match why {
                Deferred::Suggest => "tandem runs headless under the suggest policy".to_string(),
                Deferred::Protected => format!(
                    "the file is protected ({}): its edits always wait for the user's own review",
                    self.protected.change(f).unwrap_or(".tandem/**")
                ),
            };
            let report = match &reason {
                None => format!(
                    "{}: NOT applied. {because}: the {} hunk(s) were recorded in a patch for the user to review, \
                     and the file on disk is unchanged. Do not propose them again. Further edits of this file, \
                     made against it as it is on disk, are added to the same patch.",
                    f.path.display(),
                    f.hunks.len()
                ),
                Some(e) => format!("{}: NOT applied and NOT recorded: {e}.", f.path.display()),
            };
            verdicts.push(FileVerdict { path: f.path.clone(), report });
        }
        verdicts
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

    /// Auto-edit and full-auto: accept every hunk, write and stage.
    async fn apply(&mut self, files: Vec<FileChange>, out: &mut Output) -> Vec<FileVerdict> {
        out.event(&Event::Proposal { files: proposed_files(&files), patch: None });
        let approved: Vec<Approved> =
            files.iter().map(|f| Approved { change: f.clone(), hunks: f.hunks.clone() }).collect();
        let root = self.root.clone();
        let report = tokio::task::spawn_blocking(move || crate::git::apply(&root, &approved)).await;
        let report = report.unwrap_or_else(|e| {
            let message = Some(format!("writing the files failed: {e}"));
            let files = files
                .iter()
                .map(|f| FileOutcome { path: f.path.clone(), written: false, staged: false, message: message.clone() })
                .collect();
            crate::git::ApplyReport { files, ..Default::default() }
        });
        let mut verdicts = Vec::new();
        for f in &files {
            let found = report.files.iter().find(|o| o.path == f.path);
            let state = FileOutcome::describe(found);
            let outcome = match found {
                Some(o) if o.written && o.staged => Outcome::Staged,
                Some(o) if o.written => Outcome::Applied,
                _ => Outcome::Refused,
            };
            let reason = found.and_then(|o| o.message.clone());
            let path = f.path.display().to_string();
            out.event(&Event::Decision { path, outcome, reason, hunks: f.hunks.len() });
            let accepted = f.hunks.iter().map(|h| HunkRecord::new(h, "accepted", None)).collect();
            self.audit(Record::decision(self.policy, &f.path, accepted));
            self.audit(Record::applied(self.policy, &f.path, state.clone()));
            let lines: Vec<String> = f.hunks.iter().enumerate().map(|(i, h)| hunk_line(i, h, "accepted")).collect();
            verdicts.push(FileVerdict::new(f.path.clone(), f.hunks.len(), &lines, &state));
            self.results.push(FileResult { path: f.path.clone(), outcome });
        }
        verdicts
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
pub struct Gathered {
    pub changes: Vec<FileChange>,
}

impl Gathered {
    pub fn add(&mut self, change: FileChange) {
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

    async fn review(r: &mut Reviewer, o: &mut Output, files: Vec<FileChange>) -> Vec<FileVerdict> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        r.handle(Approval::Review { files, reply }, o).await;
        answer.await.expect("verdicts")
    }

    async fn command(r: &mut Reviewer, o: &mut Output, command: &str) -> Result<(), String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        r.handle(Approval::Command { command: command.into(), reply }, o).await;
        answer.await.expect("answer")
    }

    #[tokio::test(flavor = "current_thread")]
    async fn suggest_gathers_the_edits_in_the_patch_and_tells_the_model_nothing_was_applied() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("a.txt"), BASE).expect("write");
        let patch = dir.path().join("out").join("run.patch");
        let mut r = Reviewer::new(Policy::Suggest, dir.path().into(), vec!["make check".into()], None, patch.clone());
        let (mut o, out) = captured(true);
        let verdicts = review(&mut r, &mut o, vec![modify("a.txt", BASE, &BASE.replace("b\n", "B\n"))]).await;
        let report = &verdicts[0].report;
        assert!(report.contains("NOT applied") && report.contains("Do not propose them again"), "{report}");
        review(&mut r, &mut o, vec![modify("a.txt", BASE, &BASE.replace("k\n", "K\n"))]).await;
        assert_eq!(std::fs::read_to_string(dir.path().join("a.txt")).expect("read"), BASE);
        let text = std::fs::read_to_string(&patch).expect("patch");
        assert!(text.contains("+B\n") && text.contains("+K\n"), "{text}");
        assert_eq!(r.proposed(), (1, 2));
        let events: Vec<serde_json::Value> =
            out.text().lines().map(|l| serde_json::from_str(l).expect("json")).collect();
        assert_eq!(events[0]["patch"], patch.display().to_string());
        assert_eq!(events[1]["outcome"], "proposed");

        assert_eq!(command(&mut r, &mut o, "git status").await, Ok(()));
        assert_eq!(command(&mut r, &mut o, "make check").await, Ok(()));
        let refused = command(&mut r, &mut o, "rm -rf build").await.expect_err("refused");
        assert!(refused.contains("suggest policy"), "{refused}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn auto_edit_refuses_a_file_that_changed_under_the_proposal() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("a.txt");
        let patch = dir.path().join("unused.patch");
        let mut r = Reviewer::new(Policy::AutoEdit, dir.path().into(), Vec::new(), None, patch.clone());
        let (mut o, out) = captured(true);
        std::fs::write(&file, BASE.replace("b\n", "beta\n")).expect("write");
        let verdicts = review(&mut r, &mut o, vec![modify("a.txt", BASE, &BASE.replace("b\n", "B\n"))]).await;
        assert!(verdicts[0].report.contains("NOT written"), "{}", verdicts[0].report);
        assert_eq!(std::fs::read_to_string(&file).expect("read"), BASE.replace("b\n", "beta\n"));
        assert_eq!(r.results, [FileResult { path: "a.txt".into(), outcome: Outcome::Refused }]);
        assert!(out.text().contains("\"outcome\":\"refused\""), "{}", out.text());
        // Outside git the accepted edit is written, not staged.
        std::fs::write(&file, BASE).expect("write");
        let verdicts = review(&mut r, &mut o, vec![modify("a.txt", BASE, &BASE.replace("b\n", "B\n"))]).await;
        assert!(verdicts[0].report.contains("1 of 1 hunk(s) accepted"), "{}", verdicts[0].report);
        assert_eq!(std::fs::read_to_string(&file).expect("read"), BASE.replace("b\n", "B\n"));
        assert_eq!(r.results[1].outcome, Outcome::Applied);
        assert!(!patch.exists());
        let refused = command(&mut r, &mut o, "rm -rf build").await.expect_err("refused");
        assert!(refused.contains("auto-edit policy"), "{refused}");
    }

    #[test]
    fn nothing_changed_is_no_change() {
        assert!(FileChange::new("a".into(), Some("x\n".into()), Some("x\n".into()), None).is_none());
        assert!(FileChange::new("a".into(), Some("x\n".into()), Some("x\n".into()), Some("a".into())).is_none());
        let mv = FileChange::new("a".into(), Some("x\n".into()), Some("x\n".into()), Some("b".into())).expect("move");
        assert_eq!(mv.kind, ChangeKind::Move);
    }
}
