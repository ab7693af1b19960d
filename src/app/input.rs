//! Terminal input events turned into tandem's own key type, and key scripts
//! (`"hello<C-j>world<Enter>"`) turned into terminal events so tests and the
//! demo drive the real event loop.

use std::time::Duration;

use crossterm::event::{Event, KeyCode as CtCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures::{Stream, StreamExt};

use super::guard::Clock;

use crate::config::keys::{Key, KeyCode, Mods, from_char_input};

/// The key of a key-press event; `None` for releases and keys tandem does not
/// bind (media keys, lone modifiers).
pub(crate) fn key_of(ev: &KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let mods = Mods {
        ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
        alt: ev.modifiers.contains(KeyModifiers::ALT),
        shift: ev.modifiers.contains(KeyModifiers::SHIFT),
    };
    let code = match ev.code {
        CtCode::Char(' ') => return Some(Key { code: KeyCode::Space, mods }),
        CtCode::Char(c) => return Some(from_char_input(c, mods)),
        CtCode::Enter => KeyCode::Enter,
        CtCode::Esc => KeyCode::Esc,
        CtCode::Tab if mods.shift => return Some(Key { code: KeyCode::BackTab, mods: Mods { shift: false, ..mods } }),
        CtCode::Tab => KeyCode::Tab,
        CtCode::BackTab => return Some(Key { code: KeyCode::BackTab, mods: Mods { shift: false, ..mods } }),
        CtCode::Backspace => KeyCode::Backspace,
        CtCode::Delete => KeyCode::Delete,
        CtCode::Insert => KeyCode::Insert,
        CtCode::Home => KeyCode::Home,
        CtCode::End => KeyCode::End,
        CtCode::PageUp => KeyCode::PageUp,
        CtCode::PageDown => KeyCode::PageDown,
        CtCode::Up => KeyCode::Up,
        CtCode::Down => KeyCode::Down,
        CtCode::Left => KeyCode::Left,
        CtCode::Right => KeyCode::Right,
        CtCode::F(n) => KeyCode::F(n),
        _ => return None,
    };
    Some(Key { code, mods })
}

/// The text a key types into the composer when it is not bound: plain and
/// shifted characters, and space.
pub(crate) fn typed_char(key: &Key) -> Option<char> {
    if key.mods.ctrl || key.mods.alt {
        return None;
    }
    match key.code {
        KeyCode::Char(c) => Some(c),
        KeyCode::Space => Some(' '),
        _ => None,
    }
}

/// A terminal key event for `key`, as a terminal would send it.
pub(crate) fn event_of(key: &Key) -> Event {
    let mut m = KeyModifiers::empty();
    if key.mods.ctrl {
        m |= KeyModifiers::CONTROL;
    }
    if key.mods.alt {
        m |= KeyModifiers::ALT;
    }
    if key.mods.shift {
        m |= KeyModifiers::SHIFT;
    }
    let code = match key.code {
        KeyCode::Char(c) => CtCode::Char(c),
        KeyCode::Space => CtCode::Char(' '),
        KeyCode::Enter => CtCode::Enter,
        KeyCode::Esc => CtCode::Esc,
        KeyCode::Tab => CtCode::Tab,
        KeyCode::BackTab => {
            m |= KeyModifiers::SHIFT;
            CtCode::BackTab
        }
        KeyCode::Backspace => CtCode::Backspace,
        KeyCode::Delete => CtCode::Delete,
        KeyCode::Insert => CtCode::Insert,
        KeyCode::Home => CtCode::Home,
        KeyCode::End => CtCode::End,
        KeyCode::PageUp => CtCode::PageUp,
        KeyCode::PageDown => CtCode::PageDown,
        KeyCode::Up => CtCode::Up,
        KeyCode::Down => CtCode::Down,
        KeyCode::Left => CtCode::Left,
        KeyCode::Right => CtCode::Right,
        KeyCode::F(n) => CtCode::F(n),
    };
    Event::Key(KeyEvent::new(code, m))
}

/// One step of a key script: a key, or the user pausing.
#[derive(Debug, Clone)]
pub enum Step {
    Key(Event),
    Wait(Duration),
}

/// How long `<Wait>` pauses: longer than every guard of the loop, so the keys
/// after it are those of a user who stopped and looked.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// Parse a key script: plain characters are typed as they are, `<...>` holds
/// one key in keymap notation (`<C-j>`, `<Enter>`, `<S-Tab>`), `<<` is a
/// literal `<`. `<Wait>` is the user pausing for [`WAIT`], `<Wait 300ms>` or
/// `<Wait 2s>` for that long.
pub fn parse_steps(script: &str) -> Result<Vec<Step>, String> {
    let mut out = Vec::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<' {
            if chars.peek() == Some(&'<') {
                chars.next();
                out.push(Step::Key(event_of(&from_char_input('<', Mods::default()))));
                continue;
            }
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some('>') if !name.is_empty() => break,
                    Some(ch) => name.push(ch),
                    None => return Err(format!("unclosed `<{name}` in key script")),
                }
            }
            if let Some(wait) = parse_wait(&name)? {
                out.push(Step::Wait(wait));
                continue;
            }
            let key: Key = name.parse().map_err(|e| format!("{e}"))?;
            out.push(Step::Key(event_of(&key)));
        } else if c == '\n' {
            out.push(Step::Key(event_of(&Key { code: KeyCode::Enter, mods: Mods::default() })));
        } else {
            out.push(Step::Key(event_of(&from_char_input(c, Mods::default()))));
        }
    }
    Ok(out)
}

