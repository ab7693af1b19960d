//! Proposed changes as a git-style unified diff, the patch file that
//! `git apply` takes: what `tandem exec` leaves for the user under the
//! suggest policy.

use std::path::Path;

use super::{ChangeKind, FileChange, MODE_FILE};

/// `change` as one file's section of a `git diff`: the `diff --git` header,
/// the extended header lines a new, deleted or moved file needs, and the
/// hunks with 3 lines of context. A new file gets git's mode of a regular
/// file; a deleted one `deleted_mode` when given (the file's, executable
/// or not), else that too.
///
/// The hunks are computed afresh from `base` and `proposed` rather than
/// taken from `change.hunks`, whose lines carry no endings: here every line
/// keeps its own (a CRLF file's hunks match it byte for byte) and a missing
/// final newline is marked as git marks it.
pub fn render(change: &FileChange, deleted_mode: Option<u32>) -> String {
    let from = &change.path;
    let to = match change.kind {
        ChangeKind::Move => change.new_path.as_deref().unwrap_or(from),
        _ => from,
    };
    let (a, b) = (quoted("a/", from), quoted("b/", to));
    let mut out = format!("diff --git {a} {b}\n");
    let (old_name, new_name) = match change.kind {
        ChangeKind::Add => {
            out.push_str(&format!("new file mode {:o}\n", MODE_FILE));
            ("/dev/null".to_string(), b)
        }
        ChangeKind::Delete => {
            out.push_str(&format!("deleted file mode {:o}\n", deleted_mode.unwrap_or(MODE_FILE)));
            (a, "/dev/null".to_string())
        }
        ChangeKind::Move if to != from => {
            // libgit2 reads a rename only after a similarity line, as git writes it.
            let ratio = similar::TextDiff::from_lines(
                change.base.as_deref().unwrap_or(""),
                change.proposed.as_deref().unwrap_or(""),
            )
            .ratio();
            out.push_str(&format!("similarity index {}%\n", (ratio * 100.0).floor() as u32));
            out.push_str(&format!("rename from {}\n", quoted("", from)));
            out.push_str(&format!("rename to {}\n", quoted("", to)));
            (a, b)
        }
        ChangeKind::Move | ChangeKind::Modify => (a, b),
    };
    let base = change.base.as_deref().unwrap_or("");
    let proposed = change.proposed.as_deref().unwrap_or("");
    if change.kind != ChangeKind::Move || base != proposed {
        // As git writes it; git itself only needs it for a three-way apply,
        // but libgit2 wants it between a rename and the hunks.
        out.push_str(&format!("index {}..{}\n", blob_id(change.base.as_deref()), blob_id(change.proposed.as_deref())));
    }
    let diff = similar::TextDiff::configure().algorithm(similar::Algorithm::Myers).diff_lines(base, proposed);
    out.push_str(&diff.unified_diff().context_radius(3).header(&old_name, &new_name).to_string());
    out
}

/// The git blob id of `text`, or git's all-zero id for no file.
fn blob_id(text: Option<&str>) -> String {
    text.and_then(|t| git2::Oid::hash_object(git2::ObjectType::Blob, t.as_bytes()).ok())
        .map_or_else(|| "0".repeat(40), |id| id.to_string())
}

