//! Colour themes in helix's style: a TOML file maps dotted scopes
//! (`ui.pane.border.focus`) to styles, may name colours in a `[palette]`, and
//! may `inherits` another theme. A scope that is not defined falls back to its
//! parent scope, so a theme can be short.
//!
//! Loading never fails: every problem becomes a [`Diagnostic`] and the bad part
//! is replaced by what the built-in default theme (or the inherited theme) says.

mod color;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

#[cfg(test)]
use color::nearest_xterm256;
pub use color::{Color, ColorDepth, Modifiers, StyleSpec};
#[cfg(test)]
use parse::SYNTAX_THEMES;

use crate::config::diagnostics::Diagnostic;
use parse::{ColorRef, EXPECTED_COLOUR, Layer, ScopeDef, parse_layer};

/// Every scope the UI asks for. Each shipped theme styles all of them.
#[cfg(test)]
pub const SCOPES: &[&str] = &[
    // Whole-screen text and background.
    "ui.background",
    "ui.text",
    "ui.text.dim",
    "ui.text.accent",
    // Pane frames; `.focus` marks the pane that receives keys.
    "ui.pane.border",
    "ui.pane.border.focus",
    "ui.pane.title",
    "ui.pane.title.focus",
    // Tab bar.
    "ui.tabs",
    "ui.tabs.active",
    // Status line: mode badge, key hints, problems.
    "ui.status",
    "ui.status.mode",
    "ui.status.key",
    "ui.status.hint",
    "ui.status.warning",
    "ui.status.error",
    // Help overlay.
    "ui.help",
    "ui.help.border",
    "ui.help.section",
    "ui.help.key",
    // Message composer.
    "ui.composer",
    "ui.composer.placeholder",
    "ui.composer.cursor",
    // Selections and scrollbars in any pane.
    "ui.selection",
    "ui.scrollbar",
    // Chat transcript, by speaker.
    "chat.user",
    "chat.user.label",
    "chat.assistant",
    "chat.assistant.label",
    "chat.system",
    "chat.error",
    "chat.tool",
    "chat.notice",
    // Markdown in assistant messages (code blocks get syntect colours on top).
    "markup.heading",
    "markup.bold",
    "markup.italic",
    "markup.code",
    "markup.code.block",
    "markup.quote",
    "markup.list",
    "markup.link",
    "markup.rule",
    // Diff view and the review state of each hunk.
    "diff.plus",
    "diff.minus",
    "diff.context",
    "diff.hunk",
    "diff.gutter",
    "diff.file",
    "diff.accepted",
    "diff.rejected",
    "diff.pending",
    // Metrics pane.
    "metrics.label",
    "metrics.value",
    "metrics.good",
    "metrics.warning",
    "metrics.bad",
    "metrics.sparkline",
];

const DEFAULT_SYNTAX: &str = "base16-ocean.dark";

fn builtin_text(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("../../../themes/default.toml")),
        "light" => Some(include_str!("../../../themes/light.toml")),
        "base16" => Some(include_str!("../../../themes/base16.toml")),
        _ => None,
    }
}

/// Where one theme in an inheritance chain comes from.
enum Origin {
    Builtin(&'static str),
    File { name: String, path: PathBuf },
    Text { name: String, label: String, text: String },
}

impl Origin {
    fn name(&self) -> &str {
        match self {
            Origin::Builtin(name) => name,
            Origin::File { name, .. } | Origin::Text { name, .. } => name,
        }
    }

    /// Names the theme in diagnostics and identifies it when looking for cycles.
    fn label(&self) -> String {
        match self {
            Origin::Builtin(name) => format!("built-in theme {name}"),
            Origin::File { path, .. } => path.display().to_string(),
            Origin::Text { label, .. } => label.clone(),
        }
    }

    fn read(&self, diags: &mut Vec<Diagnostic>) -> Option<Layer> {
        let label = self.label();
        let text = match self {
            Origin::Builtin(name) => builtin_text(name).unwrap_or_default().to_owned(),
            Origin::Text { text, .. } => text.clone(),
            Origin::File { path, .. } => match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => {
                    diags.push(Diagnostic::error(
                        label,
                        None,
                        format!("cannot read: {e}; using the built-in default theme"),
                    ));
                    return None;
                }
            },
        };
        let (layer, ds) = parse_layer(&label, &text);
        diags.extend(ds);
        layer
    }
}

/// Theme names become file names, so anything path-like is refused rather
/// than letting `inherits = "../x"` read outside the theme directories.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

