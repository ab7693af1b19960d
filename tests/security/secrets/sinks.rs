//! "secret sinks": every way a secret can reach tandem (a command's output,
//! a file the model reads, a model or server that echoes the key, an error
//! body) against every place tandem puts text: what it sends the model,
//! stdout and stderr of `tandem exec` (text and JSON), the chat, the session
//! journal, the audit log, the log file and the patch file.

use serde_json::json;

use super::run::{Exec, Pty, Reply, Server, Turn};
use super::{Case, PLANTED, case, clean, dotenv, planted, run_cases};
use crate::harness::Family;

pub fn family() -> Family {
    let mut f = Family::new("secret sinks");
    let mut cases: Vec<Case> = Vec::new();
    for (what, name, args, modes) in tool_calls() {
        cases.push(case(format!("{what}: sent to the model and shown"), move || via_model_server(name, &args, modes)));
    }
    for (what, turns, args) in scripted() {
        cases.push(case(what, move || via_script(&turns, &args)));
    }
    for (what, reply) in error_bodies() {
        cases.push(case(what, move || error_body(reply, "0")));
    }
    cases.push(case("a 429 body announced in the retry note", || {
        let key = planted("OPENAI_API_KEY");
        error_body(Reply::status(429, "text/plain", &format!("{}{key} slow down", "x".repeat(280))), "1")
    }));
    cases.push(case("AGENTS.md quoting a key, sent with every request", agents_md));
    run_cases(&mut f, cases);
    app_session(&mut f);
    f
}

/// Run with `--json`, and also for a person when `both`.
type Modes = bool;

/// The line of `.env` that holds `name`, and where its value starts.
fn value_offset(name: &str) -> usize {
    let env = dotenv();
    let line = env.find(&format!("{name}=")).expect("planted");
    line + name.len() + 1
}

