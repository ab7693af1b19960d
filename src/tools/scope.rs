//! What `list_files` and `grep` look at: the files under a directory (or a
//! single file) of the repository, as git would see them, that a glob
//! matches.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use tokio_util::sync::CancellationToken;

use super::ToolOutput;
use super::workspace::Workspace;

pub(crate) struct Scope {
    /// The directory or file walked.
    pub base: PathBuf,
    /// `base` relative to the repository root ("." for the root).
    pub base_rel: String,
    filter: PathFilter,
}

impl Scope {
    /// The scope of a call's `path` and `glob` arguments, or an error for
    /// the model.
    pub fn new(workspace: &Workspace, path: Option<&str>, glob: Option<&str>) -> Result<Self, ToolOutput> {
        let base = resolve_base(workspace, path)?;
        let base_rel = workspace.relative(&base);
        let filter = PathFilter::new(glob, &base_rel).map_err(ToolOutput::error)?;
        Ok(Self { base, base_rel, filter })
    }

    /// Calls `f(path, relative_path)` for each file in scope: ignored,
    /// hidden, special and escaping files left out, directory by directory
    /// in file name order; `path` is the one to open (a symlink's target
    /// inside the repository). Unreadable directories are skipped, as git
    /// status would. An error when `cancel` fires.
    pub(crate) fn for_each_file(
        &self,
        workspace: &Workspace,
        cancel: &CancellationToken,
        mut f: impl FnMut(&Path, String),
    ) -> Result<(), ToolOutput> {
        let mut walker = workspace.walker(&self.base);
        walker.sort_by_file_name(|a, b| a.cmp(b));
        for entry in walker.build() {
            if cancel.is_cancelled() {
                return Err(ToolOutput::error("cancelled"));
            }
            let Ok(entry) = entry else { continue };
            let Some(path) = workspace.usable_file(&entry) else { continue };
            let rel = workspace.relative(entry.path());
            if self.filter.matches(&rel) {
                f(&path, rel);
            }
        }
        Ok(())
    }
}

/// A glob as the model means it: matched against the path from the root or
/// from the listed directory, whichever it was written for.
struct PathFilter {
    matcher: Option<GlobMatcher>,
    base_rel: String,
}

impl PathFilter {
    fn new(glob: Option<&str>, base_rel: &str) -> Result<Self, String> {
        let matcher = match glob.map(str::trim).filter(|g| !g.is_empty()) {
            None => None,
            Some(glob) => {
                let glob = glob.trim_start_matches("./").trim_start_matches('/');
                let built = GlobBuilder::new(glob)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| format!("invalid glob `{glob}`: {e}; use patterns like `**/*.rs` or `src/*.toml`"))?;
                Some(built.compile_matcher())
            }
        };
        Ok(Self { matcher, base_rel: base_rel.to_string() })
    }

    fn matches(&self, rel: &str) -> bool {
        let Some(matcher) = &self.matcher else { return true };
        if matcher.is_match(rel) {
            return true;
        }
        rel.strip_prefix(&self.base_rel)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|from_base| matcher.is_match(from_base))
    }
}

/// The directory (or file) to walk, or an error for the model.
fn resolve_base(workspace: &Workspace, path: Option<&str>) -> Result<PathBuf, ToolOutput> {
    let Some(path) = path.filter(|p| !p.trim().is_empty()) else { return Ok(workspace.root().to_path_buf()) };
    let abs = workspace.resolve(path).map_err(|e| ToolOutput::error(e.to_string()))?;
    let rel = workspace.relative(&abs);
    match std::fs::symlink_metadata(&abs) {
        Err(_) => Err(ToolOutput::error(format!(
            "`{rel}` does not exist; call list_files without a path to see the repository's files"
        ))),
        Ok(meta) if meta.is_dir() => Ok(abs),
        // A FIFO, device or hard-linked file is refused by name rather than
        // walked past in silence.
        Ok(meta) => match crate::index::check_regular(&meta) {
            Ok(()) => Ok(abs),
            Err(e) => Err(ToolOutput::error(format!("`{rel}` {e}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::test_files::tree;

    fn files(scope: &Scope, ws: &Workspace) -> Vec<String> {
        let mut seen = Vec::new();
        scope.for_each_file(ws, &CancellationToken::new(), |_, rel| seen.push(rel)).unwrap();
        seen
    }

    #[test]
    fn walks_the_files_in_scope_in_name_order() {
        let dir = tree(&[("b.rs", ""), ("a/z.rs", ""), ("a/y.txt", ""), (".hidden", "")]);
        let ws = Workspace::new(dir.path());
        let all = Scope::new(&ws, None, None).unwrap();
        assert_eq!(all.base_rel, ".");
        assert_eq!(files(&all, &ws), ["a/y.txt", "a/z.rs", "b.rs"]);
        let rust_in_a = Scope::new(&ws, Some("a"), Some("*.rs")).unwrap();
        assert_eq!(files(&rust_in_a, &ws), ["a/z.rs"]);
    }

    #[test]
    fn bad_arguments_and_cancel_are_errors_for_the_model() {
        let dir = tree(&[("a.rs", "")]);
        let ws = Workspace::new(dir.path());
        assert!(Scope::new(&ws, Some("nope"), None).err().unwrap().content.contains("does not exist"));
        assert!(Scope::new(&ws, None, Some("[a")).err().unwrap().content.contains("invalid glob"));
        let cancel = CancellationToken::new();
        cancel.cancel();
        let scope = Scope::new(&ws, None, None).unwrap();
        let walked = scope.for_each_file(&ws, &cancel, |_, _| panic!("walked after cancel"));
        assert_eq!(walked.unwrap_err().content, "cancelled");
    }
}
