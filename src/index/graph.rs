//! The file reference graph and personalized PageRank over it.
//!
//! An edge A → B exists when A references a name B defines. Ranking follows
//! Aider's repo map: files the conversation is about seed the walk, and rank
//! flows along references towards the files whose definitions they use.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use super::cache::FileEntry;

const DAMPING: f64 = 0.85;
const MAX_ITERATIONS: usize = 100;
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

/// The reference graph of the whole index; rebuilt after every change.
#[derive(Debug, Default)]
pub struct Graph {
    /// Node i is `files[i]`, in path order.
    pub files: Vec<PathBuf>,
    pub file_ids: HashMap<PathBuf, usize>,
    pub names: Vec<String>,
    pub name_ids: HashMap<String, u32>,
    /// Files defining each name.
    pub definers: HashMap<u32, Vec<usize>>,
    /// Files referencing each name.
    pub referencers: HashMap<u32, Vec<usize>>,
    /// Outgoing edges per file.
    pub edges: Vec<Vec<Edge>>,
}

/// What a map request boosts.
#[derive(Debug, Default)]
pub struct Personalization {
    pub files: HashSet<usize>,
    pub names: HashSet<u32>,
}

impl Graph {
    pub fn build(files: &BTreeMap<PathBuf, FileEntry>) -> Graph {
        let mut g = Graph { files: files.keys().cloned().collect(), ..Graph::default() };
        g.file_ids = g.files.iter().enumerate().map(|(i, p)| (p.clone(), i)).collect();
        let mut ref_counts: Vec<HashMap<u32, u32>> = Vec::with_capacity(files.len());
        for (i, entry) in files.values().enumerate() {
            let mut defined = HashSet::new();
            for d in &entry.tags.defs {
                let id = g.intern(&d.name);
                if defined.insert(id) {
                    g.definers.entry(id).or_default().push(i);
                }
            }
            let mut counts: HashMap<u32, u32> = HashMap::new();
            for r in &entry.tags.refs {
                *counts.entry(g.intern(&r.name)).or_default() += 1;
            }
            for &id in counts.keys() {
                g.referencers.entry(id).or_default().push(i);
            }
            ref_counts.push(counts);
        }
        g.edges = ref_counts
            .iter()
            .enumerate()
            .map(|(from, counts)| {
                let mut out = Vec::new();
                for (&name, &count) in counts {
                    let Some(defs) = g.definers.get(&name) else { continue };
                    let referencing = g.referencers.get(&name).map_or(1, Vec::len);
                    // A name defined in many places says little about which one is meant.
                    let mut weight = f64::from(count).sqrt() / (defs.len() as f64).sqrt();
                    if referencing > COMMON_REF_FILES {
                        weight *= (COMMON_REF_FILES as f64 / referencing as f64).sqrt();
                    }
                    out.extend(defs.iter().filter(|&&to| to != from).map(|&to| Edge { to, name, weight }));
                }
                // HashMap order is random; fixed order keeps floating-point sums reproducible.
                out.sort_by_key(|e| (e.to, e.name));
                out
            })
            .collect();
        g
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.name_ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.name_ids.insert(name.to_string(), id);
        id
    }

    pub fn edge_count(&self) -> usize {
        self.edges.iter().map(Vec::len).sum()
    }

    fn effective_weight(&self, e: &Edge, p: &Personalization) -> f64 {
        if p.names.contains(&e.name) {
            e.weight * MENTION_BOOST
        } else if self.names[e.name as usize].chars().count() < MIN_NAME_LEN {
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
            if f < n {
                seed[f] = 1.0;
            }
        }
        let total: f64 = seed.iter().sum();
        if total == 0.0 {
            seed.iter_mut().for_each(|s| *s = 1.0 / n as f64);
        } else {
            seed.iter_mut().for_each(|s| *s /= total);
        }
        let weights: Vec<Vec<f64>> =
            self.edges.iter().map(|es| es.iter().map(|e| self.effective_weight(e, p)).collect()).collect();
        let out_sum: Vec<f64> = weights.iter().map(|w| w.iter().sum()).collect();

        let mut rank = seed.clone();
        for _ in 0..MAX_ITERATIONS {
            let mut next: Vec<f64> = seed.iter().map(|s| (1.0 - DAMPING) * s).collect();
            // Files without outgoing edges hand their rank back to the seed, as in standard PPR.
            let dangling: f64 = (0..n).filter(|&a| out_sum[a] <= 0.0).map(|a| rank[a]).sum();
            for a in 0..n {
                if out_sum[a] <= 0.0 {
                    continue;
                }
                let share = DAMPING * rank[a] / out_sum[a];
                for (e, w) in self.edges[a].iter().zip(&weights[a]) {
                    next[e.to] += share * w;
                }
            }
            for (x, s) in next.iter_mut().zip(&seed) {
                *x += DAMPING * dangling * s;
            }
            let delta: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
            rank = next;
            if delta < CONVERGED {
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
