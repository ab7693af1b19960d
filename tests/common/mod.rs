//! Shared set-up for the integration tests: the app built from the shipped
//! defaults, driven through the real event loop on a TestBackend.
#![allow(dead_code)]

use std::path::PathBuf;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tandem::app::{self, App};
use tandem::config::{self, ColorDepth, LoadOptions, Paths};
use tandem::git::RepoInfo;
use tandem::view::state::AppState;

pub fn repo() -> RepoInfo {
    RepoInfo { root: PathBuf::from("/work/demo"), is_git: true, branch: Some("main".into()) }
}

/// The app with the built-in configuration and `keymap`, on a manual clock
/// that only `<Wait>` steps of key scripts move.
pub fn app_with(keymap: &str) -> App {
    let none = |_: &str| None;
    let opts = LoadOptions {
        paths: Paths::default(),
        config_file: None,
        project_root: None,
        theme_flag: None,
        keymap_flag: Some(keymap.to_string()),
        profile_flag: None,
        policy_flag: None,
        env: &none,
        color_depth: ColorDepth::TrueColor,
        trust: config::TrustMode::Stored,
    };
    let s = config::load(&opts);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    let mut app = App::new(AppState::new(s.config, s.keymap, s.theme, repo(), s.diagnostics), None);
    app.set_clock(app::Clock::manual());
    app
}

/// A key script (with its `<Wait>` steps) as the loop's input, on the app's clock.
pub fn script(
    app: &App,
    script: &str,
) -> futures::stream::BoxStream<'static, std::io::Result<crossterm::event::Event>> {
    let steps = app::input::parse_steps(script).expect("key script");
    Box::pin(app::input::steps_stream(steps, app.clock().clone()))
}

pub fn app() -> App {
    app_with("default")
}

/// Feed a key script through the real loop until it is consumed, and return
/// the terminal with the last frame.
pub fn drive(app: &mut App, script: &str, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    drive_on(app, &mut terminal, script);
    terminal
}

pub fn drive_on(app: &mut App, terminal: &mut Terminal<TestBackend>, keys: &str) -> app::Exit {
    let stream = script(app, keys);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(app::run(app, terminal, stream, None)).expect("event loop")
}

pub fn screen(terminal: &Terminal<TestBackend>) -> String {
    tandem::ui::buffer_text(terminal.backend().buffer())
}

/// Snapshot a screen with the figures that depend on timing masked: frames
/// drawn, frame time, and the model's measured speed and latency.
#[macro_export]
macro_rules! assert_screen {
    ($screen:expr) => {
        insta::with_settings!({filters => vec![
            (r"frames( +)\d+ +", "frames$1[n] "),
            (r"last frame( +)\d+ µs +", "last frame$1[t] µs "),
            (r"written( +)[\d.]+ KB +", "written$1[n] KB "),
            (r"(first token|tokens/s|latency)( +)[^│\n]*[^│\s]( *)", "$1$2[timing] "),
        ]}, {
            insta::assert_snapshot!($screen);
        });
    };
    // Speed and latency kept: for screens whose figures were made up.
    ($screen:expr, made_up_timing) => {
        insta::with_settings!({filters => vec![
            (r"frames( +)\d+ +", "frames$1[n] "),
            (r"last frame( +)\d+ µs +", "last frame$1[t] µs "),
            (r"written( +)[\d.]+ KB +", "written$1[n] KB "),
        ]}, {
            insta::assert_snapshot!($screen);
        });
    };
}

/// The profile the scripted test model runs under.
pub fn script_profile() -> tandem::llm::select::Profile {
    tandem::llm::select::Profile {
        name: "script".into(),
        kind: None,
        model: "test".into(),
        context_window: 100_000,
        max_output_tokens: 1000,
        prices: Default::default(),
        available_models: Vec::new(),
    }
}

/// The app with a scripted model, on one runtime that drives both the loop
/// and the agent task.
pub struct Session {
    pub rt: tokio::runtime::Runtime,
    pub app: App,
    pub term: Terminal<TestBackend>,
}

impl Session {
    pub fn with_script(script: &str, width: u16, height: u16) -> Session {
        Session::with_script_profile(script, width, height, script_profile(), |_| {})
    }

