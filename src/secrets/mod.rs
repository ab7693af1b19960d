//! Secrets never leave tandem's own memory. This module knows which
//! environment variables hold them ([`names`]), takes them out of the
//! environment of every program tandem starts for the model or a check
//! ([`scrub`]), and replaces their values in everything tandem shows,
//! records, logs or sends a model ([`redact`]).
//!
//! The rules are process-wide, like the environment they describe and the
//! log writer that needs them: set once from the configuration at start
//! ([`setup`]), built from the environment with the defaults before that.
//! Redaction is defence in depth: a program without the keys cannot print
//! them, and what it prints is redacted anyway, but a value it transforms
//! (`base64 ~/.bashrc`) cannot be recognised.

pub mod names;
pub(crate) mod redact;

use std::ffi::OsString;
use std::path::Path;
use std::sync::{Arc, RwLock};

pub use names::{DEFAULT_PATTERNS, Names, PROVIDER_KEY_VARS};
pub use redact::{MARKER, MIN_SECRET_LEN, Redactor, StreamRedactor};

use crate::config::{Config, Diagnostic, SecretsConfig, Settings, Source};

/// The rules and the secret values they found.
#[derive(Debug, Clone)]
pub struct Secrets {
    names: Names,
    redactor: Arc<Redactor>,
}

