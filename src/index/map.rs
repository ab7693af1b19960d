//! The repository map: the highest-ranked definitions, rendered like source and fitted to a token budget.
//!
//! Files in focus are left out, as Aider does: the model already has their full
//! text, so repeating their outline would spend budget on nothing new.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::cache::FileEntry;
use super::graph::{Graph, MENTION_BOOST, Personalization};
use super::lang::Lang;
use super::tags::FileTags;
use crate::tokens;

/// Marks lines left out between shown lines.
pub(crate) const ELISION: &str = "⋮";
/// Prefix of every shown source line, telling the model it is an excerpt.
const LINE_PREFIX: &str = "│";

/// What to build a map for.
#[derive(Debug, Clone, Default)]
pub struct MapRequest {
    /// Token budget (o200k_base); the map never exceeds it.
    pub tokens: usize,
    /// Files in play, absolute or relative to the root. Seed the ranking; left out of the map.
    pub focus: Vec<PathBuf>,
    /// The user's raw words; identifiers and file paths in it are boosted.
    pub mentions: String,
}

/// A rendered map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoMap {
    pub text: String,
    /// Tokens in `text` (o200k_base), always ≤ the requested budget. When the
    /// whole map fit by its byte length, this is that length: an upper bound.
    pub tokens: usize,
    /// Files shown, highest-ranked first.
    pub files: Vec<PathBuf>,
    /// Definitions shown.
    pub definitions: usize,
}

/// Identifiers and paths pulled out of free text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Mentions {
    pub idents: BTreeSet<String>,
    pub paths: BTreeSet<String>,
}

/// Plain words long enough to pass as identifiers but almost never meant as one.
const STOPWORDS: &[&str] = &[
    "about", "after", "also", "because", "before", "code", "could", "does", "each", "file", "files", "from", "have",
    "here", "into", "just", "like", "make", "more", "need", "only", "other", "please", "should", "some", "than",
    "that", "their", "them", "then", "there", "these", "they", "this", "those", "want", "what", "when", "where",
    "which", "will", "with", "would", "your", "fix", "the", "and", "for", "not", "use", "add",
];

/// Extracts identifiers (CamelCase, snake_case, `a::b` paths, backticked words, plain
/// words of 4+ letters) and file paths (`src/foo.rs`, `foo.rs`) from a user's message.
/// Plain words are kept because a map only boosts names the repository defines.
pub fn extract_mentions(text: &str) -> Mentions {
    let mut m = Mentions::default();
    for raw in text.split_whitespace() {
        let quoted = raw.contains('`');
        let token = raw.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_' || c == '/'));
        if token.is_empty() {
            continue;
        }
        if token.contains('/') || Lang::from_path(Path::new(token)).is_some() || looks_like_file(token) {
            m.paths.insert(token.trim_start_matches("./").to_string());
            continue;
        }
        let qualified = token.contains("::");
        for part in token.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !is_identifier(part) {
                continue;
            }
            let strong = qualified
                || quoted
                || part.contains('_')
                || part.chars().skip(1).any(char::is_uppercase)
                || part.chars().next().is_some_and(char::is_uppercase) && part.len() > 1 && !is_sentence_word(part);
            let plain = part.len() >= 4 && !STOPWORDS.contains(&part.to_lowercase().as_str());
            if strong || plain {
                m.idents.insert(part.to_string());
            }
        }
    }
    m
}

/// A capitalised plain word (`Please`, `Then`) at a sentence start is not a type name.
fn is_sentence_word(word: &str) -> bool {
    STOPWORDS.contains(&word.to_lowercase().as_str())
}

fn looks_like_file(token: &str) -> bool {
    let Some((stem, ext)) = token.rsplit_once('.') else { return false };
    !stem.is_empty() && matches!(ext, "toml" | "md" | "json" | "yaml" | "yml" | "txt" | "lock")
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Turns a user-supplied path into the index key (relative to the root).
pub(crate) fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf())
}

/// One candidate entry of the map: a definition in a file, or (`def: None`) the path
/// of a file that defines nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RankedDef {
    pub file: usize,
    pub def: Option<usize>,
    pub score: f64,
}

/// Score of a file without definitions against its rank. Such files (tests made of
/// macro calls, entry points, scripts) are listed by path, as Aider lists untagged
/// files. Nothing references them, so their rank comes only from the names they use,
/// flowing back at `BACKWARD` weight, and understates them; a path costs a line.
/// Tuned with `benches/map_quality.sh`: on ripgrep, whose integration tests are all
/// `rgtest!` calls, 1.0 recovered few of them, 5.0 most, 20.0 began to crowd out
/// definitions at 1024 tokens; serde and clap did not move.
const PATH_ONLY: f64 = 5.0;

