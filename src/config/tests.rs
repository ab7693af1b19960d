//! Loading as a whole: the defaults, the order of the layers, and the
//! diagnostics for values that are out of range, of the wrong type or
//! missing.

use std::path::Path;

use super::*;

fn opts<'a>(env: &'a dyn Fn(&str) -> Option<String>, dir: &Path) -> LoadOptions<'a> {
    LoadOptions {
        paths: Paths {
            config_dir: Some(dir.join("config")),
            state_dir: Some(dir.join("state")),
            cache_dir: None,
            data_dir: None,
        },
        config_file: None,
        project_root: Some(dir.join("repo")),
        theme_flag: None,
        keymap_flag: None,
        profile_flag: None,
        policy_flag: None,
        env,
        color_depth: ColorDepth::TrueColor,
        trust: TrustMode::Stored,
    }
}

/// A temporary directory laid out as `opts` reads it: the user's
/// `config/config.toml` holding `user`, and an empty project `repo/.tandem/`.
fn config_dirs(user: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("config")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("repo/.tandem")).expect("mkdir");
    std::fs::write(dir.path().join("config/config.toml"), user).expect("write");
    dir
}

#[test]
fn defaults_alone_load_without_diagnostics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = |_: &str| None;
    let s = load(&opts(&none, dir.path()));
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    assert_eq!(s.config.ui.theme, "default");
    assert_eq!(s.config.ui.frame_rate, 30);
    assert_eq!(s.config.checks, ChecksConfig::default());
}

#[test]
fn every_default_key_is_documented_by_a_comment() {
    let lines: Vec<&str> = DEFAULT_CONFIG.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with('[') {
            continue;
        }
        assert!(i > 0 && lines[i - 1].trim_start().starts_with('#'), "key without a comment: {t}");
    }
}

#[test]
fn layers_apply_in_order_user_project_env_flag() {
    let dir = config_dirs("[ui]\ntheme = \"light\"\nframe_rate = 20\nhints = false\n");
    std::fs::write(dir.path().join("repo/.tandem/config.toml"), "[ui]\nframe_rate = 25\n").expect("write");
    let env = |k: &str| (k == "TANDEM_UI_HINTS").then(|| "true".to_string());
    let mut o = opts(&env, dir.path());
    o.theme_flag = Some("base16".into());
    let s = load(&o);
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    assert_eq!(s.config.ui.theme, "base16");
    assert_eq!(s.config.ui.frame_rate, 25);
    assert!(s.config.ui.hints);
    assert_eq!(s.files.len(), 2);
    let src = s.layered.get("ui.frame_rate").map(|e| e.source.to_string()).unwrap_or_default();
    assert!(src.ends_with("repo/.tandem/config.toml:2"), "{src}");
}

#[test]
fn out_of_range_value_is_an_error_with_location_and_default_kept() {
    let dir = config_dirs("[ui]\n\nframe_rate = 0\n[log]\nlevel = \"loud\"\n");
    let none = |_: &str| None;
    let s = load(&opts(&none, dir.path()));
    let msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("config.toml:3: `ui.frame_rate` is 0; expected a value from 1 to 240"), "{msgs:?}");
    assert!(msgs[1].contains("config.toml:5: `log.level` is \"loud\""), "{msgs:?}");
    assert_eq!(s.config.ui.frame_rate, 30);
    assert_eq!(s.config.log.level, "info");
}

#[test]
fn explicit_config_file_must_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = |_: &str| None;
    let mut o = opts(&none, dir.path());
    o.config_file = Some(dir.path().join("missing.toml"));
    let s = load(&o);
    assert!(s.has_errors());
    assert!(s.diagnostics[0].message.contains("cannot read"), "{:?}", s.diagnostics);
}

#[test]
fn fixture_files_produce_the_documented_errors() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config");
    let mut l = Layered::from_defaults(DEFAULT_CONFIG).expect("defaults");
    let text = std::fs::read_to_string(fixtures.join("wrong-type.toml")).expect("fixture");
    let d = l.apply_file("wrong-type.toml", &text);
    let msgs: Vec<String> = d.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        msgs,
        vec![
            "error: wrong-type.toml:3: `ui.frame_rate` expects an integer, found a string (\"fast\"); the default is used",
            "warning: wrong-type.toml:4: unknown key `ui.colour` (ignored); `tandem config show` lists every key",
            "error: wrong-type.toml:6: `composer.max_height` expects an integer, found true or false (true); the default is used",
        ]
    );
    let text = std::fs::read_to_string(fixtures.join("not-toml.toml")).expect("fixture");
    let d = l.apply_file("not-toml.toml", &text);
    assert_eq!(d.len(), 1);
    assert!(d[0].to_string().starts_with("error: not-toml.toml:2: not valid TOML"), "{}", d[0]);
}

