//! Path arguments of read-only commands: inside the repository by the same
//! rules as the file tools ([`Workspace::resolve`]), and globs only when
//! every file name the shell could put in their place passes them too.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::words::Word;
use crate::tools::workspace::Workspace;

/// How many names a glob may stand for before it is not worth checking.
const GLOB_BUDGET: usize = 5_000;
/// How many directories a recursive search may have before looking in them
/// for a `.git` costs more than an approval.
const WALK_BUDGET: usize = 10_000;

/// What a command is checked against: the repository, and the parts of the
/// environment that change how the shell and the tools read a command.
pub struct Context {
    pub ws: Workspace,
    /// `BASHOPTS` can turn on `dotglob`, `globstar` or `nocaseglob`, and
    /// `GLOBIGNORE` turns on `dotglob`: a glob could then reach `.git` or
    /// `..`, so with either set no glob is read-only.
    pub globs_predictable: bool,
    /// `POSIXLY_CORRECT` makes GNU tools take options after the first
    /// operand for file names, which this check would have read as options.
    pub options_after_operands: bool,
    /// Every `PATH` entry is an absolute directory outside the repository:
    /// an empty or relative entry (`PATH=/usr/bin:`) or one inside it would
    /// let an executable `ls` committed to the repository run instead.
    pub programs_from_outside: bool,
}

impl Context {
    pub fn new(root: &Path) -> Self {
        Self::with_env(root, |name| std::env::var_os(name))
    }

    pub(crate) fn with_env(root: &Path, var: impl Fn(&str) -> Option<OsString>) -> Self {
        let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        let ws = Workspace::new(root);
        let outside =
            |dir: PathBuf| dir.is_absolute() && !std::fs::canonicalize(&dir).unwrap_or(dir).starts_with(ws.root());
        Self {
            globs_predictable: !set("BASHOPTS") && !set("GLOBIGNORE"),
            options_after_operands: !set("POSIXLY_CORRECT"),
            // Unset, the shell searches its own default, `/usr/bin:/bin`.
            programs_from_outside: var("PATH").is_none_or(|p| std::env::split_paths(&p).all(outside)),
            ws,
        }
    }

    /// Whether `word`, as a path operand, names only paths inside the
    /// repository (outside `.git`), whatever the shell expands it to.
    pub fn path(&self, word: &Word) -> bool {
        if word.is_glob() {
            return self.glob(word);
        }
        self.ws.resolve(&word.text).is_ok()
    }

