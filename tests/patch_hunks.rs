//! Properties of hunks over random files: they reproduce the proposal byte
//! for byte, any subset applies the same way `select` computes it, and split
//! pieces add up to the hunk they came from.

use proptest::prelude::*;
use tandem::patch::hunks::{apply_hunks, hunks, select, split};

/// A small alphabet of lines so that random files share lines and diffs
/// have context, repeats and nearby changes.
fn lines() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "d", "", "  a", "a  ", "é", "x\ty"]), 0..24)
        .prop_map(|v| v.into_iter().map(String::from).collect())
}

fn join(lines: &[String], crlf: bool, final_newline: bool) -> String {
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if final_newline && !lines.is_empty() {
        text.push_str(eol);
    }
    text
}

/// A base and a proposal in the same line-ending style (as every proposal
/// tandem makes keeps the file's style), each with or without a final
/// newline.
fn pair() -> impl Strategy<Value = (String, String)> {
    (lines(), lines(), any::<bool>(), any::<bool>(), any::<bool>())
        .prop_map(|(a, b, crlf, nl_a, nl_b)| (join(&a, crlf, nl_a), join(&b, crlf, nl_b)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn applying_all_hunks_gives_the_proposal((base, proposed) in pair()) {
        let hs = hunks(&base, &proposed);
        prop_assert_eq!(apply_hunks(&base, &hs).expect("applies"), proposed.clone());
        prop_assert_eq!(select(&base, &hs, &vec![true; hs.len()]), proposed);
    }

    #[test]
    fn any_subset_applies_as_select_says((base, proposed) in pair(), mask in prop::collection::vec(any::<bool>(), 32)) {
        let hs = hunks(&base, &proposed);
        let chosen: Vec<_> = hs.iter().zip(&mask).filter(|(_, ok)| **ok).map(|(h, _)| h.clone()).collect();
        prop_assert_eq!(apply_hunks(&base, &chosen).expect("applies"), select(&base, &hs, &mask));
    }

    #[test]
    fn split_pieces_add_up_to_the_hunk((base, proposed) in pair(), mask in prop::collection::vec(any::<bool>(), 64)) {
        for h in hunks(&base, &proposed) {
            let whole = apply_hunks(&base, std::slice::from_ref(&h)).expect("hunk applies");
            let pieces = split(&h);
            prop_assert_eq!(apply_hunks(&base, &pieces).expect("pieces apply"), whole);
            // Each piece also applies on its own, and any subset agrees with select.
            let chosen: Vec<_> = pieces.iter().zip(&mask).filter(|(_, ok)| **ok).map(|(p, _)| p.clone()).collect();
            prop_assert_eq!(apply_hunks(&base, &chosen).expect("subset applies"), select(&base, &pieces, &mask));
        }
    }
}
