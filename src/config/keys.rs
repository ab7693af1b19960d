//! Key notation used in keymap files and the help overlay: `a`, `A`, `C-s`,
//! `A-x`, `S-Tab`, `C-A-Left`, `F1`, and chords such as `g g` or `C-x C-c`.
//!
//! This module deliberately knows nothing about crossterm: the app converts
//! terminal events with [`Key::new`] / [`from_char_input`], which apply the same
//! normalisation as the parser, so that a key read from a file and the same key
//! pressed on the keyboard compare equal.
//!
//! Normalisation rules (one canonical `Key` per physical key press):
//! - A cased letter typed with shift and no ctrl/alt is just the uppercase
//!   character: `A` and `S-a` are both `Char('A')` without shift, because that
//!   is what the terminal delivers and what users write.
//! - With ctrl or alt, case is expressed by the shift flag on the lowercase
//!   letter: `C-S`, `C-S-s` and `C-S-S` are all ctrl+shift+`s`, shown `C-S-s`.
//!   Legacy terminals cannot report ctrl+shift+letter at all (they send plain
//!   ctrl+letter), so `C-S-s` only fires on terminals with the kitty keyboard
//!   protocol; making `C-S` mean the same thing keeps the two spellings from
//!   silently becoming two different, half-working bindings.
//! - Shift is never recorded for characters without case (`!`, `1`, `<`): the
//!   character already says whether shift was held, and keyboard layouts
//!   disagree about which keys need it. Writing `S-1` is an error.
//! - `S-Tab` is `BackTab` (terminals report it that way); space is `Space`.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Home,
    End,
    PageUp,
    PageDown,
    Up,
    Down,
    Left,
    Right,
    F(u8),
    Space,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mods {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

impl Mods {
    pub(crate) const NONE: Mods = Mods { ctrl: false, alt: false, shift: false };
    pub const CTRL: Mods = Mods { ctrl: true, alt: false, shift: false };
    pub const ALT: Mods = Mods { ctrl: false, alt: true, shift: false };
    pub const SHIFT: Mods = Mods { ctrl: false, alt: false, shift: true };
}

/// One key press. Build it with [`Key::new`] (or parse it) rather than with a
/// struct literal, so that it is normalised and compares equal to the keys in
/// a keymap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCode,
    pub mods: Mods,
}

/// A chord: keys pressed one after another, written space-separated.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySeq(pub Vec<Key>);

/// Highest function key accepted; terminals report F13–F24 for shifted or
/// ctrl'd F1–F12 on some setups, so they are worth being able to bind.
const MAX_F: u8 = 24;

const KEY_NAMES: &str = "Enter, Esc, Tab, S-Tab, Backspace, Delete, Insert, Home, End, \
                         PageUp, PageDown, Up, Down, Left, Right, F1-F24, Space";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("an empty string is not a key")]
    Empty,
    #[error("`{0}` is not a key: nothing after the modifier")]
    NothingAfterModifier(String),
    #[error("`{0}` is not a key: a modifier is written twice")]
    RepeatedModifier(String),
    #[error("`{written}` is not a key name; expected a character or one of {KEY_NAMES}")]
    UnknownName { written: String },
    #[error(
        "`{0}` is not a key: shift only applies to letters and named keys; \
         write the shifted character itself (e.g. `!` rather than `S-1`)"
    )]
    ShiftWithoutCase(String),
    #[error("`{0}` is not a key: control characters can't be written in a keymap")]
    ControlChar(String),
}

impl Key {
    /// A normalised key (see the module documentation for the rules).
    pub fn new(code: KeyCode, mods: Mods) -> Key {
        match code {
            KeyCode::Char(c) => from_char_input(c, mods),
            KeyCode::Tab if mods.shift => Key { code: KeyCode::BackTab, mods: no_shift(mods) },
            KeyCode::BackTab => Key { code: KeyCode::BackTab, mods: no_shift(mods) },
            _ => Key { code, mods },
        }
    }

    /// A key without modifiers.
    pub fn plain(code: KeyCode) -> Key {
        Key::new(code, Mods::NONE)
    }

    pub fn ctrl(c: char) -> Key {
        Key::new(KeyCode::Char(c), Mods::CTRL)
    }

