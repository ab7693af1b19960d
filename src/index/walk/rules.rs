//! Ignore rules read by tandem itself rather than by the `ignore` crate's
//! walker, which opens each `.gitignore` it finds with a plain `open`: a FIFO
//! named `.gitignore` would hang the walk. Here every ignore file goes
//! through [`open_regular`], so a FIFO, a device or a link to outside the
//! repository is no rules, never a hang or a read elsewhere.
//!
//! As in git, a deeper directory's rules take precedence over its parents',
//! and within one directory the later file wins: `.gitignore`, then
//! `.ignore`, then the extra names (`.tandemignore`); the root's
//! `.git/info/exclude` comes after them, and the user's global excludes
//! file (`core.excludesFile`) last.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::open::open_regular;

/// More than this of an ignore file is not read: a real one is a few KB.
const MAX_RULES_BYTES: u64 = 1024 * 1024;

/// The rules of one directory and of every directory above it up to the
/// root, root first.
type Chain = Arc<Vec<Arc<Gitignore>>>;

/// The ignore rules of a repository, loaded per directory as walks reach it.
pub struct IgnoreRules {
    root: PathBuf,
    /// The root, canonical, for [`open_regular`].
    canonical_root: PathBuf,
    names: Vec<String>,
    exclude: Gitignore,
    /// The user's own excludes file, not the repository's.
    global: Gitignore,
    chains: Mutex<HashMap<PathBuf, Chain>>,
}

impl std::fmt::Debug for IgnoreRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IgnoreRules").field("root", &self.root).field("names", &self.names).finish_non_exhaustive()
    }
}

impl IgnoreRules {
    /// The rules under `root`: `.gitignore` and `.ignore` files, each of
    /// `extra_names`, and `.git/info/exclude`.
    pub fn new(root: &Path, extra_names: &[&str]) -> Self {
        let canonical_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut names = vec![".gitignore".to_string(), ".ignore".to_string()];
        names.extend(extra_names.iter().map(|n| n.to_string()));
        let mut exclude = GitignoreBuilder::new(root);
        add_file(&mut exclude, &canonical_root, &root.join(".git/info/exclude"));
        Self {
            root: root.to_path_buf(),
            canonical_root,
            names,
            exclude: exclude.build().unwrap_or_else(|_| Gitignore::empty()),
            global: Gitignore::global().0,
            chains: Mutex::new(HashMap::new()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `path` (under the root) is ignored by the rules of the
    /// directories above it. Its parents are not checked: a walk does not
    /// enter an ignored directory in the first place.
    pub(crate) fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let Some(parent) = path.parent() else { return false };
        if !parent.starts_with(&self.root) {
            return false;
        }
        for rules in self.chain(parent).iter().rev() {
            match rules.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        match self.exclude.matched(path, is_dir) {
            Match::Ignore(_) => true,
            Match::Whitelist(_) => false,
            Match::None => self.global.matched(path, is_dir).is_ignore(),
        }
    }

    /// Whether `path` or any directory between it and the root is ignored:
    /// for a path that did not come from a walk.
    pub(crate) fn is_ignored_or_any_parent(&self, path: &Path, is_dir: bool) -> bool {
        let mut dirs = Vec::new();
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) {
                break;
            }
            dirs.push(d);
            dir = d.parent();
        }
        dirs.iter().rev().any(|d| self.is_ignored(d, true)) || self.is_ignored(path, is_dir)
    }

    fn chain(&self, dir: &Path) -> Chain {
        if let Some(chain) = self.chains.lock().ok().and_then(|c| c.get(dir).cloned()) {
            return chain;
        }
        let mut chain = match dir.parent() {
            Some(parent) if dir != self.root && parent.starts_with(&self.root) => (*self.chain(parent)).clone(),
            _ => Vec::new(),
        };
        chain.push(Arc::new(self.load(dir)));
        let chain = Arc::new(chain);
        if let Ok(mut chains) = self.chains.lock() {
            chains.insert(dir.to_path_buf(), chain.clone());
        }
        chain
    }

    fn load(&self, dir: &Path) -> Gitignore {
        let mut builder = GitignoreBuilder::new(dir);
        for name in &self.names {
            add_file(&mut builder, &self.canonical_root, &dir.join(name));
        }
        builder.build().unwrap_or_else(|_| Gitignore::empty())
    }
}

/// Adds the lines of the ignore file at `path`, when it is a regular file
/// inside `root`; a bad line is skipped, as git does.
fn add_file(builder: &mut GitignoreBuilder, root: &Path, path: &Path) {
    let Ok((file, _)) = open_regular(root, path) else { return };
    let reader = BufReader::new(file.take(MAX_RULES_BYTES));
    for (i, line) in reader.split(b'\n').enumerate() {
        let Ok(line) = line else { return };
        let line = String::from_utf8_lossy(&line);
        let line = line.strip_suffix('\r').unwrap_or(&line);
        // As git does, a byte-order mark before the first rule is not part of it.
        let line = if i == 0 { line.trim_start_matches('\u{feff}') } else { line };
        let _ = builder.add_line(Some(path.to_path_buf()), line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_rules_win_and_special_ignore_files_are_no_rules() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        std::fs::create_dir_all(root.join(".git/info")).expect("mkdir");
        std::fs::write(root.join(".gitignore"), "*.log\ngen/\n").expect("write");
        std::fs::write(root.join("a/.gitignore"), "!keep.log\n").expect("write");
        std::fs::write(root.join("a/.tandemignore"), "secret.rs\n").expect("write");
        std::fs::write(root.join(".git/info/exclude"), "local.txt\n").expect("write");
        let made = std::process::Command::new("mkfifo").arg(root.join("a/b/.gitignore")).status().expect("mkfifo");
        assert!(made.success());
        let rules = IgnoreRules::new(root, &[".tandemignore"]);
        assert!(rules.is_ignored(&root.join("x.log"), false));
        assert!(!rules.is_ignored(&root.join("a/keep.log"), false));
        assert!(rules.is_ignored(&root.join("a/other.log"), false));
        assert!(rules.is_ignored(&root.join("a/secret.rs"), false));
        assert!(rules.is_ignored(&root.join("local.txt"), false));
        // The FIFO is skipped without blocking; the parents' rules still apply.
        assert!(rules.is_ignored(&root.join("a/b/y.log"), false));
        assert!(!rules.is_ignored(&root.join("a/b/y.rs"), false));
        assert!(rules.is_ignored_or_any_parent(&root.join("gen/deep/z.rs"), false));
        assert!(!rules.is_ignored(&root.join("gen/deep/z.rs"), false));
    }
}
