//! The keys of every decision, in every shipped keymap, typed into the
//! composer at each moment a review can meet them, pressed in the diff pane
//! as it arrives, and typed, held or repeated through its arrival.

use crossterm::event::{Event, KeyEvent, KeyEventKind};
use tandem::app::input::{Step, parse_steps};
use tandem::config::Keymap;
use tandem::config::keymap::Action;
use tandem::config::keys::KeySeq;
use tandem::view::state::Focus;

use super::session::{Fixture, Kind, keys_of, script_of, text_of};
use crate::harness::Family;

/// What the user is typing: every letter the review keys use, and Enter.
const SENTENCE: &str = "ask: did you say Yes, No, or yes! see<Enter>and send";

/// Where in [`SENTENCE`] the review arrives, mid-word (byte offsets).
const MID_WORD: [usize; 4] = [2, 7, 18, 26];

/// Every action that decides something about a review, from the issue's
/// list; their keys come from the keymap under test.
const DECISIONS: [Action; 12] = [
    Action::AcceptHunk,
    Action::RejectHunk,
    Action::RejectWithReason,
    Action::AcceptFile,
    Action::RejectFile,
    Action::AcceptAll,
    Action::RejectAll,
    Action::SplitHunk,
    Action::EditHunk,
    Action::ApplyDecisions,
    Action::UndoApplied,
    Action::AlwaysAllow,
];

/// How the review meets the user's keys.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// Mid-word: the composer holds the start of the sentence.
    MidWord(usize),
    /// Mid-sentence, then the user looks away for a while and goes on
    /// typing long after the review was drawn: a draft is never idle.
    LookedAway(usize),
    /// Right after sending a message: the composer is empty, not idle.
    JustSent,
    /// After a pause: the review takes focus from the idle composer, and
    /// the next keys come before the user can have read it.
    TookFocus,
    /// Keys arriving with the proposal, in the same batches of input.
    SameBatch,
}

pub fn typed_ahead() -> Family {
    let mut family = Family::new("keys typed ahead");
    let fx = Fixture::new();
    let (mut n, mut keys_tried) = (0usize, 0usize);
    for keymap_name in Keymap::BUILTIN {
        let (keymap, diags) = Keymap::load(keymap_name, &[], &[]);
        assert!(diags.is_empty(), "{diags:?}");
        for kind in [Kind::Changes, Kind::Command] {
            for action in DECISIONS {
                let bound = keys_of(&keymap, action);
                if bound.is_empty() {
                    family.case(format!("{keymap_name}: {action}"), false, "no key in the keymap to try");
                }
                for seq in bound {
                    let moments = [
                        Moment::MidWord(MID_WORD[keys_tried % MID_WORD.len()]),
                        Moment::LookedAway(MID_WORD[(keys_tried + 2) % MID_WORD.len()]),
                        Moment::JustSent,
                        Moment::TookFocus,
                        Moment::SameBatch,
                    ];
                    for moment in moments {
                        n += 1;
                        // Every other case one pane at a time, where the
                        // review is not on screen until it has focus.
                        let (w, h) = if n.is_multiple_of(2) { (120, 40) } else { (80, 24) };
                        let what = format!("{keymap_name} {kind:?}: `{seq}` ({action}) {moment:?} at {w}x{h}");
                        family.check(what, || typed_into_composer(&fx, kind, keymap_name, &seq, moment, (w, h)));
                    }
                    keys_tried += 1;
                    let what = format!("{keymap_name} {kind:?}: `{seq}` ({action}) in the diff pane as it arrives");
                    family.check(what, || pressed_in_the_diff_pane(&fx, kind, keymap_name, &seq));
                }
            }
        }
    }
    for kind in [Kind::Changes, Kind::Command] {
        family.check(format!("{kind:?}: typing through the arrival at 10 keys/s for 2 s"), || {
            typing_through_the_arrival(&fx, kind)
        });
        family.check(format!("{kind:?}: a key 1 ms short of the guard"), || just_short_of_the_guard(&fx, kind));
        family.check(format!("{kind:?}: a held key, repeating long after the arrival"), || held_key(&fx, kind));
        family.check(format!("{kind:?}: the focus key and a decision key in one breath at 80x24"), || {
            focus_then_decide_unseen(&fx, kind)
        });
    }
    family
}

