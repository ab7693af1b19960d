//! `edit_file` and `apply_patch` find the model's quote even when its
//! indentation is off, and re-indent the new text to the file's. That is
//! only sound when the quote is off by one uniform shift: Aider's editblock
//! (`match_but_for_leading_whitespace`) accepts a quote only when every
//! non-blank line gains the same prefix. A quote whose lines are off by
//! different amounts says something else about the code's structure than
//! the file does; matching it anyway moved a `return` into an `if`.
//!
//! The cases take real multi-block code (Python, Rust, YAML, a Makefile,
//! tab-indented C and Go), quote windows of it shifted uniformly (these
//! must apply), then perturb one line's indentation at a time (these must
//! be refused, or match elsewhere with a uniform shift). Whatever applies
//! must leave every line it does not change byte for byte as it was.

use tandem::patch::apply_patch;
use tandem::patch::matching;

use crate::harness::Family;

const PYTHON: &str = r#"import time


def retry(fn, attempts=3, delay=0.5):
    last = None
    for attempt in range(attempts):
        try:
            return fn()
        except TransientError as e:
            last = e
            if attempt + 1 < attempts:
                time.sleep(delay * (2 ** attempt))
    raise last


class Cache:
    def __init__(self, size):
        self.size = size
        self.items = {}

    def get(self, key):
        if key in self.items:
            value = self.items.pop(key)
            self.items[key] = value
            return value
        return None
"#;

const RUST: &str = r#"impl Lexer {
    pub fn next_token(&mut self) -> Option<Token> {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.bump();
                continue;
            }
            if c == '#' {
                self.skip_comment();
            } else {
                return Some(self.lex(c));
            }
        }
        None
    }
}
"#;

const YAML: &str = r#"jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Run tests
        run: cargo test
        env:
          RUST_LOG: debug
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: cargo clippy
"#;

const MAKEFILE: &str = "build: deps\n\tcargo build --release\n\t@echo done\n\ndeps:\n\tif [ ! -d vendor ]; then \\\n\t\tcargo vendor; \\\n\tfi\n";

const C_TABS: &str = "static int\nparse_args(int argc, char **argv)\n{\n\tint i;\n\n\tfor (i = 1; i < argc; i++) {\n\t\tif (strcmp(argv[i], \"-v\") == 0)\n\t\t\tverbose = 1;\n\t\telse\n\t\t\treturn usage();\n\t}\n\treturn 0;\n}\n";

/// Tabs for blocks, spaces to align a continued line: Go after gofmt.
const GO_MIXED: &str = "func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\tif err := s.check(r.Context(),\n\t        r.URL.Path); err != nil {\n\t\thttp.Error(w, err.Error(), http.StatusForbidden)\n\t\treturn\n\t}\n\ts.serve(w, r)\n}\n";

/// Markdown, where indentation nests lists, with what models drop when
/// they quote: typographic quotes and dashes, an ellipsis, a no-break
/// space, trailing spaces (a hard line break).
const MARKDOWN: &str = "# Changelog \u{2014} v2.1\n\n- \u{201c}Fast\u{201d} mode is on by default.  \n  - Don\u{2019}t set `FAST=0` unless you must\u{2026}\n  - Caches up to 10\u{a0}MB.\n- Fixed a crash \u{2013} thanks, Zo\u{eb}!\n";

/// Each source with a comment to append to a line and a line to insert.
const SOURCES: [(&str, &str, &str, &str); 7] = [
    ("markdown", MARKDOWN, " (edited)", "- inserted"),
    ("python", PYTHON, "  # edited", "log.debug(\"here\")"),
    ("rust", RUST, " // edited", "trace!(\"here\");"),
    ("yaml", YAML, " # edited", "# inserted"),
    ("makefile", MAKEFILE, " # edited", "@echo inserted"),
    ("c with tabs", C_TABS, " /* edited */", "trace(\"here\");"),
    ("go, tabs and spaces", GO_MIXED, " // edited", "log.Print(\"here\")"),
];

fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// A line as a model tends to quote it: typography as ASCII, no trailing
/// whitespace (what codex's `seek_sequence` normalises, and tandem too).
fn plain(line: &str) -> String {
    let mut out = String::new();
    for c in line.trim_end().chars() {
        match c {
            '\u{2018}' | '\u{2019}' => out.push('\''),
            '\u{201c}' | '\u{201d}' => out.push('"'),
            '\u{2013}' | '\u{2014}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            '\u{a0}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Two lines' text is the same once indentation, trailing whitespace and
/// typography are set aside.
fn same_text(a: &str, b: &str) -> bool {
    plain(a).trim() == plain(b).trim()
}

/// Whether the quote's lines are the file's lines at `at` with one prefix
/// change: some `remove` and `add` such that every non-blank line's
/// indentation is `remove + rest` in the quote and `add + rest` in the file.
/// Tried by brute force over every split of the first non-blank line.
fn uniform_at(file: &[&str], quote: &[&str], at: usize) -> bool {
    let window = &file[at..at + quote.len()];
    if window.iter().zip(quote).any(|(f, q)| !same_text(f, q)) {
        return false;
    }
    let Some(first) = quote.iter().position(|q| !q.trim().is_empty()) else { return true };
    let (qi, fi) = (indentation(quote[first]), indentation(window[first]));
    (0..=qi.len().min(fi.len())).any(|k| {
        let (remove, add) = (&qi[..qi.len() - k], &fi[..fi.len() - k]);
        if qi[qi.len() - k..] != fi[fi.len() - k..] {
            return false;
        }
        window.iter().zip(quote).filter(|(_, q)| !q.trim().is_empty()).all(|(f, q)| {
            indentation(q).strip_prefix(remove).is_some_and(|rest| indentation(f) == format!("{add}{rest}"))
        })
    })
}

/// Where the quote matches with a uniform shift.
fn uniform_places(file: &[&str], quote: &[&str]) -> Vec<usize> {
    (0..=file.len().saturating_sub(quote.len())).filter(|&at| uniform_at(file, quote, at)).collect()
}

/// Where the quote's lines match whatever their indentation.
fn loose_places(file: &[&str], quote: &[&str]) -> Vec<usize> {
    (0..=file.len().saturating_sub(quote.len()))
        .filter(|&at| file[at..at + quote.len()].iter().zip(quote).all(|(f, q)| same_text(f, q)))
        .collect()
}

/// What the model's new text does to line `changed` of its quote.
#[derive(Clone, Copy)]
enum Change {
    /// Appends text to the line.
    Append(&'static str),
    /// Adds a line after it, indented as it is.
    Insert(&'static str),
}

impl Change {
    /// The new text: the quote with the change made.
    fn new_text(self, quote: &[String], changed: usize) -> Vec<String> {
        let mut new = quote.to_vec();
        match self {
            Change::Append(suffix) => new[changed].push_str(suffix),
            Change::Insert(text) => new.insert(changed + 1, format!("{}{text}", indentation(&quote[changed]))),
        }
        new
    }

    /// The chunk lines of an `*** Update File` that make the change.
    fn chunk(self, quote: &[String], changed: usize) -> String {
        let mut body = String::new();
        for (i, line) in quote.iter().enumerate() {
            match self {
                Change::Append(suffix) if i == changed => body.push_str(&format!("-{line}\n+{line}{suffix}\n")),
                Change::Insert(text) if i == changed => {
                    body.push_str(&format!(" {line}\n+{}{text}\n", indentation(line)));
                }
                _ => body.push_str(&format!(" {line}\n")),
            }
        }
        body
    }

    fn label(self) -> &'static str {
        match self {
            Change::Append(_) => "changed",
            Change::Insert(_) => "followed by a new line",
        }
    }
}

/// The file with the change made to its line `at + changed` (which becomes
/// the quote's line, changed, in the file's own indentation), and every
/// other line as it was, byte for byte.
fn expected(file: &str, quote: &[&str], at: usize, changed: usize, change: Change) -> String {
    let mut out = String::new();
    for (i, line) in file.split_inclusive('\n').enumerate() {
        if i != at + changed {
            out.push_str(line);
            continue;
        }
        let indent = indentation(line);
        match change {
            Change::Append(suffix) => out.push_str(&format!("{indent}{}{suffix}\n", quote[changed].trim_start())),
            Change::Insert(new) => out.push_str(&format!("{line}{indent}{new}\n")),
        }
    }
    out
}

/// Held when the result is a refusal, or exactly the intended change at a
/// place the quote names; a quote shifted uniformly (`must_apply`) must be
/// applied, at its one uniform place.
fn judge(
    result: Result<String, String>,
    file: &str,
    quote: &[String],
    changed: usize,
    change: Change,
    must_apply: bool,
) -> Result<(), String> {
    let lines: Vec<&str> = file.lines().collect();
    let quote: Vec<&str> = quote.iter().map(String::as_str).collect();
    let uniform = uniform_places(&lines, &quote);
    let must = must_apply && uniform.len() == 1;
    match result {
        Err(e) if must => Err(format!("refused a uniformly shifted quote: {e}")),
        Err(_) => Ok(()),
        Ok(out) if must && out != expected(file, &quote, uniform[0], changed, change) => {
            Err(format!("applied as\n{out}\nnot as the change at line {}", uniform[0] + 1))
        }
        Ok(out) if loose_places(&lines, &quote).iter().any(|&p| out == expected(file, &quote, p, changed, change)) => {
            Ok(())
        }
        Ok(out) => Err(format!("applied as\n{out}\nwhich is not the intended change (uniform places: {uniform:?})")),
    }
}

/// Ways to put one line's indentation out of step with the others.
fn perturbations(indent: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("one space more", format!("{indent} ")),
        ("four spaces more", format!("{indent}    ")),
        ("a tab more", format!("{indent}\t")),
        ("a tab in front", format!("\t{indent}")),
    ];
    if !indent.is_empty() {
        out.push(("one character less", indent[..indent.len() - 1].to_string()));
        out.push(("none at all", String::new()));
    }
    if indent.contains('\t') {
        out.push(("tabs as four spaces", indent.replace('\t', "    ")));
    }
    out
}

/// Uniform shifts a model makes to a whole quote: the quote's own common
/// indentation dropped, kept, or added to.
fn shifts(window: &[&str]) -> Vec<(&'static str, Vec<String>)> {
    let common = window
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indentation(l))
        .reduce(|a, b| {
            let n = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            &a[..n]
        })
        .unwrap_or("");
    let map = |f: &dyn Fn(&str) -> String| {
        window.iter().map(|l| if l.trim().is_empty() { l.to_string() } else { f(l) }).collect()
    };
    let mut all = vec![
        ("as in the file", map(&|l: &str| l.to_string())),
        ("dedented", map(&|l: &str| l[common.len()..].to_string())),
        ("four spaces deeper", map(&|l: &str| format!("    {l}"))),
    ];
    if window.iter().any(|l| plain(l) != *l) {
        all.push(("in plain ASCII", map(&|l: &str| plain(l))));
        all.push(("in plain ASCII, dedented", map(&|l: &str| plain(&l[common.len()..]))));
    }
    all
}

fn edit_file(file: &str, quote: &[String], changed: usize, change: Change) -> Result<String, String> {
    let old = format!("{}\n", quote.join("\n"));
    let new = format!("{}\n", change.new_text(quote, changed).join("\n"));
    matching::edit("f", file, &old, &new, false).map_err(|e| e.to_string())
}

fn patch(file: &str, quote: &[String], changed: usize, change: Change) -> Result<String, String> {
    let body = format!("*** Begin Patch\n*** Update File: f\n@@\n{}*** End Patch\n", change.chunk(quote, changed));
    let parsed = apply_patch::parse(&body).map_err(|e| e.to_string())?;
    let changes = apply_patch::apply(&parsed, &|_: &str| Ok(Some(file.to_string()))).map_err(|e| e.to_string())?;
    changes.into_iter().next().and_then(|c| c.proposed).ok_or_else(|| "no change".to_string())
}

pub fn family() -> Family {
    let mut f = Family::new("edit matching");

    // The case from the issue: the quote's `return` is indented like the
    // body of the `if`; re-indenting from the first line moved the file's
    // `return` into the `if`.
    let file = "def check(x):\n    if x > 0:\n        log(\"positive\")\n    return x\n";
    let old = "    if x > 0:\n        log(\"positive\")\n        return x\n";
    let new = "    if x > 0:\n        log(\"positive\", x)\n        return x\n";
    f.check("issue case: a return quoted at the if's depth stays where the file has it", || {
        match matching::edit("check.py", file, old, new, false) {
            Err(_) => Ok(()),
            Ok(out) if out.contains("\n    return x\n") => Ok(()),
            Ok(out) => Err(format!("the return moved:\n{out}")),
        }
    });

    // From codex's seek_sequence tests: lines indented by four and three
    // spaces, quoted with none. Codex matches them (and writes the model's
    // lines as they are); here they differ in structure, so a changed line
    // must not be written at a guessed depth.
    let file = "    foo   \n   bar\t\nbaz\n";
    let quote = vec!["foo".to_string(), "bar".to_string()];
    for (changed, change) in [(0, Change::Append(" // x")), (1, Change::Insert("qux"))] {
        f.check(format!("codex's trimmed match, line {} {}", changed + 1, change.label()), || {
            judge(edit_file(file, &quote, changed, change), file, &quote, changed, change, false)?;
            judge(patch(file, &quote, changed, change), file, &quote, changed, change, false)
        });
    }
    // Also from there: a quote longer than the file finds nothing, and
    // does not panic.
    f.check("a quote longer than the file", || {
        let long: Vec<String> = (0..5).map(|i| format!("line {i}")).collect();
        let file = "line 0\nline 1\n";
        match (edit_file(file, &long, 0, Change::Append("!")), patch(file, &long, 0, Change::Append("!"))) {
            (Err(_), Err(_)) => Ok(()),
            other => Err(format!("applied: {other:?}")),
        }
    });

    for (lang, source, suffix, inserted) in SOURCES {
        let lines: Vec<&str> = source.lines().collect();
        for len in 2..=4 {
            for start in 0..=lines.len() - len {
                let window = &lines[start..start + len];
                let non_blank: Vec<usize> = (0..len).filter(|&i| !window[i].trim().is_empty()).collect();
                if non_blank.len() < 2 {
                    continue;
                }
                for (shift, quote) in shifts(window) {
                    // Change the first and the last non-blank line in turn:
                    // the old re-indent took its shift from the first.
                    let first = non_blank[0];
                    let last = non_blank[non_blank.len() - 1];
                    for (changed, change) in [(first, Change::Append(suffix)), (last, Change::Insert(inserted))] {
                        let what = format!(
                            "{lang} lines {}-{}, {shift}, line {} {}",
                            start + 1,
                            start + len,
                            changed + 1,
                            change.label()
                        );
                        f.check(format!("edit_file: {what}"), || {
                            judge(edit_file(source, &quote, changed, change), source, &quote, changed, change, true)
                        });
                        f.check(format!("apply_patch: {what}"), || {
                            judge(patch(source, &quote, changed, change), source, &quote, changed, change, true)
                        });
                        for &bent in &non_blank {
                            for (how, indent) in perturbations(indentation(&quote[bent])) {
                                let mut crooked = quote.clone();
                                crooked[bent] = format!("{indent}{}", quote[bent].trim_start());
                                let what = format!("{what}, line {} {how}", bent + 1);
                                f.check(format!("edit_file: {what}"), || {
                                    let result = edit_file(source, &crooked, changed, change);
                                    judge(result, source, &crooked, changed, change, false)
                                });
                                f.check(format!("apply_patch: {what}"), || {
                                    let result = patch(source, &crooked, changed, change);
                                    judge(result, source, &crooked, changed, change, false)
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    f
}
