//! Keymaps: which key (or chord) runs which [`Action`] in each pane.
//!
//! A keymap is built from layers: a base keymap (built-in or a user file,
//! following its `inherits` chain down to the root), then the caller's
//! override layers. Each layer only changes the keys it names. Problems are
//! reported as [`Diagnostic`]s and the offending entries skipped, so a typo in
//! a user file never costs the user the rest of their keys.

mod action;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use toml::de::{DeTable, DeValue};

use crate::config::diagnostics::{Diagnostic, line_of};
use crate::config::keys::{Key, KeySeq};

pub use action::{Action, UnknownAction};

/// The table of a keymap file, and the pane whose focus selects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    Global,
    Composer,
    Chat,
    Diff,
    Metrics,
}

impl Context {
    /// In discriminant order, which `Keymap` relies on to index its tables.
    pub const ALL: [Context; 5] = [Context::Global, Context::Composer, Context::Chat, Context::Diff, Context::Metrics];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Composer => "composer",
            Context::Chat => "chat",
            Context::Diff => "diff",
            Context::Metrics => "metrics",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown table [{0}]; a keymap has the tables [global], [composer], [chat], [diff] and [metrics]")]
pub struct UnknownContext(pub String);

impl FromStr for Context {
    type Err = UnknownContext;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Context::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| UnknownContext(s.to_string()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    Action(Action),
    /// The keys so far start a chord: wait for the next key.
    Prefix,
    Unbound,
}

#[derive(Debug, Clone, Default)]
struct Table {
    bindings: HashMap<Vec<Key>, Action>,
    /// Every strict prefix of a bound chord, so `lookup` needs no scan.
    prefixes: HashSet<Vec<Key>>,
}

impl Table {
    fn rebuild_prefixes(&mut self) {
        self.prefixes = self.bindings.keys().flat_map(|keys| (1..keys.len()).map(|n| keys[..n].to_vec())).collect();
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    tables: [Table; Context::ALL.len()],
}

impl Default for Keymap {
    /// The built-in default keymap.
    fn default() -> Self {
        Keymap::load("default", &[], &[]).0
    }
}

/// One `"KEY" = "action"` line that survived validation.
struct Entry {
    ctx: Context,
    written: String,
    seq: KeySeq,
    /// `None` for `"none"`: remove the key.
    action: Option<Action>,
    line: usize,
}

struct Layer {
    /// The keymap named by `inherits`, and its line.
    inherits: Option<(String, usize)>,
    entries: Vec<Entry>,
}

/// Where a keymap's text came from; used to detect `inherits` cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    User(PathBuf),
    Builtin(&'static str),
}

impl Origin {
    fn label(&self) -> String {
        match self {
            Origin::User(path) => path.display().to_string(),
            Origin::Builtin(name) => format!("built-in {name}.toml"),
        }
    }
}

const DEFAULT_TOML: &str = include_str!("../../../keymaps/default.toml");
const VIM_TOML: &str = include_str!("../../../keymaps/vim.toml");
const EMACS_TOML: &str = include_str!("../../../keymaps/emacs.toml");

impl Keymap {
    pub const BUILTIN: &'static [&'static str] = &["default", "vim", "emacs"];

    /// The embedded TOML text of a built-in keymap.
    pub(crate) fn builtin(name: &str) -> Option<&'static str> {
        match name {
            "default" => Some(DEFAULT_TOML),
            "vim" => Some(VIM_TOML),
            "emacs" => Some(EMACS_TOML),
            _ => None,
        }
    }

