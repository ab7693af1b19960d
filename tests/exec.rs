//! `tandem exec`, the real binary in a temporary git repository: a
//! scripted model reads a file and proposes a two-hunk edit; under suggest
//! it becomes a patch file and nothing else changes, under auto-edit it is
//! written and staged. Failing and missing providers exit non-zero and say
//! why.

mod common;
mod llm_server;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{LIB, git_repo, staged};
use llm_server::{Reply, Server};

/// Read the file, then two `edit_file` calls on it in one round: one
/// proposal of two hunks; then a closing answer.
const SCRIPT: &str = r#"
[[turns]]
text = "Let me read it."
tool_calls = [{ name = "read_file", arguments = '{"path": "src/lib.rs"}' }]
usage = { input = 100, output = 10 }

[[turns]]
text = "I'll make two changes."
tool_calls = [
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "    a + b\n", "new_text": "    a.wrapping_add(b)\n"}' },
  { name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "pub fn old_name()", "new_text": "pub fn new_name()"}' },
]
usage = { input = 200, output = 20 }

[[turns]]
text = "Both changes are in.\n"
usage = { input = 300, output = 5 }
"#;

fn edited() -> String {
    LIB.replace("    a + b\n", "    a.wrapping_add(b)\n").replace("old_name", "new_name")
}

/// A repository with `src/lib.rs` committed, the script beside it, and a
/// home of its own for configuration, state and cache.
struct Fixture {
    repo: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let repo = git_repo(&[("src/lib.rs", LIB)]);
        let home = tempfile::tempdir().expect("home");
        std::fs::write(home.path().join("script.toml"), SCRIPT).expect("script");
        Fixture { repo, home }
    }

    fn script_flag(&self) -> String {
        format!("script:{}", self.home.path().join("script.toml").display())
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.arg("exec").args(args).current_dir(self.repo.path());
        let home = self.home.path();
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_DATA_HOME", home.join("data"));
        for var in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "TANDEM_LOG"] {
            cmd.env_remove(var);
        }
        // No probe for a local Ollama: a profile that needs no network.
        cmd.env("TANDEM_MODEL_PROFILE", "openai");
        cmd
    }

    /// Run with `stdin` as the standard input (none: /dev/null).
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run tandem");
        if let Some(text) = stdin {
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("wait for tandem")
    }

    fn lib(&self) -> String {
        std::fs::read_to_string(self.repo.path().join("src/lib.rs")).expect("read")
    }
}

