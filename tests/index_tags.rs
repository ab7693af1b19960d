//! Golden tests of the tag queries.

use std::collections::BTreeSet;
use std::path::Path;

use tandem::index::{Extractor, FileTags, Lang};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index/tags").join(name);
    std::fs::read_to_string(path).expect("fixture")
}

fn tag_set(tags: &FileTags) -> BTreeSet<(String, String, u32)> {
    let defs = tags.defs.iter().map(|d| (d.name.clone(), d.kind.as_str().to_string(), d.line));
    let refs = tags.refs.iter().map(|r| (tags.ref_name(r).to_string(), "ref".to_string(), r.line));
    defs.chain(refs).collect()
}

fn expected(list: &[(&str, &str, u32)]) -> BTreeSet<(String, String, u32)> {
    list.iter().map(|(n, k, l)| (n.to_string(), k.to_string(), *l)).collect()
}

#[test]
fn rust_tags_cover_every_kind() {
    let tags = extract(Lang::Rust, "all_kinds.rs");
    let want = expected(&[
        ("Point", "struct", 4),
        ("Shape", "enum", 9),
        ("Circle", "variant", 10),
        ("Square", "variant", 11),
        ("Bits", "union", 14),
        ("Draw", "trait", 18),
        ("Output", "type", 19),
        ("draw", "method", 20),
        ("name", "method", 21),
        ("Pair", "type", 26),
        ("LIMIT", "const", 27),
        ("GREETING", "static", 28),
        ("inner", "module", 30),
        ("helper", "function", 31),
        ("square", "macro", 34),
        ("Output", "type", 41),
        ("draw", "method", 42),
        ("free", "function", 51),
        ("B", "ref", 1),
        ("c", "ref", 1),
        ("Display", "ref", 2),
        ("Clone", "ref", 4),
        ("Coord", "ref", 5),
        ("T", "ref", 6),
        ("Coord", "ref", 11),
        ("Canvas", "ref", 20),
        ("String", "ref", 21),
        ("describe", "ref", 22),
        ("Coord", "ref", 26),
        ("Coord", "ref", 26),
        ("Draw", "ref", 40),
        ("Shape", "ref", 40),
        ("Canvas", "ref", 41),
        ("Canvas", "ref", 42),
        ("Point", "ref", 43),
        ("new", "ref", 43),
        ("area", "ref", 44),
        ("geometry", "ref", 44),
        ("shapes", "ref", 44),
        ("x", "ref", 44),
        ("render", "ref", 45),
        ("println", "ref", 46),
        ("square", "ref", 46),
        ("Canvas", "ref", 47),
        ("blank", "ref", 47),
        ("Coord", "ref", 51),
        ("Option", "ref", 51),
        ("Pair", "ref", 51),
        ("Vec", "ref", 51),
        ("helper", "ref", 52),
        ("Vec", "ref", 53),
        ("new", "ref", 53),
    ]);
    assert_tags(&tags, &want);
    // Two `Coord` uses on line 26 are two references, not one.
    assert_eq!(tags.refs.iter().filter(|r| tags.ref_name(r) == "Coord" && r.line == 26).count(), 2);
}

#[test]
fn rust_definitions_carry_ranges_signatures_and_scopes() {
    let tags = Extractor::default().extract(Lang::Rust, &fixture("all_kinds.rs")).expect("parsed");
    let draw = tags.defs.iter().find(|d| d.name == "draw" && d.line == 42).expect("impl draw");
    assert_eq!((draw.line, draw.end_line), (42, 48));
    assert_eq!(draw.signature, "    fn draw(&self) -> Canvas {");
    assert_eq!(draw.scopes, vec![40]);
    assert_eq!(tags.scope_lines[&40], "impl Draw for Shape {");
    assert_eq!(scopes_of(&tags, "helper", 31), ["mod inner {"]);
    let point = tags.defs.iter().find(|d| d.name == "Point").expect("Point");
    assert_eq!((point.line, point.end_line, point.signature.as_str()), (4, 7, "pub struct Point<T: Clone> {"));
}

