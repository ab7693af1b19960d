//! Which environment variables hold secrets: the provider keys, names that
//! look like secrets, and values that look like credentials whatever their
//! name.
//!
//! Names match anywhere and in any case, as codex's default excludes do
//! (`*KEY*`, `*SECRET*`, `*TOKEN*`): `KEYMAP` or `TERM_KEYPAD` are removed
//! too. Losing a harmless variable costs a command less than a key costs
//! its owner, and `[secrets] env_passthrough` names the ones to keep.

use std::sync::LazyLock;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::RegexSet;

/// The built-in `[secrets] env_patterns`.
pub const DEFAULT_PATTERNS: &[&str] = &["*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*", "*CREDENTIAL*"];

/// Model providers' key variables people commonly have set: secrets
/// whatever the patterns or the passthrough list say, like every profile's
/// `api_key_env`.
pub const PROVIDER_KEY_VARS: &[&str] = &[
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "AZURE_OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "COHERE_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
];

/// Values that are credentials whatever the variable is called (a
/// `DATABASE_URL` with a password, a token in `GH_AUTH`). After gemini-cli's
/// `NEVER_ALLOWED_VALUE_PATTERNS` and gitleaks' rules for the same tokens.
static CREDENTIAL_VALUES: LazyLock<Option<RegexSet>> = LazyLock::new(|| {
    RegexSet::new([
        r"-----BEGIN [A-Z ]*PRIVATE KEY",
        // Credentials in a URL: scheme://user:password@host
        r"^[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@",
        r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
        r"\bglpat-[A-Za-z0-9_-]{20,}",
        r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
        r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
        r"\bAIza[0-9A-Za-z_-]{35}",
        r"\b[rs]k_(live|test)_[0-9A-Za-z]{16,}",
        r"\bsk-[A-Za-z0-9_-]{20,}",
        r"\bhf_[A-Za-z0-9]{30,}",
        r"\bnpm_[A-Za-z0-9]{36}",
        // A JSON web token: header.payload.
        r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.",
    ])
    .ok()
});

/// Whether `value` looks like a credential by its shape alone.
pub(crate) fn looks_like_credential(value: &str) -> bool {
    CREDENTIAL_VALUES.as_ref().is_some_and(|set| set.is_match(value))
}

/// The rules that decide which variables are secret.
#[derive(Debug, Clone)]
pub struct Names {
    patterns: GlobSet,
    /// Provider keys, upper case.
    keys: Vec<String>,
    /// Names passed on although they match, upper case.
    passthrough: Vec<String>,
}

impl Names {
    /// `patterns` are globs matched without regard to case; `key_vars` the
    /// provider key variables; `passthrough` names kept although they
    /// match (never a provider key). Returns the rules and a message for
    /// each pattern that is not a valid glob (it is left out).
    pub fn new(patterns: &[String], key_vars: &[String], passthrough: &[String]) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut set = GlobSetBuilder::new();
        for p in patterns {
            match GlobBuilder::new(p).case_insensitive(true).literal_separator(false).build() {
                Ok(glob) => {
                    set.add(glob);
                }
                Err(e) => problems.push(format!("the pattern `{p}` is not a valid glob ({e}); it is left out")),
            }
        }
        let patterns = set.build().unwrap_or_else(|e| {
            problems.push(format!("the patterns could not be used ({e}); the built-in ones are"));
            defaults()
        });
        let upper = |names: &[String]| names.iter().map(|n| n.trim().to_ascii_uppercase()).collect::<Vec<_>>();
        let mut keys = upper(key_vars);
        keys.extend(PROVIDER_KEY_VARS.iter().map(|k| k.to_string()));
        keys.retain(|k| !k.is_empty());
        (Self { patterns, keys, passthrough: upper(passthrough) }, problems)
    }

    /// Whether `name` is a provider key variable (never passed through).
    pub(crate) fn is_provider_key(&self, name: &str) -> bool {
        self.keys.iter().any(|k| k.eq_ignore_ascii_case(name))
    }

    /// Whether the variable `name` holding `value` is a secret.
    pub fn is_secret(&self, name: &str, value: &str) -> bool {
        if self.is_provider_key(name) {
            return true;
        }
        if self.passthrough.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            return false;
        }
        self.patterns.is_match(name) || looks_like_credential(value)
    }
}

fn defaults() -> GlobSet {
    let mut set = GlobSetBuilder::new();
    for p in DEFAULT_PATTERNS {
        if let Ok(glob) = GlobBuilder::new(p).case_insensitive(true).build() {
            set.add(glob);
        }
    }
    set.build().unwrap_or_else(|_| GlobSet::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(passthrough: &[&str]) -> Names {
        let patterns: Vec<String> = DEFAULT_PATTERNS.iter().map(|p| p.to_string()).collect();
        let pass: Vec<String> = passthrough.iter().map(|p| p.to_string()).collect();
        Names::new(&patterns, &["CORP_LLM".to_string()], &pass).0
    }

    #[test]
    fn secret_names_in_any_case_and_provider_keys() {
        let n = names(&[]);
        for name in [
            "OPENAI_API_KEY",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "PGPASSWORD",
            "db_password",
            "MyApiKey",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "CORP_LLM",
            "HF_TOKEN",
            "KEYMAP",
        ] {
            assert!(n.is_secret(name, "x"), "{name}");
        }
        for name in ["PATH", "HOME", "LANG", "TERM", "CARGO_HOME", "SSH_AUTH_SOCK", "EDITOR", "PWD"] {
            assert!(!n.is_secret(name, "/usr/bin"), "{name}");
        }
    }

    #[test]
    fn passthrough_keeps_a_name_but_never_a_provider_key() {
        let n = names(&["keymap", "OPENAI_API_KEY", "CORP_LLM"]);
        assert!(!n.is_secret("KEYMAP", "us"));
        assert!(n.is_secret("OPENAI_API_KEY", "sk-x"));
        assert!(n.is_secret("CORP_LLM", "v"));
    }

    #[test]
    fn values_shaped_like_credentials_are_secret_under_any_name() {
        let n = names(&[]);
        for value in [
            "postgres://app:hunter2@db/prod",
            "https://user:pa55@proxy:8080",
            "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
            "AKIAIOSFODNN7EXAMPLE",
            "sk-proj-0123456789abcdefghijkl",
            "xoxb-1234567890-abcdef",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
        ] {
            assert!(n.is_secret("SOME_SETTING", value), "{value}");
        }
        for value in ["https://example.com/path", "postgres://db/prod", "/home/me/.local/bin", "sk-short"] {
            assert!(!n.is_secret("SOME_SETTING", value), "{value}");
        }
    }

    #[test]
    fn a_bad_pattern_is_reported_and_left_out() {
        let (n, problems) = Names::new(&["[".to_string(), "*_DSN".to_string()], &[], &[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("`[`"));
        assert!(n.is_secret("SENTRY_DSN", "x"));
        assert!(!n.is_secret("GITHUB_TOKEN", "x"));
    }
}
