//! `run_command`: a shell command in the repository, after the user's
//! approval, with its output streamed to the chat and capped for the model.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;

pub use super::approval::CommandGate;
use super::args;
use super::registry::{BuiltinContext, BuiltinTool};
use super::shell_run::{run_shell, short_command};
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput};
use crate::llm::ToolSpec;

const DEFAULT_TIMEOUT_SECS: u64 = 120;
const MAX_TIMEOUT_SECS: u64 = 600;

pub(crate) struct RunCommand {
    workspace: Arc<Workspace>,
    gate: Arc<dyn CommandGate>,
}

impl RunCommand {
    pub fn new(workspace: Arc<Workspace>, gate: Arc<dyn CommandGate>) -> Self {
        Self { workspace, gate }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Args {
    /// The shell command line
    command: String,
    #[schemars(range(min = 1, max = MAX_TIMEOUT_SECS))]
    #[schemars(description = format!("Seconds before the command is killed (default {DEFAULT_TIMEOUT_SECS})"))]
    timeout_secs: Option<u64>,
}

impl BuiltinTool for RunCommand {
    const NAME: &'static str = "run_command";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self::new(cx.workspace.clone(), cx.gate.clone()))
    }
}

impl Tool for RunCommand {
    fn spec(&self) -> ToolSpec {
        args::spec::<Args>(
            Self::NAME,
            format!(
                "Run a shell command (`sh -c`) in the repository root, e.g. to build, test or use git. The user may \
                 be asked to approve it first. stdin is empty, so interactive commands fail: pass flags such as \
                 `--yes` or `--no-pager`. The result starts with the exit code (a non-zero exit is reported, not \
                 an error), then stdout and stderr interleaved; long output keeps its first and last 100 lines. \
                 The command is killed after timeout_secs (default {DEFAULT_TIMEOUT_SECS}, at most \
                 {MAX_TIMEOUT_SECS}); processes it leaves in the background are killed when it finishes. Prefer \
                 read_file, list_files and grep for reading the repository."
            ),
        )
    }

    fn run(&self, args: serde_json::Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let root = self.workspace.root().to_path_buf();
        let gate = self.gate.clone();
        Box::pin(async move {
            let args: Args = match args::parse(Self::NAME, args) {
                Ok(a) => a,
                Err(e) => return e,
            };
            if args.command.trim().is_empty() {
                return ToolOutput::error("the command is empty; pass the shell command line to run");
            }
            let timeout = args.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS).clamp(1, MAX_TIMEOUT_SECS);
            let verdict = tokio::select! {
                verdict = gate.check(&args.command) => verdict,
                () = ctx.cancel.cancelled() => return ToolOutput::error("cancelled before the command ran"),
            };
            if let Err(reason) = verdict {
                return ToolOutput::error(format!("the user declined to run this command: {reason}"));
            }
            let hint = if timeout < MAX_TIMEOUT_SECS {
                format!("; if it needs longer, pass a larger timeout_secs (at most {MAX_TIMEOUT_SECS})")
            } else {
                String::new()
            };
            run_shell(&root, &args.command, Duration::from_secs(timeout), &hint, &ctx).await.output
        })
    }

    fn describe(&self, args: &serde_json::Value) -> String {
        format!("$ {}", short_command(args::str_arg(args, "command").unwrap_or("?")))
    }

