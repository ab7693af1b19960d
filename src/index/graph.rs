//! The file reference graph and personalized PageRank over it.
//!
//! An edge A → B exists when A references a name B defines. Ranking follows
//! Aider's repo map: files the conversation is about seed the walk, and rank
//! flows along references towards the files whose definitions they use.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::cache::FileEntry;

const DAMPING: f64 = 0.85;
const MAX_ITERATIONS: usize = 100;
/// Convergence: L1 change below this per node, the tolerance networkx's pagerank (Aider's) uses.
const CONVERGED: f64 = 1e-6;
/// Names shorter than this (`i`, `T`, `id`) match too much to mean anything, unless the user says them.
pub const MIN_NAME_LEN: usize = 3;
/// Multiplier for edges and definitions whose name the user mentioned.
pub(crate) const MENTION_BOOST: f64 = 10.0;
/// A name referenced from more files than this is treated as vocabulary (`new`, `fmt`), not a specific link.
const COMMON_REF_FILES: usize = 8;
/// Rank also flows back from a file to the files using its names, at this share of
/// the forward weight: a change to a function often touches its callers and tests.
const BACKWARD: f64 = 0.5;
/// Share of the walk's restarts spread over all files instead of the seed, so files
/// linked to the focus only through vocabulary still rank above unrelated ones.
const SPREAD: f64 = 0.1;

/// A name one file references: how often, and the weight of the file's edges for it
/// before per-request adjustments.
#[derive(Debug, Clone, Copy)]
struct NameRef {
    name: u32,
    count: u32,
    weight: f64,
}

/// The reference graph of the whole index, patched file by file after changes.
///
/// Node ids are stable: a new file gets a new node at the end, a removed file leaves
/// a dead node (no edges, no seed) until dead nodes pile up and the graph is rebuilt.
/// Name ids are dense and never reused, so per-name tables are plain vectors.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    /// Node i is the file at `files[i]`; its entry is gone when `alive[i]` is false.
    pub files: Vec<PathBuf>,
    pub alive: Vec<bool>,
    pub file_ids: HashMap<PathBuf, usize>,
    pub names: Vec<String>,
    pub name_ids: HashMap<String, u32>,
    /// Names too short to mean anything on their own, by name id.
    short: Vec<bool>,
    /// Files defining each name, by name id.
    definers: Vec<Vec<usize>>,
    /// Files referencing each name, by name id.
    referencers: Vec<Vec<usize>>,
    /// Name id of each definition of a node, in the order of its `FileTags::defs`.
    def_names: Vec<Vec<u32>>,
    /// Distinct names each node defines, sorted.
    defined: Vec<Vec<u32>>,
    /// Names each node references, sorted by name.
    refs: Vec<Vec<NameRef>>,
    /// Outgoing edges of each node merged per target: (target, summed base weight), by target.
    /// An edge A → B for name N exists when A references N and B (≠ A) defines it.
    /// Weights are summed in f64 and stored as f32: ranking streams every edge once per
    /// iteration, and half the bytes make it markedly faster.
    adjacency: Vec<Vec<Edge>>,
    /// Edges of each node that carry rank (short names carry none), counted per
    /// (name, target) before merging, for the statistics.
    edges: Vec<usize>,
    dead: usize,
}

/// A merged outgoing edge: target node and weight.
type Edge = (u32, f32);

/// What a map request boosts.
#[derive(Debug, Default)]
pub(crate) struct Personalization {
    pub files: HashSet<usize>,
    pub names: HashSet<u32>,
}

/// The outcome of ranking for one request.
pub(crate) struct Ranking {
    /// Rank of each node.
    pub rank: Vec<f64>,
    /// Sum of each node's outgoing edge weights, backward ones included, for this request.
    out_sum: Vec<f64>,
    /// Rank sent along edges for each name, by name id, from all referencing files.
    name_flow: Vec<f64>,
    /// Mentioned names, sorted.
    mentioned: Vec<u32>,
}

impl Graph {
    pub fn build(files: &BTreeMap<PathBuf, FileEntry>) -> Graph {
        let mut g = Graph::default();
        for (path, entry) in files {
            let node = g.node(path);
            g.attach(node, entry);
        }
        for node in 0..g.files.len() {
            g.refresh(node);
        }
        g
    }

