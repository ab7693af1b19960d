//! Ranking and map rendering on a small fixture repository.

use std::path::{Path, PathBuf};

use tandem::index::{Index, IndexOptions, MapRequest, extract_mentions};

fn fixture_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index/repo")
}

fn build() -> Index {
    let (index, warnings) = Index::build(&IndexOptions::new(fixture_repo()), &|_, _| {}).expect("build");
    assert!(warnings.is_empty(), "{warnings:?}");
    index
}

#[test]
fn focus_and_mentions_rank_the_related_files_first() {
    let index = build();
    let map = index.map(&MapRequest {
        tokens: 1024,
        focus: vec![PathBuf::from("src/main.rs")],
        mentions: "why does Config::new ignore the width?".into(),
    });
    assert_eq!(map.files.first().map(PathBuf::as_path), Some(Path::new("src/config.rs")), "{}", map.text);
    assert_eq!(map.files.get(1).map(PathBuf::as_path), Some(Path::new("src/parser.rs")), "{}", map.text);
    // The focus file is left out: the model already has it.
    assert!(!map.files.iter().any(|f| f == Path::new("src/main.rs")), "{}", map.text);
    assert!(map.text.contains("│impl Config {\n│    pub fn new() -> Config {"), "{}", map.text);
}

#[test]
fn without_mentions_the_focus_pulls_in_what_it_uses() {
    let index = build();
    let map = index.map(&MapRequest {
        tokens: 1024,
        focus: vec![fixture_repo().join("src/main.rs")],
        mentions: String::new(),
    });
    assert_eq!(map.files.first().map(PathBuf::as_path), Some(Path::new("src/parser.rs")), "{}", map.text);
    let util = map.files.iter().position(|f| f == Path::new("src/util.rs"));
    assert!(util.is_none_or(|u| u == map.files.len() - 1), "{}", map.text);
}

#[test]
fn map_renders_scopes_and_elisions() {
    let index = build();
    let map = index.map(&MapRequest { tokens: 4096, focus: vec![], mentions: String::new() });
    let config = map.text.split("\n\n").find(|s| s.starts_with("src/config.rs:")).expect("config section");
    assert_eq!(
        config.trim_end(),
        "src/config.rs:\n⋮\n│pub struct Config {\n⋮\n│impl Config {\n│    pub fn new() -> Config {\n⋮\n\
         │    pub fn with_width(self, width: usize) -> Config {\n⋮"
    );
}

#[test]
fn budget_is_never_exceeded_and_the_map_grows_with_it() {
    let index = build();
    let mut last = (0, 0);
    for budget in [64, 100, 128, 200, 256, 512, 1024, 2048, 4096] {
        let map = index.map(&MapRequest { tokens: budget, focus: vec![], mentions: "Parser".into() });
        assert!(map.tokens <= budget, "{} > {budget}", map.tokens);
        // Exact, or the byte length when the whole map fit by it: never an undercount.
        let exact = tandem::tokens::count(&map.text);
        assert!(map.tokens == exact || map.tokens == map.text.len() && exact <= map.tokens, "{budget}");
        assert!(map.definitions >= last.0 && map.tokens >= last.1, "shrank at {budget}");
        last = (map.definitions, map.tokens);
    }
    assert_eq!(index.map(&MapRequest { tokens: 0, ..MapRequest::default() }).text, "");
    assert!(last.0 >= 10, "all definitions fit in 4096 tokens");
}

#[test]
fn mentions_are_extracted_from_free_text() {
    let m = extract_mentions(
        "Please fix `run` in src/app/mod.rs: Config::new and parse_line break on HashMap, see foo.py.",
    );
    for ident in ["run", "Config", "new", "parse_line", "HashMap"] {
        assert!(m.idents.contains(ident), "{ident} missing from {:?}", m.idents);
    }
    for word in ["Please", "fix", "in", "and", "on", "see"] {
        assert!(!m.idents.contains(word), "{word} should not be an identifier");
    }
    assert!(m.paths.contains("src/app/mod.rs") && m.paths.contains("foo.py"), "{:?}", m.paths);
}

#[test]
fn lookups_find_definitions_references_and_outlines() {
    let index = build();
    let exact = index.find_definitions("Config", false);
    assert_eq!(exact.len(), 1);
    assert_eq!((exact[0].path.as_path(), exact[0].line), (Path::new("src/config.rs"), 2));
    let fuzzy = index.find_definitions("confg", true);
    assert_eq!(fuzzy.first().map(|h| h.name.as_str()), Some("Config"));
    assert!(index.find_definitions("confg", false).is_empty());
    let refs = index.references("Config");
    assert!(refs.iter().any(|r| r.path == Path::new("src/parser.rs") && r.line == 9), "{refs:?}");
    let outline = index.outline(Path::new("src/config.rs")).expect("outline");
    let items: Vec<(&str, u32, usize)> = outline.iter().map(|o| (o.name.as_str(), o.line, o.depth)).collect();
    assert_eq!(items, vec![("Config", 2, 0), ("new", 8, 1), ("with_width", 12, 1)]);
    assert!(index.outline(Path::new("src/nope.rs")).is_none());
}

/// `tandem map` builds the index with the project's `[index]` settings, as
/// the model's map is built.
#[test]
fn the_map_command_follows_the_index_configuration() {
    let repo = tempfile::tempdir().expect("repo");
    let home = tempfile::tempdir().expect("home");
    let write = |path: &str, text: &str| {
        let p = repo.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write("src/lib.rs", "pub fn shown() {}\n");
    write(".hidden/extra.rs", "pub fn hidden_helper() {}\n");
    let map = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["map", "--no-cache"])
            .current_dir(repo.path())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .output()
            .expect("run tandem");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = map();
    assert!(text.contains("shown") && !text.contains("hidden_helper"), "{text}");
    write(".tandem/config.toml", "[index]\ninclude_hidden = true\n");
    let text = map();
    assert!(text.contains("hidden_helper"), "{text}");
}
