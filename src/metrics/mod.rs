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
/// shown as $0. The same for every provider: the decoders in `llm` have
/// already put each one's counts in [`Usage`]'s form.
pub fn cost(usage: &Usage, prices: &Prices) -> Option<f64> {
    let per = |tokens: u64, price: Option<f64>| -> Option<f64> {
        if tokens == 0 { Some(0.0) } else { price.map(|p| tokens as f64 * p / 1_000_000.0) }
    };
    // A provider without a cache-read price bills cached tokens as input.
    let cache_read_price = prices.cache_read.or(prices.input);
    Some(
        per(usage.uncached_input_tokens(), prices.input)?
            + per(usage.cache_read_tokens, cache_read_price)?
            + per(usage.cache_write_tokens, prices.cache_write)?
            + per(usage.output_tokens, prices.output)?,
    )
}

/// `$0.0123` with enough digits to see small sums, or `unknown`.
pub(crate) fn format_cost(cost: Option<f64>) -> String {
    match cost {
        None => "unknown".into(),
        Some(c) if c < 0.01 => format!("${c:.4}"),
        Some(c) => format!("${c:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::anthropic::AnthropicDecoder;
    use crate::llm::openai::OpenAiDecoder;
    use crate::llm::retry::StreamDecoder;
    use crate::llm::sse::SseEvent;
    use crate::llm::{LlmError, LlmEvent};

    fn usage(i: u64, o: u64, cr: u64, cw: u64) -> Usage {
        Usage { input_tokens: i, output_tokens: o, cache_read_tokens: cr, cache_write_tokens: cw, reasoning_tokens: 0 }
    }

    #[test]
    fn cached_tokens_are_part_of_input() {
        let p = Prices { input: Some(2.0), output: Some(8.0), cache_read: Some(0.5), cache_write: None };
        let c = cost(&usage(1_000_000, 100_000, 400_000, 0), &p).expect("known");
        assert!((c - (0.6 * 2.0 + 0.4 * 0.5 + 0.1 * 8.0)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn cache_reads_and_writes_are_priced_apart_from_plain_input() {
        let p = Prices { input: Some(3.0), output: Some(15.0), cache_read: Some(0.3), cache_write: Some(3.75) };
        // A million tokens each of plain input, cache reads and cache writes.
        let c = cost(&usage(3_000_000, 0, 1_000_000, 1_000_000), &p).expect("known");
        assert!((c - (3.0 + 0.3 + 3.75)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn a_missing_price_is_unknown_not_zero() {
        let p = Prices { input: Some(1.0), output: None, cache_read: None, cache_write: None };
        assert_eq!(cost(&usage(10, 5, 0, 0), &p), None);
        assert_eq!(format_cost(None), "unknown");
        // No tokens of the unpriced kind: the cost is known.
        assert_eq!(cost(&usage(1_000_000, 0, 0, 0), &p), Some(1.0));
        // Cached reads fall back to the input price.
        assert_eq!(cost(&usage(1_000_000, 0, 500_000, 0), &p), Some(1.0));
        assert_eq!(format_cost(Some(0.00123)), "$0.0012");
        assert_eq!(format_cost(Some(1.5)), "$1.50");
    }

    #[test]
    fn cache_prices_and_their_absence() {
        // Without a cache-write price, writes make the cost unknown.
        let p = Prices { input: Some(3.0), output: Some(15.0), cache_read: Some(0.3), cache_write: None };
        assert_eq!(cost(&usage(8000, 100, 5000, 2000), &p), None);
        let c = cost(&usage(6000, 100, 5000, 0), &p).expect("known");
        assert!((c - (1000.0 * 3.0 + 100.0 * 15.0 + 5000.0 * 0.3) / 1e6).abs() < 1e-12, "{c}");
        // Unpriced model: any token is unknown, none is free.
        assert_eq!(cost(&usage(1, 0, 0, 0), &Prices::default()), None);
        assert_eq!(cost(&usage(0, 0, 0, 0), &Prices::default()), Some(0.0));
    }

    /// The usage a decoder reports after `events`, each one SSE data line.
    fn decoded(mut decoder: impl StreamDecoder, events: &[&str]) -> Usage {
        let mut out: Vec<LlmEvent> = Vec::new();
        for data in events {
            let event = SseEvent { data: (*data).to_string(), ..SseEvent::default() };
            out.extend(decoder.on_event(event).map_err(|e: LlmError| e.to_string()).expect("decoded"));
        }
        out.extend(decoder.on_end().unwrap_or_default());
        let usages: Vec<Usage> = out
            .into_iter()
            .filter_map(|e| match e {
                LlmEvent::Usage(u) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(usages.len(), 1, "{usages:?}");
        usages[0]
    }

    /// One request as each API reports it: a 10,000-token prompt of which
    /// 6,000 came from the cache and 1,000 went into it, and a 500-token
    /// answer of which 200 were reasoning.
    #[test]
    fn the_same_request_costs_the_same_whichever_provider_reports_it() {
        let openai = decoded(
            OpenAiDecoder::default(),
            &[
                r#"{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":10000,"completion_tokens":500,"total_tokens":10500,
                    "prompt_tokens_details":{"cached_tokens":6000,"cache_write_tokens":1000,"audio_tokens":0},
                    "completion_tokens_details":{"reasoning_tokens":200,"audio_tokens":0}}}"#,
            ],
        );
        let anthropic = decoded(
            AnthropicDecoder::default(),
            &[
                r#"{"type":"message_start","message":{"usage":{"input_tokens":3000,"cache_creation_input_tokens":1000,"cache_read_input_tokens":6000,"output_tokens":1}}}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":500,"output_tokens_details":{"thinking_tokens":200}}}"#,
                r#"{"type":"message_stop"}"#,
            ],
        );
        let expected = Usage {
            input_tokens: 10_000,
            output_tokens: 500,
            cache_read_tokens: 6000,
            cache_write_tokens: 1000,
            reasoning_tokens: 200,
        };
        assert_eq!(openai, expected);
        assert_eq!(anthropic, expected);
        let p = Prices { input: Some(3.0), output: Some(15.0), cache_read: Some(0.3), cache_write: Some(3.75) };
        let want = (3000.0 * 3.0 + 6000.0 * 0.3 + 1000.0 * 3.75 + 500.0 * 15.0) / 1e6;
        for u in [openai, anthropic] {
            let c = cost(&u, &p).expect("known");
            assert!((c - want).abs() < 1e-12, "{c} != {want}");
        }
    }
}
