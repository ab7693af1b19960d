//! The built binary in a real pseudo-terminal, read back through a terminal
//! emulator: what a user sees.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

mod common;

struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    /// Says when the reader has taken the terminal's last bytes.
    output_ended: std::sync::mpsc::Receiver<()>,
    _dir: tempfile::TempDir,
}

impl Session {
    fn start(cols: u16, rows: u16) -> Session {
        Self::start_with(cols, rows, &[])
    }

    fn start_with(cols: u16, rows: u16, env: &[(&str, String)]) -> Session {
        Self::start_in(cols, rows, env, &[], |repo| {
            git2::Repository::init(repo).expect("git init");
        })
    }

    /// Start in `dir/repo`, prepared by `setup`, with extra arguments.
    fn start_in(
        cols: u16,
        rows: u16,
        env: &[(&str, String)],
        args: &[&str],
        setup: impl FnOnce(&std::path::Path),
    ) -> Session {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).expect("mkdir");
        setup(&repo);
        Self::start_at(dir, cols, rows, env, args)
    }

    /// Start in `dir/repo` with `dir` as home (again, after an earlier run).
    fn start_at(dir: tempfile::TempDir, cols: u16, rows: u16, env: &[(&str, String)], args: &[&str]) -> Session {
        let repo = dir.path().join("repo");
        let pty =
            native_pty_system().openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.args(args);
        cmd.cwd(&repo);
        cmd.env("TERM", "xterm-256color");
        cmd.env("COLORTERM", "truecolor");
        cmd.env("HOME", dir.path());
        cmd.env("XDG_CONFIG_HOME", dir.path().join("config"));
        cmd.env("XDG_STATE_HOME", dir.path().join("state"));
        cmd.env("XDG_CACHE_HOME", dir.path().join("cache"));
        cmd.env("XDG_DATA_HOME", dir.path().join("data"));
        cmd.env_remove("SSH_CONNECTION");
        for var in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY"] {
            cmd.env_remove(var);
        }
        // No Ollama probe in tests: a profile that needs no network.
        cmd.env("TANDEM_MODEL_PROFILE", "openai");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn tandem");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let p = parser.clone();
        let (ended, output_ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().expect("parser").process(&buf[..n]);
            }
            let _ = ended.send(());
        });
        Session { parser, writer, child, master: pty.master, output_ended, _dir: dir }
    }

    fn contents(&self) -> String {
        self.parser.lock().expect("parser").screen().contents()
    }

    fn wait_for(&self, what: &str, cond: impl Fn(&vt100::Screen) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if cond(self.parser.lock().expect("parser").screen()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {what}; screen:\n{}", self.contents());
    }

    fn wait_text(&self, text: &str) {
        self.wait_for(text, |s| s.contents().contains(text));
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to pty");
        self.writer.flush().expect("flush");
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The reader thread takes the last bytes, up to the end of
                // the output once nothing has the terminal open any more.
                let _ = self.output_ended.recv_timeout(Duration::from_secs(20));
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("tandem did not exit; screen:\n{}", self.contents());
    }
}

#[test]
fn starts_shows_panes_help_and_restores_the_terminal_80x24() {
    let mut s = Session::start(80, 24);
    s.wait_text("Chat");
    let screen = s.contents();
    for title in ["Chat", "Diff approval", "Metrics"] {
        assert!(screen.contains(title), "missing {title}:\n{screen}");
    }
    assert!(s.parser.lock().expect("parser").screen().alternate_screen());

    s.send(b"\x1bOP"); // F1
    s.wait_text("Keys (default keymap)");
    s.send(b"\x1b"); // Esc closes it
    s.wait_for("help to close", |scr| !scr.contents().contains("Keys (default keymap)"));

    s.send(b"hello tandem\r");
    s.wait_text("hello tandem");

    s.send(b"\x11"); // C-q
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    let parser = s.parser.lock().expect("parser");
    let screen = parser.screen();
    assert!(!screen.alternate_screen(), "still on the alternate screen");
    assert!(!screen.hide_cursor(), "cursor left hidden");
    assert!(screen.contents().contains("1 message sent"), "summary missing:\n{}", screen.contents());
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    use nix::sys::signal::Signal;
    for sig in [Signal::SIGTERM, Signal::SIGHUP] {
        let mut s = Session::start(120, 40);
        s.wait_text("Diff approval");
        let pid = s.child.process_id().expect("pid");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).expect("kill");
        s.wait_exit();
        let parser = s.parser.lock().expect("parser");
        assert!(!parser.screen().alternate_screen(), "{sig}: still on the alternate screen");
        assert!(!parser.screen().hide_cursor(), "{sig}: cursor left hidden");
    }
}

