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
pub(crate) fn env_var(name: &str) -> Option<String> {
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
pub(crate) fn build_index_showing_progress(opts: &IndexOptions) -> Result<(Index, Vec<String>), IndexError> {
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

/// The settings for `opts`, with the problems the configuration layer
/// cannot see alone: names of tools it does not know (the tools sit above
/// it).
pub fn load_settings(opts: &LoadOptions<'_>) -> config::Settings {
    let mut settings = config::load(opts);
    settings.diagnostics.extend(crate::tools::registry::config_diagnostics(&settings.layered));
    settings
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Line {
        #[command(flatten)]
        common: Common,
    }

    fn flags(args: &[&str]) -> Common {
        Line::try_parse_from(std::iter::once("tandem").chain(args.iter().copied())).expect("flags parse").common
    }

    #[test]
    fn flags_become_load_options_in_the_repository_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        git2::Repository::init(dir.path()).expect("git init");
        let sub = dir.path().join("src");
        std::fs::create_dir(&sub).expect("mkdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical root");
        let sub_arg = sub.to_string_lossy().into_owned();

        let common = flags(&[&sub_arg, "--theme", "light", "--provider", "ollama", "--policy", "auto-edit", "--trust"]);
        let (opts, repo) = load_options(&common, None, Paths::default());
        assert_eq!((repo.root.as_path(), repo.is_git), (root.as_path(), true));
        assert_eq!(opts.project_root.as_deref(), Some(root.as_path()));
        assert_eq!(opts.theme_flag.as_deref(), Some("light"));
        assert_eq!(opts.profile_flag.as_deref(), Some("ollama"));
        assert_eq!(opts.policy_flag.as_deref(), Some("auto-edit"));
        assert_eq!(opts.trust, config::TrustMode::Grant);

        // A scripted model is no profile; without --trust the store decides;
        // a path given to the subcommand wins over the common one.
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let common = flags(&[&sub_arg, "--provider", "script:turns.toml"]);
        let (opts, repo) = load_options(&common, Some(&elsewhere.path().to_path_buf()), Paths::default());
        assert_eq!(opts.profile_flag, None);
        assert_eq!(opts.trust, config::TrustMode::Stored);
        assert_eq!(repo.root, std::fs::canonicalize(elsewhere.path()).expect("canonical"));
        assert!(!repo.is_git);
    }

    #[test]
    fn caches_and_sessions_are_kept_per_repository_where_the_system_allows() {
        let root = Path::new("/work/some/repo");
        let key = crate::session::repo_key(root);
        let paths =
            Paths { cache_dir: Some(PathBuf::from("/c")), data_dir: Some(PathBuf::from("/d")), ..Paths::default() };
        assert_eq!(index_cache_file(&paths, root), Some(PathBuf::from(format!("/c/index/{key}.bin"))));
        assert_eq!(sessions_dir(&paths, root), Some(PathBuf::from(format!("/d/sessions/{key}"))));
        let other = crate::session::repo_key(Path::new("/work/other"));
        assert_ne!(key, other);
        assert_eq!(index_cache_file(&Paths::default(), root), None);
        assert_eq!(sessions_dir(&Paths::default(), root), None);
    }
}
