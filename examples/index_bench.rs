//! Index benchmark: cold build with N threads, bare single-threaded parse of the same
//! files, warm start from the cache, one-file update + map, and map rendering.
//!
//! Usage: `cargo run --release --example index_bench -- <dir> [threads] [--rounds N] [--no-bare] [--cold-only]`
//! (`--cold-only` stops after the cold build and map, for measuring peak memory.)
//! The cold build and the bare parses run `--rounds` times (default 3), interleaved,
//! and their medians are printed: shared machines drift by tens of percent between
//! minutes, and interleaving exposes both to the same drift.
//! Output is `key: value` lines so `benches/index.sh` can pick figures out.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tandem::index::{Index, IndexOptions, Lang, MapRequest};
use tree_sitter::Parser;

fn main() {
    if let Err(e) = run() {
        eprintln!("index_bench: {e}");
        std::process::exit(1);
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn median<T: Copy>(values: &[T], order: impl Fn(&T, &T) -> std::cmp::Ordering) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_by(order);
    sorted[sorted.len() / 2]
}

fn list(times: &[Duration]) -> String {
    times.iter().map(|t| ms(*t)).collect::<Vec<_>>().join(" ")
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(args.first().ok_or("usage: index_bench <dir> [threads] [--no-bare]")?);
    let threads: usize = args.get(1).filter(|a| !a.starts_with("--")).map_or(Ok(2), |t| t.parse())?;
    let cold_only = args.iter().any(|a| a == "--cold-only");
    let bare = !cold_only && !args.iter().any(|a| a == "--no-bare");
    let rounds: usize = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args.get(i + 1).ok_or("--rounds needs a number")?.parse()?,
        None if cold_only => 1,
        None => 3,
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let cache_dir = std::env::temp_dir().join(format!("index_bench.{}", std::process::id()));
    let cache = cache_dir.join("index.bin");

    // Cold: no cache, the whole pipeline plus one map, as a first start would do.
    let mut opts = IndexOptions::new(&root);
    let (mut colds, mut bares, mut splits) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    let mut sources = Vec::new();
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        let (index, _) = pool.install(|| Index::build(&opts, &|_, _| {}))?;
        let map = index.map(&MapRequest { tokens: 2048, focus: vec![], mentions: String::new() });
        colds.push(started.elapsed());
        if bare {
            if sources.is_empty() {
                let files: Vec<PathBuf> = index.files().map(Path::to_path_buf).collect();
                sources = read_sources(&root, &files)?;
            }
            drop(last.take());
            bares.push(bare_parse(&sources)?);
            // The same parse split over the pool: what this machine's threads give at best.
            splits.push(pool.install(|| bare_parse_parallel(&sources))?);
        }
        last = Some((index, map));
    }
    let (index, map) = last.ok_or("no rounds")?;
    let cold = median(&colds, Duration::cmp);
    let s = index.stats();
    println!("threads: {threads}");
    println!("rounds: {}", colds.len());
    println!("files: {}", s.files());
    println!("lines: {}", s.lines);
    println!("definitions: {}", s.definitions);
    println!("references: {}", s.references);
    println!("edges: {}", s.graph_edges);
    println!(
        "cold_phases_ms: walk {} parse {} graph {} rank {} render {}",
        ms(s.times.walk),
        ms(s.times.parse),
        ms(s.times.graph),
        ms(s.times.rank),
        ms(s.times.render)
    );
    println!("cold_ms: {}", ms(cold));
    println!("cold_rounds_ms: {}", list(&colds));
    println!("map_tokens: {}", map.tokens);
    if cold_only {
        return Ok(());
    }

    if bare {
        let ratio = |a: &[Duration], b: &[Duration]| {
            let r: Vec<f64> = a.iter().zip(b).map(|(x, y)| x.as_secs_f64() / y.as_secs_f64()).collect();
            median(&r, f64::total_cmp)
        };
        println!("bare_parse_1t_ms: {}", ms(median(&bares, Duration::cmp)));
        println!("bare_parse_1t_rounds_ms: {}", list(&bares));
        // The median of the rounds' own ratios: each round's pair saw the same machine.
        println!("cold_over_bare: {:.3}", ratio(&colds, &bares));
        println!("bare_parse_{threads}t_ms: {}", ms(median(&splits, Duration::cmp)));
        println!("bare_speedup: {:.2}", ratio(&bares, &splits));
    }
    drop(index);

    // Warm: everything comes from the cache.
    opts.cache_file = Some(cache.clone());
    pool.install(|| Index::build(&opts, &|_, _| {}))?.0.save_cache()?;
    let started = Instant::now();
    let (mut warm, _) = pool.install(|| Index::build(&opts, &|_, _| {}))?;
    let warm_map = warm.map(&MapRequest { tokens: 2048, focus: vec![], mentions: String::new() });
    let warm_time = started.elapsed();
    println!("warm_ms: {}", ms(warm_time));
    println!("warm_over_cold: {:.3}", warm_time.as_secs_f64() / cold.as_secs_f64());
    println!("warm_hits: {}", warm.stats().cache_hits);
    if warm_map != map {
        return Err("warm map differs from the cold one".into());
    }

    // Map alone, a few times (the best run: the first one warms the tokenizer).
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        warm.map(&MapRequest { tokens: 2048, focus: vec![], mentions: "Parser".into() });
        best = best.min(started.elapsed());
    }
    let st = warm.stats();
    println!("map_2048_ms: {} (rank {} render {})", ms(best), ms(st.times.rank), ms(st.times.render));

    // One file changed: append a function to the largest-ish file, update, map.
    let victim = warm.files().nth(warm.stats().files() / 2).map(Path::to_path_buf).ok_or("no files")?;
    let abs = root.join(&victim);
    let original = std::fs::read_to_string(&abs)?;
    let mut best = Duration::MAX;
    for i in 0..3 {
        // A function (a class for Java) that refers to `Parser`, in the file's own syntax.
        let added = match Lang::from_path(&victim) {
            Some(Lang::Python) => format!("def bench_added_{i}():\n    return Parser()"),
            Some(Lang::JavaScript | Lang::TypeScript | Lang::Tsx) => {
                format!("export function bench_added_{i}() {{ return new Parser().length; }}")
            }
            Some(Lang::Go) => format!("func benchAdded{i}() int {{ return Parser{{}}.Len() }}"),
            Some(Lang::C) => format!("int bench_added_{i}(struct Parser *p) {{ return parser_len(p); }}"),
            Some(Lang::Cpp) => format!("std::size_t bench_added_{i}() {{ return Parser().size(); }}"),
            Some(Lang::Java) => format!("class BenchAdded{i} {{ int len() {{ return new Parser().length(); }} }}"),
            Some(Lang::Rust) | None => format!("pub fn bench_added_{i}() -> usize {{ Parser::new().len() }}"),
        };
        let edit = format!("{original}\n{added}\n");
        std::fs::write(&abs, edit)?;
        let started = Instant::now();
        warm.update(std::slice::from_ref(&abs));
        warm.map(&MapRequest { tokens: 2048, focus: vec![abs.clone()], mentions: String::new() });
        best = best.min(started.elapsed());
    }
    std::fs::write(&abs, original)?;
    let st = warm.stats();
    println!(
        "update_one_plus_map_ms: {} (walk {} parse {} graph {} rank {} render {})",
        ms(best),
        ms(st.times.walk),
        ms(st.times.parse),
        ms(st.times.graph),
        ms(st.times.rank),
        ms(st.times.render)
    );
    let _ = std::fs::remove_dir_all(&cache_dir);
    Ok(())
}

