//! Command-line interface: `tandem [PATH]` opens the app; subcommands for
//! configuration. The flags every command shares, and what a front-end
//! makes of them, are in [`crate::launch`]; `tandem exec`'s own flags are in
//! [`crate::exec`].

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{self, ColorDepth, Paths};
use crate::exec::{EXEC_HELP, ExecArgs};
use crate::git::RepoInfo;
use crate::launch::{Common, build_index_showing_progress, index_cache_file, load_options, sessions_dir};

#[derive(Debug, Parser)]
#[command(
    name = "tandem",
    version,
    about = "A terminal pair-programmer: talk to a model, approve its edits hunk by hunk, and git stages exactly what you approved.",
    long_about = None,
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show or check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the repository map the model sees: the most relevant definitions,
    /// ranked for the files in focus and the words you give, within a token budget.
    Map(MapArgs),
    /// Index the repository and print statistics: files by language, definitions,
    /// references, skipped files with reasons, time per phase, cache hits.
    /// Indexed languages: Rust, Python, JavaScript, TypeScript, Go, C, C++ and Java
    /// (those compiled in).
    Index(IndexArgs),
    /// Run one task without the app: the model works in the repository and
    /// its answer streams to stdout. Under suggest (the default) its edits are
    /// not applied but written to a patch file, whose path is printed;
    /// auto-edit and full-auto write and stage them.
    #[command(after_help = EXEC_HELP)]
    Exec(ExecArgs),
    /// List this repository's sessions, newest first: id, start time (UTC),
    /// turns, cost and first message. `tandem --resume ID` resumes one,
    /// `tandem --continue` the latest.
    Sessions(SessionsArgs),
    /// Trust a repository: show what its .tandem/ settings would run, allow or
    /// connect to, and apply them from now on. Until then tandem ignores those
    /// settings (a cloned repository is someone else's code). A later change to
    /// them asks again.
    Trust(TrustArgs),
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The repository (default: the current directory).
    pub path: Option<PathBuf>,
    /// Withdraw trust instead: the settings are ignored again.
    #[arg(long)]
    pub revoke: bool,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// The repository (default: the current directory).
    pub path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    /// The repository (default: the current directory).
    pub path: Option<PathBuf>,
    /// Token budget of the map.
    #[arg(long, default_value_t = 1024)]
    pub tokens: usize,
    /// A file in play (repeatable); its neighbours rank higher and it is left out of the map.
    #[arg(long, value_name = "FILE")]
    pub focus: Vec<PathBuf>,
    /// The user's words (repeatable); identifiers and paths in them rank higher.
    #[arg(long, value_name = "WORDS")]
    pub mention: Vec<String>,
    /// Index from scratch, ignoring and not writing the cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The repository (default: the current directory).
    pub path: Option<PathBuf>,
    /// Index from scratch, ignoring and not writing the cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, each value with where it came from.
    Show {
        /// The repository whose .tandem/config.toml applies (default: the current directory).
        path: Option<PathBuf>,
    },
    /// Validate every configuration, keymap and theme file; exit 1 on errors.
    Check {
        /// The repository whose .tandem/ files apply (default: the current directory).
        path: Option<PathBuf>,
    },
}

fn after_help(paths: &Paths) -> String {
    let show =
        |p: &Option<PathBuf>| p.as_ref().map_or_else(|| "(none on this system)".into(), |p| p.display().to_string());
    format!(
        "Files:\n  config   {}\n  project  .tandem/config.toml in the repository\n  log      {}\n  \
         sessions {}\n\n\
         Environment:\n  TANDEM_LOG=debug        more detail in the log (tracing filter syntax)\n  \
         TANDEM_<SECTION>_<KEY>  set one configuration key, e.g. TANDEM_UI_THEME=light\n  \
         NO_COLOR=1              no colours\n\n\
         In the app, F1 lists every key; /clear starts a new session.",
        show(&paths.user_config_file()),
        show(&paths.log_file()),
        show(&paths.data_dir.as_ref().map(|d| d.join("sessions"))),
    )
}

