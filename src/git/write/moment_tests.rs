//! Another program acting at each moment of a write: appending, saving over
//! the file, holding it open, swapping in a link, a FIFO or a directory.
//! Whatever it does and whenever, nothing it wrote is lost, nothing is
//! written outside, and the outcome reported is the outcome on disk.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::swap::{AT_MOMENT, Moment};
use super::*;

const ORIGINAL: &str = "one\ntwo\nthree\n";
const NEW: &str = "one\n2\nthree\n";

struct Scene {
    root: tempfile::TempDir,
    outside: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let root = tempfile::tempdir().expect("root");
        let outside = tempfile::tempdir().expect("outside");
        fs::create_dir(root.path().join("src")).expect("src");
        fs::write(root.path().join("src/f.txt"), ORIGINAL).expect("write");
        fs::write(outside.path().join("f.txt"), ORIGINAL).expect("write");
        Scene { root, outside }
    }

    fn file(&self) -> PathBuf {
        self.root.path().join("src/f.txt")
    }

    fn text(&self) -> String {
        fs::read_to_string(self.file()).expect("read")
    }

    fn replace(&self) -> Result<(), WriteError> {
        let journal = Journal::start(self.root.path());
        let place = Place::find(self.root.path(), Path::new("src/f.txt"))?;
        let current = place.open()?.expect("the file");
        place.replace(&journal, &current, NEW, None)
    }

    fn remove(&self) -> Result<(), WriteError> {
        let journal = Journal::start(self.root.path());
        let place = Place::find(self.root.path(), Path::new("src/f.txt"))?;
        let current = place.open()?.expect("the file");
        place.remove(&journal, &current)
    }

    /// Neither temporaries nor kept copies, in the project or outside.
    fn assert_clean(&self) {
        for dir in [self.root.path().join("src"), self.outside.path().to_path_buf()] {
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            let names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            assert!(names.iter().all(|n| !n.contains(".tandem-")), "left in {}: {names:?}", dir.display());
        }
        assert_eq!(fs::read_to_string(self.outside.path().join("f.txt")).expect("outside"), ORIGINAL);
    }
}

/// Without leases, as on systems and file systems that have none: an
/// append from this thread at a moment does not wait on a lease this very
/// thread holds, and the content checks alone must catch it.
fn without_leases() {
    super::lease::DISABLED.with(|d| d.set(true));
}

/// Runs `act` when the write reaches `at` (each time, for every moment
/// listed), for the rest of the test.
fn when(act: impl FnMut(Moment) + 'static) {
    AT_MOMENT.with(|hook| *hook.borrow_mut() = Some(Box::new(act)));
}

fn append(path: &Path, text: &str) {
    let mut file = fs::OpenOptions::new().append(true).open(path).expect("open for append");
    file.write_all(text.as_bytes()).expect("append");
}

/// Replaces the file by a rename, as an editor saves.
fn save_over(path: &Path, text: &str) {
    let staging = path.with_extension("saving");
    fs::write(&staging, text).expect("write");
    fs::rename(&staging, path).expect("rename");
}

#[test]
fn an_append_right_before_the_rename_puts_the_file_back() {
    without_leases();
    let s = Scene::new();
    let file = s.file();
    when(move |m| {
        if m == Moment::Checked {
            append(&file, "late\n");
        }
    });
    assert!(matches!(s.replace(), Err(WriteError::Changed(_))));
    assert_eq!(s.text(), format!("{ORIGINAL}late\n"));
    s.assert_clean();
}

#[test]
fn an_append_right_after_the_rename_lands_on_the_new_text() {
    without_leases();
    let s = Scene::new();
    let file = s.file();
    when(move |m| {
        if m == Moment::Swapped {
            append(&file, "late\n");
        }
    });
    s.replace().expect("written");
    assert_eq!(s.text(), format!("{NEW}late\n"));
    s.assert_clean();
}

#[test]
fn appends_to_the_old_and_the_new_file_are_all_kept() {
    without_leases();
    let s = Scene::new();
    let file = s.file();
    when(move |m| match m {
        Moment::Checked => append(&file, "to the old\n"),
        Moment::Swapped => append(&file, "to the new\n"),
        Moment::TempWritten => {}
    });
    assert!(matches!(s.replace(), Err(WriteError::Changed(_))));
    assert_eq!(s.text(), format!("{ORIGINAL}to the old\nto the new\n"));
    s.assert_clean();
}

