//! Attacks on tandem's promise that nothing runs, is written, or leaves the
//! machine without the user's say-so: a malicious model, hostile repository
//! files, broken servers, concurrent processes and keys typed ahead. Each
//! family prints how many attacks it tried; any that gets through fails the
//! run.

mod harness;
mod paths;

fn main() -> std::process::ExitCode {
    harness::run(&[
        ("tool paths", paths::tool_paths),
        ("special files", paths::special_files),
        ("journal", paths::journal),
    ])
}