/// Parse the command line; `--help` names the files of this system.
pub fn parse(paths: &Paths) -> Cli {
    let cmd = Cli::command().after_help(after_help(paths));
    let matches = cmd.get_matches();
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    }
}

/// The scratch repository of `--demo`: a tiny crate with a bug to talk
/// about, committed so the demo starts from a clean tree.
pub fn make_demo_repo() -> anyhow::Result<PathBuf> {
    use anyhow::Context as _;
    let dir = std::env::temp_dir().join(format!("tandem-demo-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src")).context("cannot create the demo repository")?;
    let files = [
        ("Cargo.toml", "[package]\nname = \"mean\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        (
            "src/main.rs",
            "mod stats;\n\nfn main() {\n    let values: Vec<f64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();\n    match stats::mean(&values) {\n        Some(m) => println!(\"{m}\"),\n        None => eprintln!(\"no numbers given\"),\n    }\n}\n",
        ),
        (
            "src/stats.rs",
            "//! Statistics over the numbers given on the command line.\n\npub fn mean(values: &[f64]) -> Option<f64> {\n    let sum: f64 = values.iter().sum();\n    Some(sum / values.len() as f64)\n}\n\npub fn max(values: &[f64]) -> Option<f64> {\n    values.iter().copied().reduce(f64::max)\n}\n\npub fn min(values: &[f64]) -> Option<f64> {\n    values.iter().copied().reduce(f64::min)\n}\n",
        ),
    ];
    for (path, text) in files {
        std::fs::write(dir.join(path), text).with_context(|| format!("cannot write {path} in the demo repository"))?;
    }
    let repo = git2::Repository::init(&dir).context("cannot create the demo's git repository")?;
    let mut index = repo.index()?;
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = git2::Signature::now("tandem demo", "demo@tandem.invalid")?;
    repo.commit(Some("HEAD"), &sig, &sig, "A crate that computes a mean", &tree, &[])?;
    Ok(dir)
}

/// Text from a repository's files (source lines, paths, configuration
/// values) or a model, as printed to the user's terminal: without the
/// control sequences that could rewrite the screen or hide what is shown.
fn shown(text: &str) -> String {
    crate::printable::strip(text)
}

/// Ask on the terminal, before the app starts, whether to trust the
/// repository at `root` whose settings `held` were held back. Keys typed
/// before the question was shown are discarded, and only a typed `y` or
/// `yes` and Enter trusts: a stray key must not grant what a repository asks.
pub fn ask_trust(root: &std::path::Path, held: &[config::trust::Held]) -> anyhow::Result<bool> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Short lines: this is read at 80 columns too, before the app starts.
    writeln!(out, "This repository's .tandem/ settings can run programs, lift approvals or")?;
    writeln!(out, "send your API keys elsewhere:")?;
    writeln!(out)?;
    let root_text = root.display().to_string();
    let root_text = root_text.trim_end_matches('/');
    let prefix = format!("{root_text}/");
    for h in held {
        let what = if h.value.is_empty() { h.what.clone() } else { format!("{} = {}", h.what, h.value) };
        writeln!(out, "  {}", shown(&what))?;
        writeln!(out, "      {}", shown(h.place.strip_prefix(&prefix).unwrap_or(&h.place)))?;
    }
    writeln!(out)?;
    writeln!(out, "tandem ignores them unless you trust {}.", shown(root_text))?;
    writeln!(out, "Trust only repositories whose authors you trust; `tandem trust --revoke`")?;
    writeln!(out, "undoes it.")?;
    write!(out, "Trust it and apply them? [y/N] ")?;
    out.flush()?;
    drop(out);
    let stdin = std::io::stdin();
    // Whatever was typed before the question appeared is not an answer to it.
    let _ = nix::sys::termios::tcflush(&stdin, nix::sys::termios::FlushArg::TCIFLUSH);
    let mut line = String::new();
    stdin.read_line(&mut line)?;
    let answer = line.trim().to_ascii_lowercase();
    let trusted = answer == "y" || answer == "yes";
    println!(
        "{}",
        if trusted {
            "Trusted: the settings apply."
        } else {
            "Not trusted: the settings are ignored, and tandem will not ask again until they change."
        }
    );
    Ok(trusted)
}

