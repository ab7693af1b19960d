//! Lays out the o200k_base vocabulary as three flat tables in OUT_DIR, which
//! `src/tokens` embeds and reads in place: the token bytes by rank, their offsets,
//! and an open-addressing hash table from bytes to rank. Building tiktoken-rs's
//! own tables takes ~0.2 s of CPU and ~50 MB at run time; these take nothing.

use std::path::PathBuf;

include!("src/tokens/hash.rs");

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/tokens/hash.rs");
    let bpe = tiktoken_rs::o200k_base().expect("tiktoken-rs ships o200k_base");

    // Ordinary tokens have ranks 0..n without gaps (n = 199998); the special tokens
    // (`<|endoftext|>` at 199999, ...) come after the first missing rank.
    let mut bytes: Vec<u8> = Vec::new();
    let mut offsets: Vec<u32> = vec![0];
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    while let Ok(token) = bpe.decode_bytes(&[tokens.len() as u32]) {
        bytes.extend_from_slice(&token);
        offsets.push(u32::try_from(bytes.len()).expect("vocabulary under 4 GB"));
        tokens.push(token);
    }
    assert!(tokens.len() > 100_000, "o200k_base has ~200k ordinary tokens, found {}", tokens.len());

    let slots = (tokens.len() * 2).next_power_of_two();
    let mut table = vec![0u32; slots];
    for (rank, token) in tokens.iter().enumerate() {
        let mut slot = vocab_hash(token) as usize & (slots - 1);
        while table[slot] != 0 {
            slot = (slot + 1) & (slots - 1);
        }
        table[slot] = rank as u32 + 1;
    }

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let words = |v: &[u32]| v.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::write(out.join("o200k_bytes.bin"), &bytes).expect("write o200k_bytes.bin");
    std::fs::write(out.join("o200k_offsets.bin"), words(&offsets)).expect("write o200k_offsets.bin");
    std::fs::write(out.join("o200k_table.bin"), words(&table)).expect("write o200k_table.bin");
}
