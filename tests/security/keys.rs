//! Keys typed ahead: the user types the next question while the model works,
//! and a proposal (or a command request) arrives mid-word. None of those keys
//! may accept, reject, apply, edit or run anything; the model must hear of
//! no decision; what was typed stays the user's text.
//!
//! Every case runs the real event loop on a manual clock (only `<Wait>` steps
//! move it), with the real tools in a temporary git repository and a
//! scripted model. The decision keys are looked up from each shipped keymap.
//! Peers have shipped this bug: Codex CLI's approval prompt was answered by
//! keys of a prompt being typed (openai/codex#19165), and a chat tool's
//! `y`/`n` verdict keys fired while "yes, but…" was typed into its composer
//! (AtomicBot-ai/atomic-agent#239).

use std::path::Path;
use std::sync::{Arc, Mutex};

use crossterm::event::{Event, KeyEvent, KeyEventKind};
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
use tandem::view::state::{AppState, Focus, Role};

use super::harness::Family;
use crate::common::Recording;

/// What the user is typing: every letter the review keys use, and Enter.
const SENTENCE: &str = "ask: did you say Yes, No, or yes! see<Enter>and send";

/// Where in [`SENTENCE`] the review arrives, mid-word (byte offsets).
const MID_WORD: [usize; 4] = [2, 7, 18, 26];

/// Every action that decides something about a review, from the issue's
/// list; their keys come from the keymap under test.
const DECISIONS: [Action; 12] = [
    Action::AcceptHunk,
    Action::RejectHunk,
    Action::RejectWithReason,
    Action::AcceptFile,
    Action::RejectFile,
    Action::AcceptAll,
    Action::RejectAll,
    Action::SplitHunk,
    Action::EditHunk,
    Action::ApplyDecisions,
    Action::UndoApplied,
    Action::AlwaysAllow,
];

const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
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
struct Session {
    rt: tokio::runtime::Runtime,
    app: App,
    term: Terminal<TestBackend>,
    requests: Arc<Mutex<Vec<tandem::llm::Request>>>,
    dir: tempfile::TempDir,
    /// Where the editor leaves its mark when `e` opens it.
    editor_mark: std::path::PathBuf,
}