/// `tandem trust [PATH] [--revoke]`.
pub fn trust(common: &Common, args: &TrustArgs, paths: &Paths) -> anyhow::Result<()> {
    let (mut opts, repo) = load_options(common, args.path.as_ref(), paths.clone());
    let data_dir = paths
        .data_dir
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("there is no data directory to record trust in (is HOME set?)"))?;
    let store = config::TrustStore::in_dir(data_dir);
    let root = repo.root.display();
    if args.revoke {
        if store.forget(&repo.root)? {
            println!("{root} is no longer trusted: its settings that need trust are ignored again.");
        } else {
            println!("{root} was not trusted; nothing changed.");
        }
        return Ok(());
    }
    opts.trust = config::TrustMode::Stored;
    let settings = config::load(&opts);
    match &settings.trust {
        config::TrustState::NotNeeded => {
            println!("{root}: its .tandem/ files set nothing that needs trust; nothing to do.");
        }
        config::TrustState::Trusted => println!("{root} is already trusted."),
        config::TrustState::Untrusted { held, fingerprint, .. } => {
            store.record(&repo.root, fingerprint, true)?;
            println!("Trusted {root}. These settings apply from now on:");
            for h in held {
                println!("  {}", shown(&h.to_string()));
            }
            println!("If they change, tandem asks again. `tandem trust --revoke` withdraws trust.");
        }
    }
    Ok(())
}

/// `tandem config show`.
pub fn config_show(common: &Common, path: Option<&PathBuf>, paths: Paths) -> i32 {
    let (opts, _) = load_options(common, path, paths);
    let settings = crate::launch::load_settings(&opts);
    println!("# Effective configuration; each value is followed by where it came from.");
    for f in &settings.files {
        println!("# read: {}", shown(&f.display().to_string()));
    }
    println!(
        "# keymap: {}   theme: {} (code: {})",
        settings.config.ui.keymap,
        settings.theme.name(),
        settings.theme.syntax_theme()
    );
    println!();
    print!("{}", shown(&settings.layered.render_annotated()));
    for d in &settings.diagnostics {
        eprintln!("{}", shown(&d.to_string()));
    }
    0
}

/// `tandem config check`: 0 when no file has an error, 1 otherwise.
pub fn config_check(common: &Common, path: Option<&PathBuf>, paths: Paths) -> i32 {
    let (mut opts, _) = load_options(common, path, paths);
    // Checking files, not this terminal: a 16-colour terminal's fallback to
    // base16 is not a problem in any file.
    opts.color_depth = ColorDepth::TrueColor;
    let (mut settings, extra) = config::check_all(&opts);
    settings.diagnostics.extend(crate::tools::registry::config_diagnostics(&settings.layered));
    for d in &settings.diagnostics {
        println!("{}", shown(&d.to_string()));
    }
    let files = settings.files.len() + extra.len();
    let errors = settings.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = settings.diagnostics.len() - errors;
    println!(
        "checked the built-in defaults and {files} file{}: {errors} error{}, {warnings} warning{}",
        if files == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
    );
    i32::from(errors > 0)
}

