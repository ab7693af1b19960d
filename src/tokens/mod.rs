//! Token counts with OpenAI's o200k_base encoding (the GPT-4o family), used to fit
//! the repository map to its budget.
//!
//! This is the same byte-pair encoding tiktoken-rs implements, and the tests hold it
//! to tiktoken-rs token for token. It is written here because tiktoken-rs builds
//! its vocabulary at run time: ~0.2 s of CPU and ~50 MB, paid by the first map of
//! every session, and more than a small repository's whole index costs. Here
//! `build.rs` lays the vocabulary out as flat tables compiled into the binary, so a
//! count needs only the pre-tokenizing regex (a few ms to compile, once).

mod hash;

use std::sync::LazyLock;

use regex::Regex;

use hash::vocab_hash;

/// Token bytes of every rank, back to back.
static BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_bytes.bin"));
/// Little-endian u32 offsets into `BYTES`: rank r is `BYTES[off[r]..off[r + 1]]`.
static OFFSETS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_offsets.bin"));
/// Open-addressing table of little-endian u32 slots holding rank + 1 (0 = empty),
/// placed by `vocab_hash` with linear probing.
static TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_table.bin"));

/// o200k_base's pre-tokenizer pattern, as tiktoken-rs has it, with one change: its
/// `\s+(?!\S)|\s+` tail becomes `\s+`, because the regex crate has no look-ahead.
/// `count` restores the look-ahead's effect (see `pieces`).
const PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"\p{N}{1,3}",
    "|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    "|",
    r"\s*[\r\n]+",
    "|",
    r"\s+",
);

static PIECES: LazyLock<Regex> = LazyLock::new(|| Regex::new(PATTERN).expect("the o200k pattern compiles"));

/// Tokens in `text` under o200k_base, special tokens read as plain text
/// (tiktoken's `encode_ordinary(text).len()`).
pub fn count(text: &str) -> usize {
    pieces(text).map(|piece| count_piece(piece.as_bytes())).sum()
}

/// The pre-tokenizer's pieces of `text`, as tiktoken's regex splits it.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let m = PIECES.find_at(text, at)?;
        let mut end = m.end();
        let piece = m.as_str();
        // A whitespace-only match not ending a line comes from the last alternative,
        // which took the whole run. tiktoken's `\s+(?!\S)` would stop one character
        // short of a following non-space, leaving it to lead the next piece (" foo"),
        // unless the run is a single character (then its `\s+` takes it).
        if end < text.len() && !piece.ends_with(['\r', '\n']) && piece.chars().all(char::is_whitespace) {
            let last = piece.chars().next_back().map_or(0, char::len_utf8);
            if piece.len() > last {
                end -= last;
            }
        }
        at = end;
        Some(&text[m.start()..end])
    })
}

fn word(table: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([table[4 * i], table[4 * i + 1], table[4 * i + 2], table[4 * i + 3]])
}

fn token(rank: u32) -> &'static [u8] {
    let r = rank as usize;
    &BYTES[word(OFFSETS, r) as usize..word(OFFSETS, r + 1) as usize]
}

/// The rank of the token spelled `bytes`, if the vocabulary has one.
fn rank(bytes: &[u8]) -> Option<u32> {
    let mask = TABLE.len() / 4 - 1;
    let mut slot = vocab_hash(bytes) as usize & mask;
    loop {
        let entry = word(TABLE, slot);
        if entry == 0 {
            return None;
        }
        if token(entry - 1) == bytes {
            return Some(entry - 1);
        }
        slot = (slot + 1) & mask;
    }
}

