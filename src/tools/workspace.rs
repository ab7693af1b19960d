//! The repository the tools work in, and the one place that decides which
//! paths the model may touch: everything inside the root except `.git/`.

use std::ffi::OsStr;
use std::io;
use std::path::{Component, Path, PathBuf};

use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{Match, WalkBuilder};

/// Why a path was refused. The messages go to the model, so each states the
/// rule that was broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty; give a path relative to the repository root, e.g. `src/main.rs`")]
    Empty,
    #[error(
        "`{0}` is outside the repository; paths must stay inside the repository root \
         (give them relative to the root, and do not use `..` to leave it)"
    )]
    Outside(String),
    #[error(
        "`{0}` goes through a symbolic link that leads outside the repository; \
         only files inside the repository can be used"
    )]
    SymlinkOutside(String),
    #[error("`{0}` is inside `.git/`; git's own files are off limits (use run_command with git commands instead)")]
    Git(String),
    #[error("cannot resolve `{path}`: {reason}")]
    Io { path: String, reason: String },
}

/// The repository root, canonicalized once so every check compares like
/// with like.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// The workspace at `root`. Should canonicalizing fail (the directory
    /// is missing), the path is kept as given and every path resolves to an
    /// error naming the file, which is more use to the model than no tools.
    pub fn new(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| std::path::absolute(root).unwrap_or(root.into()));
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path for `path` (relative to the root, or absolute
    /// inside it). It need not exist yet: the deepest existing ancestor is
    /// canonicalized and the rest appended, so a file can be created under
    /// a directory that is itself reached through a symlink.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, PathError> {
        if path.trim().is_empty() {
            return Err(PathError::Empty);
        }
        let given = Path::new(path);
        let joined = if given.is_absolute() { given.to_path_buf() } else { self.root.join(given) };
        let lexical = normalize(&joined).ok_or_else(|| PathError::Outside(path.to_string()))?;
        // The root is canonical but an absolute path from the model may not
        // be (e.g. `/tmp` being a symlink), so compare after canonicalizing
        // too, and only call it a symlink escape when the lexical form was
        // inside.
        let lexically_inside = lexical.starts_with(&self.root);
        if lexically_inside && has_git_component(&lexical, &self.root) {
            return Err(PathError::Git(path.to_string()));
        }
        let resolved = canonicalize_existing_prefix(&lexical).map_err(|e| match e {
            PrefixError::Dangling => {
                if lexically_inside {
                    PathError::SymlinkOutside(path.to_string())
                } else {
                    PathError::Outside(path.to_string())
                }
            }
            PrefixError::Io(e) => PathError::Io { path: path.to_string(), reason: e.to_string() },
        })?;
        if !resolved.starts_with(&self.root) {
            return Err(if lexically_inside {
                PathError::SymlinkOutside(path.to_string())
            } else {
                PathError::Outside(path.to_string())
            });
        }
        // A symlink inside the repository may point into `.git`.
        if has_git_component(&resolved, &self.root) {
            return Err(PathError::Git(path.to_string()));
        }
        Ok(resolved)
    }

    /// `abs` relative to the root with forward slashes, `.` for the root
    /// itself; a path outside the root is returned whole.
    pub fn relative(&self, abs: &Path) -> String {
        match abs.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => {
                let parts: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
                parts.join("/")
            }
            Err(_) => abs.to_string_lossy().replace('\\', "/"),
        }
    }

    /// A walk under `base` that honours `.gitignore` and `.ignore` files
    /// from the root down (even without a `.git`, as in an unpacked
    /// tarball), skips hidden entries and never enters `.git`. Ignore files
    /// above the root are not read: a `.gitignore` of `*` in a home
    /// directory kept in git would otherwise hide everything. `base` itself
    /// is walked even when ignored, since it was asked for by name.
    pub fn walker(&self, base: &Path) -> WalkBuilder {
        let above_base = Arc::new(self.ignores_above(base));
        let mut builder = WalkBuilder::new(base);
        builder.hidden(true).parents(false).require_git(false).follow_links(false).filter_entry(move |entry| {
            if is_git_name(entry.file_name()) {
                return false;
            }
            if entry.depth() == 0 {
                return true;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            // Deeper ignore files take precedence, as in git.
            for ignore in above_base.iter().rev() {
                match ignore.matched(entry.path(), is_dir) {
                    Match::Ignore(_) => return false,
                    Match::Whitelist(_) => return true,
                    Match::None => {}
                }
            }
            true
        });
        builder
    }

    /// The ignore rules of the directories from the root down to `base`'s
    /// parent, which a walk starting at `base` would not see; shallowest
    /// first.
    fn ignores_above(&self, base: &Path) -> Vec<Gitignore> {
        let Ok(rel) = base.strip_prefix(&self.root) else { return Vec::new() };
        let mut ignores = Vec::new();
        if rel.as_os_str().is_empty() {
            return ignores;
        }
        let mut add = |dir: &Path, file: PathBuf| {
            if file.is_file() {
                let mut builder = GitignoreBuilder::new(dir);
                // A bad line is skipped by the builder; the rest still apply.
                let _ = builder.add(file);
                if let Ok(ignore) = builder.build() {
                    ignores.push(ignore);
                }
            }
        };
        add(&self.root, self.root.join(".git/info/exclude"));
        let mut dir = self.root.clone();
        for component in rel.components() {
            add(&dir, dir.join(".gitignore"));
            add(&dir, dir.join(".ignore"));
            dir.push(component);
        }
        ignores
    }

    /// Whether a walked entry should be offered: regular files, and symlinks
    /// that resolve to a file inside the repository (so a link cannot be
    /// used to read outside it).
    pub fn is_usable_file(&self, entry: &ignore::DirEntry) -> bool {
        let Some(kind) = entry.file_type() else { return false };
        if kind.is_file() {
            return true;
        }
        if !kind.is_symlink() {
            return false;
        }
        let rel = self.relative(entry.path());
        self.resolve(&rel).map(|p| p.is_file()).unwrap_or(false)
    }
}

