//! Which shell commands may run without asking: a short list of commands
//! that only read, checked conservatively. A wrong "no" costs one approval;
//! a wrong "yes" runs something the user never saw, so anything unusual is
//! a "no".

/// One shell word after quote removal.
#[derive(Debug, PartialEq, Eq)]
struct Word {
    text: String,
    /// Contains an unquoted `*`, `?`, `[` or `{`: the shell may expand it
    /// into file names, and a file named e.g. `--output=x` or `-delete`
    /// would become an option.
    expands: bool,
}

/// Whether `command` is a pipeline of read-only commands: `ls`, `pwd`,
/// `cat`, `head`, `tail`, `wc`, `rg`, `grep`, `find` (without actions that
/// run or delete), `git status|diff|log|show`, `git branch` (listing),
/// `tree`, `file`, `which`, `echo`. Redirections, command lists (`;`, `&&`,
/// `||`, `&`), substitutions (`` ` ``, `$(`), subshells and variable
/// assignments make it not read-only.
pub fn is_read_only(command: &str, _root: &std::path::Path) -> bool {
    let Some(pipeline) = split_pipeline(command) else { return false };
    !pipeline.is_empty() && pipeline.iter().all(|words| is_read_only_simple(words))
}

/// Whether `command` is one simple command: words and quotes only, no
/// pipes, lists, redirections or substitutions. A prefix the user allowed
/// may only let such a command through, so nothing else can ride along.
pub fn is_simple_command(command: &str) -> bool {
    matches!(split_pipeline(command), Some(p) if p.len() == 1)
}

/// Splits on unquoted `|` into simple commands of words, or `None` when the
/// command uses any shell syntax beyond words, quotes and pipes.
fn split_pipeline(command: &str) -> Option<Vec<Vec<Word>>> {
    let mut pipeline = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut word: Option<Word> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '|' => {
                // `||` is a list operator, not a pipe.
                if chars.peek() == Some(&'|') {
                    return None;
                }
                words.extend(word.take());
                if words.is_empty() {
                    return None;
                }
                pipeline.push(std::mem::take(&mut words));
            }
            '\'' => {
                let w = word.get_or_insert_with(Word::empty);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.text.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(Word::empty);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '`' => return None,
                        '$' if chars.peek() == Some(&'(') => return None,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => w.text.push(c),
                            '\n' => return None,
                            c => {
                                w.text.push('\\');
                                w.text.push(c);
                            }
                        },
                        c => w.text.push(c),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => return None,
                c => word.get_or_insert_with(Word::empty).text.push(c),
            },
            '$' if chars.peek() == Some(&'(') => return None,
            ';' | '&' | '>' | '<' | '(' | ')' | '`' | '\n' | '\r' => return None,
            // A comment hides the rest of the line from this check.
            '#' if word.is_none() => return None,
            c => {
                let w = word.get_or_insert_with(Word::empty);
                w.expands |= matches!(c, '*' | '?' | '[' | '{');
                w.text.push(c);
            }
        }
    }
    words.extend(word.take());
    if words.is_empty() {
        // Empty command, or a trailing `|`.
        return None;
    }
    pipeline.push(words);
    Some(pipeline)
}

impl Word {
    fn empty() -> Self {
        Self { text: String::new(), expands: false }
    }
}

fn is_read_only_simple(words: &[Word]) -> bool {
    let Some((name, args)) = words.split_first() else { return false };
    // A quoted or globbed command name is not worth reasoning about.
    if name.expands {
        return false;
    }
    match name.text.as_str() {
        "ls" | "pwd" | "cat" | "head" | "tail" | "wc" | "grep" | "which" | "echo" => true,
        // `--pre` and `--hostname-bin` run programs.
        "rg" => {
            no_expansion(args)
                && !args.iter().any(|a| a.text.starts_with("--pre") || a.text.starts_with("--hostname-bin"))
        }
        "find" => no_expansion(args) && !args.iter().any(|a| FIND_ACTIONS.contains(&a.text.as_str())),
        "file" => {
            no_expansion(args) && !args.iter().any(|a| a.text == "--compile" || short_flags_contain(&a.text, "C"))
        }
        "tree" => no_expansion(args) && args.iter().all(|a| tree_arg_is_safe(&a.text)),
        "git" => no_expansion(args) && git_is_read_only(args),
        _ => false,
    }
}

