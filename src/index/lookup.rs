//! Symbol lookups: definitions by name (exact or fuzzy), references, file outlines.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::cache::FileEntry;
use super::tags::DefKind;

/// A definition or reference found by a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolHit {
    pub name: String,
    /// `None` for a reference.
    pub kind: Option<DefKind>,
    pub path: PathBuf,
    pub line: u32,
    /// Last line of the item for definitions; `line` for references.
    pub end_line: u32,
    /// First line of the item for definitions; empty for references.
    pub signature: String,
}

/// One entry of a file outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineItem {
    pub name: String,
    pub kind: DefKind,
    pub line: u32,
    pub end_line: u32,
    /// Nesting depth: 0 at top level, 1 inside one `impl`/`mod`/`class`, …
    pub depth: usize,
    pub signature: String,
}

/// How well `candidate` matches `query`; lower is better, `None` is no match.
fn fuzzy_score(query: &str, candidate: &str) -> Option<usize> {
    let q = query.to_lowercase();
    let c = candidate.to_lowercase();
    if c == q {
        return Some(if candidate == query { 0 } else { 1 });
    }
    if c.starts_with(&q) {
        return Some(2);
    }
    if c.contains(&q) {
        return Some(3);
    }
    let d = edit_distance(&q, &c, 2);
    if d <= 2 {
        return Some(3 + d);
    }
    is_subsequence(&q, &c).then_some(6)
}

fn is_subsequence(needle: &str, hay: &str) -> bool {
    let mut it = hay.chars();
    needle.chars().all(|n| it.any(|h| h == n))
}

/// Levenshtein distance, giving up (returning `limit + 1`) once it must exceed `limit`.
fn edit_distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        if cur.iter().min().is_some_and(|&m| m > limit) {
            return limit + 1;
        }
        prev = cur;
    }
    prev[b.len()]
}

pub fn find_definitions(files: &BTreeMap<PathBuf, FileEntry>, name: &str, fuzzy: bool) -> Vec<SymbolHit> {
    let mut hits: Vec<(usize, SymbolHit)> = Vec::new();
    for (path, entry) in files {
        for d in &entry.tags.defs {
            let score = if fuzzy { fuzzy_score(name, &d.name) } else { (d.name == name).then_some(0) };
            if let Some(score) = score {
                hits.push((
                    score,
                    SymbolHit {
                        name: d.name.clone(),
                        kind: Some(d.kind),
                        path: path.clone(),
                        line: d.line,
                        end_line: d.end_line,
                        signature: d.signature.trim().to_string(),
                    },
                ));
            }
        }
    }
    hits.sort_by(|(sa, a), (sb, b)| {
        (sa, a.name.len(), &a.name, &a.path, a.line).cmp(&(sb, b.name.len(), &b.name, &b.path, b.line))
    });
    hits.into_iter().map(|(_, h)| h).collect()
}

pub fn references(files: &BTreeMap<PathBuf, FileEntry>, name: &str) -> Vec<SymbolHit> {
    files
        .iter()
        .flat_map(|(path, entry)| {
            // Names are sorted, so a file that never uses `name` is skipped after one search.
            let id = entry.tags.ref_names.binary_search_by(|n| n.as_str().cmp(name)).ok().map(|i| i as u32);
            entry.tags.refs.iter().filter(move |r| Some(r.name) == id).map(move |r| SymbolHit {
                name: name.to_string(),
                kind: None,
                path: path.clone(),
                line: r.line,
                end_line: r.line,
                signature: String::new(),
            })
        })
        .collect()
}

pub fn outline(entry: &FileEntry) -> Vec<OutlineItem> {
    entry
        .tags
        .defs
        .iter()
        .map(|d| OutlineItem {
            name: d.name.clone(),
            kind: d.kind,
            line: d.line,
            end_line: d.end_line,
            depth: d.scopes.len(),
            signature: d.signature.trim().to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_scores_rank_exact_then_prefix_then_typos() {
        assert_eq!(fuzzy_score("Config", "Config"), Some(0));
        assert_eq!(fuzzy_score("config", "Config"), Some(1));
        assert_eq!(fuzzy_score("Conf", "Config"), Some(2));
        assert_eq!(fuzzy_score("Cnofig", "Config"), Some(5));
        assert_eq!(fuzzy_score("pcfg", "parse_config"), Some(6));
        assert_eq!(fuzzy_score("zzz", "Config"), None);
    }
}
