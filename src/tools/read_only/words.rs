//! Shell words, the way `sh` (dash or bash) would split a command, for the
//! small subset of the language that can be understood without running it:
//! plain words, single quotes, double quotes without expansions, backslash
//! escapes and pipes. Anything else — every `$` form, backticks, tilde and
//! brace expansion, redirections, lists, subshells, comments, control
//! characters — makes the command not understood, and the caller asks.

/// One shell word after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub text: String,
    /// Per character of `text`: an unquoted `*`, `?` or `[`, which the
    /// shell may replace by file names.
    wild: Vec<bool>,
}

impl Word {
    fn empty() -> Self {
        Self { text: String::new(), wild: Vec::new() }
    }

    /// A word written without wildcards, as if quoted.
    pub(crate) fn plain(text: &str) -> Self {
        Self { text: text.into(), wild: vec![false; text.chars().count()] }
    }

    fn push(&mut self, c: char, wild: bool) {
        self.text.push(c);
        self.wild.push(wild);
    }

    /// Whether the shell may expand the word into file names.
    pub(crate) fn is_glob(&self) -> bool {
        self.wild.iter().any(|&w| w)
    }

    /// The characters with their wildcard marks.
    pub(crate) fn chars(&self) -> impl Iterator<Item = (char, bool)> + '_ {
        self.text.chars().zip(self.wild.iter().copied())
    }

    /// The word from character `start` on (a glued option value), keeping
    /// the wildcard marks.
    pub(crate) fn tail(&self, start: usize) -> Word {
        let text = self.text.chars().skip(start).collect();
        Word { text, wild: self.wild.iter().skip(start).copied().collect() }
    }
}

/// Splits `command` on unquoted `|` into simple commands of words, or
/// `None` when it uses any syntax beyond words, quotes, escapes and pipes.
pub(crate) fn split_pipeline(command: &str) -> Option<Vec<Vec<Word>>> {
    let mut pipeline = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut word: Option<Word> = None;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '|' => {
                // `||` is a list operator and `|&` (bash) also pipes stderr.
                if matches!(chars.peek(), Some('|' | '&')) {
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
                        c if c.is_control() => return None,
                        c => w.push(c, false),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(Word::empty);
                loop {
                    match chars.next()? {
                        '"' => break,
                        // Parameter, command and arithmetic expansion all
                        // still happen inside double quotes.
                        '$' | '`' => return None,
                        // Inside double quotes a backslash only escapes
                        // `$`, `` ` ``, `"`, `\` and newline; the first two
                        // would smuggle a `$` or a backtick past a reader.
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => w.push(c, false),
                            '$' | '`' => return None,
                            c if c.is_control() => return None,
                            c => {
                                w.push('\\', false);
                                w.push(c, false);
                            }
                        },
                        c if c.is_control() => return None,
                        c => w.push(c, false),
                    }
                }
            }
            '\\' => match chars.next()? {
                // A continued line, or an escaped `$` that a reader of the
                // command would take for an expansion.
                '$' | '`' => return None,
                c if c.is_control() => return None,
                c => word.get_or_insert_with(Word::empty).push(c, false),
            },
            // Every expansion (`$VAR`, `${…}`, `$'…'`, `$"…"`, `$(…)`,
            // `$((…))`, `$[…]`), command substitution, lists, redirections
            // (`>`, `>|`, `&>`, `<>`, `<<`, `<<<`, `<(…)`), subshells and
            // brace expansion (bash, not dash: `{a,b}`, `{1..3}`).
            '$' | '`' | ';' | '&' | '>' | '<' | '(' | ')' | '{' | '}' => return None,
            // Newline and carriage return end a command in some shells and
            // are part of a word in others; no control character is plain.
            c if c.is_control() => return None,
            // A comment hides the rest of the line from this check.
            '#' if word.is_none() => return None,
            // Tilde expansion: at the start of a word, and after `=` or `:`
            // in words bash takes for assignments (`x=~/secret`).
            '~' if word.as_ref().is_none_or(|w| w.text.ends_with(['=', ':'])) => return None,
            c => word.get_or_insert_with(Word::empty).push(c, matches!(c, '*' | '?' | '[')),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(command: &str) -> Option<Vec<Vec<String>>> {
        split_pipeline(command).map(|p| p.into_iter().map(|c| c.into_iter().map(|w| w.text).collect()).collect())
    }

    #[test]
    fn quotes_and_escapes_are_removed() {
        assert_eq!(texts(r#"grep -n 'a b' "c d" e\ f"#).unwrap(), vec![vec!["grep", "-n", "a b", "c d", "e f"]]);
        assert_eq!(texts(r#"echo "a\"b\\c\d""#).unwrap(), vec![vec!["echo", r#"a"b\c\d"#]]);
        assert_eq!(texts("echo '$HOME'").unwrap(), vec![vec!["echo", "$HOME"]]);
        assert_eq!(texts("echo ''").unwrap(), vec![vec!["echo", ""]]);
        assert_eq!(texts("git diff HEAD~1").unwrap(), vec![vec!["git", "diff", "HEAD~1"]]);
    }

    #[test]
    fn pipes_split_commands() {
        assert_eq!(texts("ls | wc -l").unwrap(), vec![vec!["ls"], vec!["wc", "-l"]]);
        assert_eq!(texts("rg 'a|b'").unwrap(), vec![vec!["rg", "a|b"]]);
        for cmd in ["ls |", "| ls", "ls || x", "ls |& x", "ls | | wc"] {
            assert_eq!(texts(cmd), None, "{cmd}");
        }
    }

    #[test]
    fn only_unquoted_wildcards_glob() {
        let words = &split_pipeline(r#"ls *.rs '*.rs' "?" \[a] a[b]"#).unwrap()[0];
        let globs: Vec<bool> = words.iter().map(Word::is_glob).collect();
        assert_eq!(globs, [false, true, false, false, false, true]);
    }

    #[test]
    fn expansions_are_not_understood() {
        for cmd in [
            "echo $HOME",
            "echo ${HOME}",
            "echo $'\\x41'",
            "echo $\"x\"",
            "echo $(id)",
            "echo $((1+2))",
            "echo $[1+2]",
            "echo \"$HOME\"",
            "echo \"`id`\"",
            "echo \\$HOME",
            "echo \"\\$HOME\"",
            "echo `id`",
            "cat ~",
            "cat ~/x",
            "cat ~root/x",
            "echo x=~/y",
            "echo a:~/y",
            "cat {a,b}",
            "cat x{1..3}",
            "ls # x",
            "ls\nx",
            "ls\rx",
            "ls \\\nx",
            "echo 'a\nb'",
            "ls\u{0}",
            "echo 'open",
            "echo \"open",
            "echo x\\",
        ] {
            assert_eq!(texts(cmd), None, "{cmd:?}");
        }
    }
}
