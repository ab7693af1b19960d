//! Incremental updates, the persistent cache, and hostile input.

use std::fs;
use std::path::{Path, PathBuf};

use tandem::index::{Index, IndexOptions, MapRequest, SkipReason, render_stats};

fn copy_fixture_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index/repo/src");
    fs::create_dir_all(dir.path().join("src")).expect("mkdir");
    for entry in fs::read_dir(src).expect("read fixture") {
        let entry = entry.expect("entry");
        fs::copy(entry.path(), dir.path().join("src").join(entry.file_name())).expect("copy");
    }
    dir
}

fn build(opts: &IndexOptions) -> (Index, Vec<String>) {
    Index::build(opts, &|_, _| {}).expect("build")
}

fn def_files(index: &Index, name: &str) -> Vec<PathBuf> {
    index.find_definitions(name, false).into_iter().map(|h| h.path).collect()
}

fn map_text(index: &Index) -> String {
    index.map(&MapRequest { tokens: 4096, focus: vec![], mentions: String::new() }).text
}

#[test]
fn update_handles_edit_add_delete_and_rename() {
    let repo = copy_fixture_repo();
    let root = repo.path();
    let (mut index, _) = build(&IndexOptions::new(root));
    assert_eq!(index.stats().files(), 4);

    // Edit: a new method appears, an old one disappears.
    let config = fs::read_to_string(root.join("src/config.rs")).expect("read");
    fs::write(root.join("src/config.rs"), config.replace("with_width", "with_height")).expect("write");
    index.update(&[root.join("src/config.rs")]);
    assert_eq!(def_files(&index, "with_height"), vec![PathBuf::from("src/config.rs")]);
    assert!(def_files(&index, "with_width").is_empty());
    assert!(map_text(&index).contains("with_height"));
    assert_eq!((index.stats().cache_misses, index.stats().cache_hits), (1, 0));

    // Add: a new file referencing Config joins the graph.
    fs::write(root.join("src/render.rs"), "pub fn render_all(c: &Config) -> usize { c.width }\n").expect("write");
    index.update(&[PathBuf::from("src/render.rs")]);
    assert_eq!(def_files(&index, "render_all"), vec![PathBuf::from("src/render.rs")]);
    assert!(index.references("Config").iter().any(|r| r.path == Path::new("src/render.rs")));
    assert!(map_text(&index).contains("render_all"));

    // Delete.
    fs::remove_file(root.join("src/util.rs")).expect("rm");
    index.update(&[root.join("src/util.rs")]);
    assert!(def_files(&index, "human_bytes").is_empty());
    assert!(!map_text(&index).contains("src/util.rs"));

    // Rename = delete old + add new.
    fs::rename(root.join("src/parser.rs"), root.join("src/lexer.rs")).expect("mv");
    index.update(&[root.join("src/parser.rs"), root.join("src/lexer.rs")]);
    assert_eq!(def_files(&index, "Parser"), vec![PathBuf::from("src/lexer.rs")]);
    let text = map_text(&index);
    assert!(text.contains("src/lexer.rs:") && !text.contains("src/parser.rs"), "{text}");
    assert_eq!(index.stats().files(), 4);

    // An ignored new file stays out.
    fs::write(root.join(".ignore"), "generated.rs\n").expect("write");
    fs::write(root.join("src/generated.rs"), "pub fn generated_thing() {}\n").expect("write");
    index.update(&[root.join("src/generated.rs")]);
    assert!(def_files(&index, "generated_thing").is_empty());
}

