//! Map-quality benchmark: does the repo map show the files a real change needs?
//!
//! For recent commits of a git repository that modified 2–6 Rust files, the parent
//! tree is written to a temporary directory and indexed (no cache); the map is then
//! requested with the most-changed file in focus and the commit subject as the user's
//! words, and the benchmark counts how many of the other modified files the map lists.
//!
//! Which files count: only `.rs` files (what the index parses in these repositories)
//! that exist in both the parent and the commit, i.e. modified ones. Added files cannot
//! be in the parent's map and deleted ones are not needed by the change, so neither
//! counts towards the 2–6 nor as a file to find. Rename detection is off (a rename is
//! an addition and a deletion). Test files count like any other: the spec says "source
//! files", and a change that updates a test needs that test.
//! The most-changed file (added + deleted lines; ties by path) is the focus.
//!
//! Usage: `cargo run --release --example map_quality -- <git dir> [--commits N]
//! [--budgets 1024,4096] [--out FILE.jsonl] [--full-history] [--skip N]`
//!
//! `--full-history` walks every non-merge ancestor (newest first) instead of the
//! first-parent chain, for repositories whose main line is made of merges.
//! `--out` writes one JSON line per commit (sha, parent, subject, focus, others, the
//! files each budget listed, each other file's place in the full ranking, and a
//! diagnosis of the misses at the largest budget), which `benches/aider_map.py`
//! reads to run Aider's map on the same commits.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use git2::{Commit, Delta, DiffOptions, ObjectType, Oid, Patch, Repository, Sort, Tree, TreeWalkMode, TreeWalkResult};
use serde_json::json;
use tandem::index::{FileTags, Index, IndexOptions, MapRequest, extract_mentions};

/// A budget large enough for every definition: its map lists all files in rank order.
const UNLIMITED: usize = 1 << 40;

struct Args {
    git_dir: PathBuf,
    commits: usize,
    skip: usize,
    budgets: Vec<usize>,
    out: Option<PathBuf>,
    full_history: bool,
}

/// One qualifying commit.
struct Case {
    sha: Oid,
    parent: Oid,
    subject: String,
    focus: String,
    others: Vec<String>,
}