/// The indexed files' text with their language, largest first, read once for the
/// bare parses so only parsing is timed.
fn read_sources(root: &Path, files: &[PathBuf]) -> Result<Vec<(Lang, String)>, String> {
    let mut texts = Vec::with_capacity(files.len());
    for f in files {
        let Some(lang) = Lang::from_path(f) else { continue };
        let bytes = std::fs::read(root.join(f)).map_err(|e| format!("{}: {e}", f.display()))?;
        texts.push((lang, String::from_utf8_lossy(&bytes).into_owned()));
    }
    texts.sort_by_key(|(_, t)| std::cmp::Reverse(t.len()));
    Ok(texts)
}

/// Parses one file, switching the parser's language only when it changes.
fn parse(parser: &mut Parser, current: &mut Option<Lang>, lang: Lang, text: &str) {
    if *current != Some(lang) {
        let Some(grammar) = lang.grammar() else { return };
        parser.set_language(&grammar).expect("a compiled-in grammar loads");
        *current = Some(lang);
    }
    std::hint::black_box(parser.parse(text, None));
}

/// Tree-sitter parsing alone on every thread of the current rayon pool, each thread
/// taking the next file as it finishes one (as the index does).
fn bare_parse_parallel(sources: &[(Lang, String)]) -> Result<Duration, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    rayon::broadcast(|_| {
        let (mut parser, mut current) = (Parser::new(), None);
        while let Some((lang, text)) = sources.get(next.fetch_add(1, Ordering::Relaxed)) {
            parse(&mut parser, &mut current, *lang, text);
        }
    });
    Ok(started.elapsed())
}

/// Tree-sitter parsing alone, one thread, no queries.
fn bare_parse(sources: &[(Lang, String)]) -> Result<Duration, String> {
    let (mut parser, mut current) = (Parser::new(), None);
    let started = Instant::now();
    for (lang, text) in sources {
        parse(&mut parser, &mut current, *lang, text);
    }
    Ok(started.elapsed())
}
