//! Where tandem keeps its files, and the directories and files searched for
//! themes, keymaps and key overrides.

use std::path::{Path, PathBuf};

/// Where tandem keeps its files. Each is `None` when the platform gives no
/// home directory; tandem then runs without that kind of file.
#[derive(Debug, Clone, Default)]
pub struct Paths {
    pub config_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

impl Paths {
    /// The platform's directories (XDG on Linux: `XDG_CONFIG_HOME`, ...).
    pub fn from_env() -> Self {
        match directories::ProjectDirs::from("", "", "tandem") {
            Some(d) => Self {
                config_dir: Some(d.config_dir().to_path_buf()),
                state_dir: Some(d.state_dir().unwrap_or_else(|| d.data_local_dir()).to_path_buf()),
                cache_dir: Some(d.cache_dir().to_path_buf()),
                data_dir: Some(d.data_dir().to_path_buf()),
            },
            None => Self::default(),
        }
    }

    pub(crate) fn user_config_file(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|d| d.join("config.toml"))
    }

    pub fn log_file(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|d| d.join("tandem.log"))
    }

    pub fn history_file(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|d| d.join("history.jsonl"))
    }
}

/// Directories searched for user themes (`NAME.toml`): project first.
pub fn theme_dirs(paths: &Paths, project_root: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(root) = project_root {
        dirs.push(root.join(".tandem").join("themes"));
    }
    if let Some(c) = &paths.config_dir {
        dirs.push(c.join("themes"));
    }
    dirs
}

/// Directories that may hold `keymaps/NAME.toml`: project first.
pub fn keymap_dirs(paths: &Paths, project_root: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(root) = project_root {
        dirs.push(root.join(".tandem"));
    }
    if let Some(c) = &paths.config_dir {
        dirs.push(c.clone());
    }
    dirs
}

/// The single-key override files, in the order they apply.
pub fn keymap_override_files(paths: &Paths, project_root: Option<&Path>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(c) = &paths.config_dir {
        files.push(c.join("keymap.toml"));
    }
    if let Some(root) = project_root {
        files.push(root.join(".tandem").join("keymap.toml"));
    }
    files
}

pub(super) fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<PathBuf> =
        rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
    v.sort();
    v
}
