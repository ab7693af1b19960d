//! Tag extraction: definitions and references found by tree-sitter queries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Parser, QueryCursor};

use super::lang::Lang;

/// Longest signature or scope line kept; longer lines are cut so one odd line cannot eat a map budget.
const MAX_LINE_CHARS: usize = 200;

/// What a definition defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DefKind {
    Function,
    Method,
    Struct,
    Enum,
    Variant,
    Union,
    Trait,
    TypeAlias,
    Const,
    Static,
    Module,
    Macro,
    Class,
    Interface,
}

impl DefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DefKind::Function => "function",
            DefKind::Method => "method",
            DefKind::Struct => "struct",
            DefKind::Enum => "enum",
            DefKind::Variant => "variant",
            DefKind::Union => "union",
            DefKind::Trait => "trait",
            DefKind::TypeAlias => "type",
            DefKind::Const => "const",
            DefKind::Static => "static",
            DefKind::Module => "module",
            DefKind::Macro => "macro",
            DefKind::Class => "class",
            DefKind::Interface => "interface",
        }
    }

    fn from_capture(suffix: &str) -> Option<DefKind> {
        Some(match suffix {
            "function" => DefKind::Function,
            "method" => DefKind::Method,
            "struct" => DefKind::Struct,
            "enum" => DefKind::Enum,
            "variant" => DefKind::Variant,
            "union" => DefKind::Union,
            "trait" => DefKind::Trait,
            "type" => DefKind::TypeAlias,
            "const" => DefKind::Const,
            "static" => DefKind::Static,
            "module" => DefKind::Module,
            "macro" => DefKind::Macro,
            "class" => DefKind::Class,
            "interface" => DefKind::Interface,
            _ => return None,
        })
    }
}

/// A definition in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Def {
    pub name: String,
    pub kind: DefKind,
    /// 1-based line of the item's first line.
    pub line: u32,
    /// 1-based last line of the whole item (body included).
    pub end_line: u32,
    /// The item's first line, indentation kept so maps read like the source.
    pub signature: String,
    /// First lines of enclosing items (`impl Foo {`, `mod x {`), outermost first; keys of `FileTags::scope_lines`.
    pub scopes: Vec<u32>,
}

/// A use of a name in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    /// Index into `FileTags::ref_names`: a file names the same things many times over.
    pub name: u32,
    /// 1-based line.
    pub line: u32,
}

/// Everything the index keeps about one parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTags {
    pub lang: Lang,
    /// Sorted by line.
    pub defs: Vec<Def>,
    /// Distinct names the file references, sorted.
    pub ref_names: Vec<String>,
    /// Sorted by line, then name.
    pub refs: Vec<Ref>,
    /// Text of the scope lines defs point to.
    pub scope_lines: BTreeMap<u32, String>,
    pub lines: u32,
    /// The tree had syntax errors; tags are from the parts that parsed.
    pub partial: bool,
}

impl FileTags {
    /// The name a reference uses.
    pub fn ref_name(&self, r: &Ref) -> &str {
        self.ref_names.get(r.name as usize).map_or("", String::as_str)
    }
}

/// Parser state reused across files on one thread: creating parsers and cursors per file is wasteful.
#[derive(Default)]
pub struct Extractor {
    parser: Parser,
    cursor: QueryCursor,
    current: Option<Lang>,
}

/// A definition found by the query, before its kind and scopes are settled.
struct RawDef<'t> {
    name: Node<'t>,
    item: Node<'t>,
    kind: DefKind,
}

/// Byte range of a node, used instead of walking parents: `Node::parent` searches down
/// from the root every time, which made tagging slower than parsing on deep files.
type Span = (usize, usize);

fn span(node: Node) -> Span {
    (node.start_byte(), node.end_byte())
}

