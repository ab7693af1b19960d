//! Which shell commands may run without asking: an allow-list of commands
//! that only read, each with the table of its read-only options, and only
//! when every word is understood. A wrong "no" costs one approval; a wrong
//! "yes" runs something the user never saw, so anything not understood is
//! a "no".
//!
//! Peers do the same with less: Codex CLI's `is_known_safe_command`
//! (openai/codex, codex-rs/core/src/command_safety/is_safe_command.rs)
//! allows a list of commands minus a deny-list of options, and Claude
//! Code's read-only validation an allow-list of commands and flags.

mod find;
mod git;
mod options;
mod paths;
mod tables;
mod words;

use std::path::Path;

use options::{Parsed, Syntax, Table, parse};
use paths::Context;
use words::{Word, split_pipeline};

/// Whether `command`, run by `sh` in the repository at `root`, only reads
/// inside it. It must be a pipeline of `ls`, `pwd`, `cat`, `head`,
/// `tail`, `wc`, `rg`, `grep`, `find` (tests only), `git status|diff|log|
/// show`, `git branch` (listing), `tree`, `file`, `which` and `echo`, made
/// of plain words and quotes (no `$` in any form, backticks, `~`, braces,
/// redirections, lists or subshells), with options from each command's
/// table spelt in full, and path arguments that resolve inside the
/// repository by the file tools' rules (no outside absolute path, no `..`
/// out, no link out, nothing in `.git`). A glob counts only when nothing it
/// could expand to is an option or outside.
pub fn is_read_only(command: &str, root: &Path) -> bool {
    let Some(pipeline) = split_pipeline(command) else { return false };
    let ctx = Context::new(root);
    ctx.programs_from_outside && pipeline.iter().all(|words| simple_is_read_only(words, &ctx))
}

/// Whether `command` is one simple command of plain words and quotes: no
/// pipes, lists, redirections, expansions of any kind (`$…`, backticks,
/// `~`, braces) or globs. A prefix the user allowed may only let such a
/// command through, so that nothing can ride along (a glob could become
/// an option such as cargo's `--config`).
pub(crate) fn is_simple_command(command: &str) -> bool {
    matches!(split_pipeline(command), Some(p) if p.len() == 1 && p[0].iter().all(|w| !w.is_glob()))
}

fn simple_is_read_only(words: &[Word], ctx: &Context) -> bool {
    let Some((name, args)) = words.split_first() else { return false };
    if name.is_glob() {
        return false;
    }
    let plain = Syntax::default();
    let numeric = Syntax { numeric: true, ..plain };
    match name.text.as_str() {
        "ls" => only_paths(args, tables::LS, plain, ctx),
        "cat" => only_paths(args, tables::CAT, plain, ctx),
        "head" | "tail" => only_paths(args, tables::HEAD_TAIL, numeric, ctx),
        "wc" => only_paths(args, tables::WC, plain, ctx),
        "file" => only_paths(args, tables::FILE, plain, ctx),
        "tree" => only_paths(args, tables::TREE, Syntax { value_alone: true, ..plain }, ctx),
        "pwd" => parse(args, &[tables::PWD], plain, ctx).is_some_and(|p| p.operands.is_empty()),
        "grep" => grep(args, ctx),
        "rg" => rg(args, ctx),
        "find" => find::is_read_only(args, ctx),
        "git" => git::is_read_only(args, ctx),
        // Operands are program names looked up in PATH; with a `/` which
        // would look at that file instead.
        "which" => parse(args, &[tables::WHICH], plain, ctx)
            .is_some_and(|p| p.operands.iter().all(|w| !w.is_glob() && !w.text.is_empty() && !w.text.contains('/'))),
        // Printed, not read; a glob still lists names, and `$` is refused
        // even quoted so that nothing that looks like a variable is echoed.
        "echo" => parse(args, &[tables::ECHO], plain, ctx)
            .is_some_and(|p| p.operands.iter().all(|w| !w.text.contains('$') && (!w.is_glob() || ctx.path(w)))),
        _ => false,
    }
}

/// A command whose operands are all files or directories to read.
fn only_paths(args: &[Word], table: Table, syntax: Syntax, ctx: &Context) -> bool {
    parse(args, &[table], syntax, ctx).is_some_and(|p| p.operands.iter().all(|w| ctx.path(w)))
}

/// The file operands of a command whose first operand is a pattern unless
/// one of `pattern_options` gave the patterns; `None` when the pattern is
/// missing or a glob (the shell would turn it into file names).
fn files_after_pattern<'p, 'w>(parsed: &'p Parsed<'w>, pattern_options: &[&str]) -> Option<&'p [&'w Word]> {
    if parsed.has(pattern_options) {
        return Some(&parsed.operands);
    }
    let (pattern, files) = parsed.operands.split_first()?;
    (!pattern.is_glob()).then_some(files)
}

/// `grep [OPTION…] PATTERN [FILE…]`. A recursive search that could reach a
/// `.git` directory must leave it out with `--exclude-dir=.git`: the
/// file tools never read `.git`, and its `config` can hold a remote's
/// credentials.
fn grep(args: &[Word], ctx: &Context) -> bool {
    let syntax = Syntax { numeric: true, ..Syntax::default() };
    let Some(parsed) = parse(args, &[tables::GREP], syntax, ctx) else { return false };
    let Some(files) = files_after_pattern(&parsed, &["-e", "--regexp", "-f", "--file"]) else { return false };
    if !files.iter().all(|w| ctx.path(w)) {
        return false;
    }
    let recursive =
        parsed.has(&["-r", "--recursive"]) || parsed.values(&["-d", "--directories"]).any(|v| v == "recurse");
    if !recursive || parsed.values(&["--exclude-dir"]).any(|v| v == ".git") {
        return true;
    }
    // With no file, a recursive grep searches `.`.
    if files.is_empty() {
        return !ctx.reaches_git(&Word::plain("."));
    }
    files.iter().all(|w| !w.is_glob() && !ctx.reaches_git(w))
}

/// `rg [OPTION…] PATTERN [PATH…]`; without `--hidden` ripgrep skips `.git`.
fn rg(args: &[Word], ctx: &Context) -> bool {
    let Some(parsed) = parse(args, &[tables::RG], Syntax::default(), ctx) else { return false };
    if parsed.count(&["-u", "--unrestricted"]) > 1 {
        return false;
    }
    let pattern_options = ["-e", "--regexp", "-f", "--file", "--files", "--type-list"];
    files_after_pattern(&parsed, &pattern_options).is_some_and(|paths| paths.iter().all(|w| ctx.path(w)))
}

#[cfg(test)]
mod tests;