/// The index `tandem map` and `tandem index` show: built with the same
/// `[index]` settings as the model's.
fn build_index(
    common: &Common,
    path: Option<&PathBuf>,
    no_cache: bool,
    paths: &Paths,
) -> anyhow::Result<crate::index::Index> {
    let (opts, repo) = load_options(common, path, paths.clone());
    let settings = config::load(&opts);
    for d in settings.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!("tandem: {}", shown(&d.to_string()));
    }
    let cache_file = if no_cache { None } else { index_cache_file(paths, &repo.root) };
    let opts = crate::index::IndexOptions::from_config(&repo.root, &settings.config.index, cache_file);
    let (index, warnings) = build_index_showing_progress(&opts)?;
    for w in warnings {
        eprintln!("warning: {}", shown(&w));
    }
    Ok(index)
}

/// `tandem map`.
pub fn map(common: &Common, args: &MapArgs, paths: &Paths) -> anyhow::Result<()> {
    let index = build_index(common, args.path.as_ref(), args.no_cache, paths)?;
    let req =
        crate::index::MapRequest { tokens: args.tokens, focus: args.focus.clone(), mentions: args.mention.join(" ") };
    let map = index.map(&req);
    print!("{}", shown(&map.text));
    eprintln!("({} tokens, {} files, {} definitions)", map.tokens, map.files.len(), map.definitions);
    Ok(())
}

/// `tandem index`.
pub fn index(common: &Common, args: &IndexArgs, paths: &Paths) -> anyhow::Result<()> {
    let index = build_index(common, args.path.as_ref(), args.no_cache, paths)?;
    print!("{}", shown(&crate::index::render_stats(&index.stats())));
    Ok(())
}

/// `tandem sessions`.
pub fn sessions(args: &SessionsArgs, paths: &Paths) -> anyhow::Result<()> {
    use crate::session::journal;
    let start = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let repo = RepoInfo::discover(&start);
    let Some(dir) = sessions_dir(paths, &repo.root) else {
        anyhow::bail!("this system has no data directory, so no sessions are kept");
    };
    let found = journal::list(&dir);
    if found.is_empty() {
        println!("No sessions of {} yet.", repo.root.display());
        return Ok(());
    }
    println!("{:<24} {:<20} {:>5} {:>9}  FIRST MESSAGE", "ID", "STARTED (UTC)", "TURNS", "COST");
    for path in found {
        let Ok(loaded) = journal::load(&path) else { continue };
        let s = journal::Summary::of(&path, &loaded.entries);
        let mut first: String = s.first_prompt.split_whitespace().collect::<Vec<_>>().join(" ");
        if first.chars().count() > 60 {
            first = first.chars().take(59).collect::<String>() + "…";
        }
        let started = s.started.replace('T', " ").trim_end_matches('Z').to_string();
        println!(
            "{:<24} {:<20} {:>5} {:>9}  {}",
            s.id,
            started,
            s.turns,
            crate::metrics::format_cost(s.cost),
            shown(&first)
        );
    }
    Ok(())
}

/// The session `--continue` or `--resume ID` asks for: its id and
/// entries; `None` when neither flag is given.
pub fn session_to_resume(
    common: &Common,
    paths: &Paths,
    root: &std::path::Path,
) -> anyhow::Result<Option<(String, Vec<crate::session::journal::Entry>)>> {
    use crate::session::journal;
    if !common.continue_session && common.resume.is_none() {
        return Ok(None);
    }
    let Some(dir) = sessions_dir(paths, root) else {
        anyhow::bail!("this system has no data directory, so there are no sessions to resume");
    };
    let path = match &common.resume {
        Some(id) => {
            let path = dir.join(format!("{id}.jsonl"));
            let plain = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !plain || !path.is_file() {
                anyhow::bail!(
                    "there is no session {id} of the repository at {}; `tandem sessions` lists its sessions",
                    root.display()
                );
            }
            path
        }
        None => match journal::list(&dir).into_iter().next() {
            Some(p) => p,
            None => anyhow::bail!("there is no earlier session of the repository at {} to continue", root.display()),
        },
    };
    let loaded = journal::load(&path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if loaded.skipped > 0 {
        tracing::warn!("{}: skipped {} unreadable lines", path.display(), loaded.skipped);
    }
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Some((id, loaded.entries)))
}