fn events(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `git apply --check PATCH` in `repo`, with git itself when it is
/// installed, else with libgit2's check.
fn git_apply_check(repo: &Path, patch: &Path) {
    match Command::new("git").arg("apply").arg("--check").arg(patch).current_dir(repo).output() {
        Ok(out) => assert!(out.status.success(), "git apply --check: {}", String::from_utf8_lossy(&out.stderr)),
        Err(_) => {
            let repo = git2::Repository::open(repo).expect("open");
            let diff = git2::Diff::from_buffer(&std::fs::read(patch).expect("patch")).expect("parse patch");
            let mut opts = git2::ApplyOptions::new();
            opts.check(true);
            repo.apply(&diff, git2::ApplyLocation::WorkDir, Some(&mut opts)).expect("the patch applies");
        }
    }
}

#[test]
fn suggest_in_json_proposes_a_patch_and_changes_nothing() {
    let f = Fixture::new();
    let out = f.run(&["--json", "--provider", &f.script_flag(), "rename old_name"], None);
    assert!(out.status.success(), "{:?} {}", out.status, stderr(&out));
    let events = events(&out);
    let mut types: Vec<&str> = events.iter().map(|e| e["type"].as_str().expect("a type")).collect();
    types.dedup();
    assert_eq!(
        types,
        [
            "turn_started",
            "text",
            "tool_call",
            "tool_result",
            "text",
            "tool_call",
            "tool_result",
            "tool_call",
            "tool_result",
            "proposal",
            "decision",
            "text",
            "usage",
            "turn_completed",
        ]
    );
    let find = |t: &str| events.iter().find(|e| e["type"] == t).expect(t).clone();
    let call = find("tool_call");
    assert_eq!((call["name"].as_str(), call["summary"].as_str()), (Some("read_file"), Some("read src/lib.rs")));
    let result = find("tool_result");
    assert_eq!(result["id"], call["id"]);
    assert_eq!(result["ok"], true);
    assert!(result["elapsed_ms"].is_u64());
    let proposal = find("proposal");
    assert_eq!(
        proposal["files"],
        serde_json::json!([{"path": "src/lib.rs", "new_path": null, "kind": "modify", "hunks": 2}])
    );
    let decision = find("decision");
    assert_eq!((decision["path"].as_str(), decision["outcome"].as_str()), (Some("src/lib.rs"), Some("proposed")));
    let usage = find("usage");
    assert_eq!((usage["input_tokens"].as_u64(), usage["output_tokens"].as_u64()), (Some(600), Some(35)));
    assert!(usage["cost_usd"].is_null(), "a script has no prices: {usage}");
    assert_eq!(find("turn_completed")["outcome"], "completed");
    let answer: String = events.iter().filter(|e| e["type"] == "text").filter_map(|e| e["text"].as_str()).collect();
    assert!(answer.ends_with("Both changes are in.\n"), "{answer}");

    // Nothing written, nothing staged; the patch applies to the tree as it is.
    assert_eq!(f.lib(), LIB);
    assert_eq!(staged(f.repo.path(), "src/lib.rs").as_deref(), Some(LIB));
    let patch = Path::new(proposal["patch"].as_str().expect("a patch path")).to_path_buf();
    assert!(patch.starts_with(f.home.path().join("state")), "{}", patch.display());
    let text = std::fs::read_to_string(&patch).expect("the patch file");
    assert_eq!(text.matches("\n@@ ").count(), 2, "{text}");
    git_apply_check(f.repo.path(), &patch);
    let applied = Command::new("git").args(["apply"]).arg(&patch).current_dir(f.repo.path()).status();
    if applied.is_ok_and(|s| s.success()) {
        assert_eq!(f.lib(), edited());
    }
}

#[test]
fn suggest_for_a_person_prints_the_answer_and_the_patch_path_on_stdout() {
    let f = Fixture::new();
    let patch = f.home.path().join("out").join("change.patch");
    let out = f
        .run(&["--provider", &f.script_flag(), "--patch-out", patch.to_str().expect("utf-8"), "rename old_name"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, format!("Let me read it.\nI'll make two changes.\nBoth changes are in.\n{}\n", patch.display()));
    let err = stderr(&out);
    assert!(err.contains("• read src/lib.rs\n"), "{err}");
    assert!(err.contains("2 hunks in 1 file proposed, not applied"), "{err}");
    assert!(err.contains("600 tokens in, 35 out"), "{err}");
    git_apply_check(f.repo.path(), &patch);
    assert_eq!(f.lib(), LIB);
}

#[test]
fn auto_edit_writes_and_stages_the_change() {
    let f = Fixture::new();
    let out = f.run(&["--json", "--policy", "auto-edit", "--provider", &f.script_flag(), "rename old_name"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out);
    let proposal = events.iter().find(|e| e["type"] == "proposal").expect("proposal");
    assert!(proposal["patch"].is_null());
    let decision = events.iter().find(|e| e["type"] == "decision").expect("decision");
    assert_eq!(decision["outcome"], "staged", "{decision}");
    assert_eq!(f.lib(), edited());
    assert_eq!(staged(f.repo.path(), "src/lib.rs"), Some(edited()));
}

#[test]
fn the_prompt_can_come_on_stdin() {
    let server_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let answer = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"From stdin, \"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"understood.\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let server = server_rt.block_on(Server::start(vec![Reply::sse([answer]), Reply::sse([answer])]));
    let url = format!("{}/v1", server.url());
    std::thread::spawn(move || server_rt.block_on(std::future::pending::<()>()));

    let f = Fixture::new();
    let run = |args: &[&str]| {
        let mut cmd = f.command(args);
        cmd.env("OPENAI_API_KEY", "sk-test").env("OPENAI_BASE_URL", &url);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run tandem");
        child.stdin.take().expect("stdin").write_all(b"explain the add function\n").expect("write");
        child.wait_with_output().expect("wait")
    };
    for args in [&[][..], &["-"][..]] {
        let out = run(args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "From stdin, understood.\n");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in requests {
        let user = r.body["messages"].as_array().expect("messages").iter().find(|m| m["role"] == "user").cloned();
        assert_eq!(user.expect("a user message")["content"], "explain the add function\n");
    }
}

#[test]
fn a_failing_provider_exits_1_with_the_reason() {
    let server_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let fail = || Reply::json(500, r#"{"error":{"message":"the model is on fire"}}"#).header("Retry-After", "0");
    let server = server_rt.block_on(Server::start(vec![fail(), fail()]));
    let url = format!("{}/v1", server.url());
    std::thread::spawn(move || server_rt.block_on(std::future::pending::<()>()));

    let f = Fixture::new();
    let mut cmd = f.command(&["--json", "fix it"]);
    cmd.env("OPENAI_API_KEY", "sk-test").env("OPENAI_BASE_URL", &url).env("TANDEM_MODEL_MAX_RETRIES", "1");
    let out = cmd.stdin(Stdio::null()).output().expect("run tandem");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("the model's answer failed") && err.contains("500"), "{err}");
    assert!(err.contains("the model is on fire"), "{err}");
    assert!(!err.contains("sk-test"), "{err}");
    let events = events(&out);
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["turn_started", "error", "usage", "turn_completed"]);
    assert_eq!(events[3]["outcome"], "failed");
    assert_eq!(server.requests().len(), 2, "one retry");
    assert_eq!(f.lib(), LIB);
}

#[test]
fn offline_exits_3_and_says_how_to_configure_a_model() {
    let f = Fixture::new();
    let out = f.run(&["fix it"], None);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("OPENAI_API_KEY") && err.contains("--provider"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn no_prompt_is_a_usage_error() {
    let f = Fixture::new();
    let out = f.run(&["--provider", &f.script_flag()], Some("  \n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the prompt is empty"), "{}", stderr(&out));
    let out = f.run(&["--policy", "reckless", "x"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ctrl_c_stops_the_turn_and_exits_130() {
    let f = Fixture::new();
    let slow = f.home.path().join("slow.toml");
    std::fs::write(&slow, "[[turns]]\ndelay_ms = 100\ntext = \"one two three four five six seven eight nine ten\"\n")
        .expect("script");
    let mut cmd = f.command(&["--json", "--provider", &format!("script:{}", slow.display()), "count"]);
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn");
    // Wait for the answer to start, then interrupt.
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    while !seen.contains("\"text\"") {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut stdout, &mut line).expect("read");
        assert!(n > 0, "tandem ended early: {seen}");
        seen.push_str(&line);
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("kill");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    let last: serde_json::Value = serde_json::from_str(rest.lines().last().expect("a last line")).expect("json");
    assert_eq!((last["type"].as_str(), last["outcome"].as_str()), (Some("turn_completed"), Some("cancelled")));
}
