//! The other side of the guard: after a pause the review keys decide as
//! before, in every keymap.

use tandem::config::Keymap;
use tandem::config::keymap::Action;
use tandem::view::state::Role;

use super::session::{Fixture, Kind, LIB, Session, keys_of, script_of};
use crate::harness::Family;

/// The guard must not block a user who has seen the review: after a pause,
/// the keys decide as before, in every keymap.
pub fn after_a_pause() -> Family {
    let mut family = Family::new("review keys after a pause");
    let fx = Fixture::new();
    for keymap_name in Keymap::BUILTIN {
        let (keymap, _) = Keymap::load(keymap_name, &[], &[]);
        let key = |a| keys_of(&keymap, a).first().map(script_of).map(|(s, _)| s).unwrap_or_default();
        let (accept_all, apply, accept) =
            (key(Action::AcceptAll), key(Action::ApplyDecisions), key(Action::AcceptHunk));
        for (w, h) in [(120, 40), (80, 24)] {
            family.check(format!("{keymap_name} {w}x{h}: accept all and apply after a pause"), || {
                let mut s = fx.session(Kind::Changes, keymap_name, w, h);
                s.keys("first question<Enter><Wait>");
                s.keys(&format!("<Wait>{accept_all}{apply}"));
                accepted(&s)
            });
            family.check(format!("{keymap_name} {w}x{h}: open a waiting review, pause, decide"), || {
                let mut s = fx.session(Kind::Changes, keymap_name, w, h);
                s.keys("first question<Enter>draft");
                s.keys(&format!("<Wait><F3><Wait>{accept_all}{apply}"));
                accepted(&s)?;
                if s.app.state.composer.text() != "draft" {
                    return Err(format!("the draft changed: {:?}", s.app.state.composer.text()));
                }
                Ok(())
            });
            family.check(format!("{keymap_name} {w}x{h}: decide 500 ms after the review was drawn"), || {
                let mut s = fx.session(Kind::Changes, keymap_name, w, h);
                s.keys("first question<Enter><F3><Wait>");
                s.keys(&format!("<Wait 500ms>{accept_all}{apply}"));
                accepted(&s)
            });
            family.check(format!("{keymap_name} {w}x{h}: allow a command after a pause"), || {
                let mut s = fx.session(Kind::Command, keymap_name, w, h);
                s.keys("first question<Enter><Wait>");
                s.keys(&format!("<Wait>{accept}"));
                if !s.root().join("ran.txt").exists() {
                    return Err(format!("the command did not run:\n{}", s.screen()));
                }
                told(&s, "Noted.")
            });
        }
    }
    family
}

fn accepted(s: &Session) -> Result<(), String> {
    let expected = LIB.replace("a + b", "a.wrapping_add(b)");
    if s.staged_lib().as_deref() != Some(expected.as_str()) {
        return Err(format!("not staged: {:?}\n{}", s.staged_lib(), s.screen()));
    }
    told(s, "Noted.")
}

/// The model heard the decision and answered with `answer`.
fn told(s: &Session, answer: &str) -> Result<(), String> {
    let n = s.requests.lock().map_err(|e| e.to_string())?.len();
    let answered = s.app.state.transcript.iter().any(|m| m.role == Role::Assistant && m.text == answer);
    if n != 2 || !answered {
        return Err(format!("the model was sent {n} requests:\n{}", s.screen()));
    }
    Ok(())
}