    /// A glob is read-only when it cannot turn into an option and every
    /// name it could match resolves inside the repository. The names are
    /// over-approximated (every entry of each directory it lists that does
    /// not start with `.`), so no difference between this and the shell's
    /// matching can let a name through; the price is an approval when a
    /// directory holds a link out that the pattern would not have matched.
    fn glob(&self, word: &Word) -> bool {
        if !self.globs_predictable {
            return false;
        }
        let chars: Vec<(char, bool)> = word.chars().collect();
        // `*` could match `-delete` or `--output=x`.
        if chars.first().is_none_or(|&(c, wild)| wild || c == '-') {
            return false;
        }
        // `**` is recursive under bash's `globstar`.
        if chars.windows(2).any(|w| w[0] == ('*', true) && w[1] == ('*', true)) {
            return false;
        }
        let components: Vec<&[(char, bool)]> = chars.split(|&(c, _)| c == '/').collect();
        for component in &components {
            let text: String = component.iter().map(|&(c, _)| c).collect();
            if text == ".." {
                return false;
            }
            let wild = component.iter().any(|&(_, w)| w);
            // A wildcard component starting with `.` matches `..` in dash
            // and `.git` in both; one starting with `[` might match a
            // leading dot where the shell allows it. A component starting
            // with `*`, `?` or a plain character never matches a name
            // starting with `.` unless `dotglob` is on (see above).
            if wild && matches!(component.first(), Some(('.', _) | ('[', true))) {
                return false;
            }
        }
        // Unmatched, the word is passed on as it is.
        if self.ws.resolve(&word.text).is_err() {
            return false;
        }
        let Some(first_wild) = components.iter().position(|c| c.iter().any(|&(_, w)| w)) else { return true };
        let base: Vec<String> =
            components[..first_wild].iter().map(|c| c.iter().map(|&(ch, _)| ch).collect()).collect();
        let base = if base.is_empty() { ".".to_string() } else { base.join("/") };
        let base = if base.is_empty() { "/".to_string() } else { base };
        let Ok(base) = self.ws.resolve(&base) else { return false };
        let mut candidates = vec![base];
        let mut budget = GLOB_BUDGET;
        for component in &components[first_wild..] {
            let text: String = component.iter().map(|&(c, _)| c).collect();
            if text.is_empty() {
                continue;
            }
            if !component.iter().any(|&(_, w)| w) {
                candidates.iter_mut().for_each(|c| c.push(&text));
                continue;
            }
            let could_match = component_filter(component);
            let mut next = Vec::new();
            for dir in &candidates {
                // The shell lists `dir`: it must itself be inside.
                if !self.resolves_inside(dir) {
                    return false;
                }
                let Ok(entries) = std::fs::read_dir(dir) else { continue };
                for entry in entries {
                    let Ok(entry) = entry else { return false };
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with('.') || !could_match(&name) {
                        continue;
                    }
                    budget = match budget.checked_sub(1) {
                        Some(b) => b,
                        None => return false,
                    };
                    next.push(entry.path());
                }
            }
            candidates = next;
        }
        candidates.iter().all(|c| self.resolves_inside(c))
    }

    fn resolves_inside(&self, path: &Path) -> bool {
        path.to_str().is_some_and(|p| self.ws.resolve(p).is_ok())
    }

    /// Whether a recursive search of `dir` (an operand already checked)
    /// could read a `.git` directory: one directly inside it or anywhere
    /// below, which for a nested clone holds its remote's credentials.
    /// Symbolic links are not followed, as `grep -r` does not follow them.
    /// A tree too big to look through counts as reaching one.
    pub(crate) fn reaches_git(&self, dir: &Word) -> bool {
        let Ok(start) = self.ws.resolve(&dir.text) else { return true };
        let mut stack: Vec<PathBuf> = vec![start];
        let mut budget = WALK_BUDGET;
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries {
                let Ok(entry) = entry else { return true };
                if entry.file_name().to_str().is_none_or(|n| n.eq_ignore_ascii_case(".git")) {
                    return true;
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    budget = match budget.checked_sub(1) {
                        Some(b) => b,
                        None => return true,
                    };
                    stack.push(entry.path());
                }
            }
        }
        false
    }
}

/// A cheap test that keeps every name a glob component could match: the
/// literal text before its first wildcard must start the name, and,
/// without brackets (whose `]` blurs where literal text resumes), the
/// literal text after its last wildcard must end it.
fn component_filter(component: &[(char, bool)]) -> impl Fn(&str) -> bool {
    let prefix: String = component.iter().take_while(|&&(_, w)| !w).map(|&(c, _)| c).collect();
    let brackets = component.iter().any(|&(c, w)| w && c == '[');
    let suffix: String = if brackets {
        String::new()
    } else {
        let tail: Vec<char> = component.iter().rev().take_while(|&&(_, w)| !w).map(|&(c, _)| c).collect();
        tail.into_iter().rev().collect()
    };
    move |name: &str| name.starts_with(&prefix) && name.ends_with(&suffix) && name.len() >= prefix.len() + suffix.len()
}

