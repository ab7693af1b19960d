//! Choosing a provider: a named profile from the configuration, or with
//! nothing configured, whatever the environment offers.

use std::sync::Arc;
use std::time::Duration;

use super::scripted::ScriptError;
use super::{HttpConfig, LlmError, Provider, Secret};
use crate::config::{Config, ProviderKind, ProviderProfile};

/// Why a profile cannot be used, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("there is no provider profile `{name}`; the profiles are: {}", .known.join(", "))]
    NoSuchProfile { name: String, known: Vec<String> },
    #[error("the profile `{name}` has no base_url")]
    NoBaseUrl { name: String },
    #[error("the profile `{name}` names no model; set providers.{name}.model or use `/model {name} MODEL`")]
    NoModel { name: String },
    #[error("the profile `{name}` needs an API key in the environment variable {var}")]
    NoKey { name: String, var: String },
    #[error("the profile `{name}` has no kind; set providers.{name}.kind to {}", ProviderKind::names(" or "))]
    NoKind { name: String },
    /// The HTTP client could not be made (the key cannot go in a header,
    /// the system's certificates cannot be loaded).
    #[error(transparent)]
    Client(#[from] LlmError),
}

/// What [`build`] returns: the provider and its profile, or why not.
pub(crate) type Built = Result<(Arc<dyn Provider>, Profile), SelectError>;

/// The profile in use, with everything resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    /// The wire format; `None` for a scripted model, which has none.
    pub kind: Option<ProviderKind>,
    pub model: String,
    pub context_window: u64,
    pub max_output_tokens: u32,
    pub prices: Prices,
    /// The models the server listed, when it was asked (Ollama).
    pub available_models: Vec<String>,
}

/// US dollars per million tokens; `None` is unknown, shown as such.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prices {
    pub input: Option<f64>,
    pub output: Option<f64>,
    pub cache_read: Option<f64>,
    pub cache_write: Option<f64>,
}

pub(crate) enum Choice {
    Ready(Arc<dyn Provider>, Profile),
    /// No model can be used; the text says how to set one up.
    Offline(String),
}

/// How to get a model working, in two lines.
pub const OFFLINE_HELP: &str = "No model is configured. Set ANTHROPIC_API_KEY or OPENAI_API_KEY (plus OPENAI_BASE_URL for \
     vLLM, llama.cpp, LM Studio or OpenRouter), or start Ollama on localhost:11434.\n\
     Or add a [providers.NAME] profile to ~/.config/tandem/config.toml and pick it with `/model NAME`; \
     `tandem --demo` shows tandem with a scripted model.";

fn prices(p: &ProviderProfile) -> Prices {
    Prices {
        input: p.input_price,
        output: p.output_price,
        cache_read: p.cache_read_price,
        cache_write: p.cache_write_price,
    }
}

fn http_config(config: &Config, base_url: String, key_env: &str, env: &dyn Fn(&str) -> Option<String>) -> HttpConfig {
    let key = (!key_env.is_empty()).then(|| env(key_env)).flatten().filter(|k| !k.is_empty());
    HttpConfig {
        base_url,
        api_key: key.map(Secret::new),
        api_key_env: (!key_env.is_empty()).then(|| key_env.to_string()),
        idle_timeout: Duration::from_secs(config.model.idle_timeout_secs),
        max_retries: config.model.max_retries,
        ..HttpConfig::default()
    }
}