impl Extractor {
    /// Tags of `src`; `None` when the language's grammar or query is unavailable or parsing gave up.
    pub fn extract(&mut self, lang: Lang, src: &str) -> Option<FileTags> {
        let query = lang.query()?;
        if self.current != Some(lang) {
            self.parser.set_language(&lang.grammar()?).ok()?;
            self.current = Some(lang);
        }
        let tree = self.parser.parse(src, None)?;
        let root = tree.root_node();
        let line_starts = line_starts(src);
        let names = query.capture_names();

        let mut raw_defs: Vec<RawDef> = Vec::new();
        let mut ref_nodes: Vec<(Node, &str)> = Vec::new();
        // Context captures (see the `context.*` patterns in the queries).
        let mut methods: Vec<usize> = Vec::new();
        let mut scopes: Vec<Span> = Vec::new();
        let mut uses: Vec<Span> = Vec::new();
        let mut excluded: Vec<usize> = Vec::new();

        query.run(&tree, src.as_bytes(), &mut self.cursor, &mut |captures| {
            let mut name_node = None;
            let mut role = None;
            for &(index, node) in captures {
                let cap_name = names[index as usize];
                match cap_name {
                    "name" => name_node = Some(node),
                    "context.method" => methods.push(node.start_byte()),
                    "context.scope" => scopes.push(span(node)),
                    "context.use" => uses.push(span(node)),
                    "context.generic" => excluded.push(node.start_byte()),
                    _ => role = Some((cap_name, node)),
                }
            }
            let (Some(name_node), Some((role, item))) = (name_node, role) else { return };
            if let Some(kind) = role.strip_prefix("definition.") {
                let Some(kind) = DefKind::from_capture(kind) else { return };
                excluded.push(name_node.start_byte());
                raw_defs.push(RawDef { name: name_node, item, kind });
            } else if role.starts_with("reference.") {
                ref_nodes.push((name_node, role));
            }
        });

        uses.sort_unstable();
        methods.sort_unstable();
        excluded.sort_unstable();
        let mut defs = resolve_defs(&raw_defs, &methods, scopes, src, &line_starts);
        let mut scope_lines = BTreeMap::new();
        for d in &defs {
            for &line in &d.scopes {
                let row = line as usize - 1;
                scope_lines.entry(line).or_insert_with(|| line_text(src, &line_starts, row));
            }
        }

        let mut found: Vec<(usize, &str, u32)> = ref_nodes
            .into_iter()
            .filter(|(node, role)| keep_ref(*node, role, &excluded, &uses))
            .map(|(node, _)| (node.start_byte(), node_text(node, src), node.start_position().row as u32 + 1))
            .filter(|f| !f.1.is_empty())
            .collect();
        // One identifier can match several patterns (a method call is also a field access).
        found.sort_unstable_by_key(|f| f.0);
        found.dedup_by_key(|f| f.0);
        let mut names: Vec<&str> = found.iter().map(|f| f.1).collect();
        names.sort_unstable();
        names.dedup();
        let mut refs: Vec<Ref> = found
            .iter()
            .map(|&(_, name, line)| Ref { name: names.binary_search(&name).unwrap_or(0) as u32, line })
            .collect();
        // Names are sorted, so this is by line, then name.
        refs.sort_unstable_by_key(|r| (r.line, r.name));
        let ref_names = names.into_iter().map(str::to_string).collect();
        defs.sort_by(|a, b| (a.line, &a.name).cmp(&(b.line, &b.name)));
        defs.dedup_by(|a, b| a.line == b.line && a.name == b.name && a.kind == b.kind);

        Some(FileTags {
            lang,
            defs,
            ref_names,
            refs,
            scope_lines,
            lines: line_starts.len() as u32,
            partial: root.has_error(),
        })
    }
}

/// Turns raw definitions into `Def`s: functions directly inside an impl, trait or class
/// body become methods, and each definition gets the scope items enclosing it.
fn resolve_defs(
    raw: &[RawDef],
    methods: &[usize],
    mut scopes: Vec<Span>,
    src: &str,
    line_starts: &[usize],
) -> Vec<Def> {
    // Outer before inner: by start, then the longer first. Tree nodes nest or are disjoint.
    scopes.sort_unstable_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
    scopes.dedup();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_unstable_by_key(|&i| (raw[i].item.start_byte(), std::cmp::Reverse(raw[i].item.end_byte())));
    let row_of = |byte: usize| line_starts.partition_point(|&s| s <= byte).saturating_sub(1);
    let mut out = Vec::with_capacity(raw.len());
    let mut open: Vec<Span> = Vec::new();
    let mut next_scope = 0;
    for i in order {
        let d = &raw[i];
        let (start, end) = span(d.item);
        while next_scope < scopes.len() && scopes[next_scope].0 <= start {
            let s = scopes[next_scope];
            open.retain(|o| o.1 > s.0);
            open.push(s);
            next_scope += 1;
        }
        open.retain(|o| o.1 > start);
        // Open scopes now contain the item's start, so they enclose it, or are it (or inside it) when they start with it.
        let mut lines: Vec<u32> =
            open.iter().filter(|o| !(o.0 >= start && o.1 <= end)).map(|o| row_of(o.0) as u32 + 1).collect();
        lines.dedup();
        let kind =
            if d.kind == DefKind::Function && methods.binary_search(&start).is_ok() { DefKind::Method } else { d.kind };
        out.push(Def {
            name: node_text(d.name, src).to_string(),
            kind,
            line: d.item.start_position().row as u32 + 1,
            end_line: d.item.end_position().row as u32 + 1,
            // The name's line: annotations and decorators (`@Override`, `@Component(...)`) open the item.
            signature: line_text(src, line_starts, d.name.start_position().row),
            scopes: lines,
        });
    }
    out
}

/// Drops captures the query language cannot exclude on its own: definition names,
/// generic parameter declarations (`<T: Clone>` defines T), and intermediate `use`
/// path segments (module names, not the items being imported).
fn keep_ref(node: Node, role: &str, excluded: &[usize], uses: &[Span]) -> bool {
    if excluded.binary_search(&node.start_byte()).is_ok() {
        return false;
    }
    if role == "reference.path" {
        let at = node.start_byte();
        // `use` declarations never nest, so only the last one starting before `at` can contain it.
        let i = uses.partition_point(|u| u.0 <= at);
        return !(i > 0 && uses[i - 1].1 > at);
    }
    true
}

fn node_text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or("")
}

fn line_starts(src: &str) -> Vec<usize> {
    std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

fn line_text(src: &str, line_starts: &[usize], row: usize) -> String {
    let start = line_starts.get(row).copied().unwrap_or(src.len());
    let end = line_starts.get(row + 1).map_or(src.len(), |e| e.saturating_sub(1));
    let line = src.get(start..end.max(start)).unwrap_or("").trim_end();
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}
