//! Configuration: layered TOML settings, key bindings and colour themes.
//!
//! Loading never fails: whatever is wrong in a user's files is reported as a
//! [`Diagnostic`] and the built-in value is used instead, so tandem always
//! starts and shows the problem.

pub mod budget;
pub mod diagnostics;
pub mod keymap;
pub mod keys;
pub mod layers;
pub mod provider;
pub mod slash;
pub mod theme;
pub mod trust;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use budget::{BudgetConfig, ToolCallLimit};
pub use diagnostics::{Diagnostic, Severity};
pub use keymap::Keymap;
pub use layers::{Layered, Source};
pub use provider::{ProviderKind, UnknownKind};
pub use theme::{ColorDepth, Theme};
pub use trust::{TrustMode, TrustState, TrustStore};

pub const DEFAULT_CONFIG: &str = include_str!("../../assets/default-config.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub ui: UiConfig,
    pub composer: ComposerConfig,
    pub log: LogConfig,
    pub model: ModelConfig,
    pub index: IndexConfig,
    pub tools: ToolsConfig,
    pub budget: BudgetConfig,
    pub checks: ChecksConfig,
    pub secrets: SecretsConfig,
    pub providers: std::collections::BTreeMap<String, ProviderProfile>,
}

/// The `[secrets]` table: which environment variables are secrets (see
/// `crate::secrets`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SecretsConfig {
    /// Globs, matched without regard to case, naming secret variables.
    pub env_patterns: Vec<String>,
    /// Variables passed to commands although their names match.
    pub env_passthrough: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ToolsConfig {
    pub policy: Policy,
    pub allow_commands: Vec<String>,
    /// Globs of files whose edits always wait for a hunk-by-hunk approval,
    /// besides `.tandem/` (see `tools::protected`).
    pub protected_paths: Vec<String>,
}

/// What may happen without asking the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Edits and commands wait for approval.
    #[default]
    Suggest,
    /// Edits are applied and staged at once; commands wait.
    AutoEdit,
    /// Edits and commands go ahead (paths confined, commands time-limited).
    FullAuto,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Suggest, Policy::AutoEdit, Policy::FullAuto];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Suggest => "suggest",
            Policy::AutoEdit => "auto-edit",
            Policy::FullAuto => "full-auto",
        }
    }

    pub fn next(self) -> Policy {
        let i = Self::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|p| p.name()).collect();
            format!("unknown policy `{s}`; expected one of {}", names.join(", "))
        })
    }
}

/// The `[checks]` table: the project's test and lint commands.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChecksConfig {
    /// Run with `sh -c` in the repository root; "" detects one.
    pub test_cmd: String,
    pub lint_cmd: String,
    /// Run the tests after each applied change set and send failures back.
    pub auto_test: bool,
    /// Most consecutive failing rounds sent back by `auto_test`.
    pub max_fix_rounds: u32,
    pub timeout_secs: u64,
}

