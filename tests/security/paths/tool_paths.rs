//! Family "tool paths": every tool that takes a path, against every
//! spelling of a path that leaves the repository, reaches git's own files,
//! or cannot be shown plainly.
//!
//! Spellings come from public lists of path traversal payloads (OWASP's
//! path traversal page, PayloadsAllTheThings "Directory Traversal": `..`
//! in every position, `%2e%2e%2f`, double encoding, `..%c0%af`, `....//`,
//! `..;/`, backslashes), from git's own refusals of `.git` spellings
//! (`is_ntfs_dotgit`/`is_hfs_dotgit`, CVE-2014-9390, CVE-2019-1352), from
//! Trojan Source (CVE-2021-42574: bidirectional controls in names), and
//! from codex-rs's apply-patch and sandbox tests (absolute paths, `..` in
//! patch headers and in `*** Move to`).

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;

use serde_json::{Value, json};

use super::kit::{self, SECRET, SECRET_FN, Site, Tools};
use crate::harness::Family;

/// What must happen to an attack.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// Refused with a clear message by every tool.
    Refused,
    /// A literal name inside the repository (`%2e%2e` is not `..` to a file
    /// system): refused, or its effect stays inside.
    Contained,
}

/// The links and files the attacks use, beside the plain repository.
fn lay_out(site: &Site) {
    let (root, out) = (&site.root, &site.outside);
    let out_name = out.file_name().expect("name").to_string_lossy().into_owned();
    symlink(out.join("secret.txt"), root.join("link_abs")).expect("symlink");
    symlink(format!("../{out_name}/secret.txt"), root.join("link_rel")).expect("symlink");
    symlink(out, root.join("dir_abs")).expect("symlink");
    symlink(format!("../{out_name}"), root.join("dir_rel")).expect("symlink");
    symlink(root.join("chain2"), root.join("chain1")).expect("symlink");
    symlink("link_abs", root.join("chain2")).expect("symlink");
    symlink("loop_b", root.join("loop_a")).expect("symlink");
    symlink("loop_a", root.join("loop_b")).expect("symlink");
    symlink(root.join(".git"), root.join("git_link")).expect("symlink");
    symlink(".git/config", root.join("git_cfg")).expect("symlink");
    symlink("/proc/self/environ", root.join("environ")).expect("symlink");
    std::fs::hard_link(out.join("secret.txt"), root.join("hard")).expect("hard link");
    std::fs::hard_link(out.join("secret.rs"), root.join("hard.rs")).expect("hard link");
    symlink(out.join("secret.rs"), root.join("link.rs")).expect("symlink");
    // A submodule's `.git` file pointing outside.
    kit::write(&root.join("sub/.git"), &format!("gitdir: {}/fakegit\n", out.display()));
    kit::write(&out.join("fakegit/config"), &format!("# {SECRET}\n"));
    // A name that is not UTF-8: the model can only send its lossy form.
    let non_utf8 = root.join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt"));
    symlink(out.join("secret.txt"), non_utf8).expect("symlink");
}