    pub fn alt(c: char) -> Key {
        Key::new(KeyCode::Char(c), Mods::ALT)
    }
}

fn no_shift(mods: Mods) -> Mods {
    Mods { shift: false, ..mods }
}

/// The single-character lowercase form of `c`, when `c` is an uppercase
/// letter whose lowercase is one character (a few, like `İ`, expand).
fn lowercase_of(c: char) -> Option<char> {
    if !c.is_uppercase() {
        return None;
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) if l != c => Some(l),
        _ => None,
    }
}

fn uppercase_of(c: char) -> Option<char> {
    if !c.is_lowercase() {
        return None;
    }
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) if u != c => Some(u),
        _ => None,
    }
}

/// Turn a typed character and the modifiers the terminal reported into the
/// canonical `Key`. Terminals differ in whether they also report shift for an
/// uppercase or shifted character, and in whether ctrl+shift+s arrives as `S`
/// or `s`; every variant ends up as the same key.
pub(crate) fn from_char_input(c: char, mods: Mods) -> Key {
    if c == ' ' {
        return Key { code: KeyCode::Space, mods };
    }
    let chorded = mods.ctrl || mods.alt;
    let (code, shift) = if let Some(lower) = lowercase_of(c) {
        if chorded { (lower, true) } else { (c, false) }
    } else if let Some(upper) = uppercase_of(c) {
        match (chorded, mods.shift) {
            (true, shift) => (c, shift),
            (false, true) => (upper, false),
            (false, false) => (c, false),
        }
    } else {
        (c, false)
    };
    Key { code: KeyCode::Char(code), mods: Mods { shift, ..mods } }
}

fn named_key(name: &str) -> Option<KeyCode> {
    let lower = name.to_ascii_lowercase();
    let code = match lower.as_str() {
        "enter" | "ret" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" | "bs" => KeyCode::Backspace,
        "del" | "delete" => KeyCode::Delete,
        "ins" | "insert" => KeyCode::Insert,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "space" | "spc" => KeyCode::Space,
        _ => {
            let n: u8 = lower.strip_prefix('f')?.parse().ok()?;
            if !(1..=MAX_F).contains(&n) {
                return None;
            }
            KeyCode::F(n)
        }
    };
    Some(code)
}

impl FromStr for Key {
    type Err = KeyParseError;

    fn from_str(written: &str) -> Result<Self, Self::Err> {
        if written.is_empty() {
            return Err(KeyParseError::Empty);
        }
        let mut mods = Mods::NONE;
        let mut rest = written;
        // A modifier is one letter followed by `-`; requiring something after
        // the dash is what lets `-` and `C--` mean the minus key, and lets a
        // bare `A` or `C` mean the letter.
        loop {
            let mut chars = rest.chars();
            let (Some(m), Some('-')) = (chars.next(), chars.next()) else {
                break;
            };
            let flag = match m.to_ascii_lowercase() {
                'c' => &mut mods.ctrl,
                'a' | 'm' => &mut mods.alt,
                's' => &mut mods.shift,
                _ => break,
            };
            if rest.len() == 2 {
                return Err(KeyParseError::NothingAfterModifier(written.to_string()));
            }
            if *flag {
                return Err(KeyParseError::RepeatedModifier(written.to_string()));
            }
            *flag = true;
            rest = &rest[2..];
        }

        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if c.is_control() {
                    return Err(KeyParseError::ControlChar(written.escape_debug().to_string()));
                }
                let cased = lowercase_of(c).is_some() || uppercase_of(c).is_some();
                if mods.shift && !cased && c != ' ' {
                    return Err(KeyParseError::ShiftWithoutCase(written.to_string()));
                }
                KeyCode::Char(c)
            }
            _ => named_key(rest).ok_or_else(|| KeyParseError::UnknownName { written: rest.to_string() })?,
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Mods { ctrl, alt, shift } = self.mods;
        if ctrl {
            f.write_str("C-")?;
        }
        if alt {
            f.write_str("A-")?;
        }
        if shift || self.code == KeyCode::BackTab {
            f.write_str("S-")?;
        }
        let name = match self.code {
            KeyCode::Char(c) => return write!(f, "{c}"),
            KeyCode::F(n) => return write!(f, "F{n}"),
            KeyCode::Enter => "Enter",
            KeyCode::Esc => "Esc",
            KeyCode::Tab | KeyCode::BackTab => "Tab",
            KeyCode::Backspace => "Backspace",
            KeyCode::Delete => "Delete",
            KeyCode::Insert => "Insert",
            KeyCode::Home => "Home",
            KeyCode::End => "End",
            KeyCode::PageUp => "PageUp",
            KeyCode::PageDown => "PageDown",
            KeyCode::Up => "Up",
            KeyCode::Down => "Down",
            KeyCode::Left => "Left",
            KeyCode::Right => "Right",
            KeyCode::Space => "Space",
        };
        f.write_str(name)
    }
}

