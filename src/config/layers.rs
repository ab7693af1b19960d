//! Layered TOML: a schema taken from the built-in defaults, and layers (files,
//! environment, flags) laid over it key by key, each value remembering where
//! it came from.
//!
//! The defaults file is the schema: a key it does not have is unknown, and a
//! value must have the type of the default. This keeps one source of truth
//! for what can be configured, and lets `config show` explain every value.

use std::collections::BTreeMap;
use std::fmt;

use toml::Value;

use super::diagnostics::{Diagnostic, line_of};

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File { path: String, line: Option<usize> },
    Env(String),
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("built-in default"),
            Source::File { path, line: Some(line) } => write!(f, "{path}:{line}"),
            Source::File { path, line: None } => f.write_str(path),
            Source::Env(var) => write!(f, "environment {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    pub source: Source,
}

/// Tables whose entries users name themselves (`[providers.mine]`): an entry
/// may have any key that a built-in entry of the same table has.
const OPEN_TABLES: &[&str] = &["providers"];

/// Keys that take one value, or a table of such values by name
/// (`max_tool_calls_per_minute = { run_command = 5 }`). A layer that sets
/// one replaces the whole value.
const NAMED_VALUE_KEYS: &[&str] = &["budget.max_tool_calls_per_minute"];

/// `providers.mine` → true: a user-named entry of an open table.
fn is_open_entry(path: &str) -> bool {
    path.split_once('.').is_some_and(|(table, name)| OPEN_TABLES.contains(&table) && !name.contains('.'))
}

/// One file being laid over the values.
struct Walk<'a> {
    label: &'a str,
    text: &'a str,
    gate: Gate<'a>,
    diags: &'a mut Vec<Diagnostic>,
    held: &'a mut Vec<(String, Entry)>,
}

/// The effective value of every leaf key, by dotted path (`ui.theme`).
#[derive(Debug, Clone)]
pub struct Layered {
    defaults: BTreeMap<String, Value>,
    entries: BTreeMap<String, Entry>,
    /// What [`Layered::reset`] replaced, for checks that report on what
    /// the user wrote even though it is not used.
    replaced: BTreeMap<String, Entry>,
}

/// Decides, per key, whether a file's value is laid over the current ones or
/// held back (an untrusted repository's keys that could run programs).
type Gate<'a> = &'a dyn Fn(&str) -> bool;

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn same_type(expected: &Value, got: &Value) -> bool {
    matches!(
        (expected, got),
        (Value::String(_), Value::String(_))
            | (Value::Integer(_), Value::Integer(_))
            | (Value::Float(_), Value::Float(_) | Value::Integer(_))
            | (Value::Boolean(_), Value::Boolean(_))
            | (Value::Array(_), Value::Array(_))
            | (Value::Datetime(_), Value::Datetime(_))
    )
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, Value>) {
    for (k, v) in table {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Table(t) => flatten(&path, t, out),
            other => {
                out.insert(path, other.clone());
            }
        }
    }
}

/// Convert a toml_edit value (which carries spans) into a plain toml value.
fn plain(item: &toml_edit::Value) -> Value {
    use toml_edit::Value as E;
    match item {
        E::String(s) => Value::String(s.value().clone()),
        E::Integer(i) => Value::Integer(*i.value()),
        E::Float(f) => Value::Float(*f.value()),
        E::Boolean(b) => Value::Boolean(*b.value()),
        E::Datetime(d) => {
            d.value().to_string().parse().map(Value::Datetime).unwrap_or(Value::String(d.value().to_string()))
        }
        E::Array(a) => Value::Array(a.iter().map(plain).collect()),
        E::InlineTable(t) => Value::Table(t.iter().map(|(k, v)| (k.to_string(), plain(v))).collect()),
    }
}

impl Layered {
    /// Start from the defaults text, which must parse (it is built in and
    /// tested).
    pub fn from_defaults(text: &str) -> Result<Self, toml::de::Error> {
        let table: toml::Table = toml::from_str(text)?;
        let mut defaults = BTreeMap::new();
        flatten("", &table, &mut defaults);
        let entries =
            defaults.iter().map(|(k, v)| (k.clone(), Entry { value: v.clone(), source: Source::Default })).collect();
        Ok(Self { defaults, entries, replaced: BTreeMap::new() })
    }

