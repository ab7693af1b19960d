//! Running tag queries fast.
//!
//! Tree-sitter's query engine visits every node with a general state machine; on
//! Rust sources it costs about half as much again as parsing. The tag queries use a
//! small part of the query language: nested node patterns, fields, alternations and
//! captures. [`TagQuery`] compiles a query written in that part into a table of
//! patterns keyed by node kind and matches it in one walk of the tree, which costs a
//! fraction of the engine's time. A query that uses anything else (predicates,
//! quantifiers, anchors, wildcards, negated fields, strings) runs on tree-sitter's
//! engine instead, with the same results.

use tree_sitter::{Language, Node, Query, QueryCursor, QueryError, StreamingIterator, Tree};

/// One capture of a match: capture index (into [`TagQuery::capture_names`]) and node.
pub type Capture<'t> = (u32, Node<'t>);

/// A compiled tag query.
pub enum TagQuery {
    Fast(FastQuery),
    Engine(Query),
}

impl TagQuery {
    /// Compiles `source`, with the fast matcher when the query allows it.
    ///
    /// The fast compiler checks names but not whether a pattern can ever match, which
    /// the engine's compiler does (taking 50 ms for the Rust query); the tests compile
    /// every shipped query with the engine too.
    /// `node_types` is the grammar's `node-types.json`, which lets the matcher skip
    /// subtrees that cannot contain a match (macro arguments, string literals).
    pub fn new(language: &Language, source: &str, node_types: Option<&str>) -> Result<TagQuery, QueryError> {
        match FastQuery::compile(language, source, node_types) {
            Some(fast) => Ok(TagQuery::Fast(fast)),
            None => Query::new(language, source).map(TagQuery::Engine),
        }
    }

    /// Compiles `source` for tree-sitter's own engine, whatever it contains.
    pub fn engine(language: &Language, source: &str) -> Result<TagQuery, QueryError> {
        Query::new(language, source).map(TagQuery::Engine)
    }

    pub fn is_fast(&self) -> bool {
        matches!(self, TagQuery::Fast(_))
    }

    pub(crate) fn capture_names(&self) -> Vec<&str> {
        match self {
            TagQuery::Fast(q) => q.captures.iter().map(String::as_str).collect(),
            TagQuery::Engine(q) => q.capture_names().to_vec(),
        }
    }

    /// Calls `on_match` with the captures of every match in `tree`.
    /// The order of matches differs between the two engines; callers must not rely on it.
    pub fn run<'t>(
        &self,
        tree: &'t Tree,
        src: &[u8],
        cursor: &mut QueryCursor,
        on_match: &mut dyn FnMut(&[Capture<'t>]),
    ) {
        match self {
            TagQuery::Fast(q) => q.run(tree, on_match),
            TagQuery::Engine(q) => {
                let mut caps = Vec::new();
                let mut matches = cursor.matches(q, tree.root_node(), src);
                while let Some(m) = matches.next() {
                    caps.clear();
                    caps.extend(m.captures().iter().map(|c| (c.index, c.node)));
                    on_match(&caps);
                }
            }
        }
    }
}

/// A node pattern: `(kind child...) @capture...`.
#[derive(Debug, Clone)]
struct NodePat {
    kind: u16,
    captures: Vec<u32>,
    children: Vec<ChildPat>,
}

/// A child pattern, `field: (kind ...)` or `(kind ...)`, possibly an alternation.
#[derive(Debug, Clone)]
struct ChildPat {
    field: Option<u16>,
    alternatives: Vec<NodePat>,
}

/// The part of the query language the fast matcher runs.
pub struct FastQuery {
    captures: Vec<String>,
    /// Top-level patterns by the node kind they start at.
    by_kind: Vec<Vec<NodePat>>,
    /// Node kinds whose subtrees hold no kind a pattern starts at, by kind id.
    barren: Vec<bool>,
}

impl FastQuery {
    /// `None` when `source` uses syntax outside the supported part, or names a node
    /// kind or field the grammar lacks.
    pub(crate) fn compile(language: &Language, source: &str, node_types: Option<&str>) -> Option<FastQuery> {
        let mut p = Parser { src: source.as_bytes(), pos: 0, language, captures: Vec::new() };
        let mut by_kind: Vec<Vec<NodePat>> = vec![Vec::new(); language.node_kind_count()];
        loop {
            p.skip_space();
            if p.pos >= p.src.len() {
                break;
            }
            for pat in p.alternatives()? {
                by_kind.get_mut(usize::from(pat.kind))?.push(pat);
            }
        }
        let roots: Vec<&str> = (0..by_kind.len())
            .filter(|&k| !by_kind[k].is_empty())
            .filter_map(|k| language.node_kind_for_id(k as u16))
            .collect();
        let barren = node_types.and_then(|nt| barren_kinds(language, nt, &roots)).unwrap_or_default();
        Some(FastQuery { captures: p.captures, by_kind, barren })
    }

