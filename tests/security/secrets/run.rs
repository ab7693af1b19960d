//! Real runs for the secret families: `tandem exec` with the planted
//! environment, scripts for its scripted model, a loopback model server, and
//! the app in a pseudo-terminal.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{PLAIN, PLANTED, USER_CONFIG, dotenv};
use crate::common;

/// Longest a run may take before it counts as hung and is killed. Not a
/// timing assertion: a run that ends at all ends in well under a second.
pub const HANG: Duration = Duration::from_secs(60);

/// One model turn of a script.
#[derive(Default, Clone)]
pub struct Turn {
    pub text: Option<String>,
    pub chunks: Vec<String>,
    /// `(tool name, arguments as JSON)`.
    pub calls: Vec<(String, serde_json::Value)>,
}

impl Turn {
    pub fn text(text: &str) -> Turn {
        Turn { text: Some(text.into()), ..Turn::default() }
    }

    pub fn command(command: &str) -> Turn {
        Turn::call("run_command", serde_json::json!({ "command": command }))
    }

    pub fn call(name: &str, args: serde_json::Value) -> Turn {
        Turn { text: Some("On it.".into()), calls: vec![(name.into(), args)], ..Turn::default() }
    }
}

/// The scripted model's file for `turns`, written as TOML by the toml crate
/// so that any quoting in the commands survives.
pub fn script(turns: &[Turn]) -> String {
    let mut list = Vec::new();
    for t in turns {
        let mut table = toml::Table::new();
        if let Some(text) = &t.text {
            table.insert("text".into(), text.clone().into());
        }
        if !t.chunks.is_empty() {
            table.insert("chunks".into(), t.chunks.iter().cloned().map(toml::Value::from).collect::<Vec<_>>().into());
        }
        if !t.calls.is_empty() {
            let calls: Vec<toml::Value> = t
                .calls
                .iter()
                .map(|(name, args)| {
                    let mut c = toml::Table::new();
                    c.insert("name".into(), name.clone().into());
                    c.insert("arguments".into(), args.to_string().into());
                    toml::Value::Table(c)
                })
                .collect();
            table.insert("tool_calls".into(), calls.into());
        }
        list.push(toml::Value::Table(table));
    }
    let mut root = toml::Table::new();
    root.insert("turns".into(), list.into());
    toml::to_string(&root).expect("script")
}

/// A repository with a `.env` of the planted secrets (and `files`), and a
/// home of its own holding the configuration, state, data and log.
pub struct Exec {
    pub repo: tempfile::TempDir,
    pub home: tempfile::TempDir,
    /// Outside the home, whose files are searched: a script may hold a key
    /// (a model that somehow knows it).
    scripts: tempfile::TempDir,
    pub extra_env: Vec<(String, String)>,
}

/// What a run left behind.
pub struct Ran {
    pub code: Option<i32>,
    pub hung: bool,
    pub stdout: String,
    pub stderr: String,
    /// Every file under the home: journal, audit log, log file, patches.
    pub files: Vec<(PathBuf, String)>,
}

impl Exec {
    pub fn new(files: &[(&str, &str)]) -> Exec {
        let env = dotenv();
        let mut all = vec![(".env", env.as_str())];
        all.extend_from_slice(files);
        let repo = common::git_repo(&all);
        let home = tempfile::tempdir().expect("home");
        let scripts = tempfile::tempdir().expect("scripts");
        let exec = Exec { repo, home, scripts, extra_env: Vec::new() };
        exec.user_config(USER_CONFIG);
        exec
    }

    pub fn user_config(&self, text: &str) {
        let dir = self.home.path().join("config").join("tandem");
        std::fs::create_dir_all(&dir).expect("config dir");
        std::fs::write(dir.join("config.toml"), text).expect("user config");
    }

    pub fn project_config(&self, text: &str) {
        let dir = self.repo.path().join(".tandem");
        std::fs::create_dir_all(&dir).expect("project dir");
        std::fs::write(dir.join("config.toml"), text).expect("project config");
    }

    /// `--provider` for a script of `turns`.
    pub fn script_flag(&self, turns: &[Turn]) -> String {
        let path = self.scripts.path().join(format!("script-{}.toml", fastrand::u64(..)));
        std::fs::write(&path, script(turns)).expect("script");
        format!("script:{}", path.display())
    }

    pub fn env(&mut self, name: &str, value: &str) -> &mut Exec {
        self.extra_env.push((name.into(), value.into()));
        self
    }

    /// The environment of every run: the planted secrets, the plain
    /// variables, a home of its own and a debug log.
    pub fn prepare(&self, cmd: &mut Command) {
        for var in ["VISUAL", "EDITOR"] {
            cmd.env_remove(var);
        }
        crate::harness::isolate(cmd, self.home.path())
            .env("TANDEM_LOG", "debug")
            // No probe for a local Ollama.
            .env("TANDEM_MODEL_PROFILE", "openai")
            .env("TANDEM_MODEL_MAX_RETRIES", "0");
        for (name, value) in PLANTED.iter().chain(PLAIN) {
            cmd.env(name, value);
        }
        for (name, value) in &self.extra_env {
            cmd.env(name, value);
        }
    }

    /// `tandem exec ARGS`, killed if it hangs.
    pub fn run(&self, args: &[&str]) -> Ran {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.arg("exec").args(args).current_dir(self.repo.path());
        self.prepare(&mut cmd);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run tandem exec");
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let out = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = out.read_to_end(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = err.read_to_end(&mut s);
            s
        });
        let started = Instant::now();
        let mut hung = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if started.elapsed() > HANG {
                hung = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let text = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
        Ran {
            code: status.and_then(|s| s.code()),
            hung,
            stdout: text(out.join().unwrap_or_default()),
            stderr: text(err.join().unwrap_or_default()),
            files: files_under(self.home.path()),
        }
    }