    /// Base keymap `name` (built-in, or `<dir>/keymaps/<name>.toml` in
    /// `user_dirs`; a user file wins over a built-in, the first dir over later
    /// ones), then each override layer `(source label, file text)` in order,
    /// applied key by key. An unknown keymap name is reported and the built-in
    /// "default" used instead.
    pub fn load(name: &str, user_dirs: &[PathBuf], overrides: &[(String, String)]) -> (Keymap, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut keymap = Keymap { tables: Default::default() };

        let mut chain = resolve_chain(name, user_dirs, &mut diags);
        if chain.is_empty() {
            diags.push(Diagnostic::error(
                "keymap",
                None,
                format!("{}; using the built-in `default` keymap", unknown_keymap(name, user_dirs)),
            ));
            chain = resolve_chain("default", &[], &mut diags);
        }
        for (label, layer) in chain.iter().rev() {
            keymap.apply(label, layer, &mut diags);
        }
        for (label, text) in overrides {
            let layer = parse_layer(label, text, &mut diags);
            if let Some((_, line)) = &layer.inherits {
                diags.push(Diagnostic::warning(
                    label.as_str(),
                    Some(*line),
                    "`inherits` is ignored here: these keys apply on top of the selected keymap",
                ));
            }
            keymap.apply(label, &layer, &mut diags);
        }
        for table in &mut keymap.tables {
            table.rebuild_prefixes();
        }
        (keymap, diags)
    }

    /// Resolve the keys pressed so far (pending chord keys plus the new one)
    /// in `ctx`: the pane's table first, then [global].
    pub(crate) fn lookup(&self, ctx: Context, keys: &[Key]) -> Lookup {
        if keys.is_empty() {
            return Lookup::Unbound;
        }
        for table in [self.table(ctx), self.table(Context::Global)] {
            if let Some(&action) = table.bindings.get(keys) {
                return Lookup::Action(action);
            }
            if table.prefixes.contains(keys) {
                return Lookup::Prefix;
            }
        }
        Lookup::Unbound
    }

    /// Every binding, for the help overlay: by context, then in the order of
    /// `Action::ALL`, then shortest keys first.
    pub(crate) fn bindings(&self) -> Vec<(Context, KeySeq, Action)> {
        let mut all: Vec<(Context, KeySeq, Action)> = Context::ALL
            .into_iter()
            .flat_map(|ctx| {
                self.table(ctx).bindings.iter().map(move |(keys, &action)| (ctx, KeySeq(keys.clone()), action))
            })
            .collect();
        // `Action`'s derived order is its declaration order, which is `ALL`'s.
        all.sort_by(|a, b| (a.0 as usize, a.2).cmp(&(b.0 as usize, b.2)).then_with(|| hint_order(&a.1, &b.1)));
        all
    }

    /// The keys bound to `action` in `ctx` itself (not [global]), shortest
    /// first, for status-line hints.
    pub fn keys_for(&self, ctx: Context, action: Action) -> Vec<KeySeq> {
        let mut keys: Vec<KeySeq> = self
            .table(ctx)
            .bindings
            .iter()
            .filter(|&(_, &a)| a == action)
            .map(|(keys, _)| KeySeq(keys.clone()))
            .collect();
        keys.sort_by(hint_order);
        keys
    }

    /// The first key bound to `action` in `ctx`, or else in [global], in
    /// keymap notation: what a hint or a message tells the user to press.
    pub(crate) fn key_label(&self, ctx: Context, action: Action) -> String {
        self.keys_for(ctx, action)
            .into_iter()
            .chain(self.keys_for(Context::Global, action))
            .next()
            .map_or_else(|| "(unbound)".to_string(), |k| k.to_string())
    }

