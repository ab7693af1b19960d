//! Approved writes land where they must and lose nothing: paths are
//! resolved again at the moment of writing, concurrent appends survive,
//! read-only and special files are refused, a refused undo keeps its
//! record, and a killed apply leaves no mix and no leftovers.

mod app_undo;
mod append;
// The app-loop helpers the other integration tests share.
use crate::common;
mod fixture;
mod killed;
mod races;
mod special;
mod undo;

use crate::harness::Family;

pub fn apply_races() -> Family {
    let mut family = Family::new("writes: apply races");
    races::swapped_before_apply(&mut family);
    for component in 0..4 {
        races::swapped_during_apply(&mut family, component, 20);
    }
    append::trials(&mut family, append::Appender::Thread, 16);
    append::trials(&mut family, append::Appender::Shell, 8);
    append::trials(&mut family, append::Appender::HeldOpen, 2);
    special::special_files(&mut family);
    special::permissions(&mut family);
    special::git_paths(&mut family);
    family
}

pub fn undo() -> Family {
    let mut family = Family::new("writes: undo");
    undo::refused_and_retried(&mut family);
    undo::partial(&mut family);
    app_undo::through_the_app(&mut family);
    family
}

pub fn killed_apply() -> Family {
    let mut family = Family::new("writes: killed apply");
    killed::killed(&mut family, 6);
    family
}
