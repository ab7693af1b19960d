//! Syntax highlighting of code blocks with syntect.
//!
//! Loading syntect's syntaxes and themes takes tens of milliseconds, too long
//! for the start path, so the one shared [`Highlighter`] is built by
//! [`warm_up`] on a background thread. Until it exists [`global`] returns
//! `None` and code blocks are drawn in the theme's plain code style.
//!
//! syntect with the pure-Rust regex engine is slow, on the order of 100 µs a
//! line, so [`BlockCache`] keeps highlighted blocks for views drawn on every
//! frame, and continues a block that grows while an answer streams in from
//! where it stopped instead of starting it over.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, HighlightState, ThemeSet};
use syntect::parsing::{ParseState, SyntaxDefinition, SyntaxReference, SyntaxSet, SyntaxSetBuilder};
use syntect::util::LinesWithEndings;

use crate::config::theme::ColorDepth;

/// One display line of code as styled pieces, without its line ending.
pub(crate) type StyledLine = Vec<(Style, String)>;

/// syntect's regexes backtrack and cost ~100 µs a line, so bigger inputs
/// are shown plain rather than stalling the UI.
pub(crate) const MAX_LINES: usize = 2_000;
pub(crate) const MAX_LINE_BYTES: usize = 2_000;
pub(crate) const MAX_TOTAL_BYTES: usize = 200 * 1024;

/// syntect bundles no TOML grammar, and TOML is what a Rust project's
/// configuration is written in, so a small one is kept here.
const TOML_SYNTAX: &str = r#"%YAML 1.2
---
name: TOML
file_extensions: [toml, tml]
scope: source.toml
contexts:
  main:
    - match: '#.*'
      scope: comment.line.number-sign.toml
    - match: '^\s*(\[\[?)([^\]\n]*)(\]\]?)'
      captures:
        1: punctuation.definition.table.toml
        2: entity.name.section.toml
        3: punctuation.definition.table.toml
    - match: '"""'
      push: basic_multi
    - match: "'''"
      push: literal_multi
    - match: '"'
      push: basic
    - match: "'"
      push: literal
    - match: '[A-Za-z0-9_.-]+(?=\s*=)'
      scope: variable.other.key.toml
    - match: '\b(true|false)\b'
      scope: constant.language.boolean.toml
    - match: '\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2})?(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?)?'
      scope: constant.other.datetime.toml
    - match: '[+-]?\b(0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?|inf|nan)\b'
      scope: constant.numeric.toml
    - match: '='
      scope: keyword.operator.assignment.toml
  basic:
    - meta_scope: string.quoted.double.toml
    - match: '\\.'
      scope: constant.character.escape.toml
    - match: '"|\n'
      pop: true
  literal:
    - meta_scope: string.quoted.single.toml
    - match: "'|\\n"
      pop: true
  basic_multi:
    - meta_scope: string.quoted.triple.toml
    - match: '\\.'
      scope: constant.character.escape.toml
    - match: '"""'
      pop: true
  literal_multi:
    - meta_scope: string.quoted.triple.toml
    - match: "'''"
      pop: true
"#;

pub(crate) struct Highlighter {
    syntaxes: SyntaxSet,
    /// Grammars syntect lacks; a syntax can only be used with its own set.
    extra: SyntaxSet,
    themes: ThemeSet,
}

static GLOBAL: OnceLock<Highlighter> = OnceLock::new();

/// The shared highlighter, once [`warm_up`] has finished.
pub(crate) fn global() -> Option<&'static Highlighter> {
    GLOBAL.get()
}

