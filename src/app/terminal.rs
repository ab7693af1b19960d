//! The real terminal: raw mode and the alternate screen in, and always back
//! out, on quit, on panic, on signals and around suspend.

use std::io::{self, Stdout, Write};
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};

/// Frames bigger than this are wrapped in a synchronized update, so the
/// terminal shows them whole (no tearing). Smaller ones, like a few streamed
/// words, are written as they are: the 16 bytes of the wrapper would be a
/// large share of them, and a few cells cannot tear.
const SYNC_ABOVE: usize = 256;

/// Where frames go: the bytes of one frame are collected and written to the
/// terminal in one write when the frame ends, and counted.
pub struct FrameWriter {
    pending: Vec<u8>,
    out: Stdout,
    /// Bytes written to the terminal since start.
    pub written: u64,
}

impl FrameWriter {
    pub fn new() -> Self {
        Self { pending: Vec::with_capacity(64 * 1024), out: io::stdout(), written: 0 }
    }

    /// Write the collected frame. `sync` forces a synchronized update (when
    /// the cursor is visible, the moves to draw cells must not show).
    fn finish(&mut self, sync: bool) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut frame = Vec::with_capacity(self.pending.len() + 16);
        let wrap = sync || self.pending.len() > SYNC_ABOVE;
        if wrap {
            crossterm::QueueableCommand::queue(&mut frame, BeginSynchronizedUpdate)?;
        }
        frame.extend_from_slice(&self.pending);
        if wrap {
            crossterm::QueueableCommand::queue(&mut frame, EndSynchronizedUpdate)?;
        }
        self.pending.clear();
        self.out.write_all(&frame)?;
        self.out.flush()?;
        self.written += frame.len() as u64;
        Ok(())
    }
}

impl Default for FrameWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for FrameWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// The backend flushes after every frame; the frame is written by
    /// `Host::end_frame` instead, once the cursor is placed.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the event loop needs from a backend beyond drawing.
