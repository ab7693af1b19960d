//! Edits that change meaning or cannot be undone by an editor, and the
//! model's text on its way to a terminal: the families of `edit_file` and
//! `apply_patch` matching, the patch format's blank lines and whitespace,
//! the hunk editor, and control sequences printed by `tandem exec` or drawn
//! by the TUI.

mod editor;
mod escapes;
mod matching;
mod patch_format;
mod support;

use crate::harness::Entry;

pub const MATCHING: Entry = ("edit matching", matching::family);
pub const PATCH_FORMAT: Entry = ("patch format", patch_format::family);
pub const EDITOR: Entry = ("editor", editor::family);
pub const ESCAPES: Entry = ("terminal escapes", escapes::family);