    pub fn read(&self, path: &str) -> Option<String> {
        std::fs::read(self.repo.path().join(path)).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}

/// Every file under `dir`, read as text.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    out
}

impl Ran {
    /// Every sink of the run: stdout, stderr, each file of the home.
    pub fn sinks(&self) -> Vec<(String, String)> {
        let mut s = vec![("stdout".to_string(), self.stdout.clone()), ("stderr".to_string(), self.stderr.clone())];
        // With --json the answer comes a piece per line: what a reader of
        // the events puts together.
        let answer: String = self
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["type"] == "text")
            .filter_map(|e| e["text"].as_str().map(str::to_string))
            .collect();
        s.push(("the answer's text events, joined".to_string(), answer));
        s.extend(self.files.iter().map(|(p, t)| (p.display().to_string(), t.clone())));
        s
    }

    pub fn clean(&self) -> Result<(), String> {
        if self.hung {
            return Err("the run hung and was killed".into());
        }
        for (sink, text) in self.sinks() {
            super::clean(&sink, &text)?;
        }
        Ok(())
    }
}

/// What a loopback model server answers one connection with.
#[derive(Clone)]
pub enum Reply {
    /// Write these bytes (the whole response) and close.
    Bytes(Vec<u8>),
}

impl Reply {
    /// An OpenAI chat-completions event stream of `events` (the JSON of each
    /// `data:` line), then `[DONE]`.
    pub fn sse(events: &[serde_json::Value]) -> Reply {
        let mut body = String::new();
        for e in events {
            body.push_str(&format!("data: {e}\n\n"));
        }
        body.push_str("data: [DONE]\n\n");
        Reply::Bytes(
            format!("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n{body}")
                .into_bytes(),
        )
    }

    /// An answer calling `name` with `args`.
    pub fn tool_call(name: &str, args: &serde_json::Value) -> Reply {
        Reply::sse(&[
            serde_json::json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": null, "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": args.to_string()}}
            ]}}]}),
            serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        ])
    }

    pub fn answer(text: &str) -> Reply {
        Reply::sse(&[
            serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]}),
            serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        ])
    }

    pub fn status(status: u16, content_type: &str, body: &str) -> Reply {
        Reply::Bytes(
            format!(
                "HTTP/1.1 {status} Scripted\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
}

/// A loopback model server on plain threads: each connection takes the
/// next reply (the last one repeats); request bodies are recorded.
pub struct Server {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        std::thread::spawn(move || {
            let mut next = 0;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let reply = replies[next.min(replies.len() - 1)].clone();
                next += 1;
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let request = read_request(&mut stream);
                    seen.lock().expect("bodies").push(request);
                    let Reply::Bytes(bytes) = reply;
                    let _ = stream.write_all(&bytes);
                });
            }
        });
        Server { url, bodies }
    }

    /// What tandem sent the model, every request.
    pub fn sent(&self) -> String {
        self.bodies.lock().expect("bodies").join("\n")
    }
}

/// The head and a Content-Length body of one request, as text.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk) {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return String::from_utf8_lossy(&buf).into_owned(),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk) {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    // The body only: the head carries the key as the bearer token, which
    // is where it belongs.
    String::from_utf8_lossy(&buf[head_end..]).into_owned()
}

/// The app in a pseudo-terminal, every byte it wrote kept.
pub struct Pty {
    pub bytes: Arc<Mutex<Vec<u8>>>,
    /// Every screen drawn, in order: text that scrolled away was seen too.
    pub screens: Arc<Mutex<Vec<String>>>,
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    pub fn start(exec: &Exec, args: &[&str]) -> Pty {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let pty = native_pty_system()
            .openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 })
            .expect("openpty");
        let mut probe = Command::new("true");
        exec.prepare(&mut probe);
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.args(args);
        cmd.cwd(exec.repo.path());
        for (name, value) in probe.get_envs() {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            }
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SSH_CONNECTION");
        let child = pty.slave.spawn_command(cmd).expect("spawn tandem");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(40), nz(120), 0)));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let screens = Arc::new(Mutex::new(Vec::new()));
        let (p, b, s) = (parser.clone(), bytes.clone(), screens.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut parser = p.lock().expect("parser");
                parser.process(&buf[..n]);
                b.lock().expect("bytes").extend_from_slice(&buf[..n]);
                let screen = parser.screen().contents();
                let mut seen = s.lock().expect("screens");
                if seen.last() != Some(&screen) {
                    seen.push(screen);
                }
            }
        });
        Pty { bytes, screens, parser, writer, child, _master: pty.master }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().expect("parser").screen().contents()
    }

    /// Wait for `text` on the screen; `Err` with the screen if it never shows.
    pub fn wait_text(&self, text: &str) -> Result<(), String> {
        let deadline = Instant::now() + HANG;
        while Instant::now() < deadline {
            if self.screen().contains(text) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("`{text}` never showed; screen:\n{}", self.screen()))
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.writer.write_all(bytes);
        let _ = self.writer.flush();
    }

    /// Quit with C-q and wait for the exit (killed if it does not come).
    pub fn quit(&mut self) -> Result<(), String> {
        self.send(b"\x11");
        let deadline = Instant::now() + HANG;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Let the reader take the last bytes.
                std::thread::sleep(Duration::from_millis(200));
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        Err(format!("tandem did not quit; screen:\n{}", self.screen()))
    }

    pub fn written(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().expect("bytes")).into_owned()
    }
}

fn nz(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("non-zero size")
}
