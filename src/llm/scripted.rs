//! A provider that replays model turns from a file: for tests, benchmarks and
//! the demo. Each request to the model takes the next turn of the script.
//!
//! ```toml
//! [[turns]]
//! pause_ms = 200            # before the first chunk (time to first token)
//! delay_ms = 10             # between chunks
//! text = "Hello **world**"  # split into chunks of about a token each,
//! # or give the chunks yourself:
//! # chunks = ["Hello ", "**world**"]
//! tool_calls = [{ name = "read_file", arguments = '{"path": "src/main.rs"}' }]
//! usage = { input = 1200, output = 40 }   # also cache_read, cache_write,
//!                           # reasoning: parts of input and output, as in
//!                           # `llm::Usage`
//! count_messages = true     # end the text with "(N messages)": how many the
//!                           # request held (for tests of resumed sessions)
//! ```

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::{EventStream, LlmError, LlmEvent, Provider, Request, StopReason, ToolCall, Usage};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Script {
    pub turns: Vec<Turn>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Turn {
    #[serde(default)]
    pub pause_ms: u64,
    #[serde(default)]
    pub delay_ms: u64,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub chunks: Vec<String>,
    #[serde(default)]
    pub tool_calls: Vec<ScriptedCall>,
    #[serde(default)]
    pub usage: Option<ScriptedUsage>,
    /// End the stream with this error instead of finishing the answer (after
    /// the chunks): "broken", "timeout" or "auth".
    #[serde(default)]
    pub fail: Option<String>,
    /// End the text with ` (N messages)`, N the messages of the request.
    #[serde(default)]
    pub count_messages: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScriptedCall {
    pub name: String,
    #[serde(default = "empty_object")]
    pub arguments: String,
}

fn empty_object() -> String {
    "{}".into()
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScriptedUsage {
    #[serde(default)]
    pub input: u64,
    #[serde(default)]
    pub output: u64,
    #[serde(default)]
    pub cache_read: u64,
    #[serde(default)]
    pub cache_write: u64,
    #[serde(default)]
    pub reasoning: u64,
}

/// Split text into pieces of about one token: words with their following
/// space, and newlines on their own, the way models stream.
pub(crate) fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c == '\n' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push("\n".into());
            continue;
        }
        cur.push(c);
        if c == ' ' || cur.len() >= 8 {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Why a script cannot be replayed; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{name}: {message}")]
    Invalid { name: String, message: String },
    #[error("{name}: the script has no [[turns]]")]
    NoTurns { name: String },
}

pub struct Scripted {
    name: String,
    turns: Mutex<Vec<Turn>>,
    next: AtomicUsize,
}

impl Scripted {
    pub fn from_toml(name: &str, text: &str) -> Result<Self, ScriptError> {
        let script: Script = toml::from_str(text)
            .map_err(|e| ScriptError::Invalid { name: name.to_string(), message: e.message().to_string() })?;
        if script.turns.is_empty() {
            return Err(ScriptError::NoTurns { name: name.to_string() });
        }
        Ok(Self { name: name.to_string(), turns: Mutex::new(script.turns), next: AtomicUsize::new(0) })
    }

    pub(crate) fn from_file(path: &Path) -> Result<Self, ScriptError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read { path: shown.clone(), source })?;
        Self::from_toml(&shown, &text)
    }

    fn take_turn(&self) -> Option<Turn> {
        let i = self.next.fetch_add(1, Ordering::SeqCst);
        self.turns.lock().ok().and_then(|t| t.get(i).cloned())
    }
}

impl Provider for Scripted {
    fn describe(&self) -> String {
        format!("script {}", self.name)
    }

    fn stream(&self, request: Request, cancel: CancellationToken) -> EventStream {
        let Some(turn) = self.take_turn() else {
            let err = LlmError::Protocol(format!("the script {} has no more turns", self.name));
            return futures::stream::once(async move { Err(err) }).boxed();
        };
        let mut chunks =
            if turn.chunks.is_empty() { tokenize(turn.text.as_deref().unwrap_or("")) } else { turn.chunks };
        if turn.count_messages {
            chunks.push(format!(" ({} messages)", request.messages.len()));
        }
        let stream = async_stream(turn.pause_ms, turn.delay_ms, chunks, turn.tool_calls, turn.usage, turn.fail);
        let cancelled = cancel.clone();
        stream
            .take_until(async move { cancel.cancelled().await })
            .chain(
                futures::stream::once(async move {
                    if cancelled.is_cancelled() { Some(Err(LlmError::Cancelled)) } else { None }
                })
                .filter_map(futures::future::ready),
            )
            .boxed()
    }
}

