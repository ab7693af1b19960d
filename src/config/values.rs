//! Checks on the values of the merged layers that their TOML types alone
//! do not express (ranges, names, patterns), the typed configuration they
//! turn into, and the built-in defaults.

use serde::Deserialize;

use super::diagnostics::Diagnostic;
use super::layers::{self, Layered, Source};
use super::provider::ProviderKind;
use super::sections::{Config, Policy};
use super::{DEFAULT_CONFIG, budget, location};

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

pub(super) fn check_values(layered: &mut Layered, diags: &mut Vec<Diagnostic>) {
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
pub(super) fn deserialize_checked(layered: &mut Layered, diags: &mut Vec<Diagnostic>) -> Config {
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

pub(super) fn defaults_layered() -> Layered {
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
