//! The edit tools: `edit_file`, `write_file` and `apply_patch`. None of them
//! writes: each turns the model's edit into a proposal for the round, which
//! the user reviews hunk by hunk once the round's calls have run.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::args;
use super::proposals::{Current, Proposals};
use super::registry::{BuiltinContext, BuiltinTool};
use super::workspace::Workspace;
use super::{Tool, ToolContext, ToolOutput};
use crate::index::OpenError;
use crate::llm::ToolSpec;

/// Said after every proposal, so the model waits for the outcome instead of
/// assuming the file changed.
const PENDING: &str = "Nothing is written yet: the user reviews the edits of this round once your calls have run; \
                       what they accepted, rejected (and why) follows below.";

/// The file as the round sees it and as the disk has it: `(current, disk)`,
/// `None` for a file that does not exist.
type Contents = (Option<String>, Option<String>);

/// The file at `abs` as text, `None` when it does not exist. A file that
/// cannot be edited is refused here, before any proposal is made: a FIFO,
/// socket or device (never opened for reading, which could block), a
/// hard-linked file, and a read-only one (no write permission for its
/// owner), which the user has marked as not to be changed.
fn read_text(ws: &Workspace, abs: &Path, rel: &str) -> Result<Option<String>, String> {
    let (mut file, meta) = match ws.open(abs) {
        Ok(opened) => opened,
        Err(OpenError::NotFound) => return Ok(None),
        Err(OpenError::Directory) => return Err(format!("{rel} is a directory, not a file")),
        Err(e) => return Err(format!("{rel} {e}")),
    };
    if is_read_only(&meta) {
        return Err(format!(
            "{rel} is read-only (mode {:04o}), so tandem does not edit it; if it should change, the user can make \
             it writable first (`chmod u+w {rel}`)",
            meta.mode() & 0o7777
        ));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| format!("cannot read {rel}: {e}"))?;
    String::from_utf8(bytes).map(Some).map_err(|_| format!("{rel} is not UTF-8 text; tandem edits text files only"))
}

/// Whether the file's owner may not write it: `chmod a-w` or mode 0444.
/// The owner's bit rather than what this process may do, since root may
/// write anything.
fn is_read_only(meta: &std::fs::Metadata) -> bool {
    meta.mode() & 0o200 == 0
}

/// Resolve `path` inside the workspace and read it through the round's
/// earlier proposals.
fn contents(ws: &Workspace, proposals: &Proposals, path: &str) -> Result<(PathBuf, String, Contents), String> {
    let abs = ws.resolve(path).map_err(|e| e.to_string())?;
    let rel = ws.relative(&abs);
    let disk = read_text(ws, &abs, &rel)?;
    let current = match proposals.current(Path::new(&rel)) {
        Current::Untouched => disk.clone(),
        Current::Proposed(c) => c,
    };
    Ok((abs, rel, (current, disk)))
}

fn counts(before: &str, after: &str) -> (usize, usize, usize) {
    let hunks = crate::patch::hunks::hunks(before, after);
    let (added, removed) = crate::patch::hunks::counts(&hunks);
    (hunks.len(), added, removed)
}

