//! A permission as the user is shown it: its text may come from the model
//! or a server, so what a terminal would act on or what hides or reorders
//! text goes, and all of it is cut to a bounded size, saying so.

use crate::engine::Permission;

/// Longest title (and "always allow" key) shown, in characters.
pub(crate) const TITLE_CHARS: usize = 200;
/// Most lines of a permission's detail shown.
pub(crate) const DETAIL_LINES: usize = 30;
/// Most characters of a permission's detail shown.
pub(crate) const DETAIL_CHARS: usize = 3000;
/// Most characters of one line of the detail shown.
pub(crate) const LINE_CHARS: usize = 400;

/// `permission` as the user is shown it. Its text may come from the model
/// or a server: control sequences (which a terminal would act on), bidi
/// controls (which reorder what is shown) and other invisible controls go;
/// tabs become spaces; the title and the key are one line each; all of it
/// is cut to a bounded size, saying so.
pub(crate) fn shown(permission: Permission) -> Permission {
    Permission {
        kind: permission.kind,
        title: one_line(&permission.title),
        detail: detail(&permission.detail),
        remember_key: permission.remember_key.as_deref().map(one_line),
    }
}

/// `text` without control sequences and the characters that hide or
/// reorder text (bidi marks, zero-width spaces); newlines kept, line and
/// paragraph separators as newlines, tabs as four spaces.
fn printable(text: &str) -> String {
    crate::printable::strip(text)
        .chars()
        .filter(|c| !matches!(c, '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{feff}'))
        .map(|c| if matches!(c, '\u{2028}' | '\u{2029}') { '\n' } else { c })
        .collect::<String>()
        .replace('\t', "    ")
}

fn one_line(text: &str) -> String {
    let flat = printable(text).split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&flat, TITLE_CHARS)
}

/// At most `max` characters of `text`, ending in `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn detail(text: &str) -> String {
    let clean = printable(text);
    let mut out: Vec<String> = Vec::new();
    let (mut used, mut cut_short) = (0, false);
    for line in clean.lines() {
        if out.len() == DETAIL_LINES || used >= DETAIL_CHARS {
            break;
        }
        let room = (DETAIL_CHARS - used).min(LINE_CHARS);
        let n = line.chars().count();
        cut_short |= n > room;
        used += n.min(room);
        out.push(cut(line, room));
    }
    let all = clean.chars().count();
    let left = clean.lines().count() - out.len();
    if left > 0 {
        out.push(format!("… {left} more line(s) not shown ({all} characters in all)"));
    } else if cut_short {
        out.push(format!("… cut to fit ({all} characters in all)"));
    }
    out.join("\n")
}
