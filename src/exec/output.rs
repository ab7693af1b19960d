//! What `tandem exec` prints: the events of a run, as JSON lines on stdout
//! (`--json`), or for a person: the answer on stdout, the rest on stderr.
//!
//! Text for a person is stripped of control sequences ([`crate::printable`])
//! whether it goes to a terminal or not: `tandem exec > log` read later
//! with `cat log` reaches a terminal all the same, and a program that
//! needs the model's exact text reads `--json`. JSON lines keep every
//! character, with the controls JSON leaves raw (DEL and C1) escaped too.

use std::io::Write;

use serde::Serialize;

use crate::printable::{self, Stripper};

/// One event of a headless run; with `--json`, one line on stdout. The
/// list and its fields are documented in `tandem exec --help` and the
/// README: keep the three in step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    TurnStarted,
    /// The next piece of the model's answer.
    Text {
        text: String,
    },
    ToolCall {
        id: String,
        name: String,
        summary: String,
    },
    ToolResult {
        id: String,
        ok: bool,
        summary: String,
        elapsed_ms: u64,
    },
    /// The edits of one round; `patch` is the patch file under suggest.
    Proposal {
        files: Vec<ProposedFile>,
        patch: Option<String>,
    },
    /// What became of one proposed file.
    Decision {
        path: String,
        outcome: Outcome,
        reason: Option<String>,
        hunks: usize,
    },
    /// A tool asked for leave that the policy does not give, and nobody was
    /// there to give it: `reason` is what the model was told.
    PermissionRefused {
        kind: String,
        title: String,
        detail: String,
        reason: String,
    },
    Usage {
        input_tokens: u64,
        output_tokens: u64,
        cache_read_tokens: u64,
        cache_write_tokens: u64,
        /// US dollars; `None` when a price is unknown.
        cost_usd: Option<f64>,
    },
    TurnCompleted {
        outcome: &'static str,
        message: Option<String>,
    },
    Error {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposedFile {
    pub path: String,
    pub new_path: Option<String>,
    /// `modify`, `add`, `delete` or `move`.
    pub kind: String,
    pub hunks: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Written and staged.
    Staged,
    /// Written, not staged (outside git, an untracked file, ...).
    Applied,
    /// Not written.
    Refused,
    /// Left in the patch file (suggest).
    Proposed,
}

/// Where events go.
pub struct Output {
    json: bool,
    /// The answer on stdout has not ended its line: a line on stderr
    /// starts a new one first, so the two do not run together.
    mid_line: bool,
    /// The answer arrives in pieces, and a sequence may be split between
    /// two of them.
    answer: Stripper,
    stdout: Box<dyn Write>,
    stderr: Box<dyn Write>,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self::to(json, Box::new(std::io::stdout()), Box::new(std::io::stderr()))
    }

    /// Output to other writers than the process's (for tests).
    pub fn to(json: bool, stdout: Box<dyn Write>, stderr: Box<dyn Write>) -> Self {
        Self { json, mid_line: false, answer: Stripper::default(), stdout, stderr }
    }

    // Failures to write are ignored: a closed pipe (`tandem exec | head`)
    // must not stop the task, whose effects matter more than its report.
    // Everything printed passes here, and leaves without the secrets.
    fn out(&mut self, bytes: &[u8]) {
        let text = crate::secrets::redact(&String::from_utf8_lossy(bytes));
        let _ = self.stdout.write_all(text.as_bytes());
        let _ = self.stdout.flush();
    }

    fn err(&mut self, line: &str) {
        let _ = writeln!(self.stderr, "{}", crate::secrets::redact(&printable::strip(line)));
        let _ = self.stderr.flush();
    }

    pub(crate) fn json(&self) -> bool {
        self.json
    }

    pub fn event(&mut self, ev: &Event) {
        if self.json {
            // An event is plain data: serializing it cannot fail.
            if let Ok(line) = serde_json::to_string(ev) {
                let mut line = escape_raw_controls(line);
                line.push('\n');
                self.out(line.as_bytes());
            }
            if let Event::Error { message } = ev {
                self.err(&format!("tandem: {message}"));
            }
            return;
        }
        match ev {
            Event::Text { text } => {
                let mut shown = String::with_capacity(text.len());
                self.answer.push(text, &mut shown);
                self.out(shown.as_bytes());
                if !shown.is_empty() {
                    self.mid_line = !shown.ends_with('\n');
                }
            }
            Event::ToolCall { summary, .. } => self.note(&format!("• {summary}")),
            Event::ToolResult { ok: false, summary, .. } => self.note(&format!("  ✗ {summary}")),
            Event::Proposal { files, .. } => {
                let list: Vec<String> = files
                    .iter()
                    .map(|f| match &f.new_path {
                        Some(to) => format!("{} → {to} ({} hunk(s))", f.path, f.hunks),
                        None => format!("{} ({} hunk(s))", f.path, f.hunks),
                    })
                    .collect();
                self.note(&format!("• proposed: {}", list.join(", ")));
            }
            Event::Decision { path, outcome, reason, .. } => {
                let what = match outcome {
                    Outcome::Staged => "written and staged",
                    Outcome::Applied => "written, not staged",
                    Outcome::Refused => "NOT written",
                    Outcome::Proposed => return,
                };
                match reason {
                    Some(r) => self.note(&format!("  {path}: {what}: {r}")),
                    None => self.note(&format!("  {path}: {what}")),
                }
            }
            Event::PermissionRefused { title, .. } => {
                // Stripped by `note`; cut here, as the model wrote it.
                let title: String = title.chars().take(200).collect();
                self.note(&format!("  ✗ not allowed, nobody to ask: {title}"));
            }
            Event::Error { message } => self.note(&format!("tandem: {message}")),
            Event::TurnStarted | Event::ToolResult { .. } | Event::Usage { .. } | Event::TurnCompleted { .. } => {}
        }
    }

    /// A line on stderr, for a person (in both modes).
    pub fn note(&mut self, text: &str) {
        self.end_line();
        self.err(text);
    }

    /// A line of the result on stdout (human mode only: the patch path).
    pub fn result_line(&mut self, text: &str) {
        if !self.json {
            self.end_line();
            self.out(format!("{}\n", printable::strip(text)).as_bytes());
        }
    }

    /// End the answer's line on stdout, if it is open.
    pub(crate) fn end_line(&mut self) {
        if self.mid_line {
            self.mid_line = false;
            self.out(b"\n");
        }
    }
}

