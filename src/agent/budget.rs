//! Fitting the conversation into the model's context window.
//!
//! Counting is an estimate (bytes / 3, on the safe side for code and prose)
//! because a real tokenizer for every provider's model is neither available
//! offline nor needed to stay under the limit: when the estimate says the
//! conversation is too big, older tool outputs are shortened first, since
//! they are the largest and least needed part, then the oldest turns are
//! dropped. The current turn is always kept whole.

use crate::llm::ChatMessage;

pub(crate) fn estimate(text: &str) -> u64 {
    (text.len() as u64).div_ceil(3)
}

pub(crate) fn message_tokens(m: &ChatMessage) -> u64 {
    // A few tokens of framing per message, as providers count them.
    4 + match m {
        ChatMessage::User { text } => estimate(text),
        ChatMessage::Assistant { text, tool_calls } => {
            estimate(text) + tool_calls.iter().map(|c| estimate(&c.name) + estimate(&c.arguments) + 8).sum::<u64>()
        }
        ChatMessage::Tool { content, .. } => estimate(content) + 8,
    }
}

/// What fitting did, for the chat to say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fitted {
    pub messages: Vec<ChatMessage>,
    pub shortened_outputs: usize,
    pub dropped_turns: usize,
    pub estimated_tokens: u64,
}

const KEEP_HEAD: usize = 600;
const KEEP_TAIL: usize = 300;

fn shorten(content: &str) -> Option<String> {
    if content.len() <= KEEP_HEAD + KEEP_TAIL + 100 {
        return None;
    }
    let mut head_end = KEEP_HEAD;
    while !content.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = content.len() - KEEP_TAIL;
    while !content.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    let dropped = content[head_end..tail_start].lines().count();
    Some(format!(
        "{}\n[… {dropped} lines of this output were dropped to fit the context window …]\n{}",
        &content[..head_end],
        &content[tail_start..]
    ))
}

/// Index of the first message of each turn (a user message).
fn turn_starts(messages: &[ChatMessage]) -> Vec<usize> {
    messages.iter().enumerate().filter(|(_, m)| matches!(m, ChatMessage::User { .. })).map(|(i, _)| i).collect()
}

/// Fit `messages` into `limit` tokens, with `fixed` tokens already taken by
/// the system prompt and tool schemas.
pub(crate) fn fit(messages: &[ChatMessage], fixed: u64, limit: u64) -> Fitted {
    let mut msgs = messages.to_vec();
    let total = |msgs: &[ChatMessage]| fixed + msgs.iter().map(message_tokens).sum::<u64>();
    let mut fitted = Fitted::default();
    let starts = turn_starts(&msgs);
    let current = starts.last().copied().unwrap_or(0);

    if total(&msgs) > limit {
        for m in msgs[..current].iter_mut() {
            if let ChatMessage::Tool { content, .. } = m
                && let Some(short) = shorten(content)
            {
                *content = short;
                fitted.shortened_outputs += 1;
            }
        }
    }
    while total(&msgs) > limit {
        let starts = turn_starts(&msgs);
        if starts.len() < 2 {
            break;
        }
        msgs.drain(..starts[1]);
        fitted.dropped_turns += 1;
    }
    fitted.estimated_tokens = total(&msgs);
    fitted.messages = msgs;
    fitted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(t: &str) -> ChatMessage {
        ChatMessage::User { text: t.into() }
    }
    fn assistant(t: &str) -> ChatMessage {
        ChatMessage::Assistant { text: t.into(), tool_calls: Vec::new() }
    }
    fn tool(content: String) -> ChatMessage {
        ChatMessage::Tool { call_id: "c".into(), name: "read_file".into(), content, is_error: false }
    }

    #[test]
    fn fits_unchanged_when_small() {
        let msgs = vec![user("hi"), assistant("hello")];
        let f = fit(&msgs, 100, 10_000);
        assert_eq!(f.messages, msgs);
        assert_eq!((f.shortened_outputs, f.dropped_turns), (0, 0));
    }

    #[test]
    fn old_tool_outputs_shrink_before_turns_are_dropped() {
        let big = "line of output\n".repeat(2000);
        let msgs = vec![user("one"), tool(big.clone()), assistant("ok"), user("two"), tool(big.clone())];
        let limit = message_tokens(&tool(big.clone())) + 2_000;
        let f = fit(&msgs, 0, limit);
        assert_eq!(f.shortened_outputs, 1);
        assert_eq!(f.dropped_turns, 0);
        assert_eq!(f.messages.len(), 5);
        // The current turn's output is whole.
        assert_eq!(f.messages[4], tool(big));
        let ChatMessage::Tool { content, .. } = &f.messages[1] else { panic!("tool message") };
        assert!(content.contains("lines of this output were dropped"));
        assert!(f.estimated_tokens <= limit);
    }

    #[test]
    fn oldest_turns_are_dropped_and_the_current_one_kept() {
        let long = "x".repeat(3000);
        let msgs = vec![user(&long), assistant(&long), user(&long), assistant(&long), user("now")];
        let f = fit(&msgs, 0, 1100);
        assert_eq!(f.dropped_turns, 2);
        assert_eq!(f.messages, vec![user("now")]);
    }

    #[test]
    fn shortening_respects_utf8() {
        let s = "é".repeat(2000);
        let short = shorten(&s).expect("shortened");
        assert!(short.len() < s.len());
    }
}
