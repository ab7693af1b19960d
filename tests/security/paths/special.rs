//! Family "special files": FIFOs, sockets and devices in the repository
//! must be refused by every tool and skipped by the index, its walk and
//! its watcher, promptly: opening a FIFO blocks until a writer comes, and
//! `/dev/zero` never ends. Every call runs under a watchdog, so a hang
//! fails its case instead of hanging the suite.

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use serde_json::{Value, json};
use tandem::index::{Index, IndexOptions};

use super::kit::{self, Tools};
use crate::harness::Family;

/// Each tool that opens a file by path, with `path` in its arguments.
fn calls(path: &str) -> Vec<(&'static str, &'static str, Value)> {
    let patch = |body: String| json!({ "patch": format!("*** Begin Patch\n{body}*** End Patch") });
    vec![
        ("read_file", "read_file", json!({"path": path})),
        ("list_files", "list_files", json!({"path": path})),
        ("grep", "grep", json!({"pattern": "x", "path": path})),
        ("edit_file", "edit_file", json!({"path": path, "old_text": "x", "new_text": "y"})),
        ("write_file", "write_file", json!({"path": path, "content": "y\n"})),
        ("apply_patch update", "apply_patch", patch(format!("*** Update File: {path}\n@@\n-x\n+y\n"))),
        ("apply_patch delete", "apply_patch", patch(format!("*** Delete File: {path}\n"))),
        (
            "apply_patch move",
            "apply_patch",
            patch(format!(
                "*** Update File: src/lib.rs\n*** Move to: {path}\n@@\n-pub fn inside_fn() {{}}\n+pub fn f() {{}}\n"
            )),
        ),
    ]
}

pub fn family() -> Family {
    let mut family = Family::new("special files");
    tool_cases(&mut family);
    ignore_file_cases(&mut family);
    read_only_cases(&mut family);
    watcher_case(&mut family);
    swap_cases(&mut family);
    family
}

/// Each special file, asked for by name through each tool.
fn tool_cases(family: &mut Family) {
    let site = kit::site();
    let root = &site.root;
    kit::mkfifo(&root.join("pipe.rs"));
    kit::mkfifo(&root.join("src/pipe.txt"));
    let _socket = UnixListener::bind(root.join("sock.rs")).expect("bind");
    std::os::unix::fs::symlink("/dev/null", root.join("null.rs")).expect("symlink");
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.rs")).expect("symlink");
    std::os::unix::fs::symlink("pipe.rs", root.join("to_pipe.rs")).expect("symlink");
    let tools = Tools::new(root);
    for path in ["pipe.rs", "src/pipe.txt", "./pipe.rs", "sock.rs", "null.rs", "zero.rs", "to_pipe.rs"] {
        for (label, tool, args) in calls(path) {
            family.check(format!("{label} {path}"), || kit::clear_refusal(&tools.call(tool, args)?, path));
        }
    }
    // Walking past them: listed or searched around, never opened.
    family.check("list_files of a repository with special files", || {
        let out = tools.call("list_files", json!({}))?;
        if out.content.contains("pipe") || out.content.contains("sock") { Err(out.content) } else { Ok(()) }
    });
    family.check("grep of a repository with special files", || tools.call("grep", json!({"pattern": "x"})).map(drop));
    family.check("index build over special files", || {
        tools.build_index(root)?;
        let index = tools.index.read().map_err(|_| "poisoned")?;
        let files: Vec<_> = index.as_ref().map(|i| i.files().map(Path::to_path_buf).collect()).unwrap_or_default();
        if files.iter().any(|f| !f.starts_with("src")) {
            return Err(format!("indexed {files:?}"));
        }
        Ok(())
    });
    for path in ["pipe.rs", "zero.rs", "sock.rs"] {
        family.check(format!("outline {path}"), || {
            kit::clear_refusal(&tools.call("outline", json!({"path": path}))?, path)
        });
    }
    kit::release_fifos(root);
}

/// FIFOs named as ignore files: the walks read those themselves.
fn ignore_file_cases(family: &mut Family) {
    for name in [".gitignore", "src/.gitignore", ".ignore", "src/deep/.ignore", ".tandemignore", ".git/info/exclude"] {
        let site = kit::site();
        let root = site.root.clone();
        kit::write(&root.join("src/deep/a.rs"), "pub fn a() {}\n");
        kit::mkfifo(&root.join(name));
        let tools = Tools::new(&root);
        family.check(format!("list_files with a FIFO {name}"), || tools.call("list_files", json!({})).map(drop));
        family.check(format!("grep with a FIFO {name}"), || tools.call("grep", json!({"pattern": "fn"})).map(drop));
        family.check(format!("list_files of src with a FIFO {name}"), || {
            tools.call("list_files", json!({"path": "src/deep"})).map(drop)
        });
        family.check(format!("index build with a FIFO {name}"), || tools.build_index(&root));
        let opts = IndexOptions::new(&root);
        family.check(format!("index update with a FIFO {name}"), move || {
            let mut index =
                kit::watchdog(move || Index::build(&opts, &|_, _| {}).map(|(i, _)| i))?.map_err(|e| e.to_string())?;
            kit::write(&root.join("src/deep/b.rs"), "pub fn b() {}\n");
            let changed = vec![root.join("src/deep/b.rs")];
            let index = kit::watchdog(move || {
                index.update(&changed);
                index
            })?;
            if index.files().any(|f| f == Path::new("src/deep/b.rs")) { Ok(()) } else { Err("b.rs not indexed".into()) }
        });
        kit::release_fifos(&site.root);
    }
}

