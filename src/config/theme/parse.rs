//! Reading one theme file into a [`Layer`]. Colour names are kept as text
//! here because they may name a palette entry of a theme this one inherits.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::color::{Color, Modifiers};
use crate::config::diagnostics::{Diagnostic, line_of};

/// The syntect themes bundled with syntect's default build; any other name
/// would make code highlighting fail at draw time.
pub const SYNTAX_THEMES: &[&str] = &[
    "base16-ocean.dark",
    "base16-eighties.dark",
    "base16-mocha.dark",
    "base16-ocean.light",
    "InspiredGitHub",
    "Solarized (dark)",
    "Solarized (light)",
];

pub(crate) const EXPECTED_COLOUR: &str = "expected #rrggbb, a palette name, an ANSI colour name or 0-255";
const EXPECTED_PALETTE_COLOUR: &str = "expected #rrggbb, an ANSI colour name, reset or 0-255";
const EXPECTED_MODIFIER: &str = "expected bold, dim, italic, underlined, reversed or crossed_out";

/// A colour as written in a scope, with the line to blame if it is bad.
#[derive(Debug, Clone)]
pub(crate) enum ColorRef {
    Known(Color),
    Name { text: String, line: usize },
}

/// One scope's style as written in one file.
#[derive(Debug, Clone)]
pub(crate) struct ScopeDef {
    pub scope: String,
    pub fg: Option<ColorRef>,
    pub bg: Option<ColorRef>,
    pub modifiers: Modifiers,
}

/// What one theme file says, before inheritance is applied.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    /// Names the file in diagnostics: a path or `built-in theme NAME`.
    pub label: String,
    pub inherits: Option<(String, usize)>,
    pub syntax: Option<String>,
    pub palette: Vec<(String, Color)>,
    /// Palette entries that were reported as bad, so the scopes using them
    /// are dropped without a second, confusing diagnostic.
    pub bad_palette: Vec<String>,
    pub scopes: Vec<ScopeDef>,
}

struct Ctx<'a> {
    text: &'a str,
    label: &'a str,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn line<T>(&self, v: &Spanned<T>) -> usize {
        line_of(self.text, v.span().start)
    }

    fn error(&mut self, line: usize, message: String) {
        self.diags.push(Diagnostic::error(self.label, Some(line), message));
    }
}

/// Parse one theme file. `None` when the text is not TOML at all.
pub(crate) fn parse_layer(label: &str, text: &str) -> (Option<Layer>, Vec<Diagnostic>) {
    let root = match DeTable::parse(text) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            let line = e.span().map(|s| line_of(text, s.start));
            let message = format!("not valid TOML: {}; using the built-in default theme", e.message().trim_end());
            return (None, vec![Diagnostic::error(label, line, message)]);
        }
    };
    let mut cx = Ctx { text, label, diags: Vec::new() };
    let mut layer = Layer { label: label.to_owned(), ..Layer::default() };
    for (key, value) in root.iter() {
        let line = cx.line(value);
        match key.get_ref().as_ref() {
            "inherits" => match value.get_ref().as_str() {
                Some(name) => layer.inherits = Some((name.to_owned(), line)),
                None => cx.error(line, format!("`inherits` must be a theme name in quotes, found {}", a(value))),
            },
            "syntax" => match value.get_ref().as_str() {
                Some(name) if SYNTAX_THEMES.contains(&name) => layer.syntax = Some(name.to_owned()),
                Some(name) => {
                    let known = SYNTAX_THEMES.join("\", \"");
                    cx.error(line, format!("`syntax`: `{name}` is not a syntect theme; expected one of \"{known}\""));
                }
                None => cx.error(line, format!("`syntax` must be a syntect theme name in quotes, found {}", a(value))),
            },
            "palette" => match value.get_ref() {
                DeValue::Table(entries) => parse_palette(&mut cx, entries, &mut layer),
                _ => cx.error(line, format!("`palette` must be a table of name = colour, found {}", a(value))),
            },
            scope => walk_scope(&mut cx, scope.to_owned(), value, &mut layer.scopes),
        }
    }
    (Some(layer), cx.diags)
}