    fn timeout(&self) -> Option<Duration> {
        // Waiting for approval is not running; `run_shell` keeps its own time.
        None
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use crate::tools::approval::AllowAll;

    use nix::errno::Errno;
    use nix::unistd::Pid;
    use serde_json::json;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::tools::shell_run::PROGRESS_INTERVAL;

    fn tool() -> (tempfile::TempDir, RunCommand) {
        let dir = tempfile::tempdir().unwrap();
        let ws = Arc::new(Workspace::new(dir.path()));
        (dir, RunCommand::new(ws, Arc::new(AllowAll)))
    }

    async fn run(tool: &RunCommand, args: serde_json::Value) -> ToolOutput {
        tool.run(args, ToolContext::new(CancellationToken::new())).await
    }

    /// Gone, or a zombie whose parent (init in a container) has not reaped
    /// it yet: either way no longer running.
    fn is_gone(pid: i32) -> bool {
        match nix::sys::signal::kill(Pid::from_raw(pid), None) {
            Err(Errno::ESRCH) => true,
            Ok(()) => std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
                .unwrap_or(true),
            Err(_) => false,
        }
    }

    async fn wait_gone(pid: i32) -> bool {
        for _ in 0..60 {
            if is_gone(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    fn first_pid(content: &str) -> i32 {
        content.lines().find_map(|l| l.trim().parse().ok()).unwrap()
    }

    #[tokio::test]
    async fn runs_in_the_root_and_reports_exit_code_and_output() {
        let (dir, tool) = tool();
        let out = run(&tool, json!({"command": "pwd; echo oops >&2"})).await;
        assert!(!out.is_error, "{}", out.content);
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(out.content, format!("exit code 0\n{}\noops", root.display()));
        assert_eq!(out.summary, "`pwd; echo oops >&2`: exit 0, 2 lines of output");
    }

    #[tokio::test]
    async fn nonzero_exit_is_a_result_not_an_error() {
        let (_d, tool) = tool();
        let out = run(&tool, json!({"command": "echo failing; exit 3"})).await;
        assert!(!out.is_error);
        assert_eq!(out.content, "exit code 3\nfailing");
        assert!(out.summary.contains("exit 3"), "{}", out.summary);
        let out = run(&tool, json!({"command": "true"})).await;
        assert_eq!(out.content, "exit code 0\n(no output)");
    }

    #[tokio::test]
    async fn reports_death_by_signal() {
        let (_d, tool) = tool();
        let out = run(&tool, json!({"command": "kill -TERM $$"})).await;
        assert!(out.content.starts_with("killed by signal 15 (SIGTERM)"), "{}", out.content);
    }

    #[tokio::test]
    async fn interleaves_stdout_and_stderr_in_arrival_order() {
        let (dir, tool) = tool();
        // Each line is written once the one before has arrived (its
        // progress says so), whatever the scheduling: the arrival order is
        // the order written.
        let root = dir.path().to_path_buf();
        let mut ctx = ToolContext::new(CancellationToken::new());
        ctx.progress = Arc::new(move |text| {
            for line in text.lines() {
                std::fs::write(root.join(format!("got-{line}")), "").unwrap();
            }
        });
        let wait = |line: &str| format!("until [ -e got-{line} ]; do sleep 0.01; done");
        let command = format!("echo a; {}; echo b >&2; {}; echo c", wait("a"), wait("b"));
        let out = tool.run(json!({ "command": command }), ctx).await;
        assert_eq!(out.content, "exit code 0\na\nb\nc");
    }

    #[tokio::test]
    async fn stdin_is_empty() {
        let (_d, tool) = tool();
        let out = run(&tool, json!({"command": "cat; echo done", "timeout_secs": 5})).await;
        assert_eq!(out.content, "exit code 0\ndone");
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_process_group() {
        let (_d, tool) = tool();
        let started = std::time::Instant::now();
        let out = run(&tool, json!({"command": "sleep 100 & echo $!; sleep 100", "timeout_secs": 1})).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!out.is_error);
        assert!(out.content.starts_with("timed out after 1 s, killed"), "{}", out.content);
        assert!(out.summary.contains("timed out after 1 s"));
        let grandchild = first_pid(&out.content);
        assert!(wait_gone(grandchild).await, "background child {grandchild} survived");
    }

    #[tokio::test]
    async fn timeout_applies_after_the_command_closed_its_output() {
        let (_d, tool) = tool();
        let out =
            run(&tool, json!({"command": "echo before; exec >/dev/null 2>&1; sleep 100", "timeout_secs": 1})).await;
        assert!(out.content.starts_with("timed out after 1 s, killed"), "{}", out.content);
        assert!(out.content.ends_with("\nbefore"), "{}", out.content);
    }

    #[tokio::test]
    async fn cancel_kills_the_whole_process_group() {
        let (_d, tool) = tool();
        let cancel = CancellationToken::new();
        let pids = Arc::new(Mutex::new(String::new()));
        let mut ctx = ToolContext::new(cancel.clone());
        let seen = pids.clone();
        // Cancelled once the background child is running: its pid arrived.
        ctx.progress = Arc::new(move |text| {
            let mut seen = seen.lock().unwrap();
            seen.push_str(text);
            if seen.contains('\n') {
                cancel.cancel();
            }
        });
        let started = std::time::Instant::now();
        let out = tool.run(json!({"command": "sleep 100 & echo $!; sleep 100"}), ctx).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(out.is_error);
        assert!(out.content.starts_with("cancelled"), "{}", out.content);
        let grandchild = first_pid(&pids.lock().unwrap());
        assert!(wait_gone(grandchild).await, "background child {grandchild} survived");
    }

    #[tokio::test]
    async fn background_leftovers_are_killed_when_the_shell_exits() {
        let (_d, tool) = tool();
        let started = std::time::Instant::now();
        let out = run(&tool, json!({"command": "sleep 100 & echo $!"})).await;
        assert!(started.elapsed() < Duration::from_secs(5), "waited for the background child");
        assert!(out.content.starts_with("exit code 0"), "{}", out.content);
        assert!(wait_gone(first_pid(&out.content)).await);
    }

    #[tokio::test]
    async fn declined_commands_do_not_run() {
        struct Decline;
        impl CommandGate for Decline {
            fn check(&self, _command: &str) -> BoxFuture<'static, Result<(), String>> {
                Box::pin(async { Err("not now".to_string()) })
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let tool = RunCommand::new(Arc::new(Workspace::new(dir.path())), Arc::new(Decline));
        let out = run(&tool, json!({"command": "touch marker"})).await;
        assert!(out.is_error);
        assert_eq!(out.content, "the user declined to run this command: not now");
        assert!(!dir.path().join("marker").exists());
    }

    #[tokio::test]
    async fn long_output_keeps_head_and_tail() {
        let (_d, tool) = tool();
        let out = run(&tool, json!({"command": "seq 1 10000"})).await;
        let lines: Vec<_> = out.content.lines().collect();
        assert_eq!(lines[0], "exit code 0");
        assert_eq!(lines[1], "1");
        assert_eq!(lines[100], "100");
        assert_eq!(lines[101], "… 9800 lines elided …");
        assert_eq!(lines[102], "9901");
        assert_eq!(lines.last(), Some(&"10000"));
        assert!(out.summary.contains("10000 lines"));
    }

    #[tokio::test]
    async fn progress_arrives_in_line_chunks_without_flooding() {
        let (_d, tool) = tool();
        let calls = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut ctx = ToolContext::new(CancellationToken::new());
        let seen = calls.clone();
        ctx.progress = Arc::new(move |text| seen.lock().unwrap().push(text.to_string()));
        let command = "for i in 1 2 3 4 5 6 7 8 9 10; do echo $i; sleep 0.05; done; printf tail";
        let started = std::time::Instant::now();
        let out = tool.run(json!({"command": command}), ctx).await;
        let ticks = started.elapsed().as_millis() / PROGRESS_INTERVAL.as_millis();
        assert!(!out.is_error);
        let calls = calls.lock().unwrap();
        assert_eq!(calls.concat(), "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\ntail\n");
        // One per tick, plus the first tick (immediate) and the final flush.
        assert!(calls.len() as u128 <= ticks + 2, "{} progress calls in {ticks} ticks", calls.len());
        assert!(calls.len() < 10, "one call per line: {calls:?}");
    }

    #[tokio::test]
    async fn arguments_are_checked() {
        let (_d, tool) = tool();
        let out = run(&tool, json!({"command": "  "})).await;
        assert!(out.is_error && out.content.contains("empty"));
        let out = run(&tool, json!({"cmd": "ls"})).await;
        assert!(out.is_error && out.content.contains("invalid arguments for run_command"));
    }

    #[test]
    fn describes_and_keeps_its_own_time() {
        let (_d, tool) = tool();
        assert_eq!(tool.describe(&json!({"command": "cargo test"})), "$ cargo test");
        assert_eq!(tool.describe(&json!({"command": "a\nb"})), "$ a …");
        assert_eq!(tool.timeout(), None);
    }
}
