use std::os::unix::fs::symlink;

use super::*;

/// A repository with a `.git` directory, a few files, and a directory
/// outside it; `link` leads out.
struct Repo {
    dir: tempfile::TempDir,
    outside: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        for d in ["src", ".git"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        for f in ["src/main.rs", "src/lib.rs", "Cargo.toml", "README.md", "log.txt", ".git/config"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        symlink(outside.path(), dir.path().join("link")).unwrap();
        Self { dir, outside }
    }

    fn ro(&self, command: &str) -> bool {
        is_read_only(command, self.dir.path())
    }
}

fn is_ro(command: &str) -> bool {
    thread_local!(static REPO: Repo = Repo::new());
    REPO.with(|r| r.ro(command))
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
        "grep -rn \"TODO\" src",
        "grep -rn \"TODO\" . --exclude-dir=.git",
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
        "  ls  ",
    ] {
        assert!(is_ro(cmd), "{cmd}");
    }
}

#[test]
fn pipes_between_read_only_commands() {
    assert!(is_ro("git log --oneline | head -n 5"));
    assert!(is_ro("grep -rn foo src | wc -l"));
    assert!(is_ro("rg 'a|b' src"), "a quoted pipe is part of the pattern");
    assert!(!is_ro("cat x | sh"));
    assert!(!is_ro("ls | xargs rm"));
    assert!(!is_ro("find . | tee out.txt"));
    assert!(!is_ro("ls |"));
    assert!(!is_ro("| ls"));
}

#[test]
fn chaining_redirection_and_substitution_are_not_read_only() {
    for cmd in [
        "ls > out.txt",
        "ls >> out.txt",
        "ls >| out.txt",
        "ls &> out.txt",
        "ls <> out.txt",
        "cat <<< x",
        "ls |& cat",
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
        "ls\rrm x",
        "ls # comment",
        "FOO=bar ls",
        "'ls' x > y",
        "echo 'unterminated",
        "ls \\\nx",
        "",
        "   ",
    ] {
        assert!(!is_ro(cmd), "{cmd:?}");
    }
}

#[test]
fn quoting_keeps_metacharacters_literal() {
    assert!(is_ro("grep ';' src/main.rs"));
    assert!(is_ro("grep 'a > b' src"));
    assert!(is_ro("echo \"a && b\""));
    assert!(is_ro("grep -n 'fn foo(' src"));
    assert!(is_ro("grep \\; x"));
    assert!(is_ro("rg 'x$' src"), "a single-quoted `$` is literal");
}

#[test]
fn commands_not_on_the_list_are_not_read_only() {
    for cmd in ["rm x", "cargo build", "sh -c ls", "sed -i s/a/b/ x", "git commit -m x", "/bin/ls", "l*s"] {
        assert!(!is_ro(cmd), "{cmd}");
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
        assert!(!is_ro(cmd), "{cmd}");
    }
}

#[test]
fn expansions_into_options_are_not_read_only() {
    // A file named `-delete` or `--output=x` would become an option.
    for cmd in
        ["find *", "find . -name *.rs", "git diff *", "rg foo *", "tree *", "file *", "git diff {--output=x,HEAD}"]
    {
        assert!(!is_ro(cmd), "{cmd}");
    }
    assert!(is_ro("cat src/*.rs"));
    assert!(is_ro("find . -name '*.rs'"));
}

#[test]
fn every_dollar_form_is_refused() {
    // `echo $HOME` used to count as read-only; a variable can hold a key.
    for cmd in [
        "echo $HOME",
        "echo $OPENAI_API_KEY",
        "echo \"${OPENAI_API_KEY}\"",
        "find . $'-delete'",
        "find . $'-exec' rm x \\;",
        "git log $'--output=F'",
        "git log $\"--output=F\"",
        "cat $'/etc/passwd'",
    ] {
        assert!(!is_ro(cmd), "{cmd}");
        assert!(!is_simple_command(&format!("cargo test {}", cmd.split_once(' ').unwrap().1)), "{cmd}");
    }
    assert!(!is_ro("echo '$HOME'"), "echo prints no `$`, quoted or not");
    assert!(is_simple_command("cargo test '$HOME'"), "quoted, it is literal");
    assert!(is_simple_command("cargo test -p tandem --lib"));
    assert!(!is_simple_command("cargo test *"), "a file named --config=… would become an option");
}

#[test]
fn long_options_must_be_spelt_in_full() {
    for cmd in ["file --comp -m x", "file --compi -m x", "git log --outp=F", "git diff --ext-d", "git status --shor"] {
        assert!(!is_ro(cmd), "{cmd}");
    }
    assert!(is_ro("file --brief README.md"));
    assert!(is_ro("git status --short"));
}

#[test]
fn paths_outside_the_repository_are_not_read_only() {
    let repo = Repo::new();
    let secret = repo.outside.path().join("secret");
    for cmd in [
        "cat /etc/passwd".to_string(),
        "cat ../x".to_string(),
        "head -n 1 src/../../x".to_string(),
        format!("cat {}", secret.display()),
        "cat link/secret".to_string(),
        "ls link".to_string(),
        "cat .git/config".to_string(),
        "grep x .git/config".to_string(),
        "git diff --no-index /etc/passwd x".to_string(),
        "git diff /etc/passwd README.md".to_string(),
        "git show HEAD:../x".to_string(),
        "grep -f /etc/passwd src".to_string(),
        "rg --ignore-file ../x foo".to_string(),
        "find / -name x".to_string(),
        "find . -newer /etc/passwd".to_string(),
        "tree ..".to_string(),
        "cat /*".to_string(),
        "cat .*".to_string(),
        "ls ../*".to_string(),
        "which /bin/sh".to_string(),
    ] {
        assert!(!repo.ro(&cmd), "{cmd}");
    }
    let inside = repo.dir.path().join("src/main.rs");
    assert!(repo.ro(&format!("cat {}", std::fs::canonicalize(inside).unwrap().display())));
}

#[test]
fn recursive_searches_must_not_reach_git() {
    for cmd in ["grep -rn TODO .", "grep -r x", "grep -d recurse x .", "rg -uu x", "rg --hidden x", "rg -u -u x"] {
        assert!(!is_ro(cmd), "{cmd}");
    }
    for cmd in ["grep -rn TODO src", "grep -r x . --exclude-dir=.git", "rg -u x", "rg x"] {
        assert!(is_ro(cmd), "{cmd}");
    }
}

#[test]
fn values_are_not_taken_for_paths_nor_paths_for_values() {
    assert!(is_ro("head -n 5 Cargo.toml"));
    assert!(is_ro("grep -e /etc/passwd src"), "a pattern, not a file");
    assert!(is_ro("rg -g '!target' foo"));
    assert!(is_ro("git log --author /etc/passwd"), "an author, not a file");
    assert!(!is_ro("grep -e x /etc/passwd"));
    assert!(!is_ro("git log -n 1 /etc/passwd"));
    assert!(!is_ro("tree -L 2 /"));
    assert!(!is_ro("tree -Lo 2 out"), "tree reads `-o out` from the following words");
}
