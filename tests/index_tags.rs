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
    let tags = Extractor::default().extract(Lang::Rust, &fixture("all_kinds.rs")).expect("parsed");
    assert!(!tags.partial);
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
    let got = tag_set(&tags);
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}\nextra {extra:?}");
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
    let helper = tags.defs.iter().find(|d| d.name == "helper").expect("helper");
    assert_eq!(tags.scope_lines[&helper.scopes[0]], "mod inner {");
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
