//! The real terminal: raw mode and the alternate screen in, and always back
//! out, on quit, on panic, on signals and around suspend.

use std::io::{self, BufWriter, Stdout, Write};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode,
    enable_raw_mode,
};
use crossterm::{cursor, execute, queue};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};

/// The writer frames go through: one buffer, flushed once per frame, so a
/// frame is one write to the terminal.
pub type Out = BufWriter<Stdout>;

/// What the event loop needs from a backend beyond drawing.
pub trait Host: ratatui::backend::Backend {
    /// Start a frame the terminal shows at once when it ends (no tearing).
    fn begin_frame(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn end_frame(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Give the terminal back, stop until `fg`, then take it again.
    fn suspend(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Host for TestBackend {}

impl<W: Write> Host for CrosstermBackend<W> {
    fn begin_frame(&mut self) -> io::Result<()> {
        queue!(self, BeginSynchronizedUpdate)
    }

    fn end_frame(&mut self) -> io::Result<()> {
        queue!(self, EndSynchronizedUpdate)?;
        self.flush()
    }

    fn suspend(&mut self) -> io::Result<()> {
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
pub fn enter() -> io::Result<Terminal<CrosstermBackend<Out>>> {
    setup()?;
    let backend = CrosstermBackend::new(BufWriter::with_capacity(64 * 1024, io::stdout()));
    Terminal::new(backend)
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
