//! What the families share: a terminal backend that records what reaches
//! the terminal and runs a given editor, a real git repository, and the
//! app with the real tools and a scripted model.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tandem::app::{self, App, Host};
use tandem::git::RepoInfo;

/// The editor a test hands the hunk to: it gets the path tandem chose.
pub type Editor = Box<dyn FnMut(&Path) -> io::Result<ExitStatus>>;

/// A backend that draws into `inner`, reports a fixed size (the byte
/// buffer behind a `CrosstermBackend` has no terminal to ask), and runs
/// `editor` where the real terminal would hand itself to `$EDITOR`.
pub struct Recorder<B: Backend> {
    pub inner: B,
    size: Size,
    pub editor: Option<Editor>,
    /// Every path tandem asked the editor to open.
    pub opened: Vec<PathBuf>,
}

impl<B: Backend> Recorder<B> {
    pub fn new(inner: B, width: u16, height: u16) -> Self {
        Recorder { inner, size: Size { width, height }, editor: None, opened: Vec::new() }
    }
}

impl<B: Backend> Backend for Recorder<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        Ok(self.size)
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        Ok(WindowSize { columns_rows: self.size, pixels: Size { width: 0, height: 0 } })
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

impl<B: Backend> Host for Recorder<B> {
    fn run_editor(&mut self, path: &Path) -> io::Result<ExitStatus> {
        self.opened.push(path.to_path_buf());
        match self.editor.as_mut() {
            Some(editor) => editor(path),
            None => Err(io::Error::other("no editor in this test")),
        }
    }
}

/// An editor that is a real process: `sh -c SCRIPT sh PATH`, as tandem
/// runs `$EDITOR`.
pub fn shell_editor(script: &str) -> Editor {
    let script = script.to_string();
    Box::new(move |path: &Path| std::process::Command::new("sh").arg("-c").arg(&script).arg("sh").arg(path).status())
}

pub use crate::common::{git_repo, staged};

/// Make `dir` a git repository with `files` committed.
pub fn init_repo(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    crate::common::commit_all(dir);
}

/// The app working in `root` with the shipped defaults, the real tools and
/// a scripted model, driven through the real event loop on `backend`.
pub struct Session<B: Backend> {
    pub rt: tokio::runtime::Runtime,
    pub app: App,
    pub term: Terminal<Recorder<B>>,
}

impl<B: Backend> Session<B> {
    pub fn new(script: &str, root: &Path, backend: Recorder<B>) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let mut app = crate::common::app();
        app.state.repo = RepoInfo::discover(root);
        let provider = tandem::llm::scripted::Scripted::from_toml("test-script", script).expect("script");
        let profile = crate::common::script_profile();
        {
            let _guard = rt.enter();
            app.enable_tools();
            app.attach_agent(Arc::new(provider), profile);
        }
        let term = Terminal::new(backend).expect("terminal");
        Session { rt, app, term }
    }

    /// Type `script` and run until the app is idle.
    pub fn keys(&mut self, script: &str) {
        let stream = crate::common::script(&self.app, script);
        self.rt.block_on(app::run(&mut self.app, &mut self.term, stream, None)).expect("event loop");
    }

    pub fn backend(&mut self) -> &mut Recorder<B> {
        self.term.backend_mut()
    }
}

impl Session<ratatui::backend::TestBackend> {
    /// The last frame's text.
    pub fn screen(&self) -> String {
        tandem::ui::buffer_text(self.term.backend().inner.buffer())
    }
}