fn is_git_name(name: &OsStr) -> bool {
    // Case-insensitive because `.GIT` is the same directory on macOS and
    // Windows file systems.
    name.to_str().is_some_and(|n| n.eq_ignore_ascii_case(".git"))
}

fn has_git_component(abs: &Path, root: &Path) -> bool {
    abs.strip_prefix(root).is_ok_and(|rel| rel.components().any(|c| is_git_name(c.as_os_str())))
}

/// Removes `.` and folds `..` without touching the file system; `None` when
/// `..` climbs above the file system root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir | Component::Normal(_) => out.push(component),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() || out.as_os_str().is_empty() {
                    return None;
                }
            }
        }
    }
    Some(out)
}

enum PrefixError {
    /// A component exists but cannot be followed: a dangling or looping
    /// symlink, whose target could be anywhere.
    Dangling,
    Io(io::Error),
}

fn canonicalize_existing_prefix(path: &Path) -> Result<PathBuf, PrefixError> {
    let mut existing = path;
    let mut rest = Vec::new();
    // `symlink_metadata` rather than `exists`: a dangling symlink exists
    // and must be caught, or writing through it would create its target.
    while std::fs::symlink_metadata(existing).is_err() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = match std::fs::canonicalize(existing) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(PrefixError::Dangling),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) => return Err(PrefixError::Dangling),
        Err(e) => return Err(PrefixError::Io(e)),
    };
    resolved.extend(rest.iter().rev());
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, Workspace) {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("src/nested")).unwrap();
        std::fs::write(repo.path().join("src/lib.rs"), "x").unwrap();
        std::fs::create_dir(repo.path().join(".git")).unwrap();
        std::fs::write(repo.path().join(".git/config"), "x").unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let ws = Workspace::new(repo.path());
        (repo, outside, ws)
    }

    #[test]
    fn relative_paths_resolve_under_the_root() {
        let (_repo, _out, ws) = setup();
        assert_eq!(ws.resolve("src/lib.rs").unwrap(), ws.root().join("src/lib.rs"));
        assert_eq!(ws.resolve("./src/../src/lib.rs").unwrap(), ws.root().join("src/lib.rs"));
        assert_eq!(ws.resolve(".").unwrap(), ws.root());
    }

    #[test]
    fn paths_that_do_not_exist_yet_resolve() {
        let (_repo, _out, ws) = setup();
        assert_eq!(ws.resolve("src/new/deep/file.rs").unwrap(), ws.root().join("src/new/deep/file.rs"));
    }

    #[test]
    fn absolute_paths_inside_are_accepted_and_outside_refused() {
        let (_repo, out, ws) = setup();
        let inside = ws.root().join("src/lib.rs");
        assert_eq!(ws.resolve(inside.to_str().unwrap()).unwrap(), inside);
        let outside = out.path().join("secret");
        assert!(matches!(ws.resolve(outside.to_str().unwrap()), Err(PathError::Outside(_))));
        assert!(matches!(ws.resolve("/etc/passwd"), Err(PathError::Outside(_))));
    }

    #[test]
    fn dot_dot_escapes_are_refused() {
        let (_repo, _out, ws) = setup();
        for p in ["..", "../x", "a/../../x", "src/../../x", "src/nested/../../../x"] {
            assert!(matches!(ws.resolve(p), Err(PathError::Outside(_))), "{p}");
        }
        let abs = format!("{}/../x", ws.root().display());
        assert!(matches!(ws.resolve(&abs), Err(PathError::Outside(_))));
    }

    #[test]
    fn empty_paths_are_refused() {
        let (_repo, _out, ws) = setup();
        assert_eq!(ws.resolve(""), Err(PathError::Empty));
        assert_eq!(ws.resolve("  "), Err(PathError::Empty));
    }

    #[test]
    fn git_directory_is_refused() {
        let (_repo, _out, ws) = setup();
        for p in [".git", ".git/config", "src/../.git/config", ".GIT/config", "sub/.git/HEAD", "./.git"] {
            assert!(matches!(ws.resolve(p), Err(PathError::Git(_))), "{p}");
        }
        assert!(ws.resolve(".gitignore").is_ok());
        assert!(ws.resolve(".github/workflows/ci.yml").is_ok());
    }

    #[test]
    fn symlinked_file_pointing_outside_is_refused() {
        let (repo, out, ws) = setup();
        symlink(out.path().join("secret"), repo.path().join("link")).unwrap();
        assert!(matches!(ws.resolve("link"), Err(PathError::SymlinkOutside(_))));
    }

    #[test]
    fn symlinked_directory_pointing_outside_is_refused() {
        let (repo, out, ws) = setup();
        symlink(out.path(), repo.path().join("src/ext")).unwrap();
        assert!(matches!(ws.resolve("src/ext/secret"), Err(PathError::SymlinkOutside(_))));
        assert!(matches!(ws.resolve("src/ext/new_file"), Err(PathError::SymlinkOutside(_))));
        assert!(matches!(ws.resolve("src/ext"), Err(PathError::SymlinkOutside(_))));
    }

    #[test]
    fn dangling_symlink_is_refused() {
        let (repo, out, ws) = setup();
        symlink(out.path().join("not_yet"), repo.path().join("dangling")).unwrap();
        assert!(matches!(ws.resolve("dangling"), Err(PathError::SymlinkOutside(_))));
        assert!(matches!(ws.resolve("dangling/child"), Err(PathError::SymlinkOutside(_))));
    }

    #[test]
    fn symlink_into_git_is_refused() {
        let (repo, _out, ws) = setup();
        symlink(repo.path().join(".git"), repo.path().join("g")).unwrap();
        assert!(matches!(ws.resolve("g/config"), Err(PathError::Git(_))));
    }

    #[test]
    fn symlinks_inside_the_repo_are_followed() {
        let (repo, _out, ws) = setup();
        symlink(repo.path().join("src"), repo.path().join("alias")).unwrap();
        assert_eq!(ws.resolve("alias/lib.rs").unwrap(), ws.root().join("src/lib.rs"));
    }

    #[test]
    fn root_reached_through_a_symlink_is_canonicalized() {
        let (repo, _out, _ws) = setup();
        let holder = tempfile::tempdir().unwrap();
        let via = holder.path().join("via");
        symlink(repo.path(), &via).unwrap();
        let ws = Workspace::new(&via);
        let through_link = via.join("src/lib.rs");
        assert_eq!(ws.resolve(through_link.to_str().unwrap()).unwrap(), ws.root().join("src/lib.rs"));
    }

    #[test]
    fn relative_uses_forward_slashes() {
        let (_repo, _out, ws) = setup();
        assert_eq!(ws.relative(&ws.root().join("src").join("lib.rs")), "src/lib.rs");
        assert_eq!(ws.relative(ws.root()), ".");
    }
}
