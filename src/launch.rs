//! Starting a front-end (the app, `tandem exec`, the command line's own
//! commands) from the flags every command takes: the configuration they
//! select, the repository they name, and where that repository's index
//! cache and sessions are kept. Here rather than in `cli`, which dispatches
//! to the front-ends and so sits above them.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::{self, ColorDepth, LoadOptions, Paths};
use crate::git::RepoInfo;
use crate::index::{Index, IndexError, IndexOptions};

#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Work in the repository containing PATH (default: the current directory).
    /// Outside a git repository tandem still runs; edits are then written but not staged.
    #[arg(value_name = "PATH", global = false)]
    pub path: Option<PathBuf>,

    /// Read this configuration file instead of the user file (~/.config/tandem/config.toml).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Colour theme: default, light, base16, or a file ~/.config/tandem/themes/NAME.toml.
    #[arg(long, value_name = "NAME", global = true)]
    pub theme: Option<String>,

    /// Key bindings: default, vim, emacs, or a file ~/.config/tandem/keymaps/NAME.toml.
    #[arg(long, value_name = "NAME", global = true)]
    pub keymap: Option<String>,

    /// The model provider: a profile name from [providers.NAME] (openai, anthropic,
    /// ollama, or your own), or script:FILE to replay scripted model turns.
    #[arg(long, value_name = "PROFILE|script:FILE", global = true)]
    pub provider: Option<String>,

    /// What may happen without asking: suggest (edits and commands wait for your
    /// approval), auto-edit (edits are written and staged at once; commands wait) or
    /// full-auto (both go ahead; paths stay confined, commands time-limited).
    #[arg(long, value_name = "POLICY", global = true, value_parser = ["suggest", "auto-edit", "full-auto"])]
    pub policy: Option<String>,

    /// A guided first run: a scratch repository and a scripted model show a streamed
    /// answer without any account or key.
    #[arg(long)]
    pub demo: bool,

    /// Trust this repository: apply its .tandem/ settings that run programs, lift
    /// approvals or choose where API keys are sent, and remember that (as `tandem
    /// trust` does). Without it, such settings of a repository you have not trusted
    /// are ignored and reported.
    #[arg(long, global = true)]
    pub trust: bool,

    /// Resume the latest session of this repository: its chat is shown and the
    /// model has its conversation. `tandem sessions` lists the sessions.
    #[arg(long = "continue", short = 'c', conflicts_with = "resume")]
    pub continue_session: bool,

    /// Resume the session ID of this repository (an id from `tandem sessions`).
    #[arg(long, value_name = "ID")]
    pub resume: Option<String>,
}

/// The process environment, as configuration and provider selection read it.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Load options for `common` flags, in the repository containing `path`.
pub fn load_options<'a>(common: &Common, path: Option<&PathBuf>, paths: Paths) -> (LoadOptions<'a>, RepoInfo) {
    let start = path.cloned().or_else(|| common.path.clone()).unwrap_or_else(|| PathBuf::from("."));
    let repo = RepoInfo::discover(&start);
    let profile_flag = common.provider.clone().filter(|p| !p.starts_with("script:"));
    let opts = LoadOptions {
        paths,
        config_file: common.config.clone(),
        project_root: Some(repo.root.clone()),
        theme_flag: common.theme.clone(),
        keymap_flag: common.keymap.clone(),
        profile_flag,
        policy_flag: common.policy.clone(),
        env: &env_var,
        color_depth: ColorDepth::detect(env_var),
        trust: if common.trust { config::TrustMode::Grant } else { config::TrustMode::Stored },
    };
    (opts, repo)
}

/// The index cache file of the repository at `root`.
pub fn index_cache_file(paths: &Paths, root: &Path) -> Option<PathBuf> {
    let key = crate::session::repo_key(root);
    paths.cache_dir.as_ref().map(|d| d.join("index").join(format!("{key}.bin")))
}

/// Build the index and save its cache, showing the progress on stderr when
/// it is a terminal (and nothing otherwise). Returns the index and its
/// warnings, which are logged.
pub fn build_index_showing_progress(opts: &IndexOptions) -> Result<(Index, Vec<String>), IndexError> {
    use std::io::{IsTerminal, Write};
    let tty = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if tty && (done.is_multiple_of(200) || done == total) {
            eprint!("\rindexing {done}/{total} files");
            let _ = std::io::stderr().flush();
        }
    };
    let built = Index::build_and_save(opts, &progress);
    if tty {
        eprint!("\r\x1b[2K");
    }
    built
}

/// The directory of the session journals of the repository at `root`.
pub fn sessions_dir(paths: &Paths, root: &Path) -> Option<PathBuf> {
    paths.data_dir.as_deref().map(|d| crate::session::journal::repo_dir(d, root))
}
