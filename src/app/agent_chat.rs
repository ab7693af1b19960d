//! What the agent's events mean for the chat and the status line: the
//! streamed answer, one message per tool call, and how a turn ended. The
//! conversation controller feeds every agent event through [`record`];
//! the figures they add up to are `agent_metrics`'.

use crate::agent::{AgentEvent, TurnOutcome};
use crate::config::keymap::{Action, Context};
use crate::view::state::{AppState, Flash, Message, MsgStatus, Role};

/// How much of a running tool's output the chat keeps; the whole output
/// arrives with the result.
const KEEP: usize = 64 * 1024;

/// Take in one event of the agent; true when it ended a turn.
pub fn record(state: &mut AppState, ev: AgentEvent) -> bool {
    let m = &mut state.model;
    match ev {
        AgentEvent::TurnStarted => {
            m.can_retry = false;
            m.turns += 1;
            m.activity = "waiting for the model…".into();
        }
        AgentEvent::Responding => m.activity = "answering".into(),
        AgentEvent::Text(t) => {
            m.activity = "answering".into();
            let msg = current_answer(state);
            msg.text.push_str(&t);
            msg.rev += 1;
        }
        AgentEvent::ToolCallStarted { name } => m.activity = format!("writing a call to {name}…"),
        AgentEvent::ToolRunning { id, description, .. } => {
            m.activity = format!("running {description}");
            close_answer(state, MsgStatus::Done);
            let mut msg = Message::new(Role::Tool, format!("… {description}"));
            msg.call_id = id;
            msg.status = MsgStatus::Streaming;
            state.transcript.push(msg);
        }
        AgentEvent::ToolProgress { id, text } => {
            if let Some(msg) = tool_message(state, &id) {
                // While it runs, the chat keeps the recent part.
                msg.detail.push_str(&text);
                if msg.detail.len() > KEEP {
                    let mut cut = msg.detail.len() - KEEP / 2;
                    while !msg.detail.is_char_boundary(cut) {
                        cut += 1;
                    }
                    msg.detail.drain(..cut);
                }
                msg.rev += 1;
            }
        }
        AgentEvent::ToolRefused { id, name, reason } => {
            close_answer(state, MsgStatus::Done);
            // The first sentence names the tool and the limit; the rest,
            // how to raise it, is in the details.
            let first = reason.split(". ").next().unwrap_or(&reason).trim_end_matches('.');
            let text = if first.contains(&format!("`{name}`")) {
                format!("✗ {first}")
            } else {
                format!("✗ {name}: {first}")
            };
            let mut msg = Message::new(Role::Tool, text);
            msg.call_id = id;
            msg.detail = reason;
            msg.status = MsgStatus::Broken;
            state.transcript.push(msg);
        }
        AgentEvent::ToolDone { id, output, elapsed, .. } => {
            if let Some(msg) = tool_message(state, &id) {
                let mark = if output.is_error { "✗" } else { "✓" };
                let summary = output.summary.lines().next().unwrap_or("");
                msg.text = format!("{mark} {summary} · {:.1} s", elapsed.as_secs_f64());
                msg.detail = output.content;
                msg.status = if output.is_error { MsgStatus::Broken } else { MsgStatus::Done };
                msg.rev += 1;
            }
        }
        // Counted by the metrics, per request.
        AgentEvent::RequestEnded(_) => {}
        AgentEvent::BudgetWarning(text) => {
            // The whole text is long for a status line at 80 columns.
            state.flash = Some(Flash { text: "Budget warning: see the chat".into(), error: false });
            state.notice(text);
        }
        AgentEvent::Retrying { attempt, max, delay, reason } => {
            m.activity = format!("retrying in {} s, {attempt}/{max} ({reason})", delay.as_secs_f64().ceil() as u64);
        }
        AgentEvent::Notice(text) => state.notice(text),
        AgentEvent::MapUsed { text, tokens, .. } => state.index.last_map = Some((text, tokens)),
        AgentEvent::Recorded(_) => {}
        AgentEvent::TurnEnded(outcome) => {
            turn_ended(state, outcome);
            return true;
        }
    }
    false
}

fn turn_ended(state: &mut AppState, outcome: TurnOutcome) {
    state.shown_stats = state.stats;
    let m = &mut state.model;
    m.turns_pending = m.turns_pending.saturating_sub(1);
    m.activity.clear();
    match outcome {
        TurnOutcome::Completed => close_answer(state, MsgStatus::Done),
        TurnOutcome::Cancelled => close_answer(state, MsgStatus::Cancelled),
        TurnOutcome::Failed { message, partial, retryable } => {
            let key = state.keymap.key_label(Context::Global, Action::Retry);
            if partial {
                // The reason is in the problem message below.
                close_answer(state, MsgStatus::Broken);
            }
            state.model.can_retry = retryable;
            let hint = if retryable { format!(" Press {key} to retry.") } else { String::new() };
            state.error(format!("The model's answer failed: {message}.{hint}"));
        }
        TurnOutcome::OverBudget(why) => {
            close_answer(state, MsgStatus::Done);
            state.error(format!("Stopped by the budget: {why}"));
        }
        TurnOutcome::RoundLimit(n) => {
            close_answer(state, MsgStatus::Done);
            state.notice(format!(
                "The turn stopped after {n} model requests (model.max_tool_rounds). Send a message to go on."
            ));
        }
    }
}

/// The answer being streamed, begun if there is none.
fn current_answer(state: &mut AppState) -> &mut Message {
    let streaming =
        state.transcript.last().is_some_and(|m| m.role == Role::Assistant && m.status == MsgStatus::Streaming);
    if !streaming {
        let mut m = Message::new(Role::Assistant, "");
        m.status = MsgStatus::Streaming;
        state.transcript.push(m);
    }
    let last = state.transcript.len() - 1;
    &mut state.transcript[last]
}

/// End the streaming answer (if any) with `status`.
fn close_answer(state: &mut AppState, status: MsgStatus) {
    if let Some(m) = state.transcript.iter_mut().rev().find(|m| m.status == MsgStatus::Streaming) {
        m.status = status;
        m.rev += 1;
    }
}

/// The latest message of tool call `id`.
fn tool_message<'a>(state: &'a mut AppState, id: &str) -> Option<&'a mut Message> {
    state.transcript.iter_mut().rev().find(|m| m.role == Role::Tool && m.call_id == id)
}
