//! `tandem exec`: one task without the app, a front-end on the same
//! [`engine`](crate::engine) as the app. The engine's policy decides what
//! runs and what is written; what it leaves to a person is answered by
//! [`review`] (set aside in a patch file, or refused), and the run is
//! reported as text or JSON lines ([`output`]).

mod args;
pub mod output;
pub mod review;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::agent::{AgentEvent, TurnOutcome};
use crate::config::{Config, Paths};
use crate::engine::Command;
use crate::git::RepoInfo;
use crate::index::SharedIndex;
use crate::launch::{self, Common};
use crate::llm::select::{self, Choice};
use crate::metrics::stats::TokenTally;
pub(crate) use args::EXEC_HELP;
pub(crate) use args::ExecArgs;
use output::{Event, Outcome, Output};
use review::Reviewer;

/// The run went to its end.
pub(crate) const EXIT_OK: u8 = 0;
/// The turn failed: the provider, the tool-round limit, the patch file.
pub(crate) const EXIT_FAILED: u8 = 1;
/// No prompt, bad flags (clap's own usage errors exit 2 as well).
pub(crate) const EXIT_USAGE: u8 = 2;
/// No model is configured or reachable.
pub(crate) const EXIT_OFFLINE: u8 = 3;
/// Stopped by Ctrl-C (128 + SIGINT).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (128 + 15).
pub(crate) const EXIT_TERMINATED: u8 = 143;

/// Run `tandem exec`.
pub fn run(common: &Common, args: &ExecArgs, paths: Paths) -> ExitCode {
    let mut out = Output::new(args.json);
    let code = match prepare(common, args, paths) {
        Ok(run) => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            match rt {
                Ok(rt) => {
                    let code = rt.block_on(run.go(&mut out));
                    // The agent task and a stopped index build are not waited for.
                    rt.shutdown_background();
                    code
                }
                Err(e) => fail(&mut out, EXIT_FAILED, format!("cannot start the runtime: {e}")),
            }
        }
        Err((code, message)) => fail(&mut out, code, message),
    };
    ExitCode::from(code)
}

fn fail(out: &mut Output, code: u8, message: String) -> u8 {
    out.event(&Event::Error { message });
    code
}

/// Everything a run needs, gathered before the runtime starts.
struct Run {
    prompt: String,
    config: Config,
    repo: RepoInfo,
    cwd: PathBuf,
    script: Option<PathBuf>,
    paths: Paths,
    patch_path: PathBuf,
    _log: Option<tracing_appender::non_blocking::WorkerGuard>,
}

fn prepare(common: &Common, args: &ExecArgs, paths: Paths) -> Result<Run, (u8, String)> {
    let usage = |m: String| (EXIT_USAGE, m);
    let mut common = common.clone();
    if let Some(dir) = &args.cd {
        common.path = Some(dir.clone());
    }
    let start = common.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !start.is_dir() {
        return Err(usage(format!("{} is not a directory", start.display())));
    }
    let cwd = std::fs::canonicalize(&start).unwrap_or(start);
    let script = match common.provider.as_deref().and_then(|p| p.strip_prefix("script:")) {
        Some(file) => Some(std::path::absolute(file).map_err(|e| usage(format!("the script {file}: {e}")))?),
        None => None,
    };
    let patch_path = match &args.patch_out {
        Some(p) => std::path::absolute(p).map_err(|e| usage(format!("--patch-out {}: {e}", p.display())))?,
        None => default_patch_path(&paths),
    };
    let prompt = read_prompt(args.prompt.as_deref()).map_err(usage)?;
    let (opts, repo) = launch::load_options(&common, None, paths.clone());
    let mut settings = launch::load_settings(&opts);
    settings.diagnostics.extend(crate::secrets::setup(&settings, opts.project_root.as_deref()));
    let log = crate::logging::init(paths.log_file().as_deref(), &settings.config.log.level);
    for d in &settings.diagnostics {
        tracing::warn!("{d}");
        // Nobody is asked in a headless run: settings an untrusted
        // repository asked for are reported along with the errors. A
        // diagnostic quotes the configuration, which a cloned repository
        // writes: control sequences are taken out.
        if d.is_error() || !settings.trust.held().is_empty() && d.message.contains("`tandem trust`") {
            eprintln!("tandem: {}", crate::printable::strip(&d.to_string()));
        }
    }
    tracing::info!(root = %repo.root.display(), policy = settings.config.tools.policy.name(), "exec");
    crate::git::write::recover(&repo.root, paths.state_dir.as_deref());
    Ok(Run { prompt, config: settings.config, repo, cwd, script, paths, patch_path, _log: log })
}