/// `Wait`, `Wait 300ms`, `Wait 2s` (any case); `None` for a key's name.
fn parse_wait(name: &str) -> Result<Option<Duration>, String> {
    let mut words = name.split_whitespace();
    if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("wait")) {
        return Ok(None);
    }
    let Some(len) = words.next() else { return Ok(Some(WAIT)) };
    let bad = || format!("`<{name}>`: a wait is `<Wait>`, `<Wait 300ms>` or `<Wait 2s>`");
    if words.next().is_some() {
        return Err(bad());
    }
    let (digits, unit) = len.split_at(len.find(|c: char| !c.is_ascii_digit()).unwrap_or(len.len()));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    match unit {
        "ms" => Ok(Some(Duration::from_millis(n))),
        "s" => Ok(Some(Duration::from_secs(n))),
        _ => Err(bad()),
    }
}

/// The keys of a script without pauses, as terminal events.
pub fn parse_script(script: &str) -> Result<Vec<Event>, String> {
    parse_steps(script)?
        .into_iter()
        .map(|step| match step {
            Step::Key(ev) => Ok(ev),
            Step::Wait(_) => Err("this script has a `<Wait>`, which needs the loop's clock: use `steps_stream`".into()),
        })
        .collect()
}

/// A script's steps as the loop's input. On a manual clock (so scripted
/// tests run the same on any machine) a pause lets the loop draw what the
/// keys before it changed, then moves the clock on; on the system clock it
/// waits for real. Either way every key before a pause has been handled
/// before the clock moves.
pub fn steps_stream(steps: Vec<Step>, clock: Clock) -> impl Stream<Item = std::io::Result<Event>> + Unpin {
    futures::stream::iter(steps)
        .then(move |step| {
            let clock = clock.clone();
            async move {
                match step {
                    Step::Key(ev) => Some(ev),
                    Step::Wait(d) if clock.is_manual() => {
                        clock.settled().await;
                        clock.advance(d);
                        None
                    }
                    Step::Wait(d) => {
                        tokio::time::sleep(d).await;
                        None
                    }
                }
            }
        })
        .filter_map(|ev| std::future::ready(ev.map(Ok)))
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_round_trips_through_key_of() {
        let events = parse_script("hi<C-j><<<S-Tab><F1> ").expect("script");
        let keys: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Key(k) => key_of(k).map(|k| k.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(keys, ["h", "i", "C-j", "<", "S-Tab", "F1", "Space"]);
    }

    #[test]
    fn bad_scripts_are_reported() {
        assert!(parse_script("<C-j").is_err());
        assert!(parse_script("<Nope>").is_err());
        assert!(parse_script("a<Wait>b").is_err(), "a pause needs a clock");
        for bad in ["<Wait 3>", "<Wait 3min>", "<Wait x>", "<Wait 1s 2s>"] {
            assert!(parse_steps(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn waits_are_steps_of_their_own() {
        let steps = parse_steps("a<Wait><wait 250ms>b<Wait 2s>").expect("script");
        let waits: Vec<Option<Duration>> = steps
            .iter()
            .map(|s| match s {
                Step::Wait(d) => Some(*d),
                Step::Key(_) => None,
            })
            .collect();
        assert_eq!(waits, [None, Some(WAIT), Some(Duration::from_millis(250)), None, Some(Duration::from_secs(2))]);
    }

    #[test]
    fn a_stream_moves_a_manual_clock_between_keys() {
        let clock = Clock::manual();
        let t0 = clock.now();
        let steps = parse_steps("a<Wait 300ms>b").expect("script");
        let mut stream = steps_stream(steps, clock.clone());
        futures::executor::block_on(async {
            assert!(stream.next().await.is_some());
            assert_eq!(clock.now(), t0, "nothing moves before the pause is reached");
            assert!(stream.next().await.is_some());
            assert_eq!(clock.now(), t0 + Duration::from_millis(300));
            assert!(stream.next().await.is_none());
        });
    }

    #[test]
    fn shifted_letters_type_themselves() {
        let ev = KeyEvent::new(CtCode::Char('A'), KeyModifiers::SHIFT);
        let key = key_of(&ev).expect("key");
        assert_eq!(typed_char(&key), Some('A'));
        let ctrl = KeyEvent::new(CtCode::Char('a'), KeyModifiers::CONTROL);
        assert_eq!(key_of(&ctrl).and_then(|k| typed_char(&k)), None);
    }
}