/// Totals for one budget.
#[derive(Default, Clone, Copy)]
struct Tally {
    hits: usize,
    others: usize,
    share_sum: f64,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("map_quality: {e}");
        std::process::exit(1);
    }
}

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let usage = "usage: map_quality <git dir> [--commits N] [--skip N] [--budgets 1024,4096] [--out FILE.jsonl] \
                 [--full-history]";
    let mut args = std::env::args().skip(1);
    let mut out = Args {
        git_dir: PathBuf::new(),
        commits: 100,
        skip: 0,
        budgets: vec![1024, 4096],
        out: None,
        full_history: false,
    };
    let mut git_dir = None;
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value\n{usage}"));
        match a.as_str() {
            "--commits" => out.commits = value()?.parse()?,
            "--skip" => out.skip = value()?.parse()?,
            "--budgets" => out.budgets = value()?.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--out" => out.out = Some(PathBuf::from(value()?)),
            "--full-history" => out.full_history = true,
            "-h" | "--help" => return Err(usage.into()),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}\n{usage}").into()),
            _ => git_dir = Some(PathBuf::from(a)),
        }
    }
    out.git_dir = git_dir.ok_or(usage)?;
    Ok(out)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let repo = Repository::open(&args.git_dir)?;
    let started = Instant::now();
    let cases = select(&repo, &args)?;
    eprintln!("map_quality: {} commits selected in {:.1}s", cases.len(), started.elapsed().as_secs_f64());
    let mut out = match &args.out {
        Some(p) => Some(std::io::BufWriter::new(fs::File::create(p)?)),
        None => None,
    };
    let mut tallies = vec![Tally::default(); args.budgets.len()];
    let work = tempfile::Builder::new().prefix("map_quality.").tempdir()?;
    for (n, case) in cases.iter().enumerate() {
        let root = work.path().join(case.parent.to_string());
        materialize(&repo, &repo.find_commit(case.parent)?.tree()?, &root)?;
        let (index, _) = Index::build(&IndexOptions::new(&root), &|_, _| {})?;
        let mut listed = Vec::new();
        let mut last_files = Vec::new();
        for (b, &tokens) in args.budgets.iter().enumerate() {
            let map = index.map(&MapRequest {
                tokens,
                focus: vec![PathBuf::from(&case.focus)],
                mentions: case.subject.clone(),
            });
            let files: Vec<String> = map.files.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            let hits: Vec<&String> = case.others.iter().filter(|o| files.contains(o)).collect();
            let t = &mut tallies[b];
            t.hits += hits.len();
            t.others += case.others.len();
            t.share_sum += hits.len() as f64 / case.others.len() as f64;
            listed.push(json!({ "tokens": tokens, "map_tokens": map.tokens, "files": files.len(), "hits": hits }));
            last_files = files;
        }
        // Each other file's place in the whole ranking (1-based), for the miss analysis.
        let full = index.map(&MapRequest {
            tokens: UNLIMITED,
            focus: vec![PathBuf::from(&case.focus)],
            mentions: case.subject.clone(),
        });
        let ranks: BTreeMap<&str, Option<usize>> = case
            .others
            .iter()
            .map(|o| (o.as_str(), full.files.iter().position(|f| f.to_string_lossy() == o.as_str()).map(|i| i + 1)))
            .collect();
        if let Some(w) = out.as_mut() {
            let line = json!({
                "sha": case.sha.to_string(),
                "parent": case.parent.to_string(),
                "subject": case.subject,
                "focus": case.focus,
                "others": case.others,
                "indexed_files": index.files().count(),
                "ranked_files": full.files.len(),
                "rank": ranks,
                "budgets": listed,
                "diagnosis": diagnose(&index, case, &last_files),
            });
            writeln!(w, "{line}")?;
        }
        drop(index);
        fs::remove_dir_all(&root)?;
        eprint!("\r{}/{} commits", n + 1, cases.len());
    }
    eprintln!();
    if let Some(mut w) = out {
        w.flush()?;
    }
    println!("commits: {}", cases.len());
    for (b, t) in args.budgets.iter().zip(&tallies) {
        let micro = if t.others > 0 { t.hits as f64 / t.others as f64 } else { 0.0 };
        let macro_ = if cases.is_empty() { 0.0 } else { t.share_sum / cases.len() as f64 };
        println!("budget {b}: share {micro:.3} ({} of {} files), per-commit mean {macro_:.3}", t.hits, t.others);
    }
    println!("seconds: {:.1}", started.elapsed().as_secs_f64());
    Ok(())
}

/// How one file relates to the focus file and the mentions, by name (names under three
/// characters left out, as the ranking ignores them).
struct Relation {
    defs: Option<usize>,
    /// Names the file defines and the focus file references.
    focus_uses: Vec<String>,
    /// Names the focus file defines and this file references.
    uses_focus: Vec<String>,
    /// Mentioned identifiers the file defines.
    mentioned: Vec<String>,
}

fn names(tags: Option<&FileTags>, defs: bool) -> BTreeSet<String> {
    let Some(t) = tags else { return BTreeSet::new() };
    let all: Vec<&str> = if defs {
        t.defs.iter().map(|d| d.name.as_str()).collect()
    } else {
        t.ref_names.iter().map(String::as_str).collect()
    };
    all.into_iter().filter(|n| n.chars().count() >= tandem::index::MIN_NAME_LEN).map(str::to_string).collect()
}

/// Why files were missed at the largest budget, from the tags alone: for each missed
/// file, the names it shares with the focus file in either direction (a reference
/// edge), the mentioned identifiers it defines, and its definition count; for the
/// map, how many listed files are neighbours of the focus or define a mentioned name.
fn diagnose(index: &Index, case: &Case, listed: &[String]) -> serde_json::Value {
    let mentions = extract_mentions(&case.subject).idents;
    let focus = index.file_tags(Path::new(&case.focus));
    let (focus_defs, focus_refs) = (names(focus, true), names(focus, false));
    let relation = |path: &str| {
        let tags = index.file_tags(Path::new(path));
        let (defs, refs) = (names(tags, true), names(tags, false));
        Relation {
            defs: tags.map(|t| t.defs.len()),
            focus_uses: defs.intersection(&focus_refs).cloned().collect(),
            uses_focus: refs.intersection(&focus_defs).cloned().collect(),
            mentioned: defs.iter().filter(|d| mentions.contains(*d)).cloned().collect(),
        }
    };
    let misses: Vec<serde_json::Value> = case
        .others
        .iter()
        .filter(|o| !listed.contains(o))
        .map(|o| {
            let r = relation(o);
            json!({
                "file": o,
                "defs": r.defs,
                "focus_uses": r.focus_uses.len(),
                "uses_focus": r.uses_focus.len(),
                "focus_uses_names": &r.focus_uses[..r.focus_uses.len().min(6)],
                "uses_focus_names": &r.uses_focus[..r.uses_focus.len().min(6)],
                "mentioned_defs": r.mentioned,
            })
        })
        .collect();
    let (mut neighbours, mut mention_only, mut neither) = (0, 0, 0);
    for f in listed {
        let r = relation(f);
        if !r.focus_uses.is_empty() || !r.uses_focus.is_empty() {
            neighbours += 1;
        } else if !r.mentioned.is_empty() {
            mention_only += 1;
        } else {
            neither += 1;
        }
    }
    json!({
        "mentions": mentions,
        "focus_defs": focus.map(|t| t.defs.len()),
        "misses": misses,
        "listed_neighbours": neighbours,
        "listed_mention_only": mention_only,
        "listed_other": neither,
    })
}

