//! Configuration: layered TOML settings, key bindings and colour themes.
//!
//! Loading never fails: whatever is wrong in a user's files is reported as a
//! [`Diagnostic`] and the built-in value is used instead, so tandem always
//! starts and shows the problem.

pub mod budget;
pub(crate) mod diagnostics;
pub mod keymap;
pub mod keys;
pub mod layers;
mod load;
mod paths;
pub(crate) mod provider;
mod sections;
pub mod slash;
#[cfg(test)]
mod tests;
pub(crate) mod theme;
pub mod trust;
mod values;

pub use budget::{BudgetConfig, ToolCallLimit};
pub use diagnostics::{Diagnostic, Severity};
pub use keymap::Keymap;
pub use layers::{Layered, Source};
#[cfg(test)]
pub(crate) use load::built_in;
pub use load::{Layers, LoadOptions, Settings, check_all, load, load_layers};
pub use paths::{Paths, keymap_dirs, keymap_override_files, theme_dirs};
pub use provider::{ProviderKind, UnknownKind};
pub use sections::{
    ChecksConfig, ComposerConfig, Config, IndexConfig, LogConfig, ModelConfig, Policy, ProviderProfile, SecretsConfig,
    ToolsConfig, UiConfig,
};
pub use theme::{ColorDepth, Theme};
pub use trust::{TrustMode, TrustState, TrustStore};

pub const DEFAULT_CONFIG: &str = include_str!("../../assets/default-config.toml");

pub(super) fn location(entry: &layers::Entry) -> (String, Option<usize>) {
    match &entry.source {
        Source::File { path, line } => (path.clone(), *line),
        other => (other.to_string(), None),
    }
}
