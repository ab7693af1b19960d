//! "secret redaction": the choke points themselves, tried at every split
//! and cut position that the real runs only sample: a stream cut between
//! any two bytes of a secret, a command's output in any pieces, a line cut
//! at any offset of a key, an error body with the key at every position
//! around its cut, every secret in each spelling, and which variable names
//! are secrets (lists after gitleaks, gemini-cli and codex).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tandem::secrets::{Redactor, Secrets, StreamRedactor};
use tandem::tools::shell_output::{Capture, Stream};
use tandem::tools::{Tool, ToolContext};
use tokio_util::sync::CancellationToken;

use super::{PLANTED, clean, planted};
use crate::harness::Family;

pub fn family() -> Family {
    let mut f = Family::new("secret redaction");
    let redactor = Arc::new(Redactor::new(PLANTED.iter().map(|(_, v)| *v)));
    streams(&mut f, &redactor);
    captures(&mut f, &redactor);
    error_bodies(&mut f);
    names(&mut f);
    // The tools, the journal and the printer use the secrets in force:
    // those of this process, with the planted ones added for a while.
    let before = tandem::secrets::current();
    tandem::secrets::install(planted_secrets());
    tools(&mut f);
    records(&mut f);
    printer(&mut f);
    tandem::secrets::install((*before).clone());
    logs(&mut f, &redactor);
    f
}

/// The rules of a user with the planted environment and configuration.
fn planted_secrets() -> Secrets {
    let config = tandem::config::SecretsConfig {
        env_patterns: tandem::secrets::DEFAULT_PATTERNS.iter().map(|p| p.to_string()).collect(),
        env_passthrough: Vec::new(),
    };
    let vars = PLANTED.iter().map(|(n, v)| (n.to_string(), v.to_string()));
    Secrets::new(&config, &["CORP_LLM_CREDS".to_string()], vars).0
}

/// Where a byte split of `value` can fall (between characters).
fn cuts(value: &str) -> Vec<usize> {
    value.char_indices().map(|(i, _)| i).skip(1).collect()
}

fn streams(f: &mut Family, redactor: &Arc<Redactor>) {
    for (name, value) in PLANTED {
        let text = format!("before {value} after");
        for cut in cuts(&text) {
            let mut s = StreamRedactor::new(redactor.clone());
            let mut out = s.push(&text[..cut]);
            out.push_str(&s.push(&text[cut..]));
            out.push_str(&s.finish());
            f.check(format!("{name} streamed in two pieces at byte {cut}"), || {
                clean("the stream", &out)?;
                (out == "before [REDACTED] after").then_some(()).ok_or_else(|| format!("changed the text: {out}"))
            });
        }
        let mut s = StreamRedactor::new(redactor.clone());
        let mut out: String = text.chars().map(|c| s.push(&c.to_string())).collect();
        out.push_str(&s.finish());
        f.check(format!("{name} streamed a character at a time"), || clean("the stream", &out));
    }
}

fn captures(f: &mut Family, redactor: &Arc<Redactor>) {
    for (name, value) in [("OPENAI_API_KEY", planted("OPENAI_API_KEY")), ("WEIRD_SECRET", planted("WEIRD_SECRET"))] {
        let line = format!("{name}={value}\n");
        for cut in cuts(&line) {
            let mut c = Capture::new(redactor.clone());
            c.push(Stream::Stdout, &line.as_bytes()[..cut]);
            c.push(Stream::Stderr, b"a warning in between\n");
            c.push(Stream::Stdout, &line.as_bytes()[cut..]);
            c.finish();
            let progress = c.take_progress().unwrap_or_default();
            let render = c.render();
            f.check(format!("{name} reaching a command's output in two reads at byte {cut}"), || {
                clean("the progress lines", &progress)?;
                clean("the output", &render)
            });
        }
        // 64 KiB without a newline is broken into a line of its own when
        // the next piece arrives: that piece ending at every byte of the
        // secret.
        for pad in [64 * 1024 - 1, 64 * 1024 - 6] {
            for cut in cuts(value) {
                let mut c = Capture::new(redactor.clone());
                c.push(Stream::Stdout, &vec![b'x'; pad]);
                c.push(Stream::Stdout, &value.as_bytes()[..cut]);
                c.push(Stream::Stdout, format!("{} rest\n", &value[cut..]).as_bytes());
                c.finish();
                let (progress, render) = (c.take_progress().unwrap_or_default(), c.render());
                f.check(format!("{name} in a 64 KiB line broken after {cut} of its bytes ({pad} before)"), || {
                    clean("the progress lines", &progress)?;
                    clean("the output", &render)
                });
            }
        }
    }
}

