//! The project's test and lint commands: taken from `[checks]`, or detected
//! from the files at the repository root, and what a run of one found.
//! Nothing here knows about the UI.

use std::path::Path;
use std::time::Duration;

use crate::config::ChecksConfig;
use crate::tools::shell_run::Ending;

/// Which check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Test,
    Lint,
}

impl Kind {
    /// "tests" / "lint", as the chat says it.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Test => "tests",
            Kind::Lint => "lint",
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Test => "checks.test_cmd",
            Kind::Lint => "checks.lint_cmd",
        }
    }
}

/// A command and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub command: String,
    /// "config", or "detected from Cargo.toml".
    pub source: String,
}

impl Check {
    fn detected(command: &str, file: &str) -> Self {
        Check { command: command.to_string(), source: format!("detected from {file}") }
    }
}

/// The commands in use (none when neither set nor detected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commands {
    pub test: Option<Check>,
    pub lint: Option<Check>,
}

impl Commands {
    pub fn get(&self, kind: Kind) -> Option<&Check> {
        match kind {
            Kind::Test => self.test.as_ref(),
            Kind::Lint => self.lint.as_ref(),
        }
    }
}

/// The configured commands, with detected ones where the configuration
/// leaves a command empty.
pub(crate) fn resolve(config: &ChecksConfig, root: &Path) -> Commands {
    let detected = detect(root);
    let pick = |set: &str, found: Option<Check>| {
        if set.trim().is_empty() {
            found
        } else {
            Some(Check { command: set.trim().to_string(), source: "config".into() })
        }
    };
    Commands { test: pick(&config.test_cmd, detected.test), lint: pick(&config.lint_cmd, detected.lint) }
}

/// Commands for the kind of project at `root`: Cargo, npm, Go or Python,
/// checked in that order.
fn detect(root: &Path) -> Commands {
    if root.join("Cargo.toml").is_file() {
        return Commands {
            test: Some(Check::detected("cargo test", "Cargo.toml")),
            lint: Some(Check::detected("cargo clippy --all-targets -- -D warnings", "Cargo.toml")),
        };
    }
    if let Ok(text) = std::fs::read_to_string(root.join("package.json")) {
        let scripts = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("scripts").and_then(|s| s.as_object()).cloned())
            .unwrap_or_default();
        return Commands {
            test: scripts.contains_key("test").then(|| Check::detected("npm test", "package.json")),
            lint: scripts.contains_key("lint").then(|| Check::detected("npm run lint", "package.json")),
        };
    }
    if root.join("go.mod").is_file() {
        return Commands {
            test: Some(Check::detected("go test ./...", "go.mod")),
            lint: Some(Check::detected("go vet ./...", "go.mod")),
        };
    }
    let python = ["pyproject.toml", "setup.py", "pytest.ini"].into_iter().find(|f| root.join(f).is_file());
    if let Some(file) = python {
        let ruff = if root.join("ruff.toml").is_file() || root.join(".ruff.toml").is_file() {
            Some(Check::detected("ruff check .", "ruff.toml"))
        } else {
            std::fs::read_to_string(root.join("pyproject.toml"))
                .ok()
                .filter(|t| t.contains("[tool.ruff"))
                .map(|_| Check::detected("ruff check .", "pyproject.toml"))
        };
        return Commands { test: Some(Check::detected("python -m pytest", file)), lint: ruff };
    }
    Commands::default()
}

/// What one run of a check found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub kind: Kind,
    pub command: String,
    /// How the run ended.
    pub ending: Ending,
    /// The output, capped (head and tail), as the model would see it.
    pub output: String,
    pub elapsed: Duration,
}

impl Outcome {
    pub(crate) fn passed(&self) -> bool {
        matches!(&self.ending, Ending::Exited(status) if status.success())
    }

    /// The user stopped the run.
    pub(crate) fn cancelled(&self) -> bool {
        matches!(self.ending, Ending::Cancelled)
    }

    /// One line for the chat: "✓ tests passed · `cargo test` · 1.2 s".
    pub(crate) fn headline(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let noun = self.kind.noun();
        let why = match &self.ending {
            Ending::Exited(status) if status.success() => {
                return format!("✓ {noun} passed · `{}` · {secs:.1} s", self.command);
            }
            Ending::Exited(status) if status.code().is_some() => {
                return format!("✗ {noun} failed ({}) · `{}` · {secs:.1} s", self.ending.short(), self.command);
            }
            Ending::TimedOut(after) => format!("timed out after {} s (checks.timeout_secs)", after.as_secs()),
            ending @ (Ending::Exited(_) | Ending::Cancelled | Ending::Failed(_)) => ending.short(),
        };
        format!("✗ {noun} did not finish ({why}) · `{}` · {secs:.1} s", self.command)
    }

    /// The message that asks the model to fix what failed.
    pub(crate) fn failure_message(&self) -> String {
        let status = match self.ending.exit_code() {
            Some(code) => format!("exited with code {code}"),
            None => "did not finish".to_string(),
        };
        let what = match self.kind {
            Kind::Test => "The tests fail",
            Kind::Lint => "The linter reports problems",
        };
        format!(
            "{what}. `{}` {status}. Its output:\n\n```\n{}\n```\n\nPlease fix the failures by editing the code.",
            self.command,
            self.output.trim_end()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(d.path().join(name), text).unwrap();
        }
        d
    }