/// Build the shared highlighter. Blocks for tens of milliseconds the first
/// time, so call it off the UI thread; later calls return at once.
/// Rust touching most of the grammar's patterns (items, generics, macros,
/// closures, numbers, ranges, attributes, comments, strings, lifetimes).
const WARM_UP_RUST: &str = r#"//! doc
use std::collections::HashMap;
#[derive(Debug, Clone)]
pub(crate) struct Graph<'a, T: Clone> { nodes: Vec<&'a T>, weight: f64 }
impl<T: Clone> Graph<'_, T> {
    /// rank
    pub(crate) fn rank(&self, graph: &Graph<T>) -> Vec<f64> {
        let mut r = vec![1.0; graph.len()];
        for _ in 0..20 { r = graph.step(&r); }
        match self.nodes.first() { Some(n) if true => println!("{n:?} {}", 0x1f), _ => {} }
        let f = |x: u32| -> Option<u32> { x.checked_add(1) };
        r
    }
}
enum E { A = 1, B }
const N: usize = 1_000; static S: &str = "s
";
"#;

pub fn warm_up() {
    let h = GLOBAL.get_or_init(Highlighter::load);
    // syntect compiles a syntax's regexes on first use; doing that here
    // keeps the first Rust block of an answer from costing a frame.
    let _ = h.highlight(WARM_UP_RUST, "rust", "base16-ocean.dark");
}

/// Info strings name languages loosely (`ts`, `shell`, `rust,ignore`);
/// syntect's bundled syntaxes know only some names, so map the common
/// aliases onto the nearest syntax it has.
fn normalize(lang: &str) -> Option<String> {
    let token = lang.trim().trim_start_matches(['{', '.']).split([' ', '\t', ',', '{', '}']).next()?;
    let token = token.to_ascii_lowercase();
    let mapped = match token.as_str() {
        "" | "text" | "txt" | "plain" | "plaintext" | "output" => return None,
        "ts" | "typescript" | "tsx" | "jsx" | "javascript" | "mjs" | "cjs" | "node" => "js",
        "shell" | "console" | "shell-session" | "shellsession" | "zsh" | "ksh" => "bash",
        "py3" | "python3" => "py",
        "golang" => "go",
        "jsonc" | "json5" => "json",
        "patch" | "udiff" => "diff",
        "cxx" | "hpp" => "cpp",
        _ => return Some(token),
    };
    Some(mapped.to_owned())
}

fn to_style(s: syntect::highlighting::Style) -> Style {
    let mut out = Style::new().fg(Color::Rgb(s.foreground.r, s.foreground.g, s.foreground.b));
    let pairs = [
        (FontStyle::BOLD, Modifier::BOLD),
        (FontStyle::ITALIC, Modifier::ITALIC),
        (FontStyle::UNDERLINE, Modifier::UNDERLINED),
    ];
    for (theirs, ours) in pairs {
        if s.font_style.contains(theirs) {
            out = out.add_modifier(ours);
        }
    }
    out
}

/// Highlighting stopped after the complete lines of a code block, so that
/// a block which grows while an answer streams in costs one line per frame
/// instead of all of them.
struct Resume {
    syntax_theme: String,
    in_extra: bool,
    /// `None` once highlighting failed or the code grew too big.
    state: Option<(HighlightState, ParseState)>,
    /// The complete lines highlighted so far, line endings included.
    done: String,
    lines: Vec<StyledLine>,
}

impl Resume {
    /// Whether this can go on to highlight `code`.
    fn fits(&self, code: &str, syntax_theme: &str) -> bool {
        self.state.is_some() && self.syntax_theme == syntax_theme && code.starts_with(&self.done)
    }
}

