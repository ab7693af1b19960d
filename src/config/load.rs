//! Loading: the options that say where to look, the layers read in order
//! (defaults, user file, trusted project file, environment, flags), the
//! keymap and theme on top, and the check of every file tandem would read.

use std::path::{Path, PathBuf};

use super::diagnostics::Diagnostic;
use super::keymap::Keymap;
use super::layers::Layered;
use super::paths::{Paths, keymap_dirs, keymap_override_files, theme_dirs, toml_files};
use super::sections::Config;
use super::theme::{self, ColorDepth, Theme};
use super::trust::{self, TrustMode, TrustState, TrustStore};
use super::values::{check_values, defaults_layered, deserialize_checked};

/// What the command line and environment say about loading.
pub struct LoadOptions<'a> {
    pub paths: Paths,
    /// `--config FILE`: read instead of the user file; it must exist.
    pub config_file: Option<PathBuf>,
    /// The repository root, whose `.tandem/` holds the project layer.
    pub project_root: Option<PathBuf>,
    pub theme_flag: Option<String>,
    pub keymap_flag: Option<String>,
    /// `--provider NAME`: the profile to use.
    pub profile_flag: Option<String>,
    /// `--policy`.
    pub policy_flag: Option<String>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub color_depth: ColorDepth,
    /// `--trust`, or look the repository up in the trust store.
    pub trust: TrustMode,
}

/// Everything configurable, loaded and checked.
pub struct Settings {
    pub config: Config,
    pub layered: Layered,
    pub keymap: Keymap,
    pub theme: Theme,
    pub diagnostics: Vec<Diagnostic>,
    /// The files that were read, in the order they were applied.
    pub files: Vec<PathBuf>,
    /// Whether the repository's own settings were applied in full.
    pub trust: TrustState,
}

impl Settings {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

fn read_optional(path: &Path, required: bool, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => None,
        Err(e) => {
            diags.push(Diagnostic::error(path.display().to_string(), None, format!("cannot read: {e}")));
            None
        }
    }
}

/// The configuration files, environment and flags, without the keymap and
/// theme: what [`load`] starts from.
pub struct Layers {
    pub config: Config,
    pub layered: Layered,
    pub diagnostics: Vec<Diagnostic>,
    pub files: Vec<PathBuf>,
    pub trust: TrustState,
}

pub fn load(opts: &LoadOptions<'_>) -> Settings {
    let Layers { config, layered, diagnostics: mut diags, mut files, trust } = load_layers(opts);
    let project = opts.project_root.as_deref();
    // The repository's key bindings decide what the approval keys do: only
    // once it is trusted.
    let keymap_project = project.filter(|_| !matches!(trust, TrustState::Untrusted { .. }));
    let mut overrides = Vec::new();
    for path in keymap_override_files(&opts.paths, keymap_project) {
        if let Some(text) = read_optional(&path, false, &mut diags) {
            overrides.push((path.display().to_string(), text));
            files.push(path);
        }
    }
    let (keymap, kd) = Keymap::load(&config.ui.keymap, &keymap_dirs(&opts.paths, keymap_project), &overrides);
    diags.extend(kd);
    let (theme, td) = Theme::load(&config.ui.theme, &theme_dirs(&opts.paths, project), opts.color_depth);
    diags.extend(td);

    Settings { config, layered, keymap, theme, diagnostics: diags, files, trust }
}

/// The built-in configuration alone: no files, no environment, nothing
/// held (tests that need a session's defaults).
#[cfg(test)]
pub(crate) fn built_in() -> Config {
    load_layers(&LoadOptions {
        paths: Default::default(),
        config_file: None,
        project_root: None,
        theme_flag: None,
        keymap_flag: None,
        profile_flag: None,
        policy_flag: None,
        env: &|_| None,
        color_depth: super::ColorDepth::TrueColor,
        trust: super::TrustMode::Stored,
    })
    .config
}

