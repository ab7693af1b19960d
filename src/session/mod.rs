//! A session's directory under the state directory, and what is recorded in
//! it.

mod appender;
pub mod audit;
pub mod journal;

pub(crate) use appender::open_append;

use std::path::{Path, PathBuf};

/// This session's directory, `STATE/sessions/<start time>-<pid>/`. Not
/// created here: whatever first writes into it does, so a session that
/// records nothing leaves nothing behind.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("sessions").join(stamp())
}

/// Now and this process, as a file name: `YYYYMMDDTHHMMSSZ-<pid>`.
pub(crate) fn stamp() -> String {
    format!("{}-{}", utc_now().replace([':', '-'], ""), std::process::id())
}

/// The key of the repository at `root` in the names of its files outside
/// it (its sessions, its index cache): 16 hex digits of a hash of its
/// canonical path, so any path to it gives the same key.
pub(crate) fn repo_key(root: &Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    blake3::hash(root.as_os_str().as_encoded_bytes()).to_hex()[..16].to_string()
}

/// Now as UTC `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), to avoid a date crate.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        if m <= 2 { y + 1 } else { y },
        m,
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