impl Highlighter {
    pub fn load() -> Highlighter {
        let mut builder = SyntaxSetBuilder::new();
        // The grammar is a constant checked by the tests, so this only
        // fails if syntect changes; TOML then stays plain.
        if let Ok(def) = SyntaxDefinition::load_from_str(TOML_SYNTAX, true, Some("TOML")) {
            builder.add(def);
        }
        Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
            extra: builder.build(),
            themes: ThemeSet::load_defaults(),
        }
    }

    fn set(&self, in_extra: bool) -> &SyntaxSet {
        if in_extra { &self.extra } else { &self.syntaxes }
    }

    fn syntax(&self, lang: &str) -> Option<(&SyntaxReference, bool)> {
        let token = normalize(lang)?;
        if let Some(s) = self.extra.find_syntax_by_token(&token) {
            return Some((s, true));
        }
        let syntax = self.syntaxes.find_syntax_by_token(&token)?;
        // Plain text would come out in the syntect theme's one colour; the
        // app theme's code style suits it better.
        (syntax.name != self.syntaxes.find_syntax_plain_text().name).then_some((syntax, false))
    }

    /// Whether `lang` (a code fence's info string) names a known language.
    #[cfg(test)]
    pub fn knows(&self, lang: &str) -> bool {
        self.syntax(lang).is_some()
    }

    /// `code` as styled lines, one per line of `code` (a final newline does
    /// not start another). Only foreground colours and bold, italic and
    /// underline are set, so the pane's background shows through. `None`
    /// for an unknown language or syntect theme, or for input too big to
    /// highlight without stalling (see [`MAX_LINES`] and its siblings).
    pub fn highlight(&self, code: &str, lang: &str, syntax_theme: &str) -> Option<Vec<StyledLine>> {
        if code.len() > MAX_TOTAL_BYTES {
            return None;
        }
        let mut resume = self.start(lang, syntax_theme)?;
        self.advance(&mut resume, code);
        self.finish(&resume, code)
    }

    /// [`Highlighter::highlight`] for a terminal of colour depth `depth`
    /// (pass `theme.depth()`): `None` unless it shows 24-bit colour, since
    /// syntect themes are RGB and the app theme's own code style reads
    /// better on 16 and 256 colour terminals than a squeezed palette.
    pub(crate) fn highlight_for_depth(
        &self,
        code: &str,
        lang: &str,
        syntax_theme: &str,
        depth: ColorDepth,
    ) -> Option<Vec<StyledLine>> {
        if depth != ColorDepth::TrueColor {
            return None;
        }
        self.highlight(code, lang, syntax_theme)
    }

    /// A resumable highlight of `lang` code, or `None` if `lang` or
    /// `syntax_theme` is unknown.
    fn start(&self, lang: &str, syntax_theme: &str) -> Option<Resume> {
        let (syntax, in_extra) = self.syntax(lang)?;
        let theme = self.themes.themes.get(syntax_theme)?;
        let state = HighlightLines::new(syntax, theme).state();
        Some(Resume {
            syntax_theme: syntax_theme.to_owned(),
            in_extra,
            state: Some(state),
            done: String::new(),
            lines: Vec::new(),
        })
    }

    /// Highlight the complete lines of `code` that `resume` has not done
    /// yet. Returns false, and leaves `resume` unusable, if `code` does not
    /// extend what `resume` has done, is too big, or syntect fails.
    fn advance(&self, resume: &mut Resume, code: &str) -> bool {
        let Some(rest) = code.strip_prefix(resume.done.as_str()) else {
            resume.state = None;
            return false;
        };
        let Some((hs, ps)) = resume.state.take() else { return false };
        let Some(end) = rest.rfind('\n') else {
            resume.state = Some((hs, ps));
            return true;
        };
        let Some(theme) = self.themes.themes.get(&resume.syntax_theme) else { return false };
        if code.len() > MAX_TOTAL_BYTES {
            return false;
        }
        let rest = &rest[..=end];
        // Checked before any work: finding out at line 2,001 would already
        // have cost the stall the limits are there to prevent.
        let mut count = resume.lines.len();
        for line in rest.split_inclusive('\n') {
            count += 1;
            if count > MAX_LINES || line.trim_end_matches(['\n', '\r']).len() > MAX_LINE_BYTES {
                return false;
            }
        }
        let mut h = HighlightLines::from_state(theme, hs, ps);
        for line in LinesWithEndings::from(rest) {
            match self.line(&mut h, line, resume.in_extra) {
                Some(l) => resume.lines.push(l),
                None => return false,
            }
        }
        resume.done.push_str(rest);
        resume.state = Some(h.state());
        true
    }

    /// The lines `resume` has done plus `code`'s incomplete last line, if
    /// any; `None` if `resume` is unusable or `code` is not what it advanced
    /// over.
    fn finish(&self, resume: &Resume, code: &str) -> Option<Vec<StyledLine>> {
        let rest = code.strip_prefix(resume.done.as_str())?;
        let (hs, ps) = resume.state.clone()?;
        let mut lines = resume.lines.clone();
        if !rest.is_empty() {
            if rest.contains('\n') || rest.len() > MAX_LINE_BYTES || lines.len() >= MAX_LINES {
                return None;
            }
            let theme = self.themes.themes.get(&resume.syntax_theme)?;
            let mut h = HighlightLines::from_state(theme, hs, ps);
            lines.push(self.line(&mut h, rest, resume.in_extra)?);
        }
        Some(lines)
    }

    fn line(&self, h: &mut HighlightLines, line: &str, in_extra: bool) -> Option<StyledLine> {
        let pieces = h.highlight_line(line, self.set(in_extra)).ok()?;
        let mut out: StyledLine = Vec::with_capacity(pieces.len());
        for (style, text) in pieces {
            let text = text.trim_end_matches(['\n', '\r']);
            if text.is_empty() {
                continue;
            }
            let style = to_style(style);
            match out.last_mut() {
                Some((s, t)) if *s == style => t.push_str(text),
                _ => out.push((style, text.to_owned())),
            }
        }
        Some(out)
    }
}

