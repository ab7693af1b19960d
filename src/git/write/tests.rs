use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).expect("meta").permissions().mode() & 0o7777
}

fn place(root: &Path, rel: &str) -> Place {
    Place::find(root, Path::new(rel)).expect("place")
}

fn leftovers(dir: &Path) -> Vec<String> {
    let names = fs::read_dir(dir).expect("ls").filter_map(Result::ok).map(|e| e.file_name());
    names.map(|n| n.to_string_lossy().into_owned()).filter(|n| n.starts_with(".tandem-")).collect()
}

#[test]
fn clean_relative_rejects_escapes_and_git() {
    assert_eq!(clean_relative(Path::new("./a/b.rs")).expect("clean"), PathBuf::from("a/b.rs"));
    for bad in ["../a", "/etc/passwd", ".", "a\0b", ".git/config", "x/.GIT/y", ".git./x", "git~1/x", ".g\u{200c}it/x"] {
        assert!(clean_relative(Path::new(bad)).is_err(), "{bad}");
    }
    assert!(clean_relative(Path::new(".github/workflows/ci.yml")).is_ok());
    assert!(clean_relative(Path::new("a/.gitignore")).is_ok());
}

#[test]
fn each_refused_path_says_why() {
    use crate::git::PathError;
    let refusal = |p: &str| clean_relative(Path::new(p)).expect_err(p);
    assert_eq!(refusal("../a"), PathError::OutsideProject(PathBuf::from("../a")));
    assert_eq!(refusal("/etc/passwd").to_string(), "/etc/passwd is not a path inside the project");
    assert_eq!(refusal("x/.GIT/y"), PathError::InsideGitDir(PathBuf::from("x/.GIT/y")));
    assert_eq!(refusal("x/.GIT/y").to_string(), "x/.GIT/y is inside a .git directory, which tandem never writes");
    assert_eq!(refusal("./."), PathError::Empty);
    assert_eq!(refusal("./.").to_string(), "empty path");
    assert_eq!(refusal("a\0b"), PathError::Nul(PathBuf::from("a\0b")));
    assert_eq!(refusal("a\0b").to_string(), "a\0b contains a NUL byte");
}

#[test]
fn hash_is_blake3_hex() {
    assert_eq!(content_hash("a").len(), 64);
    assert_ne!(content_hash("a"), content_hash("b"));
}

#[test]
fn replacing_keeps_the_mode_and_new_files_are_not_private() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::start(dir.path());
    let script = place(dir.path(), "run.sh");
    script.create(&journal, "#!/bin/sh\n", Some(0o750)).expect("create");
    assert_eq!(mode(&dir.path().join("run.sh")), 0o750);
    let script = place(dir.path(), "run.sh");
    let current = script.open().expect("open").expect("there");
    script.replace(&journal, &current, "#!/bin/sh\necho\n", None).expect("replace");
    assert_eq!(mode(&dir.path().join("run.sh")), 0o750);
    assert_eq!(fs::read_to_string(dir.path().join("run.sh")).expect("read"), "#!/bin/sh\necho\n");
    place(dir.path(), "new.txt").create(&journal, "x", None).expect("create");
    fs::File::create(dir.path().join("reference.txt")).expect("create");
    assert_eq!(mode(&dir.path().join("new.txt")), mode(&dir.path().join("reference.txt")), "umask, not 0600");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    journal.finish();
}

#[test]
fn git_modes_follow_the_executable_bits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (script, text) = (dir.path().join("run.sh"), dir.path().join("a.txt"));
    write_atomic(&script, "#!/bin/sh\n", Some(0o750)).expect("write");
    write_atomic(&text, "a\n", Some(0o640)).expect("write");
    assert_eq!(git_mode(&script), crate::git::MODE_EXECUTABLE);
    assert_eq!(git_mode(&text), crate::git::MODE_FILE);
    assert_eq!(git_mode(&dir.path().join("gone")), crate::git::MODE_FILE);
}

#[test]
fn created_parents_are_removed_when_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("a")).expect("mkdir");
    let journal = Journal::start(dir.path());
    let made = place(dir.path(), "a/b/c/f.txt").create(&journal, "x\n", None).expect("create");
    assert_eq!(made, vec![PathBuf::from("a/b"), PathBuf::from("a/b/c")]);
    fs::remove_file(dir.path().join("a/b/c/f.txt")).expect("rm");
    remove_empty_dirs(dir.path(), &made);
    assert!(dir.path().join("a").is_dir());
    assert!(!dir.path().join("a/b").exists());
}

/// A project directory with a killed apply's journal in `state`: what the
/// apply left, as `journal` recorded it before it died.
struct Killed {
    root: tempfile::TempDir,
    state: tempfile::TempDir,
}

impl Killed {
    fn new() -> Killed {
        let root = tempfile::tempdir().expect("root");
        fs::create_dir(root.path().join("src")).expect("src");
        Killed { root, state: tempfile::tempdir().expect("state") }
    }

    fn journal(&self, root: &Path) -> Journal {
        Journal::create(self.state.path(), root).expect("journal")
    }

