//! What every case starts from: a committed repository and each shipped
//! keymap's settings, the app made from them with the real tools and a
//! scripted model on a manual clock, the checks that nothing was decided
//! and the typed text is intact, and the key scripts of a keymap's keys.

use std::path::Path;
use std::sync::{Arc, Mutex};

use crossterm::event::Event;
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tandem::app::input::{Step, parse_steps, steps_stream};
use tandem::app::{self, App, Clock};
use tandem::config::keymap::Action;
use tandem::config::keymap::Context;
use tandem::config::keys::{KeyCode, KeySeq};
use tandem::config::{self, ColorDepth, Keymap, LoadOptions, Paths};
use tandem::git::RepoInfo;
use tandem::view::review::{Decision, Item};
use tandem::view::state::{AppState, Role};

use crate::common::Recording;

pub const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Changes,
    Command,
}

impl Kind {
    fn script(self) -> &'static str {
        match self {
            Kind::Changes => {
                r#"
[[turns]]
text = "One change."
tool_calls = [{ name = "edit_file", arguments = '{"path": "src/lib.rs", "old_text": "    a + b\n", "new_text": "    a.wrapping_add(b)\n"}' }]

[[turns]]
text = "Noted."
"#
            }
            Kind::Command => {
                r#"
[[turns]]
text = "One command."
tool_calls = [{ name = "run_command", arguments = '{"command": "echo ran > ran.txt"}' }]

[[turns]]
text = "Noted."
"#
            }
        }
    }
}

/// The app in a fresh repository with the real tools and a scripted model.
pub struct Session {
    rt: tokio::runtime::Runtime,
    pub app: App,
    term: Terminal<TestBackend>,
    pub requests: Arc<Mutex<Vec<tandem::llm::Request>>>,
    dir: tempfile::TempDir,
    /// Where the editor leaves its mark when `e` opens it.
    editor_mark: std::path::PathBuf,
}

/// What every case starts from, made once: a committed repository to copy,
/// and each keymap's settings (loading them is most of a case's cost).
pub struct Fixture {
    template: tempfile::TempDir,
    /// Holds the editor `e` would open, and the mark it leaves when opened.
    editor: tempfile::TempDir,
    settings: Vec<(&'static str, config::Config, Keymap, config::Theme)>,
}

impl Fixture {
    pub fn new() -> Fixture {
        let template = scratch_dir();
        let root = template.path();
        std::fs::create_dir_all(root.join("src")).expect("mkdir");
        std::fs::write(root.join("src/lib.rs"), LIB).expect("write");
        let repo = git2::Repository::init(root).expect("init");
        let mut index = repo.index().expect("index");
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).expect("add");
        index.write().expect("write index");
        let tree = repo.find_tree(index.write_tree().expect("tree")).expect("find tree");
        let sig = git2::Signature::now("test", "test@example.invalid").expect("sig");
        repo.commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[]).expect("commit");
        // Copied for every case: leave out what a repository does not need.
        for extra in ["hooks", "logs", "description"] {
            let path = root.join(".git").join(extra);
            let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
        }
        let settings = Keymap::BUILTIN
            .iter()
            .map(|name| {
                let none = |_: &str| None;
                let opts = LoadOptions {
                    paths: Paths::default(),
                    config_file: None,
                    project_root: None,
                    theme_flag: None,
                    keymap_flag: Some(name.to_string()),
                    profile_flag: None,
                    policy_flag: None,
                    env: &none,
                    color_depth: ColorDepth::TrueColor,
                    trust: config::TrustMode::Stored,
                };
                let s = config::load(&opts);
                assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
                (*name, s.config, s.keymap, s.theme)
            })
            .collect();
        // `e` opens $EDITOR: one that leaves a mark and changes nothing, so
        // an edit opened by a key typed ahead shows, and nothing waits on a
        // terminal.
        let editor = tempfile::tempdir().expect("temp dir");
        let script = editor.path().join("editor.sh");
        let mark = editor.path().join("opened");
        std::fs::write(&script, format!("#!/bin/sh\necho \"$1\" >> '{}'\n", mark.display())).expect("editor");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        // SAFETY of set_var: the families run one after another on this
        // thread, and no other reads EDITOR or VISUAL.
        unsafe {
            std::env::remove_var("VISUAL");
            std::env::set_var("EDITOR", &script);
        }
        Fixture { template, editor, settings }
    }

    /// The app in a fresh copy of the repository, with the real tools and a
    /// scripted model, on a manual clock.
    pub fn session(&self, kind: Kind, keymap: &str, width: u16, height: u16) -> Session {
        let editor_mark = self.editor.path().join("opened");
        let _ = std::fs::remove_file(&editor_mark);
        let dir = scratch_dir();
        copy_dir(self.template.path(), dir.path());
        let (_, config, keys, theme) =
            self.settings.iter().find(|(name, ..)| *name == keymap).expect("a built-in keymap");
        let state = AppState::new(config.clone(), keys.clone(), theme.clone(), RepoInfo::discover(dir.path()), vec![]);
        let mut app = App::new(state, None);
        app.set_clock(Clock::manual());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let provider = Recording {
            inner: tandem::llm::scripted::Scripted::from_toml("typed-ahead", kind.script()).expect("script"),
            requests: requests.clone(),
        };
        let profile = tandem::llm::select::Profile {
            name: "script".into(),
            kind: None,
            model: "test".into(),
            context_window: 100_000,
            max_output_tokens: 1000,
            prices: Default::default(),
            available_models: Vec::new(),
        };
        {
            let _guard = rt.enter();
            app.enable_tools();
            app.attach_agent(Arc::new(provider), profile);
        }
        let term = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        Session { rt, app, term, requests, dir, editor_mark }
    }
}

