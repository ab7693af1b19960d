//! "child environments": what a program tandem starts for the model or a
//! check can see of the user's secrets. Each command writes what it found to
//! a file directly, so tandem's redaction cannot hide a leak: the secret
//! must not be in the child's environment at all.
//!
//! The ways to read an environment follow what peers guard against (codex's
//! `shell_environment_policy`, gemini-cli's `sanitizeEnvironment`).

use std::os::unix::fs::PermissionsExt;

use super::run::{Exec, Pty, Turn};
use super::{Case, PLAIN, PLANTED, case, find_leak, run_cases};
use crate::harness::Family;

pub fn family() -> Family {
    let mut f = Family::new("child environments");
    let mut cases: Vec<Case> = probes()
        .into_iter()
        .map(|(what, command, lists_names)| {
            case(format!("`{what}` in a command"), move || probe(&Exec::new(&[]), &command, lists_names))
        })
        .collect();
    cases.extend([
        case("non-secret variables still reach commands", plain_variables_pass),
        case("a repository's own `sh` on PATH is not the shell", path_sh_is_not_used),
        case("env_passthrough passes a listed variable, never a provider key", passthrough),
        case("extra env_patterns remove more variables", extra_patterns),
        case("a project file cannot weaken [secrets]", project_cannot_weaken),
        case("a [checks] test command sees no secret", check_command),
    ]);
    run_cases(&mut f, cases);
    f
}