    fn run<'t>(&self, tree: &'t Tree, on_match: &mut dyn FnMut(&[Capture<'t>])) {
        let mut cursor = tree.walk();
        let mut caps: Vec<Capture<'t>> = Vec::new();
        loop {
            let node = cursor.node();
            if let Some(pats) = self.by_kind.get(usize::from(node.kind_id())) {
                for pat in pats {
                    caps.clear();
                    caps.extend(pat.captures.iter().map(|&c| (c, node)));
                    match_children(&pat.children, node, 0, &mut caps, &mut |caps: &mut Vec<Capture<'t>>| {
                        on_match(caps)
                    });
                }
            }
            // An error inside a barren node can hold anything, so those are searched.
            let barren = self.barren.get(usize::from(node.kind_id())).copied().unwrap_or(false);
            if (!barren || node.has_error()) && cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }
}

/// One entry of a grammar's `node-types.json`.
#[derive(serde::Deserialize)]
struct NodeType {
    #[serde(rename = "type")]
    kind: String,
    named: bool,
    #[serde(default)]
    subtypes: Vec<TypeRef>,
    #[serde(default)]
    fields: std::collections::BTreeMap<String, Children>,
    children: Option<Children>,
}

#[derive(serde::Deserialize)]
struct Children {
    types: Vec<TypeRef>,
}

#[derive(serde::Deserialize)]
struct TypeRef {
    #[serde(rename = "type")]
    kind: String,
    named: bool,
}

/// Node kinds (by id) under which none of `roots` can occur, judged from the grammar's
/// node types. `None` when that cannot be judged: a root kind that no node lists as a
/// child may be an "extra" (a comment), which can occur anywhere.
fn barren_kinds(language: &Language, node_types: &str, roots: &[&str]) -> Option<Vec<bool>> {
    use std::collections::{HashMap, HashSet};
    let types: Vec<NodeType> = serde_json::from_str(node_types).ok()?;
    // Reverse edges: child kind → parent kinds (supertypes count as parents of their subtypes).
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    for t in types.iter().filter(|t| t.named) {
        let listed = t.fields.values().chain(&t.children).flat_map(|c| &c.types).chain(&t.subtypes);
        for child in listed.filter(|c| c.named) {
            parents.entry(child.kind.as_str()).or_default().push(&t.kind);
        }
    }
    if roots.iter().any(|r| !parents.contains_key(r)) {
        return None;
    }
    let mut fertile: HashSet<&str> = roots.iter().copied().collect();
    let mut queue: Vec<&str> = roots.to_vec();
    while let Some(kind) = queue.pop() {
        for &parent in parents.get(kind).into_iter().flatten() {
            if fertile.insert(parent) {
                queue.push(parent);
            }
        }
    }
    let mut barren = vec![false; language.node_kind_count()];
    for t in types.iter().filter(|t| t.named && !fertile.contains(t.kind.as_str())) {
        let id = language.id_for_node_kind(&t.kind, true);
        if id != 0 {
            barren[usize::from(id)] = true;
        }
    }
    Some(barren)
}

/// Matches `pats` in order against the children of `node` from index `from` on,
/// emitting one match per way they fit, as tree-sitter does.
fn match_children<'t>(
    pats: &[ChildPat],
    node: Node<'t>,
    from: usize,
    caps: &mut Vec<Capture<'t>>,
    emit: &mut dyn FnMut(&mut Vec<Capture<'t>>),
) {
    let Some((first, rest)) = pats.split_first() else {
        emit(caps);
        return;
    };
    let mut cursor = node.walk();
    if !cursor.goto_first_child() {
        return;
    }
    let mut index = 0;
    loop {
        if index >= from && first.field.is_none_or(|f| cursor.field_id().is_some_and(|id| id.get() == f)) {
            let child = cursor.node();
            for alt in first.alternatives.iter().filter(|a| a.kind == child.kind_id()) {
                let mark = caps.len();
                caps.extend(alt.captures.iter().map(|&c| (c, child)));
                if alt.children.is_empty() {
                    match_children(rest, node, index + 1, caps, emit);
                } else {
                    match_children(&alt.children, child, 0, caps, &mut |caps: &mut Vec<Capture<'t>>| {
                        match_children(rest, node, index + 1, caps, emit)
                    });
                }
                caps.truncate(mark);
            }
        }
        if !cursor.goto_next_sibling() {
            return;
        }
        index += 1;
    }
}

/// Reader of query source in the supported syntax.
struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    language: &'a Language,
    captures: Vec<String>,
}

