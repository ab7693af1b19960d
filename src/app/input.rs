//! Terminal input events turned into tandem's own key type, and key scripts
//! (`"hello<C-j>world<Enter>"`) turned into terminal events so tests and the
//! demo drive the real event loop.

use crossterm::event::{Event, KeyCode as CtCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::config::keys::{Key, KeyCode, Mods, from_char_input};

/// The key of a key-press event; `None` for releases and keys tandem does not
/// bind (media keys, lone modifiers).
pub fn key_of(ev: &KeyEvent) -> Option<Key> {
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
pub fn typed_char(key: &Key) -> Option<char> {
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
pub fn event_of(key: &Key) -> Event {
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

/// Parse a key script: plain characters are typed as they are, `<...>` holds
/// one key in keymap notation (`<C-j>`, `<Enter>`, `<S-Tab>`), `<<` is a
/// literal `<`.
pub fn parse_script(script: &str) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<' {
            if chars.peek() == Some(&'<') {
                chars.next();
                out.push(event_of(&from_char_input('<', Mods::default())));
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
            let key: Key = name.parse().map_err(|e| format!("{e}"))?;
            out.push(event_of(&key));
        } else if c == '\n' {
            out.push(event_of(&Key { code: KeyCode::Enter, mods: Mods::default() }));
        } else {
            out.push(event_of(&from_char_input(c, Mods::default())));
        }
    }
    Ok(out)
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