fn error_bodies(f: &mut Family) {
    let key = planted("OPENAI_API_KEY");
    let config = tandem::llm::HttpConfig {
        api_key: Some(tandem::llm::Secret::new(key)),
        api_key_env: Some("OPENAI_API_KEY".into()),
        ..Default::default()
    };
    for start in (300 - key.len() - 2)..=302 {
        let raw = format!("{}{key} and the rest of the page", "x".repeat(start));
        let json = json!({ "error": { "message": raw } }).to_string();
        for (what, status, body) in [("a page", 500, &raw), ("a JSON message", 400, &json), ("a 403", 403, &json)] {
            let message = tandem::llm::http::classify_status(status, body, &config).to_string();
            f.check(format!("the key at character {start} of {what}"), || clean("the error", &message));
        }
    }
}

fn names(f: &mut Family) {
    let secrets = planted_secrets();
    let names = secrets.names();
    // After gitleaks' and gemini-cli's lists of credential variables.
    for name in [
        "OPENAI_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITLAB_PRIVATE_TOKEN",
        "NPM_TOKEN",
        "CARGO_REGISTRY_TOKEN",
        "PYPI_API_TOKEN",
        "TWINE_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SLACK_BOT_TOKEN",
        "STRIPE_SECRET_KEY",
        "SENTRY_AUTH_TOKEN",
        "VAULT_TOKEN",
        "DOCKER_PASSWORD",
        "PGPASSWORD",
        "MYSQL_ROOT_PASSWORD",
        "SSH_PRIVATE_KEY",
        "api_key",
        "Db_Password",
        "CORP_LLM_CREDS",
        "HF_TOKEN",
        "GEMINI_API_KEY",
    ] {
        f.case(format!("{name} is a secret"), names.is_secret(name, "some-value"), "passed to commands");
    }
    for name in
        ["PATH", "HOME", "USER", "SHELL", "LANG", "TERM", "PWD", "TMPDIR", "CARGO_HOME", "GOPATH", "SSH_AUTH_SOCK"]
    {
        f.case(format!("{name} is not a secret"), !names.is_secret(name, "/usr/local/bin"), "removed from commands");
    }
    for (what, value) in [
        ("a URL with a password", "mysql://root:s3cr3tpass@localhost/db"),
        ("a GitHub token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("an AWS access key id", "AKIAIOSFODNN7EXAMPLE"),
        ("a private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
        ("a Slack token", "xoxb-123456789012-abcdefghij"),
        ("a Stripe key", "sk_live_abcdefghijklmnop1234"),
    ] {
        f.case(format!("{what} under an innocent name is a secret"), names.is_secret("SETTING", value), value);
    }
}

fn tools(f: &mut Family) {
    let key = planted("OPENAI_API_KEY");
    let Ok(dir) = tempfile::tempdir() else {
        f.case("a temporary directory", false, "cannot make one");
        return;
    };
    let ws = Arc::new(tandem::tools::workspace::Workspace::new(dir.path()));
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        f.case("a runtime", false, "cannot build one");
        return;
    };
    let run = |tool: &dyn Tool, args: serde_json::Value| {
        rt.block_on(tool.run(args, ToolContext::new(CancellationToken::new()))).content
    };
    let read = tandem::tools::read::ReadFile::new(ws.clone());
    let grep = tandem::tools::grep::Grep::new(ws.clone());
    for start in (2000 - key.len() - 1)..=2001 {
        let file = format!("long{start}.txt");
        let line = format!("{}{key}{}\n", "a".repeat(start), "b".repeat(500));
        if std::fs::write(dir.path().join(&file), line).is_err() {
            continue;
        }
        let out = run(&read, json!({ "path": file }));
        f.check(format!("read_file of a line cut at 2000 bytes, the key at {start}"), || clean("read_file", &out));
    }
    for start in (200 - key.len() - 1)..=201 {
        let file = format!("wide{start}.txt");
        if std::fs::write(dir.path().join(&file), format!("needle {}{key} end\n", "w".repeat(start))).is_err() {
            continue;
        }
        let out = run(&grep, json!({ "pattern": "needle", "path": file }));
        f.check(format!("grep of a line cut at 200 characters, the key at {start}"), || clean("grep", &out));
    }
}

fn records(f: &mut Family) {
    use tandem::session::journal::{Entry, Journal};
    let Ok(dir) = tempfile::tempdir() else { return };
    let mut journal = Journal::open(dir.path(), "s1", None);
    let audit = tandem::session::audit::AuditLog::open(dir.path());
    for (name, value) in PLANTED {
        journal.record(Entry::User { text: format!("my {name} is {value}") });
        journal.record(Entry::ToolCall {
            id: "1".into(),
            name: "run_command".into(),
            arguments: json!({ "command": format!("echo {value}") }).to_string(),
        });
        journal.record(Entry::ToolResult { id: "1".into(), ok: true, output: format!("{value}\n") });
        audit.record(tandem::session::audit::Record::command_allowed(
            tandem::config::Policy::FullAuto,
            "the policy",
            &format!("curl -H 'Authorization: {value}' example.com"),
        ));
    }
    journal.flush(Duration::from_secs(5));
    audit.flush(Duration::from_secs(5));
    for (what, path) in
        [("the session journal", journal.path().to_path_buf()), ("the audit log", audit.path().to_path_buf())]
    {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        f.check(format!("every secret recorded in {what}"), || {
            if text.lines().count() < PLANTED.len() {
                return Err(format!("{what} has {} lines", text.lines().count()));
            }
            if let Some(bad) = text.lines().find(|l| serde_json::from_str::<serde_json::Value>(l).is_err()) {
                return Err(format!("a line is no longer JSON: {bad}"));
            }
            clean(what, &text)
        });
    }
}

fn printer(f: &mut Family) {
    use tandem::exec::output::{Event, Output};
    for json_mode in [true, false] {
        for (name, value) in PLANTED {
            let (out, err) = (Shared::default(), Shared::default());
            let mut o = Output::to(json_mode, Box::new(out.clone()), Box::new(err.clone()));
            o.event(&Event::Text { text: format!("the {name}: {value}\n") });
            o.event(&Event::ToolCall {
                id: "1".into(),
                name: "run_command".into(),
                summary: format!("$ echo {value}"),
            });
            o.event(&Event::Error { message: format!("the server said {value}") });
            o.note(&format!("note {value}"));
            let (out, err) = (out.text(), err.text());
            f.check(format!("{name} printed by tandem exec ({})", if json_mode { "--json" } else { "text" }), || {
                clean("stdout", &out)?;
                clean("stderr", &err)
            });
        }
    }
}

fn logs(f: &mut Family, redactor: &Arc<Redactor>) {
    use std::io::Write;
    use tracing_subscriber::fmt::MakeWriter;
    for (name, value) in PLANTED {
        for cut in cuts(value) {
            let sink = Shared::default();
            let make = tandem::logging::Redacting { make: sink.clone(), redactor: Some(redactor.clone()) };
            let mut w = make.make_writer();
            let line = format!("WARN turn failed: {value} end\n");
            let at = line.find(value).unwrap_or(0) + cut;
            let _ = w.write_all(&line.as_bytes()[..at]);
            let _ = w.write_all(&line.as_bytes()[at..]);
            drop(w);
            let logged = sink.text();
            f.check(format!("{name} logged in two writes split at byte {cut}"), || clean("the log", &logged));
        }
    }
}

/// A writer whose bytes are read back.
#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

impl Shared {
    fn text(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Shared {
    type Writer = Shared;
    fn make_writer(&'a self) -> Shared {
        self.clone()
    }
}
