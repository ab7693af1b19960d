use std::process::ExitCode;

use tandem::app::{self, App, Exit, Signals, state::AppState};
use tandem::cli::{self, Command, ConfigCommand};
use tandem::config::{self, Paths};

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

fn run_tui(cli: &cli::Cli, paths: Paths) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the app needs a terminal on stdin and stdout; `tandem --help` lists the other commands");
    }
    let (opts, repo) = cli::load_options(&cli.common, None, paths.clone());
    let settings = config::load(&opts);
    let _log = tandem::logging::init(paths.log_file().as_deref(), &settings.config.log.level);
    tracing::info!(root = %repo.root.display(), git = repo.is_git, "starting");
    for d in &settings.diagnostics {
        tracing::warn!("{d}");
    }

    let mut state = AppState::new(settings.config, settings.keymap, settings.theme, repo, settings.diagnostics);
    state.over_ssh = std::env::var_os("SSH_CONNECTION").is_some();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut app = App::new(state, paths.history_file());
        app::terminal::install_panic_hook();
        let mut terminal = app::terminal::enter()?;
        let signals = Signals::new().ok();
        app.load_history();
        let result = app::run(&mut app, &mut terminal, crossterm::event::EventStream::new(), signals).await;
        app::terminal::restore()?;
        let exit = result?;
        if let Exit::Signal(sig) = exit {
            tracing::info!("stopped by {sig}");
        }
        let sent = app.sent;
        println!("tandem: {sent} message{} sent; nothing was staged.", if sent == 1 { "" } else { "s" });
        Ok(())
    })
}