/// Build the provider of profile `name`. `model` overrides the profile's.
pub fn build(config: &Config, name: &str, model: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Built {
    let Some(p) = config.providers.get(name) else {
        let known = config.providers.keys().cloned().collect();
        return Err(SelectError::NoSuchProfile { name: name.to_string(), known });
    };
    let mut base_url = p.base_url.clone();
    if name == "openai"
        && let Some(url) = env("OPENAI_BASE_URL").filter(|u| !u.is_empty())
    {
        base_url = url;
    }
    if base_url.is_empty() {
        return Err(SelectError::NoBaseUrl { name: name.to_string() });
    }
    let model = model.map(str::to_string).unwrap_or_else(|| p.model.clone());
    if model.is_empty() {
        return Err(SelectError::NoModel { name: name.to_string() });
    }
    let http = http_config(config, base_url, &p.api_key_env, env);
    if http.api_key.is_none() && !p.api_key_env.is_empty() {
        return Err(SelectError::NoKey { name: name.to_string(), var: p.api_key_env.clone() });
    }
    let Some(kind) = p.kind else {
        return Err(SelectError::NoKind { name: name.to_string() });
    };
    let provider: Arc<dyn Provider> = match kind {
        ProviderKind::OpenAi => Arc::new(super::openai::OpenAi::new(http)?),
        ProviderKind::Anthropic => Arc::new(super::anthropic::Anthropic::new(http)?),
    };
    let profile = Profile {
        name: name.to_string(),
        kind: Some(kind),
        model,
        context_window: if p.context_window == 0 { 128_000 } else { p.context_window },
        max_output_tokens: if p.max_output_tokens == 0 { 4096 } else { p.max_output_tokens },
        prices: prices(p),
        available_models: Vec::new(),
    };
    Ok((provider, profile))
}

/// The scripted provider replaying `path` (`--provider script:FILE`), with
/// a profile that knows no prices.
pub(crate) fn script(path: &std::path::Path) -> Result<(Arc<dyn Provider>, Profile), ScriptError> {
    let provider = super::scripted::Scripted::from_file(path)?;
    let profile = Profile {
        name: "script".into(),
        kind: None,
        model: path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        context_window: 200_000,
        max_output_tokens: 4096,
        prices: Prices::default(),
        available_models: Vec::new(),
    };
    Ok((Arc::new(provider), profile))
}

/// The provider to start with: the configured profile, or with "auto" the
/// first of Anthropic, OpenAI and a local Ollama that is available.
pub(crate) async fn choose(config: &Config, env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Choice {
    let selected = config.model.profile.as_str();
    if selected != "auto" {
        return match build(config, selected, None, env) {
            Ok((p, profile)) => Choice::Ready(p, profile),
            Err(e) => Choice::Offline(format!("Cannot use the configured model: {e}.\n{OFFLINE_HELP}")),
        };
    }
    for (name, var) in [("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")] {
        if env(var).is_some_and(|k| !k.is_empty())
            && config.providers.contains_key(name)
            && let Ok((p, profile)) = build(config, name, None, env)
        {
            return Choice::Ready(p, profile);
        }
    }
    if let Some(ollama) = config.providers.get("ollama") {
        let http = HttpConfig {
            connect_timeout: Duration::from_millis(300),
            ..http_config(config, ollama.base_url.clone(), "", env)
        };
        let probe = tokio::time::timeout(Duration::from_millis(300), super::openai::list_models(&http)).await;
        if let Ok(Ok(models)) = probe
            && let Some(first) = models.first()
        {
            let model = if ollama.model.is_empty() { first.clone() } else { ollama.model.clone() };
            if let Ok((p, mut profile)) = build(config, "ollama", Some(&model), env) {
                profile.available_models = models;
                return Choice::Ready(p, profile);
            }
        }
    }
    Choice::Offline(OFFLINE_HELP.to_string())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::config::{DEFAULT_CONFIG, Layered};

    fn config() -> Config {
        let layered = Layered::from_defaults(DEFAULT_CONFIG).expect("defaults");
        Config::deserialize(toml::Value::Table(layered.to_table())).expect("the defaults fit")
    }

    fn with(profile: ProviderProfile) -> Config {
        let mut config = config();
        config.providers.insert("mine".into(), profile);
        config
    }

    fn local(kind: Option<ProviderKind>) -> ProviderProfile {
        ProviderProfile { kind, base_url: "http://127.0.0.1:9/v1".into(), model: "m".into(), ..Default::default() }
    }

    fn error(config: &Config, name: &str, env: &dyn Fn(&str) -> Option<String>) -> SelectError {
        build(config, name, None, env).err().expect("an error")
    }

    #[test]
    fn each_kind_builds_its_own_provider() {
        let none = |_: &str| None;
        for kind in ProviderKind::ALL {
            let (provider, profile) = build(&with(local(Some(*kind))), "mine", None, &none).expect("built");
            assert_eq!(profile.kind, Some(*kind));
            let expected = match kind {
                ProviderKind::OpenAi => "openai-compatible 127.0.0.1:9",
                ProviderKind::Anthropic => "anthropic-compatible 127.0.0.1:9",
            };
            assert_eq!(provider.describe(), expected);
        }
        let key = |v: &str| (v == "ANTHROPIC_API_KEY").then(|| "sk-test".to_string());
        let (_, profile) = build(&config(), "anthropic", Some("claude-x"), &key).expect("built");
        assert_eq!((profile.kind, profile.model.as_str()), (Some(ProviderKind::Anthropic), "claude-x"));
    }

    #[test]
    fn openai_writes_to_its_cache_cost_what_plain_input_does() {
        let key = |v: &str| (v == "OPENAI_API_KEY").then(|| "sk-test".to_string());
        let (_, profile) = build(&config(), "openai", None, &key).expect("built");
        assert_eq!(profile.kind, Some(ProviderKind::OpenAi));
        assert_eq!(profile.prices.cache_write, profile.prices.input);
        assert!(profile.prices.input.is_some());
    }

    #[test]
    fn a_profile_that_cannot_be_used_says_why() {
        let none = |_: &str| None;
        let e = error(&with(local(None)), "mine", &none);
        assert!(matches!(&e, SelectError::NoKind { name } if name == "mine"), "{e:?}");
        assert_eq!(e.to_string(), "the profile `mine` has no kind; set providers.mine.kind to openai or anthropic");

        let e = error(&with(ProviderProfile { base_url: String::new(), ..local(None) }), "mine", &none);
        assert_eq!(e.to_string(), "the profile `mine` has no base_url");

        let e = error(&with(ProviderProfile { model: String::new(), ..local(None) }), "mine", &none);
        assert_eq!(
            e.to_string(),
            "the profile `mine` names no model; set providers.mine.model or use `/model mine MODEL`"
        );

        let e = error(&config(), "anthropic", &none);
        assert!(matches!(&e, SelectError::NoKey { var, .. } if var == "ANTHROPIC_API_KEY"), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the profile `anthropic` needs an API key in the environment variable ANTHROPIC_API_KEY"
        );

        let e = error(&config(), "nope", &none);
        assert_eq!(e.to_string(), "there is no provider profile `nope`; the profiles are: anthropic, ollama, openai");

        // A client that cannot be made reads as the client's own error.
        let connect = LlmError::Connect { url: "https://x".into(), reason: "no certificates".into() };
        assert_eq!(SelectError::from(connect.clone()).to_string(), connect.to_string());
    }

    #[test]
    fn a_script_has_no_wire_format_and_its_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("turns.toml");
        std::fs::write(&path, "[[turns]]\ntext = \"hi\"\n").expect("write");
        let (_, profile) = script(&path).expect("script");
        assert_eq!((profile.kind, profile.model.as_str()), (None, "turns.toml"));
        std::fs::write(&path, "turns = []\n").expect("write");
        let e = script(&path).err().expect("no turns");
        assert_eq!(e.to_string(), format!("{}: the script has no [[turns]]", path.display()));
    }
}
