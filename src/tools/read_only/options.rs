//! Options of read-only commands, read from explicit tables the way
//! `getopt_long` (and git's parse-options) read them, except that a long
//! option must be spelt out in full: GNU tools and git accept any unique
//! prefix (`--comp` for `--compile`, `--outp` for `--output`), so only an
//! exact name from the table says which option the tool will see.

use super::paths::Context;
use super::words::Word;

/// What an option takes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Takes {
    /// Nothing: a flag.
    Nothing,
    /// A value that is not a file name: glued (`-n5`, `--lines=5`) or the
    /// next word.
    Value,
    /// A file the tool reads: glued or the next word, and checked like a
    /// path operand.
    Path,
    /// A value only when glued (`--color=never`, `-M50`); the next word is
    /// never taken.
    Glued,
    /// git's "last argument default" (`--contains [<commit>]`): the next
    /// word when there is one.
    NextIfAny,
}

pub(crate) use Takes::{Glued, NextIfAny, Nothing, Path, Value};

/// A command's read-only options: exact spellings and what each takes.
pub(crate) type Table = &'static [(&'static str, Takes)];

/// How a command reads its words beyond what [`Table`] says.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Syntax {
    /// `-NUM` is an option (`head -20`, `grep -3`, `git log -5`).
    pub numeric: bool,
    /// A short option that takes a value must stand alone (`tree -L 2`):
    /// tree takes the value of each one in a cluster from the following
    /// words and reads on, so `-Lo 2 out` would be `-L 2 -o out`.
    pub value_alone: bool,
}

/// The options and operands of one command, in order.
#[derive(Debug, Default)]
pub(crate) struct Parsed<'w> {
    /// Options by their table name, with their value if they took one.
    pub options: Vec<(&'static str, Option<String>)>,
    /// Words that are not options or option values (including those
    /// after `--`).
    pub operands: Vec<&'w Word>,
    /// How many operands came before `--` (all of them if there was none).
    pub before_dashdash: usize,
}

impl Parsed<'_> {
    pub(crate) fn has(&self, names: &[&str]) -> bool {
        self.options.iter().any(|(n, _)| names.contains(n))
    }

    pub fn count(&self, names: &[&str]) -> usize {
        self.options.iter().filter(|(n, _)| names.contains(n)).count()
    }

    pub(crate) fn values<'a>(&'a self, names: &'a [&str]) -> impl Iterator<Item = &'a str> + 'a {
        self.options.iter().filter(move |(n, _)| names.contains(n)).filter_map(|(_, v)| v.as_deref())
    }
}

fn lookup(tables: &[Table], name: &str) -> Option<(&'static str, Takes)> {
    tables.iter().flat_map(|t| t.iter()).find(|(n, _)| *n == name).copied()
}

/// Reads `args` against `tables`; `None` when a word is not an option in
/// them, a value is missing or a value fails its check.
pub fn parse<'w>(args: &'w [Word], tables: &[Table], syntax: Syntax, ctx: &Context) -> Option<Parsed<'w>> {
    let mut parsed = Parsed::default();
    let mut dashdash = false;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        i += 1;
        let text = word.text.as_str();
        if dashdash || text == "-" || !text.starts_with('-') {
            parsed.operands.push(word);
            continue;
        }
        if !ctx.options_after_operands && !parsed.operands.is_empty() {
            return None;
        }
        if text == "--" {
            dashdash = true;
            parsed.before_dashdash = parsed.operands.len();
            continue;
        }
        if syntax.numeric && text.len() > 1 && text[1..].bytes().all(|b| b.is_ascii_digit()) && !word.is_glob() {
            parsed.options.push(("-NUM", Some(text[1..].to_string())));
            continue;
        }
        if text.starts_with("--") {
            let eq = text.find('=');
            let name = &text[..eq.unwrap_or(text.len())];
            // Wildcards in the name would let the shell pick the option.
            if word.chars().take(name.chars().count()).any(|(_, wild)| wild) {
                return None;
            }
            let (name, takes) = lookup(tables, name)?;
            let glued = eq.map(|at| word.tail(text[..=at].chars().count()));
            let value = take_value(takes, glued, args, &mut i, ctx)?;
            parsed.options.push((name, value));
            continue;
        }
        let chars: Vec<(char, bool)> = word.chars().collect();
        let mut j = 1;
        while let Some(&(c, wild)) = chars.get(j) {
            j += 1;
            if wild {
                return None;
            }
            let (name, takes) = lookup(tables, &format!("-{c}"))?;
            if takes == Nothing {
                parsed.options.push((name, None));
                continue;
            }
            if syntax.value_alone && chars.len() != 2 {
                return None;
            }
            let glued = (j < chars.len()).then(|| word.tail(j));
            let value = take_value(takes, glued, args, &mut i, ctx)?;
            parsed.options.push((name, value));
            break;
        }
    }
    if !dashdash {
        parsed.before_dashdash = parsed.operands.len();
    }
    Some(parsed)
}