/// The shipped defaults (assets/default-config.toml), so a default built in
/// code does not time out at once or stop auto_test before its first round.
impl Default for ChecksConfig {
    fn default() -> Self {
        Self {
            test_cmd: String::new(),
            lint_cmd: String::new(),
            auto_test: false,
            max_fix_rounds: 3,
            timeout_secs: 600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexConfig {
    pub enabled: bool,
    pub map_tokens: usize,
    pub max_file_size: u64,
    pub include_hidden: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelConfig {
    pub profile: String,
    pub max_tool_rounds: u32,
    pub idle_timeout_secs: u64,
    pub max_retries: u32,
}

/// A `[providers.NAME]` entry. Every field may be missing in a user's entry;
/// `llm::select` says what is missing when the profile is used.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProviderProfile {
    /// `None` when no layer names one.
    pub kind: Option<ProviderKind>,
    pub base_url: String,
    pub api_key_env: String,
    pub model: String,
    pub context_window: u64,
    pub max_output_tokens: u32,
    pub input_price: Option<f64>,
    pub output_price: Option<f64>,
    pub cache_read_price: Option<f64>,
    pub cache_write_price: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UiConfig {
    pub theme: String,
    pub keymap: String,
    pub frame_rate: u32,
    pub stream_frame_rate: u32,
    pub ssh_frame_rate: u32,
    pub split_min_width: u16,
    pub diff_takes_focus: bool,
    pub hints: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ComposerConfig {
    pub max_height: u16,
    pub history_size: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogConfig {
    pub level: String,
}

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

    pub fn user_config_file(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|d| d.join("config.toml"))
    }

    pub fn log_file(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|d| d.join("tandem.log"))
    }

    pub fn history_file(&self) -> Option<PathBuf> {
        self.state_dir.as_ref().map(|d| d.join("history.jsonl"))
    }
}

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

/// Range checks that the type alone cannot express: (key, lowest, highest).
const INTEGER_RANGES: &[(&str, i64, i64)] = &[
    ("ui.frame_rate", 1, 240),
    ("ui.ssh_frame_rate", 1, 240),
    ("ui.stream_frame_rate", 1, 240),
    ("ui.split_min_width", 40, 1000),
    ("composer.max_height", 1, 100),
    ("composer.history_size", 0, 100_000),
    ("model.max_tool_rounds", 1, 500),
    ("model.idle_timeout_secs", 1, 3600),
    ("model.max_retries", 0, 20),
    ("index.map_tokens", 0, 100_000),
    ("index.max_file_size", 1, 1 << 40),
    ("budget.max_turns", 0, 1_000_000),
    (budget::TOOL_LIMIT_KEY, 0, budget::MAX_PER_MINUTE),
    ("checks.max_fix_rounds", 1, 100),
    ("checks.timeout_secs", 1, 86_400),
];

const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

pub(super) fn location(entry: &layers::Entry) -> (String, Option<usize>) {
    match &entry.source {
        Source::File { path, line } => (path.clone(), *line),
        other => (other.to_string(), None),
    }
}

fn check_values(layered: &mut Layered, diags: &mut Vec<Diagnostic>) {
    let mut bad = Vec::new();
    for &(key, lo, hi) in INTEGER_RANGES {
        if let Some(entry) = layered.get(key)
            && let Some(v) = entry.value.as_integer()
            && !(lo..=hi).contains(&v)
        {
            let (src, line) = location(entry);
            diags.push(Diagnostic::error(
                src,
                line,
                format!("`{key}` is {v}; expected a value from {lo} to {hi}; the default is used"),
            ));
            bad.push(key.to_string());
        }
    }
    if let Some(entry) = layered.get("tools.policy")
        && let Some(v) = entry.value.as_str()
        && let Err(e) = v.parse::<Policy>()
    {
        let (src, line) = location(entry);
        diags.push(Diagnostic::error(src, line, format!("`tools.policy`: {e}; the default is used")));
        bad.push("tools.policy".into());
    }
    if let Some(entry) = layered.get("tools.protected_paths")
        && let Some(patterns) = entry.value.as_array()
    {
        for p in patterns.iter().filter_map(|p| p.as_str()) {
            if let Err(e) = globset::Glob::new(p) {
                let (src, line) = location(entry);
                diags.push(Diagnostic::error(
                    src,
                    line,
                    format!("`tools.protected_paths`: `{p}` is not a valid pattern ({e}); it is left out"),
                ));
            }
        }
    }
    if let Some(entry) = layered.get("log.level")
        && let Some(v) = entry.value.as_str()
        && !LOG_LEVELS.contains(&v)
    {
        let (src, line) = location(entry);
        diags.push(Diagnostic::error(
            src,
            line,
            format!("`log.level` is \"{v}\"; expected one of {}; the default is used", LOG_LEVELS.join(", ")),
        ));
        bad.push("log.level".into());
    }
    let kinds: Vec<(String, layers::Entry)> = layered
        .entries()
        .filter(|(k, _)| k.starts_with("providers.") && k.ends_with(".kind"))
        .map(|(k, e)| (k.to_string(), e.clone()))
        .collect();
    for (key, entry) in kinds {
        if let Some(Err(unknown)) = entry.value.as_str().map(str::parse::<ProviderKind>) {
            let (src, line) = location(&entry);
            diags.push(Diagnostic::error(src, line, format!("`{key}` is {unknown}")));
            bad.push(key);
        }
    }
    bad.extend(budget::check(layered, diags));
    let not_finite: Vec<(String, layers::Entry)> = layered
        .entries()
        .filter(|(k, e)| e.value.as_float().is_some_and(|f| !f.is_finite()) && !bad.iter().any(|b| b == k))
        .map(|(k, e)| (k.to_string(), e.clone()))
        .collect();
    for (key, entry) in not_finite {
        let (src, line) = location(&entry);
        diags.push(Diagnostic::error(
            src,
            line,
            format!("`{key}` is {}; expected a finite number; the default is used", entry.value),
        ));
        bad.push(key);
    }
    for key in bad {
        layered.reset(&key);
    }
}

/// The typed configuration. A value whose TOML type is right can still not
/// fit its field (`context_window = -1`, `max_output_tokens = 4294967296`,
/// `allow_commands = [1]`): each value that was set is tried alone over the
/// defaults, and one that does not fit is reported and put back to its
/// default, so loading never fails.
fn deserialize_checked(layered: &mut Layered, diags: &mut Vec<Diagnostic>) -> Config {
    let typed = |l: &Layered| Config::deserialize(toml::Value::Table(l.to_table()));
    if let Ok(config) = typed(layered) {
        return config;
    }
    let base = defaults_layered();
    let set: Vec<(String, layers::Entry)> = layered
        .entries()
        .filter(|(_, e)| e.source != Source::Default)
        .map(|(k, e)| (k.to_string(), e.clone()))
        .collect();
    for (key, entry) in set {
        let mut alone = base.clone();
        alone.insert(key.clone(), entry.clone());
        if let Err(e) = typed(&alone) {
            let (src, line) = location(&entry);
            diags.push(Diagnostic::error(
                src,
                line,
                format!("`{key}` is {}, which does not fit: {e}; the default is used", entry.value),
            ));
            layered.reset(&key);
        }
    }
    typed(layered).unwrap_or_else(|e| {
        diags.push(Diagnostic::error(
            "configuration",
            None,
            format!("the settings do not fit together ({e}); the built-in defaults are used"),
        ));
        *layered = base.clone();
        defaults_config(&base)
    })
}

fn defaults_layered() -> Layered {
    match Layered::from_defaults(DEFAULT_CONFIG) {
        Ok(l) => l,
        // The defaults are built in and covered by tests; reaching this is a
        // build defect, not a user error.
        Err(e) => panic!("built-in default-config.toml does not parse: {e}"),
    }
}

fn defaults_config(defaults: &Layered) -> Config {
    match Config::deserialize(toml::Value::Table(defaults.to_table())) {
        Ok(c) => c,
        Err(e) => panic!("built-in default-config.toml does not match the Config struct: {e}"),
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

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<PathBuf> =
        rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts<'a>(env: &'a dyn Fn(&str) -> Option<String>, dir: &Path) -> LoadOptions<'a> {
        LoadOptions {
            paths: Paths {
                config_dir: Some(dir.join("config")),
                state_dir: Some(dir.join("state")),
                cache_dir: None,
                data_dir: None,
            },
            config_file: None,
            project_root: Some(dir.join("repo")),
            theme_flag: None,
            keymap_flag: None,
            profile_flag: None,
            policy_flag: None,
            env,
            color_depth: ColorDepth::TrueColor,
            trust: TrustMode::Stored,
        }
    }

    /// A temporary directory laid out as `opts` reads it: the user's
    /// `config/config.toml` holding `user`, and an empty project `repo/.tandem/`.
    fn config_dirs(user: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("config")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("repo/.tandem")).expect("mkdir");
        std::fs::write(dir.path().join("config/config.toml"), user).expect("write");
        dir
    }

    #[test]
    fn defaults_alone_load_without_diagnostics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let none = |_: &str| None;
        let s = load(&opts(&none, dir.path()));
        assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
        assert_eq!(s.config.ui.theme, "default");
        assert_eq!(s.config.ui.frame_rate, 30);
        assert_eq!(s.config.checks, ChecksConfig::default());
    }