/// A user file wins over a built-in of the same name, except that a theme
/// inheriting its own name means the built-in it customises.
fn find(name: &str, inheriting_from: Option<&str>, user_dirs: &[PathBuf]) -> Option<Origin> {
    if !is_plain_name(name) {
        return None;
    }
    if inheriting_from != Some(name) {
        for dir in user_dirs {
            let path = dir.join(format!("{name}.toml"));
            if path.is_file() {
                return Some(Origin::File { name: name.to_owned(), path });
            }
        }
    }
    Theme::BUILTIN.iter().find(|b| **b == name).map(|b| Origin::Builtin(b))
}

/// A resolved theme: every defined scope's style, already adapted to the
/// terminal's colour depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    name: String,
    syntax: String,
    depth: ColorDepth,
    styles: HashMap<String, StyleSpec>,
}

impl Theme {
    pub const BUILTIN: &'static [&'static str] = &["default", "light", "base16"];

    /// Load theme `name`: `<dir>/<name>.toml` from the first of `user_dirs`
    /// that has it, else the built-in of that name, else the built-in default.
    pub fn load(name: &str, user_dirs: &[PathBuf], depth: ColorDepth) -> (Theme, Vec<Diagnostic>) {
        match find(name, None, user_dirs) {
            Some(origin) => build(origin, user_dirs, depth),
            None => {
                let dirs: Vec<String> = user_dirs.iter().map(|d| d.display().to_string()).collect();
                let looked = if dirs.is_empty() { "no user theme directory".to_owned() } else { dirs.join(", ") };
                let message = format!(
                    "no theme named `{name}`: the built-in themes are {} and no {name}.toml is in {looked}; \
                     using the built-in default theme",
                    Theme::BUILTIN.join(", ")
                );
                let (theme, mut diags) = build(Origin::Builtin("default"), &[], depth);
                diags.insert(0, Diagnostic::error("theme", None, message));
                (theme, diags)
            }
        }
    }

    /// Load a theme from `text`; `inherits` may only name built-in themes.
    /// `source_label` names the text in diagnostics.
    pub fn from_str(name: &str, source_label: &str, text: &str, depth: ColorDepth) -> (Theme, Vec<Diagnostic>) {
        let origin = Origin::Text { name: name.to_owned(), label: source_label.to_owned(), text: text.to_owned() };
        build(origin, &[], depth)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The syntect theme for code blocks; always one of `parse::SYNTAX_THEMES`.
    pub(crate) fn syntax_theme(&self) -> &str {
        &self.syntax
    }

    pub(crate) fn depth(&self) -> ColorDepth {
        self.depth
    }

    /// The style of `scope`, or of its nearest defined parent scope
    /// (`a.b.c`, then `a.b`, then `a`), or the empty style.
    pub(crate) fn style(&self, scope: &str) -> StyleSpec {
        let mut scope = scope;
        loop {
            if let Some(style) = self.styles.get(scope) {
                return *style;
            }
            match scope.rfind('.') {
                Some(dot) => scope = &scope[..dot],
                None => return StyleSpec::default(),
            }
        }
    }
}

/// Validate one user theme file as `tandem config check` does; themes it
/// inherits are looked up next to it, then among the built-ins.
pub(crate) fn check_file(path: &Path) -> Vec<Diagnostic> {
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let dirs: Vec<PathBuf> = path.parent().map(Path::to_path_buf).into_iter().collect();
    build(Origin::File { name, path: path.to_path_buf() }, &dirs, ColorDepth::TrueColor).1
}

fn build(origin: Origin, user_dirs: &[PathBuf], depth: ColorDepth) -> (Theme, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let top_label = origin.label();
    let (name, layers) = collect_chain(origin, user_dirs, &mut diags);
    let (syntax, styles) = resolve(&layers, &mut diags);

    if depth == ColorDepth::Ansi16 && styles.values().any(|s| !s.is_ansi16()) {
        diags.push(Diagnostic::warning(
            top_label,
            None,
            format!(
                "the terminal reports 16 colours, so the built-in `base16` theme is used instead of `{name}`; \
                 set COLORTERM=truecolor if the terminal can show 24-bit colour"
            ),
        ));
        let mut fallback = Vec::new();
        let (_, base16) = collect_chain(Origin::Builtin("base16"), &[], &mut fallback);
        let (syntax, styles) = resolve(&base16, &mut fallback);
        diags.extend(fallback);
        return (finish("base16".to_owned(), syntax, styles, depth), diags);
    }
    (finish(name, syntax, styles, depth), diags)
}

fn finish(name: String, syntax: String, styles: HashMap<String, StyleSpec>, depth: ColorDepth) -> Theme {
    let styles = styles.into_iter().map(|(scope, style)| (scope, style.adapt(depth))).collect();
    Theme { name, syntax, depth, styles }
}

