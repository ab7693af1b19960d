//! Colours, modifiers and terminal colour depth, independent of any TUI crate
//! so the theme can be loaded and checked without a terminal.

use std::ops::{BitOr, BitOrAssign};

/// A terminal colour. `Indexed(0..=15)` are the 16 ANSI colours, which the
/// user's terminal palette decides; the UI must map them to its named colours
/// (not to 256-colour escapes) so they work on 16-colour terminals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Color {
    Reset,
    Indexed(u8),
    Rgb(u8, u8, u8),
}

/// Helix's names, in ANSI index order: `gray` is bright black (8) and
/// `light-gray` is plain white (7), as on most terminals.
pub const ANSI_NAMES: [&str; 16] = [
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "light-gray",
    "gray",
    "light-red",
    "light-green",
    "light-yellow",
    "light-blue",
    "light-magenta",
    "light-cyan",
    "white",
];

impl Color {
    /// A colour written without the palette: `#rrggbb`, an ANSI name or `reset`.
    pub(crate) fn parse_name(text: &str) -> Option<Color> {
        if let Some(hex) = text.strip_prefix('#') {
            return parse_hex(hex);
        }
        if text == "reset" {
            return Some(Color::Reset);
        }
        ANSI_NAMES.iter().position(|n| *n == text).and_then(|i| u8::try_from(i).ok()).map(Color::Indexed)
    }

    /// Whether a 16-colour terminal can show this colour.
    pub(crate) fn is_ansi16(self) -> bool {
        match self {
            Color::Reset => true,
            Color::Indexed(i) => i < 16,
            Color::Rgb(..) => false,
        }
    }

    /// This colour as a terminal of `depth` can show it; `None` when it shows no colour.
    pub(crate) fn adapt(self, depth: ColorDepth) -> Option<Color> {
        match (depth, self) {
            (ColorDepth::NoColor, _) => None,
            (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_xterm256(r, g, b))),
            (_, c) => Some(c),
        }
    }
}

fn parse_hex(hex: &str) -> Option<Color> {
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Color::Rgb(channel(0)?, channel(2)?, channel(4)?))
}

/// The xterm-256 index (16..=255) nearest to an RGB colour. Indices 0..=15 are
/// skipped because the user's terminal palette redefines them.
pub fn nearest_xterm256(r: u8, g: u8, b: u8) -> u8 {
    let target = [r, g, b].map(i32::from);
    let mut best = (16u8, i32::MAX);
    for index in 16..=255u8 {
        let [cr, cg, cb] = xterm256_rgb(index).map(i32::from);
        let d = (cr - target[0]).pow(2) + (cg - target[1]).pow(2) + (cb - target[2]).pow(2);
        if d < best.1 {
            best = (index, d);
        }
    }
    best.0
}

/// The RGB value xterm uses for a 256-colour index of 16 or more.
fn xterm256_rgb(index: u8) -> [u8; 3] {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    if index >= 232 {
        let v = 8 + 10 * (index - 232);
        return [v, v, v];
    }
    let i = usize::from(index.saturating_sub(16));
    [LEVELS[i / 36], LEVELS[(i / 6) % 6], LEVELS[i % 6]]
}

/// Text attributes, as a bit set so styles stay `Copy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Modifiers(u16);

impl Modifiers {
    pub(crate) const BOLD: Modifiers = Modifiers(1);
    pub(crate) const DIM: Modifiers = Modifiers(1 << 1);
    pub(crate) const ITALIC: Modifiers = Modifiers(1 << 2);
    pub(crate) const UNDERLINED: Modifiers = Modifiers(1 << 3);
    pub(crate) const REVERSED: Modifiers = Modifiers(1 << 4);
    pub(crate) const CROSSED_OUT: Modifiers = Modifiers(1 << 5);

    /// The names accepted in `modifiers = [...]`, with their flags.
    pub(crate) const NAMES: [(&'static str, Modifiers); 6] = [
        ("bold", Modifiers::BOLD),
        ("dim", Modifiers::DIM),
        ("italic", Modifiers::ITALIC),
        ("underlined", Modifiers::UNDERLINED),
        ("reversed", Modifiers::REVERSED),
        ("crossed_out", Modifiers::CROSSED_OUT),
    ];

    pub(crate) const fn empty() -> Self {
        Modifiers(0)
    }

    #[cfg(test)]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set in `self`.
    pub(crate) const fn contains(self, other: Modifiers) -> bool {
        self.0 & other.0 == other.0
    }

    pub(crate) fn from_name(name: &str) -> Option<Modifiers> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }
}

impl BitOr for Modifiers {
    type Output = Modifiers;
    fn bitor(self, rhs: Modifiers) -> Modifiers {
        Modifiers(self.0 | rhs.0)
    }
}

impl BitOrAssign for Modifiers {
    fn bitor_assign(&mut self, rhs: Modifiers) {
        self.0 |= rhs.0;
    }
}

/// What a theme scope asks for; `None` colours leave the terminal's (or the
/// enclosing widget's) colour in place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StyleSpec {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub modifiers: Modifiers,
}

impl StyleSpec {
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        *self == StyleSpec::default()
    }

    /// Whether every colour in this style shows on a 16-colour terminal.
    pub(crate) fn is_ansi16(&self) -> bool {
        self.fg.is_none_or(Color::is_ansi16) && self.bg.is_none_or(Color::is_ansi16)
    }

    pub(crate) fn adapt(self, depth: ColorDepth) -> StyleSpec {
        StyleSpec {
            fg: self.fg.and_then(|c| c.adapt(depth)),
            bg: self.bg.and_then(|c| c.adapt(depth)),
            modifiers: self.modifiers,
        }
    }
}

/// How many colours the terminal can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColorDepth {
    NoColor,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl ColorDepth {
    /// Guess the depth from the environment, the way most terminal programs do:
    /// `NO_COLOR` (<https://no-color.org>) beats everything, then `COLORTERM`,
    /// then `TERM`. Takes a lookup function so tests need not touch the real
    /// environment.
    pub(crate) fn detect(env: impl Fn(&str) -> Option<String>) -> ColorDepth {
        if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return ColorDepth::NoColor;
        }
        if let Some(ct) = env("COLORTERM") {
            let ct = ct.to_ascii_lowercase();
            if ct == "truecolor" || ct == "24bit" {
                return ColorDepth::TrueColor;
            }
        }
        match env("TERM") {
            Some(term) if term == "dumb" => ColorDepth::NoColor,
            Some(term) if term.contains("256color") => ColorDepth::Ansi256,
            _ => ColorDepth::Ansi16,
        }
    }
}