/// The newest qualifying commits, newest first.
fn select(repo: &Repository, args: &Args) -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    let mut walk = repo.revwalk()?;
    walk.push_head()?;
    if args.full_history {
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)?;
    } else {
        walk.simplify_first_parent()?;
    }
    let mut cases = Vec::new();
    let mut skipped = 0;
    for oid in walk {
        if cases.len() >= args.commits {
            break;
        }
        let commit = repo.find_commit(oid?)?;
        if commit.parent_count() != 1 {
            continue;
        }
        let Some(case) = qualify(repo, &commit)? else { continue };
        if skipped < args.skip {
            skipped += 1;
            continue;
        }
        cases.push(case);
    }
    Ok(cases)
}

/// The commit as a case when it modified 2–6 `.rs` files.
fn qualify(repo: &Repository, commit: &Commit) -> Result<Option<Case>, git2::Error> {
    let parent = commit.parent(0)?;
    let mut opts = DiffOptions::new();
    let diff = repo.diff_tree_to_tree(Some(&parent.tree()?), Some(&commit.tree()?), Some(&mut opts))?;
    let modified: Vec<usize> = diff
        .deltas()
        .enumerate()
        .filter(|(_, d)| {
            d.status() == Delta::Modified
                && d.new_file().path().is_some_and(|p| p.extension().is_some_and(|e| e == "rs"))
        })
        .map(|(i, _)| i)
        .collect();
    if !(2..=6).contains(&modified.len()) {
        return Ok(None);
    }
    let mut changed: Vec<(usize, String)> = Vec::new();
    for i in modified {
        let path = diff.get_delta(i).and_then(|d| d.new_file().path().map(|p| p.to_string_lossy().into_owned()));
        let lines = match Patch::from_diff(&diff, i)? {
            Some(p) => {
                let (_, add, del) = p.line_stats()?;
                add + del
            }
            None => 0, // binary
        };
        changed.extend(path.map(|p| (lines, p)));
    }
    // Most lines changed first; ties by path.
    changed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut paths = changed.into_iter().map(|(_, p)| p);
    let Some(focus) = paths.next() else { return Ok(None) };
    Ok(Some(Case {
        sha: commit.id(),
        parent: parent.id(),
        subject: String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
        focus,
        others: paths.collect(),
    }))
}

/// Writes every regular file of `tree` under `root` (symlinks and submodules are left out).
fn materialize(repo: &Repository, tree: &Tree, root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    fs::create_dir_all(root)?;
    let mut failure: Option<Box<dyn std::error::Error>> = None;
    let walked = tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
        let Ok(name) = entry.name() else { return TreeWalkResult::Skip };
        let path = root.join(dir).join(name);
        let result: Result<(), Box<dyn std::error::Error>> = match entry.kind() {
            Some(ObjectType::Tree) => fs::create_dir_all(&path).map_err(Into::into),
            Some(ObjectType::Blob) if entry.filemode() != 0o120000 => repo
                .find_blob(entry.id())
                .map_err(Into::into)
                .and_then(|b| fs::write(&path, b.content()).map_err(Into::into)),
            _ => Ok(()),
        };
        match result {
            Ok(()) => TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                TreeWalkResult::Abort
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => walked.map_err(Into::into),
    }
}
