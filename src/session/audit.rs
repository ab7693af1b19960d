//! The audit log: every proposal and every decision on it, appended as one
//! JSON object per line to `audit.jsonl` in the session directory. Written
//! by a thread of its own, so the event loop never waits on the disk.

use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HunkRecord {
    pub hash: String,
    pub header: String,
    /// `proposed`, `accepted`, `rejected`, `edited`, or `deferred` (left
    /// for the user in a patch file by `tandem exec` under suggest).
    pub decision: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl HunkRecord {
    pub fn new(h: &crate::patch::Hunk, decision: &str, reason: Option<String>) -> Self {
        Self {
            hash: crate::patch::hunks::hunk_hash(h),
            header: crate::patch::hunks::header(h),
            decision: decision.into(),
            reason,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Record {
    pub time: String,
    /// `proposal`, `decision`, `applied`, `undo`, `command`.
    pub event: String,
    pub policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hunks: Vec<HunkRecord>,
    /// What happened, in words: a command, an outcome, an error.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Record {
    pub fn new(event: &str, policy: crate::config::Policy) -> Self {
        Self {
            time: super::utc_now(),
            event: event.into(),
            policy: policy.name().into(),
            file: None,
            hunks: Vec::new(),
            detail: String::new(),
        }
    }

    /// A file's change proposed for review, each hunk `proposed`.
    pub(crate) fn proposal(change: &crate::patch::FileChange, policy: crate::config::Policy) -> Self {
        let mut rec = Self::new("proposal", policy);
        rec.file = Some(change.path.display().to_string());
        rec.hunks = change.hunks.iter().map(|h| HunkRecord::new(h, "proposed", None)).collect();
        rec.detail = format!("{:?}", change.kind).to_lowercase();
        rec
    }

    /// The decision on each hunk of a file's change.
    pub(crate) fn decision(policy: crate::config::Policy, path: &Path, hunks: Vec<HunkRecord>) -> Self {
        let mut rec = Self::new("decision", policy);
        rec.file = Some(path.display().to_string());
        rec.hunks = hunks;
        rec
    }

    /// A command request and what became of it.
    pub fn command(policy: crate::config::Policy, detail: impl Into<String>) -> Self {
        let mut rec = Self::new("command", policy);
        rec.detail = detail.into();
        rec
    }

    /// A command run without asking, and why it could be (`read-only`, a
    /// configured prefix, the policy).
    pub fn command_allowed(policy: crate::config::Policy, why: &str, command: &str) -> Self {
        Self::command(policy, format!("allowed ({why}): {command}"))
    }

    /// What writing and staging a file's accepted hunks came to.
    pub(crate) fn applied(policy: crate::config::Policy, path: &Path, state: impl Into<String>) -> Self {
        let mut rec = Self::new("applied", policy);
        rec.file = Some(path.display().to_string());
        rec.detail = state.into();
        rec
    }
}

/// The audit log's handle; dropping every clone ends its writer thread.
#[derive(Clone)]
pub struct AuditLog {
    out: super::appender::Appender<Record>,
}

impl AuditLog {
    /// Append to `dir/audit.jsonl`; the directory and file are made with
    /// the first record. Failures to write are logged, once.
    pub fn open(dir: &Path) -> Self {
        Self { out: super::appender::Appender::open(dir.join("audit.jsonl"), "audit log") }
    }

    pub fn record(&self, rec: Record) {
        self.out.send(rec);
    }

    /// Wait (up to `limit`) until every record sent so far is written: for
    /// a process about to exit, whose writer thread would die with it.
    pub fn flush(&self, limit: std::time::Duration) {
        self.out.flush(limit);
    }

    pub fn path(&self) -> &Path {
        self.out.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_appended_as_json_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let log = AuditLog::open(&dir.path().join("sessions").join("s1"));
        let mut rec = Record::new("decision", crate::config::Policy::Suggest);
        rec.file = Some("src/a.rs".into());
        rec.hunks.push(HunkRecord {
            hash: "abc".into(),
            header: "@@ -1 +1 @@".into(),
            decision: "rejected".into(),
            reason: Some("keep the name".into()),
        });
        log.record(rec);
        log.record(Record::new("undo", crate::config::Policy::AutoEdit));
        let path = log.path().to_path_buf();
        drop(log);
        let mut text = String::new();
        for _ in 0..200 {
            text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.lines().count() == 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "decision");
        assert_eq!(lines[0]["policy"], "suggest");
        assert_eq!(lines[0]["file"], "src/a.rs");
        assert_eq!(lines[0]["hunks"][0]["reason"], "keep the name");
        assert_eq!(lines[1]["policy"], "auto-edit");
        assert!(lines[1]["time"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20));
    }

    #[test]
    fn the_shared_records_say_what_the_app_and_exec_both_record() {
        use crate::config::Policy;
        let change = crate::patch::FileChange {
            path: "src/a.rs".into(),
            new_path: None,
            kind: crate::patch::ChangeKind::Modify,
            base: Some("a\n".into()),
            proposed: Some("b\n".into()),
            hunks: crate::patch::hunks::hunks("a\n", "b\n"),
        };
        let rec = Record::proposal(&change, Policy::Suggest);
        assert_eq!(
            (rec.event.as_str(), rec.file.as_deref(), rec.detail.as_str()),
            ("proposal", Some("src/a.rs"), "modify")
        );
        assert!(rec.hunks.len() == 1 && rec.hunks[0].decision == "proposed");
        let rec = Record::command_allowed(Policy::FullAuto, "the policy", "make");
        assert_eq!((rec.event.as_str(), rec.detail.as_str()), ("command", "allowed (the policy): make"));
        let rec = Record::applied(Policy::AutoEdit, Path::new("src/a.rs"), "written and staged");
        assert_eq!((rec.event.as_str(), rec.file.as_deref()), ("applied", Some("src/a.rs")));
        assert_eq!((rec.policy.as_str(), rec.detail.as_str()), ("auto-edit", "written and staged"));
    }
}