/// `<state>/exec/<time>-<pid>.patch`, or in the temporary directory on a
/// system without a state directory.
fn default_patch_path(paths: &Paths) -> PathBuf {
    let name = format!("{}.patch", crate::session::stamp());
    match &paths.state_dir {
        Some(dir) => dir.join("exec").join(name),
        None => std::env::temp_dir().join(format!("tandem-exec-{name}")),
    }
}

/// The task: the argument, or stdin for `-` or no argument when stdin is
/// not a terminal.
fn read_prompt(arg: Option<&str>) -> Result<String, String> {
    use std::io::{IsTerminal, Read};
    let text = match arg {
        Some(text) if text != "-" => text.to_string(),
        _ => {
            if arg.is_none() && std::io::stdin().is_terminal() {
                return Err("no prompt: give the task as an argument, e.g. `tandem exec \"fix the failing test\"`, \
                            or on stdin"
                    .into());
            }
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the prompt from stdin: {e}"))?;
            text
        }
    };
    if text.trim().is_empty() {
        return Err("the prompt is empty: give the task as an argument or on stdin".into());
    }
    Ok(text)
}

/// How the run was stopped from outside.
#[derive(Clone, Copy)]
enum Stop {
    Interrupt,
    Terminate,
}

impl Stop {
    fn code(self) -> u8 {
        match self {
            Stop::Interrupt => EXIT_INTERRUPTED,
            Stop::Terminate => EXIT_TERMINATED,
        }
    }
}

struct Signals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Self { int: signal(SignalKind::interrupt()).ok(), term: signal(SignalKind::terminate()).ok() }
    }

    async fn recv(&mut self) -> Stop {
        async fn on(sig: &mut Option<tokio::signal::unix::Signal>) {
            match sig {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = on(&mut self.int) => Stop::Interrupt,
            () = on(&mut self.term) => Stop::Terminate,
        }
    }
}

impl Run {
    async fn go(self, out: &mut Output) -> u8 {
        let mut signals = Signals::new();
        let chosen = tokio::select! {
            chosen = self.choose_model() => chosen,
            stop = signals.recv() => return stop.code(),
        };
        let (provider, profile) = match chosen {
            Ok(chosen) => chosen,
            Err((code, message)) => return fail(out, code, message),
        };
        tracing::info!(model = %format!("{} {}", profile.name, profile.model), "model ready");
        let index = tokio::select! {
            index = self.build_index(out) => index,
            stop = signals.recv() => return stop.code(),
        };

        let mut setup =
            crate::engine::Setup::new(&self.config, self.repo.root.clone(), self.cwd.clone(), self.repo.is_git);
        setup.index = index;
        setup.audit =
            self.paths.state_dir.as_deref().map(|d| crate::session::audit::AuditLog::open(&crate::session::dir(d)));
        let mut reviewer = Reviewer::new(self.config.tools.policy, self.repo.root.clone(), self.patch_path.clone());
        let (engine, mut events) = crate::engine::spawn(setup, provider, profile);
        let _ = engine.send(Command::User { text: self.prompt.clone() });

        let mut tally = TokenTally::default();
        let mut stopped: Option<Stop> = None;
        let outcome = loop {
            tokio::select! {
                biased;
                stop = signals.recv() => {
                    if stopped.is_some() {
                        // Asked twice: go now.
                        return stop.code();
                    }
                    stopped = Some(stop);
                    out.note("tandem: stopping…");
                    let _ = engine.send(Command::Cancel);
                }
                ev = events.recv() => match ev {
                    Some(crate::engine::Event::Agent(AgentEvent::TurnEnded(outcome))) => break outcome,
                    Some(crate::engine::Event::Agent(ev)) => on_agent_event(ev, out, &mut tally),
                    Some(ev) => {
                        if let Some((id, answer)) = reviewer.on_event(&ev, out) {
                            let _ = engine.send(Command::Decide { id, answer });
                        }
                    }
                    None => break TurnOutcome::Failed {
                        message: "the session stopped unexpectedly".into(),
                        partial: false,
                        retryable: false,
                    },
                },
            }
        };
        out.end_line();

        let (message, mut code) = match &outcome {
            TurnOutcome::Completed => (None, EXIT_OK),
            TurnOutcome::Cancelled => (None, stopped.map_or(EXIT_FAILED, Stop::code)),
            TurnOutcome::Failed { message, .. } => (Some(format!("the model's answer failed: {message}")), EXIT_FAILED),
            TurnOutcome::OverBudget(why) => (Some(why.clone()), EXIT_FAILED),
            TurnOutcome::RoundLimit(n) => (
                Some(format!("the turn stopped after {n} model requests (model.max_tool_rounds in the configuration)")),
                EXIT_FAILED,
            ),
        };
        if let Some(m) = &message {
            out.event(&Event::Error { message: m.clone() });
        }
        if code == EXIT_OK && reviewer.failed {
            code = EXIT_FAILED;
        }
        if reviewer.patch_written {
            out.result_line(&reviewer.patch_path().display().to_string());
        }
        // As the agent priced each request: unknown when any one's was.
        let (usage, cost) = (tally.usage, tally.cost.total());
        out.event(&Event::Usage {
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cache_read_tokens: usage.cache_read_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            cost_usd: cost,
        });
        out.event(&Event::TurnCompleted { outcome: outcome.label(), message });
        if !out.json() {
            out.note(&summary(&reviewer, &usage, cost));
        }
        engine.flush(Duration::from_secs(2)).await;
        code
    }