impl Secrets {
    /// From `config` and the variables `vars`: the values of the secret
    /// ones are what the redactor looks for. Also returns what was wrong
    /// with the configuration.
    pub fn new(
        config: &SecretsConfig,
        key_vars: &[String],
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> (Self, Vec<String>) {
        let (names, problems) = Names::new(&config.env_patterns, key_vars, &config.env_passthrough);
        let values = vars.into_iter().filter(|(n, v)| names.is_secret(n, v) && !is_a_path(v)).map(|(_, v)| v);
        let redactor = Arc::new(Redactor::new(values));
        (Self { names, redactor }, problems)
    }

    /// The rules of `config` (every profile's `api_key_env` is a key) over
    /// the process's environment.
    pub fn from_config(config: &Config) -> (Self, Vec<String>) {
        let keys: Vec<String> = config.providers.values().map(|p| p.api_key_env.clone()).collect();
        Self::new(&config.secrets, &keys, env_vars())
    }

    /// The built-in rules over the process's environment.
    pub fn from_env() -> Self {
        let config = SecretsConfig {
            env_patterns: DEFAULT_PATTERNS.iter().map(|p| p.to_string()).collect(),
            env_passthrough: Vec::new(),
        };
        Self::new(&config, &[], env_vars()).0
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    pub fn redactor(&self) -> &Arc<Redactor> {
        &self.redactor
    }

    /// The variables of this process's environment, as it is now, that a
    /// child must not get.
    pub(crate) fn secret_vars(&self) -> Vec<OsString> {
        std::env::vars_os()
            .filter(|(n, v)| self.names.is_secret(&n.to_string_lossy(), &v.to_string_lossy()))
            .map(|(n, _)| n)
            .collect()
    }
}

/// A value naming an existing file or directory is where a secret is, not
/// one (`GOOGLE_APPLICATION_CREDENTIALS=/path/key.json`): the variable is
/// still kept from children, but the path is not blotted out of output.
fn is_a_path(value: &str) -> bool {
    let path = Path::new(value);
    path.is_absolute() && path.exists()
}

/// The environment as strings (values that are not UTF-8 cannot be found
/// in text anyway).
fn env_vars() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().map(|(n, v)| (n.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
}

static CURRENT: RwLock<Option<Arc<Secrets>>> = RwLock::new(None);

/// The rules in force.
pub fn current() -> Arc<Secrets> {
    if let Ok(guard) = CURRENT.read()
        && let Some(s) = guard.as_ref()
    {
        return s.clone();
    }
    let built = Arc::new(Secrets::from_env());
    match CURRENT.write() {
        Ok(mut guard) => guard.get_or_insert(built).clone(),
        Err(_) => built,
    }
}

/// Put `secrets` in force for the rest of the process.
pub fn install(secrets: Secrets) {
    if let Ok(mut guard) = CURRENT.write() {
        *guard = Some(Arc::new(secrets));
    }
}

/// The redactor in force.
pub(crate) fn redactor() -> Arc<Redactor> {
    current().redactor.clone()
}

/// `text` with every secret in force replaced.
pub(crate) fn redact(text: &str) -> String {
    current().redactor.redact(text).into_owned()
}

/// Take every secret out of the environment `cmd` passes on: the program
/// and everything it starts never see them.
pub(crate) fn scrub(cmd: &mut std::process::Command) {
    for name in current().secret_vars() {
        cmd.env_remove(name);
    }
}

/// The shell every command and check runs with: by absolute path, so a
/// `sh` that a repository (or direnv) put first on `PATH` is not it.
pub(crate) const SHELL: &str = "/bin/sh";

/// Put the configuration's rules in force and keep other processes of the
/// user from reading tandem's memory and environment. A repository's own
/// `.tandem/config.toml` may add patterns but not take the built-in ones
/// away or pass secrets through: which of the user's secrets its programs
/// see is not the repository's to decide. Returns what to tell the user.
pub fn setup(settings: &Settings, project_root: Option<&Path>) -> Vec<Diagnostic> {
    let mut config = settings.config.clone();
    let mut diags = Vec::new();
    let project_file = project_root.map(|r| r.join(".tandem").join("config.toml").display().to_string());
    let from_project = |key: &str| match settings.layered.get(key).map(|e| &e.source) {
        Some(Source::File { path, line }) if Some(path) == project_file.as_ref() => Some((path.clone(), *line)),
        _ => None,
    };
    if from_project("secrets.env_patterns").is_some() {
        for p in DEFAULT_PATTERNS {
            if !config.secrets.env_patterns.iter().any(|q| q == p) {
                config.secrets.env_patterns.push(p.to_string());
            }
        }
    }
    if let Some((path, line)) = from_project("secrets.env_passthrough") {
        if !config.secrets.env_passthrough.is_empty() {
            diags.push(Diagnostic::warning(
                path,
                line,
                "`secrets.env_passthrough` is ignored in a repository's configuration: only your own \
                 (~/.config/tandem/config.toml) may pass secrets to commands",
            ));
        }
        config.secrets.env_passthrough.clear();
    }
    let (secrets, problems) = Secrets::from_config(&config);
    let source = settings.layered.get("secrets.env_patterns").map(|e| e.source.clone());
    for p in problems {
        let (path, line) = match &source {
            Some(Source::File { path, line }) => (path.clone(), *line),
            Some(other) => (other.to_string(), None),
            None => ("configuration".to_string(), None),
        };
        diags.push(Diagnostic::warning(path, line, format!("`secrets.env_patterns`: {p}")));
    }
    install(secrets);
    harden_process();
    diags
}

/// Not dumpable: other processes of the same user (the commands tandem
/// runs among them) can no longer read `/proc/<tandem>/environ` or its
/// memory, where the keys are; `ssh-agent` does the same. It also keeps
/// keys out of core files. Children are dumpable again after `exec`.
pub(crate) fn harden_process() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_dumpable(false) {
        tracing::debug!("cannot make the process undumpable: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(patterns: &[&str], passthrough: &[&str]) -> SecretsConfig {
        SecretsConfig {
            env_patterns: patterns.iter().map(|p| p.to_string()).collect(),
            env_passthrough: passthrough.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_values_of_secret_variables_are_redacted_and_the_rest_are_not() {
        let (s, problems) = Secrets::new(
            &config(DEFAULT_PATTERNS, &["KEYMAP_FILE"]),
            &["CORP".to_string()],
            vars(&[
                ("OPENAI_API_KEY", "sk-0123456789"),
                ("CORP", "corp-value-123"),
                ("DB_PASSWORD", "short"),
                ("KEYMAP_FILE", "keymap-value-123"),
                ("HOME", "/home/someone-123"),
                ("GOOGLE_APPLICATION_CREDENTIALS", "/"),
                ("DATABASE_URL", "postgres://a:hunter22@db/x"),
            ]),
        );
        assert!(problems.is_empty());
        let text = "sk-0123456789 corp-value-123 short keymap-value-123 /home/someone-123 / postgres://a:hunter22@db/x";
        assert_eq!(
            s.redactor().redact(text),
            "[REDACTED] [REDACTED] short keymap-value-123 /home/someone-123 / [REDACTED]"
        );
    }
}