#[test]
fn a_writer_opening_the_file_in_the_last_moment_loses_nothing() {
    for _ in 0..5 {
        let s = Scene::new();
        let file = s.file();
        let writer = std::rc::Rc::new(std::cell::RefCell::new(None));
        let handle = writer.clone();
        when(move |m| {
            if m == Moment::Checked {
                let file = file.clone();
                // Its open waits on the lease until tandem lets go, then
                // writes to whichever file the path led it to.
                *handle.borrow_mut() = Some(std::thread::spawn(move || append(&file, "late\n")));
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        });
        let result = s.replace();
        if let Some(thread) = writer.borrow_mut().take() {
            thread.join().expect("writer");
        }
        let want = if result.is_ok() { format!("{NEW}late\n") } else { format!("{ORIGINAL}late\n") };
        assert_eq!(s.text(), want, "{result:?}");
        s.assert_clean();
    }
}

/// A process started while tandem has the temporary file open for writing
/// holds a copy of that descriptor until it runs its program, as any process
/// another thread starts in that moment does: here the copy stays open for
/// the child's whole short life, as its output. That is tandem's own write,
/// about to be let go, not another program's: the file is written.
#[test]
fn a_process_holding_the_temporary_file_for_a_moment_stops_nothing() {
    let s = Scene::new();
    let dir = s.root.path().join("src");
    let child = std::rc::Rc::new(std::cell::RefCell::new(None));
    let handle = child.clone();
    when(move |m| {
        if m == Moment::TempWritten {
            let temp = fs::read_dir(&dir)
                .expect("ls")
                .flatten()
                .map(|e| e.path())
                .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".tandem-write-")))
                .expect("the temporary file");
            let held = fs::OpenOptions::new().append(true).open(temp).expect("open for append");
            *handle.borrow_mut() = Some(std::process::Command::new("true").stdout(held).spawn().expect("spawn"));
        }
    });
    let result = s.replace();
    child.borrow_mut().take().expect("started").wait().expect("wait");
    result.expect("written");
    assert_eq!(s.text(), NEW);
    s.assert_clean();
}

#[test]
fn a_file_held_open_for_writing_is_busy() {
    let s = Scene::new();
    let mut held = fs::OpenOptions::new().append(true).open(s.file()).expect("open");
    let result = s.replace();
    if cfg!(target_os = "linux") {
        assert!(matches!(result, Err(WriteError::Busy(_))), "{result:?}");
        held.write_all(b"still mine\n").expect("write");
        assert_eq!(s.text(), format!("{ORIGINAL}still mine\n"));
    }
    s.assert_clean();
}

#[test]
fn a_link_swapped_in_for_the_file_before_the_rename_is_put_back() {
    let s = Scene::new();
    let (file, target) = (s.file(), s.outside.path().join("f.txt"));
    when(move |m| {
        if m == Moment::Checked {
            let staging = file.with_extension("link");
            std::os::unix::fs::symlink(&target, &staging).expect("symlink");
            fs::rename(&staging, &file).expect("swap in the link");
        }
    });
    assert!(matches!(s.replace(), Err(WriteError::Changed(_))));
    assert!(fs::symlink_metadata(s.file()).expect("meta").file_type().is_symlink());
    s.assert_clean();
}

#[test]
fn a_directory_swapped_for_a_link_before_the_rename_is_refused() {
    for at in [Moment::TempWritten, Moment::Checked, Moment::Swapped] {
        let s = Scene::new();
        let (root, outside) = (s.root.path().to_path_buf(), s.outside.path().to_path_buf());
        when(move |m| {
            if m == at {
                fs::rename(root.join("src"), root.join("src.real")).expect("aside");
                std::os::unix::fs::symlink(&outside, root.join("src")).expect("symlink");
            }
        });
        let result = s.replace();
        assert!(matches!(result, Err(WriteError::Link(_) | WriteError::Moved(_))), "{at:?}: {result:?}");
        let real = s.root.path().join("src.real");
        assert_eq!(fs::read_to_string(real.join("f.txt")).expect("real"), ORIGINAL);
        let names: Vec<_> = fs::read_dir(&real).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f.txt")], "{at:?}");
        s.assert_clean();
    }
}

