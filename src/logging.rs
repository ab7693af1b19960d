//! Logging to a file in the state directory, never to the terminal the app
//! draws on, with every secret tandem knows replaced on the way.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Redacting { make: writer, redactor: None })
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// A writer maker whose writers redact: one choke point for every line
/// logged, whoever logs it (tandem, reqwest, hyper).
pub struct Redacting<M> {
    pub make: M,
    /// `None`: the secrets in force when each line is written.
    pub redactor: Option<Arc<crate::secrets::Redactor>>,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        let redactor = self.redactor.clone().unwrap_or_else(crate::secrets::redactor);
        RedactingWriter { inner: self.make.make_writer(), buf: Vec::new(), redactor }
    }
}

/// Gathers one event's text (the formatter makes a writer per event) and
/// writes it redacted when flushed or dropped, so a secret split across
/// the formatter's writes is still whole when it is looked for.
pub struct RedactingWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
    redactor: Arc<crate::secrets::Redactor>,
}

impl<W: Write> RedactingWriter<W> {
    fn emit(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf);
        let redacted = self.redactor.redact(&text).into_owned();
        self.buf.clear();
        self.inner.write_all(redacted.as_bytes())
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Sink {
            self.clone()
        }
    }

    #[test]
    fn a_secret_written_in_pieces_is_logged_redacted() {
        let key = "sk-test-0123456789abcdef";
        let sink = Sink::default();
        let make = Redacting { make: sink.clone(), redactor: Some(Arc::new(crate::secrets::Redactor::new([key]))) };
        let mut w = make.make_writer();
        w.write_all(b"error: the server said sk-test-0123").unwrap();
        w.write_all(b"456789abcdef is wrong\n").unwrap();
        drop(w);
        let mut w = make.make_writer();
        w.write_all(b"plain\n").unwrap();
        w.flush().unwrap();
        let logged = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(logged, "error: the server said [REDACTED] is wrong\nplain\n");
    }
}
