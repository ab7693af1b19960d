//! `git status`, `diff`, `log`, `show` and branch listing, with only the
//! options that read. git accepts any unique prefix of a long option
//! (`--outp=F` is `--output=F`), so each is matched by its full name.
//!
//! Left out, so that they ask: every global option but `--no-pager`
//! (`-c`, `-C`, `--git-dir`, `--work-tree`, `--exec-path`, `--config-env`
//! and `-p`/`--paginate` can run programs or read another repository);
//! `--output` (writes a file); `--ext-diff` and `--textconv` (run
//! configured programs); `-O<orderfile>` (reads a file); `--no-index`
//! (compares files anywhere); `--show-signature` and the `%G` format
//! placeholders (run gpg); `-L` (a range in a file given by name).

use super::options::{Glued, NextIfAny, Nothing, Syntax, Table, Value, parse};
use super::paths::{Context, tree_path_inside};
use super::words::Word;

/// Options shared by `diff`, `log` and `show`. Whether each takes the next
/// word was checked against git 2.47 (`git log OPT XYZ`).
const DIFF: Table = &[
    ("-p", Nothing),
    ("-u", Nothing),
    ("--patch", Nothing),
    ("-s", Nothing),
    ("--no-patch", Nothing),
    ("--raw", Nothing),
    ("--patch-with-raw", Nothing),
    ("--patch-with-stat", Nothing),
    ("--numstat", Nothing),
    ("--shortstat", Nothing),
    ("--summary", Nothing),
    ("--name-only", Nothing),
    ("--name-status", Nothing),
    ("--compact-summary", Nothing),
    ("-z", Nothing),
    ("--full-index", Nothing),
    ("--binary", Nothing),
    ("--no-color", Nothing),
    ("--no-color-moved", Nothing),
    ("--ignore-space-at-eol", Nothing),
    ("--ignore-space-change", Nothing),
    ("-b", Nothing),
    ("-w", Nothing),
    ("--ignore-all-space", Nothing),
    ("--ignore-blank-lines", Nothing),
    ("--ignore-cr-at-eol", Nothing),
    ("-W", Nothing),
    ("--function-context", Nothing),
    ("--text", Nothing),
    ("-a", Nothing),
    ("-R", Nothing),
    ("--no-relative", Nothing),
    ("--minimal", Nothing),
    ("--patience", Nothing),
    ("--histogram", Nothing),
    ("--indent-heuristic", Nothing),
    ("--no-indent-heuristic", Nothing),
    ("--find-copies-harder", Nothing),
    ("-D", Nothing),
    ("--irreversible-delete", Nothing),
    ("--pickaxe-all", Nothing),
    ("--pickaxe-regex", Nothing),
    ("--no-prefix", Nothing),
    ("--default-prefix", Nothing),
    ("--ita-invisible-in-index", Nothing),
    ("--exit-code", Nothing),
    ("--quiet", Nothing),
    ("--no-ext-diff", Nothing),
    ("--no-textconv", Nothing),
    ("--check", Nothing),
    ("--no-renames", Nothing),
    ("--rename-empty", Nothing),
    ("--no-rename-empty", Nothing),
    ("--cc", Nothing),
    ("-c", Nothing),
    ("--stat", Glued),
    ("--dirstat", Glued),
    ("--abbrev", Glued),
    ("--color", Glued),
    ("--color-words", Glued),
    ("--word-diff", Glued),
    ("--color-moved", Glued),
    ("--relative", Glued),
    ("--find-renames", Glued),
    ("-M", Glued),
    ("--find-copies", Glued),
    ("-C", Glued),
    ("--break-rewrites", Glued),
    ("-B", Glued),
    ("-U", Glued),
    ("--unified", Glued),
    ("--ignore-submodules", Glued),
    ("--submodule", Glued),
    ("--word-diff-regex", Value),
    ("-I", Value),
    ("--ignore-matching-lines", Value),
    ("--inter-hunk-context", Value),
    ("--diff-algorithm", Value),
    ("--anchored", Value),
    ("--diff-filter", Value),
    ("-S", Value),
    ("-G", Value),
    ("--find-object", Value),
    ("-l", Value),
    ("--src-prefix", Value),
    ("--dst-prefix", Value),
    ("--line-prefix", Value),
    ("--stat-width", Value),
    ("--stat-name-width", Value),
    ("--stat-graph-width", Value),
    ("--stat-count", Value),
    ("--color-moved-ws", Value),
    ("--ws-error-highlight", Value),
    ("--skip-to", Value),
    ("--rotate-to", Value),
];

const DIFF_ONLY: Table = &[("--cached", Nothing), ("--staged", Nothing), ("--merge-base", Nothing)];

