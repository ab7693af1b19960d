//! Choosing a provider: a named profile from the configuration, or with
//! nothing configured, whatever the environment offers.

use std::sync::Arc;
use std::time::Duration;

use super::{HttpConfig, Provider, Secret};
use crate::config::{Config, ProviderProfile};

/// The profile in use, with everything resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub kind: String,
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

pub enum Choice {
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
pub fn build(
    config: &Config,
    name: &str,
    model: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Arc<dyn Provider>, Profile), String> {
    let Some(p) = config.providers.get(name) else {
        let names: Vec<&str> = config.providers.keys().map(String::as_str).collect();
        return Err(format!("there is no provider profile `{name}`; the profiles are: {}", names.join(", ")));
    };
    let mut base_url = p.base_url.clone();
    if name == "openai"
        && let Some(url) = env("OPENAI_BASE_URL").filter(|u| !u.is_empty())
    {
        base_url = url;
    }
    if base_url.is_empty() {
        return Err(format!("the profile `{name}` has no base_url"));
    }
    let model = model.map(str::to_string).unwrap_or_else(|| p.model.clone());
    if model.is_empty() {
        return Err(format!(
            "the profile `{name}` names no model; set providers.{name}.model or use `/model {name} MODEL`"
        ));
    }
    let http = http_config(config, base_url, &p.api_key_env, env);
    if http.api_key.is_none() && !p.api_key_env.is_empty() {
        return Err(format!("the profile `{name}` needs an API key in the environment variable {}", p.api_key_env));
    }
    let provider: Arc<dyn Provider> = match p.kind.as_str() {
        "openai" => Arc::new(super::openai::OpenAi::new(http).map_err(|e| e.to_string())?),
        "anthropic" => Arc::new(super::anthropic::Anthropic::new(http).map_err(|e| e.to_string())?),
        "" => {
            return Err(format!("the profile `{name}` has no kind; set providers.{name}.kind to openai or anthropic"));
        }
        other => return Err(format!("the profile `{name}` has kind `{other}`; expected openai or anthropic")),
    };
    let profile = Profile {
        name: name.to_string(),
        kind: p.kind.clone(),
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
pub fn script(path: &std::path::Path) -> Result<(Arc<dyn Provider>, Profile), String> {
    let provider = super::scripted::Scripted::from_file(path)?;
    let profile = Profile {
        name: "script".into(),
        kind: "script".into(),
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
pub async fn choose(config: &Config, env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Choice {
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
