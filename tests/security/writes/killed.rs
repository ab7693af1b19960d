//! `tandem exec` killed with SIGKILL while it writes approved files, at
//! varied moments, again and again: each file holds its old or its new
//! text, never a mix, and the next start removes every temporary file the
//! killed run left, and nothing else.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::fixture::{expect, temporaries};
use crate::harness::Family;

const FILES: usize = 24;

fn content(round: usize, file: usize) -> String {
    let line = format!("round {round} file {file}: the quick brown fox jumps over the lazy dog\n");
    line.repeat(64 * 1024 / line.len())
}

/// One turn that rewrites every file, then an answer.
fn script(round: usize) -> String {
    let calls: Vec<String> = (0..FILES)
        .map(|i| {
            let args = serde_json::json!({ "path": format!("data/f{i}.txt"), "content": content(round, i) });
            format!("  {{ name = \"write_file\", arguments = {} }}", toml_string(&args.to_string()))
        })
        .collect();
    format!(
        "[[turns]]\ntext = \"Rewriting.\"\ntool_calls = [\n{}\n]\n\n[[turns]]\ntext = \"Done.\"\n",
        calls.join(",\n")
    )
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("json string")
}

struct Fixture {
    repo: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let repo = tempfile::tempdir().expect("repo");
        std::fs::create_dir_all(repo.path().join("data")).expect("data");
        for i in 0..FILES {
            std::fs::write(repo.path().join(format!("data/f{i}.txt")), content(0, i)).expect("write");
        }
        // A file of the user's whose name looks like a temporary.
        std::fs::write(repo.path().join("data/.tandem-write-1-1-00000000.tmp"), "mine\n").expect("write");
        super::common::commit_all(repo.path());
        Fixture { repo, home: tempfile::tempdir().expect("home") }
    }

    fn tandem(&self, script: &str, name: &str) -> Command {
        let file = self.home.path().join(name);
        std::fs::write(&file, script).expect("script");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.args(["exec", "--policy", "auto-edit", "--provider"])
            .arg(format!("script:{}", file.display()))
            .arg("rewrite the data files")
            .current_dir(self.repo.path());
        crate::harness::isolate(&mut cmd, self.home.path())
            .env("TANDEM_MODEL_PROFILE", "openai")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    fn data(&self) -> PathBuf {
        self.repo.path().join("data")
    }

    fn read(&self, i: usize) -> Option<String> {
        std::fs::read_to_string(self.data().join(format!("f{i}.txt"))).ok()
    }
}

/// Waits until the run has a temporary file in `data/` that was not there
/// before (it is writing), or has ended.
fn wait_until_writing(child: &mut Child, data: &Path, before: &[PathBuf]) -> bool {
    loop {
        let writing = temporaries(data).iter().any(|p| !before.contains(p));
        if writing {
            return true;
        }
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        std::thread::yield_now();
    }
}

fn is_users(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == ".tandem-write-1-1-00000000.tmp")
}

pub fn killed(family: &mut Family, rounds: usize) {
    let f = Fixture::new();
    let mut current: Vec<String> = (0..FILES).map(|i| content(0, i)).collect();
    for round in 1..=rounds {
        let before = temporaries(&f.data());
        let mut child = f.tandem(&script(round), "script.toml").spawn().expect("spawn tandem");
        let caught = wait_until_writing(&mut child, &f.data(), &before);
        // Varied moments within the writing: at once, or a little later.
        std::thread::sleep(Duration::from_micros([0, 300, 1_000, 3_000, 10_000, 30_000][round % 6]));
        let _ =
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        let mut mixed = Vec::new();
        for (i, old) in current.iter_mut().enumerate() {
            let new = content(round, i);
            match f.read(i) {
                Some(t) if t == *old => {}
                Some(t) if t == new => *old = t,
                other => mixed.push(format!("f{i}.txt: {:?}", other.map(|t| t.chars().take(40).collect::<String>()))),
            }
        }
        family.check(format!("killed during apply, round {round}: old or new text, never a mix"), || {
            expect(caught, || "the run ended before it wrote anything; nothing was killed mid-apply".into())?;
            expect(mixed.is_empty(), || format!("files neither old nor new: {mixed:?}"))
        });
        // The next start: a run that only answers.
        let status = f.tandem("[[turns]]\ntext = \"Nothing to do.\"\n", "quiet.toml").status().expect("restart");
        family.check(format!("killed during apply, round {round}: the next start leaves no temporary"), || {
            expect(status.success(), || format!("the next run failed: {status}"))?;
            let left: Vec<_> = temporaries(f.repo.path()).into_iter().filter(|p| !is_users(p)).collect();
            expect(left.is_empty(), || format!("temporaries left: {left:?}"))?;
            for (i, text) in current.iter().enumerate() {
                expect(f.read(i).as_deref() == Some(text.as_str()), || format!("f{i}.txt changed at the next start"))?;
            }
            let users = std::fs::read_to_string(f.data().join(".tandem-write-1-1-00000000.tmp"));
            expect(users.is_ok_and(|t| t == "mine\n"), || "the user's own file was removed".into())
        });
    }
}
