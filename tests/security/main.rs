//! Attacks on tandem's promise that nothing runs, is written, or leaves the
//! machine without the user's say-so: a malicious model, hostile repository
//! files, broken servers, concurrent processes and keys typed ahead. Each
//! family prints how many attacks it tried; any that gets through fails the
//! run.

mod harness;
mod writes;

fn main() -> std::process::ExitCode {
    harness::run(&[
        ("writes: apply races", writes::apply_races),
        ("writes: undo", writes::undo),
        ("writes: killed apply", writes::killed_apply),
    ])
}