/// A read-only file: the edit tools say so up front.
fn read_only_cases(family: &mut Family) {
    use std::os::unix::fs::PermissionsExt;
    let site = kit::site();
    let ro = site.root.join("src/ro.rs");
    kit::write(&ro, "x\n");
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let tools = Tools::new(&site.root);
    for (label, tool, args) in calls("src/ro.rs").into_iter().skip(3) {
        family.check(format!("{label} of a read-only file"), || {
            let out = tools.call(tool, args)?;
            let _ = tools.proposals.take();
            kit::clear_refusal(&out, "src/ro.rs")?;
            if out.content.contains("read-only") { Ok(()) } else { Err(format!("does not say why: {}", out.content)) }
        });
    }
}

/// The watcher reports a new FIFO; the index's update skips it.
fn watcher_case(family: &mut Family) {
    let site = kit::site();
    let root = site.root.clone();
    kit::mkfifo(&root.join(".gitignore"));
    family.check("watcher over a FIFO .gitignore, then a new FIFO", || {
        let (tx, rx) = mpsc::channel();
        let watch_root = root.clone();
        let handle = kit::watchdog(move || {
            tandem::index::watch(&watch_root, move |paths| {
                let _ = tx.send(paths);
            })
            .map_err(|e| e.to_string())
        })??;
        let opts = IndexOptions::new(&root);
        let mut index =
            kit::watchdog(move || Index::build(&opts, &|_, _| {}).map(|(i, _)| i))?.map_err(|e| e.to_string())?;
        kit::mkfifo(&root.join("src/new.rs"));
        let mut batch = Vec::new();
        while !batch.contains(&root.join("src/new.rs")) {
            batch.extend(rx.recv_timeout(kit::HANG).map_err(|_| "the watcher never reported src/new.rs")?);
        }
        drop(handle);
        let index = kit::watchdog(move || {
            index.update(&batch);
            index
        })?;
        if index.files().any(|f| f.ends_with("new.rs")) { Err("the FIFO was indexed".into()) } else { Ok(()) }
    });
    kit::release_fifos(&site.root);
}

/// A regular file swapped for a FIFO and back, again and again, while the
/// tools read it: the check before the open and the open see different
/// files. Each call must return; none may block on the FIFO.
fn swap_cases(family: &mut Family) {
    const ROUNDS: usize = 300;
    let site = kit::site();
    let root = site.root.clone();
    kit::write(&root.join("src/x.rs"), "pub fn x() {}\n");
    kit::mkfifo(&root.join("fifo.src"));
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (root, stop) = (root.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::hard_link(root.join("fifo.src"), root.join("fifo.tmp"));
                let _ = std::fs::rename(root.join("fifo.tmp"), root.join("src/x.rs"));
                let _ = std::fs::write(root.join("file.tmp"), "pub fn x() {}\n");
                let _ = std::fs::rename(root.join("file.tmp"), root.join("src/x.rs"));
            }
        })
    };
    let tools = Tools::new(&root);
    let cases: Vec<(&str, &str, Value)> = vec![
        ("read_file", "read_file", json!({"path": "src/x.rs"})),
        ("grep", "grep", json!({"pattern": "fn", "path": "src"})),
        ("edit_file", "edit_file", json!({"path": "src/x.rs", "old_text": "x()", "new_text": "y()"})),
        ("write_file", "write_file", json!({"path": "src/x.rs", "content": "y\n"})),
    ];
    for (label, tool, args) in cases {
        family.check(format!("{label} of a file swapped for a FIFO, {ROUNDS} times"), || {
            for _ in 0..ROUNDS {
                tools.call(tool, args.clone())?;
                let _ = tools.proposals.take();
            }
            Ok(())
        });
        kit::release_fifos(&root);
    }
    family.check("index build over a file swapped for a FIFO, 30 times", || {
        for _ in 0..30 {
            tools.build_index(&root)?;
        }
        Ok(())
    });
    stop.store(true, Ordering::Relaxed);
    kit::release_fifos(&root);
    let _ = swapper.join();
}
