//! The source keeps its layers: a module imports only modules of its own
//! layer or below, and no two modules import each other, whether they are
//! top-level modules or siblings deeper down (`git::stage` and
//! `git::undo`). `src/` is read as text: every `crate::` and `super::` path
//! outside comments and string literals counts, in `use` lines and inline
//! alike, test code included for the layers (test code may use its siblings,
//! so it is left out of the cycles).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[path = "layers/lexing.rs"]
mod lexing;

use lexing::{Tok, code_only, tokens};

/// The top-level modules, lowest layer first (the map of the design, with
/// the modules it does not name placed by what they are for). A module
/// may import its own layer and those below it. A name that does not exist
/// yet keeps its place for when it does.
const LAYERS: &[&[&str]] = &[
    // Configuration, keymap and `Action`; text made safe for a terminal.
    &["config", "printable"],
    &["secrets", "tokens", "logging"],
    &["index", "patch", "git", "llm"],
    &["metrics", "session"],
    // The user's check commands run through the tools' command runner.
    &["tools", "checks"],
    &["agent"],
    &["engine"],
    &["view"],
    &["ui"],
    // What every front-end starts from: shared flags, configuration, caches.
    &["launch"],
    &["app", "exec"],
    &["cli"],
];

/// Imports that go up a layer today, each being removed: the importing
/// top-level module and the imported path (a prefix, by segments). Delete
/// an entry once its import is gone; the test fails on an entry nothing
/// matches, so the list only shrinks.
const ALLOWED: &[(&str, &str)] = &[];

#[test]
fn no_module_imports_a_higher_layer_or_its_importer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root, &mut files);
    assert!(files.len() > 100, "read only {} files under {}", files.len(), root.display());
    let problems = check(&files, LAYERS, ALLOWED);
    assert!(problems.is_empty(), "{} problem(s) with the layers:\n{}", problems.len(), problems.join("\n"));
}

fn read_tree(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read src").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src").to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).expect("read file")));
        }
    }
}

/// One path to another module, as found in a file.
#[derive(Debug, Clone)]
struct Ref {
    file: String,
    line: usize,
    /// The module the path is written in, inline modules included.
    from: Vec<String>,
    /// The path, resolved from the crate root.
    to: Vec<String>,
    written: String,
    test: bool,
}

/// What is wrong with the layers of `files` (paths relative to `src/`, and
/// their text), one line each; empty when nothing is.
fn check(files: &[(String, String)], layers: &[&[&str]], allowed: &[(&str, &str)]) -> Vec<String> {
    let rank = |m: &str| layers.iter().position(|l| l.contains(&m));
    let mut problems = Vec::new();
    let mut refs = Vec::new();
    let mut modules = BTreeSet::new();
    // Modules declared under `#[cfg(test)]`: all they contain is test code.
    let mut test_modules = BTreeSet::new();
    for (rel, text) in files {
        let Some(module) = file_module(rel) else { continue };
        if module.len() == 1 && rank(&module[0]).is_none() {
            problems.push(format!("src/{rel}: the module `{}` has no layer; add it to LAYERS", module[0]));
        }
        let scan = scan(rel, &module, text);
        test_modules.extend(scan.test_modules);
        modules.extend(scan.modules);
        modules.insert(module);
        refs.extend(scan.refs);
    }
    for r in &mut refs {
        r.test |= (1..=r.from.len()).any(|n| test_modules.contains(&r.from[..n]));
    }

    let mut used = vec![false; allowed.len()];
    let mut graph: BTreeMap<Vec<String>, Edges> = BTreeMap::new();
    for r in &refs {
        let allowance = allowed.iter().position(|(from, to)| {
            r.from[0] == *from && to.split("::").enumerate().all(|(i, seg)| r.to.get(i).is_some_and(|s| s == seg))
        });
        if let Some(i) = allowance {
            used[i] = true;
            continue;
        }
        let k = r.from.iter().zip(&r.to).take_while(|(a, b)| a == b).count();
        if k >= r.from.len() || k >= r.to.len() || !modules.contains(&r.to[..=k]) {
            continue;
        }
        let (from, to) = (&r.from[k], &r.to[k]);
        let at = format!("src/{}:{}: {}", r.file, r.line, r.written);
        if k == 0
            && let (Some(a), Some(b)) = (rank(from), rank(to))
            && b > a
        {
            problems.push(format!("{at}: `{from}` (layer {a}) imports `{to}` (layer {b}), above it"));
            continue;
        }
        if !r.test {
            let edges = graph.entry(r.from[..k].to_vec()).or_default().entry(from.clone()).or_default();
            edges.entry(to.clone()).or_default().push(at);
        }
    }
    for (parent, edges) in &graph {
        for cycle in cycles(edges) {
            let name = |m: &str| parent.iter().map(String::as_str).chain([m]).collect::<Vec<_>>().join("::");
            let names: Vec<String> = cycle.iter().map(|m| name(m)).collect();
            problems.push(format!("{} import each other:", names.join(", ")));
            for from in &cycle {
                for (to, places) in &edges[from] {
                    if cycle.contains(to) {
                        problems.extend(places.iter().map(|p| format!("    {p}")));
                    }
                }
            }
        }
    }
    for (i, (from, to)) in allowed.iter().enumerate() {
        if !used[i] {
            problems.push(format!("ALLOWED has (\"{from}\", \"{to}\"), which nothing imports any more: delete it"));
        }
    }
    problems
}

