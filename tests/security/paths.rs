//! Attacks through paths and files: every tool that takes a path against
//! escapes of the repository, special files that could hang a read, and
//! JSON-lines files torn by a crash and then appended to.

mod journal;
mod kit;
mod special;
mod tool_paths;

use crate::harness::Family;

pub fn tool_paths() -> Family {
    tool_paths::family()
}

pub fn special_files() -> Family {
    special::family()
}

pub fn journal() -> Family {
    journal::family()
}
