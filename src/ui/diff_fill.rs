//! The cells to send for a frame: ratatui's diff, with short gaps on a row
//! filled in.
//!
//! Between two changed cells on one row the terminal needs either a cursor
//! move (`ESC[row;colH`, 6 to 8 bytes) or the unchanged cells in between. For
//! a streamed answer the changed cells are words and the unchanged ones the
//! single spaces between them, so sending the spaces roughly halves the bytes
//! of a typical frame.

use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use unicode_width::UnicodeWidthStr;

/// Gaps up to this many cells are sent as cells rather than skipped with a
/// cursor move.
const MAX_GAP: u16 = 5;

pub(crate) fn updates<'a>(previous: &Buffer, current: &'a Buffer) -> Vec<(u16, u16, &'a Cell)> {
    let diff = previous.diff(current);
    let mut out: Vec<(u16, u16, &'a Cell)> = Vec::with_capacity(diff.len());
    for (x, y, cell) in diff {
        if let Some(&(lx, ly, last)) = out.last() {
            let next_x = lx + (last.symbol().width() as u16).max(1);
            if ly == y && x > next_x && x - next_x <= MAX_GAP {
                let gap: Vec<&Cell> = (next_x..x).map(|gx| &current[(gx, y)]).collect();
                // Only plain single-width cells in the style already in use:
                // anything else costs as much as the move it saves.
                if gap
                    .iter()
                    .all(|c| c.diff_option == CellDiffOption::None && c.symbol().width() == 1 && same_style(c, last))
                {
                    out.extend((next_x..x).zip(gap).map(|(gx, c)| (gx, y, c)));
                }
            }
        }
        out.push((x, y, cell));
    }
    out
}

fn same_style(a: &Cell, b: &Cell) -> bool {
    a.fg == b.fg && a.bg == b.bg && a.modifier == b.modifier && a.underline_color == b.underline_color
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};

    fn buf(lines: &[&str]) -> Buffer {
        Buffer::with_lines(lines.iter().copied())
    }

    fn xs(u: &[(u16, u16, &Cell)]) -> Vec<(u16, u16)> {
        u.iter().map(|(x, y, _)| (*x, *y)).collect()
    }

    #[test]
    fn words_separated_by_spaces_become_one_run() {
        let prev = buf(&["          "]);
        let cur = buf(&["ab cd  ef "]);
        let u = updates(&prev, &cur);
        assert_eq!(xs(&u), (0..9).map(|x| (x, 0)).collect::<Vec<_>>());
    }

    #[test]
    fn long_gaps_and_other_rows_are_left_to_cursor_moves() {
        let prev = buf(&["          ", "          "]);
        let cur = buf(&["a        b", "c         "]);
        assert_eq!(xs(&updates(&prev, &cur)), vec![(0, 0), (9, 0), (0, 1)]);
    }

    #[test]
    fn gaps_in_another_style_are_not_filled() {
        let prev = Buffer::empty(Rect::new(0, 0, 5, 1));
        let mut cur = buf(&["a b c"]);
        cur.set_style(Rect::new(1, 0, 1, 1), Style::default().bg(Color::Red));
        cur[(1, 0)].set_symbol(" ");
        let u = updates(&prev, &cur);
        // The red cell changed too, so it is sent; nothing is added.
        assert_eq!(xs(&u), vec![(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]);
        let prev = cur.clone();
        let mut next = cur.clone();
        next[(0, 0)].set_symbol("x");
        next[(2, 0)].set_symbol("y");
        assert_eq!(xs(&updates(&prev, &next)), vec![(0, 0), (2, 0)]);
    }

    #[test]
    fn the_result_paints_the_same_screen() {
        let prev = buf(&["hello world", "second line"]);
        let cur = buf(&["help  would", "second lime"]);
        let mut painted = prev.clone();
        for (x, y, c) in updates(&prev, &cur) {
            painted[(x, y)] = c.clone();
        }
        assert_eq!(painted, cur);
    }
}