/// `log` and `show` on top of [`DIFF`].
const LOG: Table = &[
    ("--oneline", Nothing),
    ("--graph", Nothing),
    ("--all", Nothing),
    ("--reverse", Nothing),
    ("--merges", Nothing),
    ("--no-merges", Nothing),
    ("--first-parent", Nothing),
    ("--abbrev-commit", Nothing),
    ("--no-abbrev-commit", Nothing),
    ("--no-abbrev", Nothing),
    ("--relative-date", Nothing),
    ("--follow", Nothing),
    ("--source", Nothing),
    ("--left-right", Nothing),
    ("--cherry-pick", Nothing),
    ("--cherry-mark", Nothing),
    ("--cherry", Nothing),
    ("--ancestry-path", Nothing),
    ("--topo-order", Nothing),
    ("--date-order", Nothing),
    ("--author-date-order", Nothing),
    ("--full-history", Nothing),
    ("--simplify-by-decoration", Nothing),
    ("--simplify-merges", Nothing),
    ("--dense", Nothing),
    ("--sparse", Nothing),
    ("--boundary", Nothing),
    ("--parents", Nothing),
    ("--children", Nothing),
    ("--log-size", Nothing),
    ("--do-walk", Nothing),
    ("--all-match", Nothing),
    ("--invert-grep", Nothing),
    ("-i", Nothing),
    ("--regexp-ignore-case", Nothing),
    ("-E", Nothing),
    ("--extended-regexp", Nothing),
    ("-F", Nothing),
    ("--fixed-strings", Nothing),
    ("-P", Nothing),
    ("--perl-regexp", Nothing),
    ("--basic-regexp", Nothing),
    ("--no-decorate", Nothing),
    ("--no-notes", Nothing),
    ("--mailmap", Nothing),
    ("--no-mailmap", Nothing),
    ("--use-mailmap", Nothing),
    ("--no-use-mailmap", Nothing),
    ("--no-expand-tabs", Nothing),
    ("--remerge-diff", Nothing),
    ("--combined-all-paths", Nothing),
    ("--no-diff-merges", Nothing),
    ("--walk-reflogs", Nothing),
    ("-g", Nothing),
    ("--full-diff", Nothing),
    ("-m", Nothing),
    ("--not", Nothing),
    ("--decorate", Glued),
    ("--pretty", Glued),
    ("--format", Glued),
    ("--branches", Glued),
    ("--tags", Glued),
    ("--remotes", Glued),
    ("--no-walk", Glued),
    ("--expand-tabs", Glued),
    ("--notes", Glued),
    ("-n", Value),
    ("--max-count", Value),
    ("--skip", Value),
    ("--since", Value),
    ("--after", Value),
    ("--until", Value),
    ("--before", Value),
    ("--since-as-filter", Value),
    ("--author", Value),
    ("--committer", Value),
    ("--grep", Value),
    ("--exclude", Value),
    ("--glob", Value),
    ("--date", Value),
    ("--encoding", Value),
    ("--diff-merges", Value),
    ("--decorate-refs", Value),
    ("--decorate-refs-exclude", Value),
    ("--max-age", Value),
    ("--min-age", Value),
];

const STATUS: Table = &[
    ("-s", Nothing),
    ("--short", Nothing),
    ("-b", Nothing),
    ("--branch", Nothing),
    ("--show-stash", Nothing),
    ("--long", Nothing),
    ("-v", Nothing),
    ("--verbose", Nothing),
    ("-z", Nothing),
    ("--no-column", Nothing),
    ("--ahead-behind", Nothing),
    ("--no-ahead-behind", Nothing),
    ("--renames", Nothing),
    ("--no-renames", Nothing),
    ("--porcelain", Glued),
    ("-u", Glued),
    ("--untracked-files", Glued),
    ("--ignored", Glued),
    ("--ignore-submodules", Glued),
    ("--column", Glued),
    ("--find-renames", Glued),
    ("-M", Glued),
];

/// Listing only: anything that creates, renames, copies, deletes or sets
/// upstreams is left out.
const BRANCH: Table = &[
    ("-a", Nothing),
    ("--all", Nothing),
    ("-r", Nothing),
    ("--remotes", Nothing),
    ("-v", Nothing),
    ("--verbose", Nothing),
    ("-l", Nothing),
    ("--list", Nothing),
    ("--show-current", Nothing),
    ("--no-column", Nothing),
    ("--no-color", Nothing),
    ("-i", Nothing),
    ("--ignore-case", Nothing),
    ("--omit-empty", Nothing),
    ("--no-abbrev", Nothing),
    ("--color", Glued),
    ("--column", Glued),
    ("--abbrev", Glued),
    ("--sort", Value),
    ("--format", Value),
    ("--contains", NextIfAny),
    ("--no-contains", NextIfAny),
    ("--merged", NextIfAny),
    ("--no-merged", NextIfAny),
    ("--points-at", NextIfAny),
];

