//! Another program appends to a file while tandem applies an edit to it.
//! Whatever the moment, every appended line is in the file afterwards, in
//! order, and the edit is either all there (reported written) or not there
//! at all (reported refused).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::fixture::{Repo, all, change, expect, lines};
use crate::harness::Family;
use tandem::git::{FileOutcome, apply};

const LOG: &str = "log.txt";

fn base() -> String {
    format!("# log\n{}", lines(10))
}

fn edited(text: &str) -> String {
    text.replacen("line 2\n", "line two\n", 1)
}

#[derive(Clone, Copy, Debug)]
pub enum Appender {
    /// A thread that opens, appends one line and closes, in bursts.
    Thread,
    /// A shell loop, `echo N >> log.txt`, as fast as it goes.
    Shell,
    /// A thread that keeps the file open and appends through it, as a
    /// logger does.
    HeldOpen,
}

enum Running {
    Thread { stop: Arc<AtomicBool>, written: Arc<AtomicU64>, handle: std::thread::JoinHandle<()> },
    Process(Child),
}

impl Running {
    fn start(kind: Appender, path: PathBuf) -> Running {
        match kind {
            Appender::Shell => {
                let child = Command::new("sh")
                    .arg("-c")
                    .arg("i=0; while :; do echo \"n$i\" >> \"$1\"; i=$((i+1)); done")
                    .arg("sh")
                    .arg(&path)
                    .spawn()
                    .expect("sh");
                Running::Process(child)
            }
            Appender::Thread | Appender::HeldOpen => {
                let (stop, written) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
                let (flag, count) = (stop.clone(), written.clone());
                let held = matches!(kind, Appender::HeldOpen);
                let handle = std::thread::spawn(move || append_lines(&path, &flag, &count, held));
                Running::Thread { stop, written, handle }
            }
        }
    }

    /// Lets the appender write some more lines: one written to a file that
    /// is no longer the one at the path shows as a gap.
    fn some_more(&self, repo: &Repo) {
        match self {
            Running::Thread { written, .. } => {
                let mark = written.load(Ordering::Relaxed);
                while written.load(Ordering::Relaxed) < mark + 16 {
                    std::thread::yield_now();
                }
            }
            Running::Process(_) => {
                let mark = repo.read(LOG).map_or(0, |t| t.len());
                while repo.read(LOG).is_none_or(|t| t.len() < mark + 64) {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// Stops the appender; a thread says how many lines it wrote.
    fn stop(self) -> Option<u64> {
        match self {
            Running::Thread { stop, written, handle } => {
                stop.store(true, Ordering::Relaxed);
                let _ = handle.join();
                Some(written.load(Ordering::Relaxed))
            }
            Running::Process(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }
}

fn append_lines(path: &Path, stop: &AtomicBool, written: &AtomicU64, held: bool) {
    let open = || std::fs::OpenOptions::new().append(true).open(path).expect("open for append");
    let mut held = held.then(open);
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // Bursts and pauses, so some applies land in a quiet moment.
        for _ in 0..fastrand::u64(1..40) {
            let line = format!("n{n}\n");
            match held.as_mut() {
                Some(file) => file.write_all(line.as_bytes()),
                None => open().write_all(line.as_bytes()),
            }
            .expect("append");
            n += 1;
            written.store(n, Ordering::Relaxed);
        }
        if fastrand::bool() {
            std::thread::sleep(std::time::Duration::from_micros(fastrand::u64(0..1500)));
        }
    }
}

/// The appended lines `n0`, `n1`, … must all be there, once each, in order.
fn check_lines(text: &str) -> Result<usize, String> {
    let numbers: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix('n'))
        .map(|n| n.parse().map_err(|_| format!("a torn line: n{n}")))
        .collect::<Result<_, _>>()?;
    for (i, n) in numbers.iter().enumerate() {
        if *n != i as u64 {
            return Err(format!("appended line n{i} is missing or out of place (found n{n}); {} lines", numbers.len()));
        }
    }
    Ok(numbers.len())
}

fn check_trial(repo: &Repo, outcome: &FileOutcome, written: Option<u64>) -> Result<(), String> {
    let text = repo.read(LOG).ok_or("the log is gone")?;
    let found = check_lines(&text)?;
    if let Some(written) = written {
        expect(found as u64 == written, || format!("{written} lines appended, {found} in the file"))?;
    }
    let head: String = text.lines().take(11).map(|l| format!("{l}\n")).collect();
    let want = if outcome.written { edited(&base()) } else { base() };
    expect(head == want, || format!("the edited part is {head:?} for {outcome:?}"))?;
    let staged = if outcome.staged { vec![(LOG, Some(edited(&base())))] } else { vec![] };
    let staged: Vec<(&str, Option<&str>)> = staged.iter().map(|(p, t)| (*p, t.as_deref())).collect();
    repo.expect_staged(&staged)?;
    repo.expect_no_temporaries()
}

pub fn trials(family: &mut Family, kind: Appender, trials: usize) {
    let repo = Repo::new(&[(LOG, &base())]);
    for trial in 0..trials {
        family.check(format!("{kind:?} appender, trial {trial}"), || {
            // Each trial starts from the committed file, a new one.
            let _ = std::fs::remove_file(repo.path(LOG));
            repo.write(LOG, &base());
            repo.reset_index();
            let running = Running::start(kind, repo.path(LOG));
            // The appender is under way before the apply reads the file.
            while repo.read(LOG).is_none_or(|t| !t.contains("n3\n")) {
                std::thread::yield_now();
            }
            let report = apply(repo.root(), &[all(change(LOG, Some(&base()), Some(&edited(&base())), None))]);
            running.some_more(&repo);
            let written = running.stop();
            check_trial(&repo, &report.files[0], written)
        });
    }
}