/// The value of an option that takes `takes`, from `glued` or the word at
/// `*next` (advancing it); `Some(None)` when it takes none.
fn take_value(
    takes: Takes,
    glued: Option<Word>,
    args: &[Word],
    next: &mut usize,
    ctx: &Context,
) -> Option<Option<String>> {
    let value = match (takes, glued) {
        (Nothing, Some(_)) => return None,
        (Nothing, None) | (Glued, None) => return Some(None),
        (NextIfAny, None) if *next == args.len() => return Some(None),
        (_, Some(v)) => v,
        (Value | Path | NextIfAny, None) => {
            let v = args.get(*next)?.clone();
            *next += 1;
            v
        }
    };
    // The shell would replace a glob by file names: separate, by several
    // words (the extra ones operands); glued, by the same option with
    // values from the repository's file names (a file named
    // `--format=%GS` turns `--format=*` into a gpg run). Quoting it costs
    // nothing.
    if value.is_glob() {
        return None;
    }
    let ok = takes != Path || ctx.path(&value);
    ok.then_some(Some(value.text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::read_only::words::split_pipeline;

    const TABLE: Table = &[
        ("-n", Value),
        ("--lines", Value),
        ("-v", Nothing),
        ("-q", Nothing),
        ("-f", Path),
        ("--file", Path),
        ("--color", Glued),
        ("--contains", NextIfAny),
    ];

    fn ctx() -> (tempfile::TempDir, Context) {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::with_env(dir.path(), |_| None);
        (dir, ctx)
    }

    fn run(command: &str, syntax: Syntax, ctx: &Context) -> Option<(Vec<String>, Vec<String>)> {
        let words = split_pipeline(command).unwrap().remove(0);
        let parsed = parse(&words, &[TABLE], syntax, ctx)?;
        let options = parsed.options.iter().map(|(n, v)| format!("{n}={}", v.as_deref().unwrap_or(""))).collect();
        Some((options, parsed.operands.iter().map(|w| w.text.clone()).collect()))
    }

    #[test]
    fn values_glued_or_separate() {
        let (_d, ctx) = ctx();
        let (opts, ops) = run("-n5 -vq --lines 7 a -n -3 --color=never -- -v", Syntax::default(), &ctx).unwrap();
        assert_eq!(opts, ["-n=5", "-v=", "-q=", "--lines=7", "-n=-3", "--color=never"]);
        assert_eq!(ops, ["a", "-v"]);
        let (opts, ops) = run("--color never", Syntax::default(), &ctx).unwrap();
        assert_eq!((opts, ops), (vec!["--color=".to_string()], vec!["never".to_string()]));
        let (opts, _) = run("--contains", Syntax::default(), &ctx).unwrap();
        assert_eq!(opts, ["--contains="]);
        let (opts, _) = run("--contains HEAD", Syntax::default(), &ctx).unwrap();
        assert_eq!(opts, ["--contains=HEAD"]);
    }

    #[test]
    fn abbreviations_and_unknown_options_are_refused() {
        let (_d, ctx) = ctx();
        for cmd in ["--line 5", "--lin=5", "-x", "-vx", "--v", "-n", "--lines", "--col", "-v=1", "--nope"] {
            assert!(run(cmd, Syntax::default(), &ctx).is_none(), "{cmd}");
        }
    }

    #[test]
    fn path_values_are_checked() {
        let (_d, ctx) = ctx();
        assert!(run("-f x", Syntax::default(), &ctx).is_some());
        for cmd in ["-f /etc/passwd", "-f/etc/passwd", "--file=../x", "--file ../x", "-vf/etc/passwd", "-f a*"] {
            assert!(run(cmd, Syntax::default(), &ctx).is_none(), "{cmd}");
        }
    }

    #[test]
    fn globs_are_never_values_or_options() {
        let (_d, ctx) = ctx();
        assert!(run("-n '*'", Syntax::default(), &ctx).is_some());
        assert!(run("--lines='*'", Syntax::default(), &ctx).is_some());
        for cmd in ["-n *", "--lines *", "-n*", "--lines=*", "-*", "--li*=3", "-v*", "--color=a*"] {
            assert!(run(cmd, Syntax::default(), &ctx).is_none(), "{cmd}");
        }
    }

    #[test]
    fn syntax_variants() {
        let (_d, ctx) = ctx();
        assert!(run("-20", Syntax::default(), &ctx).is_none());
        assert!(run("-20", Syntax { numeric: true, ..Syntax::default() }, &ctx).is_some());
        let alone = Syntax { value_alone: true, ..Syntax::default() };
        assert!(run("-n 2", alone, &ctx).is_some());
        assert!(run("-vn 2", alone, &ctx).is_none());
        assert!(run("-n2", alone, &ctx).is_none());
        let posix = Context { options_after_operands: false, ..ctx };
        assert!(run("a -v", Syntax::default(), &posix).is_none());
        assert!(run("-v a", Syntax::default(), &posix).is_some());
    }
}