    fn src(&self, name: &std::ffi::OsStr) -> PathBuf {
        self.root.path().join("src").join(name)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.root.path().join("src"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn journals(&self) -> usize {
        fs::read_dir(self.state.path()).expect("ls").count()
    }

    /// Waits (up to 10 s) until no journal in `state` is locked, as none of
    /// killed applies is. Dropping a journal lets go of its lock, but a
    /// process another test starts while the journal is open holds a copy
    /// of its descriptor, and with it the lock, until it runs its program.
    /// Looked up in /proc/locks: taking the lock to see would hold it too.
    fn unlocked(&self) {
        use std::os::unix::fs::MetadataExt;
        let inodes: Vec<String> = fs::read_dir(self.state.path())
            .expect("ls")
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| format!(":{}", m.ino()))
            .collect();
        let locked = || {
            let locks = fs::read_to_string("/proc/locks").unwrap_or_default();
            locks.split_whitespace().any(|word| inodes.iter().any(|i| word.ends_with(i.as_str())))
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while locked() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

#[test]
fn a_killed_apply_s_temporaries_are_removed_and_nothing_else() {
    let k = Killed::new();
    let journal = k.journal(k.root.path());
    let src = Path::new("src");
    // Killed while writing a temporary file: half of the new text.
    let partial = journal::temp_name();
    journal.temp(src, &partial);
    fs::write(k.src(&partial), "half of the ne").expect("write");
    // Killed after the exchange: the old text under the temporary name.
    fs::write(k.src("f.txt".as_ref()), "new\n").expect("write");
    let swapped = journal::temp_name();
    journal.temp(src, &swapped);
    journal.swap(src, &swapped, "f.txt".as_ref(), &content_hash("old\n"), &content_hash("new\n"));
    fs::write(k.src(&swapped), "old\n").expect("write");
    // Killed after the exchange while another program appended to the old file.
    fs::write(k.src("g.txt".as_ref()), "new\n").expect("write");
    let appended = journal::temp_name();
    journal.swap(src, &appended, "g.txt".as_ref(), &content_hash("old\n"), &content_hash("new\n"));
    fs::write(k.src(&appended), "old\nappended\n").expect("write");
    // Recorded, but never created; and files of the user's that look alike.
    journal.temp(src, &journal::temp_name());
    fs::write(k.src(".tandem-write-1-1-00000000.tmp".as_ref()), "mine\n").expect("write");
    fs::write(k.src(".tandem-notes.txt".as_ref()), "mine\n").expect("write");
    drop(journal);
    k.unlocked();

    journal::recover_in(k.root.path(), k.state.path());
    let names = k.names();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("g.txt.tandem-kept-")), "{names:?}");
    for kept in ["f.txt", "g.txt", ".tandem-write-1-1-00000000.tmp", ".tandem-notes.txt"] {
        assert!(names.contains(&kept.to_string()), "{kept} is gone: {names:?}");
    }
    let kept = names.iter().find(|n| n.starts_with("g.txt.tandem-kept-")).expect("kept");
    assert_eq!(fs::read_to_string(k.src(kept.as_ref())).expect("read"), "old\nappended\n");
    assert_eq!(k.journals(), 0, "the journal outlived its cleanup");
}

#[test]
fn a_killed_deletion_with_late_changes_is_put_back() {
    let k = Killed::new();
    let journal = k.journal(k.root.path());
    let doomed = journal::temp_name();
    journal.swap(Path::new("src"), &doomed, "f.txt".as_ref(), &content_hash("old\n"), "-");
    fs::write(k.src(&doomed), "old\nlate\n").expect("write");
    drop(journal);
    k.unlocked();
    journal::recover_in(k.root.path(), k.state.path());
    assert_eq!(k.names(), vec!["f.txt".to_string()]);
    assert_eq!(fs::read_to_string(k.src("f.txt".as_ref())).expect("read"), "old\nlate\n");
}

#[test]
fn a_running_apply_and_other_projects_are_left_alone() {
    let k = Killed::new();
    let other = tempfile::tempdir().expect("other project");
    fs::create_dir(other.path().join("src")).expect("src");
    let running = k.journal(k.root.path());
    let elsewhere = k.journal(other.path());
    let (mine, theirs) = (journal::temp_name(), journal::temp_name());
    running.temp(Path::new("src"), &mine);
    elsewhere.temp(Path::new("src"), &theirs);
    fs::write(k.src(&mine), "being written").expect("write");
    fs::write(other.path().join("src").join(&theirs), "left by a kill").expect("write");
    drop(elsewhere);
    journal::recover_in(k.root.path(), k.state.path());
    assert!(k.src(&mine).exists(), "a running apply's temporary was removed");
    assert!(other.path().join("src").join(&theirs).exists(), "another project's was removed");
    assert_eq!(k.journals(), 2);
    running.finish();
    k.unlocked();
    journal::recover_in(other.path(), k.state.path());
    assert!(!other.path().join("src").join(&theirs).exists());
    assert_eq!(k.journals(), 0);
}

#[test]
fn recovery_never_follows_a_link() {
    let k = Killed::new();
    let outside = tempfile::tempdir().expect("outside");
    let journal = k.journal(k.root.path());
    let name = journal::temp_name();
    journal.temp(Path::new("src"), &name);
    drop(journal);
    // The directory became a link to a place holding a file of that name.
    fs::remove_dir(k.root.path().join("src")).expect("rmdir");
    std::os::unix::fs::symlink(outside.path(), k.root.path().join("src")).expect("symlink");
    fs::write(outside.path().join(&name), "not tandem's").expect("write");
    k.unlocked();
    journal::recover_in(k.root.path(), k.state.path());
    assert!(outside.path().join(&name).exists(), "removed through a link");
}