/// `(label, command, whether it lists variable names)`.
fn probes() -> Vec<(String, String, bool)> {
    let mut p: Vec<(String, String, bool)> = Vec::new();
    let mut add = |what: &str, cmd: &str, lists: bool| p.push((what.to_string(), cmd.to_string(), lists));
    for (name, _) in PLANTED {
        add(&format!("echo ${name}"), &format!("echo \"${name}\""), false);
    }
    add(
        "printenv NAME…",
        &format!("printenv {}", PLANTED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ")),
        false,
    );
    add("env", "env", true);
    add("env -0", "env -0 | tr '\\0' '\\n'", true);
    add("printenv", "printenv", true);
    add("export -p", "export -p", true);
    add("set", "set", true);
    add("cat /proc/self/environ", "cat /proc/self/environ | tr '\\0' '\\n'", true);
    add("/proc/$$/environ of the shell", "tr '\\0' '\\n' < /proc/$$/environ", true);
    add("sh -c 'echo $ANTHROPIC_API_KEY'", "sh -c 'echo $ANTHROPIC_API_KEY; env'", true);
    add("a background child", "(sleep 0.1; env) & wait", true);
    add("exec env", "exec env", true);
    add("a subshell's export", "( export -p )", true);
    if has("bash") {
        add("bash -c declare -x", "bash -c 'declare -x; compgen -e'", true);
    }
    if has("python3") {
        add("python3 os.environ", "python3 -c 'import os; [print(k, v) for k, v in os.environ.items()]'", true);
    }
    if has("perl") {
        add("perl %ENV", "perl -e 'print map { \"$_=$ENV{$_}\\n\" } keys %ENV'", true);
    }
    p
}

fn has(program: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run `command` through the model under full-auto, its output captured to
/// `.probe` by the shell itself.
fn run_probe(exec: &Exec, command: &str) -> Result<String, String> {
    let flag = exec.script_flag(&[Turn::command(&format!("{{ {command} ; }} > .probe 2>&1")), Turn::text("Done.\n")]);
    let ran = exec.run(&["--policy", "full-auto", "--provider", &flag, "look around"]);
    if ran.hung {
        return Err("tandem exec hung".into());
    }
    exec.read(".probe").ok_or_else(|| format!("the command did not run; stderr: {}", ran.stderr))
}

fn probe(exec: &Exec, command: &str, lists_names: bool) -> Result<(), String> {
    let seen = run_probe(exec, command)?;
    check_seen(&seen, lists_names)
}

fn check_seen(seen: &str, lists_names: bool) -> Result<(), String> {
    if let Some(leak) = find_leak(seen) {
        return Err(format!("the child saw {leak}"));
    }
    if lists_names {
        for (name, _) in PLANTED {
            if seen.lines().any(|l| l.contains(&format!("{name}=")) || l.split_whitespace().any(|w| w == *name)) {
                return Err(format!("the child's environment has {name}"));
            }
        }
    }
    Ok(())
}

fn plain_variables_pass() -> Result<(), String> {
    let seen = run_probe(&Exec::new(&[]), "env")?;
    for (name, value) in PLAIN.iter().chain(&[("GIT_TERMINAL_PROMPT", "0")]) {
        if !seen.lines().any(|l| l == format!("{name}={value}")) {
            return Err(format!("{name} is missing from the command's environment:\n{seen}"));
        }
    }
    for name in ["PATH", "HOME"] {
        if !seen.lines().any(|l| l.starts_with(&format!("{name}="))) {
            return Err(format!("{name} is missing"));
        }
    }
    Ok(())
}

/// A repository (or direnv) can put a `sh` first on PATH; tandem must run
/// `/bin/sh`, not it.
fn path_sh_is_not_used() -> Result<(), String> {
    let mut exec = Exec::new(&[]);
    let bin = exec.repo.path().join(".bin");
    std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let marker = exec.repo.path().join("hijacked");
    let fake = bin.join("sh");
    std::fs::write(&fake, format!("#!/bin/sh\necho \"$@\" >> '{}'\nexec /bin/sh \"$@\"\n", marker.display()))
        .map_err(|e| e.to_string())?;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    exec.env("PATH", &path);
    run_probe(&exec, "echo ran")?;
    match std::fs::read_to_string(&marker) {
        Ok(text) => Err(format!("the repository's sh ran: {text}")),
        Err(_) => Ok(()),
    }
}

fn passthrough() -> Result<(), String> {
    let exec = Exec::new(&[]);
    exec.user_config(&format!(
        "{}\n",
        super::USER_CONFIG
            .replace(r#"env_passthrough = ["KEYMAP"]"#, r#"env_passthrough = ["KEYMAP", "OPENAI_API_KEY"]"#)
    ));
    let seen = run_probe(&exec, "env")?;
    if !seen.lines().any(|l| l.starts_with("KEYMAP=")) {
        return Err("KEYMAP, listed in env_passthrough, was removed".into());
    }
    check_seen(&seen, true)
}

fn extra_patterns() -> Result<(), String> {
    let mut exec = Exec::new(&[]);
    exec.user_config(&format!(
        "{}env_patterns = [\"*KEY*\", \"*SECRET*\", \"*TOKEN*\", \"*PASSWORD*\", \"*CREDENTIAL*\", \"*_DSN\"]\n",
        super::USER_CONFIG
    ));
    exec.env("SENTRY_DSN", "https-sentry-dsn-9f8e7d6c5b4a");
    let seen = run_probe(&exec, "env")?;
    if seen.contains("SENTRY_DSN") || seen.contains("9f8e7d6c5b4a") {
        return Err(format!("SENTRY_DSN reached the command:\n{seen}"));
    }
    check_seen(&seen, true)
}

/// A cloned repository decides nothing about which of the user's secrets
/// its programs see: it may add patterns, never remove or pass through.
fn project_cannot_weaken() -> Result<(), String> {
    let exec = Exec::new(&[]);
    exec.project_config(
        "[secrets]\nenv_patterns = []\nenv_passthrough = [\"GITHUB_TOKEN\", \"DB_PASSWORD\", \"ANTHROPIC_API_KEY\"]\n",
    );
    let seen = run_probe(&exec, "env")?;
    check_seen(&seen, true)
}

/// `/test` in the app runs `[checks] test_cmd` with `sh -c`: it must get
/// the same environment as the model's commands.
fn check_command() -> Result<(), String> {
    let exec = Exec::new(&[]);
    exec.user_config(&format!(
        "{}\n[checks]\ntest_cmd = \"env > .check-env; cat /proc/self/environ >> .check-env; echo checked $OPENAI_API_KEY\"\n",
        super::USER_CONFIG
    ));
    let flag = exec.script_flag(&[Turn::text("Hello.\n")]);
    let mut pty = Pty::start(&exec, &["--provider", &flag]);
    pty.wait_text("Message")?;
    pty.send(b"/test\r");
    let waited = pty.wait_text("tests passed");
    pty.quit()?;
    waited?;
    let seen = exec.read(".check-env").ok_or("the test command did not run")?;
    check_seen(&seen, true)?;
    if !seen.contains(&format!("PROJECT_MODE={}", PLAIN[0].1)) {
        return Err("the check's environment lost PROJECT_MODE".into());
    }
    super::clean("the screen", &pty.screen())
}