/// `find` primaries that run commands, delete or write files.
const FIND_ACTIONS: &[&str] =
    &["-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"];

fn no_expansion(args: &[Word]) -> bool {
    !args.iter().any(|a| a.expands)
}

/// Whether `arg` is a cluster of short options (`-abc`) containing any of
/// `flags`.
fn short_flags_contain(arg: &str, flags: &str) -> bool {
    arg.starts_with('-') && !arg.starts_with("--") && arg.chars().skip(1).any(|c| flags.contains(c))
}

fn tree_arg_is_safe(arg: &str) -> bool {
    // `-o` writes the listing to a file; `-R` writes `00Tree.html` files.
    if let Some(long) = arg.strip_prefix("--") {
        let name = long.split('=').next().unwrap_or(long);
        return matches!(
            name,
            "noreport" | "dirsfirst" | "gitignore" | "prune" | "filelimit" | "du" | "si" | "charset"
        );
    }
    !short_flags_contain(arg, "oR")
}

fn git_is_read_only(args: &[Word]) -> bool {
    // Global options (`-c`, `-C`, `--exec-path`, ...) can run anything; only
    // `--no-pager` is let through.
    let args = match args.split_first() {
        Some((first, rest)) if first.text == "--no-pager" => rest,
        _ => args,
    };
    let Some((sub, rest)) = args.split_first() else { return false };
    // `--output` writes a file; `--ext-diff` runs a configured program.
    let writes = |a: &Word| a.text.starts_with("--output") || a.text == "--ext-diff";
    match sub.text.as_str() {
        "status" | "diff" | "log" | "show" => !rest.iter().any(writes),
        "branch" => git_branch_lists(rest),
        _ => false,
    }
}