#[test]
fn python_tags_basic() {
    let tags = Extractor::default().extract(Lang::Python, &fixture("sample.py")).expect("parsed");
    let want = expected(&[
        ("MAX_SIZE", "const", 4),
        ("Loader", "class", 7),
        ("load", "method", 8),
        ("parse", "method", 13),
        ("read_file", "function", 17),
        ("Path", "ref", 2),
        ("Base", "ref", 7),
        ("Path", "ref", 8),
        ("read_file", "ref", 9),
        ("parse", "ref", 10),
        ("open", "ref", 18),
        ("read", "ref", 18),
    ]);
    assert_eq!(tag_set(&tags), want);
}

#[test]
fn syntax_errors_still_yield_tags() {
    let src = "pub struct Good { a: u32 }\nfn broken( {\n\nfn after() -> Good { Good::make() }\n";
    let tags = Extractor::default().extract(Lang::Rust, src).expect("parsed");
    assert!(tags.partial);
    let names: BTreeSet<&str> = tags.defs.iter().map(|d| d.name.as_str()).collect();
    assert!(names.contains("Good"), "{names:?}");
    assert!(tags.refs.iter().any(|r| tags.ref_name(r) == "make"), "{:?}", tags.refs);
}

/// Asserts the exact set of definitions and references, naming what is missing and what is extra.
fn assert_tags(tags: &FileTags, want: &BTreeSet<(String, String, u32)>) {
    let got = tag_set(tags);
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
}

/// The scope lines (trimmed) of the definition `name` on `line`, outermost first.
fn scopes_of(tags: &FileTags, name: &str, line: u32) -> Vec<String> {
    let def = tags.defs.iter().find(|d| d.name == name && d.line == line).expect("definition");
    def.scopes.iter().map(|l| tags.scope_lines[l].trim().to_string()).collect()
}

fn extract(lang: Lang, file: &str) -> FileTags {
    let tags = Extractor::default().extract(lang, &fixture(file)).expect("parsed");
    assert!(!tags.partial, "{file} has syntax errors");
    tags
}

#[test]
fn every_enabled_language_has_a_grammar_and_a_compiling_query() {
    for &lang in Lang::enabled() {
        assert!(Lang::ALL.contains(&lang), "{lang:?} missing from Lang::ALL");
        let grammar = lang.grammar().expect("enabled language has a grammar");
        let error = tree_sitter::Query::new(&grammar, lang.query_source()).err();
        assert!(lang.query().is_some(), "{} tag query does not compile: {error:?}", lang.name());
    }
}

#[test]
fn extensions_pick_the_language() {
    let header = if cfg!(feature = "lang-c") { Lang::C } else { Lang::Cpp };
    let cases = [
        ("src/main.rs", Lang::Rust),
        ("a.py", Lang::Python),
        ("a.pyi", Lang::Python),
        ("a.js", Lang::JavaScript),
        ("a.mjs", Lang::JavaScript),
        ("a.cjs", Lang::JavaScript),
        ("a.jsx", Lang::JavaScript),
        ("a.ts", Lang::TypeScript),
        ("a.mts", Lang::TypeScript),
        ("a.cts", Lang::TypeScript),
        ("a.tsx", Lang::Tsx),
        ("a.go", Lang::Go),
        ("a.c", Lang::C),
        ("a.h", header),
        ("a.cc", Lang::Cpp),
        ("a.cpp", Lang::Cpp),
        ("a.cxx", Lang::Cpp),
        ("a.c++", Lang::Cpp),
        ("a.hpp", Lang::Cpp),
        ("a.hh", Lang::Cpp),
        ("a.hxx", Lang::Cpp),
        ("a.h++", Lang::Cpp),
        ("a.java", Lang::Java),
    ];
    for (file, lang) in cases {
        let want = Lang::enabled().contains(&lang).then_some(lang);
        assert_eq!(Lang::from_path(Path::new(file)), want, "{file}");
    }
    for file in ["README.md", "Makefile", "a.json", "a.d.rs.bak"] {
        assert_eq!(Lang::from_path(Path::new(file)), None, "{file}");
    }
}

