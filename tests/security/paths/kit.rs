//! What the path families share: a real git repository with a secret file
//! beside it, outside; every tool of the toolbox that takes a path, called
//! through its public `run` with JSON arguments as a model sends them; a
//! watchdog, so a call that hangs fails its case instead of the suite.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;
use tandem::index::{Index, IndexOptions, SharedIndex};
use tandem::tools::proposals::Proposals;
use tandem::tools::workspace::Workspace;
use tandem::tools::{Tool, ToolContext, ToolOutput};
use tokio_util::sync::CancellationToken;

/// In every file outside the repository, and in git's own files: no tool
/// output may ever contain it.
pub const SECRET: &str = "TANDEM-OUTSIDE-SECRET-5f0c";
/// A function defined only outside the repository: the index must never
/// know it.
pub const SECRET_FN: &str = "tandem_secret_fn";
/// Longest a call may take before it is taken to hang: far beyond what any
/// of these calls needs on a loaded machine, so only a hang reaches it.
pub const HANG: Duration = Duration::from_secs(20);

/// A repository and a directory beside it.
pub struct Site {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    pub root: PathBuf,
    pub outside: PathBuf,
}

pub fn site() -> Site {
    let holder = tempfile::tempdir().expect("dir");
    let other = tempfile::tempdir().expect("dir");
    let root = std::fs::canonicalize(holder.path()).expect("canon");
    let outside = std::fs::canonicalize(other.path()).expect("canon");
    git2::Repository::init(&root).expect("git init");
    let mut config = std::fs::OpenOptions::new().append(true).open(root.join(".git/config")).expect("config");
    std::io::Write::write_all(&mut config, format!("# {SECRET}\n").as_bytes()).expect("write");
    write(&root.join("src/lib.rs"), "pub fn inside_fn() {}\n");
    write(&root.join("README.md"), "# inside\n");
    write(&outside.join("secret.txt"), &format!("{SECRET}\n"));
    write(&outside.join("secret.rs"), &format!("pub fn {SECRET_FN}() {{}} // {SECRET}\n"));
    Site { _dirs: (holder, other), root, outside }
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Makes a FIFO at `path`, in place of what is there.
pub fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let made = std::process::Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Opens every FIFO under `dir` for writing and closes it again, so that a
/// reader stuck opening one (a case that failed) goes on and ends.
pub fn release_fifos(dir: &Path) {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    for entry in walk(dir) {
        if std::fs::symlink_metadata(&entry).is_ok_and(|m| m.file_type().is_fifo()) {
            let _ = std::fs::OpenOptions::new().write(true).custom_flags(nix::libc::O_NONBLOCK).open(&entry);
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(dir) else { return out };
    for entry in read.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// Every entry under `dir` with its content (a link's target), to tell
/// whether anything there changed.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    for path in walk(dir) {
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        let mut seen = format!("{:o} {} ", meta.mode(), meta.nlink()).into_bytes();
        if meta.file_type().is_symlink() {
            seen.extend(std::fs::read_link(&path).map(|t| t.into_os_string().into_encoded_bytes()).unwrap_or_default());
        } else if meta.is_file() {
            seen.extend(std::fs::read(&path).unwrap_or_default());
        }
        out.insert(path, seen);
    }
    out
}

/// Runs `f` on a thread of its own and waits up to [`HANG`] for it.
pub fn watchdog<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG).map_err(|e| match e {
        mpsc::RecvTimeoutError::Timeout => format!("did not return within {HANG:?}: it hangs"),
        mpsc::RecvTimeoutError::Disconnected => "panicked".to_string(),
    })
}

/// Calls `tool` as the toolbox does, under the watchdog.
pub fn call(tool: &Arc<dyn Tool>, args: Value) -> Result<ToolOutput, String> {
    let tool = tool.clone();
    watchdog(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(tool.run(args, ToolContext::new(CancellationToken::new())))
    })
}

/// The tools of a repository, built as the toolbox builds them.
pub struct Tools {
    pub by_name: BTreeMap<&'static str, Arc<dyn Tool>>,
    pub proposals: Arc<Proposals>,
    pub index: SharedIndex,
}

impl Tools {
    pub fn new(root: &Path) -> Self {
        let ws = Arc::new(Workspace::new(root));
        let proposals = Arc::new(Proposals::default());
        let index: SharedIndex = Arc::new(RwLock::new(None));
        use tandem::tools::{edit, grep, list, read, symbols};
        let by_name: BTreeMap<&'static str, Arc<dyn Tool>> = BTreeMap::from([
            ("read_file", Arc::new(read::ReadFile::new(ws.clone())) as Arc<dyn Tool>),
            ("list_files", Arc::new(list::ListFiles::new(ws.clone()))),
            ("grep", Arc::new(grep::Grep::new(ws.clone()))),
            ("find_symbol", Arc::new(symbols::FindSymbol(index.clone()))),
            ("references", Arc::new(symbols::References(index.clone()))),
            ("outline", Arc::new(symbols::Outline(index.clone()))),
            ("repo_map", Arc::new(symbols::RepoMapTool { index: index.clone(), tokens: 2048 })),
            ("edit_file", Arc::new(edit::EditFile::new(ws.clone(), proposals.clone()))),
            ("write_file", Arc::new(edit::WriteFile::new(ws.clone(), proposals.clone()))),
            ("apply_patch", Arc::new(edit::ApplyPatch::new(ws, proposals.clone()))),
        ]);
        Self { by_name, proposals, index }
    }

    /// Builds the index the symbol tools answer from, under the watchdog.
    pub fn build_index(&self, root: &Path) -> Result<(), String> {
        let opts = IndexOptions::new(root);
        let built = watchdog(move || Index::build(&opts, &|_, _| {}).map(|(i, _)| i).map_err(|e| e.to_string()))??;
        *self.index.write().map_err(|_| "index lock poisoned")? = Some(built);
        Ok(())
    }

    pub fn call(&self, name: &str, args: Value) -> Result<ToolOutput, String> {
        call(&self.by_name[name], args)
    }
}

/// Why a proposal's path is not a file inside the repository outside git's
/// directory, if it is not.
pub fn outside_reason(root: &Path, rel: &Path) -> Option<String> {
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Some(format!("proposal for `{}`, which is not a plain relative path", rel.display()));
    }
    if rel.components().any(|c| c.as_os_str().to_string_lossy().eq_ignore_ascii_case(".git")) {
        return Some(format!("proposal for `{}`, inside .git", rel.display()));
    }
    let mut existing = root.join(rel);
    while std::fs::symlink_metadata(&existing).is_err() {
        if !existing.pop() {
            break;
        }
    }
    match std::fs::canonicalize(&existing) {
        Ok(real) if real.starts_with(root) && !real.starts_with(root.join(".git")) => None,
        Ok(real) => Some(format!("proposal for `{}` lands at {}", rel.display(), real.display())),
        Err(e) => Some(format!("proposal for `{}` through a broken link: {e}", rel.display())),
    }
}

/// What a refusal of `path` must look like: an error that says why in a
/// few lines (besides the path, which it may echo), not a panic or an
/// internal failure.
pub fn clear_refusal(out: &ToolOutput, path: &str) -> Result<(), String> {
    if !out.is_error {
        return Err(format!("not refused: {}", cut(&out.content)));
    }
    if out.content.replace(path, "").len() > 1000
        || out.content.trim().is_empty()
        || out.content.contains("internal error")
    {
        return Err(format!("refused without a clear message: {}", cut(&out.content)));
    }
    Ok(())
}

pub fn cut(text: &str) -> String {
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push('…');
    }
    s.replace('\n', "⏎")
}