/// `git branch` with only listing options; a bare name would create a
/// branch unless `--list` makes it a pattern.
fn git_branch_lists(args: &[Word]) -> bool {
    const FLAGS: &[&str] = &[
        "-a",
        "--all",
        "-r",
        "--remotes",
        "-v",
        "-vv",
        "--verbose",
        "-l",
        "--list",
        "--show-current",
        "--column",
        "--no-column",
        "--color",
        "--no-color",
        "-i",
        "--ignore-case",
        "--omit-empty",
    ];
    // Options whose value may be the next word.
    const WITH_VALUE: &[&str] = &["--contains", "--no-contains", "--merged", "--no-merged", "--points-at", "--sort"];
    let listing = args.iter().any(|a| a.text == "-l" || a.text == "--list");
    let mut expect_value = false;
    for arg in args {
        let text = arg.text.as_str();
        let name = text.split('=').next().unwrap_or(text);
        if std::mem::take(&mut expect_value) && !text.starts_with('-') {
            continue;
        }
        if FLAGS.contains(&name) || name == "--format" {
            continue;
        }
        if WITH_VALUE.contains(&name) {
            expect_value = !text.contains('=');
            continue;
        }
        if text.starts_with('-') || !listing {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    fn is_read_only(command: &str) -> bool {
        super::is_read_only(command, std::path::Path::new("."))
    }

    #[test]
    fn plain_read_only_commands() {
        for cmd in [
            "ls",
            "ls -la src",
            "pwd",
            "cat src/main.rs",
            "head -n 20 Cargo.toml",
            "tail -n 5 log.txt",
            "wc -l src/*.rs",
            "rg -n 'fn main' src",
            "grep -rn \"TODO\" .",
            "find . -name '*.rs' -type f",
            "git status",
            "git status --short",
            "git diff HEAD~1 -- src",
            "git log --oneline -n 10",
            "git show HEAD:src/main.rs",
            "git --no-pager log -5",
            "git branch",
            "git branch -a -v",
            "git branch --list 'feat/*'",
            "git branch --merged main",
            "git branch --contains HEAD",
            "tree -L 2 src",
            "file README.md",
            "which cargo",
            "echo hello world",
            "echo $HOME",
            "  ls  ",
        ] {
            assert!(is_read_only(cmd), "{cmd}");
        }
    }

    #[test]
    fn pipes_between_read_only_commands() {
        assert!(is_read_only("git log --oneline | head -n 5"));
        assert!(is_read_only("grep -rn foo src | wc -l"));
        assert!(is_read_only("rg 'a|b' src"), "a quoted pipe is part of the pattern");
        assert!(!is_read_only("cat x | sh"));
        assert!(!is_read_only("ls | xargs rm"));
        assert!(!is_read_only("find . | tee out.txt"));
        assert!(!is_read_only("ls |"));
        assert!(!is_read_only("| ls"));
    }

    #[test]
    fn chaining_redirection_and_substitution_are_not_read_only() {
        for cmd in [
            "ls > out.txt",
            "ls >> out.txt",
            "ls 2>/dev/null",
            "cat < x",
            "ls; rm -rf /",
            "ls && rm x",
            "ls || rm x",
            "ls & rm x",
            "sleep 1 &",
            "echo `rm x`",
            "echo $(rm x)",
            "echo \"$(rm x)\"",
            "echo \"`rm x`\"",
            "echo $((1+2))",
            "(ls)",
            "ls\nrm x",
            "ls # comment",
            "FOO=bar ls",
            "'ls' x > y",
            "echo 'unterminated",
            "ls \\\nx",
            "",
            "   ",
        ] {
            assert!(!is_read_only(cmd), "{cmd:?}");
        }
    }

    #[test]
    fn quoting_keeps_metacharacters_literal() {
        assert!(is_read_only("grep ';' src/main.rs"));
        assert!(is_read_only("grep 'a > b' src"));
        assert!(is_read_only("echo \"a && b\""));
        assert!(is_read_only("grep -n 'fn foo(' src"));
        assert!(is_read_only("grep \\; x"));
    }

    #[test]
    fn commands_not_on_the_list_are_not_read_only() {
        for cmd in ["rm x", "cargo build", "sh -c ls", "sed -i s/a/b/ x", "git commit -m x", "/bin/ls", "l*s"] {
            assert!(!is_read_only(cmd), "{cmd}");
        }
    }

    #[test]
    fn writing_options_are_not_read_only() {
        for cmd in [
            "find . -exec rm {} \\;",
            "find . -name x -exec rm {} +",
            "find . -delete",
            "find . -execdir rm {} +",
            "find . -fprint out",
            "find . -ok rm {} ;",
            "rg --pre ./evil x",
            "rg --pre=./evil x",
            "rg --hostname-bin=./evil x",
            "file -C -m magic",
            "file -bC x",
            "tree -o out.txt",
            "tree -aoout.txt",
            "tree -R -H .",
            "tree --fromfile x",
            "git diff --output=x",
            "git log --output x",
            "git diff --ext-diff",
            "git -c core.pager=evil log",
            "git -C /tmp status",
            "git push",
            "git checkout main",
            "git branch new-branch",
            "git branch -d old",
            "git branch -D old",
            "git branch -m a b",
            "git branch --set-upstream-to origin/main",
            "git branch -f main HEAD",
            "git",
        ] {
            assert!(!is_read_only(cmd), "{cmd}");
        }
    }

    #[test]
    fn expansions_into_options_are_not_read_only() {
        // A file named `-delete` or `--output=x` would become an option.
        for cmd in
            ["find *", "find . -name *.rs", "git diff *", "rg foo *", "tree *", "file *", "git diff {--output=x,HEAD}"]
        {
            assert!(!is_read_only(cmd), "{cmd}");
        }
        assert!(is_read_only("cat src/*.rs"));
        assert!(is_read_only("find . -name '*.rs'"));
    }
}
