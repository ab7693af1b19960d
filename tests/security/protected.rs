//! The model edits files that decide what the next run may do (`.tandem/`)
//! or that run code elsewhere (CI workflows, `.envrc`): whatever the policy,
//! those edits wait for the user. `tandem exec` has nobody to ask, so they
//! go to its patch file and are never written.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{git_repo, staged};
use crate::harness::Family;

fn exec(repo: &Path, home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(crate::harness::tandem_bin());
    crate::harness::isolate(cmd.arg("exec").args(args).current_dir(repo), home);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.output().expect("run tandem")
}

/// A one-round script: `call` (a tool call as TOML inline table), then an
/// ordinary edit of `src/lib.rs` in the same round, then an answer.
fn script(call: &str) -> String {
    format!(
        r#"
[[turns]]
tool_calls = [
  {call},
  {{ name = "write_file", arguments = '{{"path": "src/lib.rs", "content": "pub fn ok() {{}}\n"}}' }},
]

[[turns]]
text = "done"
"#
    )
}

const CONFIG: &str = "[ui]\nhints = true\n";

pub fn protected_in_exec() -> Family {
    let mut family = Family::new("protected paths in exec");
    let write = |path: &str| {
        format!(
            r#"{{ name = "write_file", arguments = '{{"path": "{path}", "content": "[tools]\npolicy = \"full-auto\"\n"}}' }}"#
        )
    };
    let cases: Vec<(String, String, &str)> = vec![
        ("write_file .tandem/config.toml".into(), write(".tandem/config.toml"), ".tandem/config.toml"),
        ("write_file ./.tandem/config.toml".into(), write("./.tandem/config.toml"), ".tandem/config.toml"),
        ("write_file src/../.tandem/config.toml".into(), write("src/../.tandem/config.toml"), ".tandem/config.toml"),
        ("write_file .tandem/keymap.toml".into(), write(".tandem/keymap.toml"), ".tandem/keymap.toml"),
        ("write_file .tandem/commands/x.md".into(), write(".tandem/commands/x.md"), ".tandem/commands/x.md"),
        ("write_file .github/workflows/ci.yml".into(), write(".github/workflows/ci.yml"), ".github/workflows/ci.yml"),
        ("write_file .envrc".into(), write(".envrc"), ".envrc"),
        (
            "edit_file of the existing .tandem/config.toml".into(),
            r#"{ name = "edit_file", arguments = '{"path": ".tandem/config.toml", "old_text": "hints = true", "new_text": "hints = true\n[tools]\npolicy = \"full-auto\""}' }"#.into(),
            ".tandem/config.toml",
        ),
        (
            "apply_patch Update of .tandem/config.toml".into(),
            r#"{ name = "apply_patch", arguments = '{"patch": "*** Begin Patch\n*** Update File: .tandem/config.toml\n@@\n [ui]\n-hints = true\n+hints = false\n*** End Patch"}' }"#.into(),
            ".tandem/config.toml",
        ),
        (
            "apply_patch Delete of .tandem/config.toml".into(),
            r#"{ name = "apply_patch", arguments = '{"patch": "*** Begin Patch\n*** Delete File: .tandem/config.toml\n*** End Patch"}' }"#.into(),
            ".tandem/config.toml",
        ),
        (
            "apply_patch Move into .tandem/".into(),
            r#"{ name = "apply_patch", arguments = '{"patch": "*** Begin Patch\n*** Update File: notes.toml\n*** Move to: .tandem/keymap.toml\n@@\n-x = 1\n+[diff]\n+n = \"accept_all\"\n*** End Patch"}' }"#.into(),
            ".tandem/keymap.toml",
        ),
    ];
    for policy in ["auto-edit", "full-auto"] {
        for (name, call, target) in &cases {
            family.check(format!("{policy}: {name}"), || {
                let repo = git_repo(&[
                    (".tandem/config.toml", CONFIG),
                    ("src/lib.rs", "pub fn a() {}\n"),
                    ("notes.toml", "x = 1\n"),
                ]);
                let home = tempfile::tempdir().expect("home");
                let file = home.path().join("script.toml");
                std::fs::write(&file, script(call)).expect("script");
                let before = std::fs::read(repo.path().join(target)).ok();
                let provider = format!("script:{}", file.display());
                let out = exec(repo.path(), home.path(), &["--policy", policy, "--provider", &provider, "go"]);
                let err = String::from_utf8_lossy(&out.stderr);
                let after = std::fs::read(repo.path().join(target)).ok();
                if after != before {
                    return Err(format!("{target} was written: {err}"));
                }
                if !repo.path().join("notes.toml").exists() {
                    return Err("the move's source was removed".into());
                }
                if staged(repo.path(), target).map(String::into_bytes) != before {
                    return Err(format!("{target} was staged"));
                }
                // The ordinary edit of the same round went ahead.
                if staged(repo.path(), "src/lib.rs").as_deref() != Some("pub fn ok() {}\n") {
                    return Err(format!("the unprotected edit was not staged: {err}"));
                }
                let stdout = String::from_utf8_lossy(&out.stdout);
                let patch = stdout.lines().last().unwrap_or_default();
                match std::fs::read_to_string(patch) {
                    Ok(text) if text.contains(".tandem/") || text.contains(target) => Ok(()),
                    _ => Err(format!("the protected edit is not in a patch file: {stdout} {err}")),
                }
            });
        }
    }
    family
}

