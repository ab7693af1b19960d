//! A session's directory under the state directory, and what is recorded in
//! it.

pub mod audit;

use std::path::{Path, PathBuf};

/// `STATE/sessions/<start time>-<pid>/`, created on first use.
pub fn new_dir(state_dir: &Path) -> std::io::Result<PathBuf> {
    let name = format!("{}-{}", crate::session::audit::timestamp().replace([':', '-'], ""), std::process::id());
    let dir = state_dir.join("sessions").join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
