//! Figures about the session: what the model's tokens cost, how fast and
//! reliable the model and tools are, the budgets, and tandem's own CPU and
//! memory. Plain data and arithmetic; the app feeds it events.

pub mod budget;
pub mod process;
pub mod session;
pub mod stats;

pub use session::SessionMetrics;

use crate::llm::Usage;
use crate::llm::select::Prices;

/// The cost in US dollars of `usage` at `prices` (per million tokens), or
/// `None` when a price needed for it is unknown: an unknown price is never
/// shown as $0.
///
/// Providers count cached input differently: OpenAI's input count includes
/// the tokens read from its cache, Anthropic's excludes both cache reads and
/// writes.
pub fn cost(usage: &Usage, prices: &Prices, kind: &str) -> Option<f64> {
    let per = |tokens: u64, price: Option<f64>| -> Option<f64> {
        if tokens == 0 { Some(0.0) } else { price.map(|p| tokens as f64 * p / 1_000_000.0) }
    };
    let uncached_input = if kind == "anthropic" {
        usage.input_tokens
    } else {
        usage.input_tokens.saturating_sub(usage.cache_read_tokens)
    };
    // A provider without a cache-read price bills cached tokens as input.
    let cache_read_price = prices.cache_read.or(prices.input);
    Some(
        per(uncached_input, prices.input)?
            + per(usage.cache_read_tokens, cache_read_price)?
            + per(usage.cache_write_tokens, prices.cache_write)?
            + per(usage.output_tokens, prices.output)?,
    )
}

/// `$0.0123` with enough digits to see small sums, or `unknown`.
pub fn format_cost(cost: Option<f64>) -> String {
    match cost {
        None => "unknown".into(),
        Some(c) if c < 0.01 => format!("${c:.4}"),
        Some(c) => format!("${c:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(i: u64, o: u64, cr: u64, cw: u64) -> Usage {
        Usage { input_tokens: i, output_tokens: o, cache_read_tokens: cr, cache_write_tokens: cw }
    }

    #[test]
    fn openai_cached_tokens_are_part_of_input() {
        let p = Prices { input: Some(2.0), output: Some(8.0), cache_read: Some(0.5), cache_write: None };
        let c = cost(&usage(1_000_000, 100_000, 400_000, 0), &p, "openai").expect("known");
        assert!((c - (0.6 * 2.0 + 0.4 * 0.5 + 0.1 * 8.0)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn anthropic_cache_reads_and_writes_are_separate() {
        let p = Prices { input: Some(3.0), output: Some(15.0), cache_read: Some(0.3), cache_write: Some(3.75) };
        let c = cost(&usage(1_000_000, 0, 1_000_000, 1_000_000), &p, "anthropic").expect("known");
        assert!((c - (3.0 + 0.3 + 3.75)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn a_missing_price_is_unknown_not_zero() {
        let p = Prices { input: Some(1.0), output: None, cache_read: None, cache_write: None };
        assert_eq!(cost(&usage(10, 5, 0, 0), &p, "openai"), None);
        assert_eq!(format_cost(None), "unknown");
        // No tokens of the unpriced kind: the cost is known.
        assert_eq!(cost(&usage(1_000_000, 0, 0, 0), &p, "openai"), Some(1.0));
        // Cached reads fall back to the input price.
        assert_eq!(cost(&usage(1_000_000, 0, 500_000, 0), &p, "openai"), Some(1.0));
        assert_eq!(format_cost(Some(0.00123)), "$0.0012");
        assert_eq!(format_cost(Some(1.5)), "$1.50");
    }

    #[test]
    fn cache_prices_and_their_absence() {
        // Anthropic without a cache-write price: writes make the cost unknown.
        let p = Prices { input: Some(3.0), output: Some(15.0), cache_read: Some(0.3), cache_write: None };
        assert_eq!(cost(&usage(1000, 100, 5000, 2000), &p, "anthropic"), None);
        let c = cost(&usage(1000, 100, 5000, 0), &p, "anthropic").expect("known");
        assert!((c - (1000.0 * 3.0 + 100.0 * 15.0 + 5000.0 * 0.3) / 1e6).abs() < 1e-12, "{c}");
        // Unpriced model: any token is unknown, none is free.
        assert_eq!(cost(&usage(1, 0, 0, 0), &Prices::default(), "openai"), None);
        assert_eq!(cost(&usage(0, 0, 0, 0), &Prices::default(), "openai"), Some(0.0));
    }
}