fn proposed(rel: &str, before: &str, after: &str, verb: &str) -> ToolOutput {
    let (n, added, removed) = counts(before, after);
    ToolOutput::ok(
        format!("Proposed {verb} {rel}: {n} hunk(s), +{added} −{removed} lines. {PENDING}"),
        format!("proposed {verb} {rel} (+{added} −{removed})"),
    )
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EditArgs {
    /// File path relative to the repository root
    path: String,
    /// The exact text to replace
    old_text: String,
    /// The text to put in its place
    new_text: String,
    /// Replace every occurrence (default false)
    #[serde(default)]
    replace_all: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WriteArgs {
    /// File path relative to the repository root
    path: String,
    /// The whole content of the file
    content: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PatchArgs {
    /// The whole patch, from *** Begin Patch to *** End Patch
    patch: String,
}

pub struct EditFile {
    workspace: Arc<Workspace>,
    proposals: Arc<Proposals>,
}

impl EditFile {
    pub fn new(workspace: Arc<Workspace>, proposals: Arc<Proposals>) -> Self {
        Self { workspace, proposals }
    }
}

impl BuiltinTool for EditFile {
    const NAME: &'static str = "edit_file";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self::new(cx.workspace.clone(), cx.proposals.clone()))
    }
}

impl Tool for EditFile {
    fn spec(&self) -> ToolSpec {
        args::spec::<EditArgs>(
            Self::NAME,
            "Propose replacing `old_text` with `new_text` in a file. `old_text` must match one \
             place in the file (include enough surrounding lines to make it unique) unless \
             replace_all is set; small whitespace differences are tolerated. The user reviews the \
             change before it is written. Several edits to one file in the same round build on \
             each other; read_file always shows the file on disk.",
        )
    }

    fn run(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let (ws, proposals) = (self.workspace.clone(), self.proposals.clone());
        args::run_parsed(Self::NAME, args, move |a: EditArgs| {
            let (_, rel, (current, disk)) = match contents(&ws, &proposals, &a.path) {
                Ok(c) => c,
                Err(e) => return ToolOutput::error(e),
            };
            let Some(current) = current else {
                return ToolOutput::error(format!("{rel} does not exist; use write_file to create it"));
            };
            match crate::patch::matching::edit(&rel, &current, &a.old_text, &a.new_text, a.replace_all) {
                Ok(after) => {
                    let out = proposed(&rel, &current, &after, "an edit to");
                    proposals.propose(&ctx.call_id, Path::new(&rel), disk, Some(after), None);
                    out
                }
                Err(e) => ToolOutput::error(e.to_string()),
            }
        })
    }

    fn describe(&self, args: &Value) -> String {
        format!("edit {}", args::str_arg(args, "path").unwrap_or("?"))
    }
}

pub struct WriteFile {
    workspace: Arc<Workspace>,
    proposals: Arc<Proposals>,
}

impl WriteFile {
    pub fn new(workspace: Arc<Workspace>, proposals: Arc<Proposals>) -> Self {
        Self { workspace, proposals }
    }
}

impl BuiltinTool for WriteFile {
    const NAME: &'static str = "write_file";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self::new(cx.workspace.clone(), cx.proposals.clone()))
    }
}

impl Tool for WriteFile {
    fn spec(&self) -> ToolSpec {
        args::spec::<WriteArgs>(
            Self::NAME,
            "Propose a new file, or new content for a whole file. Prefer edit_file or apply_patch \
             for changes to part of an existing file. The user reviews it before it is written.",
        )
    }

    fn run(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let (ws, proposals) = (self.workspace.clone(), self.proposals.clone());
        args::run_parsed(Self::NAME, args, move |a: WriteArgs| {
            let (_, rel, (current, disk)) = match contents(&ws, &proposals, &a.path) {
                Ok(c) => c,
                Err(e) => return ToolOutput::error(e),
            };
            // Keep an existing file's line endings: the model writes \n.
            let mut content = a.content;
            if current.as_deref().is_some_and(|c| c.contains("\r\n")) && !content.contains("\r\n") {
                content = content.replace('\n', "\r\n");
            }
            if current.as_deref() == Some(content.as_str()) {
                return ToolOutput::ok(
                    format!("{rel} already has exactly this content; nothing to propose"),
                    format!("{rel} unchanged"),
                );
            }
            let verb = if current.is_some() { "new content for" } else { "a new file" };
            let out = proposed(&rel, current.as_deref().unwrap_or(""), &content, verb);
            proposals.propose(&ctx.call_id, Path::new(&rel), disk, Some(content), None);
            out
        })
    }

    fn describe(&self, args: &Value) -> String {
        format!("write {}", args::str_arg(args, "path").unwrap_or("?"))
    }
}

pub struct ApplyPatch {
    workspace: Arc<Workspace>,
    proposals: Arc<Proposals>,
}

impl ApplyPatch {
    pub fn new(workspace: Arc<Workspace>, proposals: Arc<Proposals>) -> Self {
        Self { workspace, proposals }
    }
}

impl BuiltinTool for ApplyPatch {
    const NAME: &'static str = "apply_patch";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self::new(cx.workspace.clone(), cx.proposals.clone()))
    }
}

impl Tool for ApplyPatch {
    fn spec(&self) -> ToolSpec {
        args::spec::<PatchArgs>(
            Self::NAME,
            "Propose edits to one or more files in the patch format:\n\
                          *** Begin Patch\n\
                          *** Update File: path/to/file\n\
                          @@ optional line to anchor the chunk, e.g. fn main()\n \
                          context line\n\
                          -removed line\n\
                          +added line\n\
                          *** Add File: path/new_file (every line starts with +)\n\
                          *** Delete File: path/old_file\n\
                          (*** Move to: new/path right after an Update File line renames it)\n\
                          *** End Patch\n\
                          Give 3 lines of context around each change. The user reviews the hunks before \
                          anything is written.",
        )
    }