/// Tool calls whose results carry the secrets, as the loopback model asks:
/// `(label, tool, arguments, both output modes)`.
fn tool_calls() -> Vec<(String, &'static str, serde_json::Value, Modes)> {
    let mut c: Vec<(String, &'static str, serde_json::Value, Modes)> = Vec::new();
    let mut command =
        |what: String, cmd: String, both: Modes| c.push((what, "run_command", json!({ "command": cmd }), both));
    command("`cat .env`".into(), "cat .env".into(), true);
    command("`cat .env` on stderr".into(), "cat .env >&2".into(), true);
    command("`cat .env` in a failing command".into(), "cat .env; exit 3".into(), false);
    command("`grep -n = .env`".into(), "grep -n = .env".into(), false);
    command("a progress line redrawn with \\r".into(), "printf 'loading\\r'; cat .env".into(), false);
    command(
        "tandem's own environment, /proc/$PPID/environ".into(),
        "tr '\\0' '\\n' < /proc/$PPID/environ".into(),
        false,
    );
    for name in ["OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "WEIRD_SECRET"] {
        let value = planted(name);
        for cut in [1, value.len() / 2, value.len() - 1] {
            let at = value_offset(name) + cut;
            command(
                format!("{name} split across two reads after {cut} bytes"),
                format!("head -c {at} .env; sleep 0.1; tail -c +{} .env", at + 1),
                false,
            );
        }
    }
    // 64 KiB without a newline is broken into a line of its own: the break
    // must not fall inside a secret.
    let key = value_offset("OPENAI_API_KEY");
    for cut in [3, 12, 20, 30] {
        command(
            format!("a 64 KiB line broken {cut} bytes into the key"),
            format!(
                "head -c 65530 /dev/zero | tr '\\0' x; head -c {} .env; sleep 0.1; tail -c +{} .env",
                key + cut,
                key + cut + 1
            ),
            false,
        );
    }
    c.push((
        "a command that times out".into(),
        "run_command",
        json!({ "command": "cat .env; sleep 30", "timeout_secs": 1 }),
        false,
    ));
    c.push(("read_file of the secrets".into(), "read_file", json!({ "path": "local.env" }), true));
    c.push((
        "read_file of a line cut at 2000 bytes inside a key".into(),
        "read_file",
        json!({ "path": "long.txt" }),
        false,
    ));
    c.push(("grep through the secrets".into(), "grep", json!({ "pattern": "=", "path": "local.env" }), false));
    c.push((
        "grep of a line cut at 200 characters inside a key".into(),
        "grep",
        json!({ "pattern": "wide", "path": "wide.txt" }),
        false,
    ));
    c
}

/// Files the tool calls read: the secrets under a name the file tools do
/// not skip, and lines long enough to be cut inside a key.
fn repo_files() -> Vec<(&'static str, String)> {
    let key = planted("OPENAI_API_KEY");
    vec![
        ("local.env", dotenv()),
        // The key starts 20 bytes (characters) before the cut.
        ("long.txt", format!("{}{key}{}\n", "a".repeat(1980), "b".repeat(1000))),
        ("wide.txt", format!("wide {}{key} end\n", "w".repeat(175))),
    ]
}

/// The loopback model calls `name` with `args`, then answers: what it was
/// sent the second time holds the result.
fn via_model_server(name: &str, args: &serde_json::Value, both: Modes) -> Result<(), String> {
    let files = repo_files();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let mut exec = Exec::new(&refs);
    let runs: &[bool] = if both { &[true, false] } else { &[true] };
    let mut replies = Vec::new();
    for _ in runs {
        replies.extend([Reply::tool_call(name, args), Reply::answer("Done.")]);
    }
    let server = Server::start(replies);
    exec.env("OPENAI_BASE_URL", &format!("{}/v1", server.url));
    for &json_flag in runs {
        let mut argv = vec!["--policy", "full-auto", "summarise the configuration"];
        if json_flag {
            argv.insert(0, "--json");
        }
        let ran = exec.run(&argv);
        ran.clean()?;
        if ran.code != Some(0) {
            return Err(format!("the run failed: {}", ran.stderr));
        }
    }
    let requests = server.bodies.lock().map_err(|e| e.to_string())?.len();
    if requests < 2 * runs.len() {
        return Err(format!("the model was asked {requests} times: the tool result was never sent"));
    }
    clean("what the model was sent", &server.sent())
}

/// The repository's instructions go into the system prompt as they are.
fn agents_md() -> Result<(), String> {
    let note = format!("Deploy with the token {}\n", planted("GITHUB_TOKEN"));
    let mut exec = Exec::new(&[("AGENTS.md", &note)]);
    let server = Server::start(vec![Reply::answer("Done.")]);
    exec.env("OPENAI_BASE_URL", &format!("{}/v1", server.url));
    let ran = exec.run(&["--json", "deploy"]);
    ran.clean()?;
    let sent = server.sent();
    if !sent.contains("Deploy with the token") {
        return Err("AGENTS.md was not sent, so the case tried nothing".into());
    }
    clean("what the model was sent", &sent)
}

/// Scripted models that somehow know a secret (a server reflecting the
/// key, a key the model saw elsewhere): `(label, turns, exec arguments)`.
fn scripted() -> Vec<(String, Vec<Turn>, Vec<&'static str>)> {
    let mut s: Vec<(String, Vec<Turn>, Vec<&'static str>)> = Vec::new();
    let modes: [&[&'static str]; 2] = [&["--json"], &[]];
    for (name, value) in PLANTED {
        for mode in modes {
            s.push((
                format!("{name} in the answer ({})", mode_name(mode)),
                vec![Turn::text(&format!("Here it is: {value}. Done.\n"))],
                mode.to_vec(),
            ));
        }
    }
    for name in ["OPENAI_API_KEY", "WEIRD_SECRET", "AWS_SECRET_ACCESS_KEY"] {
        let value = planted(name);
        let bounds: Vec<usize> = value.char_indices().map(|(i, _)| i).skip(1).collect();
        for (i, cut) in [1, 4, 11, value.len() / 2, value.len() - 1].into_iter().enumerate() {
            let Some(&at) = bounds.iter().find(|&&b| b >= cut) else { continue };
            // Each split once, the modes taking turns.
            let mode = modes[i % 2];
            let turn = Turn {
                chunks: vec![format!("The key: {}", &value[..at]), format!("{} and more.\n", &value[at..])],
                ..Turn::default()
            };
            s.push((
                format!("{name} split across streamed chunks after {at} bytes ({})", mode_name(mode)),
                vec![turn],
                mode.to_vec(),
            ));
        }
        // One byte per chunk: the key never arrives in one piece.
        let turn = Turn { chunks: value.chars().map(String::from).collect(), ..Turn::default() };
        s.push((format!("{name} streamed one character at a time"), vec![turn], vec!["--json"]));
    }
    let key = planted("OPENAI_API_KEY");
    for mode in modes {
        s.push((
            format!("the key in a command the model runs ({})", mode_name(mode)),
            vec![Turn::command(&format!("echo {key} > /dev/null")), Turn::text("Done.\n")],
            [mode, &["--policy", "full-auto"]].concat(),
        ));
        s.push((
            format!("the key in a call to an unknown tool ({})", mode_name(mode)),
            vec![Turn::call("no_such_tool", json!({ "token": key })), Turn::text("Done.\n")],
            mode.to_vec(),
        ));
    }
    s.push((
        "the key written into a file, left in the patch file".into(),
        vec![
            Turn::call("write_file", json!({ "path": "config.txt", "content": format!("key = {key}\n") })),
            Turn::text("Done.\n"),
        ],
        vec!["--json"],
    ));
    s.push((
        "the key in an apply_patch, left in the patch file".into(),
        vec![
            Turn::call(
                "apply_patch",
                json!({ "patch": format!("*** Begin Patch\n*** Add File: notes.txt\n+token {key}\n*** End Patch") }),
            ),
            Turn::text("Done.\n"),
        ],
        vec![],
    ));
    s
}

fn mode_name(mode: &[&str]) -> &'static str {
    if mode.contains(&"--json") { "--json" } else { "text" }
}

fn via_script(turns: &[Turn], args: &[&str]) -> Result<(), String> {
    let exec = Exec::new(&[]);
    let flag = exec.script_flag(turns);
    let mut argv: Vec<&str> = args.to_vec();
    argv.extend(["--provider", &flag, "go"]);
    let ran = exec.run(&argv);
    ran.clean()?;
    if ran.stdout.trim().is_empty() {
        return Err(format!("the run printed nothing: {}", ran.stderr));
    }
    Ok(())
}

/// Error bodies that echo a secret around the 300 characters a message is
/// cut to, and at the very end.
fn error_bodies() -> Vec<(String, Reply)> {
    let mut e = Vec::new();
    for name in ["OPENAI_API_KEY", "GITHUB_TOKEN", "WEIRD_SECRET"] {
        let value = planted(name);
        // How much of the secret comes before the cut: a little over the
        // 12 characters looked for, half, all but one.
        for inside in [13, value.len() / 2, value.len() - 1] {
            let pad = "x".repeat(300 - inside);
            let message = format!("{pad}{value} trailing words");
            let body = json!({ "error": { "message": message } }).to_string();
            e.push((
                format!("{name} straddling the 300-character cut of a 500 body by {inside}"),
                Reply::status(500, "text/plain", &message),
            ));
            e.push((
                format!("{name} straddling the cut of a JSON 400 message by {inside}"),
                Reply::status(400, "application/json", &body),
            ));
            e.push((
                format!("{name} straddling the cut of a JSON 403 message by {inside}"),
                Reply::status(403, "application/json", &body),
            ));
            e.push((
                format!("{name} straddling the cut of a 200 JSON error by {inside}"),
                Reply::status(200, "application/json", &body),
            ));
        }
        e.push((
            format!("{name} at the very end of a 502 body"),
            Reply::status(502, "text/html", &format!("bad gateway {value}")),
        ));
        e.push((
            format!("{name} at the very end of a long body"),
            Reply::status(500, "text/plain", &format!("{}{value}", "y".repeat(5000))),
        ));
        e.push((
            format!("{name} in a 401 body"),
            Reply::status(
                401,
                "application/json",
                &json!({ "error": { "message": format!("bad key {value}") } }).to_string(),
            ),
        ));
    }
    e
}

fn error_body(reply: Reply, retries: &str) -> Result<(), String> {
    let mut exec = Exec::new(&[]);
    let server = Server::start(vec![reply]);
    exec.env("OPENAI_BASE_URL", &format!("{}/v1", server.url)).env("TANDEM_MODEL_MAX_RETRIES", retries);
    // The error goes to stdout as JSON and to stderr as text, and to the log.
    let ran = exec.run(&["--json", "hello"]);
    ran.clean()?;
    if ran.code != Some(1) || !ran.stdout.contains("\"type\":\"error\"") {
        return Err(format!("expected the run to fail; status {:?}: {}", ran.code, ran.stderr));
    }
    let log = exec.home.path().join("state").join("tandem").join("tandem.log");
    if !log.exists() {
        return Err("no log file was written, so it was not searched".into());
    }
    Ok(())
}

/// The app in a terminal: the answer streams the key in two pieces, a
/// command prints every secret, a failing check prints them again. Every
/// screen drawn, the journal, the audit log and the log file are searched.
fn app_session(f: &mut Family) {
    let exec = Exec::new(&[]);
    exec.user_config(&format!("{}\n[checks]\ntest_cmd = \"cat .env; exit 1\"\n", super::USER_CONFIG));
    let key = planted("OPENAI_API_KEY");
    let first = Turn {
        chunks: vec![format!("Your key starts {}", &key[..20]), format!("{} and ends here.\n", &key[20..])],
        calls: vec![(
            "run_command".into(),
            json!({ "command": "cat .env; tr '\\0' '\\n' < /proc/$PPID/environ; echo \"$OPENAI_API_KEY\"" }),
        )],
        ..Turn::default()
    };
    let flag = exec.script_flag(&[first, Turn::text("All done.\n")]);
    let mut pty = Pty::start(&exec, &["--policy", "full-auto", "--provider", &flag]);
    let mut steps = pty.wait_text("Message").and_then(|()| {
        pty.send(b"show me the configuration\r");
        pty.wait_text("All done.")
    });
    steps = steps.and_then(|()| {
        pty.send(b"/test\r");
        pty.wait_text("tests failed")
    });
    let quit = pty.quit();
    f.case("the app session ran", steps.is_ok() && quit.is_ok(), format!("{steps:?} {quit:?}"));
    let screens = pty.screens.lock().map(|s| s.join("\n")).unwrap_or_default();
    let verdict = |r: Result<(), String>| match r {
        Ok(()) => (true, String::new()),
        Err(e) => (false, e),
    };
    let (held, why) = verdict(clean("the chat", &screens));
    f.case("the chat, every screen drawn", held, why);
    let (held, why) = verdict(clean("the terminal output", &strip_escapes(&pty.written())));
    f.case("every byte written to the terminal", held, why);
    let files = super::run::files_under(exec.home.path());
    for (what, part) in
        [("the session journal", "/sessions/"), ("the audit log", "audit.jsonl"), ("the log file", "tandem.log")]
    {
        let found: Vec<_> = files.iter().filter(|(p, _)| p.to_string_lossy().contains(part)).collect();
        let result = if found.is_empty() {
            Err(format!("no {what} was written, so it could not be searched"))
        } else {
            found.iter().try_for_each(|(p, text)| clean(&p.display().to_string(), text))
        };
        let (held, why) = verdict(result);
        f.case(what, held, why);
    }
}

/// Terminal output without its escape sequences, so text drawn in one go
/// reads as text.
fn strip_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.peek() == Some(&'\\')) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}