fn attacks(site: &Site) -> Vec<(String, String, Expect)> {
    use Expect::{Contained, Refused};
    let out = site.outside.display().to_string();
    let out_name = site.outside.file_name().expect("name").to_string_lossy().into_owned();
    let root = site.root.display().to_string();
    let mut list: Vec<(String, Expect)> = vec![
        // `..` in every position.
        ("..".into(), Refused),
        ("../".into(), Refused),
        ("../secret.txt".into(), Refused),
        (format!("../{out_name}/secret.txt"), Refused),
        (format!("src/../../{out_name}/secret.txt"), Refused),
        (format!("a/../../{out_name}/secret.txt"), Refused),
        (format!("./../{out_name}/secret.txt"), Refused),
        (format!("src/./../..//{out_name}/secret.txt"), Refused),
        (format!("src/lib.rs/../../../{out_name}/secret.txt"), Refused),
        ("../../../../../../../../etc/passwd".into(), Refused),
        ("..//..//..//..//etc/passwd".into(), Refused),
        (format!("src/{}{out_name}/secret.txt", "../".repeat(40)), Refused),
        // Absolute paths outside, and around the root.
        (format!("{out}/secret.txt"), Refused),
        (format!("{out}/"), Refused),
        ("/etc/passwd".into(), Refused),
        ("//etc/passwd".into(), Refused),
        ("/".into(), Refused),
        (format!("{root}/../{out_name}/secret.txt"), Refused),
        (format!("{root}/.git/config"), Refused),
        (format!("{root}/dir_abs/secret.txt"), Refused),
        ("/proc/self/environ".into(), Refused),
        ("/proc/self/root/etc/passwd".into(), Refused),
        (format!("/proc/self/root{out}/secret.txt"), Refused),
        ("/dev/zero".into(), Refused),
        // What a shell would expand, and tandem does not.
        ("~".into(), Refused),
        ("~/".into(), Refused),
        ("~/.ssh/id_rsa".into(), Refused),
        ("~root/.bashrc".into(), Refused),
        ("$HOME/.bashrc".into(), Refused),
        ("${HOME}/.bashrc".into(), Refused),
        // Encodings that only a URL decoder would turn into `..`.
        ("%2e%2e/%2e%2e/secret.txt".into(), Contained),
        ("%2e%2e%2f%2e%2e%2fsecret.txt".into(), Contained),
        ("%252e%252e%252fsecret.txt".into(), Contained),
        ("..%2f..%2fsecret.txt".into(), Contained),
        ("..%c0%af..%c0%afsecret.txt".into(), Contained),
        ("....//....//secret.txt".into(), Contained),
        ("..;/secret.txt".into(), Contained),
        ("..\\..\\secret.txt".into(), Refused),
        ("src\\..\\..\\secret.txt".into(), Refused),
        // Unicode lookalikes of `.` and `/`, and invisible characters.
        ("．．／．．／secret.txt".into(), Contained),
        ("‥/‥/secret.txt".into(), Contained),
        ("..∕..∕secret.txt".into(), Contained),
        (".\u{200b}./secret.txt".into(), Refused),
        ("src/lib\u{202e}sr.txt".into(), Refused),
        ("\u{feff}../secret.txt".into(), Refused),
        // Symbolic links: file, directory, relative and absolute targets,
        // chains, loops, into git's directory, to special places.
        ("link_abs".into(), Refused),
        ("link_rel".into(), Refused),
        ("./link_abs".into(), Refused),
        ("dir_abs/secret.txt".into(), Refused),
        ("dir_rel/secret.txt".into(), Refused),
        ("dir_abs/new_file.txt".into(), Refused),
        ("dir_abs".into(), Refused),
        ("dir_rel/".into(), Refused),
        ("chain1".into(), Refused),
        ("chain2".into(), Refused),
        ("loop_a".into(), Refused),
        ("loop_a/x".into(), Refused),
        ("git_link/config".into(), Refused),
        ("git_link/hooks/pre-commit".into(), Refused),
        ("git_cfg".into(), Refused),
        ("environ".into(), Refused),
        // Git's own files, spelt every way git itself refuses.
        (".git".into(), Refused),
        (".git/".into(), Refused),
        (".git/config".into(), Refused),
        ("./.git/config".into(), Refused),
        ("a/../.git/hooks/pre-commit".into(), Refused),
        ("src/../.git/config".into(), Refused),
        (".GIT/config".into(), Refused),
        (".Git/HEAD".into(), Refused),
        (".git./config".into(), Refused),
        (".git /config".into(), Refused),
        (".git. ./config".into(), Refused),
        ("git~1/config".into(), Refused),
        ("GIT~1/hooks/pre-commit".into(), Refused),
        (".git::$INDEX_ALLOCATION/config".into(), Refused),
        (".g\u{200c}it/config".into(), Refused),
        ("sub/.git".into(), Refused),
        ("sub/.git/config".into(), Refused),
        (".git/hooks/pre-commit".into(), Refused),
        // Hard links to a file outside.
        ("hard".into(), Refused),
        ("./hard".into(), Refused),
        // NUL, line breaks, control characters.
        ("src/lib.rs\0".into(), Refused),
        ("\0".into(), Refused),
        (".git\0".into(), Refused),
        ("..\0/secret.txt".into(), Refused),
        ("src/lib.rs\0../../etc/passwd".into(), Refused),
        ("src/lib.rs\n../../secret.txt".into(), Refused),
        ("a\nb".into(), Refused),
        ("src/lib\r.rs".into(), Refused),
        ("\u{1b}[31mred".into(), Refused),
        ("a\u{7}b".into(), Refused),
        // Long paths and names.
        ("a/".repeat(2500), Refused),
        ("x".repeat(5000), Refused),
        (format!("src/{}", "y".repeat(300)), Refused),
        (format!("{}/z", "é".repeat(200)), Refused),
        // A name that is not UTF-8, asked for by its lossy form.
        ("caf\u{fffd}.txt".into(), Contained),
    ];
    list.dedup_by(|a, b| a.0 == b.0);
    list.into_iter().map(|(p, e)| (format!("{:?}", kit::cut(&p)), p, e)).collect()
}

