//! Family "journal": a JSON-lines file whose last line was torn by a crash
//! (a kill, a full disk, a power cut) and is then appended to again, as
//! `--continue` does with a session journal. Every entry written after the
//! tear must survive a reload: none may be glued onto the fragment.

use std::path::Path;
use std::time::Duration;

use tandem::session::audit::{AuditLog, Record};
use tandem::session::journal::{self, Entry, Journal};

use crate::harness::Family;

/// How a last line can be left torn, as `(label, bytes, entry)`: `entry`
/// is what a reader must still find of it (a complete entry that only
/// lacks its newline is kept, not cut).
fn tears() -> Vec<(&'static str, Vec<u8>, Option<Entry>)> {
    let whole = Entry::User { text: "été".into() };
    let entry = serde_json::to_vec(&whole).expect("json");
    let long = serde_json::to_vec(&Entry::Assistant { text: "y".repeat(20_000) }).expect("json");
    let cr = Entry::User { text: "a".into() };
    let mut cr_bytes = serde_json::to_vec(&cr).expect("json");
    cr_bytes.push(b'\r');
    vec![
        ("half an entry", entry[..entry.len() / 2].to_vec(), None),
        ("one byte", b"{".to_vec(), None),
        ("a lone quote", b"\"".to_vec(), None),
        (
            "inside a multi-byte character",
            entry[..entry.iter().position(|&b| b >= 0x80).expect("é") + 1].to_vec(),
            None,
        ),
        ("an entry longer than one read", long[..long.len() - 10].to_vec(), None),
        ("zeros, as a power cut leaves them", vec![0u8; 512], None),
        ("a whole entry without its newline", entry.clone(), Some(whole)),
        ("a whole entry and a carriage return", cr_bytes, Some(cr)),
    ]
}

fn tear(path: &Path, tail: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap_or_default();
    bytes.extend_from_slice(tail);
    std::fs::write(path, bytes).expect("tear");
}

const FLUSH: Duration = Duration::from_secs(20);

pub fn family() -> Family {
    let mut family = Family::new("journal");
    for (label, tail, kept) in tears() {
        family.check(format!("session journal resumed after {label}"), || journal_case(&tail, &kept, false));
        family.check(format!("session journal switched to after {label}"), || journal_case(&tail, &kept, true));
        family.check(format!("audit log after {label}"), || audit_case(&tail));
        family.check(format!("message history after {label}"), || history_case(&tail));
    }
    family.check("session journal torn twice, resumed twice", || {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut expected = Vec::new();
        for round in 0..3 {
            let mut j = Journal::open(dir.path(), "s", None);
            for i in 0..3 {
                let e = Entry::User { text: format!("round {round} entry {i}") };
                j.record(e.clone());
                expected.push(e);
            }
            j.flush(FLUSH);
            tear(j.path(), b"{\"type\":\"us");
        }
        compare(&journal::load(&dir.path().join("s.jsonl")).map_err(|e| e.to_string())?.entries, &expected)
    });
    family
}

fn compare(got: &[Entry], want: &[Entry]) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "reloaded {} entries, wrote {}: lost {:?}",
            got.len(),
            want.len(),
            want.iter().find(|w| !got.contains(w))
        ))
    }
}

/// Writes entries, tears the last line, goes on with the same journal
/// (opened again, or switched to by a running writer) and reloads.
fn journal_case(tail: &[u8], kept: &Option<Entry>, switch: bool) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let header = Entry::SessionStarted { id: "s1".into(), root: "/r".into(), time: "t".into(), model: "m".into() };
    let mut before = Journal::open(dir.path(), "s1", Some(header.clone()));
    before.record(Entry::User { text: "first".into() });
    before.flush(FLUSH);
    let path = before.path().to_path_buf();
    tear(&path, tail);
    let mut after = if switch {
        before.restart("s1", None);
        before
    } else {
        drop(before);
        Journal::open(dir.path(), "s1", None)
    };
    let added: Vec<Entry> = (0..5).map(|i| Entry::User { text: format!("after resume {i}") }).collect();
    for e in &added {
        after.record(e.clone());
    }
    after.flush(FLUSH);
    let loaded = journal::load(&path).map_err(|e| e.to_string())?;
    let mut want = vec![header, Entry::User { text: "first".into() }];
    want.extend(kept.clone());
    want.extend(added);
    compare(&loaded.entries, &want)
}

fn audit_case(tail: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let first = AuditLog::open(dir.path());
    first.record(Record::command(tandem::config::Policy::Suggest, "first"));
    first.flush(FLUSH);
    let path = first.path().to_path_buf();
    drop(first);
    tear(&path, tail);
    let again = AuditLog::open(dir.path());
    for i in 0..3 {
        again.record(Record::command(tandem::config::Policy::Suggest, format!("after {i}")));
    }
    again.flush(FLUSH);
    let text = std::fs::read(&path).map_err(|e| e.to_string())?;
    let details: Vec<String> = String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["detail"].as_str().map(str::to_string))
        .collect();
    let want = ["first", "after 0", "after 1", "after 2"];
    if details == want { Ok(()) } else { Err(format!("read back {details:?}")) }
}

fn history_case(tail: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("history.jsonl");
    tandem::view::history::append(&path, "first");
    tear(&path, tail);
    tandem::view::history::append(&path, "second");
    tandem::view::history::append(&path, "third");
    let got = tandem::view::history::read(&path, 10);
    if got == ["first", "second", "third"] { Ok(()) } else { Err(format!("read back {got:?}")) }
}
