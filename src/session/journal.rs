//! The session journal: everything said and decided in a session, one JSON
//! object per line in `DATA/sessions/<repo key>/<id>.jsonl`. Each entry is
//! written and flushed on its own by a writer thread, so a crash loses at
//! most the entry being written; a torn last line is skipped on load, and
//! cut before the journal is appended to again.
//! A journal is what `--continue` and `--resume` rebuild a session from.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::llm::{ChatMessage, ToolCall, Usage};

/// Most bytes of a tool's output kept in the journal.
pub(crate) const OUTPUT_CAP: usize = 64 * 1024;

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    SessionStarted {
        id: String,
        root: PathBuf,
        time: String,
        model: String,
    },
    User {
        text: String,
    },
    Assistant {
        text: String,
    },
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    ToolResult {
        id: String,
        ok: bool,
        output: String,
    },
    /// Edits proposed for review: each file with its number of hunks.
    Proposal {
        files: Vec<(String, usize)>,
    },
    Decision {
        path: String,
        outcome: String,
    },
    Usage {
        usage: Usage,
        cost: Option<f64>,
    },
    TurnEnded {
        outcome: String,
    },
}

impl Entry {
    /// The entries recording one message of the agent's conversation.
    pub(crate) fn from_message(m: &ChatMessage) -> Vec<Entry> {
        match m {
            ChatMessage::User { text } => vec![Entry::User { text: text.clone() }],
            ChatMessage::Assistant { text, tool_calls } => {
                let mut out = vec![Entry::Assistant { text: text.clone() }];
                out.extend(tool_calls.iter().map(|c| Entry::ToolCall {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    arguments: c.arguments.clone(),
                }));
                out
            }
            ChatMessage::Tool { call_id, content, is_error, .. } => {
                vec![Entry::ToolResult { id: call_id.clone(), ok: !is_error, output: truncate(content, OUTPUT_CAP) }]
            }
        }
    }
}

fn truncate(text: &str, cap: usize) -> String {
    if text.len() <= cap {
        return text.to_string();
    }
    let mut cut = cap;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}\n[… {} more bytes not kept in the session journal]", &text[..cut], text.len() - cut)
}

/// The agent's conversation as the entries record it: user messages,
/// answers with their tool calls, and the calls' results. A call whose
/// result was never recorded (the session ended while it ran) gets an
/// error result, so the conversation stays well-formed for a provider.
pub fn conversation(entries: &[Entry]) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::new();
    let mut open: Vec<ToolCall> = Vec::new();
    let close = |out: &mut Vec<ChatMessage>, open: &mut Vec<ToolCall>| {
        for c in open.drain(..) {
            out.push(ChatMessage::Tool {
                call_id: c.id,
                name: c.name,
                content: "not run: the session ended before this call finished".into(),
                is_error: true,
            });
        }
    };
    for e in entries {
        match e {
            Entry::User { text } => {
                close(&mut out, &mut open);
                out.push(ChatMessage::User { text: text.clone() });
            }
            Entry::Assistant { text } => {
                close(&mut out, &mut open);
                out.push(ChatMessage::Assistant { text: text.clone(), tool_calls: Vec::new() });
            }
            Entry::ToolCall { id, name, arguments } => {
                if let Some(ChatMessage::Assistant { tool_calls, .. }) = out.last_mut() {
                    let call = ToolCall { id: id.clone(), name: name.clone(), arguments: arguments.clone() };
                    tool_calls.push(call.clone());
                    open.push(call);
                }
            }
            Entry::ToolResult { id, ok, output } => {
                if let Some(i) = open.iter().position(|c| c.id == *id) {
                    let call = open.remove(i);
                    out.push(ChatMessage::Tool {
                        call_id: call.id,
                        name: call.name,
                        content: output.clone(),
                        is_error: !ok,
                    });
                }
            }
            _ => {}
        }
    }
    close(&mut out, &mut open);
    out
}

/// A journal read back: its entries and how many lines were skipped.
#[derive(Debug, Default)]
pub struct Loaded {
    pub entries: Vec<Entry>,
    /// Lines that could not be read, the torn last one included.
    pub skipped: usize,
}

/// Read a journal. A line that is not a complete entry is skipped: the
/// last one may be torn by a crash; one elsewhere is logged as corrupt.
pub fn load(path: &Path) -> std::io::Result<Loaded> {
    let bytes = std::fs::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Loaded::default();
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => out.entries.push(e),
            Err(e) => {
                out.skipped += 1;
                // Without its newline the last line was being written.
                if i != last {
                    tracing::warn!("{}: skipped corrupt line {}: {e}", path.display(), i + 1);
                }
            }
        }
    }
    Ok(out)
}