/// Builds the personalization for a request: focus files, files named in the text,
/// and files defining mentioned identifiers.
pub(crate) fn personalize(graph: &Graph, root: &Path, req: &MapRequest) -> (Personalization, HashSet<usize>) {
    let mentions = extract_mentions(&req.mentions);
    let mut p = Personalization::default();
    let mut focus = HashSet::new();
    for f in &req.focus {
        if let Some(&id) = graph.file_ids.get(&relative(root, f)) {
            focus.insert(id);
            p.files.insert(id);
        }
    }
    if !mentions.paths.is_empty() {
        for (i, file) in graph.files.iter().enumerate().filter(|&(i, _)| graph.alive[i]) {
            let s = file.to_string_lossy();
            if mentions.paths.iter().any(|m| s == m.as_str() || s.ends_with(&format!("/{m}")) || m.ends_with(&*s)) {
                p.files.insert(i);
            }
        }
    }
    for ident in &mentions.idents {
        if let Some(&id) = graph.name_ids.get(ident) {
            p.names.insert(id);
            p.files.extend(graph.definers(id).iter().copied());
        }
    }
    (p, focus)
}

/// Scores every definition outside the focus and returns the best `limit`, best first:
/// each file's rank is shared among its definitions by how much rank reached it through
/// each name, so the definitions other files actually use rise to the top.
pub(crate) fn rank_definitions(
    graph: &Graph,
    p: &Personalization,
    focus: &HashSet<usize>,
    limit: usize,
) -> Vec<RankedDef> {
    let ranking = graph.rank(p);
    let mut out = Vec::new();
    let mut flows: Vec<f64> = Vec::new();
    // A live node's file is always in the index: the graph is patched along with it.
    for file in 0..graph.files.len() {
        if !graph.alive[file] || focus.contains(&file) {
            continue;
        }
        let names = graph.def_names(file);
        if names.is_empty() {
            out.push(RankedDef { file, def: None, score: ranking.rank[file] * PATH_ONLY });
            continue;
        }
        flows.clear();
        flows.extend(names.iter().map(|&id| graph.inflow(&ranking, file, id)));
        let total: f64 = flows.iter().sum();
        let n = flows.len() as f64;
        // Unreferenced definitions still get a small share so a file's API shows up at all.
        let base = if total > 0.0 { total * 0.05 / n } else { 1.0 };
        for (def, (id, flow)) in names.iter().zip(&flows).enumerate() {
            let mut score = ranking.rank[file] * (flow + base) / (total + base * n);
            if !p.names.is_empty() && p.names.contains(id) {
                score *= MENTION_BOOST;
            }
            out.push(RankedDef { file, def: Some(def), score });
        }
    }
    let order =
        |a: &RankedDef, b: &RankedDef| b.score.total_cmp(&a.score).then(a.file.cmp(&b.file)).then(a.def.cmp(&b.def));
    if out.len() > limit {
        out.select_nth_unstable_by(limit, order);
        out.truncate(limit);
    }
    out.sort_unstable_by(order);
    out
}