#[cfg(feature = "lang-javascript")]
#[test]
fn javascript_tags_cover_every_kind() {
    let tags = extract(Lang::JavaScript, "all_kinds.js");
    let want = expected(&[
        ("MAX_SIZE", "const", 4),
        ("Shape", "class", 7),
        ("onResize", "method", 9),
        ("area", "method", 16),
        ("ids", "method", 20),
        ("counter", "function", 23),
        ("build", "function", 25),
        ("toJson", "function", 32),
        ("legacy", "function", 33),
        ("named", "function", 33),
        ("extra", "function", 34),
        ("handlers", "const", 35),
        ("click", "method", 36),
        ("hover", "function", 37),
        ("View", "function", 40),
        ("Anon", "class", 41),
        ("Default", "ref", 1),
        ("helper", "ref", 1),
        ("render", "ref", 1),
        ("Base", "ref", 7),
        ("layout", "ref", 9),
        ("helper", "ref", 17),
        ("max", "ref", 17),
        ("Shape", "ref", 26),
        ("Point", "ref", 27),
        ("area", "ref", 28),
        ("draw", "ref", 29),
        ("stringify", "ref", 32),
        ("run", "ref", 37),
        ("Item", "ref", 40),
        ("Panel", "ref", 40),
        ("Widget", "ref", 41),
    ]);
    assert_tags(&tags, &want);
    assert_eq!(scopes_of(&tags, "area", 16), ["export class Shape extends Base {"]);
    let build = tags.defs.iter().find(|d| d.name == "build").expect("build");
    assert_eq!((build.line, build.end_line), (25, 30));
}

#[cfg(feature = "lang-typescript")]
#[test]
fn typescript_tags_cover_every_kind() {
    let tags = extract(Lang::TypeScript, "all_kinds.ts");
    let want = expected(&[
        ("MAX_SIZE", "const", 4),
        ("Drawable", "interface", 6),
        ("draw", "method", 7),
        ("Pair", "type", 11),
        ("Shape", "enum", 13),
        ("Circle", "variant", 14),
        ("Square", "variant", 15),
        ("Base", "class", 18),
        ("render", "method", 19),
        ("onResize", "method", 20),
        ("draw", "method", 24),
        ("Circle", "class", 31),
        ("Geometry", "module", 33),
        ("area", "function", 34),
        ("external", "function", 40),
        ("overload", "function", 43),
        ("overload", "function", 44),
        ("toJson", "function", 48),
        ("Canvas", "ref", 1),
        ("Color", "ref", 1),
        ("Default", "ref", 2),
        ("Named", "ref", 6),
        ("Canvas", "ref", 7),
        ("T", "ref", 7),
        ("Color", "ref", 8),
        ("Point", "ref", 11),
        ("Point", "ref", 11),
        ("Drawable", "ref", 18),
        ("Item", "ref", 18),
        ("T", "ref", 18),
        ("Size", "ref", 20),
        ("layout", "ref", 20),
        ("Canvas", "ref", 22),
        ("Canvas", "ref", 24),
        ("T", "ref", 24),
        ("Point", "ref", 25),
        ("Color", "ref", 26),
        ("fill", "ref", 26),
        ("helper", "ref", 26),
        ("lookup", "ref", 27),
        ("Base", "ref", 31),
        ("Item", "ref", 31),
        ("Shape", "ref", 34),
        ("valueOf", "ref", 35),
        ("Promise", "ref", 40),
        ("Result", "ref", 40),
        ("Pair", "ref", 48),
        ("stringify", "ref", 48),
    ]);
    assert_tags(&tags, &want);
    assert_eq!(scopes_of(&tags, "draw", 7), ["export interface Drawable<T> extends Named {"]);
    assert_eq!(scopes_of(&tags, "draw", 24), ["export abstract class Base<T extends Item> implements Drawable<T> {"]);
    assert_eq!(scopes_of(&tags, "area", 34), ["namespace Geometry {"]);
}

