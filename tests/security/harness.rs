//! A small runner for attack families: each family tries many cases and
//! records which held. Unlike `#[test]` functions, the runner always prints
//! how many attacks each family tried, so a shrinking suite is noticed.
#![allow(dead_code)]

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::time::Instant;

/// The binary the end-to-end cases run: the one this build made, or the
/// one `TANDEM_SECURITY_BIN` names, to show which attacks an older build
/// lets through.
pub fn tandem_bin() -> std::path::PathBuf {
    std::env::var_os("TANDEM_SECURITY_BIN").map_or_else(|| env!("CARGO_BIN_EXE_tandem").into(), Into::into)
}

/// `cmd` with a home of its own under `home` (configuration, state, cache
/// and data directories) and none of the caller's provider settings, so a
/// run neither reads nor changes the user's files.
pub fn isolate<'a>(cmd: &'a mut std::process::Command, home: &std::path::Path) -> &'a mut std::process::Command {
    for var in ["OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "TANDEM_LOG", "TANDEM_MODEL_PROFILE"] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_DATA_HOME", home.join("data"))
}

/// The cases of one family and the ones that did not hold.
pub struct Family {
    pub name: &'static str,
    tried: usize,
    failures: Vec<String>,
}

impl Family {
    pub fn new(name: &'static str) -> Self {
        Self { name, tried: 0, failures: Vec::new() }
    }

    /// Record one attack: `held` is true when tandem refused or contained it.
    pub fn case(&mut self, what: impl Display, held: bool, detail: impl Display) {
        self.tried += 1;
        if !held {
            self.failures.push(format!("{what}: {detail}"));
        }
    }

    /// Record one attack whose check is an assertion-like closure returning
    /// `Err(why)` when the attack got through.
    pub fn check(&mut self, what: impl Display, f: impl FnOnce() -> Result<(), String>) {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => self.case(what, true, ""),
            Ok(Err(why)) => self.case(what, false, why),
            Err(panic) => self.case(what, false, format!("panicked: {}", panic_text(&*panic))),
        }
    }

    pub fn tried(&self) -> usize {
        self.tried
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// A family: its name and the function that tries its cases.
pub type Entry = (&'static str, fn() -> Family);

/// Runs the families whose names contain any positional argument (all when
/// there is none; options such as `--nocapture` that `cargo test` passes on
/// are ignored), prints one line per family and every failure, and fails
/// when any attack got through.
pub fn run(families: &[Entry]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in families {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let mut failed = 0;
    let (mut tried, mut ran) = (0, 0);
    for (name, f) in families {
        if !filters.is_empty() && !filters.iter().any(|p| name.contains(p.as_str())) {
            continue;
        }
        let start = Instant::now();
        let family = match catch_unwind(f) {
            Ok(family) => family,
            Err(panic) => {
                let mut family = Family::new(name);
                family.case("the family's set-up", false, format!("panicked: {}", panic_text(&*panic)));
                family
            }
        };
        ran += 1;
        tried += family.tried;
        let held = family.tried - family.failures.len();
        let verdict = if family.failures.is_empty() && family.tried > 0 { "ok" } else { "FAILED" };
        println!(
            "family {:<28} {:>4} attacks tried, {:>4} held  {verdict}  ({} ms)",
            family.name,
            family.tried,
            held,
            start.elapsed().as_millis()
        );
        if family.tried == 0 {
            println!("    the family tried nothing");
            failed += 1;
        }
        for f in &family.failures {
            println!("    got through: {f}");
            failed += 1;
        }
    }
    println!("\nsecurity: {ran} families, {tried} attacks tried, {failed} got through");
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
