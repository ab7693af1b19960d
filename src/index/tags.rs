//! Tag extraction: definitions and references found by tree-sitter queries.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Parser, QueryCursor, StreamingIterator};

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
        }
    }

    fn from_capture(suffix: &str) -> Option<DefKind> {
        Some(match suffix {
            "function" => DefKind::Function,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    pub name: String,
    /// 1-based line.
    pub line: u32,
}

/// Everything the index keeps about one parsed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTags {
    pub lang: Lang,
    /// Sorted by line.
    pub defs: Vec<Def>,
    /// Sorted by line.
    pub refs: Vec<Ref>,
    /// Text of the scope lines defs point to.
    pub scope_lines: BTreeMap<u32, String>,
    pub lines: u32,
    /// The tree had syntax errors; tags are from the parts that parsed.
    pub partial: bool,
}

/// Parser state reused across files on one thread: creating parsers and cursors per file is wasteful.
#[derive(Default)]
pub struct Extractor {
    parser: Parser,
    cursor: QueryCursor,
    current: Option<Lang>,
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

        let mut defs = Vec::new();
        let mut ref_nodes: Vec<(Node, &str)> = Vec::new();
        let mut def_name_starts = HashSet::new();
        let mut scope_lines = BTreeMap::new();

        let mut matches = self.cursor.matches(query, root, src.as_bytes());
        while let Some(m) = matches.next() {
            let mut name_node = None;
            let mut role = None;
            for cap in m.captures() {
                let cap_name = names[cap.index as usize];
                if cap_name == "name" {
                    name_node = Some(cap.node);
                } else {
                    role = Some((cap_name, cap.node));
                }
            }
            let (Some(name_node), Some((role, item))) = (name_node, role) else { continue };
            if let Some(kind) = role.strip_prefix("definition.") {
                let Some(mut kind) = DefKind::from_capture(kind) else { continue };
                if kind == DefKind::Function && is_method(lang, item) {
                    kind = DefKind::Method;
                }
                def_name_starts.insert(name_node.start_byte());
                let scopes = enclosing_scopes(lang, item, src, &line_starts, &mut scope_lines);
                defs.push(Def {
                    name: node_text(name_node, src).to_string(),
                    kind,
                    line: item.start_position().row as u32 + 1,
                    end_line: item.end_position().row as u32 + 1,
                    signature: line_text(src, &line_starts, item.start_position().row),
                    scopes,
                });
            } else if role.starts_with("reference.") {
                ref_nodes.push((name_node, role));
            }
        }

        let mut seen = HashSet::new();
        let mut refs: Vec<Ref> = ref_nodes
            .into_iter()
            .filter(|(node, role)| keep_ref(*node, role, &def_name_starts))
            // One identifier can match several patterns (a method call is also a field access).
            .filter(|(node, _)| seen.insert(node.start_byte()))
            .map(|(node, _)| Ref { name: node_text(node, src).to_string(), line: node.start_position().row as u32 + 1 })
            .filter(|r| !r.name.is_empty())
            .collect();
        refs.sort_by(|a, b| (a.line, &a.name).cmp(&(b.line, &b.name)));
        defs.sort_by(|a, b| (a.line, &a.name).cmp(&(b.line, &b.name)));
        defs.dedup_by(|a, b| a.line == b.line && a.name == b.name && a.kind == b.kind);

        Some(FileTags { lang, defs, refs, scope_lines, lines: line_starts.len() as u32, partial: root.has_error() })
    }
}

/// Drops captures the query language cannot exclude on its own.
fn keep_ref(node: Node, role: &str, def_name_starts: &HashSet<usize>) -> bool {
    if def_name_starts.contains(&node.start_byte()) {
        return false;
    }
    match role {
        // A generic parameter's declaration (`<T: Clone>`) defines T rather than using it.
        "reference.type" => match node.parent() {
            Some(p) if p.kind() == "type_parameter" => p.child_by_field_name("name") != Some(node),
            _ => true,
        },
        // Intermediate `use` path segments are module names, not the items being imported.
        "reference.path" => !has_ancestor(node, "use_declaration"),
        _ => true,
    }
}

fn has_ancestor(mut node: Node, kind: &str) -> bool {
    while let Some(p) = node.parent() {
        if p.kind() == kind {
            return true;
        }
        node = p;
    }
    false
}

fn is_method(lang: Lang, item: Node) -> bool {
    let Some(parent) = item.parent() else { return false };
    let Some(grand) = parent.parent() else { return false };
    match lang {
        Lang::Rust => parent.kind() == "declaration_list" && matches!(grand.kind(), "impl_item" | "trait_item"),
        Lang::Python => {
            // Decorators wrap the definition in one more node.
            let item = item.parent().filter(|p| p.kind() == "decorated_definition").unwrap_or(item);
            item.parent()
                .filter(|b| b.kind() == "block")
                .and_then(|b| b.parent())
                .is_some_and(|c| c.kind() == "class_definition")
        }
    }
}

fn is_scope(lang: Lang, kind: &str) -> bool {
    match lang {
        Lang::Rust => {
            matches!(kind, "impl_item" | "trait_item" | "mod_item" | "enum_item" | "function_item" | "foreign_mod_item")
        }
        Lang::Python => matches!(kind, "class_definition" | "function_definition"),
    }
}

fn enclosing_scopes(
    lang: Lang,
    item: Node,
    src: &str,
    line_starts: &[usize],
    scope_lines: &mut BTreeMap<u32, String>,
) -> Vec<u32> {
    let mut out = Vec::new();
    let mut node = item;
    while let Some(p) = node.parent() {
        if is_scope(lang, p.kind()) {
            let row = p.start_position().row;
            let line = row as u32 + 1;
            scope_lines.entry(line).or_insert_with(|| line_text(src, line_starts, row));
            out.push(line);
        }
        node = p;
    }
    out.reverse();
    out.dedup();
    out
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
