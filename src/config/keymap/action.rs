//! Every command a key can trigger, with its name (used in keymap files) and
//! the one-line description shown in the help overlay.
//!
//! Keymaps refer to actions only by these names, so renaming one is a breaking
//! change for users' keymap files.

use std::fmt;
use std::str::FromStr;

macro_rules! actions {
    ($( $variant:ident => $name:literal, $hint:expr, $doc:literal; )*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $( #[doc = $doc] $variant, )*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[ $( Action::$variant, )* ];

            /// The name used in keymap files, e.g. `focus_next`.
            pub fn name(self) -> &'static str {
                match self { $( Action::$variant => $name, )* }
            }

            /// One line for the help overlay.
            pub(crate) fn doc(self) -> &'static str {
                match self { $( Action::$variant => $doc, )* }
            }

            /// A short label for the status-line hints, for the actions worth
            /// hinting at.
            pub(crate) fn hint(self) -> Option<&'static str> {
                match self { $( Action::$variant => $hint, )* }
            }
        }

        impl FromStr for Action {
            type Err = UnknownAction;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $name => Ok(Action::$variant), )*
                    _ => Err(UnknownAction(s.to_string())),
                }
            }
        }
    };
}

actions! {
    Quit => "quit", Some("quit"), "Quit tandem and print a summary of the session";
    Cancel => "cancel", None, "Close the overlay or cancel the running turn";
    Interrupt => "interrupt", None, "Like cancel, or clear the composer (the text stays in history); again with nothing to cancel, quits";
    Help => "help", Some("help"), "Show or hide this help overlay";
    FocusNext => "focus_next", Some("focus"), "Move focus to the next pane";
    FocusPrev => "focus_prev", None, "Move focus to the previous pane";
    FocusChat => "focus_chat", None, "Focus the chat pane";
    FocusDiff => "focus_diff", None, "Focus the diff-approval pane";
    FocusMetrics => "focus_metrics", None, "Focus the metrics pane";
    FocusComposer => "focus_composer", Some("write"), "Focus the composer to write a message";
    Zoom => "zoom", Some("zoom"), "Zoom the focused pane to the whole screen, or back";
    Suspend => "suspend", None, "Suspend tandem to the shell; `fg` resumes it";
    Redraw => "redraw", None, "Redraw the whole screen";
    Submit => "submit", Some("send"), "Send the message in the composer";
    InsertNewline => "insert_newline", Some("newline"), "Insert a line break in the composer";
    HistoryPrev => "history_prev", None, "Move up a line; on the first line, recall the previous message sent";
    HistoryNext => "history_next", None, "Move down a line; on the last line, recall the next message sent";
    CursorLeft => "cursor_left", None, "Move the cursor one character left";
    CursorRight => "cursor_right", None, "Move the cursor one character right";
    CursorWordLeft => "cursor_word_left", None, "Move the cursor to the start of the previous word";
    CursorWordRight => "cursor_word_right", None, "Move the cursor past the end of the next word";
    CursorLineStart => "cursor_line_start", None, "Move the cursor to the start of the line";
    CursorLineEnd => "cursor_line_end", None, "Move the cursor to the end of the line";
    DeleteBack => "delete_back", None, "Delete the character before the cursor";
    DeleteForward => "delete_forward", None, "Delete the character under the cursor";
    DeleteWordBack => "delete_word_back", None, "Delete the word before the cursor";
    DeleteToLineStart => "delete_to_line_start", None, "Delete from the start of the line to the cursor";
    DeleteToLineEnd => "delete_to_line_end", None, "Delete from the cursor to the end of the line";
    ClearComposer => "clear_composer", None, "Clear the composer";
    Retry => "retry", None, "Ask the model again after an answer failed";
    CopyAnswer => "copy_answer", Some("copy"), "Copy the last answer to the clipboard (OSC 52, works over ssh)";
    CopyCode => "copy_code", None, "Copy the code block at the bottom of the chat view to the clipboard";
    ToggleDetails => "toggle_details", Some("details"), "Show or hide the output of the selected tool call, or of all of them";
    SelectPrev => "select_prev", Some("select"), "Select the previous message in the chat (for copying and expanding)";
    SelectNext => "select_next", None, "Select the next message in the chat";
    ScrollUp => "scroll_up", Some("scroll"), "Scroll the pane up one line";
    ScrollDown => "scroll_down", None, "Scroll the pane down one line";
    PageUp => "page_up", None, "Scroll the pane up one page";
    PageDown => "page_down", None, "Scroll the pane down one page";
    HalfPageUp => "half_page_up", None, "Scroll the pane up half a page";
    HalfPageDown => "half_page_down", None, "Scroll the pane down half a page";
    ScrollTop => "scroll_top", None, "Scroll to the top of the pane";
    ScrollBottom => "scroll_bottom", None, "Scroll to the bottom of the pane and follow new output";
    AcceptHunk => "accept_hunk", Some("accept"), "Accept the focused hunk (or allow the command)";
    RejectHunk => "reject_hunk", Some("reject"), "Reject the focused hunk (or refuse the command)";
    RejectWithReason => "reject_with_reason", Some("reason"), "Reject the focused hunk (or command) and type a reason the model is told";
    AcceptFile => "accept_file", None, "Accept every hunk of the focused file";
    RejectFile => "reject_file", None, "Reject every hunk of the focused file";
    AcceptAll => "accept_all", None, "Accept every hunk of every file";
    RejectAll => "reject_all", None, "Reject every hunk of every file";
    NextHunk => "next_hunk", None, "Focus the next hunk";
    PrevHunk => "prev_hunk", None, "Focus the previous hunk";
    NextFile => "next_file", None, "Focus the first hunk of the next file";
    PrevFile => "prev_file", None, "Focus the first hunk of the previous file";
    SplitHunk => "split_hunk", Some("split"), "Split the focused hunk into its separate changes";
    EditHunk => "edit_hunk", Some("edit"), "Edit the focused hunk's new text in $EDITOR; the result is what gets applied";
    ApplyDecisions => "apply_decisions", Some("apply"), "Write and stage the accepted hunks, and tell the model what was decided";
    UndoApplied => "undo_applied", None, "Undo the last applied change set, in the working tree and the git index";
    AlwaysAllow => "always_allow", None, "Allow the command, and commands starting the same way, for this session";
    CyclePolicy => "cycle_policy", None, "Switch the approval policy: suggest, auto-edit, full-auto";
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAction(pub String);

impl fmt::Display for UnknownAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown action `{}`", self.0)
    }
}

impl std::error::Error for UnknownAction {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = HashSet::new();
        for &a in Action::ALL {
            assert!(seen.insert(a.name()), "duplicate action name {}", a.name());
            assert_eq!(a.name().parse::<Action>(), Ok(a));
            assert!(!a.doc().is_empty());
        }
        assert!("no_such_action".parse::<Action>().is_err());
    }
}