/// Enough for the code blocks of any real answer; past it the cache starts
/// over rather than grow without bound.
const MAX_CACHED_BLOCKS: usize = 512;

/// Highlighted code blocks by (hash of code, info string), for a view drawn
/// again on every frame: a block seen before costs a hash, and a block that
/// grew since the previous call (the end of a streaming answer) costs only
/// its new lines.
#[derive(Default)]
pub(crate) struct BlockCache {
    syntax_theme: String,
    done: HashMap<(u64, String), Vec<StyledLine>>,
    /// The block highlighted last, to continue from when its next version
    /// only adds to it.
    resume: Option<((u64, String), Resume)>,
}

impl BlockCache {
    /// [`Highlighter::highlight`], remembered.
    pub fn lines(&mut self, h: &Highlighter, code: &str, lang: &str, syntax_theme: &str) -> Option<&[StyledLine]> {
        if self.syntax_theme != syntax_theme {
            *self = BlockCache { syntax_theme: syntax_theme.to_owned(), ..BlockCache::default() };
        }
        let mut hasher = DefaultHasher::new();
        code.hash(&mut hasher);
        let key = (hasher.finish(), lang.to_owned());
        if !self.done.contains_key(&key) {
            let lines = self.highlight(h, code, &key)?;
            if self.done.len() >= MAX_CACHED_BLOCKS {
                self.done.clear();
            }
            self.done.insert(key.clone(), lines);
        }
        self.done.get(&key).map(Vec::as_slice)
    }