    async fn choose_model(&self) -> Result<(Arc<dyn crate::llm::Provider>, select::Profile), (u8, String)> {
        if let Some(file) = &self.script {
            return select::script(file).map_err(|e| (EXIT_USAGE, format!("cannot use the script: {e}")));
        }
        match select::choose(&self.config, &launch::env_var).await {
            Choice::Ready(provider, profile) => Ok((provider, profile)),
            Choice::Offline(help) => Err((EXIT_OFFLINE, format!("{help}\n{EXEC_MODEL_HELP}"))),
        }
    }

    /// The repository index, built (or read from the cache) before the turn
    /// so the model gets the map and the symbol tools from its first request.
    async fn build_index(&self, out: &mut Output) -> Option<SharedIndex> {
        let cfg = &self.config.index;
        if !cfg.enabled {
            return None;
        }
        let opts = crate::index::IndexOptions::from_config(
            &self.repo.root,
            cfg,
            launch::index_cache_file(&self.paths, &self.repo.root),
        );
        let built = tokio::task::spawn_blocking(move || launch::build_index_showing_progress(&opts)).await;
        match built.map_err(|e| e.to_string()).and_then(|b| b.map_err(|e| e.to_string())) {
            Ok((index, _)) => Some(Arc::new(std::sync::RwLock::new(Some(index)))),
            Err(e) => {
                out.note(&format!("tandem: the repository index could not be built ({e}); going on without it"));
                None
            }
        }
    }
}

/// How to pick a model for `tandem exec`, after [`select::OFFLINE_HELP`].
const EXEC_MODEL_HELP: &str =
    "With tandem exec, --provider NAME picks a profile, and --provider script:FILE replays a scripted model.";

