//! Logging to a file in the state directory, never to the terminal the app
//! draws on.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Start logging to `file`. `TANDEM_LOG` (tracing filter syntax) wins over
/// the configured level. Returns the guard that flushes the log on drop, or
/// `None` when the file cannot be opened (tandem then runs without a log).
pub fn init(file: Option<&Path>, level: &str) -> Option<WorkerGuard> {
    let file = file?;
    let dir = file.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let name = file.file_name()?;
    let appender = tracing_appender::rolling::never(dir, name);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = std::env::var("TANDEM_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("tandem={level},warn")));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false).try_init().ok()?;
    Some(guard)
}