pub fn is_read_only(args: &[Word], ctx: &Context) -> bool {
    let mut args = args;
    // `-P` is `--no-pager` before the subcommand (and `--perl-regexp`
    // after it).
    while let Some((first, rest)) = args.split_first()
        && matches!(first.text.as_str(), "--no-pager" | "-P")
    {
        args = rest;
    }
    let Some((sub, args)) = args.split_first() else { return false };
    match sub.text.as_str() {
        "status" => {
            parse(args, &[STATUS], Syntax::default(), ctx).is_some_and(|p| p.operands.iter().all(|w| ctx.path(w)))
        }
        "diff" => revisions_and_paths(args, &[DIFF, DIFF_ONLY], ctx),
        "log" | "show" => revisions_and_paths(args, &[DIFF, LOG], ctx),
        "branch" => branch_lists(args, ctx),
        _ => false,
    }
}

/// `[<revision>…] [--] [<path>…]`. Before `--` a word may be either: git
/// takes it for a path if it names one, and `git diff` given two paths of
/// which one is outside the repository compares them as files
/// (`--no-index` implied), so every operand must pass as a path too.
fn revisions_and_paths(args: &[Word], tables: &[Table], ctx: &Context) -> bool {
    let syntax = Syntax { numeric: true, ..Syntax::default() };
    let Some(parsed) = parse(args, tables, syntax, ctx) else { return false };
    if parsed.values(&["--format", "--pretty"]).any(runs_gpg) {
        return false;
    }
    parsed
        .operands
        .iter()
        .enumerate()
        .all(|(i, word)| ctx.path(word) && (i >= parsed.before_dashdash || revision_path_inside(&word.text)))
}

/// `REV:PATH` (and `:PATH`, `:N:PATH`) reads PATH from git's objects, not
/// the file system; it must still not climb out of the tree.
fn revision_path_inside(word: &str) -> bool {
    word.split_once(':').is_none_or(|(_, path)| tree_path_inside(path))
}

/// `%G?`, `%GS`, … (log) and `%(signature)` (branch) verify signatures
/// with gpg.
fn runs_gpg(format: &str) -> bool {
    format.contains("%G") || format.contains("signature")
}

/// A bare name would create a branch; with `--list` (`-l`) operands are
/// patterns.
fn branch_lists(args: &[Word], ctx: &Context) -> bool {
    let Some(parsed) = parse(args, &[BRANCH], Syntax::default(), ctx) else { return false };
    if parsed.values(&["--format"]).any(runs_gpg) {
        return false;
    }
    parsed.operands.is_empty() || parsed.has(&["-l", "--list"]) && parsed.operands.iter().all(|w| !w.is_glob())
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Every value-taking option in the tables takes the next word in the
    /// git that runs here, and no flag or glued option does: otherwise a
    /// word this check reads as a value could reach git as a path.
    #[test]
    fn tables_agree_with_git() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| Command::new("git").args(args).current_dir(dir.path()).output();
        if git(&["init", "-q"]).is_err() {
            return;
        }
        std::fs::write(dir.path().join("f"), "a\n").unwrap();
        git(&["add", "f"]).unwrap();
        git(&["-c", "user.name=n", "-c", "user.email=e@x", "commit", "-qm", "one"]).unwrap();
        let checks: &[(&str, &[Table])] = &[("log", &[DIFF, LOG]), ("diff", &[DIFF, DIFF_ONLY]), ("status", &[STATUS])];
        for (sub, tables) in checks {
            for (name, takes) in tables.iter().flat_map(|t| t.iter()) {
                let out = git(&[sub, name, "XYZ"]).unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr);
                // The word was taken for a revision or a path.
                let positional = stderr.contains("ambiguous argument 'XYZ'")
                    || *sub == "status" && !stderr.contains("XYZ") && out.status.success();
                let takes_next = matches!(takes, Value);
                assert_eq!(!positional, takes_next, "git {sub} {name} XYZ: {stderr}");
            }
        }
        // For branch a word not taken as a value names a branch to create.
        for (name, takes) in BRANCH.iter().filter(|(n, _)| !["-l", "--list", "--show-current"].contains(n)) {
            let out = git(&["branch", name, "XYZ"]).unwrap();
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            let created = git(&["branch", "-D", "XYZ"]).unwrap().status.success();
            let positional = created || text.contains("do not take a branch name");
            assert_eq!(!positional, matches!(takes, Value | NextIfAny), "git branch {name} XYZ: {text}");
        }
    }
}