/// The user types [`SENTENCE`] with `seq` where the review meets it.
fn typed_into_composer(
    fx: &Fixture,
    kind: Kind,
    keymap: &str,
    seq: &KeySeq,
    moment: Moment,
    size: (u16, u16),
) -> Result<(), String> {
    let mut s = fx.session(kind, keymap, size.0, size.1);
    let (key_script, key_text) = script_of(seq);
    let (before, after) = match moment {
        Moment::MidWord(at) | Moment::LookedAway(at) => SENTENCE.split_at(at),
        _ => ("", SENTENCE),
    };
    let rest = format!("{key_script}{after}");
    match moment {
        Moment::MidWord(_) => {
            s.keys(&format!("first question<Enter><Wait>{before}"));
            s.keys(&rest);
        }
        Moment::LookedAway(_) => {
            s.keys(&format!("first question<Enter><Wait>{before}"));
            s.keys(&format!("<Wait>{rest}"));
        }
        Moment::JustSent => {
            s.keys("first question<Enter>");
            s.keys(&rest);
        }
        Moment::TookFocus => {
            s.keys("first question<Enter><Wait>");
            if s.app.state.focus != Focus::Diff {
                return Err("the review did not take focus from an idle composer".into());
            }
            s.keys(&rest);
        }
        Moment::SameBatch => s.keys_interleaved(&format!("first question<Enter><Wait>{rest}")),
    }
    s.nothing_decided(kind)?;
    s.text_intact(&format!("{}{key_text}{}", text_of(before), text_of(after)))?;
    if s.app.state.focus != Focus::Composer {
        return Err(format!("focus is on {:?}, not the composer being typed in", s.app.state.focus));
    }
    let screen = s.screen();
    let waits = match kind {
        Kind::Changes => "edits wait for your review: F3",
        Kind::Command => "a command waits for your approval: F3",
    };
    if !screen.contains(waits) {
        return Err(format!("the status line does not say the review waits:\n{screen}"));
    }
    Ok(())
}

/// The user sits in the diff pane; a review arrives and the key comes with
/// it, then the rest of a sentence.
fn pressed_in_the_diff_pane(fx: &Fixture, kind: Kind, keymap: &str, seq: &KeySeq) -> Result<(), String> {
    let mut s = fx.session(kind, keymap, 120, 40);
    s.keys("first question<Enter><F3>");
    let (key_script, _) = script_of(seq);
    s.keys(&key_script);
    s.nothing_decided(kind)?;
    let screen = s.screen();
    if !screen.contains("Review just arrived: ") || !screen.contains(" ignored. Read it, then press ") {
        return Err(format!("no note that the key was not taken:\n{screen}"));
    }
    if !s.app.state.composer.is_empty() {
        return Err(format!("the key was typed into the composer: {:?}", s.app.state.composer.text()));
    }
    s.keys(SENTENCE);
    s.nothing_decided(kind)
}

/// Keys 100 ms apart from before the arrival to 2 s after it: one run of
/// keys that began before the review could be read.
fn typing_through_the_arrival(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 120, 40);
    s.keys("first question<Enter><F3>");
    let keys = ["y", "Y", "a", "A", "n", "N", "d", "D", "!", "<Enter>", "y", "Y", "<Enter>"];
    let script: Vec<&str> = keys.iter().cycle().take(20).copied().collect();
    s.keys(&script.join("<Wait 100ms>"));
    s.nothing_decided(kind)
}

/// The first key after a long pause, 499 ms after the review was drawn
/// (500 ms decides: see [`after_a_pause`]).
fn just_short_of_the_guard(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 120, 40);
    s.keys("first question<Enter><F3><Wait>");
    s.keys("<Wait 499ms>Y<Enter>y");
    s.nothing_decided(kind)
}

/// A terminal repeating a held `y` long after the review arrived.
fn held_key(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 120, 40);
    s.keys("first question<Enter><F3><Wait>");
    let mut steps = parse_steps("<Wait>").expect("script");
    for c in ['y', 'Y', 'a'] {
        let mut ev = KeyEvent::new(crossterm::event::KeyCode::Char(c), crossterm::event::KeyModifiers::empty());
        ev.kind = KeyEventKind::Repeat;
        steps.push(Step::Key(Event::Key(ev)));
    }
    s.run(steps, false);
    s.nothing_decided(kind)
}

/// With one pane on screen, the review is not drawn until the user opens
/// it; a decision key in the same breath as the focus key decides unseen.
fn focus_then_decide_unseen(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 80, 24);
    s.keys("first question<Enter>draft");
    s.keys("<Wait><F3>Y<Enter>y");
    s.nothing_decided(kind)?;
    if s.app.state.composer.text() != "draft" {
        return Err(format!("the draft changed: {:?}", s.app.state.composer.text()));
    }
    Ok(())
}