fn parse_palette(cx: &mut Ctx<'_>, entries: &DeTable<'_>, layer: &mut Layer) {
    for (name, value) in entries.iter() {
        let name = name.get_ref().to_string();
        let written = match value.get_ref() {
            DeValue::String(s) => Color::parse_name(s).ok_or_else(|| format!("`{s}`")),
            DeValue::Integer(_) => index_colour(value).ok_or_else(|| format!("`{}`", raw_integer(value))),
            _ => Err(a(value)),
        };
        match written {
            Ok(c) => layer.palette.push((name, c)),
            Err(what) => {
                let line = cx.line(value);
                // The usual cause: scopes written below the `[palette]` header.
                let hint = if name.contains('.') || value.get_ref().is_table() {
                    " (every key after `[palette]` belongs to it, so put `[palette]` at the end of the file)"
                } else {
                    ""
                };
                cx.error(line, format!("`palette.{name}`: {what} is not a colour; {EXPECTED_PALETTE_COLOUR}{hint}"));
                layer.bad_palette.push(name);
            }
        }
    }
}

/// Dotted keys and `[ui.pane]` headers nest tables, so a table is either a
/// style (its `fg`, `bg`, `modifiers`) or a group of deeper scopes, or both.
fn walk_scope(cx: &mut Ctx<'_>, scope: String, value: &Spanned<DeValue<'_>>, out: &mut Vec<ScopeDef>) {
    let mut def = ScopeDef { scope, fg: None, bg: None, modifiers: Modifiers::empty() };
    match value.get_ref() {
        DeValue::String(_) | DeValue::Integer(_) => {
            if let Some(c) = colour_ref(cx, &def.scope, value) {
                def.fg = Some(c);
                out.push(def);
            }
        }
        DeValue::Table(table) => {
            let (mut is_style, mut ok) = (false, true);
            for (key, v) in table.iter() {
                match key.get_ref().as_ref() {
                    attr @ ("fg" | "bg") => {
                        is_style = true;
                        let c = colour_ref(cx, &def.scope, v);
                        ok &= c.is_some();
                        if attr == "fg" { def.fg = c } else { def.bg = c }
                    }
                    "modifiers" => {
                        is_style = true;
                        match modifiers(cx, &def.scope, v) {
                            Some(m) => def.modifiers = m,
                            None => ok = false,
                        }
                    }
                    child => walk_scope(cx, format!("{}.{child}", def.scope), v, out),
                }
            }
            if is_style && ok {
                out.push(def);
            }
        }
        _ => {
            let line = cx.line(value);
            let msg =
                format!("`{}`: expected a colour or a table with fg, bg and modifiers, found {}", def.scope, a(value));
            cx.error(line, msg);
        }
    }
}

fn colour_ref(cx: &mut Ctx<'_>, scope: &str, value: &Spanned<DeValue<'_>>) -> Option<ColorRef> {
    let line = cx.line(value);
    let what = match value.get_ref() {
        DeValue::String(s) => return Some(ColorRef::Name { text: s.to_string(), line }),
        DeValue::Integer(_) => match index_colour(value) {
            Some(c) => return Some(ColorRef::Known(c)),
            None => format!("`{}`", raw_integer(value)),
        },
        _ => a(value),
    };
    cx.error(line, format!("`{scope}`: {what} is not a colour; {EXPECTED_COLOUR}"));
    None
}

fn modifiers(cx: &mut Ctx<'_>, scope: &str, value: &Spanned<DeValue<'_>>) -> Option<Modifiers> {
    let DeValue::Array(items) = value.get_ref() else {
        let line = cx.line(value);
        cx.error(line, format!("`{scope}`: modifiers must be a list such as [\"bold\"], found {}", a(value)));
        return None;
    };
    let mut all = Some(Modifiers::empty());
    for item in items.iter() {
        let found = match item.get_ref().as_str() {
            Some(name) => Modifiers::from_name(name).ok_or_else(|| format!("unknown modifier `{name}`")),
            None => Err(format!("a modifier must be a name in quotes, not {}", a(item))),
        };
        match (found, all.as_mut()) {
            (Ok(m), Some(acc)) => *acc |= m,
            (Ok(_), None) => {}
            (Err(what), _) => {
                let line = cx.line(item);
                cx.error(line, format!("`{scope}`: {what}; {EXPECTED_MODIFIER}"));
                all = None;
            }
        }
    }
    all
}

fn index_colour(value: &Spanned<DeValue<'_>>) -> Option<Color> {
    let i = value.get_ref().as_integer()?;
    i64::from_str_radix(i.as_str(), i.radix()).ok().and_then(|n| u8::try_from(n).ok()).map(Color::Indexed)
}

fn raw_integer(value: &Spanned<DeValue<'_>>) -> String {
    value.get_ref().as_integer().map(|i| i.as_str().to_owned()).unwrap_or_default()
}

/// "an array", "a boolean": for messages about a value of the wrong type.
fn a(value: &Spanned<DeValue<'_>>) -> String {
    let t = value.get_ref().type_str();
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {t}")
}
