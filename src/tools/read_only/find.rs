//! `find` without actions: starting points inside the repository, then an
//! expression of tests and operators from the table below. find's options
//! are single words with a single dash and are not abbreviated, but its
//! expression is positional, so it is read here rather than by
//! [`super::options::parse`].

use super::options::{Nothing, Path, Takes, Value};
use super::paths::Context;
use super::words::Word;

/// Primaries and operators that only test or print (GNU findutils; the
/// BSD find accepts the same spellings for those it has). Left out, so
/// they ask: `-exec`, `-execdir`, `-ok`, `-okdir` (run programs),
/// `-delete`, `-fprint`, `-fprint0`, `-fprintf`, `-fls` (delete or write
/// files), `-follow` (follows links out of the repository), `-newerXY`
/// (whose argument is a file or a date depending on `Y`) and
/// `-files0-from` (reads starting points from a file).
const EXPRESSION: &[(&str, Takes)] = &[
    ("(", Nothing),
    (")", Nothing),
    ("!", Nothing),
    (",", Nothing),
    ("-not", Nothing),
    ("-a", Nothing),
    ("-and", Nothing),
    ("-o", Nothing),
    ("-or", Nothing),
    ("-print", Nothing),
    ("-print0", Nothing),
    ("-ls", Nothing),
    ("-prune", Nothing),
    ("-quit", Nothing),
    ("-true", Nothing),
    ("-false", Nothing),
    ("-empty", Nothing),
    ("-executable", Nothing),
    ("-readable", Nothing),
    ("-writable", Nothing),
    ("-nouser", Nothing),
    ("-nogroup", Nothing),
    ("-depth", Nothing),
    ("-mount", Nothing),
    ("-xdev", Nothing),
    ("-daystart", Nothing),
    ("-noleaf", Nothing),
    ("-ignore_readdir_race", Nothing),
    ("-noignore_readdir_race", Nothing),
    ("-nowarn", Nothing),
    ("-warn", Nothing),
    ("-name", Value),
    ("-iname", Value),
    ("-path", Value),
    ("-ipath", Value),
    ("-wholename", Value),
    ("-iwholename", Value),
    ("-regex", Value),
    ("-iregex", Value),
    ("-regextype", Value),
    ("-lname", Value),
    ("-ilname", Value),
    ("-type", Value),
    ("-xtype", Value),
    ("-size", Value),
    ("-perm", Value),
    ("-user", Value),
    ("-group", Value),
    ("-uid", Value),
    ("-gid", Value),
    ("-links", Value),
    ("-inum", Value),
    ("-mtime", Value),
    ("-atime", Value),
    ("-ctime", Value),
    ("-mmin", Value),
    ("-amin", Value),
    ("-cmin", Value),
    ("-used", Value),
    ("-maxdepth", Value),
    ("-mindepth", Value),
    ("-fstype", Value),
    // To standard output, like `-print`.
    ("-printf", Value),
    // Compare with another file's times or inode: a path to check.
    ("-newer", Path),
    ("-anewer", Path),
    ("-cnewer", Path),
    ("-samefile", Path),
];

/// Options before the starting points: `-P` (never follow links, the
/// default) and `-H` (follow links given as starting points, which are
/// checked). `-L` follows every link; `-D` and `-O` are for debugging.
const LEADING: &[&str] = &["-P", "-H"];

pub fn is_read_only(args: &[Word], ctx: &Context) -> bool {
    let mut words = args.iter().peekable();
    while words.next_if(|w| LEADING.contains(&w.text.as_str())).is_some() {}
    // Starting points end at the first word that starts an expression.
    while let Some(start) = words.next_if(|w| !w.text.starts_with('-') && !matches!(w.text.as_str(), "(" | "!")) {
        // `*` could match a file named `-delete`: the glob check refuses
        // any glob that could begin with `-`.
        if !ctx.path(start) {
            return false;
        }
    }
    while let Some(word) = words.next() {
        if word.is_glob() {
            return false;
        }
        let Some(&(_, takes)) = EXPRESSION.iter().find(|(name, _)| *name == word.text) else { return false };
        let ok = match takes {
            Nothing => true,
            // The argument is taken whatever it looks like (`-mtime -7`),
            // but unquoted wildcards would be expanded by the shell first.
            Path => words.next().is_some_and(|v| !v.is_glob() && ctx.path(v)),
            _ => words.next().is_some_and(|v| !v.is_glob()),
        };
        if !ok {
            return false;
        }
    }
    true
}
