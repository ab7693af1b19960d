//! The view model: what the screen shows, as plain data. The application
//! changes it; the UI draws it and imports nothing above it.
//!
//! - `state`: the whole of what is on screen (conversation, panes, overlays,
//!   metrics, index and check status).
//! - `review`: the review desk's queue of proposed edits and commands, with
//!   each hunk's decision.
//! - `composer`: the text being typed, with its cursor and selection.
//! - `history`: the prompts sent before, kept per repository.
//! - `permission`: a permission request's text made safe and bounded for
//!   the screen.

pub(crate) mod composer;
pub mod history;
mod permission;
pub mod review;
pub mod state;