#[cfg(feature = "lang-typescript")]
#[test]
fn tsx_tags_cover_every_kind() {
    let tags = extract(Lang::Tsx, "all_kinds.tsx");
    let want = expected(&[
        ("Props", "interface", 4),
        ("onSelect", "method", 6),
        ("State", "type", 9),
        ("Mode", "enum", 11),
        ("View", "variant", 12),
        ("LIMIT", "const", 15),
        ("Panel", "class", 17),
        ("render", "method", 18),
        ("List", "function", 23),
        ("Empty", "function", 28),
        ("React", "ref", 1),
        ("useState", "ref", 1),
        ("Button", "ref", 2),
        ("BaseProps", "ref", 4),
        ("Item", "ref", 6),
        ("Item", "ref", 9),
        ("Component", "ref", 17),
        ("Props", "ref", 17),
        ("State", "ref", 17),
        ("Button", "ref", 19),
        ("Row", "ref", 19),
        ("Props", "ref", 23),
        ("Item", "ref", 24),
        ("useState", "ref", 24),
        ("Row", "ref", 25),
        ("map", "ref", 25),
        ("Element", "ref", 28),
        ("JSX", "ref", 28),
    ]);
    assert_tags(&tags, &want);
}

#[cfg(feature = "lang-go")]
#[test]
fn go_tags_cover_every_kind() {
    let tags = extract(Lang::Go, "all_kinds.go");
    let want = expected(&[
        ("shapes", "module", 1),
        ("MaxSize", "const", 8),
        ("Large", "const", 11),
        ("Small", "const", 11),
        ("Shape", "interface", 14),
        ("Area", "method", 16),
        ("Circle", "struct", 19),
        ("Celsius", "type", 24),
        ("Alias", "type", 26),
        ("List", "struct", 28),
        ("NewCircle", "function", 32),
        ("Area", "method", 36),
        ("describe", "function", 41),
        ("Named", "ref", 15),
        ("Point", "ref", 20),
        ("geo", "ref", 20),
        ("Circle", "ref", 26),
        ("T", "ref", 29),
        ("Circle", "ref", 32),
        ("Circle", "ref", 33),
        ("Circle", "ref", 36),
        ("Println", "ref", 37),
        ("describe", "ref", 37),
        ("scale", "ref", 38),
        ("Shape", "ref", 41),
        ("helper", "ref", 42),
    ]);
    assert_tags(&tags, &want);
    // An interface's methods sit in its scope; a method with a receiver is top-level.
    assert_eq!(scopes_of(&tags, "Area", 16), ["type Shape interface {"]);
    assert!(scopes_of(&tags, "Area", 36).is_empty());
}

#[cfg(feature = "lang-c")]
#[test]
fn c_tags_cover_every_kind() {
    let tags = extract(Lang::C, "all_kinds.c");
    let want = expected(&[
        ("MAX_SIZE", "macro", 4),
        ("SQUARE", "macro", 5),
        ("LIMIT", "const", 8),
        ("point", "struct", 10),
        ("value", "union", 15),
        ("color", "enum", 20),
        ("RED", "variant", 21),
        ("GREEN", "variant", 22),
        ("point_t", "type", 25),
        ("callback_t", "type", 26),
        ("area", "function", 28),
        ("label", "function", 29),
        ("area", "function", 31),
        ("names", "function", 38),
        ("coord_t", "ref", 12),
        ("point", "ref", 25),
        ("point", "ref", 26),
        ("shape_t", "ref", 28),
        ("shape_t", "ref", 31),
        ("make_point", "ref", 33),
        ("point", "ref", 33),
        ("SQUARE", "ref", 34),
        ("printf", "ref", 34),
        ("measure", "ref", 35),
    ]);
    assert_tags(&tags, &want);
    let area = tags.defs.iter().find(|d| d.name == "area" && d.line == 31).expect("area");
    assert_eq!((area.end_line, area.signature.as_str()), (36, "int area(const shape_t *shape)"));
    let square = tags.defs.iter().find(|d| d.name == "SQUARE").expect("SQUARE");
    assert_eq!((square.line, square.end_line), (5, 5));
    assert_eq!(scopes_of(&tags, "GREEN", 22), ["enum color {"]);
}