impl<'a> Parser<'a> {
    fn skip_space(&mut self) {
        while let Some(&c) = self.src.get(self.pos) {
            if c == b';' {
                while self.src.get(self.pos).is_some_and(|&c| c != b'\n') {
                    self.pos += 1;
                }
            } else if c.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.src.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn identifier(&mut self) -> Option<&'a str> {
        self.skip_space();
        let src = self.src;
        let start = self.pos;
        while self.src.get(self.pos).is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')) {
            self.pos += 1;
        }
        (self.pos > start).then(|| std::str::from_utf8(&src[start..self.pos]).ok()).flatten()
    }

    /// `@a @b ...` after a pattern.
    fn captures(&mut self) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        while self.eat(b'@') {
            let name = self.identifier()?.to_string();
            let index = match self.captures.iter().position(|c| *c == name) {
                Some(i) => i,
                None => {
                    self.captures.push(name);
                    self.captures.len() - 1
                }
            };
            out.push(u32::try_from(index).ok()?);
        }
        Some(out)
    }

    /// A node pattern or an alternation of them, with trailing captures applied to each.
    fn alternatives(&mut self) -> Option<Vec<NodePat>> {
        let mut alts = if self.eat(b'[') {
            let mut alts = Vec::new();
            while !self.eat(b']') {
                alts.extend(self.alternatives()?);
            }
            alts
        } else {
            vec![self.node()?]
        };
        let caps = self.captures()?;
        for alt in &mut alts {
            alt.captures.extend(&caps);
        }
        // Quantifiers and predicates are outside the supported part.
        match self.peek() {
            Some(b'*' | b'+' | b'?' | b'#' | b'.' | b'"' | b'!') => None,
            _ => Some(alts),
        }
    }

    /// `(kind child...)`; children are `field: pattern` or `pattern`.
    fn node(&mut self) -> Option<NodePat> {
        if !self.eat(b'(') {
            return None;
        }
        let name = self.identifier()?;
        if name == "_" || name == "ERROR" || name == "MISSING" || name.starts_with('#') {
            return None;
        }
        let kind = self.language.id_for_node_kind(name, true);
        if kind == 0 {
            return None;
        }
        let mut children = Vec::new();
        let mut unfielded = 0;
        while !self.eat(b')') {
            let save = self.pos;
            let field = match self.identifier() {
                Some(f) if self.eat(b':') => Some(self.language.field_id_for_name(f)?.get()),
                _ => {
                    self.pos = save;
                    None
                }
            };
            unfielded += usize::from(field.is_none());
            children.push(ChildPat { field, alternatives: self.alternatives()? });
        }
        // Several unfielded children would need tree-sitter's sibling-sequence rules; leave those to it.
        (unfielded <= 1).then_some(NodePat { kind, captures: Vec::new(), children })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust() -> Language {
        tree_sitter_rust::LANGUAGE.into()
    }

    #[test]
    fn unsupported_syntax_falls_back_to_the_engine() {
        let lang = rust();
        for src in [
            "(identifier) @x (#eq? @x \"a\")",
            "(function_item (identifier)* @x)",
            "(_) @x",
            "(function_item . (identifier) @x)",
            "(function_item !name) @x",
            "(arguments (identifier) (identifier)) @x",
        ] {
            let q = TagQuery::new(&lang, src, None).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert!(TagQuery::engine(&lang, src).is_ok(), "{src} is a valid query");
            assert!(!q.is_fast(), "{src} should run on the engine");
        }
        assert!(TagQuery::new(&lang, "(function_item name: (identifier) @n) @d", None).unwrap().is_fast());
    }

    type Found = Vec<Vec<(String, usize, usize)>>;

    fn all_matches(query: &TagQuery, tree: &Tree, src: &str) -> Found {
        let names = query.capture_names();
        let mut out = Vec::new();
        query.run(tree, src.as_bytes(), &mut QueryCursor::new(), &mut |caps| {
            let mut m: Vec<_> =
                caps.iter().map(|(i, n)| (names[*i as usize].to_string(), n.start_byte(), n.end_byte())).collect();
            m.sort();
            out.push(m);
        });
        out.sort();
        out
    }

    /// Source files to compare the engines on: the tag fixtures and this crate's own code.
    fn corpus(lang: crate::index::Lang) -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<_> = ["src", "tests/fixtures/index"]
            .iter()
            .flat_map(|d| ignore::WalkBuilder::new(root.join(d)).build().flatten())
            .map(|e| e.into_path())
            .filter(|p| crate::index::Lang::from_path(p) == Some(lang))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn fast_matcher_finds_exactly_what_the_engine_finds() {
        for lang in crate::index::Lang::enabled() {
            let grammar = lang.grammar().expect("enabled grammar");
            let fast = TagQuery::new(&grammar, lang.query_source(), lang.node_types()).expect("query compiles");
            if !fast.is_fast() {
                continue;
            }
            let engine = TagQuery::engine(&grammar, lang.query_source()).expect("query compiles");
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&grammar).expect("grammar");
            let files = corpus(*lang);
            assert!(!files.is_empty(), "no {} files to compare on", lang.name());
            for path in files {
                let src = std::fs::read_to_string(&path).expect("readable");
                // Also a broken copy, so error recovery nodes are covered.
                let broken = src.replacen('{', "{ ) fn (", 3);
                for text in [&src, &broken] {
                    let tree = parser.parse(text, None).expect("parsed");
                    let (a, b) = (all_matches(&fast, &tree, text), all_matches(&engine, &tree, text));
                    assert!(!b.is_empty(), "{}: no matches at all", path.display());
                    if a != b {
                        let only_fast: Vec<_> = a.iter().filter(|m| !b.contains(m)).take(5).collect();
                        let only_engine: Vec<_> = b.iter().filter(|m| !a.contains(m)).take(5).collect();
                        panic!(
                            "{} ({} vs {} matches)\nonly fast: {only_fast:?}\nonly engine: {only_engine:?}",
                            path.display(),
                            a.len(),
                            b.len()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_names_are_errors_from_the_engine() {
        assert!(TagQuery::new(&rust(), "(no_such_node) @x", None).is_err());
        assert!(TagQuery::new(&rust(), "(function_item no_such_field: (identifier) @x)", None).is_err());
    }

    #[test]
    fn subtrees_that_cannot_match_are_skipped() {
        let lang = crate::index::Lang::Rust;
        let grammar = lang.grammar().expect("rust");
        let Some(TagQuery::Fast(q)) = TagQuery::new(&grammar, lang.query_source(), lang.node_types()).ok() else {
            panic!("the Rust query runs on the fast matcher");
        };
        let barren = |kind: &str| q.barren[usize::from(grammar.id_for_node_kind(kind, true))];
        assert!(barren("token_tree") && barren("string_literal") && barren("line_comment"));
        assert!(!barren("function_item") && !barren("block") && !barren("source_file"));
        // Without node types nothing is skipped; with a root that may be an extra, neither.
        let plain = FastQuery::compile(&grammar, lang.query_source(), None).expect("fast");
        assert!(plain.barren.iter().all(|b| !b));
        let comments = FastQuery::compile(&grammar, "(line_comment) @c", lang.node_types()).expect("fast");
        assert!(comments.barren.iter().all(|b| !b));
    }

    #[test]
    fn every_shipped_query_passes_the_engines_checks() {
        for lang in crate::index::Lang::enabled() {
            let grammar = lang.grammar().expect("enabled grammar");
            if let Err(e) = TagQuery::engine(&grammar, lang.query_source()) {
                panic!("{}: {e}", lang.name());
            }
        }
    }
}
