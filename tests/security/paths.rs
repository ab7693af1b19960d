//! Attacks through paths and files: every tool that takes a path against
//! escapes of the repository, special files that could hang a read, and
//! JSON-lines files torn by a crash and then appended to.

mod journal;

use crate::harness::Family;

pub fn journal() -> Family {
    journal::family()
}