#[test]
fn resize_redraws_in_the_new_layout() {
    let s = Session::start(120, 40);
    // Side by side at 120 columns: the chat and diff titles share a row.
    s.wait_for("side-by-side panes", |scr| {
        scr.contents().lines().any(|l| l.contains("Chat") && l.contains("Diff approval"))
    });
    s.parser.lock().expect("parser").set_size(nz(24), nz(70));
    s.master.resize(PtySize { rows: 24, cols: 70, pixel_width: 0, pixel_height: 0 }).expect("resize");
    // One pane at a time below the split width: a tab bar names all three.
    s.wait_for("tabs", |scr| scr.contents().lines().any(|l| l.contains("F2 Chat") && l.contains("F4 Metrics")));
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("non-zero size")
}

/// A loopback server speaking OpenAI's streamed chat completions: each
/// request gets `words` as separate SSE chunks, `delay` apart.
fn sse_server(words: Vec<String>, delay: Duration) -> (String, Arc<Mutex<bool>>) {
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let closed_early = Arc::new(Mutex::new(false));
    let flag = closed_early.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).is_err() {
                continue;
            }
            let chunk = |content: &str| {
                let v = serde_json::json!({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]});
                format!("data: {v}\n\n")
            };
            let mut ok = true;
            for w in &words {
                if stream.write_all(chunk(w).as_bytes()).and_then(|_| stream.flush()).is_err() {
                    ok = false;
                    break;
                }
                std::thread::sleep(delay);
            }
            if !ok {
                *flag.lock().expect("flag") = true;
                continue;
            }
            let end = serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
            let usage = serde_json::json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5}});
            let _ = stream.write_all(format!("data: {end}\n\ndata: {usage}\n\ndata: [DONE]\n\n").as_bytes());
        }
    });
    (format!("http://{addr}/v1"), closed_early)
}

fn model_env(url: String) -> Vec<(&'static str, String)> {
    vec![("OPENAI_BASE_URL", url), ("OPENAI_API_KEY", "sk-test-not-shown".into())]
}

#[test]
fn a_prompt_streams_an_answer_from_a_loopback_server() {
    let words: Vec<String> =
        "Streaming **works** over real HTTP. END-OF-ANSWER".split(' ').map(|w| format!("{w} ")).collect();
    let (url, _) = sse_server(words, Duration::from_millis(5));
    let mut s = Session::start_with(100, 30, &model_env(url));
    s.wait_text("openai gpt-4.1");
    s.send(b"hello model\r");
    s.wait_text("END-OF-ANSWER");
    let screen = s.contents();
    assert!(screen.contains("Streaming works over real HTTP."), "{screen}");
    assert!(!screen.contains("sk-test-not-shown"), "the key is on screen");
    s.send(b"\x11");
    s.wait_exit();
}

#[test]
fn esc_cancels_a_long_answer_and_closes_the_stream() {
    let words: Vec<String> = (0..400).map(|i| format!("word{i} ")).collect();
    let (url, closed_early) = sse_server(words, Duration::from_millis(20));
    let mut s = Session::start_with(100, 30, &model_env(url));
    s.wait_text("openai gpt-4.1");
    s.send(b"talk a lot\r");
    s.wait_text("word5 ");
    s.send(b"\x1b");
    s.wait_text("stopped");
    // The server sees the connection closed at its next write but one,
    // whenever it gets to run; a server still streaming never does.
    let closed = || *closed_early.lock().expect("flag");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !closed() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let screen = s.contents();
    assert!(!screen.contains("word399"), "{screen}");
    assert!(closed(), "the server kept streaming to a cancelled turn");
    s.send(b"\x11");
    s.wait_exit();
}

