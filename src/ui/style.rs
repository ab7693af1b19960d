//! Theme styles as ratatui styles.

use ratatui::style::{Color, Modifier, Style};

use crate::config::theme::{self, Modifiers, StyleSpec, Theme};

/// Indexed 0-15 are the terminal's own 16 colours. They go out as the named
/// colours (SGR 30-37, 90-97) so 16-colour terminals understand them, not as
/// 256-colour escapes.
fn color(c: theme::Color) -> Color {
    const ANSI: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match c {
        theme::Color::Reset => Color::Reset,
        theme::Color::Indexed(i) if i < 16 => ANSI[i as usize],
        theme::Color::Indexed(i) => Color::Indexed(i),
        theme::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

pub(crate) fn to_style(spec: StyleSpec) -> Style {
    let mut s = Style::default();
    if let Some(fg) = spec.fg {
        s = s.fg(color(fg));
    }
    if let Some(bg) = spec.bg {
        s = s.bg(color(bg));
    }
    let m = spec.modifiers;
    let pairs = [
        (Modifiers::BOLD, Modifier::BOLD),
        (Modifiers::DIM, Modifier::DIM),
        (Modifiers::ITALIC, Modifier::ITALIC),
        (Modifiers::UNDERLINED, Modifier::UNDERLINED),
        (Modifiers::REVERSED, Modifier::REVERSED),
        (Modifiers::CROSSED_OUT, Modifier::CROSSED_OUT),
    ];
    for (ours, theirs) in pairs {
        if m.contains(ours) {
            s = s.add_modifier(theirs);
        }
    }
    s
}

/// The ratatui style of a theme scope.
pub(crate) fn style(theme: &Theme, scope: &str) -> Style {
    to_style(theme.style(scope))
}