    /// Validate one user keymap file for `tandem config check`. `inherits`
    /// must name a built-in keymap or a file next to this one.
    pub(crate) fn check_file(path: &Path) -> Vec<Diagnostic> {
        let label = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                return vec![Diagnostic::error(label, None, format!("can't read the file: {e}"))];
            }
        };
        let mut diags = Vec::new();
        let layer = parse_layer(&label, &text, &mut diags);
        if let Some((name, line)) = &layer.inherits {
            let sibling = path.with_file_name(format!("{name}.toml"));
            let exists =
                valid_name(name) && (Keymap::builtin(name).is_some() || (sibling.is_file() && sibling != path));
            if !exists {
                diags.push(Diagnostic::error(
                    label.as_str(),
                    Some(*line),
                    format!(
                        "`inherits = \"{name}\"`: no such keymap; expected one of {} or a file {} next to this one",
                        Keymap::BUILTIN.join(", "),
                        sibling.file_name().map(|f| f.to_string_lossy()).unwrap_or_default()
                    ),
                ));
            }
        }
        let mut scratch = Keymap { tables: Default::default() };
        scratch.apply(&label, &layer, &mut diags);
        diags
    }

    fn table(&self, ctx: Context) -> &Table {
        &self.tables[ctx as usize]
    }

    /// Apply a layer on top of what earlier layers bound. Conflicts within the
    /// layer were already dropped by `parse_layer`, so any chord/prefix clash
    /// found here is with an inherited binding, and the newer layer wins.
    fn apply(&mut self, label: &str, layer: &Layer, diags: &mut Vec<Diagnostic>) {
        // Unbinds go first so that a layer which both unbinds `g g` and binds
        // `g` is not warned about hiding `g g`.
        for e in layer.entries.iter().filter(|e| e.action.is_none()) {
            self.tables[e.ctx as usize].bindings.remove(&e.seq.0);
        }
        for e in &layer.entries {
            let Some(action) = e.action else { continue };
            let table = &mut self.tables[e.ctx as usize];
            let mut hidden: Vec<(Vec<Key>, Action)> = table
                .bindings
                .iter()
                .filter(|(keys, _)| is_strict_prefix(keys, &e.seq.0) || is_strict_prefix(&e.seq.0, keys))
                .map(|(keys, &a)| (keys.clone(), a))
                .collect();
            hidden.sort();
            for (keys, old) in hidden {
                table.bindings.remove(&keys);
                let old_seq = KeySeq(keys);
                diags.push(Diagnostic::warning(
                    label,
                    Some(e.line),
                    format!(
                        "`{}` in [{}] unbinds the inherited `{old_seq}` ({old}): a key can't both run an \
                         action and start a chord; add `\"{old_seq}\" = \"none\"` to silence this",
                        e.written, e.ctx
                    ),
                ));
            }
            table.bindings.insert(e.seq.0.clone(), action);
        }
    }
}

/// Shortest first (fewest keys, then fewest characters), so hints show
/// `C-d` before `PageDown` and `G` before `g g`.
fn hint_order(a: &KeySeq, b: &KeySeq) -> std::cmp::Ordering {
    let measure = |s: &KeySeq| (s.len(), s.to_string().len());
    measure(a).cmp(&measure(b)).then_with(|| a.cmp(b))
}

fn is_strict_prefix(short: &[Key], long: &[Key]) -> bool {
    short.len() < long.len() && long.starts_with(short)
}

/// Keymap names are file stems: this keeps `inherits = "../x"` from reading
/// files outside the keymaps directory.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn unknown_keymap(name: &str, user_dirs: &[PathBuf]) -> String {
    let mut msg = format!("unknown keymap `{name}`: the built-in keymaps are {}", Keymap::BUILTIN.join(", "));
    if let Some(dir) = user_dirs.first() {
        let path = dir.join("keymaps").join(format!("{name}.toml"));
        msg.push_str(&format!(" and there is no file {}", path.display()));
    }
    msg
}

