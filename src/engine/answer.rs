//! From an answer to a change set to what is written, what the model hears
//! and what the audit log keeps.

use std::path::PathBuf;

use super::{AppliedFile, FileAnswer, HunkAnswer, Outcome, Verdict};
use crate::git::{ApplyReport, Approved, FileOutcome};
use crate::patch::FileChange;
use crate::session::audit::HunkRecord;
use crate::tools::approval::{FileVerdict, hunk_line};

/// One file of an answered change set, ready to apply.
pub(super) struct Decided {
    pub path: PathBuf,
    /// The hunks to write: the accepted ones, as edited.
    pub approved: Vec<crate::patch::Hunk>,
    pub verdicts: Vec<&'static str>,
    /// Per hunk, its fate in words for the model.
    pub lines: Vec<String>,
    /// Per hunk, for the audit log.
    pub records: Vec<HunkRecord>,
    pub set_aside: Option<String>,
}

/// Every hunk accepted as proposed: the answer of a policy that writes edits.
pub(crate) fn accept_all(change: &FileChange) -> FileAnswer {
    let hunks = change.hunks.iter().map(|h| HunkAnswer { hunk: h.clone(), verdict: Verdict::Accepted }).collect();
    FileAnswer { hunks, set_aside: None }
}

pub(super) fn decide(change: &FileChange, answer: &FileAnswer) -> Decided {
    let mut decided = Decided {
        path: change.path.clone(),
        approved: Vec::new(),
        verdicts: Vec::new(),
        lines: Vec::new(),
        records: Vec::new(),
        set_aside: answer.set_aside.clone(),
    };
    for (i, h) in answer.hunks.iter().enumerate() {
        let what = match &h.verdict {
            Verdict::Edited => "accepted after the user edited it (its new text is now what the user wrote; read the \
                                file to see it)"
                .to_string(),
            Verdict::Accepted => "accepted".to_string(),
            Verdict::Rejected(Some(r)) => format!("rejected: \"{r}\""),
            Verdict::Rejected(None) | Verdict::Undecided => "rejected".to_string(),
        };
        let (label, reason) = match (&answer.set_aside, &h.verdict) {
            (Some(why), _) => ("deferred", Some(why.clone())),
            (None, Verdict::Rejected(r)) => ("rejected", r.clone()),
            (None, Verdict::Undecided) => ("rejected", Some("left undecided".to_string())),
            (None, v) => (v.label(), None),
        };
        if answer.set_aside.is_none() && h.verdict.accepts() {
            decided.approved.push(h.hunk.clone());
        }
        decided.verdicts.push(h.verdict.label());
        decided.lines.push(hunk_line(i, &h.hunk, &what));
        decided.records.push(HunkRecord::new(&h.hunk, label, reason));
    }
    decided
}

/// What became of `decided` once `report` says what was written, for the
/// front-end and for the model.
pub(super) fn outcome(decided: &Decided, report: &ApplyReport) -> (AppliedFile, FileVerdict) {
    let found = report.files.iter().find(|o| o.path == decided.path);
    if let Some(note) = &decided.set_aside {
        let file = AppliedFile {
            path: decided.path.clone(),
            hunks: decided.verdicts.iter().map(|_| "rejected").collect(),
            outcome: Outcome::SetAside,
            state: "set aside for review".into(),
            reason: None,
        };
        return (file, FileVerdict { path: decided.path.clone(), report: note.clone() });
    }
    let state = FileOutcome::describe(found);
    let outcome = match found {
        Some(o) if o.written && o.staged => Outcome::Staged,
        Some(o) if o.written => Outcome::Written,
        Some(_) => Outcome::Refused,
        None => Outcome::Rejected,
    };
    let accepted = decided.approved.len();
    let verdict = FileVerdict::new(decided.path.clone(), accepted, &decided.lines, &state);
    let reason = found.and_then(|o| o.message.clone());
    let file = AppliedFile { path: decided.path.clone(), hunks: decided.verdicts.clone(), outcome, state, reason };
    (file, verdict)
}

/// The files of `decided` that have something to write.
pub(super) fn approved(changes: &[FileChange], decided: &[Decided]) -> Vec<Approved> {
    changes
        .iter()
        .zip(decided)
        .filter(|(_, d)| !d.approved.is_empty())
        .map(|(c, d)| Approved { change: c.clone(), hunks: d.approved.clone() })
        .collect()
}

/// An answer that does not fit the request it answers (another number of
/// files, or of hunks where none was split): everything is rejected rather
/// than guessed at.
pub(super) fn fits(changes: &[FileChange], answers: &[FileAnswer]) -> bool {
    changes.len() == answers.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> FileChange {
        FileChange::new("a.txt".into(), Some("1\n2\n3\n".into()), Some("1\nx\n3\n".into()), None).expect("change")
    }

    #[test]
    fn verdicts_become_approved_hunks_model_lines_and_audit_records() {
        let c = change();
        let hunk = c.hunks[0].clone();
        let rejected = FileAnswer {
            hunks: vec![HunkAnswer { hunk: hunk.clone(), verdict: Verdict::Rejected(Some("no".into())) }],
            set_aside: None,
        };
        let d = decide(&c, &rejected);
        assert!(d.approved.is_empty());
        assert_eq!(d.verdicts, ["rejected"]);
        assert!(d.lines[0].ends_with("rejected: \"no\""), "{:?}", d.lines);
        let d = decide(&c, &accept_all(&c));
        assert_eq!(d.approved, vec![hunk]);
        assert!(d.lines[0].ends_with(": accepted"), "{:?}", d.lines);
    }

    #[test]
    fn a_file_set_aside_writes_nothing_and_tells_the_model_why() {
        let c = change();
        let mut answer = accept_all(&c);
        answer.set_aside = Some("recorded in a patch".into());
        let d = decide(&c, &answer);
        assert!(d.approved.is_empty());
        let (file, verdict) = outcome(&d, &ApplyReport::default());
        assert_eq!(file.outcome, Outcome::SetAside);
        assert_eq!(verdict.report, "recorded in a patch");
    }
}