    #[test]
    fn every_default_key_is_documented_by_a_comment() {
        let lines: Vec<&str> = DEFAULT_CONFIG.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with('[') {
                continue;
            }
            assert!(i > 0 && lines[i - 1].trim_start().starts_with('#'), "key without a comment: {t}");
        }
    }

    #[test]
    fn layers_apply_in_order_user_project_env_flag() {
        let dir = config_dirs("[ui]\ntheme = \"light\"\nframe_rate = 20\nhints = false\n");
        std::fs::write(dir.path().join("repo/.tandem/config.toml"), "[ui]\nframe_rate = 25\n").expect("write");
        let env = |k: &str| (k == "TANDEM_UI_HINTS").then(|| "true".to_string());
        let mut o = opts(&env, dir.path());
        o.theme_flag = Some("base16".into());
        let s = load(&o);
        assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
        assert_eq!(s.config.ui.theme, "base16");
        assert_eq!(s.config.ui.frame_rate, 25);
        assert!(s.config.ui.hints);
        assert_eq!(s.files.len(), 2);
        let src = s.layered.get("ui.frame_rate").map(|e| e.source.to_string()).unwrap_or_default();
        assert!(src.ends_with("repo/.tandem/config.toml:2"), "{src}");
    }

    #[test]
    fn out_of_range_value_is_an_error_with_location_and_default_kept() {
        let dir = config_dirs("[ui]\n\nframe_rate = 0\n[log]\nlevel = \"loud\"\n");
        let none = |_: &str| None;
        let s = load(&opts(&none, dir.path()));
        let msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(msgs[0].contains("config.toml:3: `ui.frame_rate` is 0; expected a value from 1 to 240"), "{msgs:?}");
        assert!(msgs[1].contains("config.toml:5: `log.level` is \"loud\""), "{msgs:?}");
        assert_eq!(s.config.ui.frame_rate, 30);
        assert_eq!(s.config.log.level, "info");
    }

    #[test]
    fn explicit_config_file_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let none = |_: &str| None;
        let mut o = opts(&none, dir.path());
        o.config_file = Some(dir.path().join("missing.toml"));
        let s = load(&o);
        assert!(s.has_errors());
        assert!(s.diagnostics[0].message.contains("cannot read"), "{:?}", s.diagnostics);
    }

    #[test]
    fn fixture_files_produce_the_documented_errors() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config");
        let mut l = Layered::from_defaults(DEFAULT_CONFIG).expect("defaults");
        let text = std::fs::read_to_string(fixtures.join("wrong-type.toml")).expect("fixture");
        let d = l.apply_file("wrong-type.toml", &text);
        let msgs: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "error: wrong-type.toml:3: `ui.frame_rate` expects an integer, found a string (\"fast\"); the default is used",
                "warning: wrong-type.toml:4: unknown key `ui.colour` (ignored); `tandem config show` lists every key",
                "error: wrong-type.toml:6: `composer.max_height` expects an integer, found true or false (true); the default is used",
            ]
        );
        let text = std::fs::read_to_string(fixtures.join("not-toml.toml")).expect("fixture");
        let d = l.apply_file("not-toml.toml", &text);
        assert_eq!(d.len(), 1);
        assert!(d[0].to_string().starts_with("error: not-toml.toml:2: not valid TOML"), "{}", d[0]);
    }

    #[test]
    fn budget_defaults_are_no_limits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let none = |_: &str| None;
        let s = load(&opts(&none, dir.path()));
        assert_eq!(s.config.budget, BudgetConfig::default());
        let shown = s.layered.render_annotated();
        assert!(shown.contains("[budget]\nmax_cost_usd = 0.0"), "{shown}");
        assert!(shown.contains("max_tool_calls_per_minute = 0"), "{shown}");
    }

    #[test]
    fn budget_values_load_and_bad_ones_are_errors_with_their_line() {
        let dir = config_dirs(
            "[budget]\nmax_cost_usd = 5\nmax_turns = 40\n\n[budget.max_tool_calls_per_minute]\nrun_command = 5\ndefault = 30\n",
        );
        let none = |_: &str| None;
        let s = load(&opts(&none, dir.path()));
        assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
        assert_eq!(s.config.budget.max_cost_usd, 5.0);
        assert_eq!(s.config.budget.max_turns, 40);
        assert_eq!(
            s.config.budget.max_tool_calls_per_minute,
            ToolCallLimit::PerTool([("run_command".to_string(), 5), ("default".to_string(), 30)].into())
        );
        let shown = s.layered.render_annotated();
        assert!(shown.contains("max_tool_calls_per_minute = { default = 30, run_command = 5 }"), "{shown}");
        let named = budget::unknown_tools(&s.layered, &["grep", "run_command"]);
        assert!(named.is_empty(), "a tool's name and `default` are known: {named:?}");

        std::fs::write(
            dir.path().join("repo/.tandem/config.toml"),
            "[budget]\nmax_cost_usd = -1.0\nmax_turns = -3\nmax_tool_calls_per_minute = { run_comand = 5, grep = 99999 }\n",
        )
        .expect("write");
        let s = load(&opts(&none, dir.path()));
        // The names of the tools are the registry's, above this layer, which
        // adds the warnings of `unknown_tools` (see `tools::registry`).
        let mut msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
        msgs.extend(budget::unknown_tools(&s.layered, &["grep", "run_command"]).iter().map(|d| d.to_string()));
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].contains("config.toml:3: `budget.max_turns` is -3; expected a value from 0 to 1000000"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].contains("config.toml:2: `budget.max_cost_usd` is -1; expected 0 (no limit) or more"),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.starts_with("error:")
                && m.contains(
                    "config.toml:4: `budget.max_tool_calls_per_minute.grep` is 99999; expected a value from 0"
                )),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.starts_with("warning:") && m.contains("names `run_comand`, which is not a tool")),
            "{msgs:?}"
        );
        // Wrong values fall back to the defaults; the user file's turns are
        // overridden by the project's bad value, so the default applies.
        assert_eq!(s.config.budget, BudgetConfig::default());

        // Whole numbers are checked too: TOML reads them as integers.
        std::fs::write(
            dir.path().join("repo/.tandem/config.toml"),
            "[budget]\nmax_cost_usd = -2\nmax_tool_calls_per_minute = -1\n",
        )
        .expect("write");
        let s = load(&opts(&none, dir.path()));
        let msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("`budget.max_cost_usd` is -2; expected 0 (no limit) or more")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("`budget.max_tool_calls_per_minute` is -1; expected a value from 0 to 10000")),
            "{msgs:?}"
        );
        assert_eq!(s.config.budget.max_cost_usd, 0.0);
        assert_eq!(s.config.budget.max_tool_calls_per_minute, ToolCallLimit::default());
    }

    #[test]
    fn checks_are_read_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("repo/.tandem")).expect("mkdir");
        let none = |_: &str| None;
        let s = load(&opts(&none, dir.path()));
        assert_eq!(s.config.checks.test_cmd, "");
        assert!(!s.config.checks.auto_test);
        assert_eq!((s.config.checks.max_fix_rounds, s.config.checks.timeout_secs), (3, 600));

        std::fs::write(
            dir.path().join("repo/.tandem/config.toml"),
            "[checks]\ntest_cmd = \"make test\"\nauto_test = true\nmax_fix_rounds = 0\n",
        )
        .expect("write");
        // A repository's commands apply once it is trusted.
        let mut o = opts(&none, dir.path());
        o.trust = TrustMode::Grant;
        let s = load(&o);
        assert_eq!(s.trust, TrustState::Trusted);
        let msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(msgs.len(), 1, "{msgs:#?}");
        assert!(msgs[0].contains("`checks.max_fix_rounds` is 0; expected a value from 1 to 100"), "{msgs:?}");
        assert_eq!(s.config.checks.test_cmd, "make test");
        assert!(s.config.checks.auto_test);
        assert_eq!(s.config.checks.max_fix_rounds, 3);
    }
}
