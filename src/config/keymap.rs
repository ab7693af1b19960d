//! Keymaps: which key (or chord) runs which [`Action`] in each pane.
//!
//! A keymap is built from layers: a base keymap (built-in or a user file,
//! following its `inherits` chain down to the root), then the caller's
//! override layers. Each layer only changes the keys it names. Problems are
//! reported as [`Diagnostic`]s and the offending entries skipped, so a typo in
//! a user file never costs the user the rest of their keys.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use toml::de::{DeTable, DeValue};

use crate::app::actions::Action;
use crate::config::diagnostics::{Diagnostic, line_of};
use crate::config::keys::{Key, KeySeq};

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
pub enum Lookup {
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

const DEFAULT_TOML: &str = include_str!("../../keymaps/default.toml");
const VIM_TOML: &str = include_str!("../../keymaps/vim.toml");
const EMACS_TOML: &str = include_str!("../../keymaps/emacs.toml");

impl Keymap {
    pub const BUILTIN: &'static [&'static str] = &["default", "vim", "emacs"];

    /// The embedded TOML text of a built-in keymap.
    pub fn builtin(name: &str) -> Option<&'static str> {
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
    pub fn lookup(&self, ctx: Context, keys: &[Key]) -> Lookup {
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
    pub fn bindings(&self) -> Vec<(Context, KeySeq, Action)> {
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

    /// Validate one user keymap file for `tandem config check`. `inherits`
    /// must name a built-in keymap or a file next to this one.
    pub fn check_file(path: &Path) -> Vec<Diagnostic> {
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
mod tests {
    use super::*;
    use crate::config::diagnostics::Severity;
    use Context::*;

    fn keys(s: &str) -> Vec<Key> {
        s.parse::<KeySeq>().unwrap_or_else(|e| panic!("{s}: {e}")).0
    }

    fn builtin(name: &str) -> Keymap {
        let (map, diags) = Keymap::load(name, &[], &[]);
        assert!(diags.is_empty(), "{name}: {diags:#?}");
        map
    }

    fn with_override(text: &str) -> (Keymap, Vec<Diagnostic>) {
        Keymap::load("default", &[], &[("override.toml".to_string(), text.to_string())])
    }

    /// Assert how keys resolve; one `context | keys | action, prefix or unbound` per line.
    fn expect(map: &Keymap, table: &str) {
        for row in table.lines().map(str::trim).filter(|r| !r.is_empty()) {
            let [ctx, seq, want] = [0, 1, 2].map(|i| row.split('|').nth(i).unwrap_or("").trim());
            let want = match want {
                "prefix" => Lookup::Prefix,
                "unbound" => Lookup::Unbound,
                name => Lookup::Action(name.parse().unwrap_or_else(|e| panic!("{row}: {e}"))),
            };
            let ctx: Context = ctx.parse().unwrap_or_else(|e| panic!("{row}: {e}"));
            assert_eq!(map.lookup(ctx, &keys(seq)), want, "{row}");
        }
    }

    /// (line, message) of each error, in order.
    fn errors(diags: &[Diagnostic]) -> Vec<(usize, String)> {
        diags.iter().filter(|d| d.is_error()).map(|d| (d.line.unwrap_or(0), d.message.clone())).collect()
    }

    /// `check_file`'s errors for a fixture, and default with the fixture
    /// applied as an override layer (to see what survived).
    fn fixture(name: &str) -> (Vec<(usize, String)>, Keymap) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keymaps").join(name);
        let diags = Keymap::check_file(&path);
        assert!(diags.iter().all(|d| d.source == path.display().to_string() && d.is_error()), "{diags:#?}");
        let (map, _) = with_override(&std::fs::read_to_string(&path).expect("fixture"));
        (errors(&diags), map)
    }

    #[test]
    fn shipped_keymaps_load_without_diagnostics() {
        for name in Keymap::BUILTIN {
            builtin(name);
        }
    }

    #[test]
    fn shipped_files_use_each_key_once_per_table_in_canonical_notation() {
        for name in Keymap::BUILTIN {
            let text = Keymap::builtin(name).expect("listed in BUILTIN");
            let doc = DeTable::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            for (table, entries) in doc.get_ref() {
                let Some(entries) = entries.get_ref().as_table() else { continue };
                let mut seen = HashSet::new();
                for written in entries.keys().map(|k| k.get_ref()) {
                    let seq: KeySeq = written.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(seq.to_string(), written.as_ref(), "{name} [{}]", table.get_ref());
                    assert!(seen.insert(seq), "{name} [{}] binds {written:?} twice", table.get_ref());
                }
            }
        }
    }

    #[test]
    fn every_action_is_bound_in_default() {
        let bound: HashSet<Action> = builtin("default").bindings().into_iter().map(|(_, _, a)| a).collect();
        let missing: Vec<_> = Action::ALL.iter().filter(|a| !bound.contains(a)).collect();
        assert!(missing.is_empty(), "unbound in default.toml: {missing:?}");
    }

    #[test]
    fn lookup_prefers_the_pane_then_global_and_follows_chords() {
        expect(
            &builtin("default"),
            "
            chat     | j   | scroll_down
            chat     | C-q | quit
            composer | C-u | delete_to_line_start
            chat     | C-u | half_page_up
            chat     | g   | prefix
            chat     | g g | scroll_top
            chat     | g x | unbound
            chat     | x   | unbound
            composer | g   | unbound
            ",
        );
        assert_eq!(builtin("default").lookup(Chat, &[]), Lookup::Unbound);
        let (map, diags) = with_override("[global]\n\"j\" = \"quit\"\n\"C-x C-c\" = \"quit\"\n");
        assert!(diags.is_empty(), "{diags:#?}");
        expect(
            &map,
            "
            chat     | j       | scroll_down
            composer | j       | quit
            diff     | C-x     | prefix
            diff     | C-x C-c | quit
            ",
        );
    }

    #[test]
    fn vim_and_emacs_add_their_keys_on_top_of_default() {
        expect(
            &builtin("vim"),
            "
            chat     | Z     | prefix
            chat     | Z Z   | quit
            diff     | C-w w | focus_next
            composer | C-w   | delete_word_back
            composer | C-h   | delete_back
            chat     | j     | scroll_down
            ",
        );
        expect(
            &builtin("emacs"),
            "
            composer | C-x     | prefix
            composer | C-x C-c | quit
            metrics  | A->     | scroll_bottom
            composer | C-f     | cursor_right
            chat     | C-q     | quit
            ",
        );
    }

    #[test]
    fn override_changes_only_named_keys_and_none_unbinds() {
        let (map, diags) = with_override("[chat]\n\"j\" = \"page_down\"\n\"k\" = \"none\"\n");
        assert!(diags.is_empty(), "{diags:#?}");
        expect(
            &map,
            "
            chat | j  | page_down
            chat | k  | unbound
            chat | Up | scroll_up
            diff | j  | scroll_down
            diff | k  | scroll_up
            ",
        );
        assert_eq!(map.bindings().len(), builtin("default").bindings().len() - 1);
        let (map, diags) = with_override("inherits = \"vim\"\n");
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert!(!diags[0].is_error() && diags[0].message.starts_with("`inherits` is ignored here"));
        expect(&map, "chat | Z | unbound");
    }

    #[test]
    fn a_later_layer_can_replace_an_inherited_chord() {
        let (map, diags) = with_override("[chat]\n\"g\" = \"help\"\n");
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(
            (diags[0].severity, diags[0].source.as_str(), diags[0].line),
            (Severity::Warning, "override.toml", Some(2))
        );
        assert!(diags[0].message.starts_with("`g` in [chat] unbinds the inherited `g g` (scroll_top)"), "{diags:#?}");
        expect(
            &map,
            "
            chat | g | help
            diff | g | prefix
            ",
        );

        let (map, diags) = with_override("[chat]\n\"g\" = \"help\"\n\"g g\" = \"none\"\n");
        assert!(diags.is_empty(), "{diags:#?}");
        expect(&map, "chat | g | help");
    }

    #[test]
    fn hints_and_help_listing_are_ordered() {
        let map = builtin("default");
        let shown = |ctx, action| map.keys_for(ctx, action).iter().map(KeySeq::to_string).collect::<Vec<_>>();
        assert_eq!(shown(Chat, Action::ScrollBottom), ["G", "End"]);
        assert_eq!(shown(Chat, Action::ScrollTop), ["Home", "g g"]);
        assert_eq!(shown(Chat, Action::Quit), Vec::<String>::new());
        assert_eq!(shown(Global, Action::Cancel), ["Esc"]);
        assert_eq!(shown(Global, Action::Interrupt), ["C-c"]);
        let all = map.bindings();
        assert_eq!((all[0].0, all[0].2), (Global, Action::Quit));
        let order = |(ctx, _, action): &(Context, KeySeq, Action)| (*ctx as usize, *action);
        assert!(all.windows(2).all(|w| order(&w[0]) <= order(&w[1])));
    }

    #[test]
    fn unknown_action_names_file_line_key_and_action() {
        let (errs, map) = fixture("unknown-action.toml");
        let msg = "unknown action `scrol_up` for `j` in [chat] (did you mean `scroll_up`?); the help overlay lists \
                   every action name, and \"none\" unbinds a key";
        assert_eq!(errs, [(6, msg.to_string())]);
        expect(
            &map,
            "
            chat | K | scroll_up
            chat | j | scroll_down
            ",
        );
        let far = unknown_action_message("frobnicate", "x", Chat);
        assert!(far.starts_with("unknown action `frobnicate` for `x` in [chat]; the help"), "{far}");
    }

    #[test]
    fn bad_keys_are_reported_and_skipped() {
        let (errs, map) = fixture("bad-key.toml");
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert_eq!(errs[0], (5, "bad key `C-` in [global]: `C-` is not a key: nothing after the modifier".into()));
        assert_eq!(errs[1].0, 7);
        assert!(errs[1].1.starts_with("bad key `Ctrl-s` in [global]: `Ctrl-s` is not a key name; expected"));
        assert_eq!(errs[2].0, 8);
        assert!(errs[2].1.starts_with("bad key `g Foo` in [global]: `Foo` is not a key name"));
        expect(&map, "chat | F5 | redraw");
    }

    #[test]
    fn duplicate_keys_keep_the_first() {
        let (errs, map) = fixture("duplicate-key.toml");
        let dup = |line, key, first, first_line| {
            let msg =
                format!("duplicate key `{key}` in [composer]: it is the same key as `{first}` on line {first_line}");
            (line, msg + "; this line is ignored")
        };
        assert_eq!(errs, [dup(7, "c-s", "C-s", 5), dup(8, "M-x", "A-x", 6)]);
        expect(
            &map,
            "
            composer | C-s | submit
            composer | A-x | clear_composer
            chat     | C-s | scroll_top
            ",
        );
    }

    #[test]
    fn a_key_cannot_be_bound_and_start_a_chord_in_one_file() {
        let (errs, map) = fixture("prefix-conflict.toml");
        let msg = "`z z` in [diff] starts with `z`, which line 6 binds to zoom; a key can't both run an action and \
                   start a chord, so `z z` is ignored";
        assert_eq!(errs, [(7, msg.to_string())]);
        expect(
            &map,
            "
            diff | z   | zoom
            diff | d d | scroll_bottom
            chat | x y | zoom
            ",
        );
    }

    #[test]
    fn unknown_tables_and_settings_are_reported() {
        let (errs, map) = fixture("unknown-context.toml");
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert_eq!(errs[0].0, 3);
        assert!(errs[0].1.starts_with("unknown setting `theme`"), "{errs:#?}");
        let msg = "unknown table [editor]; a keymap has the tables [global], [composer], [chat], [diff] and [metrics]";
        assert_eq!(errs[1], (5, msg.into()));
        expect(&map, "chat | J | scroll_down");
    }

    #[test]
    fn toml_syntax_errors_name_the_line_and_spare_the_rest() {
        let (map, diags) = with_override("[chat]\n\"J\" = \n\"K\" = \"scroll_up\"\n");
        let errs = errors(&diags);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_eq!(errs[0].0, 2);
        assert!(errs[0].1.starts_with("invalid TOML: "), "{errs:#?}");
        expect(
            &map,
            "
            chat | K | scroll_up
            chat | J | unbound
            ",
        );
    }

    #[test]
    fn unknown_keymap_falls_back_to_default() {
        let (map, diags) = Keymap::load("vi", &[PathBuf::from("/nonexistent")], &[]);
        let msg = "unknown keymap `vi`: the built-in keymaps are default, vim, emacs and there is no file \
                   /nonexistent/keymaps/vi.toml; using the built-in `default` keymap";
        assert_eq!(diags, [Diagnostic::error("keymap", None, msg)]);
        expect(&map, "global | C-q | quit");
    }

    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn user_keymaps_inherit_and_shadow_builtins() {
        let dir = TempDir(std::env::temp_dir().join(format!("tandem-keymap-test-{}", std::process::id())));
        let keymaps = dir.0.join("keymaps");
        std::fs::create_dir_all(&keymaps).expect("temp dir");
        for (file, text) in [
            ("mine.toml", "inherits = \"vim\"\n[chat]\n\"q\" = \"quit\"\n"),
            ("default.toml", "inherits = \"default\"\n[global]\n\"C-q\" = \"none\"\n"),
            ("loop-a.toml", "inherits = \"loop-b\"\n"),
            ("loop-b.toml", "inherits = \"loop-a\"\n"),
            ("typo.toml", "# typo below\ninherits = \"defualt\"\n"),
        ] {
            std::fs::write(keymaps.join(file), text).expect("write");
        }
        let dirs = [dir.0.clone()];
        let (map, diags) = Keymap::load("mine", &dirs, &[]);
        assert!(diags.is_empty(), "{diags:#?}");
        // The user's default.toml shadows the built-in one, even under vim.
        expect(
            &map,
            "
            chat | q   | quit
            chat | Z Z | quit
            chat | C-q | unbound
            ",
        );

        let (_, diags) = Keymap::load("loop-a", &dirs, &[]);
        let source = keymaps.join("loop-b.toml").display().to_string();
        assert_eq!(diags, [Diagnostic::error(source, Some(1), "`inherits = \"loop-a\"` makes a loop; ignoring it")]);

        let (map, diags) = Keymap::load("typo", &dirs, &[]);
        assert_eq!(errors(&diags).len(), 1, "{diags:#?}");
        assert_eq!(diags[0].line, Some(2));
        assert!(diags[0].message.starts_with("unknown keymap `defualt`"));
        assert!(diags[0].message.ends_with("; inheriting from `default` instead"));
        expect(
            &map,
            "
            global | C-q | unbound
            global | F1  | help
            ",
        );

        let bad = Keymap::check_file(&keymaps.join("typo.toml"));
        assert_eq!(errors(&bad).len(), 1);
        assert!(bad[0].message.starts_with("`inherits = \"defualt\"`: no such keymap"), "{bad:#?}");
        assert!(Keymap::check_file(&keymaps.join("loop-a.toml")).is_empty());
        assert!(Keymap::check_file(&keymaps.join("missing.toml"))[0].message.starts_with("can't read the file"));
    }

    #[test]
    fn context_names_round_trip() {
        for ctx in Context::ALL {
            assert_eq!(ctx.name().parse::<Context>(), Ok(ctx));
            assert_eq!(Context::ALL[ctx as usize], ctx);
        }
        assert!("Chat".parse::<Context>().is_err());
    }
}