/// One round that edits the project's `.tandem/config.toml` and an
/// ordinary file, then an answer.
const APP_SCRIPT: &str = r#"
[[turns]]
tool_calls = [
  { name = "edit_file", arguments = '{"path": ".tandem/config.toml", "old_text": "hints = true", "new_text": "hints = true\n[tools]\npolicy = \"full-auto\""}' },
  { name = "write_file", arguments = '{"path": "src/lib.rs", "content": "pub fn ok() {}\n"}' },
]

[[turns]]
text = "done"
"#;

/// In the app, whatever the policy and whichever whole-file or whole-set
/// key the user presses, the protected file's hunks are accepted only one
/// by one.
pub fn protected_in_app() -> Family {
    use tandem::config::Policy;
    let mut family = Family::new("protected paths in the app");
    // (what the user does after the review shows, whether the protected
    // file may be written).
    let answers: &[(&str, bool)] = &[
        ("<F3><Wait>Y<Enter><Enter>", false),
        ("<F3><Wait>aa<Enter><Enter>", false),
        ("<F3><Wait>a<Down>a<Enter><Enter>", false),
        ("<F3><Wait><Enter><Enter>", false),
        // Explicit, per hunk: the user's say-so.
        ("<F3><Wait>Yy<Enter>", true),
    ];
    for policy in [Policy::Suggest, Policy::AutoEdit, Policy::FullAuto] {
        for (keys, written) in answers {
            family.check(format!("{}: {keys}", policy.name()), || {
                let repo = git_repo(&[(".tandem/config.toml", CONFIG), ("src/lib.rs", "pub fn a() {}\n")]);
                let (mut s, _) =
                    crate::common::Session::with_tools_configured(APP_SCRIPT, repo.path(), 120, 40, |app| {
                        app.state.policy = policy;
                    });
                s.keys("go<Enter>");
                // Nothing is written before the user answers, whatever the policy.
                if std::fs::read_to_string(repo.path().join(".tandem/config.toml")).ok().as_deref() != Some(CONFIG) {
                    return Err("written before the user answered".into());
                }
                if !s.screen().contains("protected") {
                    return Err(format!("the pane does not say the file is protected:\n{}", s.screen()));
                }
                s.keys(keys);
                let config = std::fs::read_to_string(repo.path().join(".tandem/config.toml")).unwrap_or_default();
                let changed = config != CONFIG;
                let lib = staged(repo.path(), "src/lib.rs");
                if changed != *written {
                    return Err(format!("protected file written: {changed}, expected {written}:\n{}", s.screen()));
                }
                if staged(repo.path(), ".tandem/config.toml").as_deref()
                    != Some(if *written { config.as_str() } else { CONFIG })
                {
                    return Err("the index disagrees with the tree".into());
                }
                // The ordinary file went with the user's whole-set keys.
                let lib_expected = keys.contains('Y') || keys.contains("a<Down>a") || policy != Policy::Suggest;
                if (lib.as_deref() == Some("pub fn ok() {}\n")) != lib_expected {
                    return Err(format!("src/lib.rs staged {lib:?}, expected accepted: {lib_expected}"));
                }
                Ok(())
            });
        }
    }
    family
}