/// A temporary directory, in memory where the system has a tmpfs for it:
/// hundreds of cases each create and remove a repository.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("temp dir")
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

impl Session {
    /// Type `script` and run until the app is idle.
    pub fn keys(&mut self, script: &str) {
        let steps = parse_steps(script).expect("key script");
        self.run(steps, false);
    }

    /// Type `script` with the loop free to do other work between keys, so
    /// the proposal lands somewhere among them: whichever key it lands
    /// before, the outcome must be the same.
    pub fn keys_interleaved(&mut self, script: &str) {
        let steps = parse_steps(script).expect("key script");
        self.run(steps, true);
    }

    pub fn run(&mut self, steps: Vec<Step>, interleave: bool) {
        let stream = steps_stream(steps, self.app.clock().clone());
        let stream: futures::stream::BoxStream<'static, std::io::Result<Event>> = if interleave {
            // Pending twice before each key: the loop's first look draws
            // what it owes the screen, the second lets the model's task run.
            stream
                .then(|ev| async move {
                    tokio::task::yield_now().await;
                    tokio::task::yield_now().await;
                    ev
                })
                .boxed()
        } else {
            stream.boxed()
        };
        self.rt.block_on(app::run(&mut self.app, &mut self.term, stream, None)).expect("event loop");
    }

    pub fn screen(&self) -> String {
        tandem::ui::buffer_text(self.term.backend().buffer())
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn staged_lib(&self) -> Option<String> {
        let repo = git2::Repository::open(self.root()).ok()?;
        let index = repo.index().ok()?;
        let entry = index.get_path(Path::new("src/lib.rs"), 0)?;
        let blob = repo.find_blob(entry.id).ok()?;
        String::from_utf8(blob.content().to_vec()).ok()
    }

    /// The user's messages after the first, as the chat shows them.
    fn later_messages(&self) -> Vec<String> {
        self.app.state.transcript.iter().filter(|m| m.role == Role::User).skip(1).map(|m| m.text.clone()).collect()
    }

    /// Nothing was decided: no file written or staged, no command run, the
    /// model heard nothing after its request, and the item still waits
    /// with every hunk undecided.
    pub fn nothing_decided(&self, kind: Kind) -> Result<(), String> {
        let on_disk = std::fs::read_to_string(self.root().join("src/lib.rs")).map_err(|e| e.to_string())?;
        if on_disk != LIB {
            return Err(format!("src/lib.rs was written:\n{on_disk}"));
        }
        if self.staged_lib().as_deref() != Some(LIB) {
            return Err(format!("src/lib.rs was staged: {:?}", self.staged_lib()));
        }
        if self.root().join("ran.txt").exists() {
            return Err("the command ran".into());
        }
        if self.editor_mark.exists() {
            return Err("the hunk was opened in the editor".into());
        }
        let told = self.requests.lock().map_err(|e| e.to_string())?.len();
        if told != 1 {
            return Err(format!("the model was sent {told} requests: it heard of a decision"));
        }
        let review = &self.app.state.review;
        match (kind, review.front()) {
            (Kind::Changes, Some(Item::Changes { files, .. })) => {
                let decided: Vec<String> = files
                    .iter()
                    .flat_map(|f| &f.hunks)
                    .filter(|h| h.decision != Decision::Pending || h.edited)
                    .map(|h| format!("{:?}", h.decision))
                    .collect();
                if !decided.is_empty() {
                    return Err(format!("hunks were decided: {decided:?}"));
                }
                if files.iter().map(|f| f.hunks.len()).sum::<usize>() != 1 {
                    return Err("the hunk was split".into());
                }
            }
            (Kind::Command, Some(Item::Command { .. })) => {}
            (_, other) => return Err(format!("the review no longer waits: {other:?}")),
        }
        if review.applying || review.reason.is_some() || review.confirm_undecided {
            return Err("the review was acted on (applying, a reason, or apply asked once)".into());
        }
        Ok(())
    }

    /// What was typed since the review arrived is the user's text: lines
    /// ended by Enter were sent as messages (they queue behind the turn),
    /// the rest is in the composer.
    pub fn text_intact(&self, typed: &str) -> Result<(), String> {
        let mut lines: Vec<String> = typed.split('\n').map(str::to_string).collect();
        let last = lines.pop().unwrap_or_default();
        let sent: Vec<String> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
        let composer = self.app.state.composer.text();
        if composer != last || self.later_messages() != sent {
            return Err(format!(
                "typed {typed:?}; composer holds {composer:?}, sent {:?}; focus {:?}",
                self.later_messages(),
                self.app.state.focus
            ));
        }
        Ok(())
    }
}

/// The keys bound to `action` in the diff pane (or globally) of `keymap`.
pub fn keys_of(keymap: &Keymap, action: Action) -> Vec<KeySeq> {
    let mut keys = keymap.keys_for(Context::Diff, action);
    keys.extend(keymap.keys_for(Context::Global, action));
    keys
}

/// A key sequence as a key script, and the text it types into the composer.
pub fn script_of(seq: &KeySeq) -> (String, String) {
    let mut script = String::new();
    let mut text = String::new();
    for key in &seq.0 {
        match (key.code, key.mods.ctrl || key.mods.alt) {
            (KeyCode::Char('<'), false) => {
                script.push_str("<<");
                text.push('<');
            }
            (KeyCode::Char(c), false) => {
                script.push(c);
                text.push(c);
            }
            (KeyCode::Enter, false) => {
                script.push_str("<Enter>");
                text.push('\n');
            }
            (KeyCode::Space, false) => {
                script.push_str("<Space>");
                text.push(' ');
            }
            _ => script.push_str(&format!("<{key}>")),
        }
    }
    (script, text)
}

/// The text a key script types (Enter as a line break).
pub fn text_of(script: &str) -> String {
    script.replace("<Enter>", "\n").replace("<<", "<")
}
