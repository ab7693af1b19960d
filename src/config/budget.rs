//! The `[budget]` table: limits on what a session may cost and do, and the
//! checks of its values that the types alone cannot express.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::diagnostics::Diagnostic;
use super::layers::Layered;
use super::location;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct BudgetConfig {
    /// US dollars per session; 0 is no limit.
    pub max_cost_usd: f64,
    /// Turns per session; 0 is no limit.
    pub max_turns: u32,
    pub max_tool_calls_per_minute: ToolCallLimit,
}

/// `max_tool_calls_per_minute`: one number for every tool, or a table by
/// tool name (with `default` for the tools it does not name).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ToolCallLimit {
    Every(u32),
    PerTool(BTreeMap<String, u32>),
}

impl Default for ToolCallLimit {
    fn default() -> Self {
        ToolCallLimit::Every(0)
    }
}

pub(crate) const TOOL_LIMIT_KEY: &str = "budget.max_tool_calls_per_minute";
/// The key of a per-tool table that applies to every tool it does not name.
pub(crate) const DEFAULT_TOOL_KEY: &str = "default";
pub(crate) const MAX_PER_MINUTE: i64 = 10_000;

/// Check the budget's values that `INTEGER_RANGES` cannot (a cost, a table of
/// limits); keys found wrong are returned, to be put back to their defaults.
pub(crate) fn check(layered: &Layered, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut bad = Vec::new();
    if let Some(entry) = layered.get("budget.max_cost_usd")
        // TOML reads `-1` as an integer, which the field also takes.
        && let Some(v) = entry.value.as_float().or(entry.value.as_integer().map(|i| i as f64))
        && !(v.is_finite() && v >= 0.0)
    {
        let (src, line) = location(entry);
        diags.push(Diagnostic::error(
            src,
            line,
            format!("`budget.max_cost_usd` is {v}; expected 0 (no limit) or more US dollars; the default is used"),
        ));
        bad.push("budget.max_cost_usd".to_string());
    }
    // A single number is checked with the other integers (`INTEGER_RANGES`).
    let Some(entry) = layered.get(TOOL_LIMIT_KEY) else { return bad };
    let toml::Value::Table(t) = &entry.value else { return bad };
    let (src, line) = location(entry);
    for (name, v) in t {
        let v = v.as_integer().unwrap_or(-1);
        if !(0..=MAX_PER_MINUTE).contains(&v) {
            diags.push(Diagnostic::error(
                src.clone(),
                line,
                format!(
                    "`{TOOL_LIMIT_KEY}.{name}` is {v}; expected a value from 0 (no limit) to \
                     {MAX_PER_MINUTE}; the default is used for the whole table"
                ),
            ));
            bad.push(TOOL_LIMIT_KEY.into());
        }
    }
    bad.dedup();
    bad
}

/// Warnings for the names in `max_tool_calls_per_minute` that are not among
/// `tools`. The names are the tool registry's, which sits above this layer.
/// A table found wrong and put back to its default is checked as the user
/// wrote it.
pub(crate) fn unknown_tools(layered: &Layered, tools: &[&str]) -> Vec<Diagnostic> {
    let Some(entry) = layered.as_set(TOOL_LIMIT_KEY) else { return Vec::new() };
    let toml::Value::Table(t) = &entry.value else { return Vec::new() };
    let (src, line) = location(entry);
    t.keys()
        .filter(|name| name.as_str() != DEFAULT_TOOL_KEY && !tools.contains(&name.as_str()))
        .map(|name| {
            Diagnostic::warning(
                src.clone(),
                line,
                format!(
                    "`{TOOL_LIMIT_KEY}` names `{name}`, which is not a tool (ignored); the tools are {}, \
                     and `default` applies to the tools not named",
                    tools.join(", ")
                ),
            )
        })
        .collect()
}