pub fn load_layers(opts: &LoadOptions<'_>) -> Layers {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    let mut layered = defaults_layered();

    let user_file = opts.config_file.clone().or_else(|| opts.paths.user_config_file());
    if let Some(path) = user_file
        && let Some(text) = read_optional(&path, opts.config_file.is_some(), &mut diags)
    {
        diags.extend(layered.apply_file(&path.display().to_string(), &text));
        files.push(path);
    }
    let mut pending = trust::Pending::default();
    if let Some(root) = &opts.project_root {
        let path = root.join(".tandem").join("config.toml");
        if let Some(text) = read_optional(&path, false, &mut diags) {
            let (d, held) = layered.apply_file_gated(&path.display().to_string(), &text, &trust::is_harmless);
            diags.extend(d);
            pending.keys = held;
            files.push(path);
        }
        pending.files = project_keymap_files(root);
    }
    let trust = decide_trust(opts, pending, &mut layered, &mut diags);
    diags.extend(layered.apply_env(opts.env));
    if let Some(theme) = &opts.theme_flag
        && let Err(d) = layered.apply_flag("ui.theme", "--theme", theme)
    {
        diags.push(d);
    }
    if let Some(keymap) = &opts.keymap_flag
        && let Err(d) = layered.apply_flag("ui.keymap", "--keymap", keymap)
    {
        diags.push(d);
    }
    if let Some(profile) = &opts.profile_flag
        && let Err(d) = layered.apply_flag("model.profile", "--provider", profile)
    {
        diags.push(d);
    }
    if let Some(policy) = &opts.policy_flag
        && let Err(d) = layered.apply_flag("tools.policy", "--policy", policy)
    {
        diags.push(d);
    }
    check_values(&mut layered, &mut diags);
    let config = deserialize_checked(&mut layered, &mut diags);
    Layers { config, layered, diagnostics: diags, files, trust }
}

/// The repository's key-binding files, with their text: the single-key
/// overrides and the named keymaps.
fn project_keymap_files(root: &Path) -> Vec<(PathBuf, String)> {
    let dir = root.join(".tandem");
    let mut paths = vec![dir.join("keymap.toml")];
    paths.extend(toml_files(&dir.join("keymaps")));
    paths.into_iter().filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t))).collect()
}

/// Apply the held keys if the repository is trusted (by `--trust`, which
/// also records it, or by the store); otherwise report them.
fn decide_trust(
    opts: &LoadOptions<'_>,
    pending: trust::Pending,
    layered: &mut Layered,
    diags: &mut Vec<Diagnostic>,
) -> TrustState {
    if pending.is_empty() {
        return TrustState::NotNeeded;
    }
    let Some(root) = opts.project_root.as_deref() else { return TrustState::NotNeeded };
    let fingerprint = pending.fingerprint();
    let store = opts.paths.data_dir.as_deref().map(TrustStore::in_dir);
    let recorded = store.as_ref().map_or(trust::Recorded::Unknown, |s| s.lookup(root, &fingerprint));
    let trusted = match opts.trust {
        TrustMode::Grant => {
            if recorded != trust::Recorded::Trusted
                && let Some(store) = &store
                && let Err(e) = store.record(root, &fingerprint, true)
            {
                diags.push(Diagnostic::warning(
                    store.path().display().to_string(),
                    None,
                    format!("could not record that this repository is trusted: {e}"),
                ));
            }
            true
        }
        TrustMode::Stored => recorded == trust::Recorded::Trusted,
    };
    if trusted {
        for (key, entry) in pending.keys {
            layered.insert(key, entry);
        }
        return TrustState::Trusted;
    }
    let held = pending.describe();
    let source = root.join(".tandem").display().to_string();
    diags.push(Diagnostic::warning(source, None, trust::held_message(&held)));
    TrustState::Untrusted { held, fingerprint, declined: recorded == trust::Recorded::Declined }
}

/// Validate every configuration, keymap and theme file tandem would read,
/// including user themes and keymaps that are not selected.
pub fn check_all(opts: &LoadOptions<'_>) -> (Settings, Vec<PathBuf>) {
    let settings = load(opts);
    let mut extra = Vec::new();
    let project = opts.project_root.as_deref();
    let mut diags = Vec::new();
    for dir in theme_dirs(&opts.paths, project) {
        for path in toml_files(&dir) {
            diags.extend(theme::check_file(&path));
            extra.push(path);
        }
    }
    for dir in keymap_dirs(&opts.paths, project) {
        for path in toml_files(&dir.join("keymaps")) {
            diags.extend(Keymap::check_file(&path));
            extra.push(path);
        }
    }
    let mut settings = settings;
    for d in diags {
        if !settings.diagnostics.contains(&d) {
            settings.diagnostics.push(d);
        }
    }
    (settings, extra)
}