/// What every case starts from, made once: a committed repository to copy,
/// and each keymap's settings (loading them is most of a case's cost).
struct Fixture {
    template: tempfile::TempDir,
    /// Holds the editor `e` would open, and the mark it leaves when opened.
    editor: tempfile::TempDir,
    settings: Vec<(&'static str, config::Config, Keymap, config::Theme)>,
}

impl Fixture {
    fn new() -> Fixture {
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
    fn session(&self, kind: Kind, keymap: &str, width: u16, height: u16) -> Session {
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
    fn keys(&mut self, script: &str) {
        let steps = parse_steps(script).expect("key script");
        self.run(steps, false);
    }

    /// Type `script` with the loop free to do other work between keys, so
    /// the proposal lands somewhere among them: whichever key it lands
    /// before, the outcome must be the same.
    fn keys_interleaved(&mut self, script: &str) {
        let steps = parse_steps(script).expect("key script");
        self.run(steps, true);
    }

    fn run(&mut self, steps: Vec<Step>, interleave: bool) {
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

    fn screen(&self) -> String {
        tandem::ui::buffer_text(self.term.backend().buffer())
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn staged_lib(&self) -> Option<String> {
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
    fn nothing_decided(&self, kind: Kind) -> Result<(), String> {
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
    fn text_intact(&self, typed: &str) -> Result<(), String> {
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
fn keys_of(keymap: &Keymap, action: Action) -> Vec<KeySeq> {
    let mut keys = keymap.keys_for(Context::Diff, action);
    keys.extend(keymap.keys_for(Context::Global, action));
    keys
}

/// A key sequence as a key script, and the text it types into the composer.
fn script_of(seq: &KeySeq) -> (String, String) {
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
fn text_of(script: &str) -> String {
    script.replace("<Enter>", "\n").replace("<<", "<")
}

/// How the review meets the user's keys.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// Mid-word: the composer holds the start of the sentence.
    MidWord(usize),
    /// Mid-sentence, then the user looks away for a while and goes on
    /// typing long after the review was drawn: a draft is never idle.
    LookedAway(usize),
    /// Right after sending a message: the composer is empty, not idle.
    JustSent,
    /// After a pause: the review takes focus from the idle composer, and
    /// the next keys come before the user can have read it.
    TookFocus,
    /// Keys arriving with the proposal, in the same batches of input.
    SameBatch,
}

pub fn typed_ahead() -> Family {
    let mut family = Family::new("keys typed ahead");
    let fx = Fixture::new();
    let (mut n, mut keys_tried) = (0usize, 0usize);
    for keymap_name in Keymap::BUILTIN {
        let (keymap, diags) = Keymap::load(keymap_name, &[], &[]);
        assert!(diags.is_empty(), "{diags:?}");
        for kind in [Kind::Changes, Kind::Command] {
            for action in DECISIONS {
                let bound = keys_of(&keymap, action);
                if bound.is_empty() {
                    family.case(format!("{keymap_name}: {action}"), false, "no key in the keymap to try");
                }
                for seq in bound {
                    let moments = [
                        Moment::MidWord(MID_WORD[keys_tried % MID_WORD.len()]),
                        Moment::LookedAway(MID_WORD[(keys_tried + 2) % MID_WORD.len()]),
                        Moment::JustSent,
                        Moment::TookFocus,
                        Moment::SameBatch,
                    ];
                    for moment in moments {
                        n += 1;
                        // Every other case one pane at a time, where the
                        // review is not on screen until it has focus.
                        let (w, h) = if n.is_multiple_of(2) { (120, 40) } else { (80, 24) };
                        let what = format!("{keymap_name} {kind:?}: `{seq}` ({action}) {moment:?} at {w}x{h}");
                        family.check(what, || typed_into_composer(&fx, kind, keymap_name, &seq, moment, (w, h)));
                    }
                    keys_tried += 1;
                    let what = format!("{keymap_name} {kind:?}: `{seq}` ({action}) in the diff pane as it arrives");
                    family.check(what, || pressed_in_the_diff_pane(&fx, kind, keymap_name, &seq));
                }
            }
        }
    }
    for kind in [Kind::Changes, Kind::Command] {
        family.check(format!("{kind:?}: typing through the arrival at 10 keys/s for 2 s"), || {
            typing_through_the_arrival(&fx, kind)
        });
        family.check(format!("{kind:?}: a key 1 ms short of the guard"), || just_short_of_the_guard(&fx, kind));
        family.check(format!("{kind:?}: a held key, repeating long after the arrival"), || held_key(&fx, kind));
        family.check(format!("{kind:?}: the focus key and a decision key in one breath at 80x24"), || {
            focus_then_decide_unseen(&fx, kind)
        });
    }
    family
}

/// The user types [`SENTENCE`] with `seq` where the review meets it.
fn typed_into_composer(
    fx: &Fixture,
    kind: Kind,
    keymap: &str,
    seq: &KeySeq,
    moment: Moment,
    size: (u16, u16),
) -> Result<(), String> {
    let mut s = fx.session(kind, keymap, size.0, size.1);
    let (key_script, key_text) = script_of(seq);
    let (before, after) = match moment {
        Moment::MidWord(at) | Moment::LookedAway(at) => SENTENCE.split_at(at),
        _ => ("", SENTENCE),
    };
    let rest = format!("{key_script}{after}");
    match moment {
        Moment::MidWord(_) => {
            s.keys(&format!("first question<Enter><Wait>{before}"));
            s.keys(&rest);
        }
        Moment::LookedAway(_) => {
            s.keys(&format!("first question<Enter><Wait>{before}"));
            s.keys(&format!("<Wait>{rest}"));
        }
        Moment::JustSent => {
            s.keys("first question<Enter>");
            s.keys(&rest);
        }
        Moment::TookFocus => {
            s.keys("first question<Enter><Wait>");
            if s.app.state.focus != Focus::Diff {
                return Err("the review did not take focus from an idle composer".into());
            }
            s.keys(&rest);
        }
        Moment::SameBatch => s.keys_interleaved(&format!("first question<Enter><Wait>{rest}")),
    }
    s.nothing_decided(kind)?;
    s.text_intact(&format!("{}{key_text}{}", text_of(before), text_of(after)))?;
    if s.app.state.focus != Focus::Composer {
        return Err(format!("focus is on {:?}, not the composer being typed in", s.app.state.focus));
    }
    let screen = s.screen();
    let waits = match kind {
        Kind::Changes => "edits wait for your review: F3",
        Kind::Command => "a command waits for your approval: F3",
    };
    if !screen.contains(waits) {
        return Err(format!("the status line does not say the review waits:\n{screen}"));
    }
    Ok(())
}

/// The user sits in the diff pane; a review arrives and the key comes with
/// it, then the rest of a sentence.
fn pressed_in_the_diff_pane(fx: &Fixture, kind: Kind, keymap: &str, seq: &KeySeq) -> Result<(), String> {
    let mut s = fx.session(kind, keymap, 120, 40);
    s.keys("first question<Enter><F3>");
    let (key_script, _) = script_of(seq);
    s.keys(&key_script);
    s.nothing_decided(kind)?;
    let screen = s.screen();
    if !screen.contains("Review just arrived: ") || !screen.contains(" ignored. Read it, then press ") {
        return Err(format!("no note that the key was not taken:\n{screen}"));
    }
    if !s.app.state.composer.is_empty() {
        return Err(format!("the key was typed into the composer: {:?}", s.app.state.composer.text()));
    }
    s.keys(SENTENCE);
    s.nothing_decided(kind)
}

/// Keys 100 ms apart from before the arrival to 2 s after it: one run of
/// keys that began before the review could be read.
fn typing_through_the_arrival(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 120, 40);
    s.keys("first question<Enter><F3>");
    let keys = ["y", "Y", "a", "A", "n", "N", "d", "D", "!", "<Enter>", "y", "Y", "<Enter>"];
    let script: Vec<&str> = keys.iter().cycle().take(20).copied().collect();
    s.keys(&script.join("<Wait 100ms>"));
    s.nothing_decided(kind)
}

/// The first key after a long pause, 499 ms after the review was drawn
/// (500 ms decides: see [`after_a_pause`]).
fn just_short_of_the_guard(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 120, 40);
    s.keys("first question<Enter><F3><Wait>");
    s.keys("<Wait 499ms>Y<Enter>y");
    s.nothing_decided(kind)
}

/// A terminal repeating a held `y` long after the review arrived.
fn held_key(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 120, 40);
    s.keys("first question<Enter><F3><Wait>");
    let mut steps = parse_steps("<Wait>").expect("script");
    for c in ['y', 'Y', 'a'] {
        let mut ev = KeyEvent::new(crossterm::event::KeyCode::Char(c), crossterm::event::KeyModifiers::empty());
        ev.kind = KeyEventKind::Repeat;
        steps.push(Step::Key(Event::Key(ev)));
    }
    s.run(steps, false);
    s.nothing_decided(kind)
}

/// With one pane on screen, the review is not drawn until the user opens
/// it; a decision key in the same breath as the focus key decides unseen.
fn focus_then_decide_unseen(fx: &Fixture, kind: Kind) -> Result<(), String> {
    let mut s = fx.session(kind, "default", 80, 24);
    s.keys("first question<Enter>draft");
    s.keys("<Wait><F3>Y<Enter>y");
    s.nothing_decided(kind)?;
    if s.app.state.composer.text() != "draft" {
        return Err(format!("the draft changed: {:?}", s.app.state.composer.text()));
    }
    Ok(())
}

/// The guard must not block a user who has seen the review: after a pause,
/// the keys decide as before, in every keymap.
pub fn after_a_pause() -> Family {
    let mut family = Family::new("review keys after a pause");
    let fx = Fixture::new();
    for keymap_name in Keymap::BUILTIN {
        let (keymap, _) = Keymap::load(keymap_name, &[], &[]);
        let key = |a| keys_of(&keymap, a).first().map(script_of).map(|(s, _)| s).unwrap_or_default();
        let (accept_all, apply, accept) =
            (key(Action::AcceptAll), key(Action::ApplyDecisions), key(Action::AcceptHunk));
        for (w, h) in [(120, 40), (80, 24)] {
            family.check(format!("{keymap_name} {w}x{h}: accept all and apply after a pause"), || {
                let mut s = fx.session(Kind::Changes, keymap_name, w, h);
                s.keys("first question<Enter><Wait>");
                s.keys(&format!("<Wait>{accept_all}{apply}"));
                accepted(&s)
            });
            family.check(format!("{keymap_name} {w}x{h}: open a waiting review, pause, decide"), || {
                let mut s = fx.session(Kind::Changes, keymap_name, w, h);
                s.keys("first question<Enter>draft");
                s.keys(&format!("<Wait><F3><Wait>{accept_all}{apply}"));
                accepted(&s)?;
                if s.app.state.composer.text() != "draft" {
                    return Err(format!("the draft changed: {:?}", s.app.state.composer.text()));
                }
                Ok(())
            });
            family.check(format!("{keymap_name} {w}x{h}: decide 500 ms after the review was drawn"), || {
                let mut s = fx.session(Kind::Changes, keymap_name, w, h);
                s.keys("first question<Enter><F3><Wait>");
                s.keys(&format!("<Wait 500ms>{accept_all}{apply}"));
                accepted(&s)
            });
            family.check(format!("{keymap_name} {w}x{h}: allow a command after a pause"), || {
                let mut s = fx.session(Kind::Command, keymap_name, w, h);
                s.keys("first question<Enter><Wait>");
                s.keys(&format!("<Wait>{accept}"));
                if !s.root().join("ran.txt").exists() {
                    return Err(format!("the command did not run:\n{}", s.screen()));
                }
                told(&s, "Noted.")
            });
        }
    }
    family
}

fn accepted(s: &Session) -> Result<(), String> {
    let expected = LIB.replace("a + b", "a.wrapping_add(b)");
    if s.staged_lib().as_deref() != Some(expected.as_str()) {
        return Err(format!("not staged: {:?}\n{}", s.staged_lib(), s.screen()));
    }
    told(s, "Noted.")
}

/// The model heard the decision and answered with `answer`.
fn told(s: &Session, answer: &str) -> Result<(), String> {
    let n = s.requests.lock().map_err(|e| e.to_string())?.len();
    let answered = s.app.state.transcript.iter().any(|m| m.role == Role::Assistant && m.text == answer);
    if n != 2 || !answered {
        return Err(format!("the model was sent {n} requests:\n{}", s.screen()));
    }
    Ok(())
}
