//! Messages sent, kept across sessions for recall in the composer: one JSON
//! string per line, so multi-line messages survive.

use std::io::Write;
use std::path::Path;

/// The last `limit` entries. A missing or unreadable file is no history; a
/// damaged line is skipped.
pub fn read(path: &Path, limit: usize) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let mut entries: Vec<String> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    if entries.len() > limit {
        entries.drain(..entries.len() - limit);
    }
    entries
}

/// Adds `entry` as one line, in one write, so a crash tears at most that
/// line; a torn line left by an earlier crash is cut first, or `entry`
/// would be glued onto it and lost.
pub fn append(path: &Path, entry: &str) {
    let result = (|| -> std::io::Result<()> {
        let mut f = crate::session::open_append(path)?;
        // Kept across sessions: a key pasted into a message is not.
        let mut line = serde_json::to_string(&crate::secrets::redact(entry)).map_err(std::io::Error::other)?;
        line.push('\n');
        f.write_all(line.as_bytes())
    })();
    if let Err(e) = result {
        tracing::warn!("cannot save message history to {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_multiline_entries_and_skips_damage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state/history.jsonl");
        append(&path, "one");
        append(&path, "two\nlines");
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        writeln!(f, "{{torn").expect("write");
        append(&path, "three");
        assert_eq!(read(&path, 10), ["one", "two\nlines", "three"]);
        assert_eq!(read(&path, 2), ["two\nlines", "three"]);
        assert!(read(&dir.path().join("none"), 5).is_empty());
    }

    #[test]
    fn an_entry_after_a_torn_last_line_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("history.jsonl");
        append(&path, "one");
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        write!(f, "\"tor").expect("write");
        append(&path, "two");
        assert_eq!(read(&path, 10), ["one", "two"]);
    }
}
