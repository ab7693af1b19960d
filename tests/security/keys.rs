//! Keys typed ahead: the user types the next question while the model works,
//! and a proposal (or a command request) arrives mid-word. None of those keys
//! may accept, reject, apply, edit or run anything; the model must hear of
//! no decision; what was typed stays the user's text.
//!
//! Every case runs the real event loop on a manual clock (only `<Wait>` steps
//! move it), with the real tools in a temporary git repository and a
//! scripted model. The decision keys are looked up from each shipped keymap.
//! Peers have shipped this bug: Codex CLI's approval prompt was answered by
//! keys of a prompt being typed (openai/codex#19165), and a chat tool's
//! `y`/`n` verdict keys fired while "yes, but…" was typed into its composer
//! (AtomicBot-ai/atomic-agent#239).

mod paused;
mod session;
mod typed;

pub use paused::after_a_pause;
pub use typed::typed_ahead;
