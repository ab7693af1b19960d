//! Protected paths: files whose edits always wait for the user's explicit
//! approval, hunk by hunk, whatever the policy. tandem's own `.tandem/`
//! (configuration, key bindings, commands) is always protected: an edit
//! there could lift approvals for the next run. The configured list adds
//! files that run code elsewhere (CI workflows, hooks, `.envrc`).

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::patch::FileChange;

/// Always protected, whatever the configuration says.
pub(crate) const ALWAYS: &[&str] = &[".tandem", ".tandem/**"];

#[derive(Debug, Clone)]
pub(crate) struct Protected {
    set: GlobSet,
    patterns: Vec<String>,
}

impl Protected {
    /// The built-in patterns and `extra` (`[tools] protected_paths`); a
    /// pattern that is not a valid glob is returned as an error message and
    /// left out, the others still apply.
    pub fn new(extra: &[String]) -> (Self, Vec<String>) {
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        let mut errors = Vec::new();
        for p in ALWAYS.iter().map(|s| s.to_string()).chain(extra.iter().cloned()) {
            // Case-insensitive: on macOS `.TANDEM/config.toml` is the same file.
            match GlobBuilder::new(&p).literal_separator(true).case_insensitive(true).build() {
                Ok(glob) => {
                    builder.add(glob);
                    patterns.push(p);
                }
                Err(e) => errors.push(format!("`{p}` in [tools] protected_paths is not a valid pattern: {e}")),
            }
        }
        let set = builder.build().unwrap_or_else(|_| GlobSet::empty());
        (Self { set, patterns }, errors)
    }

    /// The pattern protecting `path` (relative to the repository root), if any.
    pub(crate) fn matches(&self, path: &Path) -> Option<&str> {
        self.set.matches(path).first().and_then(|&i| self.patterns.get(i)).map(String::as_str)
    }

    /// The pattern protecting the file `change` touches (its path, or the
    /// new path of a move), if any.
    pub(crate) fn change(&self, change: &FileChange) -> Option<&str> {
        self.matches(&change.path).or_else(|| change.new_path.as_deref().and_then(|p| self.matches(p)))
    }
}

impl Default for Protected {
    fn default() -> Self {
        Self::new(&[]).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tandem_dir_is_always_protected_in_any_case() {
        let p = Protected::default();
        for path in
            [".tandem/config.toml", ".tandem", ".tandem/commands/x.md", ".TANDEM/config.toml", ".Tandem/keymap.toml"]
        {
            assert!(p.matches(Path::new(path)).is_some(), "{path}");
        }
        for path in ["src/.tandem.rs", "tandem/config.toml", "docs/.tandem-notes.md", "a/.tandem/config.toml"] {
            assert!(p.matches(Path::new(path)).is_none(), "{path}");
        }
    }

    #[test]
    fn configured_patterns_add_to_the_built_in_ones() {
        let (p, errors) = Protected::new(&[".github/workflows/**".into(), "[".into(), ".envrc".into()]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(p.matches(Path::new(".github/workflows/ci.yml")), Some(".github/workflows/**"));
        assert_eq!(p.matches(Path::new(".envrc")), Some(".envrc"));
        assert!(p.matches(Path::new(".tandem/config.toml")).is_some());
        assert!(p.matches(Path::new("src/.envrc")).is_none());
    }

    #[test]
    fn a_move_into_a_protected_path_is_protected() {
        let change = FileChange::new(
            "notes.toml".into(),
            Some("a".into()),
            Some("a".into()),
            Some(".tandem/config.toml".into()),
        )
        .expect("a move");
        assert_eq!(Protected::default().change(&change), Some(".tandem/**"));
    }
}