fn async_stream(
    pause_ms: u64,
    delay_ms: u64,
    chunks: Vec<String>,
    calls: Vec<ScriptedCall>,
    usage: Option<ScriptedUsage>,
    fail: Option<String>,
) -> impl futures::Stream<Item = Result<LlmEvent, LlmError>> + Send {
    enum Step {
        Start,
        Chunk(usize),
        End,
        Finished,
    }
    futures::stream::unfold(Step::Start, move |step| {
        let chunks = chunks.clone();
        let calls = calls.clone();
        let fail = fail.clone();
        async move {
            match step {
                Step::Start => {
                    tokio::time::sleep(Duration::from_millis(pause_ms)).await;
                    Some((vec![Ok(LlmEvent::Started)], Step::Chunk(0)))
                }
                Step::Chunk(i) if i < chunks.len() => {
                    if i > 0 && delay_ms > 0 {
                        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    }
                    Some((vec![Ok(LlmEvent::TextDelta(chunks[i].clone()))], Step::Chunk(i + 1)))
                }
                Step::Chunk(_) => Some((Vec::new(), Step::End)),
                Step::End => {
                    if let Some(kind) = fail {
                        let err = match kind.as_str() {
                            "timeout" => LlmError::IdleTimeout(Duration::from_secs(1)),
                            "auth" => LlmError::Auth { status: 401, message: "the script refused the key".into() },
                            _ => LlmError::Broken("the script broke the stream".into()),
                        };
                        return Some((vec![Err(err)], Step::Finished));
                    }
                    let mut out = Vec::new();
                    for (i, c) in calls.iter().enumerate() {
                        out.push(Ok(LlmEvent::ToolCallStarted { index: i, name: c.name.clone() }));
                        out.push(Ok(LlmEvent::ToolCall(ToolCall {
                            id: format!("call_{i}"),
                            name: c.name.clone(),
                            arguments: c.arguments.clone(),
                        })));
                    }
                    let u = usage.map_or_else(
                        || Usage { output_tokens: chunks.len() as u64, ..Usage::default() },
                        |u| {
                            Usage {
                                input_tokens: u.input,
                                output_tokens: u.output,
                                cache_read_tokens: u.cache_read,
                                cache_write_tokens: u.cache_write,
                                reasoning_tokens: u.reasoning,
                            }
                            .within_totals()
                        },
                    );
                    out.push(Ok(LlmEvent::Usage(u)));
                    let stop = if calls.is_empty() { StopReason::EndTurn } else { StopReason::ToolUse };
                    out.push(Ok(LlmEvent::Done(stop)));
                    Some((out, Step::Finished))
                }
                Step::Finished => None,
            }
        }
    })
    .flat_map(futures::stream::iter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            model: "m".into(),
            system: String::new(),
            messages: Vec::new(),
            tools: Vec::new(),
            max_tokens: 100,
            temperature: None,
        }
    }

    #[test]
    fn tokenize_keeps_every_character() {
        let text = "fn main() {\n    println!(\"hi\");\n}\n";
        assert_eq!(tokenize(text).concat(), text);
        assert!(tokenize("a b c").len() == 3);
    }

    #[tokio::test]
    async fn replays_turns_in_order_with_tool_calls() {
        let script = r#"
[[turns]]
text = "Reading it."
tool_calls = [{ name = "read_file", arguments = '{"path":"a.rs"}' }]
[[turns]]
chunks = ["Done", "."]
usage = { input = 10, output = 2 }
"#;
        let p = Scripted::from_toml("t", script).expect("script");
        let events: Vec<_> = p.stream(request(), CancellationToken::new()).collect().await;
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Ok(LlmEvent::TextDelta(t)) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Reading it.");
        assert!(events.iter().any(|e| matches!(e, Ok(LlmEvent::ToolCall(c)) if c.name == "read_file")));
        assert_eq!(events.last(), Some(&Ok(LlmEvent::Done(StopReason::ToolUse))));
        let events: Vec<_> = p.stream(request(), CancellationToken::new()).collect().await;
        assert!(events.contains(&Ok(LlmEvent::Usage(Usage {
            input_tokens: 10,
            output_tokens: 2,
            ..Usage::default()
        }))));
        let events: Vec<_> = p.stream(request(), CancellationToken::new()).collect().await;
        assert!(matches!(events.as_slice(), [Err(LlmError::Protocol(_))]));
    }

    #[tokio::test]
    async fn cancel_ends_the_stream_with_cancelled() {
        let p = Scripted::from_toml("t", "[[turns]]\ndelay_ms = 50\ntext = \"a b c d e f g h i j\"\n").expect("script");
        let cancel = CancellationToken::new();
        let mut s = p.stream(request(), cancel.clone());
        assert_eq!(s.next().await, Some(Ok(LlmEvent::Started)));
        assert!(matches!(s.next().await, Some(Ok(LlmEvent::TextDelta(_)))));
        cancel.cancel();
        let rest: Vec<_> = s.collect().await;
        assert_eq!(rest, vec![Err(LlmError::Cancelled)]);
    }

    #[test]
    fn bad_scripts_say_what_is_wrong() {
        let err = Scripted::from_toml("s.toml", "[[turns]]\ntxt = 1\n").err().expect("error").to_string();
        assert!(err.contains("s.toml") && err.contains("txt"), "{err}");
        assert!(Scripted::from_toml("s.toml", "turns = []").is_err());
        let err = Scripted::from_toml("s.toml", "turns = []").err().expect("error");
        assert!(matches!(&err, ScriptError::NoTurns { name } if name == "s.toml"), "{err:?}");
        assert_eq!(err.to_string(), "s.toml: the script has no [[turns]]");
        let missing = std::path::Path::new("/nonexistent/tandem-script.toml");
        let err = Scripted::from_file(missing).err().expect("error");
        assert!(matches!(&err, ScriptError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound));
        assert!(err.to_string().starts_with("cannot read /nonexistent/tandem-script.toml: "), "{err}");
    }
}
