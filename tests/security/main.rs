//! Attacks on tandem's promise that nothing runs, is written, or leaves the
//! machine without the user's say-so: a malicious model, hostile repository
//! files, broken servers, concurrent processes and keys typed ahead. Each
//! family prints how many attacks it tried; any that gets through fails the
//! run.

mod commands;
mod harness;

fn main() -> std::process::ExitCode {
    harness::run(&[
        ("read-only: expansions", commands::expansions),
        ("read-only: options", commands::options),
        ("read-only: operators", commands::operators),
        ("read-only: outside paths", commands::outside_paths),
        ("read-only: everyday commands", commands::everyday),
    ])
}