    /// Brings the graph up to date after `changed` paths were re-indexed (present in
    /// `files`) or dropped (absent). Besides the changed files, only files referencing a
    /// name that gained or lost a definer or referencer have their edges recomputed:
    /// an edit that keeps a file's names (the usual case) touches that file alone.
    pub fn patch(&mut self, files: &BTreeMap<PathBuf, FileEntry>, changed: &[PathBuf]) {
        let mut affected: HashSet<u32> = HashSet::new();
        let mut dirty: HashSet<usize> = HashSet::new();
        for path in changed {
            let entry = files.get(path);
            let node = match self.file_ids.get(path) {
                Some(&n) => n,
                None if entry.is_some() => self.node(path),
                None => continue,
            };
            let (old_defined, old_refs) = self.detach(node);
            if let Some(e) = entry {
                self.attach(node, e);
            } else if self.alive[node] {
                self.alive[node] = false;
                self.dead += 1;
            }
            let new_refs: Vec<u32> = self.refs[node].iter().map(|r| r.name).collect();
            affected.extend(symmetric_difference(&old_defined, &self.defined[node]));
            affected.extend(symmetric_difference(&old_refs, &new_refs));
            dirty.insert(node);
        }
        // Edge targets and weights depend on which files define and reference a name.
        for &id in &affected {
            dirty.extend(self.referencers[id as usize].iter().copied());
        }
        for n in dirty {
            self.refresh(n);
        }
    }

    /// Dead nodes slow ranking down; past this share a rebuild is cheaper.
    pub(crate) fn needs_rebuild(&self) -> bool {
        self.dead * 4 > self.files.len()
    }