/// The ranked definitions grouped by file: files ordered by their best definition,
/// each with its definitions in rank order.
fn group(ranked: &[RankedDef]) -> Vec<(usize, Vec<usize>)> {
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for r in ranked {
        let i = *slot.entry(r.file).or_insert_with(|| {
            groups.push((r.file, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.extend(r.def);
    }
    groups
}

/// One file's block of the map: its path, then the chosen definitions with their scopes.
fn render_block(path: &Path, entry: &FileEntry, defs: &[usize]) -> String {
    let tags = &entry.tags;
    let mut lines: BTreeMap<u32, &str> = BTreeMap::new();
    for &i in defs {
        let d = &tags.defs[i];
        lines.insert(d.line, &d.signature);
        for s in &d.scopes {
            if let Some(t) = tags.scope_lines.get(s) {
                lines.insert(*s, t);
            }
        }
    }
    let mut text = String::new();
    text.push_str(&path.to_string_lossy());
    text.push_str(":\n");
    let mut prev = 0;
    for (&line, body) in &lines {
        if line > prev + 1 {
            text.push_str(ELISION);
            text.push('\n');
        }
        text.push_str(LINE_PREFIX);
        text.push_str(body);
        text.push('\n');
        prev = line;
    }
    if prev < tags.lines {
        text.push_str(ELISION);
        text.push('\n');
    }
    text
}

/// Renders the first `k` ranked definitions, files ordered by their best definition.
pub fn render(graph: &Graph, files: &BTreeMap<PathBuf, FileEntry>, ranked: &[RankedDef]) -> (String, Vec<PathBuf>) {
    let mut text = String::new();
    let mut shown = Vec::new();
    for (file, defs) in group(ranked) {
        let path = &graph.files[file];
        let Some(entry) = files.get(path) else { continue };
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&render_block(path, entry, &defs));
        shown.push(path.clone());
    }
    (text, shown)
}

/// Token counts of map lines, kept from one map to the next: most lines recur.
#[derive(Debug, Default)]
pub(crate) struct LineTokens {
    /// By a hash of the line's text; a collision can only skew an estimate, and the
    /// chosen map is counted exactly anyway.
    counts: HashMap<u64, usize>,
}

/// Past this many lines the cache starts over, bounding its memory to a few MB.
const LINE_TOKENS_MAX: usize = 200_000;

impl LineTokens {
    /// Tokens of the line made of `parts` joined; the text is only built on a cache miss.
    fn count(&mut self, parts: &[&str]) -> usize {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hasher};
        let mut hasher = BuildHasherDefault::<DefaultHasher>::default().build_hasher();
        for part in parts {
            hasher.write(part.as_bytes());
        }
        let key = hasher.finish();
        if let Some(&n) = self.counts.get(&key) {
            return n;
        }
        if self.counts.len() >= LINE_TOKENS_MAX {
            self.counts.clear();
        }
        let n = tokens::count(&parts.concat());
        self.counts.insert(key, n);
        n
    }
}

/// Estimated tokens of the map of the first `k` ranked definitions, for every `k` from 0
/// up to the first estimate over `limit` (or `ranked.len()`). Each distinct line is
/// tokenized once (and remembered in `known` between maps), and a block's estimate is
/// the sum of its lines, so the whole table costs one pass over the definitions.
fn prefix_estimates(
    graph: &Graph,
    files: &BTreeMap<PathBuf, FileEntry>,
    ranked: &[RankedDef],
    limit: usize,
    known: &mut LineTokens,
) -> Vec<usize> {
    let elision = tokens::count(&format!("{ELISION}\n"));
    // Each file's shown lines so far, and its entry (looked up once; `render` skips a
    // missing one the same way).
    let mut blocks: HashMap<usize, (BTreeSet<u32>, Option<&FileEntry>)> = HashMap::new();
    let mut total = 0;
    let mut out = Vec::with_capacity(ranked.len() + 1);
    out.push(0);
    for r in ranked {
        let first = blocks.is_empty();
        let (block, entry) = blocks.entry(r.file).or_insert_with(|| {
            let path = &graph.files[r.file];
            let entry = files.get(path);
            if entry.is_some() {
                // The blank line between blocks, then the path header.
                total += usize::from(!first) + known.count(&[&path.to_string_lossy(), ":\n"]);
            }
            (BTreeSet::new(), entry)
        });
        match (entry.map(|e| &e.tags), r.def) {
            (None, _) => {}
            // A path alone: its header, then an elision for the whole file. A file
            // without definitions has only this one entry, so its block stays empty.
            (Some(tags), None) => total += usize::from(tags.lines > 0) * elision,
            (Some(tags), Some(def)) => total = add_definition(block, tags, def, total, elision, known),
        }
        out.push(total);
        if total > limit {
            break;
        }
    }
    out
}

/// The estimate after adding definition `def` of `tags` to its file's `block`.
fn add_definition(
    block: &mut BTreeSet<u32>,
    tags: &FileTags,
    def: usize,
    mut total: usize,
    elision: usize,
    known: &mut LineTokens,
) -> usize {
    let d = &tags.defs[def];
    let scopes = d.scopes.iter().filter_map(|s| tags.scope_lines.get(s).map(|t| (*s, t.as_str())));
    for (line, body) in std::iter::once((d.line, d.signature.as_str())).chain(scopes) {
        if block.contains(&line) {
            continue;
        }
        // An elision marks each gap before a shown line, and the rest of the file after the last.
        let gaps = |prev: u32, next: Option<u32>| match next {
            Some(n) => usize::from(n > prev + 1),
            None => usize::from(prev < tags.lines),
        };
        let prev = block.range(..line).next_back().copied();
        let next = block.range(line..).next().copied();
        let before = if prev.is_none() && next.is_none() { 0 } else { gaps(prev.unwrap_or(0), next) };
        let after = gaps(prev.unwrap_or(0), Some(line)) + gaps(line, next);
        total = total + after * elision - before * elision + known.count(&[LINE_PREFIX, body, "\n"]);
        block.insert(line);
    }
    total
}

/// The largest `k` ≤ `hi` whose estimate fits `budget`.
fn largest_fitting(estimates: &[usize], hi: usize, budget: usize) -> usize {
    (0..=hi.min(estimates.len() - 1)).rev().find(|&k| estimates[k] <= budget).unwrap_or(0)
}

/// Exact-count attempts before falling back to stepping down one definition at a time.
const FIT_ROUNDS: usize = 4;

/// The largest map (most ranked definitions) whose rendering fits the budget.
///
/// The search runs on per-block estimates; the chosen map is then rendered and counted
/// exactly, and only a rendering measured to fit is returned, so the budget always holds
/// even where tokens merge across block boundaries.
pub(crate) fn fit(
    graph: &Graph,
    files: &BTreeMap<PathBuf, FileEntry>,
    ranked: &[RankedDef],
    budget: usize,
    known: &mut LineTokens,
) -> RepoMap {
    // A token covers at least one byte, so a map of at most `budget` bytes
    // fits without counting: a small repository's whole map usually does, and
    // then the tokenizer's tables and regex (a few MB) are never touched.
    // (A definition line is rarely under 8 bytes: with more definitions than
    // that allows, the whole map cannot fit and is not rendered.)
    if ranked.len() <= budget / 8 {
        let (all, shown) = render(graph, files, ranked);
        if all.len() <= budget {
            return RepoMap { tokens: all.len(), text: all, files: shown, definitions: ranked.len() };
        }
    }
    // Every definition adds at least one line of at least one token, so more than `budget` never fits.
    let ranked = &ranked[..ranked.len().min(budget)];
    // Past the first prefix over the budget nothing fits: a definition adds at least
    // a line, and only the few tokens of an elision it replaces come back.
    let estimates = prefix_estimates(graph, files, ranked, budget, known);
    let mut target = budget;
    let mut k = largest_fitting(&estimates, ranked.len(), target);
    let mut rounds = 0;
    while k > 0 {
        let (text, shown) = render(graph, files, &ranked[..k]);
        let tokens = tokens::count(&text);
        if tokens <= budget {
            return RepoMap { text, tokens, files: shown, definitions: k };
        }
        rounds += 1;
        if rounds < FIT_ROUNDS {
            // Aim lower by the overshoot and search again below the failed size.
            target = target.saturating_sub(tokens - budget);
            k = largest_fitting(&estimates, k - 1, target);
        } else {
            k -= 1;
        }
    }
    RepoMap::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Index, IndexOptions};

    /// The per-line estimates must add up exactly as the rendered map's lines do, for
    /// every prefix: that is what lets the fit search trust them.
    #[test]
    fn prefix_estimates_add_up_like_the_rendered_lines() {
        // Besides two real trees, one where a test file defines nothing and is listed by path.
        let scratch = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(scratch.path().join("tests")).expect("mkdir");
        let lib = (0..30).map(|i| format!("pub fn parse_{i}() -> usize {{ {i} }}\n")).collect::<String>();
        std::fs::write(scratch.path().join("lib.rs"), lib).expect("write");
        std::fs::write(scratch.path().join("tests/calls.rs"), "check!(parse_1(), parse_2());\n").expect("write");
        let scratch_dir = scratch.path().to_string_lossy().into_owned();
        for dir in ["tests/fixtures/index/repo", "src/index", scratch_dir.as_str()] {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let (index, _) = Index::build(&IndexOptions::new(&root), &|_, _| {}).expect("index");
            let req = MapRequest { tokens: 4096, focus: vec![], mentions: "Parser rank".into() };
            let (p, focus) = personalize(&index.graph, Path::new(""), &req);
            let ranked = rank_definitions(&index.graph, &p, &focus, usize::MAX);
            assert!(ranked.len() > 10, "{dir}: only {} definitions", ranked.len());
            if dir == scratch_dir {
                assert!(ranked.iter().any(|r| r.def.is_none()), "the test file is listed by path");
            }
            let est = prefix_estimates(&index.graph, &index.files, &ranked, usize::MAX, &mut LineTokens::default());
            assert_eq!(est.len(), ranked.len() + 1);
            let cut = prefix_estimates(&index.graph, &index.files, &ranked, 100, &mut LineTokens::default());
            assert!(cut.last() > Some(&100) && cut[..cut.len() - 1].iter().all(|&e| e <= 100), "{cut:?}");
            assert_eq!(cut[..], est[..cut.len()]);
            for k in 0..=ranked.len() {
                let (text, _) = render(&index.graph, &index.files, &ranked[..k]);
                let want: usize = text.split_inclusive('\n').map(tokens::count).sum();
                assert_eq!(est[k], want, "{dir}: first {k} definitions");
            }
        }
    }
}