/// Among the children of one module: importing child → imported child →
/// where.
type Edges = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// The groups of modules that reach each other through `edges` (strongly
/// connected, more than one module), each sorted.
fn cycles(edges: &Edges) -> Vec<Vec<String>> {
    let reach = |start: &String| {
        let (mut seen, mut todo) = (BTreeSet::new(), vec![start]);
        while let Some(m) = todo.pop() {
            for next in edges.get(m).into_iter().flat_map(|e| e.keys()) {
                if seen.insert(next) {
                    todo.push(next);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<&String>> = edges.keys().map(|m| (m, reach(m))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for (m, seen) in &reached {
        let group: Vec<String> = seen
            .iter()
            .filter(|o| reached.get(*o).is_some_and(|back| back.contains(m)))
            .map(|o| (*o).clone())
            .collect();
        if group.len() > 1 && !out.contains(&group) {
            out.push(group);
        }
    }
    out
}

/// The module a file under `src/` holds; `None` for the crate root and the
/// binary.
fn file_module(rel: &str) -> Option<Vec<String>> {
    if rel == "lib.rs" || rel == "main.rs" {
        return None;
    }
    let mut parts: Vec<String> = rel.trim_end_matches(".rs").split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    Some(parts)
}

#[derive(Default)]
struct Scan {
    refs: Vec<Ref>,
    /// Every module declared in the file, inline ones included.
    modules: Vec<Vec<String>>,
    test_modules: Vec<Vec<String>>,
}

/// The module paths written in `text`, the file of `module`.
fn scan(rel: &str, module: &[String], text: &str) -> Scan {
    let toks = tokens(&code_only(text));
    let ident = |i: usize| match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    };
    let is = |i: usize, t: Tok| toks.get(i).is_some_and(|(x, _)| *x == t);
    let mut out = Scan::default();
    // Open braces: the inline module each opens, and whether it is test code.
    let mut blocks: Vec<(Option<String>, bool)> = Vec::new();
    let (mut cfg_test, mut pending_mod) = (false, None::<String>);
    let mut i = 0;
    while i < toks.len() {
        let in_test = cfg_test || blocks.last().is_some_and(|b| b.1);
        let here: Vec<String> = module.iter().cloned().chain(blocks.iter().filter_map(|b| b.0.clone())).collect();
        let cfg = ["#", "[", "cfg", "(", "test", ")", "]"];
        if cfg.iter().enumerate().all(|(n, want)| match toks.get(i + n).map(|t| &t.0) {
            Some(Tok::Ident(s)) => s == want,
            Some(Tok::Punct(c)) => want.len() == 1 && want.starts_with(*c),
            _ => false,
        }) {
            cfg_test = true;
            i += cfg.len();
            continue;
        }
        match &toks[i].0 {
            Tok::Ident(s) if s == "mod" && ident(i + 1).is_some() => {
                pending_mod = ident(i + 1).map(String::from);
                i += 2;
                continue;
            }
            Tok::Punct('{') => {
                let inline = pending_mod.take();
                if let Some(name) = &inline {
                    let path: Vec<String> = here.iter().cloned().chain([name.clone()]).collect();
                    if in_test {
                        out.test_modules.push(path.clone());
                    }
                    out.modules.push(path);
                }
                blocks.push((inline, in_test));
                cfg_test = false;
            }
            Tok::Punct('}') => {
                blocks.pop();
                cfg_test = false;
            }
            Tok::Punct(';') => {
                if let Some(name) = pending_mod.take() {
                    let path: Vec<String> = here.iter().cloned().chain([name]).collect();
                    if in_test {
                        out.test_modules.push(path.clone());
                    }
                    out.modules.push(path);
                }
                cfg_test = false;
            }
            Tok::Ident(s) if (s == "crate" || s == "super") && is(i + 1, Tok::Sep) => {
                let line = toks[i].1;
                let (paths, next) = path_at(&toks, i);
                for written in paths {
                    let mut to = here.clone();
                    let mut segs = written.iter().peekable();
                    if segs.peek().is_some_and(|s| *s == "crate") {
                        to.clear();
                        segs.next();
                    }
                    while segs.peek().is_some_and(|s| *s == "super") {
                        to.pop();
                        segs.next();
                    }
                    to.extend(segs.filter(|s| *s != "self").cloned());
                    out.refs.push(Ref {
                        file: rel.to_string(),
                        line,
                        from: here.clone(),
                        to,
                        written: written.join("::"),
                        test: in_test,
                    });
                }
                i = next;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The path starting at token `i`, one per item of a `{…}` group (the
/// leading segments of each), and the token after it.
fn path_at(toks: &[(Tok, usize)], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let seg = |i: usize| match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s.clone()),
        _ => None,
    };
    let mut prefix = vec![seg(i).unwrap_or_default()];
    i += 1;
    while toks.get(i).is_some_and(|t| t.0 == Tok::Sep) {
        if let Some(s) = seg(i + 1) {
            prefix.push(s);
            i += 2;
        } else if toks.get(i + 1).is_some_and(|t| t.0 == Tok::Punct('{')) {
            let mut items = Vec::new();
            let (mut depth, mut item, mut j) = (0usize, Some(prefix.clone()), i + 1);
            while let Some((t, _)) = toks.get(j) {
                match t {
                    Tok::Punct('{') => {
                        if depth == 1 {
                            items.extend(item.take());
                        }
                        depth += 1;
                    }
                    Tok::Punct('}') => {
                        if depth == 1 {
                            items.extend(item.take());
                        }
                        depth -= 1;
                    }
                    Tok::Punct(',') if depth == 1 => {
                        items.extend(item.take());
                        item = Some(prefix.clone());
                    }
                    Tok::Sep => {}
                    Tok::Ident(s) if depth == 1 && s != "as" => {
                        if let Some(path) = item.as_mut() {
                            path.push(s.clone());
                        }
                    }
                    // `as` and `*` end an item's path.
                    _ if depth == 1 => items.extend(item.take()),
                    _ => {}
                }
                j += 1;
                if depth == 0 {
                    break;
                }
            }
            return (items, j);
        } else {
            break;
        }
    }
    (vec![prefix], i)
}

/// The application reaches drawing through one door: `ui::Screen` (and the
/// `ui::Plan` it answers with). Any other `ui::` path in `app/` is state or
/// geometry that belongs to the view model or to the screen.
#[test]
fn the_app_draws_only_through_the_screen() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_tree(&root, &root.join("app"), &mut files);
    assert!(files.len() > 5, "read only {} files under src/app", files.len());
    let mut problems = Vec::new();
    for (rel, text) in &files {
        for (n, line) in code_only(text).lines().enumerate() {
            for item in ui_items(line) {
                if !["Screen", "Plan"].contains(&item.as_str()) {
                    problems.push(format!("src/{rel}:{}: ui::{item}", n + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "the app reaches into ui past the screen:\n{}", problems.join("\n"));
}

/// The first name after each `ui::` written in `line` (not `tui::` or
/// `gui::`), each name of a `ui::{...}` group on the line included.
fn ui_items(line: &str) -> Vec<String> {
    let name = |t: &str| t.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("ui::") {
        let before = rest[..i].chars().next_back();
        let after = &rest[i + 4..];
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            match after.strip_prefix('{') {
                Some(group) => out.extend(group.split('}').next().unwrap_or("").split(',').map(name)),
                None => out.push(name(after)),
            }
        }
        rest = after;
    }
    out
}

#[test]
fn ui_paths_are_found_whatever_way_they_are_written() {
    assert_eq!(ui_items("use crate::ui::{Screen, layout::plan};"), ["Screen", "layout"]);
    assert_eq!(ui_items("let p = ui::layout::plan(s); let t = tui::x; ui::Screen::default()"), ["layout", "Screen"]);
    assert!(ui_items("use ratatui::layout::Rect;").is_empty());
}

#[test]
fn comments_and_literals_are_not_imports_and_lines_stay() {
    let text = "let s = \"crate::app::x\"; // crate::ui::y\n/* crate::cli\n */ let r = r#\"crate::exec\"#;\n\
                let c = '\"'; let q = '{'; fn f<'a>(_: &'a str) {}\nuse crate::git::X;\n";
    let scan = scan("config/mod.rs", &["config".to_string()], text);
    let found: Vec<(usize, String)> = scan.refs.iter().map(|r| (r.line, r.written.clone())).collect();
    assert_eq!(found, [(5, "crate::git::X".to_string())]);
}

#[test]
fn groups_super_and_inline_modules_resolve_from_where_they_are_written() {
    let text = "use crate::{git::{self, stage}, patch::Hunk};\nuse super::undo::State;\n\
                #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::cli::run;\n}\n";
    let module = ["git".to_string(), "stage".to_string()];
    let scan = scan("git/stage.rs", &module, text);
    let found: Vec<(String, bool)> = scan.refs.iter().map(|r| (r.to.join("::"), r.test)).collect();
    let want = [("git", false), ("patch::Hunk", false), ("git::undo::State", false)];
    let mut want: Vec<(String, bool)> = want.iter().map(|(p, t)| (p.to_string(), *t)).collect();
    want.extend([("git::stage".to_string(), true), ("cli::run".to_string(), true)]);
    assert_eq!(found, want);
    assert_eq!(scan.test_modules, [vec!["git".to_string(), "stage".into(), "tests".into()]]);
}

#[test]
fn upward_imports_cycles_and_stale_allowances_are_reported() {
    let file = |rel: &str, text: &str| (rel.to_string(), text.to_string());
    let files = [
        file("lib.rs", "pub mod app;\npub mod config;\npub mod git;\npub mod patch;\n"),
        file("config/mod.rs", "mod keymap;\n"),
        file("config/keymap.rs", "use crate::app::actions::Action;\nuse crate::app::state::Focus;\n"),
        file("app/mod.rs", "pub mod actions;\npub mod state;\nuse crate::config::keymap;\n"),
        file("app/actions.rs", ""),
        file("app/state.rs", ""),
        file("git/mod.rs", "mod stage;\nmod undo;\n#[cfg(test)]\nmod tests;\n"),
        file("git/stage.rs", "use super::undo::IndexState;\nuse crate::patch::Hunk;\n"),
        file("git/undo.rs", "use super::stage::Stager;\n"),
        file("git/tests.rs", "use crate::git::undo::undo;\n"),
        // patch → git only in its tests: not a cycle.
        file("patch/mod.rs", "pub struct Hunk;\n#[cfg(test)]\nmod tests {\n    use crate::git::stage;\n}\n"),
        file("tokens.rs", ""),
    ];
    let layers: &[&[&str]] = &[&["config"], &["patch", "git"], &["app"]];
    let allowed = [("config", "app::state"), ("git", "app")];
    let problems = check(&files, layers, &allowed);
    assert_eq!(
        problems,
        [
            "src/tokens.rs: the module `tokens` has no layer; add it to LAYERS",
            "src/config/keymap.rs:1: crate::app::actions::Action: `config` (layer 0) imports `app` (layer 2), above it",
            "git::stage, git::undo import each other:",
            "    src/git/stage.rs:1: super::undo::IndexState",
            "    src/git/undo.rs:1: super::stage::Stager",
            "ALLOWED has (\"git\", \"app\"), which nothing imports any more: delete it",
        ]
    );
}

/// Files this long or longer are split into modules.
const MAX_LINES: usize = 600;

/// Files allowed to be `MAX_LINES` or longer while they are split: delete
/// an entry once its file is shorter. The test fails on an entry that
/// already is, so the list only shrinks. Empty: every file is short.
const TOO_LONG: &[&str] = &[];

#[test]
fn every_source_file_is_under_the_line_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_tree(root, &root.join("src"), &mut files);
    read_tree(root, &root.join("tests"), &mut files);
    assert!(files.len() > 150, "read only {} files under src/ and tests/", files.len());
    let problems = too_long(&files, MAX_LINES, TOO_LONG);
    assert!(problems.is_empty(), "{} problem(s) with the lengths:\n{}", problems.len(), problems.join("\n"));
}

/// What is wrong with the lengths of `files` (paths and their text), one
/// line each; empty when nothing is. The files `allowed` may be `max` lines
/// or longer; one that is shorter, or gone, is reported.
fn too_long(files: &[(String, String)], max: usize, allowed: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in files {
        let lines = text.lines().count();
        if lines >= max && !allowed.contains(&path.as_str()) {
            problems.push(format!("{path}: {lines} lines; split it to under {max}"));
        }
    }
    for path in allowed {
        match files.iter().find(|(p, _)| p == path).map(|(_, text)| text.lines().count()) {
            Some(lines) if lines >= max => {}
            Some(lines) => problems.push(format!("TOO_LONG has {path}, now {lines} lines: delete it")),
            None => problems.push(format!("TOO_LONG has {path}, which is not there any more: delete it")),
        }
    }
    problems
}

#[test]
fn long_files_and_stale_allowances_are_reported() {
    let file = |path: &str, lines: usize| (path.to_string(), "x\n".repeat(lines));
    let files = [
        file("src/short.rs", 599),
        file("src/long.rs", 600),
        file("tests/longer/mod.rs", 1200),
        file("src/app/mod.rs", 889),
        file("src/split.rs", 598),
    ];
    let problems = too_long(&files, 600, &["src/app/mod.rs", "src/split.rs", "src/gone.rs"]);
    assert_eq!(
        problems,
        [
            "src/long.rs: 600 lines; split it to under 600",
            "tests/longer/mod.rs: 1200 lines; split it to under 600",
            "TOO_LONG has src/split.rs, now 598 lines: delete it",
            "TOO_LONG has src/gone.rs, which is not there any more: delete it",
        ]
    );
    assert!(too_long(&files[..1], 600, &[]).is_empty());
}
