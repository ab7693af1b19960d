//! Working-tree file access for applying and undoing edits: reads that refuse
//! anything that is not plain UTF-8 text in a regular file, and writes that
//! never leave a half-written file behind.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Fingerprint of a file's content, so a caller can tell whether a file
/// changed between a proposal and its application.
pub fn content_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// The path as a clean relative path (no `.`, no `..`, not absolute), the form
/// git's index expects. Paths are confined by the caller; this only guards
/// against joining something that would escape the root.
pub(crate) fn clean_relative(path: &Path) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return Err(format!("{} is not a path inside the project", path.display())),
        }
    }
    if out.as_os_str().is_empty() {
        return Err("empty path".to_string());
    }
    // git2 panics on a NUL in an index path rather than returning an error.
    if out.as_os_str().as_encoded_bytes().contains(&0) {
        return Err(format!("{} contains a NUL byte", path.display()));
    }
    Ok(out)
}

/// The file's text, `None` when nothing is at the path. Symbolic links are
/// refused rather than followed: replacing one by rename would turn it into a
/// regular file, and its target may lie outside the project.
pub(crate) fn read_text(abs: &Path, shown: &Path) -> Result<Option<String>, String> {
    let meta = match fs::symlink_metadata(abs) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("could not read {}: {e}", shown.display())),
    };
    if meta.file_type().is_symlink() {
        return Err(format!("{} is a symbolic link; tandem does not edit through links", shown.display()));
    }
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", shown.display()));
    }
    let bytes = fs::read(abs).map_err(|e| format!("could not read {}: {e}", shown.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", shown.display())).map(Some)
}

/// Permission bits of an existing file, so a rewrite keeps them.
pub(crate) fn mode_of(abs: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(abs).ok().map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = abs;
        None
    }
}

/// The git mode of the file at `abs`: executable, or a regular file (also
/// when it cannot be read).
pub(crate) fn git_mode(abs: &Path) -> u32 {
    match mode_of(abs) {
        Some(m) if m & 0o111 != 0 => super::MODE_EXECUTABLE,
        _ => super::MODE_FILE,
    }
}

/// Replaces (or creates) the file in one step: a reader, an editor or a
/// crash sees either the old content or the new, never a mix. `mode` is kept
/// exactly; a new file gets the usual 0666 less the umask.
pub(crate) fn write_atomic(abs: &Path, content: &str, mode: Option<u32>) -> io::Result<()> {
    let dir = abs.parent().ok_or_else(|| io::Error::other("the path has no parent directory"))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tandem-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The temporary file would otherwise be 0600, which a rename makes permanent.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(content.as_bytes())?;
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.as_file().sync_all()?;
    tmp.persist(abs).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

pub(crate) fn remove_file(abs: &Path) -> io::Result<()> {
    fs::remove_file(abs)?;
    if let Some(dir) = abs.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Makes a rename or removal durable. Best effort: some platforms and file
/// systems cannot sync a directory, and the data itself is already synced.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Creates the missing parent directories of `rel`, returning the ones it
/// created (relative to `root`, outermost first) so an undo can remove them.
pub(crate) fn create_parents(root: &Path, rel: &Path) -> io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut dir = rel.parent();
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
        if root.join(d).is_dir() {
            break;
        }
        missing.push(d.to_path_buf());
        dir = d.parent();
    }
    missing.reverse();
    for d in &missing {
        match fs::create_dir(root.join(d)) {
            Ok(()) => {}
            // Someone else made it meanwhile; it is not ours to remove later.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && root.join(d).is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(missing)
}

/// Removes directories an apply created, innermost first, leaving any that
/// are no longer empty.
pub(crate) fn remove_empty_dirs(root: &Path, dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        // remove_dir only succeeds on an empty directory, which is the check.
        let _ = fs::remove_dir(root.join(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_relative_rejects_escapes() {
        assert_eq!(clean_relative(Path::new("./a/b.rs")).expect("clean"), PathBuf::from("a/b.rs"));
        assert!(clean_relative(Path::new("../a")).is_err());
        assert!(clean_relative(Path::new("/etc/passwd")).is_err());
        assert!(clean_relative(Path::new(".")).is_err());
        assert!(clean_relative(Path::new("a\0b")).is_err());
    }

    #[test]
    fn hash_is_blake3_hex() {
        assert_eq!(content_hash("a").len(), 64);
        assert_ne!(content_hash("a"), content_hash("b"));
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_mode_and_new_files_are_not_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("run.sh");
        write_atomic(&path, "#!/bin/sh\n", Some(0o755)).expect("write");
        assert_eq!(mode_of(&path), Some(0o755));
        write_atomic(&path, "#!/bin/sh\necho\n", mode_of(&path)).expect("rewrite");
        assert_eq!(mode_of(&path), Some(0o755));
        let fresh = dir.path().join("new.txt");
        write_atomic(&fresh, "x", None).expect("write");
        let reference = dir.path().join("reference.txt");
        fs::File::create(&reference).expect("create");
        assert_eq!(mode_of(&fresh), mode_of(&reference), "a new file gets the umask's mode, not 0600");
        let leftovers = fs::read_dir(dir.path()).expect("ls").filter_map(Result::ok);
        assert!(leftovers.into_iter().all(|e| !e.file_name().to_string_lossy().ends_with(".tmp")));
    }

    #[cfg(unix)]
    #[test]
    fn git_modes_follow_the_executable_bits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (script, text) = (dir.path().join("run.sh"), dir.path().join("a.txt"));
        write_atomic(&script, "#!/bin/sh\n", Some(0o750)).expect("write");
        write_atomic(&text, "a\n", Some(0o640)).expect("write");
        assert_eq!(git_mode(&script), super::super::MODE_EXECUTABLE);
        assert_eq!(git_mode(&text), super::super::MODE_FILE);
        assert_eq!(git_mode(&dir.path().join("gone")), super::super::MODE_FILE);
    }

    #[test]
    fn created_parents_are_removed_when_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("a")).expect("mkdir");
        let made = create_parents(dir.path(), Path::new("a/b/c/f.txt")).expect("parents");
        assert_eq!(made, vec![PathBuf::from("a/b"), PathBuf::from("a/b/c")]);
        remove_empty_dirs(dir.path(), &made);
        assert!(dir.path().join("a").is_dir());
        assert!(!dir.path().join("a/b").exists());
    }
}
