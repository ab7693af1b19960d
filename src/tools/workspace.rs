//! The repository the tools work in, and the one place that decides which
//! paths the model may touch: everything inside the root except git's own
//! directory, reached without a symbolic link that leads out, and spelt
//! plainly (see [`names`]). Files are opened through [`Workspace::open`],
//! which opens nothing but regular files.

mod names;

use std::fs::{File, Metadata};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ignore::WalkBuilder;

use crate::index::{IgnoreRules, OpenError};

pub use names::{MAX_NAME_BYTES, MAX_PATH_BYTES, is_git_name};

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
    #[error("`{0}` goes through a symbolic link that leads back to itself; it names no file")]
    SymlinkLoop(String),
    #[error(
        "`{0}` is inside git's own directory; git's files are off limits (use run_command with git commands instead)"
    )]
    Git(String),
    #[error(
        "the path `{path}` contains {what}; tandem does not use such names, so that the file you see named \
         is the file that changes"
    )]
    Unprintable { path: String, what: String },
    #[error("the path is {len} bytes long; paths are limited to {MAX_PATH_BYTES} bytes")]
    TooLong { len: usize },
    #[error("the name `{name}` in the path is {len} bytes long; file systems allow {MAX_NAME_BYTES} bytes a name")]
    NameTooLong { name: String, len: usize },
    #[error("`{0}` contains a backslash; separate directories with `/`")]
    Backslash(String),
    #[error(
        "`{0}` is not expanded: tandem does not expand `~` or `$VARIABLES` as a shell would, and files outside \
         the repository are off limits; give a path relative to the repository root (write `./{0}` for a file \
         of that name inside it)"
    )]
    NotExpanded(String),
    #[error("cannot resolve `{path}`: {reason}")]
    Io { path: String, reason: String },
}

/// The repository root, canonicalized once so every check compares like
/// with like.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    /// Git directories inside the root under another name than `.git`:
    /// where a `.git` file (a worktree or `--separate-git-dir` checkout)
    /// points.
    git_dirs: Vec<PathBuf>,
}

impl Workspace {
    /// The workspace at `root`. Should canonicalizing fail (the directory
    /// is missing), the path is kept as given and every path resolves to an
    /// error naming the file, which is more use to the model than no tools.
    pub fn new(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| std::path::absolute(root).unwrap_or(root.into()));
        let git_dirs = linked_git_dirs(&root);
        Self { root, git_dirs }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path for `path` (relative to the root, or absolute
    /// inside it). It need not exist yet: the deepest existing ancestor is
    /// canonicalized and the rest appended, so a file can be created under
    /// a directory that is itself reached through a symlink.
    pub(crate) fn resolve(&self, path: &str) -> Result<PathBuf, PathError> {
        if path.trim().is_empty() {
            return Err(PathError::Empty);
        }
        names::check_spelling(path)?;
        let shown = || names::shown(path);
        let given = Path::new(path);
        let joined = if given.is_absolute() { given.to_path_buf() } else { self.root.join(given) };
        let lexical = normalize(&joined).ok_or_else(|| PathError::Outside(shown()))?;
        // The root is canonical but an absolute path from the model may not
        // be (e.g. `/tmp` being a symlink), so compare after canonicalizing
        // too, and only call it a symlink escape when the lexical form was
        // inside.
        let lexically_inside = lexical.starts_with(&self.root);
        if lexically_inside && self.is_git_path(&lexical) {
            return Err(PathError::Git(shown()));
        }
        let resolved = canonicalize_existing_prefix(&lexical).map_err(|e| match e {
            PrefixError::Dangling if lexically_inside => PathError::SymlinkOutside(shown()),
            PrefixError::Loop if lexically_inside => PathError::SymlinkLoop(shown()),
            PrefixError::Dangling | PrefixError::Loop => PathError::Outside(shown()),
            PrefixError::Io(e) => PathError::Io { path: shown(), reason: e.to_string() },
        })?;
        if !resolved.starts_with(&self.root) {
            return Err(if lexically_inside {
                PathError::SymlinkOutside(shown())
            } else {
                PathError::Outside(shown())
            });
        }
        // A symlink inside the repository may point into `.git`.
        if self.is_git_path(&resolved) {
            return Err(PathError::Git(shown()));
        }
        Ok(resolved)
    }

    /// Whether `abs` (under the root) is in git's own directory.
    fn is_git_path(&self, abs: &Path) -> bool {
        abs.strip_prefix(&self.root).is_ok_and(|rel| rel.components().any(|c| is_git_name(c.as_os_str())))
            || self.git_dirs.iter().any(|d| abs.starts_with(d))
    }

    /// Opens the file at `abs` (from [`Workspace::resolve`] or a walk) to
    /// read it: only a regular file with one name, still inside the root
    /// when opened, and never a FIFO or a device, which could block or
    /// never end.
    pub fn open(&self, abs: &Path) -> Result<(File, Metadata), OpenError> {
        crate::index::open_regular(&self.root, abs)
    }

    /// `abs` relative to the root with forward slashes, `.` for the root
    /// itself; a path outside the root is returned whole.
    pub(crate) fn relative(&self, abs: &Path) -> String {
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
    /// tarball), skips hidden entries, names that could not be shown
    /// plainly, and never enters git's directory. Ignore files above the
    /// root are not read: a `.gitignore` of `*` in a home directory kept in
    /// git would otherwise hide everything. `base` itself is walked even
    /// when ignored, since it was asked for by name. The ignore files are
    /// read afresh for each walk, and never when they are not regular
    /// files.
    pub(crate) fn walker(&self, base: &Path) -> WalkBuilder {
        let rules = Arc::new(IgnoreRules::new(&self.root, &[]));
        let git_dirs = self.git_dirs.clone();
        let mut builder = WalkBuilder::new(base);
        builder
            .hidden(true)
            .parents(false)
            .follow_links(false)
            .git_ignore(false)
            .ignore(false)
            .git_exclude(false)
            .git_global(false)
            .filter_entry(move |entry| {
                if is_git_name(entry.file_name()) || git_dirs.iter().any(|d| entry.path() == d) {
                    return false;
                }
                if entry.depth() == 0 {
                    return true;
                }
                if entry.file_name().to_str().is_some_and(names::has_unprintable) {
                    return false;
                }
                !rules.is_ignored(entry.path(), entry.file_type().is_some_and(|t| t.is_dir()))
            });
        builder
    }

    /// The path to open for a walked entry, when it should be offered:
    /// regular files, and symlinks that resolve to a regular file inside
    /// the repository (so a link cannot be used to read outside it).
    pub(crate) fn usable_file(&self, entry: &ignore::DirEntry) -> Option<PathBuf> {
        let kind = entry.file_type()?;
        if kind.is_file() {
            return Some(entry.path().to_path_buf());
        }
        if !kind.is_symlink() {
            return None;
        }
        let rel = self.relative(entry.path());
        let target = self.resolve(&rel).ok()?;
        std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file()).then_some(target)
    }
}

/// Where the root's `.git` file points, when it is a file and points inside
/// the root: that directory is git's as much as `.git` would be. Its
/// `commondir` (a linked worktree's shared directory) too.
fn linked_git_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let Some(git_dir) = read_first_line(&root.join(".git"))
        .and_then(|l| l.strip_prefix("gitdir:").map(|d| root.join(d.trim())))
        .and_then(|d| std::fs::canonicalize(d).ok())
    else {
        return dirs;
    };
    if let Some(common) =
        read_first_line(&git_dir.join("commondir")).and_then(|c| std::fs::canonicalize(git_dir.join(c.trim())).ok())
    {
        dirs.push(common);
    }
    dirs.push(git_dir);
    dirs.retain(|d| d.starts_with(root) && d != root);
    dirs
}