impl KeySeq {
    pub fn keys(&self) -> &[Key] {
        &self.0
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Key> for KeySeq {
    fn from(key: Key) -> Self {
        KeySeq(vec![key])
    }
}

impl FromStr for KeySeq {
    type Err = KeyParseError;

    fn from_str(written: &str) -> Result<Self, Self::Err> {
        let keys = written.split_whitespace().map(str::parse).collect::<Result<Vec<Key>, _>>()?;
        if keys.is_empty() {
            return Err(KeyParseError::Empty);
        }
        Ok(KeySeq(keys))
    }
}

impl fmt::Display for KeySeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        s.parse().unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn err(s: &str) -> String {
        match s.parse::<Key>() {
            Ok(k) => panic!("{s:?} should not parse, got {k:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn canonical_forms_round_trip() {
        for s in [
            "a",
            "A",
            "z",
            "Z",
            "1",
            "!",
            "?",
            "<",
            ">",
            "-",
            "é",
            "É",
            "C-s",
            "C-S-s",
            "A-x",
            "A-S-x",
            "C-A-x",
            "C-A-S-x",
            "C--",
            "A--",
            "A-<",
            "A-1",
            "S-Tab",
            "C-S-Tab",
            "Tab",
            "Esc",
            "Enter",
            "A-Enter",
            "S-Enter",
            "Backspace",
            "A-Backspace",
            "Delete",
            "Insert",
            "Home",
            "End",
            "PageUp",
            "PageDown",
            "Up",
            "S-Up",
            "C-Left",
            "C-A-Right",
            "Down",
            "F1",
            "F12",
            "F24",
            "C-F5",
            "Space",
            "C-Space",
        ] {
            let k = key(s);
            assert_eq!(k.to_string(), s, "display of {s:?} ({k:?})");
            assert_eq!(key(&k.to_string()), k);
        }
    }

    #[test]
    fn aliases_and_case_insensitivity() {
        let same = [
            ("Ret", "Enter"),
            ("return", "Enter"),
            ("ENTER", "Enter"),
            ("BS", "Backspace"),
            ("bs", "Backspace"),
            ("Del", "Delete"),
            ("Ins", "Insert"),
            ("PgUp", "PageUp"),
            ("pgdn", "PageDown"),
            ("escape", "Esc"),
            ("spc", "Space"),
            ("f1", "F1"),
            ("BackTab", "S-Tab"),
            ("s-tab", "S-Tab"),
            ("M-x", "A-x"),
            ("m-x", "A-x"),
            ("a-x", "A-x"),
            ("c-s", "C-s"),
            ("c-a-x", "C-A-x"),
            ("A-C-x", "C-A-x"),
            ("S-a", "A"),
            ("S-A", "A"),
            ("C-S", "C-S-s"),
            ("C-S-S", "C-S-s"),
            ("A-X", "A-S-x"),
            ("s-c-x", "C-S-x"),
        ];
        for (alias, canonical) in same {
            assert_eq!(key(alias), key(canonical), "{alias} == {canonical}");
            assert_eq!(key(alias).to_string(), canonical, "display of {alias}");
        }
        assert_ne!(key("a"), key("A"));
        assert_ne!(key("C-s"), key("C-S-s"));
    }

    #[test]
    fn bare_letters_that_look_like_modifiers_are_letters() {
        assert_eq!(key("C"), Key::plain(KeyCode::Char('C')));
        assert_eq!(key("a"), Key::plain(KeyCode::Char('a')));
        assert_eq!(key("-"), Key::plain(KeyCode::Char('-')));
        assert_eq!(key("C--"), Key::ctrl('-'));
        assert_eq!(key("C-A"), Key::new(KeyCode::Char('a'), Mods { ctrl: true, shift: true, alt: false }));
    }

    #[test]
    fn structure_of_parsed_keys() {
        assert_eq!(key("C-s"), Key { code: KeyCode::Char('s'), mods: Mods::CTRL });
        assert_eq!(key("A"), Key { code: KeyCode::Char('A'), mods: Mods::NONE });
        assert_eq!(key("S-Tab"), Key { code: KeyCode::BackTab, mods: Mods::NONE });
        assert_eq!(key("S-Up"), Key { code: KeyCode::Up, mods: Mods::SHIFT });
        assert_eq!(key("F11"), Key::plain(KeyCode::F(11)));
    }

    #[test]
    fn malformed_keys_explain_themselves() {
        assert_eq!(err("C-"), "`C-` is not a key: nothing after the modifier");
        assert_eq!(err("C-A-"), "`C-A-` is not a key: nothing after the modifier");
        assert_eq!(err("C-C-x"), "`C-C-x` is not a key: a modifier is written twice");
        let unknown = err("Foo");
        assert!(
            unknown.starts_with("`Foo` is not a key name; expected a character or one of Enter, Esc, Tab"),
            "{unknown}"
        );
        assert!(err("C-Foo").starts_with("`Foo` is not a key name"));
        assert!(err("F0").starts_with("`F0` is not a key name"));
        assert!(err("F25").starts_with("`F25` is not a key name"));
        assert!(err("Ctrl-s").starts_with("`Ctrl-s` is not a key name"));
        assert!(err("S-1").starts_with("`S-1` is not a key: shift only applies to letters"));
        assert_eq!(err(""), "an empty string is not a key");
        assert!(err("\u{1}").contains("control characters"));
    }

    #[test]
    fn sequences_round_trip() {
        for s in ["g g", "C-x C-c", "Z Z", "C-w w", "Space q", "A-<", "C-x 1"] {
            let seq: KeySeq = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(seq.to_string(), s);
        }
        let seq: KeySeq = "  c-x   c-C ".parse().expect("extra whitespace is fine");
        assert_eq!(seq.to_string(), "C-x C-S-c");
        assert_eq!(seq.len(), 2);
        assert_eq!("".parse::<KeySeq>(), Err(KeyParseError::Empty));
        assert_eq!("   ".parse::<KeySeq>(), Err(KeyParseError::Empty));
        assert_eq!(
            "g Foo".parse::<KeySeq>().map_err(|e| e.to_string()),
            Err(format!("`Foo` is not a key name; expected a character or one of {KEY_NAMES}"))
        );
    }

    #[test]
    fn typed_characters_match_parsed_keys() {
        let shift = Mods::SHIFT;
        let ctrl_shift = Mods { ctrl: true, shift: true, alt: false };
        let alt_shift = Mods { alt: true, shift: true, ctrl: false };
        let cases = [
            (from_char_input('a', Mods::NONE), "a"),
            (from_char_input('A', Mods::NONE), "A"),
            (from_char_input('A', shift), "A"),
            (from_char_input('a', shift), "A"),
            (from_char_input('?', shift), "?"),
            (from_char_input('!', Mods::NONE), "!"),
            (from_char_input('s', Mods::CTRL), "C-s"),
            (from_char_input('S', Mods::CTRL), "C-S-s"),
            (from_char_input('S', ctrl_shift), "C-S-s"),
            (from_char_input('s', ctrl_shift), "C-S-s"),
            (from_char_input('<', alt_shift), "A-<"),
            (from_char_input('X', alt_shift), "A-S-x"),
            (from_char_input(' ', Mods::NONE), "Space"),
            (from_char_input(' ', Mods::CTRL), "C-Space"),
            (from_char_input('1', Mods::ALT), "A-1"),
        ];
        for (typed, written) in cases {
            assert_eq!(typed, key(written), "typed {typed:?} vs {written}");
        }
        assert_eq!(Key::new(KeyCode::Tab, shift), key("S-Tab"));
        assert_eq!(Key::new(KeyCode::BackTab, shift), key("S-Tab"));
        assert_eq!(Key::new(KeyCode::Char('G'), shift), key("G"));
    }
}
