//! An append-only JSON-lines file written on a thread of its own, so the
//! caller never waits on the disk. Shared by the audit log and the journal.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::Serialize;

enum Msg<T> {
    Line(Box<T>),
    /// Answer once every line sent before is written.
    Flush(mpsc::Sender<()>),
    /// Lines sent after go to this file instead.
    Switch(PathBuf),
}

/// `value` as one JSON line without the secrets tandem knows: the journal
/// and the audit log record what the model and the user said, which may
/// quote a key. The text is redacted as written (the redactor knows each
/// secret's JSON spelling); should a replacement have broken the JSON (a
/// secret that spans quotes), every string of the value is redacted instead.
fn redacted_line<T: Serialize>(value: &T, redactor: &crate::secrets::Redactor) -> serde_json::Result<Vec<u8>> {
    let text = serde_json::to_string(value)?;
    match redactor.redact(&text) {
        std::borrow::Cow::Borrowed(_) => Ok(text.into_bytes()),
        std::borrow::Cow::Owned(r) if serde_json::from_str::<serde::de::IgnoredAny>(&r).is_ok() => Ok(r.into_bytes()),
        std::borrow::Cow::Owned(_) => {
            let mut json = serde_json::to_value(value)?;
            redactor.redact_json(&mut json);
            serde_json::to_vec(&json)
        }
    }
}

/// The writer's handle; dropping every clone ends the thread once the lines
/// sent are written.
pub(crate) struct Appender<T> {
    tx: mpsc::Sender<Msg<T>>,
    path: PathBuf,
}

impl<T> Clone for Appender<T> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone(), path: self.path.clone() }
    }
}

impl<T: Serialize + Send + 'static> Appender<T> {
    /// Appends to `path`; its directory and the file are made with the first
    /// line. `what` names the file in the one warning logged if writing fails.
    /// Each line goes to the operating system in one unbuffered write as it
    /// comes, so a crash loses at most the line being written.
    pub fn open(path: PathBuf, what: &'static str) -> Self {
        let (tx, rx) = mpsc::channel::<Msg<T>>();
        let mut file_path = path.clone();
        let spawned = std::thread::Builder::new().name(format!("tandem-{}", what.replace(' ', "-"))).spawn(move || {
            let mut file: Option<std::fs::File> = None;
            let mut warned = false;
            while let Ok(msg) = rx.recv() {
                let value = match msg {
                    Msg::Line(v) => v,
                    Msg::Flush(done) => {
                        let _ = done.send(());
                        continue;
                    }
                    Msg::Switch(path) => {
                        file = None;
                        file_path = path;
                        warned = false;
                        continue;
                    }
                };
                let written = (|| -> std::io::Result<()> {
                    let f = match &mut file {
                        Some(f) => f,
                        None => file.insert(open_append(&file_path)?),
                    };
                    let redactor = crate::secrets::redactor();
                    let mut line = redacted_line(&*value, &redactor).map_err(std::io::Error::other)?;
                    line.push(b'\n');
                    f.write_all(&line)
                })();
                if let Err(e) = written {
                    // A write that failed part way (a full disk) leaves a torn
                    // line; opening again cuts it before the next line.
                    file = None;
                    if !warned {
                        tracing::warn!("cannot write the {what} {}: {e}", file_path.display());
                        warned = true;
                    }
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the {what} writer: {e}");
        }
        Self { tx, path }
    }

    pub(crate) fn send(&self, value: T) {
        let _ = self.tx.send(Msg::Line(Box::new(value)));
    }

    /// Write the lines sent from now on to `path` (made with its first line),
    /// after those sent before, which go to the file they were sent for. The
    /// writer does the switch: the caller does not wait. It is the writer's,
    /// so clones of this handle switch too, though their `path` is stale.
    pub(crate) fn switch(&mut self, path: PathBuf) {
        let _ = self.tx.send(Msg::Switch(path.clone()));
        self.path = path;
    }

    /// Wait (up to `limit`) until every line sent so far is written: for a
    /// process about to exit, whose writer thread would die with it.
    pub fn flush(&self, limit: std::time::Duration) {
        let (done, wait) = mpsc::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(limit);
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens the JSON-lines file at `path` for appending, made with its
/// directory when missing. A last line without its newline, torn by a crash
/// or a full disk while it was written, is cut first: the next line would
/// otherwise be glued onto it, and a reader would lose both. A last line
/// that is whole but for its newline is kept and ended instead.
pub(crate) fn open_append(path: &Path) -> std::io::Result<File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new().create(true).read(true).append(true).open(path)?;
    end_last_line(&mut file)?;
    Ok(file)
}

/// A last line longer than this is cut without being read: it is no entry
/// tandem writes.
const MAX_TAIL: u64 = 8 * 1024 * 1024;

/// Ends `file` with a newline: the last line is ended when it is complete
/// JSON, cut when it is not.
fn end_last_line(file: &mut File) -> std::io::Result<()> {
    const CHUNK: u64 = 4096;
    let len = file.metadata()?.len();
    let mut end = len;
    let mut buf = vec![0u8; CHUNK as usize];
    let mut line_start = 0;
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            line_start = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    if line_start == len {
        return Ok(());
    }
    if len - line_start <= MAX_TAIL {
        let mut tail = vec![0u8; (len - line_start) as usize];
        file.read_exact_at(&mut tail, line_start)?;
        if serde_json::from_slice::<serde::de::IgnoredAny>(&tail).is_ok() {
            return file.write_all(b"\n");
        }
    }
    tracing::warn!("cut a torn last line of {} bytes before appending", len - line_start);
    file.set_len(line_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Redactor;

    #[test]
    fn a_torn_last_line_is_cut_and_whole_lines_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.jsonl");
        let long = "x".repeat(10_000);
        for (before, after) in [
            ("", ""),
            ("{\"a\":1}\n", "{\"a\":1}\n"),
            ("{\"a\":1}\n{\"b\":", "{\"a\":1}\n"),
            ("{\"torn", ""),
            ("{\"a\":1}\n{\"whole\":2}", "{\"a\":1}\n{\"whole\":2}\n"),
            (&format!("{{\"a\":1}}\n{long}") as &str, "{\"a\":1}\n"),
        ] {
            std::fs::write(&path, before).expect("write");
            let mut f = open_append(&path).expect("open");
            f.write_all(b"{\"c\":2}\n").expect("append");
            assert_eq!(std::fs::read_to_string(&path).expect("read"), format!("{after}{{\"c\":2}}\n"));
        }
    }

    #[test]
    fn lines_are_written_without_secrets_and_stay_json() {
        let plain = "sk-test-0123456789abcdef";
        // A secret whose raw spelling spans JSON's own quotes.
        let nasty = "a\",\"b\":\"c-0123";
        let r = Redactor::new([plain, nasty]);
        let value = serde_json::json!({ "text": format!("key {plain}"), "other": format!("x{nasty}") });
        let line = String::from_utf8(redacted_line(&value, &r).unwrap()).unwrap();
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, serde_json::json!({ "text": "key [REDACTED]", "other": "x[REDACTED]" }));
        let structural = serde_json::json!({ "a1": "a", "b": "c-0123" });
        let line = String::from_utf8(redacted_line(&structural, &r).unwrap()).unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(&line).is_ok(), "{line}");
        assert!(!line.contains("c-0123"), "{line}");
    }
}