/// A JSON text with DEL and the C1 controls written as `\u` escapes:
/// serde escapes only C0, and a terminal may act on the others. They can
/// only be inside strings, where the escape means the same character.
fn escape_raw_controls(line: String) -> String {
    let raw = |c: char| ('\u{7f}'..='\u{9f}').contains(&c);
    if !line.chars().any(raw) {
        return line;
    }
    let mut out = String::with_capacity(line.len() + 16);
    for c in line.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Writers whose bytes a test reads back.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_a_person_the_answer_goes_to_stdout_and_the_rest_to_stderr_on_lines_of_their_own() {
        let (out, err) = (Captured::default(), Captured::default());
        let mut o = Output::to(false, Box::new(out.clone()), Box::new(err.clone()));
        o.event(&Event::TurnStarted);
        o.event(&Event::Text { text: "Let me ".into() });
        o.event(&Event::Text { text: "look.".into() });
        o.event(&Event::ToolCall { id: "c1".into(), name: "read_file".into(), summary: "read src/a.rs".into() });
        o.event(&Event::ToolResult { id: "c1".into(), ok: false, summary: "no such file".into(), elapsed_ms: 1 });
        o.event(&Event::Decision {
            path: "src/a.rs".into(),
            outcome: Outcome::Refused,
            reason: Some("it changed".into()),
            hunks: 1,
        });
        o.event(&Event::Text { text: "Done.".into() });
        o.result_line("/tmp/x.patch");
        assert_eq!(out.text(), "Let me look.\nDone.\n/tmp/x.patch\n");
        assert_eq!(err.text(), "• read src/a.rs\n  ✗ no such file\n  src/a.rs: NOT written: it changed\n");
    }

    #[test]
    fn for_a_person_control_sequences_go_even_split_across_pieces() {
        let (out, err) = (Captured::default(), Captured::default());
        let mut o = Output::to(false, Box::new(out.clone()), Box::new(err.clone()));
        o.event(&Event::Text { text: "copy \x1b]52;c;ZXZp".into() });
        o.event(&Event::Text { text: "bA==\x07this\x1b".into() });
        o.event(&Event::Text { text: "[2J\n".into() });
        o.event(&Event::ToolCall { id: "c".into(), name: "read_file".into(), summary: "read \x1b[1Aa.rs".into() });
        o.event(&Event::Error { message: "failed: \u{9b}2Jx\r".into() });
        assert_eq!(out.text(), "copy this\n");
        assert_eq!(err.text(), "• read a.rs\ntandem: failed: x\n");
    }

    #[test]
    fn json_keeps_the_text_and_escapes_every_control() {
        let (out, err) = (Captured::default(), Captured::default());
        let mut o = Output::to(true, Box::new(out.clone()), Box::new(err.clone()));
        let text = "a\x1b]52;c;x\x07\u{9b}1m\x7fb";
        o.event(&Event::Text { text: text.into() });
        o.event(&Event::Error { message: "bad \x1b[2J".into() });
        let lines = out.text();
        assert!(!lines.chars().any(|c| c.is_control() && c != '\n'), "{lines:?}");
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap_or("")).expect("json");
        assert_eq!(first["text"], text);
        assert_eq!(err.text(), "tandem: bad \n");
    }

    #[test]
    fn events_serialize_with_their_type_and_documented_fields() {
        let line = |ev: Event| serde_json::to_value(ev).expect("json");
        assert_eq!(line(Event::TurnStarted), serde_json::json!({"type": "turn_started"}));
        assert_eq!(
            line(Event::Decision {
                path: "src/a.rs".into(),
                outcome: Outcome::Refused,
                reason: Some("changed".into()),
                hunks: 2
            }),
            serde_json::json!({"type": "decision", "path": "src/a.rs", "outcome": "refused", "reason": "changed", "hunks": 2})
        );
        let usage = line(Event::Usage {
            input_tokens: 1,
            output_tokens: 2,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            cost_usd: None,
        });
        assert_eq!(usage["cost_usd"], serde_json::Value::Null);
        assert_eq!(usage["type"], "usage");
        assert_eq!(
            line(Event::PermissionRefused {
                kind: "mcp-tool".into(),
                title: "server `github` wants to run tool `create_issue`".into(),
                detail: "{}".into(),
                reason: "nobody to ask".into()
            }),
            serde_json::json!({
                "type": "permission_refused",
                "kind": "mcp-tool",
                "title": "server `github` wants to run tool `create_issue`",
                "detail": "{}",
                "reason": "nobody to ask"
            })
        );
    }
}
