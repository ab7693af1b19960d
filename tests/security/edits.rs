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

pub use editor::family as editor_family;
pub use escapes::family as escapes_family;
pub use matching::family as matching_family;
pub use patch_format::family as patch_format_family;