/// `prefix` + `path` as git writes a name in a diff header: in double
/// quotes with C escapes when it holds a quote, a backslash or a control
/// character, as is otherwise.
fn quoted(prefix: &str, path: &Path) -> String {
    let name = format!("{prefix}{}", path.to_string_lossy());
    if !name.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        return name;
    }
    let mut out = String::from("\"");
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn change(kind: ChangeKind, path: &str, base: Option<&str>, proposed: Option<&str>) -> FileChange {
        let hunks = super::super::hunks::hunks(base.unwrap_or(""), proposed.unwrap_or(""));
        FileChange {
            path: PathBuf::from(path),
            new_path: None,
            kind,
            base: base.map(str::to_string),
            proposed: proposed.map(str::to_string),
            hunks,
        }
    }

    /// Apply `patch` to the working tree of a repository holding `files`,
    /// as `git apply` does, and return the files afterwards.
    fn apply(files: &[(&str, &str)], patch: &str) -> Result<Vec<(String, String)>, String> {
        let dir = tempfile::tempdir().expect("dir");
        let repo = git2::Repository::init(dir.path()).expect("init");
        for (p, text) in files {
            std::fs::create_dir_all(dir.path().join(p).parent().expect("parent")).expect("mkdir");
            std::fs::write(dir.path().join(p), text).expect("write");
        }
        let diff = git2::Diff::from_buffer(patch.as_bytes()).map_err(|e| e.to_string())?;
        repo.apply(&diff, git2::ApplyLocation::WorkDir, None).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for entry in walk(dir.path()) {
            let rel = entry.strip_prefix(dir.path()).expect("rel").to_string_lossy().into_owned();
            out.push((rel, std::fs::read_to_string(&entry).expect("read")));
        }
        out.sort();
        Ok(out)
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
        out
    }

    #[test]
    fn a_modified_file_with_two_hunks_applies() {
        let base = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n";
        let proposed = "A\nb\nc\nd\ne\nf\ng\nh\ni\nj\nK\n";
        let c = change(ChangeKind::Modify, "src/x.txt", Some(base), Some(proposed));
        let patch = render(&c, None);
        let (old, new) = (blob_id(Some(base)), blob_id(Some(proposed)));
        let head =
            format!("diff --git a/src/x.txt b/src/x.txt\nindex {old}..{new}\n--- a/src/x.txt\n+++ b/src/x.txt\n");
        assert!(patch.starts_with(&format!("{head}@@ -1,4 +1,4 @@\n-a\n+A\n")), "{patch}");
        assert_eq!(patch.matches("@@ -").count(), 2, "{patch}");
        assert_eq!(apply(&[("src/x.txt", base)], &patch), Ok(vec![("src/x.txt".into(), proposed.into())]));
    }

    #[test]
    fn crlf_lines_and_a_missing_final_newline_survive() {
        let base = "one\r\ntwo\r\nthree";
        let proposed = "one\r\n2\r\nthree\r\n";
        let patch = render(&change(ChangeKind::Modify, "w.txt", Some(base), Some(proposed)), None);
        assert!(patch.contains("\\ No newline at end of file"), "{patch}");
        assert_eq!(apply(&[("w.txt", base)], &patch), Ok(vec![("w.txt".into(), proposed.into())]));
    }

    #[test]
    fn new_deleted_and_moved_files_apply() {
        let add = change(ChangeKind::Add, "new/file.txt", None, Some("hello\n"));
        let del = change(ChangeKind::Delete, "old.txt", Some("bye\n"), None);
        let mut mv = change(ChangeKind::Move, "from.txt", Some("x\ny\n"), Some("x\nz\n"));
        mv.new_path = Some(PathBuf::from("to.txt"));
        let patch = [render(&add, None), render(&del, None), render(&mv, None)].concat();
        assert!(
            patch.contains("new file mode 100644\nindex 0000000000000000000000000000000000000000..ce01362"),
            "{patch}"
        );
        assert!(patch.contains("deleted file mode 100644\nindex b023018"), "{patch}");
        let executable = render(&del, Some(crate::patch::MODE_EXECUTABLE));
        assert!(executable.contains("deleted file mode 100755\n"), "{executable}");
        assert!(
            patch.contains("\n--- /dev/null\n+++ b/new/file.txt\n")
                && patch.contains("\n--- a/old.txt\n+++ /dev/null\n")
        );
        assert!(patch.contains("similarity index 50%\nrename from from.txt\nrename to to.txt\n"), "{patch}");
        let files = apply(&[("old.txt", "bye\n"), ("from.txt", "x\ny\n")], &patch);
        assert_eq!(files, Ok(vec![("new/file.txt".into(), "hello\n".into()), ("to.txt".into(), "x\nz\n".into())]));
    }

    #[test]
    fn odd_names_are_quoted_as_git_quotes_them() {
        assert_eq!(quoted("a/", Path::new("plain name.rs")), "a/plain name.rs");
        assert_eq!(quoted("a/", Path::new("tab\there\"")), "\"a/tab\\there\\\"\"");
    }
}