    /// A scripted model with `profile` (prices, window), the app first set up by `configure`.
    pub fn with_script_profile(
        script: &str,
        width: u16,
        height: u16,
        profile: tandem::llm::select::Profile,
        configure: impl FnOnce(&mut App),
    ) -> Session {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let mut app = app();
        configure(&mut app);
        let provider = tandem::llm::scripted::Scripted::from_toml("test-script", script).expect("script");
        {
            let _guard = rt.enter();
            app.attach_agent(std::sync::Arc::new(provider), profile);
        }
        let term = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        Session { rt, app, term }
    }

    /// Type `keys` and run until the app is idle (the turn it started ended,
    /// or waits for a review).
    pub fn keys(&mut self, keys: &str) -> app::Exit {
        let stream = script(&self.app, keys);
        self.rt.block_on(app::run(&mut self.app, &mut self.term, stream, None)).expect("event loop")
    }

    pub fn screen(&self) -> String {
        screen(&self.term)
    }
}

/// Every request the model was sent, recorded, then answered from a script.
pub struct Recording {
    pub inner: tandem::llm::scripted::Scripted,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<tandem::llm::Request>>>,
}

impl tandem::llm::Provider for Recording {
    fn describe(&self) -> String {
        "recording".into()
    }
    fn stream(
        &self,
        request: tandem::llm::Request,
        cancel: tokio_util::sync::CancellationToken,
    ) -> tandem::llm::EventStream {
        self.requests.lock().expect("requests").push(request.clone());
        self.inner.stream(request, cancel)
    }
}

impl Session {
    /// The app working in the repository at `root`, with the real tools and
    /// a scripted model whose requests are recorded.
    pub fn with_tools(
        script: &str,
        root: &std::path::Path,
        width: u16,
        height: u16,
    ) -> (Session, std::sync::Arc<std::sync::Mutex<Vec<tandem::llm::Request>>>) {
        Self::with_tools_configured(script, root, width, height, |_| {})
    }

    /// Like [`Session::with_tools`], with the app's configuration changed by
    /// `configure` before the agent starts.
    pub fn with_tools_configured(
        script: &str,
        root: &std::path::Path,
        width: u16,
        height: u16,
        configure: impl FnOnce(&mut App),
    ) -> (Session, std::sync::Arc<std::sync::Mutex<Vec<tandem::llm::Request>>>) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let mut app = app();
        configure(&mut app);
        app.state.repo = RepoInfo::discover(root);
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let provider = Recording {
            inner: tandem::llm::scripted::Scripted::from_toml("test-script", script).expect("script"),
            requests: requests.clone(),
        };
        let profile = script_profile();
        {
            let _guard = rt.enter();
            app.enable_tools();
            app.attach_agent(std::sync::Arc::new(provider), profile);
        }
        let term = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        (Session { rt, app, term }, requests)
    }
}

/// A git repository in a temporary directory with `files` committed.
pub fn git_repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    commit_all(dir.path());
    dir
}

/// Make `dir` a git repository with everything in it committed.
pub fn commit_all(dir: &std::path::Path) {
    let repo = git2::Repository::init(dir).expect("init");
    let mut index = repo.index().expect("index");
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).expect("add");
    index.write().expect("write index");
    let tree = repo.find_tree(index.write_tree().expect("tree")).expect("find tree");
    let sig = git2::Signature::now("test", "test@example.invalid").expect("sig");
    repo.commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[]).expect("commit");
}

/// The content of `path` in the repository's index (what is staged).
pub fn staged(root: &std::path::Path, path: &str) -> Option<String> {
    let repo = git2::Repository::open(root).expect("open");
    let index = repo.index().expect("index");
    let entry = index.get_path(std::path::Path::new(path), 0)?;
    let blob = repo.find_blob(entry.id).expect("blob");
    Some(String::from_utf8(blob.content().to_vec()).expect("utf-8"))
}

/// A `src/lib.rs` with two edit sites far enough apart to make two hunks:
/// `a + b` near the top and `old_name` near the bottom.
pub const LIB: &str = "\
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

// one
// two
// three
// four
// five
// six
// seven

pub fn old_name() -> &'static str {
    \"hello\"
}
";
