/// FNV-1a over a token's bytes: the slot function of the o200k vocabulary table.
/// `build.rs` fills the table with it and `tokens::rank` probes with it, so both
/// include this one definition.
pub(crate) fn vocab_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