    /// The default value (and so the type) for `path`; for a user-named
    /// entry of an open table, that of the same key in a built-in entry.
    fn expected(&self, path: &str) -> Option<&Value> {
        if let Some(v) = self.defaults.get(path) {
            return Some(v);
        }
        let (entry, leaf) = path.rsplit_once('.')?;
        if !is_open_entry(entry) {
            return None;
        }
        let table = entry.split_once('.').map(|(t, _)| t)?;
        self.defaults.iter().find_map(|(k, v)| {
            let (e, l) = k.rsplit_once('.')?;
            (l == leaf && e.split_once('.').map(|(t, _)| t) == Some(table)).then_some(v)
        })
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.defaults.keys().map(String::as_str)
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// The value a file, the environment or a flag set for `path`, even
    /// when it was found wrong and put back to its default; `None` when
    /// nothing set it.
    pub(crate) fn as_set(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path).filter(|e| e.source != Source::Default).or_else(|| self.replaced.get(path))
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Lay a TOML file over the current values. Unknown keys are warnings,
    /// values of the wrong type are errors; both leave the value unchanged.
    pub(crate) fn apply_file(&mut self, label: &str, text: &str) -> Vec<Diagnostic> {
        self.apply_file_gated(label, text, &|_| true).0
    }

    /// Like [`apply_file`](Self::apply_file), but a key for which `gate` says
    /// no is not applied: it is returned, checked like the others, so the
    /// caller can apply it later with [`insert`](Self::insert) or report it.
    pub(crate) fn apply_file_gated(
        &mut self,
        label: &str,
        text: &str,
        gate: Gate<'_>,
    ) -> (Vec<Diagnostic>, Vec<(String, Entry)>) {
        let mut diags = Vec::new();
        let mut held = Vec::new();
        let doc = match toml_edit::Document::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start));
                let msg = e.message().trim().to_string();
                diags.push(Diagnostic::error(
                    label,
                    line,
                    format!("not valid TOML: {msg}; the whole file was ignored"),
                ));
                return (diags, held);
            }
        };
        let Some(root) = doc.as_item().as_table_like() else {
            return (diags, held);
        };
        let mut walk = Walk { label, text, gate, diags: &mut diags, held: &mut held };
        self.walk(&mut walk, "", root);
        (diags, held)
    }

    /// Set one key to an entry checked earlier (a held key, now allowed).
    pub(crate) fn insert(&mut self, path: String, entry: Entry) {
        self.entries.insert(path, entry);
    }

    /// Set `path` from a file, unless the gate holds it back.
    fn set_from_file(&mut self, walk: &mut Walk<'_>, path: String, value: Value, line: Option<usize>) {
        let entry = Entry { value, source: Source::File { path: walk.label.to_string(), line } };
        if (walk.gate)(&path) {
            self.entries.insert(path, entry);
        } else {
            walk.held.push((path, entry));
        }
    }

    fn walk(&mut self, walk: &mut Walk<'_>, prefix: &str, table: &dyn toml_edit::TableLike) {
        let (label, text) = (walk.label, walk.text);
        for (key, item) in table.iter() {
            let path = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
            let line = item.span().or_else(|| table.key(key).and_then(|k| k.span())).map(|s| line_of(text, s.start));
            let is_section = is_open_entry(&path) || self.defaults.keys().any(|k| k.starts_with(&format!("{path}.")));
            if NAMED_VALUE_KEYS.contains(&path.as_str())
                && let Some(sub) = item.as_table_like()
            {
                let values: Vec<(String, Value)> =
                    sub.iter().filter_map(|(k, v)| Some((k.to_string(), plain(v.as_value()?)))).collect();
                let expected = self.defaults.get(&path).cloned().unwrap_or(Value::Integer(0));
                match values.iter().find(|(_, v)| !same_type(&expected, v)) {
                    Some((name, v)) => walk.diags.push(Diagnostic::error(
                        label,
                        line,
                        format!(
                            "`{path}.{name}` expects {}, found {} ({v}); the default is used",
                            type_name(&expected),
                            type_name(v)
                        ),
                    )),
                    None if values.len() < sub.len() => walk.diags.push(Diagnostic::error(
                        label,
                        line,
                        format!(
                            "`{path}` takes {} or a table of them by name, not nested tables; the default is used",
                            type_name(&expected)
                        ),
                    )),
                    None => self.set_from_file(walk, path, Value::Table(values.into_iter().collect()), line),
                }
                continue;
            }
            if let Some(sub) = item.as_table_like().filter(|_| is_section) {
                self.walk(walk, &path, sub);
                continue;
            }
            let Some(expected) = self.expected(&path) else {
                if is_section {
                    walk.diags.push(Diagnostic::error(label, line, format!("`{path}` must be a table ([{path}])")));
                } else {
                    walk.diags.push(Diagnostic::warning(
                        label,
                        line,
                        format!("unknown key `{path}` (ignored); `tandem config show` lists every key"),
                    ));
                }
                continue;
            };
            let Some(value) = item.as_value().map(plain) else {
                walk.diags.push(Diagnostic::error(
                    label,
                    line,
                    format!("`{path}` expects {}, found a table; the default is used", type_name(expected)),
                ));
                continue;
            };
            if !same_type(expected, &value) {
                walk.diags.push(Diagnostic::error(
                    label,
                    line,
                    format!(
                        "`{path}` expects {}, found {} ({}); the default is used",
                        type_name(expected),
                        type_name(&value),
                        value
                    ),
                ));
                continue;
            }
            let value = match (expected, value) {
                (Value::Float(_), Value::Integer(i)) => Value::Float(i as f64),
                (_, v) => v,
            };
            self.set_from_file(walk, path, value, line);
        }
    }

    /// The environment variable that sets `path`: `ui.frame_rate` →
    /// `TANDEM_UI_FRAME_RATE`.
    pub fn env_name(path: &str) -> String {
        format!("TANDEM_{}", path.replace('.', "_").to_uppercase())
    }

    /// Lay `TANDEM_*` variables over the current values.
    pub(crate) fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let paths: Vec<String> = self.defaults.keys().cloned().collect();
        for path in paths {
            let var = Self::env_name(&path);
            if let Some(raw) = env(&var) {
                match self.parse_raw(&path, &raw) {
                    Ok(value) => {
                        self.entries.insert(path, Entry { value, source: Source::Env(var) });
                    }
                    Err(msg) => diags.push(Diagnostic::error(var, None, msg)),
                }
            }
        }
        diags
    }

    /// Set one key from a flag.
    pub(crate) fn apply_flag(&mut self, path: &str, flag: &str, raw: &str) -> Result<(), Diagnostic> {
        let value = self.parse_raw(path, raw).map_err(|msg| Diagnostic::error(flag, None, msg))?;
        self.entries.insert(path.to_string(), Entry { value, source: Source::Flag(flag.to_string()) });
        Ok(())
    }

    /// Parse a value given as text (environment, flags) by the type of the
    /// default: strings are taken as they are, anything else as TOML.
    fn parse_raw(&self, path: &str, raw: &str) -> Result<Value, String> {
        let expected = self.defaults.get(path).ok_or_else(|| format!("unknown key `{path}`"))?;
        if let Value::String(_) = expected {
            return Ok(Value::String(raw.to_string()));
        }
        let named = |v: &Value| {
            NAMED_VALUE_KEYS.contains(&path) && v.as_table().is_some_and(|t| t.values().all(|x| same_type(expected, x)))
        };
        let parsed = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| same_type(expected, v) || named(v));
        match parsed {
            Some(Value::Integer(i)) if matches!(expected, Value::Float(_)) => Ok(Value::Float(i as f64)),
            Some(v) => Ok(v),
            None => Err(format!("`{path}` expects {}, found `{raw}`; the default is used", type_name(expected))),
        }
    }

    /// Put a key back to its default, after a later check rejected its value.
    /// Put a key back to its default (or remove it, for a key of a
    /// user-named entry), after a later check rejected its value.
    pub(crate) fn reset(&mut self, path: &str) {
        let old = match self.defaults.get(path) {
            Some(v) => self.entries.insert(path.to_string(), Entry { value: v.clone(), source: Source::Default }),
            None => self.entries.remove(path),
        };
        if let Some(old) = old.filter(|e| e.source != Source::Default) {
            self.replaced.insert(path.to_string(), old);
        }
    }

    /// The effective values as one nested table, ready to deserialize.
    pub(crate) fn to_table(&self) -> toml::Table {
        fn insert(table: &mut toml::Table, parts: &[&str], value: Value) {
            match parts {
                [] => {}
                [leaf] => {
                    table.insert((*leaf).to_string(), value);
                }
                [head, rest @ ..] => {
                    let next = table.entry((*head).to_string()).or_insert_with(|| Value::Table(toml::Table::new()));
                    if let Value::Table(inner) = next {
                        insert(inner, rest, value);
                    }
                }
            }
        }
        let mut root = toml::Table::new();
        for (path, entry) in &self.entries {
            let parts: Vec<&str> = path.split('.').collect();
            insert(&mut root, &parts, entry.value.clone());
        }
        root
    }

    /// The effective configuration as TOML, each value followed by a comment
    /// saying where it came from.
    pub(crate) fn render_annotated(&self) -> String {
        let mut out = String::new();
        let mut section = String::new();
        for (path, entry) in &self.entries {
            let (sec, key) = path.rsplit_once('.').unwrap_or(("", path));
            if sec != section {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("[{sec}]\n"));
                section = sec.to_string();
            }
            // `Value`'s Display writes tables inline, on one line.
            let line = format!("{key} = {}", entry.value);
            out.push_str(&format!("{line:<32} # {}\n", entry.source));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str =
        "[ui]\ntheme = \"default\"\nframe_rate = 30\nratio = 0.5\nhints = true\n[log]\nlevel = \"info\"\n";

    fn layered() -> Layered {
        Layered::from_defaults(DEFAULTS).expect("defaults parse")
    }

    #[test]
    fn file_overrides_only_named_keys_and_records_source() {
        let mut l = layered();
        let diags = l.apply_file("/u/config.toml", "[ui]\n\ntheme = \"light\"\n");
        assert!(diags.is_empty(), "{diags:?}");
        let theme = l.get("ui.theme").expect("key");
        assert_eq!(theme.value.as_str(), Some("light"));
        assert_eq!(theme.source, Source::File { path: "/u/config.toml".into(), line: Some(3) });
        assert_eq!(l.get("ui.frame_rate").map(|e| &e.source), Some(&Source::Default));
    }

    #[test]
    fn a_value_put_back_to_its_default_is_still_known_as_set() {
        let mut l = layered();
        assert!(l.as_set("ui.frame_rate").is_none(), "nobody set the default");
        assert!(l.apply_file("p.toml", "[ui]\nframe_rate = 9999\n").is_empty());
        l.reset("ui.frame_rate");
        assert_eq!(l.get("ui.frame_rate").and_then(|e| e.value.as_integer()), Some(30));
        let set = l.as_set("ui.frame_rate").expect("set");
        assert_eq!(set.value.as_integer(), Some(9999));
        assert_eq!(set.source, Source::File { path: "p.toml".into(), line: Some(2) });
        // Set again later, the value in force is the one set.
        assert!(l.apply_file("q.toml", "[ui]\nframe_rate = 60\n").is_empty());
        assert_eq!(l.as_set("ui.frame_rate").and_then(|e| e.value.as_integer()), Some(60));
    }

    #[test]
    fn unknown_key_is_a_warning_with_line() {
        let mut l = layered();
        let diags = l.apply_file("p.toml", "[ui]\ntheme = \"light\"\ncolour = 3\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].severity, crate::config::diagnostics::Severity::Warning);
        assert_eq!(diags[0].line, Some(3));
        assert!(diags[0].message.contains("unknown key `ui.colour`"), "{}", diags[0]);
        assert_eq!(l.get("ui.theme").and_then(|e| e.value.as_str()), Some("light"));
    }

    #[test]
    fn wrong_type_is_an_error_naming_expected_type_and_keeps_default() {
        let mut l = layered();
        let diags = l.apply_file("p.toml", "[ui]\nframe_rate = \"fast\"\n");
        assert_eq!(diags.len(), 1);
        assert!(diags[0].is_error());
        assert_eq!(diags[0].line, Some(2));
        assert!(diags[0].message.contains("`ui.frame_rate` expects an integer, found a string"), "{}", diags[0]);
        assert_eq!(l.get("ui.frame_rate").and_then(|e| e.value.as_integer()), Some(30));
    }

    #[test]
    fn integer_accepted_where_a_number_is_expected() {
        let mut l = layered();
        assert!(l.apply_file("p.toml", "[ui]\nratio = 1\n").is_empty());
        assert_eq!(l.get("ui.ratio").and_then(|e| e.value.as_float()), Some(1.0));
    }

    #[test]
    fn broken_toml_is_one_error_with_a_line() {
        let mut l = layered();
        let diags = l.apply_file("p.toml", "[ui]\ntheme = \n");
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.starts_with("not valid TOML"), "{}", diags[0]);
        assert_eq!(diags[0].line, Some(2));
    }

    #[test]
    fn env_and_flags_are_typed_by_the_default() {
        let mut l = layered();
        let env = |k: &str| match k {
            "TANDEM_UI_FRAME_RATE" => Some("60".to_string()),
            "TANDEM_UI_HINTS" => Some("maybe".to_string()),
            "TANDEM_UI_THEME" => Some("light".to_string()),
            _ => None,
        };
        let diags = l.apply_env(&env);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].source, "TANDEM_UI_HINTS");
        assert_eq!(l.get("ui.frame_rate").and_then(|e| e.value.as_integer()), Some(60));
        assert_eq!(l.get("ui.theme").map(|e| e.source.clone()), Some(Source::Env("TANDEM_UI_THEME".into())));
        l.apply_flag("ui.theme", "--theme", "base16").expect("flag");
        assert_eq!(l.get("ui.theme").map(|e| e.source.to_string()), Some("flag --theme".into()));
    }

    #[test]
    fn open_tables_take_user_named_entries_typed_like_the_built_in_ones() {
        let defaults = "[providers.a]\nkind = \"openai\"\nprice = 1.0\n[providers.b]\nwindow = 5\n";
        let mut l = Layered::from_defaults(defaults).expect("defaults");
        let diags = l.apply_file(
            "u.toml",
            "[providers.mine]\nkind = \"x\"\nwindow = 7\nprice = 2\ncolour = 1\n[providers.bad]\nwindow = \"big\"\n",
        );
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags[0].message.contains("unknown key `providers.mine.colour`"), "{}", diags[0]);
        assert!(diags[1].message.contains("`providers.bad.window` expects an integer"), "{}", diags[1]);
        let t = l.to_table();
        let mine = t["providers"]["mine"].as_table().expect("mine");
        assert_eq!(mine["window"].as_integer(), Some(7));
        assert_eq!(mine["price"].as_float(), Some(2.0));
    }

    #[test]
    fn annotated_rendering_names_sources() {
        let mut l = layered();
        l.apply_file("/u/c.toml", "[log]\nlevel = \"debug\"\n");
        let out = l.render_annotated();
        assert!(out.contains("[log]\nlevel = \"debug\""), "{out}");
        assert!(out.contains("# /u/c.toml:2"), "{out}");
        assert!(out.contains("# built-in default"), "{out}");
    }

    #[test]
    fn named_value_keys_take_a_number_or_a_table_of_numbers() {
        let defaults = "[budget]\nmax_tool_calls_per_minute = 0\n";
        let mut l = Layered::from_defaults(defaults).expect("defaults");
        assert!(l.apply_file("a.toml", "[budget]\nmax_tool_calls_per_minute = 30\n").is_empty());
        assert_eq!(l.get("budget.max_tool_calls_per_minute").and_then(|e| e.value.as_integer()), Some(30));
        let d = l.apply_file("b.toml", "[budget.max_tool_calls_per_minute]\nrun_command = 5\ndefault = 30\n");
        assert!(d.is_empty(), "{d:?}");
        let out = l.render_annotated();
        assert!(out.contains("max_tool_calls_per_minute = { default = 30, run_command = 5 }"), "{out}");
        assert!(out.contains("# b.toml:1"), "{out}");
        let d = l.apply_file("c.toml", "[budget]\nmax_tool_calls_per_minute = { grep = \"many\" }\n");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].to_string().contains("`budget.max_tool_calls_per_minute.grep` expects an integer, found a string"),
            "{}",
            d[0]
        );
        let env = |k: &str| (k == "TANDEM_BUDGET_MAX_TOOL_CALLS_PER_MINUTE").then(|| "{ grep = 2 }".to_string());
        assert!(l.apply_env(&env).is_empty());
        let t = l.to_table();
        assert_eq!(t["budget"]["max_tool_calls_per_minute"]["grep"].as_integer(), Some(2));
    }
}