pub trait Host: ratatui::backend::Backend {
    /// Whether the frame drawn so far wrote anything.
    fn frame_wrote(&self) -> bool {
        true
    }
    /// Send the frame to the terminal.
    fn end_frame(&mut self, _cursor_visible: bool) -> io::Result<()> {
        Ok(())
    }
    /// Bytes written to the terminal so far.
    fn bytes_written(&self) -> u64 {
        0
    }
    /// Give the terminal back, stop until `fg`, then take it again.
    fn suspend(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Put text on the clipboard of the terminal's machine (OSC 52), which
    /// works over ssh too.
    fn copy_to_clipboard(&mut self, _text: &str) -> io::Result<()> {
        Ok(())
    }
    /// Open `path` in the user's editor and wait for it to exit. Without a
    /// terminal to hand over (tests), the editor runs with no input.
    fn run_editor(&mut self, path: &Path) -> io::Result<std::process::ExitStatus> {
        editor_command(path).stdin(std::process::Stdio::null()).status()
    }
}

/// `$VISUAL`, else `$EDITOR`, else `vi`, run through the shell so that an
/// editor given with arguments (`code --wait`) works. The shell is
/// `/bin/sh`, not the first `sh` on a `PATH` a repository may have changed.
/// The editor keeps the user's whole environment: it is the user's own
/// program, started by their key, as `git commit` starts it, and editor
/// plugins may need keys the commands of the model must not see.
pub(crate) fn editor_command(path: &Path) -> std::process::Command {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| std::env::var("EDITOR").ok().filter(|e| !e.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    let mut cmd = std::process::Command::new(crate::secrets::SHELL);
    cmd.arg("-c").arg(format!("{editor} \"$1\"")).arg("sh").arg(path);
    cmd
}

/// The file a hunk is edited in: `hunk.EXT` in a directory of its own
/// that only the user can enter, removed with everything in it when this
/// is dropped. A file in the shared temporary directory under a name
/// another local user can guess (or see, by listing the directory) could
/// be planted beforehand as a symlink, and the hunk written through it to
/// any file of the user's; a private directory leaves nothing to plant,
/// even while an editor saves by deleting and recreating the file.
pub(crate) struct EditorFile {
    /// Held for its removal on drop.
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl EditorFile {
    /// Hunks are small; an edited one larger than this is not read back.
    const MAX_BYTES: u64 = 16 << 20;

    /// `text` in a new private file. `ext` (the edited file's extension,
    /// for the editor's highlighting) is used only when it is a plain word.
    pub(crate) fn create(ext: Option<&str>, text: &str) -> io::Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let ext = ext.filter(|e| !e.is_empty() && e.len() <= 16 && e.bytes().all(|b| b.is_ascii_alphanumeric()));
        use std::os::unix::fs::PermissionsExt;
        let private = std::fs::Permissions::from_mode(0o700);
        let dir = tempfile::Builder::new().prefix("tandem-hunk-").permissions(private).tempdir()?;
        let path = dir.path().join(format!("hunk.{}", ext.unwrap_or("txt")));
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        file.write_all(text.as_bytes())?;
        Ok(EditorFile { _dir: dir, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the editor left: only a regular file, never read through a
    /// symlink nor waited on as a FIFO, and not larger than a hunk can be.
    pub(crate) fn read_back(&self) -> io::Result<String> {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let flags = nix::fcntl::OFlag::O_NOFOLLOW | nix::fcntl::OFlag::O_NONBLOCK;
        let file = std::fs::OpenOptions::new().read(true).custom_flags(flags.bits()).open(&self.path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("it is no longer a regular file"));
        }
        if meta.len() > Self::MAX_BYTES {
            return Err(io::Error::other(format!("it is larger than {} MiB", Self::MAX_BYTES >> 20)));
        }
        let mut text = String::new();
        file.take(Self::MAX_BYTES).read_to_string(&mut text)?;
        Ok(text)
    }
}

impl Host for TestBackend {}

impl Host for CrosstermBackend<FrameWriter> {
    fn frame_wrote(&self) -> bool {
        !self.writer().pending.is_empty()
    }

    fn end_frame(&mut self, cursor_visible: bool) -> io::Result<()> {
        self.writer_mut().finish(cursor_visible)
    }

    fn bytes_written(&self) -> u64 {
        self.writer().written
    }

    fn copy_to_clipboard(&mut self, text: &str) -> io::Result<()> {
        queue!(self, crossterm::clipboard::CopyToClipboard::to_clipboard_from(text))
    }

    fn run_editor(&mut self, path: &Path) -> io::Result<std::process::ExitStatus> {
        self.writer_mut().finish(false)?;
        // The input thread must not read the keys meant for the editor.
        pause_input();
        restore()?;
        let status = editor_command(path).status();
        let back = setup();
        resume_input();
        back?;
        status
    }

    fn suspend(&mut self) -> io::Result<()> {
        self.writer_mut().finish(false)?;
        restore()?;
        // SIGTSTP with its default action stops the process here; the shell's
        // `fg` sends SIGCONT and execution continues on the next line.
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGTSTP).map_err(io::Error::from)?;
        setup()
    }
}

fn setup() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste, cursor::Hide)
}

/// Put the terminal back as tandem found it. Safe to call more than once.
pub fn restore() -> io::Result<()> {
    let raw = disable_raw_mode();
    let screen = execute!(io::stdout(), DisableBracketedPaste, LeaveAlternateScreen, cursor::Show);
    raw.and(screen)
}

/// Take over the terminal: raw mode, alternate screen, bracketed paste.
pub fn enter() -> io::Result<Terminal<CrosstermBackend<FrameWriter>>> {
    setup()?;
    Terminal::new(CrosstermBackend::new(FrameWriter::new()))
}

/// Restore the terminal before any panic message is printed, so the message
/// is readable and the shell usable; then report as usual.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = restore();
        previous(info);
    }));
}

/// Whether the input thread may read, and whether it is reading now.
struct InputGate {
    paused: bool,
    polling: bool,
}