/// The tools that take a path, each with the arguments that put it there.
/// `refuses`: whether the tool must refuse an attack (`repo_map` takes its
/// files as a hint and ignores what it does not know).
fn tool_calls(path: &str) -> Vec<(&'static str, &'static str, Value, bool)> {
    let patch = |body: String| json!({ "patch": format!("*** Begin Patch\n{body}*** End Patch") });
    vec![
        ("read_file", "read_file", json!({"path": path}), true),
        ("list_files", "list_files", json!({"path": path}), true),
        ("grep", "grep", json!({"pattern": ".", "path": path}), true),
        ("outline", "outline", json!({"path": path}), true),
        ("repo_map", "repo_map", json!({"files": [path], "about": SECRET_FN}), false),
        ("edit_file", "edit_file", json!({"path": path, "old_text": SECRET, "new_text": "pwned"}), true),
        ("write_file", "write_file", json!({"path": path, "content": "pwned\n"}), true),
        ("apply_patch add", "apply_patch", patch(format!("*** Add File: {path}\n+pwned\n")), true),
        ("apply_patch update", "apply_patch", patch(format!("*** Update File: {path}\n@@\n-{SECRET}\n+pwned\n")), true),
        ("apply_patch delete", "apply_patch", patch(format!("*** Delete File: {path}\n")), true),
        (
            "apply_patch move",
            "apply_patch",
            patch(format!(
                "*** Update File: src/lib.rs\n*** Move to: {path}\n@@\n-pub fn inside_fn() {{}}\n+pub fn moved_fn() {{}}\n"
            )),
            true,
        ),
    ]
}

/// Whether one call held: nothing secret in what it returned, nothing
/// changed outside, every proposal inside, and a clear refusal when one is
/// due.
fn held(site: &Site, tools: &Tools, tool: &str, path: &str, args: Value, must_refuse: bool) -> Result<(), String> {
    let before = kit::snapshot(&site.outside);
    let out = tools.call(tool, args)?;
    let proposals = tools.proposals.take();
    if out.content.contains(SECRET) || out.summary.contains(SECRET) {
        return Err(format!("read outside: {}", kit::cut(&out.content)));
    }
    if kit::snapshot(&site.outside) != before {
        return Err("changed a file outside the repository".into());
    }
    for (change, _) in &proposals {
        for rel in std::iter::once(&change.path).chain(change.new_path.as_ref()) {
            if let Some(why) = kit::outside_reason(&site.root, rel) {
                return Err(why);
            }
        }
    }
    if must_refuse { kit::clear_refusal(&out, path) } else { Ok(()) }
}

