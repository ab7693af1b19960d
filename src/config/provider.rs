//! The wire formats a `[providers.NAME]` profile can name with `kind`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// Declares the kinds once: the enum, the name each has in the
/// configuration and the list of all of them come from the same lines, so a
/// new kind cannot be left out of what the configuration accepts, and every
/// `match` on the kind (the provider is built in `llm::select`) stops
/// compiling until it handles the new one.
macro_rules! provider_kinds {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal,)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProviderKind {
            $($(#[doc = $doc])* $variant,)+
        }

        impl ProviderKind {
            /// Every kind, in the order the configuration's messages list them.
            pub const ALL: &'static [ProviderKind] = &[$(ProviderKind::$variant),+];

            /// The name in the configuration.
            pub(crate) const fn as_str(self) -> &'static str {
                match self {
                    $(ProviderKind::$variant => $name,)+
                }
            }
        }
    };
}

provider_kinds! {
    /// OpenAI chat completions, also spoken by Ollama, vLLM, llama.cpp,
    /// LM Studio and OpenRouter.
    OpenAi = "openai",
    /// Anthropic messages.
    Anthropic = "anthropic",
}

impl ProviderKind {
    /// The names for a message: `openai, anthropic` (with `last` = `", "`)
    /// or `openai or anthropic` (with `last` = `" or "`).
    pub fn names(last: &str) -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
        match names.split_last() {
            Some((final_name, [])) => (*final_name).to_string(),
            Some((final_name, rest)) => format!("{}{last}{final_name}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `kind` that names no wire format tandem speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{given}\"; expected one of {}", ProviderKind::names(", "))]
pub struct UnknownKind {
    pub given: String,
}

impl FromStr for ProviderKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s).ok_or_else(|| UnknownKind { given: s.to_string() })
    }
}

impl<'de> Deserialize<'de> for ProviderKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_from_its_own_name() {
        assert_eq!(ProviderKind::ALL, &[ProviderKind::OpenAi, ProviderKind::Anthropic]);
        for kind in ProviderKind::ALL {
            assert_eq!(kind.as_str().parse::<ProviderKind>(), Ok(*kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!("openai".parse(), Ok(ProviderKind::OpenAi));
        assert_eq!("anthropic".parse(), Ok(ProviderKind::Anthropic));
    }

    #[test]
    fn an_unknown_kind_says_which_are_known() {
        for bad in ["claude", "OpenAI", "", " openai", "script"] {
            let err = bad.parse::<ProviderKind>().expect_err(bad);
            assert_eq!(err.to_string(), format!("\"{bad}\"; expected one of openai, anthropic"));
        }
        assert_eq!(ProviderKind::names(", "), "openai, anthropic");
        assert_eq!(ProviderKind::names(" or "), "openai or anthropic");
    }

    #[test]
    fn deserializes_from_the_configuration_string() {
        #[derive(Debug, Deserialize)]
        struct Profile {
            kind: ProviderKind,
        }
        let p: Profile = toml::from_str("kind = \"anthropic\"").expect("kind");
        assert_eq!(p.kind, ProviderKind::Anthropic);
        let err = toml::from_str::<Profile>("kind = \"gemini\"").expect_err("unknown").to_string();
        assert!(err.contains("\"gemini\"; expected one of openai, anthropic"), "{err}");
        assert!(toml::from_str::<Profile>("kind = 1").is_err());
    }

    /// Loads `text` as a user file over the defaults, as `config::load` does.
    fn load(text: &str) -> (super::super::Config, Vec<String>) {
        let mut layered = super::super::Layered::from_defaults(super::super::DEFAULT_CONFIG).expect("defaults");
        let mut diags = layered.apply_file("config.toml", text);
        super::super::values::check_values(&mut layered, &mut diags);
        let config = super::super::values::deserialize_checked(&mut layered, &mut diags);
        (config, diags.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_configuration_reports_an_unknown_kind_and_keeps_the_default() {
        let (config, msgs) = load(
            "[providers.mine]\nkind = \"claude\"\nmodel = \"m\"\n\n[providers.anthropic]\nkind = \"gemini\"\n\n[providers.local]\nkind = \"openai\"\n",
        );
        assert_eq!(
            msgs,
            vec![
                "error: config.toml:6: `providers.anthropic.kind` is \"gemini\"; expected one of openai, anthropic",
                "error: config.toml:2: `providers.mine.kind` is \"claude\"; expected one of openai, anthropic",
            ]
        );
        // A profile of the defaults keeps its own kind; the user's own
        // profile is left without one, which `llm::select` explains when it
        // is used.
        assert_eq!(config.providers["anthropic"].kind, Some(ProviderKind::Anthropic));
        assert_eq!(config.providers["mine"].kind, None);
        assert_eq!(config.providers["mine"].model, "m");
        assert_eq!(config.providers["local"].kind, Some(ProviderKind::OpenAi));
        assert_eq!(config.providers["ollama"].kind, Some(ProviderKind::OpenAi));
    }
}