/// A file with two changes far apart, committed, and a scripted model that
/// proposes both with `apply_patch`.
fn repo_with_two_changes(repo: &std::path::Path) {
    let mut text = String::from("fn first() {\n    old_one();\n}\n");
    for i in 0..12 {
        text.push_str(&format!("// filler {i}\n"));
    }
    text.push_str("fn second() {\n    old_two();\n}\n");
    std::fs::write(repo.join("code.rs"), text).expect("write");
    common::commit_all(repo);
    let patch = "*** Begin Patch\n*** Update File: code.rs\n@@ fn first() {\n-    old_one();\n+    new_one();\n }\n@@ fn second() {\n-    old_two();\n+    new_two();\n }\n*** End Patch";
    let args = serde_json::json!({ "patch": patch }).to_string();
    let script = format!(
        "[[turns]]\ntext = \"Proposing two hunks.\"\ntool_calls = [{{ name = \"apply_patch\", arguments = '{args}' }}]\n\n[[turns]]\ntext = \"TURN-DONE\"\n"
    );
    std::fs::write(repo.join(".git").join("script.toml"), script).expect("script");
}

#[test]
fn two_hunks_one_accepted_one_rejected_with_a_reason_stages_only_the_accepted_one() {
    let mut s = Session::start_in(100, 30, &[], &["--provider", "script:.git/script.toml"], repo_with_two_changes);
    s.wait_text("script");
    s.send(b"make the change\r");
    s.wait_text("2 hunk(s)");
    // The proposal came right after Enter, so it did not take the keyboard
    // from the composer; keys count only once it has been on screen a
    // moment. Look, open the diff pane, accept the first hunk, reject the
    // second with a reason, apply.
    s.wait_text("edits wait for your review: F3");
    std::thread::sleep(Duration::from_millis(600));
    s.send(b"\x1bOR"); // F3
    s.send(b"y");
    s.wait_text("hunk 2/2");
    s.send(b"r");
    s.wait_text("Reason");
    s.send(b"keep old_two\r");
    s.wait_text("all decided");
    s.send(b"\r");
    s.wait_text("TURN-DONE");
    let repo = s._dir.path().join("repo");
    let out = std::process::Command::new("git").args(["diff", "--cached"]).current_dir(&repo).output();
    let on_disk = std::fs::read_to_string(repo.join("code.rs")).expect("read");
    assert!(on_disk.contains("new_one();") && on_disk.contains("old_two();"), "{on_disk}");
    let r = git2::Repository::open(&repo).expect("open");
    let entry = r.index().expect("index").get_path(std::path::Path::new("code.rs"), 0).expect("staged");
    let staged = String::from_utf8(r.find_blob(entry.id).expect("blob").content().to_vec()).expect("utf-8");
    assert_eq!(staged, on_disk, "the index must hold exactly base + the accepted hunk");
    if let Ok(out) = out {
        let diff = String::from_utf8_lossy(&out.stdout);
        assert!(diff.contains("+    new_one();") && !diff.contains("new_two"), "{diff}");
    }
    // The audit log is written by a thread of its own: give it a moment.
    let read_audit = || {
        std::fs::read_dir(s._dir.path().join("state").join("tandem").join("sessions"))
            .expect("sessions")
            .filter_map(Result::ok)
            .map(|e| std::fs::read_to_string(e.path().join("audit.jsonl")).unwrap_or_default())
            .collect::<String>()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut audit = read_audit();
    while !audit.contains("keep old_two") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        audit = read_audit();
    }
    assert!(audit.contains("\"reason\":\"keep old_two\""), "{audit}");
    s.send(b"\x11");
    s.wait_exit();
}