    fn highlight(&mut self, h: &Highlighter, code: &str, key: &(u64, String)) -> Option<Vec<StyledLine>> {
        if code.len() > MAX_TOTAL_BYTES {
            return None;
        }
        let theme = self.syntax_theme.as_str();
        match &mut self.resume {
            Some((last, resume)) if last.1 == key.1 && resume.fits(code, theme) => {
                // A block growing while streaming: its previous version is
                // not drawn again.
                self.done.remove(last);
                *last = key.clone();
            }
            _ => self.resume = Some((key.clone(), h.start(&key.1, theme)?)),
        }
        let (_, resume) = self.resume.as_mut()?;
        if !h.advance(resume, code) {
            self.resume = None;
            return None;
        }
        h.finish(resume, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn colours(lines: &[StyledLine]) -> std::collections::HashSet<Option<Color>> {
        lines.iter().flatten().map(|(s, _)| s.fg).collect()
    }

    fn warm() -> &'static Highlighter {
        warm_up();
        global().expect("warm_up loads the highlighter")
    }

    #[test]
    fn rust_gets_several_colours_and_no_background() {
        let h = warm();
        let code = "fn main() {\n    let x = \"hi\"; // greet\n}\n";
        let lines = h.highlight(code, "rust", "base16-ocean.dark").expect("rust is known");
        assert_eq!(lines.len(), 3);
        assert!(colours(&lines).len() > 1, "{lines:?}");
        assert!(lines.iter().flatten().all(|(s, _)| s.bg.is_none()));
        let text: Vec<String> = lines.iter().map(|l| l.iter().map(|(_, t)| t.as_str()).collect()).collect();
        assert_eq!(text, ["fn main() {", "    let x = \"hi\"; // greet", "}"]);
    }

    #[test]
    fn languages_are_found_by_alias() {
        let h = warm();
        for lang in ["rust", "rs", "rust,ignore", "py", "python", "js", "ts", "sh", "bash", "toml", "json", "diff"] {
            assert!(h.knows(lang), "{lang}");
        }
        for lang in ["", "text", "klingon", "```"] {
            assert!(!h.knows(lang), "{lang}");
        }
    }

    #[test]
    fn unknown_language_or_theme_is_none() {
        let h = warm();
        assert!(h.highlight("x = 1\n", "klingon", "base16-ocean.dark").is_none());
        assert!(h.highlight("x = 1\n", "rust", "no such theme").is_none());
    }

    #[test]
    fn toml_grammar_colours_keys_strings_and_tables() {
        let h = warm();
        let code = "[package] # the crate\nname = \"tandem\"\nversion = 1\n";
        let lines = h.highlight(code, "toml", "base16-ocean.dark").expect("toml is known");
        assert_eq!(lines.len(), 3);
        assert!(colours(&lines).len() >= 4, "{lines:?}");
    }

    #[test]
    fn huge_input_is_not_highlighted() {
        let h = warm();
        let many = "let x = 1;\n".repeat(MAX_LINES + 1);
        assert!(h.highlight(&many, "rust", "base16-ocean.dark").is_none());
        let long = format!("let s = \"{}\";\n", "a".repeat(MAX_LINE_BYTES));
        assert!(h.highlight(&long, "rust", "base16-ocean.dark").is_none());
        let big = "// c\n".repeat(MAX_TOTAL_BYTES / 5 + 1);
        assert!(h.highlight(&big, "rust", "base16-ocean.dark").is_none());
    }

    #[test]
    fn only_true_colour_terminals_get_syntect_colours() {
        let h = warm();
        let code = "fn f() {}\n";
        assert!(h.highlight_for_depth(code, "rust", "base16-ocean.dark", ColorDepth::TrueColor).is_some());
        for depth in [ColorDepth::Ansi256, ColorDepth::Ansi16, ColorDepth::NoColor] {
            assert!(h.highlight_for_depth(code, "rust", "base16-ocean.dark", depth).is_none());
        }
    }

    #[test]
    fn a_growing_block_is_highlighted_as_if_it_were_new() {
        let h = warm();
        let code = "/* a\n b */ fn f() -> u8 {\n    1\n}\nlet s = \"x";
        let mut cache = BlockCache::default();
        for end in 0..=code.len() {
            let cached = cache.lines(h, &code[..end], "rust", "base16-ocean.dark").map(<[_]>::to_vec);
            let fresh = h.highlight(&code[..end], "rust", "base16-ocean.dark");
            assert!(fresh.is_some());
            assert_eq!(cached, fresh, "{:?}", &code[..end]);
        }
        // Only the latest version of a growing block is kept.
        assert_eq!(cache.done.len(), 1);
        assert!(cache.lines(h, "fn g() {}", "rust", "base16-ocean.dark").is_some());
        assert_eq!(cache.done.len(), 2);
        assert!(cache.lines(h, code, "klingon", "base16-ocean.dark").is_none());
    }
}
