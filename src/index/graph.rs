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
const MIN_NAME_LEN: usize = 3;
/// Multiplier for edges and definitions whose name the user mentioned.
pub const MENTION_BOOST: f64 = 10.0;
/// A name referenced from more files than this is treated as vocabulary (`new`, `fmt`), not a specific link.
const COMMON_REF_FILES: usize = 8;

#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub to: usize,
    pub name: u32,
    /// Weight before per-request adjustments (mentions, short names).
    pub weight: f64,
}

/// The reference graph of the whole index, patched file by file after changes.
///
/// Node ids are stable: a new file gets a new node at the end, a removed file leaves
/// a dead node (no edges, no seed) until dead nodes pile up and the graph is rebuilt.
#[derive(Debug, Default)]
pub struct Graph {
    /// Node i is the file at `files[i]`; its entry is gone when `alive[i]` is false.
    pub files: Vec<PathBuf>,
    pub alive: Vec<bool>,
    pub file_ids: HashMap<PathBuf, usize>,
    pub names: Vec<String>,
    pub name_ids: HashMap<String, u32>,
    /// Names too short to mean anything on their own, by name id.
    short: Vec<bool>,
    /// Files defining each name.
    pub definers: HashMap<u32, Vec<usize>>,
    /// Files referencing each name.
    pub referencers: HashMap<u32, Vec<usize>>,
    /// Distinct names each node defines.
    defined: Vec<Vec<u32>>,
    /// (name, how often) each node references, sorted by name.
    ref_counts: Vec<Vec<(u32, u32)>>,
    /// Outgoing edges per file.
    pub edges: Vec<Vec<Edge>>,
    dead: usize,
}

/// What a map request boosts.
#[derive(Debug, Default)]
pub struct Personalization {
    pub files: HashSet<usize>,
    pub names: HashSet<u32>,
}

impl Graph {
    pub fn build(files: &BTreeMap<PathBuf, FileEntry>) -> Graph {
        let mut g = Graph::default();
        for (path, entry) in files {
            let node = g.node(path);
            g.attach(node, entry);
        }
        g.edges = (0..g.files.len()).map(|n| g.edges_of(n)).collect();
        g
    }