fn read_first_line(path: &Path) -> Option<String> {
    use std::io::{BufRead, BufReader, Read};
    // The git directory may lie outside the root: only the file's type
    // matters here, not its place.
    let (file, _) = crate::index::open_regular(Path::new("/"), path).ok()?;
    let mut line = String::new();
    BufReader::new(file.take(4096)).read_line(&mut line).ok()?;
    Some(line.trim_end().to_string())
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
    /// A component is a dangling symlink, whose target could be anywhere.
    Dangling,
    /// A component is a symlink that leads, through others, back to itself.
    Loop,
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
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) => return Err(PrefixError::Loop),
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
    fn symlink_loops_say_so() {
        let (repo, _out, ws) = setup();
        symlink("b", repo.path().join("a")).unwrap();
        symlink("a", repo.path().join("b")).unwrap();
        assert!(matches!(ws.resolve("a/x"), Err(PathError::SymlinkLoop(_))));
    }

    #[test]
    fn spellings_of_git_and_of_a_shell_are_refused() {
        let (_repo, _out, ws) = setup();
        for p in [".git./config", "git~1/config", ".git::$INDEX_ALLOCATION/config", ".GIT /HEAD"] {
            assert!(matches!(ws.resolve(p), Err(PathError::Git(_))), "{p}");
        }
        assert!(matches!(ws.resolve("~/.ssh/id_rsa"), Err(PathError::NotExpanded(_))));
        assert!(matches!(ws.resolve("src/lib.rs\0"), Err(PathError::Unprintable { .. })));
        assert!(matches!(ws.resolve(&"a/".repeat(2500)), Err(PathError::TooLong { .. })));
        assert_eq!(ws.resolve("./~").unwrap(), ws.root().join("~"));
    }

    #[test]
    fn a_git_directory_named_by_a_git_file_is_refused() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join("meta/hooks")).unwrap();
        std::fs::write(repo.path().join("meta/config"), "x").unwrap();
        std::fs::write(repo.path().join(".git"), "gitdir: meta\n").unwrap();
        std::fs::write(repo.path().join("lib.rs"), "x").unwrap();
        let ws = Workspace::new(repo.path());
        assert!(matches!(ws.resolve("meta/config"), Err(PathError::Git(_))));
        assert!(matches!(ws.resolve("./meta/hooks/pre-commit"), Err(PathError::Git(_))));
        assert!(ws.resolve("lib.rs").is_ok());
        let walked: Vec<_> = ws.walker(ws.root()).build().flatten().map(|e| ws.relative(e.path())).collect();
        assert!(walked.iter().all(|p| !p.starts_with("meta")), "{walked:?}");
    }

    #[test]
    fn only_regular_files_with_one_name_open() {
        let (repo, out, ws) = setup();
        std::fs::hard_link(out.path().join("secret"), repo.path().join("hard")).unwrap();
        let made = std::process::Command::new("mkfifo").arg(repo.path().join("pipe")).status().unwrap();
        assert!(made.success());
        assert!(ws.open(&ws.resolve("src/lib.rs").unwrap()).is_ok());
        assert!(matches!(ws.open(&ws.resolve("hard").unwrap()), Err(OpenError::HardLinked(2))));
        assert!(matches!(ws.open(&ws.resolve("pipe").unwrap()), Err(OpenError::Special(_))));
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