/// Whether `path`, a path inside a git tree (`REV:PATH`), stays inside the
/// tree: relative, and no `..` climbing above its root.
pub(crate) fn tree_path_inside(path: &str) -> bool {
    if path.starts_with('/') {
        return false;
    }
    let mut depth = 0usize;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;
    use crate::tools::read_only::words::split_pipeline;

    fn word(text: &str) -> Word {
        split_pipeline(&format!("x {text}")).unwrap().remove(0).remove(1)
    }

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, Context) {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("src/a")).unwrap();
        std::fs::write(repo.path().join("src/main.rs"), "").unwrap();
        std::fs::write(repo.path().join("src/a/lib.rs"), "").unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let ctx = Context::with_env(repo.path(), |_| None);
        (repo, outside, ctx)
    }

    #[test]
    fn plain_paths_follow_the_workspace_rules() {
        let (_repo, out, ctx) = setup();
        for ok in ["src/main.rs", ".", "src/../src/main.rs", "new-file", "-"] {
            assert!(ctx.path(&word(ok)), "{ok}");
        }
        let secret = out.path().join("secret");
        for bad in ["/etc/passwd", "..", "../x", ".git/config", "src/../../x", secret.to_str().unwrap()] {
            assert!(!ctx.path(&word(bad)), "{bad}");
        }
    }

    #[test]
    fn globs_inside_are_paths() {
        let (_repo, _out, ctx) = setup();
        for ok in ["src/*.rs", "src/*/*.rs", "src/?ain.rs", "src/m[a-z]in.rs", "src/nothing*", "./*"] {
            assert!(ctx.path(&word(ok)), "{ok}");
        }
    }

    #[test]
    fn globs_that_could_leave_or_become_options_are_not() {
        let (repo, out, ctx) = setup();
        symlink(out.path(), repo.path().join("src/ext")).unwrap();
        for bad in [
            "*",
            "*.rs",
            "?",
            "[-]*",
            "/*",
            "/etc/*",
            "../*",
            ".*",
            "src/.*",
            "./.g*",
            "src/*/../../x",
            "**/*.rs",
            "src/*",
            "src/*/secret",
            "src/e*/*",
            "src/e*",
            "src/[a-z]*",
            "src/*t",
            "src/e?t",
        ] {
            assert!(!ctx.path(&word(bad)), "{bad}");
        }
        // Names the pattern cannot match are not held against it.
        assert!(ctx.path(&word("src/*.rs")));
        assert!(ctx.path(&word("src/m*")));
        let ctx = Context { globs_predictable: false, ..ctx };
        assert!(!ctx.path(&word("src/a/*.rs")));
    }

    #[test]
    fn recursion_finds_git_directories() {
        let (repo, _out, ctx) = setup();
        assert!(ctx.reaches_git(&word(".")));
        assert!(!ctx.reaches_git(&word("src")));
        std::fs::create_dir_all(repo.path().join("src/a/vendored/.git")).unwrap();
        assert!(ctx.reaches_git(&word("src")));
    }

    #[test]
    fn the_environment_can_make_globs_options_or_programs_unpredictable() {
        let dir = tempfile::tempdir().unwrap();
        let with = |name: &'static str, value: String| {
            Context::with_env(dir.path(), move |n| (n == name).then(|| OsString::from(&value)))
        };
        let ctx = with("PATH", "/usr/bin:/bin".into());
        assert!(ctx.globs_predictable && ctx.options_after_operands && ctx.programs_from_outside);
        assert!(!with("BASHOPTS", "dotglob".into()).globs_predictable);
        assert!(!with("GLOBIGNORE", "x".into()).globs_predictable);
        assert!(!with("POSIXLY_CORRECT", "1".into()).options_after_operands);
        let inside = format!("/usr/bin:{}/bin", dir.path().display());
        for path in ["/usr/bin:", ":/usr/bin", "/usr/bin::/bin", "bin:/usr/bin", ".", &inside] {
            assert!(!with("PATH", path.to_string()).programs_from_outside, "{path}");
        }
    }

    #[test]
    fn tree_paths_stay_in_the_tree() {
        assert!(tree_path_inside("src/main.rs"));
        assert!(tree_path_inside("src/../Cargo.toml"));
        assert!(!tree_path_inside("../x"));
        assert!(!tree_path_inside("/etc/passwd"));
        assert!(!tree_path_inside("a/../../x"));
    }
}