    /// Brings the graph up to date after `changed` paths were re-indexed (present in
    /// `files`) or dropped (absent). Only the changed files and the files referencing a
    /// name whose definers or referencers changed get their edges recomputed.
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
            affected.extend(self.detach(node));
            if let Some(e) = entry {
                affected.extend(self.attach(node, e));
            } else if self.alive[node] {
                self.alive[node] = false;
                self.dead += 1;
            }
            dirty.insert(node);
        }
        // Edge weights depend on how many files define and reference a name.
        for id in &affected {
            dirty.extend(self.referencers.get(id).into_iter().flatten().copied());
        }
        self.edges.resize_with(self.files.len(), Vec::new);
        for n in dirty {
            self.edges[n] = self.edges_of(n);
        }
    }

    /// Dead nodes slow ranking down; past this share a rebuild is cheaper.
    pub fn needs_rebuild(&self) -> bool {
        self.dead * 4 > self.files.len()
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
        self.defined.push(Vec::new());
        self.ref_counts.push(Vec::new());
        n
    }

    /// Adds a file's definitions and references; returns the names involved.
    fn attach(&mut self, node: usize, entry: &FileEntry) -> Vec<u32> {
        if !self.alive[node] {
            self.alive[node] = true;
            self.dead -= 1;
        }
        let mut defined: Vec<u32> = entry.tags.defs.iter().map(|d| self.intern(&d.name)).collect();
        defined.sort_unstable();
        defined.dedup();
        let mut refs: Vec<u32> = entry.tags.refs.iter().map(|r| self.intern(&r.name)).collect();
        refs.sort_unstable();
        let mut counts: Vec<(u32, u32)> = Vec::new();
        for id in refs {
            match counts.last_mut() {
                Some((last, c)) if *last == id => *c += 1,
                _ => counts.push((id, 1)),
            }
        }
        for &id in &defined {
            self.definers.entry(id).or_default().push(node);
        }
        for &(id, _) in &counts {
            self.referencers.entry(id).or_default().push(node);
        }
        let names = defined.iter().copied().chain(counts.iter().map(|c| c.0)).collect();
        self.defined[node] = defined;
        self.ref_counts[node] = counts;
        names
    }

    /// Removes a file's definitions and references; returns the names involved.
    fn detach(&mut self, node: usize) -> Vec<u32> {
        let defined = std::mem::take(&mut self.defined[node]);
        let counts = std::mem::take(&mut self.ref_counts[node]);
        for id in &defined {
            if let Some(v) = self.definers.get_mut(id) {
                v.retain(|&n| n != node);
            }
        }
        for (id, _) in &counts {
            if let Some(v) = self.referencers.get_mut(id) {
                v.retain(|&n| n != node);
            }
        }
        defined.into_iter().chain(counts.into_iter().map(|c| c.0)).collect()
    }

    fn edges_of(&self, from: usize) -> Vec<Edge> {
        let mut out = Vec::new();
        for &(name, count) in &self.ref_counts[from] {
            let Some(defs) = self.definers.get(&name).filter(|d| !d.is_empty()) else { continue };
            let referencing = self.referencers.get(&name).map_or(1, Vec::len);
            // A name defined in many places says little about which one is meant.
            let mut weight = f64::from(count).sqrt() / (defs.len() as f64).sqrt();
            if referencing > COMMON_REF_FILES {
                weight *= (COMMON_REF_FILES as f64 / referencing as f64).sqrt();
            }
            out.extend(defs.iter().filter(|&&to| to != from).map(|&to| Edge { to, name, weight }));
        }
        // Fixed order keeps floating-point sums reproducible.
        out.sort_by_key(|e| (e.to, e.name));
        out
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.short.push(name.chars().count() < MIN_NAME_LEN);
        self.name_ids.insert(name.to_string(), id);
        id
    }

    pub fn edge_count(&self) -> usize {
        self.edges.iter().map(Vec::len).sum()
    }

    fn effective_weight(&self, e: &Edge, p: &Personalization) -> f64 {
        if p.names.contains(&e.name) {
            e.weight * MENTION_BOOST
        } else if self.short[e.name as usize] {
            0.0
        } else {
            e.weight
        }
    }

    /// Personalized PageRank. Returns per-file rank and, per (file, name), the rank that
    /// flowed into that file because of that name — used to rank individual definitions.
    pub fn rank(&self, p: &Personalization) -> (Vec<f64>, HashMap<(usize, u32), f64>) {
        let n = self.files.len();
        if n == 0 {
            return (Vec::new(), HashMap::new());
        }
        let mut seed = vec![0.0; n];
        for &f in &p.files {
            if f < n && self.alive[f] {
                seed[f] = 1.0;
            }
        }
        let total: f64 = seed.iter().sum();
        if total == 0.0 {
            let alive = self.alive.iter().filter(|&&a| a).count().max(1) as f64;
            seed.iter_mut().zip(&self.alive).for_each(|(s, &a)| *s = if a { 1.0 / alive } else { 0.0 });
        } else {
            seed.iter_mut().for_each(|s| *s /= total);
        }
        let weights: Vec<Vec<f64>> =
            self.edges.iter().map(|es| es.iter().map(|e| self.effective_weight(e, p)).collect()).collect();
        let out_sum: Vec<f64> = weights.iter().map(|w| w.iter().sum()).collect();
        // The iteration only needs one weight per (from, to): edges are sorted by target,
        // so parallel edges (one per shared name) merge into one, in a flat array.
        let mut starts = Vec::with_capacity(n + 1);
        let mut flat: Vec<(usize, f64)> = Vec::new();
        for (es, ws) in self.edges.iter().zip(&weights) {
            starts.push(flat.len());
            let first = flat.len();
            for (e, &w) in es.iter().zip(ws) {
                let own = flat.len() > first;
                match flat.last_mut() {
                    Some((to, sum)) if own && *to == e.to => *sum += w,
                    _ => flat.push((e.to, w)),
                }
            }
        }
        starts.push(flat.len());

        let mut rank = seed.clone();
        let mut next = vec![0.0; n];
        for _ in 0..MAX_ITERATIONS {
            // Files without outgoing edges hand their rank back to the seed, as in standard PPR.
            let dangling: f64 = (0..n).filter(|&a| out_sum[a] <= 0.0).map(|a| rank[a]).sum();
            for (x, s) in next.iter_mut().zip(&seed) {
                *x = (1.0 - DAMPING) * s + DAMPING * dangling * s;
            }
            for a in 0..n {
                if out_sum[a] <= 0.0 {
                    continue;
                }
                let share = DAMPING * rank[a] / out_sum[a];
                for &(to, w) in &flat[starts[a]..starts[a + 1]] {
                    next[to] += share * w;
                }
            }
            let delta: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
            std::mem::swap(&mut rank, &mut next);
            if delta < CONVERGED * n as f64 {
                break;
            }
        }

        let mut inflow: HashMap<(usize, u32), f64> = HashMap::new();
        for a in 0..n {
            if out_sum[a] <= 0.0 {
                continue;
            }
            for (e, w) in self.edges[a].iter().zip(&weights[a]) {
                *inflow.entry((e.to, e.name)).or_default() += rank[a] * w / out_sum[a];
            }
        }
        (rank, inflow)
    }
}