    fn commands(d: &tempfile::TempDir) -> (Option<String>, Option<String>, Option<String>) {
        let c = detect(d.path());
        (c.test.as_ref().map(|t| t.command.clone()), c.lint.map(|l| l.command), c.test.map(|t| t.source))
    }

    #[test]
    fn cargo_project() {
        let d = dir(&[("Cargo.toml", "[package]\nname = \"x\"\n")]);
        let (test, lint, source) = commands(&d);
        assert_eq!(test.as_deref(), Some("cargo test"));
        assert_eq!(lint.as_deref(), Some("cargo clippy --all-targets -- -D warnings"));
        assert_eq!(source.as_deref(), Some("detected from Cargo.toml"));
    }

    #[test]
    fn npm_project_uses_only_its_scripts() {
        let d = dir(&[("package.json", r#"{"scripts": {"test": "jest", "lint": "eslint ."}}"#)]);
        let (test, lint, source) = commands(&d);
        assert_eq!(test.as_deref(), Some("npm test"));
        assert_eq!(lint.as_deref(), Some("npm run lint"));
        assert_eq!(source.as_deref(), Some("detected from package.json"));
        let d = dir(&[("package.json", r#"{"name": "x", "scripts": {"build": "tsc"}}"#)]);
        assert_eq!(commands(&d), (None, None, None));
    }

    #[test]
    fn go_project() {
        let d = dir(&[("go.mod", "module x\n")]);
        let (test, lint, _) = commands(&d);
        assert_eq!(test.as_deref(), Some("go test ./..."));
        assert_eq!(lint.as_deref(), Some("go vet ./..."));
    }

    #[test]
    fn python_project_lints_only_with_ruff_configured() {
        let d = dir(&[("pyproject.toml", "[project]\nname = \"x\"\n")]);
        let (test, lint, source) = commands(&d);
        assert_eq!(test.as_deref(), Some("python -m pytest"));
        assert_eq!(lint, None);
        assert_eq!(source.as_deref(), Some("detected from pyproject.toml"));
        let d = dir(&[("pyproject.toml", "[tool.ruff]\nline-length = 100\n")]);
        assert_eq!(commands(&d).1.as_deref(), Some("ruff check ."));
        let d = dir(&[("setup.py", "")]);
        assert_eq!(commands(&d).2.as_deref(), Some("detected from setup.py"));
    }

    #[test]
    fn nothing_detected_in_an_unknown_project() {
        let d = dir(&[("README", "hi")]);
        assert_eq!(detect(d.path()), Commands::default());
    }

    #[test]
    fn configured_commands_win_over_detected_ones() {
        let d = dir(&[("Cargo.toml", "")]);
        let config = ChecksConfig { test_cmd: "make check".into(), ..Default::default() };
        let c = resolve(&config, d.path());
        assert_eq!(c.test, Some(Check { command: "make check".into(), source: "config".into() }));
        assert_eq!(c.lint.map(|l| l.source).as_deref(), Some("detected from Cargo.toml"));
    }

    fn outcome(ending: Ending, output: &str) -> Outcome {
        Outcome {
            kind: Kind::Test,
            command: "sh check.sh".into(),
            ending,
            output: output.into(),
            elapsed: Duration::from_millis(20),
        }
    }

    fn exited(code: i32) -> Ending {
        use std::os::unix::process::ExitStatusExt;
        Ending::Exited(std::process::ExitStatus::from_raw(code << 8))
    }

    #[test]
    fn failure_message_names_command_code_and_output() {
        let o = outcome(exited(1), "exit code 1\nassertion failed\n");
        assert!(!o.passed());
        let m = o.failure_message();
        assert!(m.contains("`sh check.sh` exited with code 1"), "{m}");
        assert!(m.contains("assertion failed"), "{m}");
        assert!(o.headline().starts_with("✗ tests failed (exit 1)"), "{}", o.headline());
    }

    #[test]
    fn headline_says_how_a_run_ended() {
        let o = outcome(exited(0), "exit code 0\nok\n");
        assert!(o.passed() && !o.cancelled());
        assert!(o.headline().starts_with("✓ tests passed · `sh check.sh`"), "{}", o.headline());
        let o = outcome(Ending::TimedOut(Duration::from_secs(5)), "timed out, with a comma\n");
        assert!(!o.passed());
        assert!(
            o.headline().starts_with("✗ tests did not finish (timed out after 5 s (checks.timeout_secs))"),
            "{}",
            o.headline()
        );
        assert!(o.failure_message().contains("`sh check.sh` did not finish"));
        let o = outcome(Ending::Cancelled, "cancelled: the user stopped the command\n");
        assert!(o.cancelled() && !o.passed());
        assert!(o.headline().starts_with("✗ tests did not finish (cancelled)"), "{}", o.headline());
        let o = outcome(Ending::Failed("waiting for the command failed: boom".into()), "");
        assert!(!o.cancelled() && !o.passed());
        assert!(o.headline().contains("(waiting for the command failed: boom)"), "{}", o.headline());
        use std::os::unix::process::ExitStatusExt;
        let o = outcome(Ending::Exited(std::process::ExitStatus::from_raw(9)), "");
        assert!(o.headline().starts_with("✗ tests did not finish (killed by SIGKILL)"), "{}", o.headline());
    }
}