    fn run(&self, args: Value, ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let (ws, proposals) = (self.workspace.clone(), self.proposals.clone());
        args::run_parsed(Self::NAME, args, move |a: PatchArgs| {
            let patch = match crate::patch::apply_patch::parse(&a.patch) {
                Ok(p) => p,
                Err(e) => return ToolOutput::error(format!("the patch does not parse: {e}")),
            };
            let read = |path: &str| -> Result<Option<String>, String> {
                contents(&ws, &proposals, path).map(|(_, _, (current, _))| current)
            };
            let changes = match crate::patch::apply_patch::apply(&patch, &read) {
                Ok(c) => c,
                Err(e) => return ToolOutput::error(format!("the patch does not apply: {e}")),
            };
            let mut report = Vec::new();
            let mut summary = Vec::new();
            for change in changes {
                let path = change.path.display().to_string();
                let (rel, disk) = match contents(&ws, &proposals, &path) {
                    Ok((_, rel, (_, disk))) => (rel, disk),
                    Err(e) => return ToolOutput::error(e),
                };
                // The destination of a move is checked as a file edited: a
                // FIFO or a read-only file there is refused too.
                let new_path = match &change.new_path {
                    Some(to) => match contents(&ws, &proposals, &to.display().to_string()) {
                        Ok((_, to_rel, _)) => Some(PathBuf::from(to_rel)),
                        Err(e) => return ToolOutput::error(e),
                    },
                    None => None,
                };
                let before = change.base.as_deref().unwrap_or("");
                let after = change.proposed.as_deref().unwrap_or("");
                let (n, added, removed) = counts(before, after);
                let what = match (&change.kind, &new_path) {
                    (_, Some(to)) => format!("move {rel} → {}", to.display()),
                    (crate::patch::ChangeKind::Add, _) => format!("add {rel}"),
                    (crate::patch::ChangeKind::Delete, _) => format!("delete {rel}"),
                    _ => format!("update {rel}"),
                };
                report.push(format!("{what}: {n} hunk(s), +{added} −{removed}"));
                summary.push(what);
                proposals.propose(&ctx.call_id, Path::new(&rel), disk, change.proposed, new_path);
            }
            ToolOutput::ok(
                format!("Proposed: {}. {PENDING}", report.join("; ")),
                format!("proposed {}", summary.join(", ")),
            )
        })
    }

    fn describe(&self, args: &Value) -> String {
        let files = args::str_arg(args, "patch")
            .map(|p| p.lines().filter(|l| l.starts_with("*** ") && l.contains("File:")).count())
            .unwrap_or(0);
        format!("patch {files} file(s)")
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use serde_json::json;

    use super::*;
    use crate::tools::test_files::tree;

    async fn call(tool: &dyn Tool, args: Value) -> ToolOutput {
        tool.run(args, ToolContext::new(tokio_util::sync::CancellationToken::new())).await
    }

    #[tokio::test]
    async fn read_only_and_special_files_are_refused_up_front() {
        let dir = tree(&[("ro.rs", "a\n"), ("rw.rs", "a\n")]);
        std::fs::set_permissions(dir.path().join("ro.rs"), std::fs::Permissions::from_mode(0o444)).unwrap();
        let made = std::process::Command::new("mkfifo").arg(dir.path().join("pipe.rs")).status().unwrap();
        assert!(made.success());
        let ws = Arc::new(Workspace::new(dir.path()));
        let proposals = Arc::new(Proposals::default());
        let edit = EditFile::new(ws.clone(), proposals.clone());
        let out = call(&edit, json!({"path": "ro.rs", "old_text": "a", "new_text": "b"})).await;
        assert!(out.is_error && out.content.contains("read-only (mode 0444)"), "{}", out.content);
        let out = call(&edit, json!({"path": "pipe.rs", "old_text": "a", "new_text": "b"})).await;
        assert!(out.is_error && out.content.contains("FIFO"), "{}", out.content);
        let patch = ApplyPatch::new(ws, proposals.clone());
        let text = "*** Begin Patch\n*** Update File: rw.rs\n*** Move to: ro.rs\n@@\n-a\n+b\n*** End Patch";
        let out = call(&patch, json!({"patch": text})).await;
        assert!(out.is_error && out.content.contains("read-only"), "{}", out.content);
        assert!(proposals.is_empty());
    }
}