/// Read keymap `name` and everything it inherits, nearest first. Empty when
/// `name` itself can't be found (the caller reports that).
fn resolve_chain(name: &str, user_dirs: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<(String, Layer)> {
    let mut chain: Vec<(String, Layer)> = Vec::new();
    let mut visited: Vec<Origin> = Vec::new();
    let mut wanted = name.to_string();
    loop {
        let mut candidates = Vec::new();
        if valid_name(&wanted) {
            for dir in user_dirs {
                let path = dir.join("keymaps").join(format!("{wanted}.toml"));
                if path.is_file() {
                    candidates.push(Origin::User(path));
                }
            }
        }
        let builtin = Keymap::BUILTIN.iter().find(|&&b| b == wanted);
        candidates.extend(builtin.map(|&b| Origin::Builtin(b)));
        let found_any = !candidates.is_empty();

        // A user file may inherit the keymap it shadows (e.g. a user
        // `default.toml` with `inherits = "default"`): skipping origins
        // already in the chain turns that into "the next one down".
        let mut loaded = None;
        for origin in candidates {
            if visited.contains(&origin) {
                continue;
            }
            let text = match &origin {
                Origin::Builtin(b) => Keymap::builtin(b).map(str::to_string).unwrap_or_default(),
                Origin::User(path) => match std::fs::read_to_string(path) {
                    Ok(text) => text,
                    Err(e) => {
                        diags.push(Diagnostic::error(origin.label(), None, format!("can't read the file: {e}")));
                        visited.push(origin);
                        continue;
                    }
                },
            };
            loaded = Some((origin, text));
            break;
        }

        let Some((origin, text)) = loaded else {
            if let Some((label, layer)) = chain.last() {
                let line = layer.inherits.as_ref().map(|(_, line)| *line);
                let (msg, fallback) = if found_any {
                    (format!("`inherits = \"{wanted}\"` makes a loop; ignoring it"), false)
                } else {
                    (format!("{}; inheriting from `default` instead", unknown_keymap(&wanted, user_dirs)), true)
                };
                diags.push(Diagnostic::error(label.as_str(), line, msg));
                // Without a base, a typo in `inherits` would leave the user
                // with only their own few keys and possibly no way to quit.
                if fallback && !visited.contains(&Origin::Builtin("default")) {
                    wanted = "default".to_string();
                    continue;
                }
            }
            return chain;
        };

        let label = origin.label();
        let layer = parse_layer(&label, &text, diags);
        visited.push(origin);
        let next = layer.inherits.as_ref().map(|(n, _)| n.clone());
        chain.push((label, layer));
        match next {
            Some(n) => wanted = n,
            None => return chain,
        }
    }
}

/// Parse and validate one keymap file. Bad entries are reported and left out;
/// everything else is returned.
fn parse_layer(label: &str, text: &str, diags: &mut Vec<Diagnostic>) -> Layer {
    let (doc, errors) = DeTable::parse_recoverable(text);
    // The recovering parser still yields entries around a syntax error (e.g.
    // an empty value for `k = `); skipping those lines avoids a second,
    // confusing diagnostic about the same mistake.
    let mut bad_lines = HashSet::new();
    for err in &errors {
        let line = err.span().map(|s| line_of(text, s.start));
        bad_lines.extend(line);
        diags.push(Diagnostic::error(label, line, format!("invalid TOML: {}", err.message().trim())));
    }
    let err = |diags: &mut Vec<Diagnostic>, line: usize, msg: String| {
        diags.push(Diagnostic::error(label, Some(line), msg));
    };

    let mut layer = Layer { inherits: None, entries: Vec::new() };
    // The parsed table is sorted by key; file order gives stable, readable
    // diagnostics and decides which of two duplicates is "the second".
    let mut top: Vec<_> = doc.get_ref().iter().collect();
    top.sort_by_key(|(k, _)| k.span().start);
    for (name, value) in top {
        let line = line_of(text, name.span().start);
        match (name.get_ref().as_ref(), value.get_ref()) {
            ("inherits", DeValue::String(s)) => layer.inherits = Some((s.to_string(), line)),
            ("inherits", _) => err(diags, line, "`inherits` expects a keymap name, like \"default\"".into()),
            (table_name, DeValue::Table(table)) => {
                let ctx = match table_name.parse::<Context>() {
                    Ok(ctx) => ctx,
                    Err(e) => {
                        err(diags, line, e.to_string());
                        continue;
                    }
                };
                let mut entries: Vec<_> = table.iter().collect();
                entries.sort_by_key(|(k, _)| k.span().start);
                for (key, value) in entries {
                    let line = line_of(text, key.span().start);
                    if bad_lines.contains(&line) || bad_lines.contains(&line_of(text, value.span().start)) {
                        continue;
                    }
                    let written = key.get_ref().to_string();
                    let seq = match written.parse::<KeySeq>() {
                        Ok(seq) => seq,
                        Err(e) => {
                            err(diags, line, format!("bad key `{written}` in [{ctx}]: {e}"));
                            continue;
                        }
                    };
                    let action = match value.get_ref() {
                        DeValue::String(s) if s == "none" => None,
                        DeValue::String(s) => match s.parse::<Action>() {
                            Ok(action) => Some(action),
                            Err(_) => {
                                err(diags, line, unknown_action_message(s, &written, ctx));
                                continue;
                            }
                        },
                        other => {
                            err(
                                diags,
                                line,
                                format!(
                                    "`{written}` in [{ctx}] is bound to a {}; expected an action name in quotes, \
                                     like \"scroll_down\", or \"none\"",
                                    other.type_str()
                                ),
                            );
                            continue;
                        }
                    };
                    layer.entries.push(Entry { ctx, written, seq, action, line });
                }
            }
            (other, _) => err(
                diags,
                line,
                format!(
                    "unknown setting `{other}`; a keymap file has `inherits` and the tables \
                     [global], [composer], [chat], [diff] and [metrics]"
                ),
            ),
        }
    }
    drop_conflicts(label, &mut layer.entries, diags);
    layer
}

/// Drop entries that clash with an earlier entry of the same file: the same
/// key written twice (`C-s` and `c-s`), or a bound key that another binding in
/// the table uses as the start of a chord (the chord is dropped).
fn drop_conflicts(label: &str, entries: &mut Vec<Entry>, diags: &mut Vec<Diagnostic>) {
    let mut keep = vec![true; entries.len()];
    let mut first_seen: HashMap<(Context, &KeySeq), usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some(&j) = first_seen.get(&(e.ctx, &e.seq)) {
            let first = &entries[j];
            diags.push(Diagnostic::error(
                label,
                Some(e.line),
                format!(
                    "duplicate key `{}` in [{}]: it is the same key as `{}` on line {}; this line is ignored",
                    e.written, e.ctx, first.written, first.line
                ),
            ));
            keep[i] = false;
        } else {
            first_seen.insert((e.ctx, &e.seq), i);
        }
    }
    for (i, chord) in entries.iter().enumerate() {
        if !keep[i] || chord.action.is_none() {
            continue;
        }
        let prefix = entries.iter().enumerate().find(|&(j, p)| {
            keep[j] && p.ctx == chord.ctx && p.action.is_some() && is_strict_prefix(&p.seq.0, &chord.seq.0)
        });
        if let Some((_, p)) = prefix {
            diags.push(Diagnostic::error(
                label,
                Some(chord.line),
                format!(
                    "`{}` in [{}] starts with `{}`, which line {} binds to {}; a key can't both run an \
                     action and start a chord, so `{}` is ignored",
                    chord.written,
                    chord.ctx,
                    p.written,
                    p.line,
                    p.action.map(Action::name).unwrap_or("none"),
                    chord.written
                ),
            ));
            keep[i] = false;
        }
    }
    let mut keep = keep.into_iter();
    entries.retain(|_| keep.next().unwrap_or(true));
}

fn unknown_action_message(action: &str, key: &str, ctx: Context) -> String {
    let mut msg = format!("unknown action `{action}` for `{key}` in [{ctx}]");
    let closest = Action::ALL.iter().map(|a| (edit_distance(action, a.name()), a.name())).min();
    if let Some((distance, name)) = closest
        && distance <= 2.max(action.len() / 4)
    {
        msg.push_str(&format!(" (did you mean `{name}`?)"));
    }
    msg.push_str("; the help overlay lists every action name, and \"none\" unbinds a key");
    msg
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