/// The directory of the sessions of the repository at `root`.
pub fn repo_dir(data_dir: &Path, root: &Path) -> PathBuf {
    data_dir.join("sessions").join(super::repo_key(root))
}

/// A new session id: start time and process id, and for every session
/// after a process's first (`/clear`), a count.
pub(crate) fn new_id() -> String {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = super::stamp();
    if n == 0 { id } else { format!("{id}-{n}") }
}

/// What `tandem sessions` shows of one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub id: String,
    pub path: PathBuf,
    pub started: String,
    pub turns: usize,
    /// `None` when some request's price is unknown.
    pub cost: Option<f64>,
    pub first_prompt: String,
}

impl Summary {
    pub fn of(path: &Path, entries: &[Entry]) -> Self {
        let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let started = entries
            .iter()
            .find_map(|e| match e {
                Entry::SessionStarted { time, .. } => Some(time.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let turns = entries.iter().filter(|e| matches!(e, Entry::User { .. })).count();
        let mut cost = crate::metrics::stats::Cost::default();
        for e in entries {
            if let Entry::Usage { cost: c, .. } = e {
                cost.add(*c);
            }
        }
        let cost = cost.total();
        let first_prompt = entries
            .iter()
            .find_map(|e| match e {
                Entry::User { text } => Some(text.clone()),
                _ => None,
            })
            .unwrap_or_default();
        Self { id, path: path.to_path_buf(), started, turns, cost, first_prompt }
    }
}

/// The journals in `dir`, most recently written first.
pub fn list(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| (std::fs::metadata(&p).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), p))
        .collect();
    found.sort_by(|a, b| b.cmp(a));
    found.into_iter().map(|(_, p)| p).collect()
}

/// The writer of one journal; dropping every clone ends its thread once the
/// entries sent are written. A clone shares the writer (to flush it), not
/// the header or the id of a later restart.
#[derive(Clone)]
pub struct Journal {
    out: super::appender::Appender<Entry>,
    id: String,
    /// Written before the first entry, so a session that says nothing
    /// leaves no journal behind.
    pub header: Option<Entry>,
}

impl Journal {
    /// Append to `dir/<id>.jsonl` (made with the first entry), written per
    /// entry. `header` goes first, ahead of the first entry recorded.
    pub fn open(dir: &Path, id: &str, header: Option<Entry>) -> Self {
        let out = super::appender::Appender::open(dir.join(format!("{id}.jsonl")), "session journal");
        Self { out, id: id.to_string(), header }
    }

    /// Go on as a new session `id` in the same directory, with `header`
    /// ahead of its first entry. Entries recorded before are written to the
    /// old journal first; the switch happens on the writer's thread, so the
    /// caller never waits on the disk.
    pub fn restart(&mut self, id: &str, header: Option<Entry>) {
        let dir = self.out.path().parent().map(Path::to_path_buf).unwrap_or_default();
        self.out.switch(dir.join(format!("{id}.jsonl")));
        self.id = id.to_string();
        self.header = header;
    }

    pub fn record(&mut self, entry: Entry) {
        if let Some(h) = self.header.take() {
            self.out.send(h);
        }
        self.out.send(entry);
    }

    /// Wait (up to `limit`) until every entry sent so far is written.
    pub fn flush(&self, limit: std::time::Duration) {
        self.out.flush(limit);
    }