static INPUT_GATE: Mutex<InputGate> = Mutex::new(InputGate { paused: false, polling: false });
static INPUT_CHANGED: Condvar = Condvar::new();

/// How long the input thread waits for a key before it looks whether it
/// should pause: the longest a pause waits.
const INPUT_POLL: Duration = Duration::from_millis(250);

/// Stop the input thread from reading the terminal (an editor takes it);
/// returns once the thread has stopped.
fn pause_input() {
    let Ok(mut gate) = INPUT_GATE.lock() else { return };
    gate.paused = true;
    while gate.polling {
        match INPUT_CHANGED.wait(gate) {
            Ok(g) => gate = g,
            Err(_) => return,
        }
    }
}

fn resume_input() {
    if let Ok(mut gate) = INPUT_GATE.lock() {
        gate.paused = false;
    }
    INPUT_CHANGED.notify_all();
}

/// Terminal input as a stream, read by a thread of its own that waits in
/// `crossterm::event::poll`. crossterm's own `EventStream` wakes a helper
/// thread on every poll of the stream, which the event loop does once per
/// streamed token; this thread wakes a few times a second at most (to see
/// whether an editor needs the terminal), and otherwise only for a key.
pub fn input_stream() -> impl futures::Stream<Item = io::Result<crossterm::event::Event>> + Unpin {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("tandem-input".into())
        .spawn(move || {
            loop {
                {
                    let Ok(mut gate) = INPUT_GATE.lock() else { break };
                    gate.polling = false;
                    INPUT_CHANGED.notify_all();
                    while gate.paused {
                        match INPUT_CHANGED.wait(gate) {
                            Ok(g) => gate = g,
                            Err(_) => return,
                        }
                    }
                    gate.polling = true;
                }
                match crossterm::event::poll(INPUT_POLL) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
                let ev = crossterm::event::read();
                let failed = ev.is_err();
                if tx.send(ev).is_err() || failed {
                    break;
                }
            }
            if let Ok(mut gate) = INPUT_GATE.lock() {
                gate.polling = false;
            }
            INPUT_CHANGED.notify_all();
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!("cannot start the input thread: {e}"));
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_hunk_file_is_private_and_goes_away() {
        let file = EditorFile::create(Some("rs"), "x\n").expect("create");
        let path = file.path().to_path_buf();
        let dir = path.parent().expect("dir").to_path_buf();
        assert_eq!(path.file_name().and_then(|n| n.to_str()), Some("hunk.rs"));
        let mode = |p: &Path| std::fs::symlink_metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!((mode(&path), mode(&dir)), (0o600, 0o700));
        assert_eq!(file.read_back().expect("read"), "x\n");
        drop(file);
        assert!(!dir.exists());
    }

    #[test]
    fn odd_extensions_are_not_used() {
        for ext in ["r\u{1b}s", "a b", "", "verylongextensionname"] {
            let file = EditorFile::create(Some(ext), "").expect("create");
            assert!(file.path().ends_with("hunk.txt"), "{ext:?}: {}", file.path().display());
        }
    }

    #[test]
    fn only_a_regular_file_is_read_back() {
        let outside = tempfile::NamedTempFile::new().expect("outside");
        std::fs::write(outside.path(), "secret").expect("write");
        let file = EditorFile::create(None, "x").expect("create");
        std::fs::remove_file(file.path()).expect("remove");
        std::os::unix::fs::symlink(outside.path(), file.path()).expect("symlink");
        assert!(file.read_back().is_err());
        std::fs::remove_file(file.path()).expect("remove");
        let made = std::process::Command::new("mkfifo").arg(file.path()).status().expect("mkfifo");
        assert!(made.success());
        // Opened without waiting for a writer, and refused.
        assert!(file.read_back().is_err());
        std::fs::remove_file(file.path()).expect("remove");
        assert_eq!(file.read_back().map_err(|e| e.kind()), Err(io::ErrorKind::NotFound));
    }
}