    /// Files defining the name `id`.
    pub(crate) fn definers(&self, id: u32) -> &[usize] {
        self.definers.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// Name ids of a node's definitions, in the order of its `FileTags::defs`.
    pub(crate) fn def_names(&self, node: usize) -> &[u32] {
        &self.def_names[node]
    }

    fn node(&mut self, path: &Path) -> usize {
        if let Some(&n) = self.file_ids.get(path) {
            return n;
        }
        let n = self.files.len();
        self.files.push(path.to_path_buf());
        self.alive.push(false);
        self.dead += 1;
        self.file_ids.insert(path.to_path_buf(), n);
        self.def_names.push(Vec::new());
        self.defined.push(Vec::new());
        self.refs.push(Vec::new());
        self.adjacency.push(Vec::new());
        self.edges.push(0);
        n
    }

    /// Records a file's definitions and references; `refresh` then computes its edges.
    fn attach(&mut self, node: usize, entry: &FileEntry) {
        if !self.alive[node] {
            self.alive[node] = true;
            self.dead -= 1;
        }
        let def_names: Vec<u32> = entry.tags.defs.iter().map(|d| self.intern(&d.name)).collect();
        let mut defined = def_names.clone();
        defined.sort_unstable();
        defined.dedup();
        let local: Vec<u32> = entry.tags.ref_names.iter().map(|n| self.intern(n)).collect();
        let mut ids: Vec<u32> = entry.tags.refs.iter().filter_map(|r| local.get(r.name as usize).copied()).collect();
        ids.sort_unstable();
        let mut refs: Vec<NameRef> = Vec::new();
        for name in ids {
            match refs.last_mut() {
                Some(last) if last.name == name => last.count += 1,
                _ => refs.push(NameRef { name, count: 1, weight: 0.0 }),
            }
        }
        for &id in &defined {
            self.definers[id as usize].push(node);
        }
        for r in &refs {
            self.referencers[r.name as usize].push(node);
        }
        self.def_names[node] = def_names;
        self.defined[node] = defined;
        self.refs[node] = refs;
    }

    /// Removes a file's definitions and references; returns the names it defined and referenced.
    fn detach(&mut self, node: usize) -> (Vec<u32>, Vec<u32>) {
        let defined = std::mem::take(&mut self.defined[node]);
        let refs: Vec<u32> = std::mem::take(&mut self.refs[node]).into_iter().map(|r| r.name).collect();
        self.def_names[node].clear();
        self.adjacency[node].clear();
        self.edges[node] = 0;
        for &id in &defined {
            self.definers[id as usize].retain(|&n| n != node);
        }
        for &id in &refs {
            self.referencers[id as usize].retain(|&n| n != node);
        }
        (defined, refs)
    }

    /// Recomputes a node's reference weights and merged outgoing edges.
    fn refresh(&mut self, from: usize) {
        let mut refs = std::mem::take(&mut self.refs[from]);
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for r in &mut refs {
            let defs = &self.definers[r.name as usize];
            let referencing = self.referencers[r.name as usize].len().max(1);
            // A name defined in many places says little about which one is meant.
            let mut weight = f64::from(r.count).sqrt() / (defs.len().max(1) as f64).sqrt();
            if referencing > COMMON_REF_FILES {
                weight *= (COMMON_REF_FILES as f64 / referencing as f64).sqrt();
            }
            r.weight = weight;
            if self.short[r.name as usize] {
                continue;
            }
            edges.extend(defs.iter().filter(|&&to| to != from).map(|&to| (to as u32, r.name, weight)));
        }
        self.refs[from] = refs;
        self.edges[from] = edges.len();
        self.adjacency[from] = merge_edges(edges);
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.short.push(name.chars().count() < MIN_NAME_LEN);
        self.definers.push(Vec::new());
        self.referencers.push(Vec::new());
        self.name_ids.insert(name.to_string(), id);
        id
    }

    /// Edges that carry rank, counted per (file, name, target).
    pub(crate) fn edge_count(&self) -> usize {
        self.edges.iter().sum()
    }

    /// A node's weight for a name it references, after per-request adjustments:
    /// mentioned names count `MENTION_BOOST` times, other short names not at all.
    fn effective(&self, r: &NameRef, mentioned: &[u32]) -> f64 {
        if mentioned.binary_search(&r.name).is_ok() {
            r.weight * MENTION_BOOST
        } else if self.short[r.name as usize] {
            0.0
        } else {
            r.weight
        }
    }

    /// A node's outgoing edges for one request: the precomputed ones, with mentioned names reweighted.
    fn edges_for(&self, from: usize, mentioned: &[u32]) -> Option<Vec<Edge>> {
        let mut extra: Vec<(u32, u32, f64)> = Vec::new();
        for &m in mentioned {
            let Ok(i) = self.refs[from].binary_search_by_key(&m, |r| r.name) else { continue };
            let r = &self.refs[from][i];
            let base = if self.short[m as usize] { 0.0 } else { r.weight };
            let delta = r.weight * MENTION_BOOST - base;
            let defs = self.definers[m as usize].iter().filter(|&&to| to != from);
            extra.extend(defs.map(|&to| (to as u32, m, delta)));
        }
        if extra.is_empty() {
            return None;
        }
        extra.extend(self.adjacency[from].iter().map(|&(to, w)| (to, u32::MAX, f64::from(w))));
        Some(merge_edges(extra))
    }

    /// Personalized PageRank, plus what the map needs to share a file's rank among its
    /// definitions: how much rank flowed to it through each name (`Graph::inflow`).
    pub(crate) fn rank(&self, p: &Personalization) -> Ranking {
        let n = self.files.len();
        let mut mentioned: Vec<u32> = p.names.iter().copied().collect();
        mentioned.sort_unstable();
        let mut ranking = Ranking { rank: Vec::new(), out_sum: vec![0.0; n], name_flow: Vec::new(), mentioned };
        if n == 0 {
            return ranking;
        }
        let mut seed = vec![0.0; n];
        for &f in &p.files {
            if f < n && self.alive[f] {
                seed[f] = 1.0;
            }
        }
        let total: f64 = seed.iter().sum();
        let alive = self.alive.iter().filter(|&&a| a).count().max(1) as f64;
        let spread = if total == 0.0 { 1.0 } else { SPREAD };
        for (s, &a) in seed.iter_mut().zip(&self.alive) {
            let seeded = if total == 0.0 { 0.0 } else { *s / total };
            *s = (1.0 - spread) * seeded + if a { spread / alive } else { 0.0 };
        }
        // Forward edges with this request's weights. Each is also followed backwards at
        // `BACKWARD` of its weight, so a node's outgoing total is its forward sum plus
        // that share of what points at it, and one pass over the forward edges moves
        // rank both ways.
        let forward: Vec<Option<Vec<Edge>>> = (0..n).map(|a| self.edges_for(a, &ranking.mentioned)).collect();
        let row = |a: usize| forward[a].as_deref().unwrap_or(&self.adjacency[a]);
        let mut in_sum = vec![0.0; n];
        for a in 0..n {
            for &(to, w) in row(a) {
                in_sum[to as usize] += f64::from(w);
            }
        }
        for (a, (out, inward)) in ranking.out_sum.iter_mut().zip(&in_sum).enumerate() {
            *out = row(a).iter().map(|e| f64::from(e.1)).sum::<f64>() + BACKWARD * inward;
        }
        let out_sum = &ranking.out_sum;

        let mut rank = seed.clone();
        let mut next = vec![0.0; n];
        let mut share = vec![0.0; n];
        for _ in 0..MAX_ITERATIONS {
            // Files without outgoing edges hand their rank back to the seed, as in standard PPR.
            let dangling: f64 = (0..n).filter(|&a| out_sum[a] <= 0.0).map(|a| rank[a]).sum();
            for (x, s) in next.iter_mut().zip(&seed) {
                *x = (1.0 - DAMPING) * s + DAMPING * dangling * s;
            }
            for a in 0..n {
                share[a] = if out_sum[a] > 0.0 { DAMPING * rank[a] / out_sum[a] } else { 0.0 };
            }
            for a in 0..n {
                let mut back = 0.0;
                let give = share[a];
                for &(to, w) in row(a) {
                    let w = f64::from(w);
                    next[to as usize] += give * w;
                    back += share[to as usize] * w;
                }
                next[a] += back * BACKWARD;
            }
            let delta: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
            std::mem::swap(&mut rank, &mut next);
            if delta < CONVERGED * n as f64 {
                break;
            }
        }

        // Every referencing file sends the same rank along its edges for a name to each of
        // the name's definers, so one sum per name gives every definer's inflow.
        let mut name_flow = vec![0.0; self.names.len()];
        for (a, refs) in self.refs.iter().enumerate() {
            if out_sum[a] <= 0.0 {
                continue;
            }
            for r in refs {
                name_flow[r.name as usize] += rank[a] * self.effective(r, &ranking.mentioned) / out_sum[a];
            }
        }
        ranking.rank = rank;
        ranking.name_flow = name_flow;
        ranking
    }

    /// Rank that flowed into `file` through references to `name` (from files other than itself).
    pub(crate) fn inflow(&self, ranking: &Ranking, file: usize, name: u32) -> f64 {
        let Some(&total) = ranking.name_flow.get(name as usize) else { return 0.0 };
        let own = match self.refs[file].binary_search_by_key(&name, |r| r.name) {
            Ok(i) if ranking.out_sum[file] > 0.0 => {
                ranking.rank[file] * self.effective(&self.refs[file][i], &ranking.mentioned) / ranking.out_sum[file]
            }
            _ => 0.0,
        };
        (total - own).max(0.0)
    }
}

/// Sorts (target, name, weight) edges and sums the weights per target.
/// The fixed order keeps floating-point sums reproducible.
fn merge_edges(mut edges: Vec<(u32, u32, f64)>) -> Vec<Edge> {
    edges.sort_unstable_by_key(|e| (e.0, e.1));
    let mut out: Vec<(u32, f64)> = Vec::new();
    for (to, _, w) in edges {
        match out.last_mut() {
            Some(last) if last.0 == to => last.1 += w,
            _ => out.push((to, w)),
        }
    }
    out.into_iter().map(|(to, w)| (to, w as f32)).collect()
}

/// Elements in exactly one of two sorted, deduplicated slices.
fn symmetric_difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => (i, j) = (i + 1, j + 1),
            (Some(x), Some(y)) if x < y => {
                out.push(*x);
                i += 1;
            }
            (Some(x), None) => {
                out.push(*x);
                i += 1;
            }
            (_, Some(y)) => {
                out.push(*y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Def, DefKind, FileTags, Lang, Ref};

    fn entry(defs: &[&str], refs: &[&str]) -> FileEntry {
        let def = |(i, n): (usize, &&str)| Def {
            name: n.to_string(),
            kind: DefKind::Function,
            line: i as u32 + 1,
            end_line: i as u32 + 1,
            signature: format!("fn {n}()"),
            scopes: vec![],
        };
        let mut ref_names: Vec<String> = refs.iter().map(|n| n.to_string()).collect();
        ref_names.sort();
        ref_names.dedup();
        let r = |(i, n): (usize, &&str)| Ref {
            name: ref_names.iter().position(|x| x == n).expect("listed") as u32,
            line: i as u32 + 1,
        };
        let refs = refs.iter().enumerate().map(r).collect();
        let tags = FileTags {
            lang: Lang::Rust,
            defs: defs.iter().enumerate().map(def).collect(),
            ref_names,
            refs,
            scope_lines: BTreeMap::new(),
            lines: 10,
            partial: false,
        };
        FileEntry { size: 0, mtime_ns: 0, hash: [0; 32], tags }
    }

    /// Edges by path, so graphs with different node numbering compare.
    fn edges(g: &Graph) -> BTreeMap<(PathBuf, PathBuf), String> {
        let mut out = BTreeMap::new();
        for (from, adj) in g.adjacency.iter().enumerate().filter(|&(n, _)| g.alive[n]) {
            for &(to, w) in adj {
                out.insert((g.files[from].clone(), g.files[to as usize].clone()), format!("{w:.9}"));
            }
        }
        out
    }

    fn ranks(g: &Graph, p: &Personalization) -> BTreeMap<PathBuf, String> {
        let r = g.rank(p);
        g.files
            .iter()
            .enumerate()
            .filter(|&(n, _)| g.alive[n])
            .map(|(n, f)| (f.clone(), format!("{:.9}", r.rank[n])))
            .collect()
    }

    #[test]
    fn patching_matches_a_rebuild() {
        let mut files: BTreeMap<PathBuf, FileEntry> = BTreeMap::new();
        files.insert("a.rs".into(), entry(&["parse", "Config"], &["render", "helper", "Config"]));
        files.insert("b.rs".into(), entry(&["render"], &["parse", "parse", "helper"]));
        files.insert("c.rs".into(), entry(&["helper", "render"], &["Config"]));
        for i in 0..12 {
            // Enough referencers of `helper` to make it common vocabulary.
            files.insert(format!("u{i}.rs").into(), entry(&[], &["helper", "parse"]));
        }
        let mut g = Graph::build(&files);
        let steps: Vec<(&str, Option<FileEntry>)> = vec![
            // Same names, different counts: only the file itself changes.
            ("b.rs", Some(entry(&["render"], &["parse", "helper"]))),
            // A new definer of `parse` changes every referencer's edges.
            ("d.rs", Some(entry(&["parse"], &["render"]))),
            // A file stops referencing `helper`, which changes its weight for everyone.
            ("u0.rs", Some(entry(&[], &["parse"]))),
            ("c.rs", None),
            ("a.rs", Some(entry(&["parse", "Config", "helper"], &["render"]))),
        ];
        let p = Personalization { files: [0].into(), names: HashSet::new() };
        for (path, new) in steps {
            match new {
                Some(e) => files.insert(path.into(), e),
                None => files.remove(Path::new(path)),
            };
            g.patch(&files, &[PathBuf::from(path)]);
            let fresh = Graph::build(&files);
            assert_eq!(edges(&g), edges(&fresh), "after changing {path}");
            assert_eq!(g.edge_count(), fresh.edge_count(), "after changing {path}");
            // Seeds differ in node numbering, so compare unpersonalized ranks.
            let none = Personalization::default();
            assert_eq!(ranks(&g, &none), ranks(&fresh, &none), "after changing {path}");
        }
        assert!(!ranks(&g, &p).is_empty());
    }

    #[test]
    fn inflow_is_the_rank_sent_by_other_files() {
        let mut files: BTreeMap<PathBuf, FileEntry> = BTreeMap::new();
        files.insert("a.rs".into(), entry(&["parse"], &["render", "parse"]));
        files.insert("b.rs".into(), entry(&["render", "parse"], &["parse"]));
        files.insert("c.rs".into(), entry(&[], &["render", "render"]));
        let g = Graph::build(&files);
        let p = Personalization { files: [2].into(), names: [g.name_ids["render"]].into() };
        let r = g.rank(&p);
        // Brute force over the edges: rank[a] * w(a, name) / out_sum[a] for each a → b edge.
        for (file, name) in [(1, "render"), (1, "parse"), (0, "parse")] {
            let id = g.name_ids[name];
            let mut want = 0.0;
            for (a, refs) in g.refs.iter().enumerate() {
                let Some(nr) = refs.iter().find(|r| r.name == id) else { continue };
                if a != file && g.definers(id).contains(&file) && r.out_sum[a] > 0.0 {
                    want += r.rank[a] * g.effective(nr, &r.mentioned) / r.out_sum[a];
                }
            }
            let got = g.inflow(&r, file, id);
            assert!((got - want).abs() < 1e-12, "{name} into {file}: {got} vs {want}");
            assert!(want > 0.0, "{name} into {file} should receive rank");
        }
    }
}
