//! The typed configuration: [`Config`] and one struct per table of
//! `default-config.toml` (`[ui]`, `[tools]`, `[checks]`, ...), with the
//! tool [`Policy`].

use serde::Deserialize;

use super::budget::BudgetConfig;
use super::provider::ProviderKind;

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

    pub(crate) fn next(self) -> Policy {
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