#[test]
fn budget_defaults_are_no_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let none = |_: &str| None;
    let s = load(&opts(&none, dir.path()));
    assert_eq!(s.config.budget, BudgetConfig::default());
    let shown = s.layered.render_annotated();
    assert!(shown.contains("[budget]\nmax_cost_usd = 0.0"), "{shown}");
    assert!(shown.contains("max_tool_calls_per_minute = 0"), "{shown}");
}

#[test]
fn budget_values_load_and_bad_ones_are_errors_with_their_line() {
    let dir = config_dirs(
        "[budget]\nmax_cost_usd = 5\nmax_turns = 40\n\n[budget.max_tool_calls_per_minute]\nrun_command = 5\ndefault = 30\n",
    );
    let none = |_: &str| None;
    let s = load(&opts(&none, dir.path()));
    assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    assert_eq!(s.config.budget.max_cost_usd, 5.0);
    assert_eq!(s.config.budget.max_turns, 40);
    assert_eq!(
        s.config.budget.max_tool_calls_per_minute,
        ToolCallLimit::PerTool([("run_command".to_string(), 5), ("default".to_string(), 30)].into())
    );
    let shown = s.layered.render_annotated();
    assert!(shown.contains("max_tool_calls_per_minute = { default = 30, run_command = 5 }"), "{shown}");
    let named = budget::unknown_tools(&s.layered, &["grep", "run_command"]);
    assert!(named.is_empty(), "a tool's name and `default` are known: {named:?}");

    std::fs::write(
        dir.path().join("repo/.tandem/config.toml"),
        "[budget]\nmax_cost_usd = -1.0\nmax_turns = -3\nmax_tool_calls_per_minute = { run_comand = 5, grep = 99999 }\n",
    )
    .expect("write");
    let s = load(&opts(&none, dir.path()));
    // The names of the tools are the registry's, above this layer, which
    // adds the warnings of `unknown_tools` (see `tools::registry`).
    let mut msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
    msgs.extend(budget::unknown_tools(&s.layered, &["grep", "run_command"]).iter().map(|d| d.to_string()));
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(
        msgs[0].contains("config.toml:3: `budget.max_turns` is -3; expected a value from 0 to 1000000"),
        "{msgs:?}"
    );
    assert!(msgs[1].contains("config.toml:2: `budget.max_cost_usd` is -1; expected 0 (no limit) or more"), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.starts_with("error:")
            && m.contains("config.toml:4: `budget.max_tool_calls_per_minute.grep` is 99999; expected a value from 0")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.starts_with("warning:") && m.contains("names `run_comand`, which is not a tool")),
        "{msgs:?}"
    );
    // Wrong values fall back to the defaults; the user file's turns are
    // overridden by the project's bad value, so the default applies.
    assert_eq!(s.config.budget, BudgetConfig::default());

    // Whole numbers are checked too: TOML reads them as integers.
    std::fs::write(
        dir.path().join("repo/.tandem/config.toml"),
        "[budget]\nmax_cost_usd = -2\nmax_tool_calls_per_minute = -1\n",
    )
    .expect("write");
    let s = load(&opts(&none, dir.path()));
    let msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(msgs.iter().any(|m| m.contains("`budget.max_cost_usd` is -2; expected 0 (no limit) or more")), "{msgs:?}");
    assert!(
        msgs.iter().any(|m| m.contains("`budget.max_tool_calls_per_minute` is -1; expected a value from 0 to 10000")),
        "{msgs:?}"
    );
    assert_eq!(s.config.budget.max_cost_usd, 0.0);
    assert_eq!(s.config.budget.max_tool_calls_per_minute, ToolCallLimit::default());
}

#[test]
fn checks_are_read_and_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("repo/.tandem")).expect("mkdir");
    let none = |_: &str| None;
    let s = load(&opts(&none, dir.path()));
    assert_eq!(s.config.checks.test_cmd, "");
    assert!(!s.config.checks.auto_test);
    assert_eq!((s.config.checks.max_fix_rounds, s.config.checks.timeout_secs), (3, 600));

    std::fs::write(
        dir.path().join("repo/.tandem/config.toml"),
        "[checks]\ntest_cmd = \"make test\"\nauto_test = true\nmax_fix_rounds = 0\n",
    )
    .expect("write");
    // A repository's commands apply once it is trusted.
    let mut o = opts(&none, dir.path());
    o.trust = TrustMode::Grant;
    let s = load(&o);
    assert_eq!(s.trust, TrustState::Trusted);
    let msgs: Vec<String> = s.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert!(msgs[0].contains("`checks.max_fix_rounds` is 0; expected a value from 1 to 100"), "{msgs:?}");
    assert_eq!(s.config.checks.test_cmd, "make test");
    assert!(s.config.checks.auto_test);
    assert_eq!(s.config.checks.max_fix_rounds, 3);
}