pub fn family() -> Family {
    let mut family = Family::new("tool paths");
    let site = kit::site();
    lay_out(&site);
    let tools = Tools::new(&site.root);
    if let Err(e) = tools.build_index(&site.root) {
        family.case("building the index", false, e);
        return family;
    }
    for (name, path, expect) in attacks(&site) {
        for (label, tool, args, refuses) in tool_calls(&path) {
            let must_refuse = refuses && expect == Expect::Refused;
            family.check(format!("{label} {name}"), || held(&site, &tools, tool, &path, args, must_refuse));
        }
    }
    index_cases(&mut family, &site, &tools);
    git_file_cases(&mut family);
    println!("    tool paths: {} calls of path-taking tools", family.tried());
    family
}

/// The symbol tools take no path: what they could leak is what the index
/// read through links to outside.
fn index_cases(family: &mut Family, site: &Site, tools: &Tools) {
    let calls = [
        ("find_symbol", json!({"name": SECRET_FN})),
        ("find_symbol fuzzy", json!({"name": "tandem_secret", "fuzzy": true})),
        ("references", json!({"name": SECRET_FN})),
        ("repo_map", json!({"about": SECRET_FN, "tokens": 16384})),
        ("outline hard.rs", json!({"path": "hard.rs"})),
        ("outline link.rs", json!({"path": "link.rs"})),
        ("outline dir_abs/secret.rs", json!({"path": "dir_abs/secret.rs"})),
    ];
    for (label, args) in calls {
        let tool = label.split(' ').next().unwrap_or(label);
        family.check(format!("index: {label}"), || {
            let out = tools.call(tool, args)?;
            // The name asked for may be echoed; a definition or a file of it not.
            let definition = format!("fn {SECRET_FN}");
            let leaked =
                [SECRET, &definition, "hard.rs:", "link.rs:", "secret.rs:"].iter().any(|s| out.content.contains(s));
            if leaked || (label.starts_with("repo_map") && out.content.contains(SECRET_FN)) {
                return Err(format!("the index read outside: {}", kit::cut(&out.content)));
            }
            Ok(())
        });
    }
    for what in ["list_files", "grep"] {
        let args = if what == "grep" { json!({"pattern": "."}) } else { json!({}) };
        family.check(format!("{what} of the whole repository"), || {
            let out = tools.call(what, args)?;
            if out.content.contains(SECRET) || out.content.contains(&site.outside.display().to_string()) {
                return Err(format!("showed what is outside: {}", kit::cut(&out.content)));
            }
            Ok(())
        });
    }
}

/// A checkout whose `.git` is a file pointing at a git directory inside the
/// root under another name (`git init --separate-git-dir=meta`): that
/// directory is git's own as much as `.git` is.
fn git_file_cases(family: &mut Family) {
    let site = kit::site();
    let root = &site.root;
    std::fs::remove_dir_all(root.join(".git")).expect("rm .git");
    git2::Repository::init_bare(root.join("meta")).expect("init");
    kit::write(&root.join(".git"), "gitdir: meta\n");
    kit::write(&root.join("meta/hooks/pre-commit"), &format!("#!/bin/sh\n# {SECRET}\n"));
    let mut config = std::fs::OpenOptions::new().append(true).open(root.join("meta/config")).expect("config");
    std::io::Write::write_all(&mut config, format!("# {SECRET}\n").as_bytes()).expect("write");
    let tools = Tools::new(root);
    if let Err(e) = tools.build_index(root) {
        family.case("gitfile checkout: building the index", false, e);
    }
    for path in ["meta/config", "./meta/hooks/pre-commit", "meta/HEAD", "meta", "src/../meta/config", ".git"] {
        for (label, tool, args, refuses) in tool_calls(path) {
            family.check(format!("gitfile checkout: {label} {path:?}"), || {
                held(&site, &tools, tool, path, args, refuses)
            });
        }
    }
    family.check("gitfile checkout: grep of the whole repository", || {
        let out = tools.call("grep", json!({"pattern": "."}))?;
        if out.content.contains(SECRET) { Err(format!("read git's files: {}", kit::cut(&out.content))) } else { Ok(()) }
    });
}
