#![deny(clippy::unwrap_used)]
use std::process::ExitCode;

use tandem::app::ModelSource;
use tandem::app::{self, App, Exit, Signals};
use tandem::cli::{self, Command, ConfigCommand};
use tandem::config::{self, Paths};
use tandem::view::state::AppState;

const DEMO_SCRIPT: &str = include_str!("../assets/demo/script.toml");

fn main() -> ExitCode {
    let paths = Paths::from_env();
    let cli = cli::parse(&paths);
    match &cli.command {
        Some(Command::Config(ConfigCommand::Show { path })) => {
            return ExitCode::from(cli::config_show(&cli.common, path.as_ref(), paths) as u8);
        }
        Some(Command::Config(ConfigCommand::Check { path })) => {
            return ExitCode::from(cli::config_check(&cli.common, path.as_ref(), paths) as u8);
        }
        Some(Command::Map(args)) => return report(cli::map(&cli.common, args, &paths)),
        Some(Command::Index(args)) => return report(cli::index(&cli.common, args, &paths)),
        Some(Command::Exec(args)) => return tandem::exec::run(&cli.common, args, paths),
        Some(Command::Sessions(args)) => return report(cli::sessions(args, &paths)),
        Some(Command::Trust(args)) => return report(cli::trust(&cli.common, args, &paths)),
        None => {}
    }
    match run_tui(&cli, paths) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_tui(cli: &cli::Cli, paths: Paths) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let no_terminal =
        || anyhow::anyhow!("the app needs a terminal on stdin and stdout; `tandem --help` lists the other commands");
    let mut common = cli.common.clone();
    let mut source = ModelSource::Auto;
    if cli.common.demo {
        // No scratch repository for a demo that cannot run.
        if !terminal {
            return Err(no_terminal());
        }
        let dir = cli::make_demo_repo()?;
        let script = dir.join(".git").join("tandem-demo-script.toml");
        std::fs::write(&script, DEMO_SCRIPT)?;
        std::env::set_current_dir(&dir)?;
        common.path = Some(dir);
        source = ModelSource::Script(script);
    } else if let Some(file) = cli.common.provider.as_deref().and_then(|p| p.strip_prefix("script:")) {
        source = ModelSource::Script(std::path::absolute(file)?);
    }
    // The repository the app works in (the demo's with --demo), found once:
    // its sessions are the ones --continue and --resume look in.
    let (opts, repo) = tandem::launch::load_options(&common, None, paths.clone());
    // Before the terminal check, so a wrong id is reported anywhere.
    let resume = cli::session_to_resume(&common, &paths, &repo.root)?;
    if !terminal {
        return Err(no_terminal());
    }
    let mut settings = tandem::launch::load_settings(&opts);
    if let config::TrustState::Untrusted { held, fingerprint, declined: false } = &settings.trust {
        let trusted = cli::ask_trust(&repo.root, held)?;
        if let Some(dir) = paths.data_dir.as_deref()
            && let Err(e) = config::TrustStore::in_dir(dir).record(&repo.root, fingerprint, trusted)
        {
            eprintln!("tandem: could not record the answer: {e}");
        }
        if trusted {
            settings = tandem::launch::load_settings(&config::LoadOptions { trust: config::TrustMode::Grant, ..opts });
        }
    }
    settings.diagnostics.extend(tandem::secrets::setup(&settings, Some(&repo.root)));
    // Held settings are not a problem in a file: the chat says so apart from
    // the configuration problems.
    let trust_note = match &settings.trust {
        config::TrustState::Untrusted { held, .. } => {
            let message = config::trust::held_message(held);
            settings.diagnostics.retain(|d| d.message != message);
            Some(format!("T{}.", &message[1..]))
        }
        _ => None,
    };
    let _log = tandem::logging::init(paths.log_file().as_deref(), &settings.config.log.level);
    tracing::info!(root = %repo.root.display(), git = repo.is_git, "starting");
    tandem::git::write::recover(&repo.root, paths.state_dir.as_deref());
    for d in &settings.diagnostics {
        tracing::warn!("{d}");
    }

    let mut state = AppState::new(settings.config, settings.keymap, settings.theme, repo, settings.diagnostics);
    state.over_ssh = std::env::var_os("SSH_CONNECTION").is_some();
    if let Some(note) = trust_note {
        state.notice(note);
    }
    if cli.common.demo {
        state.notice(format!(
            "This is the tandem demo, in a scratch repository at {}, with a scripted model. \
             Press Enter to send the message below, then ask for the fix.",
            state.repo.root.display()
        ));
        state.composer.insert_str("What does this repository do?");
    }

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut app = App::new(state, paths.history_file());
        app.set_index_cache(tandem::launch::index_cache_file(&paths, &app.state.repo.root));
        app::terminal::install_panic_hook();
        let mut terminal = app::terminal::enter()?;
        let signals = Signals::new().ok();
        app.load_history();
        app.set_audit(
            paths.state_dir.as_deref().map(|d| tandem::session::audit::AuditLog::open(&tandem::session::dir(d))),
        );
        app.start_session(app::session::SessionSetup {
            dir: tandem::launch::sessions_dir(&paths, &app.state.repo.root),
            resume,
        });
        app.enable_tools();
        app.enable_process_stats();
        app.start_model(source);
        app.start_index();
        // Highlighting tables take tens of milliseconds to load: on their
        // own thread, started once the loop has drawn the first frame.
        tokio::spawn(async {
            std::thread::spawn(tandem::ui::highlight::warm_up);
        });
        let result = app::run(&mut app, &mut terminal, app::terminal::input_stream(), signals).await;
        app::terminal::restore()?;
        app.flush_journal();
        let exit = result?;
        if let Exit::Signal(sig) = exit {
            tracing::info!("stopped by {sig}");
        }
        println!("{}", app.summary());
        Ok(())
    })
}