/// The journals of the sessions, wherever the repository's key put them.
fn journal_files(home: &std::path::Path) -> Vec<std::path::PathBuf> {
    let root = home.join("data").join("tandem").join("sessions");
    let mut out = Vec::new();
    for repo in std::fs::read_dir(root).into_iter().flatten().flatten() {
        out.extend(std::fs::read_dir(repo.path()).into_iter().flatten().flatten().map(|e| e.path()));
    }
    out
}

#[test]
fn a_killed_session_continues_with_its_transcript_and_conversation() {
    let setup = |repo: &std::path::Path| {
        git2::Repository::init(repo).expect("git init");
        let git = repo.join(".git");
        std::fs::write(git.join("one.toml"), "[[turns]]\ntext = \"FIRST-ANSWER\"\n").expect("script");
        std::fs::write(git.join("two.toml"), "[[turns]]\ntext = \"SECOND-ANSWER\"\ncount_messages = true\n")
            .expect("script");
    };
    let mut s = Session::start_in(100, 30, &[], &["--provider", "script:.git/one.toml"], setup);
    s.wait_text("script");
    s.send(b"remember the word pelican\r");
    s.wait_text("FIRST-ANSWER");
    // The journal has the whole turn: then kill -9.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !journal_files(s._dir.path())
        .iter()
        .any(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("turn_ended")))
    {
        assert!(Instant::now() < deadline, "no journal with the turn");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = s.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
    assert!(killed.success());
    s.wait_exit();
    let Session { _dir: dir, .. } = s;

    let mut s = Session::start_at(dir, 100, 30, &[], &["--provider", "script:.git/two.toml", "--continue"]);
    s.wait_text("Resumed session");
    let screen = s.contents();
    assert!(screen.contains("remember the word pelican") && screen.contains("FIRST-ANSWER"), "{screen}");
    s.send(b"which word?\r");
    // The model got the earlier user message and answer with the new one.
    s.wait_text("SECOND-ANSWER (3 messages)");
    s.send(b"\x11");
    s.wait_exit();
}

/// A repository whose `.tandem/config.toml` lifts approvals: tandem asks
/// before the app starts, the answer is remembered, and a `no` keeps the
/// settings out without asking again.
#[test]
fn an_untrusted_repository_is_asked_about_once() {
    let setup = |repo: &std::path::Path| {
        git2::Repository::init(repo).expect("git init");
        std::fs::create_dir_all(repo.join(".tandem")).expect("mkdir");
        std::fs::write(repo.join(".tandem/config.toml"), "[tools]\npolicy = \"full-auto\"\n").expect("write");
    };
    let mut s = Session::start_in(100, 30, &[], &[], setup);
    s.wait_text("Trust it and apply them?");
    assert!(s.contents().contains("tools.policy = \"full-auto\""), "{}", s.contents());
    s.send(b"n\r");
    s.wait_text("Diff approval");
    s.wait_text("not trusted");
    s.send(b"\x11");
    s.wait_exit();
    let Session { _dir: dir, .. } = s;
    let store = std::fs::read_to_string(dir.path().join("data/tandem/trust.json")).expect("trust.json");
    assert!(store.contains("\"trusted\": false"), "{store}");

    // Declined: the app starts at once, and says how to trust.
    let mut s = Session::start_at(dir, 100, 30, &[], &[]);
    s.wait_text("Diff approval");
    assert!(!s.contents().contains("Trust it and apply them?"), "{}", s.contents());
    s.send(b"\x11");
    s.wait_exit();
    let Session { _dir: dir, .. } = s;

    // Changed settings ask again; `y` trusts and applies them.
    std::fs::write(dir.path().join("repo/.tandem/config.toml"), "[tools]\npolicy = \"auto-edit\"\n").expect("write");
    let mut s = Session::start_at(dir, 100, 30, &[], &[]);
    s.wait_text("Trust it and apply them?");
    s.send(b"y\r");
    s.wait_text("Diff approval");
    s.send(b"\x11");
    s.wait_exit();
    let Session { _dir: dir, .. } = s;
    let store = std::fs::read_to_string(dir.path().join("data/tandem/trust.json")).expect("trust.json");
    assert!(store.contains("\"trusted\": true"), "{store}");
}