#[test]
fn cache_makes_warm_builds_parse_nothing_and_survives_corruption() {
    let repo = copy_fixture_repo();
    let cache_dir = tempfile::tempdir().expect("tempdir");
    let cache = cache_dir.path().join("nested/index.bin");
    let mut opts = IndexOptions::new(repo.path());
    opts.cache_file = Some(cache.clone());

    let (cold, warnings) = build(&opts);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!((cold.stats().cache_hits, cold.stats().cache_misses), (0, 4));
    cold.save_cache().expect("save");

    let (warm, warnings) = build(&opts);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!((warm.stats().cache_hits, warm.stats().cache_misses), (4, 0));
    assert_eq!(map_text(&warm), map_text(&cold));
    assert_eq!(warm.find_definitions("Config", false), cold.find_definitions("Config", false));

    // Touching a file without changing it costs a hash, not a parse.
    let path = repo.path().join("src/util.rs");
    let text = fs::read(&path).expect("read");
    std::thread::sleep(std::time::Duration::from_millis(10));
    fs::write(&path, &text).expect("rewrite");
    let (touched, _) = build(&opts);
    assert_eq!((touched.stats().cache_hits, touched.stats().cache_misses), (4, 0));

    let good = fs::read(&cache).expect("read cache");
    let mut wrong_version = good.clone();
    wrong_version[8] ^= 0xff;
    let mut wrong_schema = good.clone();
    wrong_schema[12] ^= 0xff;
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x55;
    let random: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for (what, bytes) in [
        ("random", random),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("version", wrong_version),
        ("schema", wrong_schema),
        ("flipped", flipped),
        ("empty", vec![]),
    ] {
        fs::write(&cache, &bytes).expect("corrupt");
        let (index, warnings) = build(&opts);
        assert_eq!(warnings.len(), 1, "{what}: {warnings:?}");
        assert!(warnings[0].contains("rebuilding"), "{what}: {warnings:?}");
        assert_eq!((index.stats().cache_hits, index.stats().cache_misses), (0, 4), "{what}");
        index.save_cache().expect("save");
        assert!(build(&opts).1.is_empty(), "{what}: cache not rewritten");
    }
    // No temp files left behind by atomic writes.
    let leftovers: Vec<_> = fs::read_dir(cache.parent().expect("dir")).expect("ls").collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn bad_input_is_skipped_with_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let mut latin1 = b"pub fn caf\xe9_ok() {}\npub fn still_found() {}\n".to_vec();
    latin1.extend_from_slice(b"// \xff\xfe\n");
    fs::write(root.join("latin1.rs"), latin1).expect("write");
    fs::write(root.join("broken.rs"), "pub struct Kept;\nfn oops( {\n").expect("write");
    fs::write(root.join("minified.rs"), format!("pub fn m() {{ {} }}\n", "1+".repeat(6000) + "1")).expect("write");
    fs::write(root.join("binary.rs"), b"fn x() {}\0\0\0").expect("write");
    fs::write(root.join("huge.rs"), "// x\n".repeat(5000)).expect("write");
    fs::write(root.join("secret.rs"), "pub fn secret() {}\n").expect("write");
    fs::write(root.join(".hidden.rs"), "pub fn hidden() {}\n").expect("write");
    fs::write(root.join(".tandemignore"), "ignored_by_tandem.rs\n").expect("write");
    fs::write(root.join("ignored_by_tandem.rs"), "pub fn nope() {}\n").expect("write");
    fs::write(root.join("README.md"), "# hi\n").expect("write");
    std::os::unix::fs::symlink(root, root.join("loop")).expect("symlink");
    set_mode(&root.join("secret.rs"), 0o000);
    // Root ignores permissions, so the unreadable case can only be observed as a normal user.
    let unreadable_observable = fs::read(root.join("secret.rs")).is_err();

    let mut opts = IndexOptions::new(root);
    opts.max_file_size = 20_000;
    let (index, warnings) = build(&opts);
    assert!(warnings.is_empty());
    let stats = index.stats();
    let reason = |name: &str| stats.skipped.iter().find(|s| s.path == Path::new(name)).map(|s| s.reason.clone());

    assert!(!def_files(&index, "still_found").is_empty(), "invalid UTF-8 is read lossily");
    assert!(!def_files(&index, "Kept").is_empty(), "syntax errors keep partial tags");
    // broken.rs, and latin1.rs whose replacement character is not valid in an identifier.
    assert_eq!(stats.partial_files, 2);
    assert!(matches!(reason("minified.rs"), Some(SkipReason::Minified { .. })), "{:?}", stats.skipped);
    assert_eq!(reason("binary.rs"), Some(SkipReason::Binary));
    assert!(matches!(reason("huge.rs"), Some(SkipReason::TooLarge { size: 25_000, limit: 20_000 })));
    assert!(def_files(&index, "hidden").is_empty() && def_files(&index, "nope").is_empty());
    assert_eq!(stats.other_files, 1, "README.md is counted, not parsed: {:?}", stats.skipped);
    assert_eq!(reason("loop"), Some(SkipReason::Symlink), "links are not followed, so no loops");
    if unreadable_observable {
        assert!(matches!(reason("secret.rs"), Some(SkipReason::Unreadable(_))), "{:?}", stats.skipped);
    } else {
        assert!(!def_files(&index, "secret").is_empty());
    }
    set_mode(&root.join("secret.rs"), 0o644);
    let summary = render_stats(&stats);
    assert!(summary.contains("minified 1") && summary.contains("binary 1"), "{summary}");

    let mut opts = IndexOptions::new(root);
    opts.include_hidden = true;
    assert!(!def_files(&build(&opts).0, "hidden").is_empty());
}

#[test]
fn a_file_deleted_between_walk_and_parse_is_skipped_as_vanished() {
    let repo = copy_fixture_repo();
    let root = repo.path().to_path_buf();
    let victim = root.join("src/util.rs");
    // The progress callback runs after the walk and before parsing starts.
    let progress = |done: usize, _total: usize| {
        if done == 0 {
            let _ = fs::remove_file(&victim);
        }
    };
    let (index, _) = Index::build(&IndexOptions::new(&root), &progress).expect("build");
    let stats = index.stats();
    assert_eq!(stats.files(), 3);
    assert!(stats.skipped.iter().any(|s| s.path == Path::new("src/util.rs") && s.reason == SkipReason::Vanished));
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn patched_graph_ranks_like_a_rebuilt_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // Enough files that a one-file update patches the graph instead of rebuilding it.
    for i in 0..12 {
        let body = format!(
            "pub struct Item{i};\npub fn make_{i}() -> Item{i} {{ Item{i} }}\npub fn use_{i}() {{ make_{}(); shared_helper(); }}\n",
            (i + 1) % 12
        );
        fs::write(root.join(format!("m{i}.rs")), body).expect("write");
    }
    fs::write(root.join("shared.rs"), "pub fn shared_helper() {}\n").expect("write");
    let (mut index, _) = build(&IndexOptions::new(root));
    fs::write(root.join("m3.rs"), "pub fn make_3() -> Item4 { Item4 }\npub fn brand_new() { shared_helper(); }\n")
        .expect("write");
    fs::write(root.join("m13.rs"), "pub fn later() { brand_new(); make_3(); }\n").expect("write");
    fs::remove_file(root.join("m7.rs")).expect("rm");
    index.update(&[root.join("m3.rs"), root.join("m13.rs"), root.join("m7.rs")]);
    let (fresh, _) = build(&IndexOptions::new(root));
    for req in [
        MapRequest { tokens: 4096, focus: vec![], mentions: String::new() },
        MapRequest { tokens: 4096, focus: vec![PathBuf::from("m13.rs")], mentions: "brand_new".into() },
    ] {
        let (patched, rebuilt) = (index.map(&req), fresh.map(&req));
        assert_eq!(patched.text, rebuilt.text);
        assert_eq!(patched.files, rebuilt.files);
    }
    assert_eq!(index.stats().graph_edges, fresh.stats().graph_edges);
}