fn on_agent_event(ev: AgentEvent, out: &mut Output, tally: &mut TokenTally) {
    match ev {
        AgentEvent::TurnStarted => out.event(&Event::TurnStarted),
        AgentEvent::Text(text) => out.event(&Event::Text { text }),
        AgentEvent::ToolRunning { id, name, description } => {
            out.event(&Event::ToolCall { id, name, summary: description });
        }
        AgentEvent::ToolDone { id, output, elapsed, .. } => out.event(&Event::ToolResult {
            id,
            ok: !output.is_error,
            summary: output.summary.lines().next().unwrap_or("").to_string(),
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        }),
        AgentEvent::RequestEnded(s) => tally.add(&s.usage, s.cost),
        AgentEvent::Retrying { attempt, max, delay, reason } => out.note(&format!(
            "tandem: the model's provider failed ({reason}); retrying in {} s ({attempt}/{max})",
            delay.as_secs_f64().ceil() as u64
        )),
        AgentEvent::Notice(text) | AgentEvent::BudgetWarning(text) => out.note(&format!("tandem: {text}")),
        AgentEvent::ToolRefused { id, reason, .. } => {
            out.event(&Event::ToolResult { id, ok: false, summary: reason, elapsed_ms: 0 });
        }
        AgentEvent::MapUsed { tokens, files, .. } => tracing::debug!(tokens, files, "repository map sent"),
        AgentEvent::Responding
        | AgentEvent::ToolCallStarted { .. }
        | AgentEvent::ToolProgress { .. }
        | AgentEvent::TurnEnded(_)
        | AgentEvent::Recorded(_) => {}
    }
}

/// The last line on stderr: what changed, and what it cost.
fn summary(reviewer: &Reviewer, usage: &crate::llm::Usage, cost: Option<f64>) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    let (files, hunks) = reviewer.proposed();
    if reviewer.patch_written {
        parts.push(format!(
            "{} in {} proposed, not applied: `git apply {}` applies them",
            plural(hunks, "hunk"),
            plural(files, "file"),
            shell_quote(reviewer.patch_path())
        ));
    }
    // A file written in several rounds is one file.
    let count = |o: Outcome| {
        let paths: std::collections::BTreeSet<_> =
            reviewer.results.iter().filter(|r| r.outcome == o).map(|r| &r.path).collect();
        paths.len()
    };
    let (staged, applied, refused) = (count(Outcome::Staged), count(Outcome::Applied), count(Outcome::Refused));
    if staged > 0 {
        parts.push(format!("{} written and staged", plural(staged, "file")));
    }
    if applied > 0 {
        parts.push(format!("{} written, not staged", plural(applied, "file")));
    }
    if refused > 0 {
        parts.push(format!("{} NOT written (see above)", plural(refused, "file")));
    }
    if parts.is_empty() {
        parts.push("no edits".into());
    }
    parts.push(format!("{} tokens in, {} out", usage.input_tokens, usage.output_tokens));
    parts.push(format!("cost {}", crate::metrics::format_cost(cost)));
    format!("tandem: {}", parts.join(" · "))
}

/// A path as a shell word, for a command the user may paste.
fn shell_quote(path: &Path) -> String {
    let s = path.display().to_string();
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c)) {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_paths_are_quoted_only_when_they_need_it() {
        assert_eq!(shell_quote(Path::new("/tmp/a-1.patch")), "/tmp/a-1.patch");
        assert_eq!(shell_quote(Path::new("/tmp/my dir/it's.patch")), "'/tmp/my dir/it'\\''s.patch'");
    }

    #[test]
    fn the_cost_is_the_agents_and_unknown_when_one_request_had_no_price() {
        let mut out = Output::to(false, Box::new(std::io::sink()), Box::new(std::io::sink()));
        let mut tally = TokenTally::default();
        let request = |input, cost| {
            AgentEvent::RequestEnded(crate::metrics::stats::RequestStats {
                usage: crate::llm::Usage { input_tokens: input, ..Default::default() },
                cost,
                ..Default::default()
            })
        };
        on_agent_event(request(10, Some(0.5)), &mut out, &mut tally);
        assert_eq!((tally.usage.input_tokens, tally.cost.total()), (10, Some(0.5)));
        // An answer without reported tokens: its cost is not known, and so
        // neither is the run's.
        on_agent_event(request(0, None), &mut out, &mut tally);
        assert_eq!((tally.usage.input_tokens, tally.cost.total(), tally.requests), (10, None, 2));
    }

    #[test]
    fn a_file_written_in_two_rounds_counts_once_in_the_summary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut r = Reviewer::new(crate::config::Policy::AutoEdit, dir.path().into(), dir.path().join("p.patch"));
        for path in ["a.rs", "a.rs", "b.rs"] {
            r.results.push(review::FileResult { path: path.into(), outcome: Outcome::Staged });
        }
        let text = summary(&r, &crate::llm::Usage::default(), Some(0.0));
        assert!(text.contains("2 files written and staged"), "{text}");
    }
}