/// Read a theme and the themes it inherits, child first. A theme that cannot
/// be read, is unknown, or closes a cycle is replaced by the built-in default.
/// Returns the name the result goes by.
fn collect_chain(first: Origin, user_dirs: &[PathBuf], diags: &mut Vec<Diagnostic>) -> (String, Vec<Layer>) {
    let mut name = first.name().to_owned();
    let mut layers = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut next = Some(first);
    while let Some(origin) = next.take() {
        let label = origin.label();
        seen.push((label, origin.name().to_owned()));
        let Some(layer) = origin.read(diags) else {
            if layers.is_empty() {
                name = "default".to_owned();
            }
            next = default_unless_seen(&seen);
            continue;
        };
        if let Some((parent, line)) = &layer.inherits {
            match find(parent, Some(origin.name()), user_dirs) {
                Some(p) if seen.iter().any(|(l, _)| *l == p.label()) => {
                    let chain: Vec<&str> = seen.iter().map(|(_, n)| n.as_str()).chain([parent.as_str()]).collect();
                    let message = format!(
                        "`inherits`: inheritance cycle {}; the built-in default theme is used as the base instead",
                        chain.join(" -> ")
                    );
                    diags.push(Diagnostic::error(&layer.label, Some(*line), message));
                    next = default_unless_seen(&seen);
                }
                Some(p) => next = Some(p),
                None => {
                    let message = format!(
                        "`inherits`: no theme named `{parent}` (built-in: {}); \
                         the built-in default theme is used as the base instead",
                        Theme::BUILTIN.join(", ")
                    );
                    diags.push(Diagnostic::error(&layer.label, Some(*line), message));
                    next = default_unless_seen(&seen);
                }
            }
        }
        layers.push(layer);
    }
    (name, layers)
}

/// The built-in default, as the base replacing a bad link, unless the chain
/// already went through it (which would loop).
fn default_unless_seen(seen: &[(String, String)]) -> Option<Origin> {
    let default = Origin::Builtin("default");
    let label = default.label();
    (!seen.iter().any(|(l, _)| *l == label)).then_some(default)
}

/// Merge a chain (child first) into the syntax theme and one style per
/// defined scope, at full colour.
fn resolve(layers: &[Layer], diags: &mut Vec<Diagnostic>) -> (String, HashMap<String, StyleSpec>) {
    let syntax = layers.iter().find_map(|l| l.syntax.clone()).unwrap_or_else(|| DEFAULT_SYNTAX.to_owned());

    let mut palette: HashMap<&str, Color> = HashMap::new();
    for layer in layers {
        for (name, colour) in &layer.palette {
            palette.entry(name.as_str()).or_insert(*colour);
        }
    }
    let bad_palette: HashSet<&str> = layers
        .iter()
        .flat_map(|l| l.bad_palette.iter().map(String::as_str))
        .filter(|n| !palette.contains_key(n))
        .collect();

    // A definition that turns out bad yields to the next one down the chain.
    let mut stacks: BTreeMap<&str, Vec<(&Layer, &ScopeDef)>> = BTreeMap::new();
    for layer in layers {
        for def in &layer.scopes {
            stacks.entry(def.scope.as_str()).or_default().push((layer, def));
        }
    }
    let mut styles = HashMap::new();
    for (scope, stack) in stacks {
        for (layer, def) in stack {
            match resolve_def(layer, def, &palette, &bad_palette) {
                Ok(style) => {
                    styles.insert(scope.to_owned(), style);
                    break;
                }
                Err(ds) => diags.extend(ds),
            }
        }
    }
    (syntax, styles)
}

fn resolve_def(
    layer: &Layer,
    def: &ScopeDef,
    palette: &HashMap<&str, Color>,
    bad_palette: &HashSet<&str>,
) -> Result<StyleSpec, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut failed = false;
    let mut colour = |r: &Option<ColorRef>| -> Option<Color> {
        match r.as_ref()? {
            ColorRef::Known(c) => Some(*c),
            ColorRef::Name { text, line } => {
                let found = palette.get(text.as_str()).copied().or_else(|| Color::parse_name(text));
                failed |= found.is_none();
                if found.is_none() && !bad_palette.contains(text.as_str()) {
                    let message = format!("`{}`: `{text}` is not a colour; {EXPECTED_COLOUR}", def.scope);
                    errors.push(Diagnostic::error(&layer.label, Some(*line), message));
                }
                found
            }
        }
    };
    let fg = colour(&def.fg);
    let bg = colour(&def.bg);
    if failed { Err(errors) } else { Ok(StyleSpec { fg, bg, modifiers: def.modifiers }) }
}