    pub fn path(&self) -> &Path {
        self.out.path()
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<ChatMessage> {
        vec![
            ChatMessage::User { text: "read a.rs".into() },
            ChatMessage::Assistant {
                text: "Reading it.".into(),
                tool_calls: vec![
                    ToolCall { id: "c1".into(), name: "read_file".into(), arguments: r#"{"path":"a.rs"}"#.into() },
                    ToolCall { id: "c2".into(), name: "list_files".into(), arguments: "{}".into() },
                ],
            },
            ChatMessage::Tool {
                call_id: "c1".into(),
                name: "read_file".into(),
                content: "fn a() {}".into(),
                is_error: false,
            },
            ChatMessage::Tool { call_id: "c2".into(), name: "list_files".into(), content: "no".into(), is_error: true },
            ChatMessage::Assistant { text: "It defines a.".into(), tool_calls: vec![] },
            ChatMessage::User { text: "thanks".into() },
        ]
    }

    fn write(dir: &Path, messages: &[ChatMessage]) -> PathBuf {
        let header = Entry::SessionStarted { id: "s1".into(), root: "/r".into(), time: "t".into(), model: "m".into() };
        let mut j = Journal::open(dir, "s1", Some(header));
        for m in messages {
            for e in Entry::from_message(m) {
                j.record(e);
            }
            j.record(Entry::Usage { usage: Usage { input_tokens: 3, ..Default::default() }, cost: Some(0.5) });
        }
        j.flush(std::time::Duration::from_secs(5));
        j.path().to_path_buf()
    }

    #[test]
    fn the_conversation_is_rebuilt_exactly() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(dir.path(), &sample());
        let loaded = load(&path).expect("load");
        assert_eq!(loaded.skipped, 0);
        assert_eq!(conversation(&loaded.entries), sample());
        let s = Summary::of(&path, &loaded.entries);
        assert_eq!((s.id.as_str(), s.turns, s.first_prompt.as_str()), ("s1", 2, "read a.rs"));
        assert_eq!(s.cost, Some(3.0));
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_complete_events_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(dir.path(), &sample());
        let text = std::fs::read_to_string(&path).expect("read");
        // Cut the file in the middle of its last line, as a kill would.
        let last_start = text.trim_end().rfind('\n').expect("lines") + 1;
        let cut = last_start + (text.len() - last_start) / 2;
        std::fs::write(&path, &text[..cut]).expect("truncate");
        let loaded = load(&path).expect("load");
        assert_eq!(loaded.skipped, 1);
        assert_eq!(conversation(&loaded.entries), sample());
        // A corrupt line in the middle is skipped too.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(2, "{\"type\":\"us");
        std::fs::write(&path, lines.join("\n")).expect("write");
        let loaded = load(&path).expect("load");
        assert_eq!(loaded.skipped, 1);
        assert_eq!(conversation(&loaded.entries), sample());
    }

    #[test]
    fn entries_recorded_after_resuming_a_torn_journal_survive() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(dir.path(), &sample());
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.extend_from_slice(b"{\"type\":\"user\",\"te");
        std::fs::write(&path, bytes).expect("tear");
        let mut j = Journal::open(dir.path(), "s1", None);
        j.record(Entry::User { text: "after".into() });
        j.flush(std::time::Duration::from_secs(5));
        let loaded = load(&path).expect("load");
        assert_eq!(loaded.skipped, 0);
        assert_eq!(loaded.entries.last(), Some(&Entry::User { text: "after".into() }));
    }

    #[test]
    fn calls_without_results_get_error_results() {
        let mut entries = Vec::new();
        for m in &sample()[..2] {
            entries.extend(Entry::from_message(m));
        }
        let conv = conversation(&entries);
        assert_eq!(conv.len(), 4);
        assert!(matches!(&conv[3], ChatMessage::Tool { call_id, is_error: true, .. } if call_id == "c2"));
    }

    #[test]
    fn long_outputs_are_capped() {
        let m = ChatMessage::Tool {
            call_id: "c".into(),
            name: "n".into(),
            content: "é".repeat(OUTPUT_CAP),
            is_error: false,
        };
        let Entry::ToolResult { output, .. } = &Entry::from_message(&m)[0] else { panic!("not a result") };
        assert!(output.len() < OUTPUT_CAP + 100 && output.ends_with("session journal]"));
    }

    #[test]
    fn nothing_is_written_until_an_entry_is_recorded() {
        let dir = tempfile::tempdir().expect("dir");
        let header = Entry::SessionStarted { id: "s".into(), root: "/r".into(), time: "t".into(), model: "m".into() };
        let j = Journal::open(dir.path(), "s", Some(header));
        j.flush(std::time::Duration::from_secs(5));
        assert!(!j.path().exists());
    }

    #[test]
    fn a_restarted_journal_writes_the_old_entries_to_the_old_file_and_the_new_to_a_new_one() {
        let dir = tempfile::tempdir().expect("dir");
        let header =
            |id: &str| Entry::SessionStarted { id: id.into(), root: "/r".into(), time: "t".into(), model: "m".into() };
        let mut j = Journal::open(dir.path(), "s1", Some(header("s1")));
        j.record(Entry::User { text: "one".into() });
        let old = j.path().to_path_buf();
        j.restart("s2", Some(header("s2")));
        assert_eq!((j.id(), j.path()), ("s2", dir.path().join("s2.jsonl").as_path()));
        j.flush(std::time::Duration::from_secs(5));
        assert!(!j.path().exists(), "nothing recorded in the new session yet");
        j.record(Entry::User { text: "two".into() });
        j.flush(std::time::Duration::from_secs(5));
        let texts = |p: &Path| -> Vec<Entry> { load(p).expect("load").entries };
        assert_eq!(texts(&old), [header("s1"), Entry::User { text: "one".into() }]);
        assert_eq!(texts(j.path()), [header("s2"), Entry::User { text: "two".into() }]);
    }
}