/// Tokens of one piece: one if the vocabulary has it whole, otherwise what byte-pair
/// merging leaves: starting from single bytes, the adjacent pair whose concatenation
/// has the lowest rank merges first (the leftmost on ties), until no pair is a token.
fn count_piece(piece: &[u8]) -> usize {
    if piece.is_empty() {
        return 0;
    }
    if rank(piece).is_some() {
        return 1;
    }
    // Part i spans bounds[i]..bounds[i + 1]; ranks[i] is the rank of parts i and i + 1 merged.
    let mut bounds: Vec<usize> = (0..=piece.len()).collect();
    let pair = |bounds: &[usize], i: usize| match bounds.get(i + 2) {
        Some(&end) => rank(&piece[bounds[i]..end]).unwrap_or(u32::MAX),
        None => u32::MAX,
    };
    let mut ranks: Vec<u32> = (0..piece.len()).map(|i| pair(&bounds, i)).collect();
    // The leftmost of the lowest-ranked mergeable pairs.
    let lowest = |ranks: &[u32]| {
        let (i, r) = ranks.iter().copied().enumerate().min_by_key(|&(i, r)| (r, i))?;
        (r != u32::MAX).then_some(i)
    };
    while let Some(i) = lowest(&ranks) {
        bounds.remove(i + 1);
        ranks.remove(i + 1);
        ranks[i] = pair(&bounds, i);
        if i > 0 {
            ranks[i - 1] = pair(&bounds, i - 1);
        }
    }
    bounds.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    static REFERENCE: LazyLock<tiktoken_rs::CoreBPE> = LazyLock::new(|| tiktoken_rs::o200k_base().expect("o200k_base"));

    /// Number of ordinary tokens in the tables.
    fn vocabulary_size() -> usize {
        OFFSETS.len() / 4 - 1
    }

    fn reference(text: &str) -> usize {
        REFERENCE.encode_ordinary(text).len()
    }

    #[test]
    fn the_pattern_is_tiktokens_without_the_look_ahead() {
        assert_eq!(tiktoken_rs::O200K_BASE_PAT_STR.replace(r"|\s+(?!\S)", ""), PATTERN);
    }

    #[test]
    fn every_token_is_found_at_its_rank() {
        assert_eq!(vocabulary_size(), 199_998);
        for r in 0..vocabulary_size() as u32 {
            assert_eq!(rank(token(r)), Some(r), "rank {r}");
            assert_eq!(REFERENCE.decode_bytes(&[r]).expect("ordinary rank"), token(r), "rank {r}");
        }
        assert_eq!(rank(b"\xff\xfe not a token at all \x00"), None);
    }

    const TRICKY: &[&str] = &[
        "",
        " ",
        "  ",
        "a  b",
        "a   b",
        "a \tb",
        "trailing   ",
        "x\u{a0}\u{a0}y",
        "\u{3000}\u{3000}字",
        "line\r\n\r\n  next",
        "\n\n\n",
        "  \n  x",
        "I'M here, don't 'S 'll 'Re you'VE",
        "HTTPServer parseJSON XMLHttpRequest",
        "1234567890 3.14159 0x1F_u32",
        "naïve café résumé Ǆungla ǅ",
        "e\u{301}\u{301}\u{301}",
        "日本語のテキスト、中文文本。한국어",
        "emoji 🚀🔥👩‍👩‍👧 flags 🇫🇷",
        "----------==========//////////",
        "fn main() -> Result<(), Box<dyn std::error::Error>> {",
        "    pub fn new(cfg: &Config) -> Self {\n",
        "<|endoftext|> stays text",
        "\t\t\tif (x) {\r\n\t\t\t\treturn;\r\n\t\t\t}",
    ];

    #[test]
    fn tricky_text_counts_as_tiktoken_counts_it() {
        for text in TRICKY {
            assert_eq!(count(text), reference(text), "{text:?}");
        }
    }

    /// Every line and every whole file of this crate's sources and docs.
    #[test]
    fn this_repositorys_text_counts_as_tiktoken_counts_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for entry in ignore::Walk::new(root).flatten() {
            let path = entry.path();
            let wanted = matches!(path.extension().and_then(|e| e.to_str()), Some("rs" | "md" | "toml" | "scm" | "py"));
            let Ok(text) = std::fs::read_to_string(path) else { continue };
            if !wanted {
                continue;
            }
            assert_eq!(count(&text), reference(&text), "{}", path.display());
            for line in text.split_inclusive('\n') {
                assert_eq!(count(line), reference(line), "{}: {line:?}", path.display());
            }
            checked += 1;
        }
        assert!(checked > 50, "only {checked} files");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn random_text_counts_as_tiktoken_counts_it(
            text in proptest::collection::vec(
                prop_oneof![
                    Just(" "), Just("  "), Just("\t"), Just("\n"), Just("\r\n"), Just("\u{a0}"), Just("\u{3000}"),
                    Just("a"), Just("Z"), Just("é"), Just("\u{301}"), Just("ǅ"), Just("ß"), Just("字"), Just("🚀"),
                    Just("'s"), Just("'T"), Just("'ll"), Just("1"), Just("42"), Just("٣"), Just("."), Just("/"),
                    Just("::"), Just("->"), Just("{"), Just("\""), Just("_"), Just("ab"), Just("Cd"), Just("\u{200d}"),
                    any::<char>().prop_map(|c| Box::leak(c.to_string().into_boxed_str()) as &str),
                ],
                0..40,
            )
        ) {
            let text = text.concat();
            prop_assert_eq!(count(&text), reference(&text), "{:?}", text);
        }
    }
}