#[test]
fn an_editor_save_before_or_after_the_rename_is_what_stays() {
    for at in [Moment::TempWritten, Moment::Checked, Moment::Swapped] {
        let s = Scene::new();
        let file = s.file();
        when(move |m| {
            if m == at {
                save_over(&file, "saved\n");
            }
        });
        assert!(matches!(s.replace(), Err(WriteError::Changed(_))), "{at:?}");
        assert_eq!(s.text(), "saved\n", "{at:?}");
        s.assert_clean();
    }
}

#[test]
fn a_fifo_swapped_in_before_the_rename_is_put_back() {
    let s = Scene::new();
    let file = s.file();
    when(move |m| {
        if m == Moment::Checked {
            fs::remove_file(&file).expect("rm");
            nix::unistd::mkfifo(&file, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
        }
    });
    assert!(matches!(s.replace(), Err(WriteError::Changed(_))));
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fs::symlink_metadata(s.file()).expect("meta").file_type()));
    s.assert_clean();
}

#[test]
fn a_deletion_is_put_back_when_the_file_was_appended_to_in_the_last_moment() {
    without_leases();
    let s = Scene::new();
    let file = s.file();
    when(move |m| {
        if m == Moment::Checked {
            append(&file, "late\n");
        }
    });
    assert!(matches!(s.remove(), Err(WriteError::Changed(_))));
    assert_eq!(s.text(), format!("{ORIGINAL}late\n"));
    s.assert_clean();
}

#[test]
fn a_deletion_goes_through_when_nothing_interferes() {
    let s = Scene::new();
    s.remove().expect("deleted");
    assert!(!s.file().exists());
    s.assert_clean();
}

#[test]
fn a_new_file_never_replaces_one_that_appears_meanwhile() {
    for at in [Moment::TempWritten, Moment::Checked] {
        let s = Scene::new();
        let theirs = s.root.path().join("src/new.txt");
        let path = theirs.clone();
        when(move |m| {
            if m == at {
                fs::write(&path, "theirs\n").expect("write");
            }
        });
        let journal = Journal::start(s.root.path());
        let place = Place::find(s.root.path(), Path::new("src/new.txt")).expect("place");
        assert!(matches!(place.create(&journal, "mine\n", None), Err(WriteError::Exists(_))), "{at:?}");
        assert_eq!(fs::read_to_string(&theirs).expect("read"), "theirs\n");
        s.assert_clean();
    }
}

#[test]
fn read_only_and_hard_linked_files_are_refused_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scene::new();
    fs::set_permissions(s.file(), fs::Permissions::from_mode(0o444)).expect("chmod");
    let refused = s.replace().expect_err("read-only");
    assert!(matches!(refused, WriteError::ReadOnly(_)), "{refused}");
    assert!(refused.to_string().contains("chmod u+w src/f.txt"), "{refused}");
    assert!(matches!(s.remove(), Err(WriteError::ReadOnly(_))));
    fs::set_permissions(s.file(), fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::hard_link(s.file(), s.outside.path().join("other")).expect("link");
    assert!(matches!(s.replace(), Err(WriteError::HardLinks(_, 2))));
    assert_eq!(s.text(), ORIGINAL);
    s.assert_clean();
}

#[test]
fn special_files_are_refused_without_being_opened() {
    let s = Scene::new();
    fs::remove_file(s.file()).expect("rm");
    nix::unistd::mkfifo(&s.file(), nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
    // A FIFO opened for reading would wait here for a writer forever.
    let place = Place::find(s.root.path(), Path::new("src/f.txt")).expect("place");
    assert!(matches!(place.open(), Err(WriteError::NotAFile(_, "a FIFO (named pipe)"))));
    fs::remove_file(s.file()).expect("rm");
    let _socket = std::os::unix::net::UnixListener::bind(s.file()).expect("bind");
    assert!(matches!(place.open(), Err(WriteError::NotAFile(_, "a socket"))));
}
