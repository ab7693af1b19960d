//! Attacks on tandem's promise that nothing runs, is written, or leaves the
//! machine without the user's say-so: a malicious model, hostile repository
//! files, broken servers, concurrent processes and keys typed ahead. Each
//! family prints how many attacks it tried; any that gets through fails the
//! run.

mod commands;
#[path = "../common/mod.rs"]
mod common;
mod config;
mod edits;
mod harness;
mod keys;
#[path = "../llm_server/mod.rs"]
mod llm_server;
mod paths;
mod protected;
mod secrets;
mod writes;

fn main() -> std::process::ExitCode {
    harness::run(&[
        ("untrusted repository settings", config::untrusted_settings),
        ("untrusted repository runs", config::untrusted_runs),
        ("trust command", config::trust_command),
        ("config values", config::config_values),
        ("protected paths in exec", protected::protected_in_exec),
        ("protected paths in the app", protected::protected_in_app),
        ("tool paths", paths::tool_paths),
        ("special files", paths::special_files),
        ("journal", paths::journal),
        ("keys typed ahead", keys::typed_ahead),
        ("review keys after a pause", keys::after_a_pause),
        ("read-only: expansions", commands::expansions),
        ("read-only: options", commands::options),
        ("read-only: operators", commands::operators),
        ("read-only: outside paths", commands::outside_paths),
        ("read-only: everyday commands", commands::everyday),
        ("edit matching", edits::matching_family),
        ("patch format", edits::patch_format_family),
        ("editor", edits::editor_family),
        ("terminal escapes", edits::escapes_family),
        ("child environments", secrets::env_family),
        ("secret sinks", secrets::sinks_family),
        ("secret redaction", secrets::redaction_family),
        ("hung servers", secrets::hung_family),
        ("writes: apply races", writes::apply_races),
        ("writes: undo", writes::undo),
        ("writes: killed apply", writes::killed_apply),
    ])
}