#[cfg(feature = "lang-cpp")]
#[test]
fn cpp_tags_cover_every_kind() {
    let tags = extract(Lang::Cpp, "all_kinds.cpp");
    let want = expected(&[
        ("geometry", "module", 4),
        ("kLimit", "const", 6),
        ("Box", "class", 9),
        ("area", "method", 13),
        ("get", "method", 14),
        ("make", "method", 15),
        ("Point", "struct", 21),
        ("Color", "enum", 26),
        ("Green", "variant", 26),
        ("Red", "variant", 26),
        ("Raw", "union", 28),
        ("Points", "type", 32),
        ("Vec2", "type", 33),
        ("area", "method", 37),
        ("name", "method", 41),
        ("main", "function", 43),
        ("vector", "ref", 2),
        ("Base", "ref", 9),
        ("Named", "ref", 9),
        ("T", "ref", 9),
        ("T", "ref", 11),
        ("T", "ref", 14),
        ("Box", "ref", 15),
        ("T", "ref", 18),
        ("Unit", "ref", 23),
        ("Point", "ref", 32),
        ("vector", "ref", 32),
        ("Point", "ref", 33),
        ("Circle", "ref", 37),
        ("helper", "ref", 38),
        ("sqrt", "ref", 38),
        ("std", "ref", 38),
        ("Circle", "ref", 41),
        ("std", "ref", 41),
        ("string", "ref", 41),
        ("Box", "ref", 44),
        ("geometry", "ref", 44),
        ("make", "ref", 44),
        ("Point", "ref", 45),
        ("Point", "ref", 45),
        ("get", "ref", 46),
        ("compute", "ref", 47),
    ]);
    assert_tags(&tags, &want);
    assert_eq!(scopes_of(&tags, "get", 14), ["namespace geometry {", "class Box : public Base, private Named<T> {"]);
    let area = tags.defs.iter().find(|d| d.name == "area" && d.line == 37).expect("out-of-class area");
    assert_eq!(area.end_line, 39);
}

#[cfg(feature = "lang-java")]
#[test]
fn java_tags_cover_every_kind() {
    let tags = extract(Lang::Java, "all_kinds.java");
    let want = expected(&[
        ("Circle", "class", 7),
        ("MAX_SIZE", "const", 8),
        ("MIN_SIZE", "const", 8),
        ("area", "method", 16),
        ("Inner", "class", 23),
        ("Drawable", "interface", 28),
        ("draw", "method", 29),
        ("Color", "enum", 32),
        ("RED", "variant", 33),
        ("GREEN", "variant", 34),
        ("next", "method", 36),
        ("Pair", "class", 41),
        ("Marker", "interface", 43),
        ("List", "ref", 3),
        ("max", "ref", 5),
        ("Circle", "ref", 7),
        ("Comparable", "ref", 7),
        ("Drawable", "ref", 7),
        ("Shape", "ref", 7),
        ("Point", "ref", 10),
        ("Point", "ref", 12),
        ("Override", "ref", 16),
        ("List", "ref", 17),
        ("Point", "ref", 17),
        ("Point", "ref", 18),
        ("Point", "ref", 18),
        ("helper", "ref", 19),
        ("Geometry", "ref", 20),
        ("radius", "ref", 20),
        ("square", "ref", 20),
        ("T", "ref", 24),
        ("Canvas", "ref", 29),
        ("Color", "ref", 36),
        ("values", "ref", 37),
        ("Point", "ref", 41),
        ("Point", "ref", 41),
    ]);
    assert_tags(&tags, &want);
    assert_eq!(scopes_of(&tags, "next", 36), ["enum Color {"]);
    assert_eq!(
        scopes_of(&tags, "Inner", 23),
        ["public class Circle extends Shape implements Drawable, Comparable<Circle> {"]
    );
}

#[cfg(feature = "lang-java")]
#[test]
fn annotated_definitions_show_the_line_with_their_name() {
    let tags = Extractor::default().extract(Lang::Java, &fixture("all_kinds.java")).expect("parsed");
    let area = tags.defs.iter().find(|d| d.name == "area").expect("area");
    assert_eq!(area.line, 16, "the item starts at its annotation");
    assert_eq!(area.signature, "    public double area(List<Point> points) {");
}
