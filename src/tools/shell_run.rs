//! Running a shell command for a tool or a check: in the repository,
//! without secrets, in a process group of its own that is killed at the
//! time limit, on cancel and when the shell ends; its output streamed as it
//! arrives and capped for the model; and how it ended, in words.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use super::shell_output::{Capture, Stream};
use super::{ToolContext, ToolOutput};

/// How often output is passed on to the chat.
pub(super) const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);
/// After the shell ends, how long to wait for output still in flight from
/// processes that escaped its process group (`setsid`) and keep the pipes
/// open.
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// The command's process group, killed as a whole so the shell's children
/// die with it; also on drop, when the call itself is abandoned.
struct ProcessGroup {
    pgid: Option<Pid>,
}

impl ProcessGroup {
    fn kill(&mut self) {
        // Once only: after the group is gone its id may be reused.
        if let Some(pgid) = self.pgid.take() {
            // ESRCH (nobody left) is the expected outcome after a clean exit.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How a command's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    /// It ended by itself, or by a signal from outside.
    Exited(ExitStatus),
    /// It ran past its time limit and was killed.
    TimedOut(Duration),
    /// `ctx.cancel` fired and it was killed.
    Cancelled,
    /// The shell could not be started, or waiting for it failed: why.
    Failed(String),
}

impl Ending {
    /// The exit code, when the command exited by itself.
    pub(crate) fn exit_code(&self) -> Option<i32> {
        match self {
            Ending::Exited(status) => status.code(),
            _ => None,
        }
    }

    /// A few words for a one-line summary: "exit 3", "killed by SIGTERM",
    /// "timed out after 5 s", "cancelled".
    pub(crate) fn short(&self) -> String {
        match self {
            Ending::Exited(status) => match (status.code(), status.signal()) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(sig)) => format!("killed by {}", signal_name(sig)),
                (None, None) => "ended".to_string(),
            },
            Ending::TimedOut(after) => format!("timed out after {} s", after.as_secs()),
            Ending::Cancelled => "cancelled".to_string(),
            Ending::Failed(why) => why.clone(),
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    Signal::try_from(sig).map(Signal::as_str).unwrap_or("unknown signal")
}

/// A command run to its end: the output as the model sees it, and how it
/// ended.
pub(crate) struct CommandRun {
    pub output: ToolOutput,
    pub ending: Ending,
}

/// Run `command` with `/bin/sh -c` in `root`, without the secrets in its
/// environment, in a process group of its own that is killed at the time
/// limit or when `ctx.cancel` fires; output is passed to `ctx.progress` as
/// it arrives, secrets redacted, and capped (head and tail) in the result.
/// `timeout_hint` follows the time-out report and says how to allow more
/// time (it depends on who set the limit).
pub(crate) async fn run_shell(
    root: &std::path::Path,
    command: &str,
    timeout: Duration,
    timeout_hint: &str,
    ctx: &ToolContext,
) -> CommandRun {
    let mut cmd = tokio::process::Command::new(crate::secrets::SHELL);
    cmd.arg("-c")
        .arg(command)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        // A command that asks for a password on the terminal would stop
        // until the time limit; git at least can be told not to ask.
        .env("GIT_TERMINAL_PROMPT", "0")
        .kill_on_drop(true);
    crate::secrets::scrub(cmd.as_std_mut());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let why = format!("could not start {}: {e}", crate::secrets::SHELL);
            return CommandRun { output: ToolOutput::error(why.clone()), ending: Ending::Failed(why) };
        }
    };
    let mut group = ProcessGroup { pgid: child.id().and_then(|id| i32::try_from(id).ok()).map(Pid::from_raw) };
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let mut out_buf = vec![0u8; 16 * 1024];
    let mut err_buf = vec![0u8; 16 * 1024];
    let mut capture = Capture::default();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(PROGRESS_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ending: Option<Ending> = None;
    let mut drain_until: Option<Instant> = None;

    while stdout.is_some() || stderr.is_some() {
        tokio::select! {
            // Reads first, so output that is ready is taken before the
            // timers decide anything.
            biased;
            read = read_some(&mut stdout, &mut out_buf), if stdout.is_some() => match read {
                Ok(n) if n > 0 => capture.push(Stream::Stdout, &out_buf[..n]),
                _ => stdout = None,
            },
            read = read_some(&mut stderr, &mut err_buf), if stderr.is_some() => match read {
                Ok(n) if n > 0 => capture.push(Stream::Stderr, &err_buf[..n]),
                _ => stderr = None,
            },
            status = child.wait(), if drain_until.is_none() => {
                if ending.is_none() {
                    ending = Some(waited(status));
                }
                // Background children would otherwise hold the pipes open
                // and outlive the call.
                group.kill();
                drain_until = Some(Instant::now() + DRAIN_GRACE);
            },
            () = &mut deadline, if ending.is_none() => {
                ending = Some(Ending::TimedOut(timeout));
                group.kill();
                // In case the group could not be signalled.
                let _ = child.start_kill();
            },
            () = ctx.cancel.cancelled(), if ending.is_none() => {
                ending = Some(Ending::Cancelled);
                group.kill();
                let _ = child.start_kill();
            },
            () = sleep_until_opt(drain_until) => break,
            _ = tick.tick() => send_progress(&mut capture, ctx),
        }
    }
    if drain_until.is_none() {
        // Both pipes closed before the shell ended (it closed them itself).
        tokio::select! {
            status = child.wait() => {
                if ending.is_none() {
                    ending = Some(waited(status));
                }
            }
            () = &mut deadline, if ending.is_none() => ending = Some(Ending::TimedOut(timeout)),
            () = ctx.cancel.cancelled(), if ending.is_none() => ending = Some(Ending::Cancelled),
        }
    }
    group.kill();
    capture.finish();
    send_progress(&mut capture, ctx);
    // Every way out of the loops above sets it; this is for safety only.
    let ending = ending.unwrap_or_else(|| Ending::Failed("the command's end was not seen".to_string()));
    CommandRun { output: report(command, &ending, timeout_hint, &capture), ending }
}

fn waited(status: std::io::Result<ExitStatus>) -> Ending {
    match status {
        Ok(status) => Ending::Exited(status),
        Err(e) => Ending::Failed(format!("waiting for the command failed: {e}")),
    }
}

async fn read_some<R: AsyncRead + Unpin>(reader: &mut Option<R>, buf: &mut [u8]) -> std::io::Result<usize> {
    match reader {
        Some(r) => r.read(buf).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn send_progress(capture: &mut Capture, ctx: &ToolContext) {
    if let Some(text) = capture.take_progress() {
        (ctx.progress)(&text);
    }
}

fn report(command: &str, ending: &Ending, timeout_hint: &str, capture: &Capture) -> ToolOutput {
    let header = match ending {
        Ending::Exited(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("killed by signal {sig} ({})", signal_name(sig)),
            (None, None) => "ended without an exit code".to_string(),
        },
        Ending::TimedOut(after) => format!("timed out after {} s, killed{timeout_hint}", after.as_secs()),
        Ending::Cancelled => {
            let content = format!("cancelled: the user stopped the command and it was killed\n{}", capture.render());
            return ToolOutput { content, is_error: true, summary: format!("`{}` cancelled", short_command(command)) };
        }
        Ending::Failed(why) => {
            let content = format!("{why}\n{}", capture.render());
            return ToolOutput { content, is_error: true, summary: format!("`{}`: {why}", short_command(command)) };
        }
    };
    let lines = capture.total_lines();
    let output = if lines == 0 { "(no output)".to_string() } else { capture.render() };
    let summary = format!(
        "`{}`: {}, {lines} line{} of output",
        short_command(command),
        ending.short(),
        if lines == 1 { "" } else { "s" }
    );
    ToolOutput::ok(format!("{header}\n{output}"), summary)
}

/// The first line of a command, cut for a one-line label.
pub(super) fn short_command(command: &str) -> String {
    let first = command.trim().lines().next().unwrap_or("");
    let mut short: String = first.chars().take(80).collect();
    if short.len() < first.len() || command.trim().lines().nth(1).is_some() {
        short.push_str(" …");
    }
    short
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::*;

    #[tokio::test]
    async fn run_shell_reports_how_the_command_ended_with_the_callers_hint() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = ToolContext::new(CancellationToken::new());
        let run = run_shell(dir.path(), "exit 4", Duration::from_secs(5), "; unused", &ctx).await;
        assert_eq!(run.ending.exit_code(), Some(4));
        assert_eq!(run.ending.short(), "exit 4");
        let run = run_shell(dir.path(), "sleep 100", Duration::from_secs(1), "; raise the limit", &ctx).await;
        assert_eq!(run.ending, Ending::TimedOut(Duration::from_secs(1)));
        assert_eq!(run.ending.exit_code(), None);
        assert!(
            run.output.content.starts_with("timed out after 1 s, killed; raise the limit\n"),
            "{}",
            run.output.content
        );
        let cancel = CancellationToken::new();
        cancel.cancel();
        let run = run_shell(dir.path(), "sleep 100", Duration::from_secs(5), "", &ToolContext::new(cancel)).await;
        assert_eq!(run.ending, Ending::Cancelled);
    }
}
