use super::*;
use crate::config::diagnostics::Severity;
use Context::*;

fn keys(s: &str) -> Vec<Key> {
    s.parse::<KeySeq>().unwrap_or_else(|e| panic!("{s}: {e}")).0
}

fn builtin(name: &str) -> Keymap {
    let (map, diags) = Keymap::load(name, &[], &[]);
    assert!(diags.is_empty(), "{name}: {diags:#?}");
    map
}

fn with_override(text: &str) -> (Keymap, Vec<Diagnostic>) {
    Keymap::load("default", &[], &[("override.toml".to_string(), text.to_string())])
}

/// Assert how keys resolve; one `context | keys | action, prefix or unbound` per line.
fn expect(map: &Keymap, table: &str) {
    for row in table.lines().map(str::trim).filter(|r| !r.is_empty()) {
        let [ctx, seq, want] = [0, 1, 2].map(|i| row.split('|').nth(i).unwrap_or("").trim());
        let want = match want {
            "prefix" => Lookup::Prefix,
            "unbound" => Lookup::Unbound,
            name => Lookup::Action(name.parse().unwrap_or_else(|e| panic!("{row}: {e}"))),
        };
        let ctx: Context = ctx.parse().unwrap_or_else(|e| panic!("{row}: {e}"));
        assert_eq!(map.lookup(ctx, &keys(seq)), want, "{row}");
    }
}

/// (line, message) of each error, in order.
fn errors(diags: &[Diagnostic]) -> Vec<(usize, String)> {
    diags.iter().filter(|d| d.is_error()).map(|d| (d.line.unwrap_or(0), d.message.clone())).collect()
}

/// `check_file`'s errors for a fixture, and default with the fixture
/// applied as an override layer (to see what survived).
fn fixture(name: &str) -> (Vec<(usize, String)>, Keymap) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keymaps").join(name);
    let diags = Keymap::check_file(&path);
    assert!(diags.iter().all(|d| d.source == path.display().to_string() && d.is_error()), "{diags:#?}");
    let (map, _) = with_override(&std::fs::read_to_string(&path).expect("fixture"));
    (errors(&diags), map)
}

#[test]
fn shipped_keymaps_load_without_diagnostics() {
    for name in Keymap::BUILTIN {
        builtin(name);
    }
}

#[test]
fn shipped_files_use_each_key_once_per_table_in_canonical_notation() {
    for name in Keymap::BUILTIN {
        let text = Keymap::builtin(name).expect("listed in BUILTIN");
        let doc = DeTable::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (table, entries) in doc.get_ref() {
            let Some(entries) = entries.get_ref().as_table() else { continue };
            let mut seen = HashSet::new();
            for written in entries.keys().map(|k| k.get_ref()) {
                let seq: KeySeq = written.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(seq.to_string(), written.as_ref(), "{name} [{}]", table.get_ref());
                assert!(seen.insert(seq), "{name} [{}] binds {written:?} twice", table.get_ref());
            }
        }
    }
}

#[test]
fn every_action_is_bound_in_default() {
    let bound: HashSet<Action> = builtin("default").bindings().into_iter().map(|(_, _, a)| a).collect();
    let missing: Vec<_> = Action::ALL.iter().filter(|a| !bound.contains(a)).collect();
    assert!(missing.is_empty(), "unbound in default.toml: {missing:?}");
}

#[test]
fn lookup_prefers_the_pane_then_global_and_follows_chords() {
    expect(
        &builtin("default"),
        "
        chat     | j   | scroll_down
        chat     | C-q | quit
        composer | C-u | delete_to_line_start
        chat     | C-u | half_page_up
        chat     | g   | prefix
        chat     | g g | scroll_top
        chat     | g x | unbound
        chat     | x   | unbound
        composer | g   | unbound
        ",
    );
    assert_eq!(builtin("default").lookup(Chat, &[]), Lookup::Unbound);
    let (map, diags) = with_override("[global]\n\"j\" = \"quit\"\n\"C-x C-c\" = \"quit\"\n");
    assert!(diags.is_empty(), "{diags:#?}");
    expect(
        &map,
        "
        chat     | j       | scroll_down
        composer | j       | quit
        diff     | C-x     | prefix
        diff     | C-x C-c | quit
        ",
    );
}

#[test]
fn vim_and_emacs_add_their_keys_on_top_of_default() {
    expect(
        &builtin("vim"),
        "
        chat     | Z     | prefix
        chat     | Z Z   | quit
        diff     | C-w w | focus_next
        composer | C-w   | delete_word_back
        composer | C-h   | delete_back
        chat     | j     | scroll_down
        ",
    );
    expect(
        &builtin("emacs"),
        "
        composer | C-x     | prefix
        composer | C-x C-c | quit
        metrics  | A->     | scroll_bottom
        composer | C-f     | cursor_right
        chat     | C-q     | quit
        ",
    );
}

#[test]
fn override_changes_only_named_keys_and_none_unbinds() {
    let (map, diags) = with_override("[chat]\n\"j\" = \"page_down\"\n\"k\" = \"none\"\n");
    assert!(diags.is_empty(), "{diags:#?}");
    expect(
        &map,
        "
        chat | j  | page_down
        chat | k  | unbound
        chat | Up | scroll_up
        diff | j  | next_hunk
        diff | k  | prev_hunk
        ",
    );
    assert_eq!(map.bindings().len(), builtin("default").bindings().len() - 1);
    let (map, diags) = with_override("inherits = \"vim\"\n");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert!(!diags[0].is_error() && diags[0].message.starts_with("`inherits` is ignored here"));
    expect(&map, "chat | Z | unbound");
}

#[test]
fn a_later_layer_can_replace_an_inherited_chord() {
    let (map, diags) = with_override("[chat]\n\"g\" = \"help\"\n");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        (diags[0].severity, diags[0].source.as_str(), diags[0].line),
        (Severity::Warning, "override.toml", Some(2))
    );
    assert!(diags[0].message.starts_with("`g` in [chat] unbinds the inherited `g g` (scroll_top)"), "{diags:#?}");
    expect(
        &map,
        "
        chat | g | help
        diff | g | prefix
        ",
    );

    let (map, diags) = with_override("[chat]\n\"g\" = \"help\"\n\"g g\" = \"none\"\n");
    assert!(diags.is_empty(), "{diags:#?}");
    expect(&map, "chat | g | help");
}

#[test]
fn hints_and_help_listing_are_ordered() {
    let map = builtin("default");
    let shown = |ctx, action| map.keys_for(ctx, action).iter().map(KeySeq::to_string).collect::<Vec<_>>();
    assert_eq!(shown(Chat, Action::ScrollBottom), ["G", "End"]);
    assert_eq!(shown(Chat, Action::ScrollTop), ["Home", "g g"]);
    assert_eq!(shown(Chat, Action::Quit), Vec::<String>::new());
    assert_eq!(shown(Global, Action::Cancel), ["Esc"]);
    assert_eq!(shown(Global, Action::Interrupt), ["C-c"]);
    let all = map.bindings();
    assert_eq!((all[0].0, all[0].2), (Global, Action::Quit));
    let order = |(ctx, _, action): &(Context, KeySeq, Action)| (*ctx as usize, *action);
    assert!(all.windows(2).all(|w| order(&w[0]) <= order(&w[1])));
}

#[test]
fn key_labels_name_the_pane_key_then_the_global_one() {
    let map = builtin("default");
    // Bound in the pane itself: its own shortest key, before [global]'s.
    assert_eq!(map.key_label(Chat, Action::Help), "?");
    assert_eq!(map.key_label(Chat, Action::ScrollBottom), "G");
    // Not bound in the pane: the global key.
    assert_eq!(map.key_label(Chat, Action::Quit), "C-q");
    assert_eq!(map.key_label(Global, Action::Help), "F1");
    let (map, diags) = with_override("[global]\n\"C-q\" = \"none\"\n");
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(map.key_label(Chat, Action::Quit), "(unbound)");
}

#[test]
fn unknown_action_names_file_line_key_and_action() {
    let (errs, map) = fixture("unknown-action.toml");
    let msg = "unknown action `scrol_up` for `j` in [chat] (did you mean `scroll_up`?); the help overlay lists \
               every action name, and \"none\" unbinds a key";
    assert_eq!(errs, [(6, msg.to_string())]);
    expect(
        &map,
        "
        chat | K | scroll_up
        chat | j | scroll_down
        ",
    );
    let far = unknown_action_message("frobnicate", "x", Chat);
    assert!(far.starts_with("unknown action `frobnicate` for `x` in [chat]; the help"), "{far}");
}

#[test]
fn bad_keys_are_reported_and_skipped() {
    let (errs, map) = fixture("bad-key.toml");
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert_eq!(errs[0], (5, "bad key `C-` in [global]: `C-` is not a key: nothing after the modifier".into()));
    assert_eq!(errs[1].0, 7);
    assert!(errs[1].1.starts_with("bad key `Ctrl-s` in [global]: `Ctrl-s` is not a key name; expected"));
    assert_eq!(errs[2].0, 8);
    assert!(errs[2].1.starts_with("bad key `g Foo` in [global]: `Foo` is not a key name"));
    expect(&map, "chat | F5 | redraw");
}

#[test]
fn duplicate_keys_keep_the_first() {
    let (errs, map) = fixture("duplicate-key.toml");
    let dup = |line, key, first, first_line| {
        let msg = format!("duplicate key `{key}` in [composer]: it is the same key as `{first}` on line {first_line}");
        (line, msg + "; this line is ignored")
    };
    assert_eq!(errs, [dup(7, "c-s", "C-s", 5), dup(8, "M-x", "A-x", 6)]);
    expect(
        &map,
        "
        composer | C-s | submit
        composer | A-x | clear_composer
        chat     | C-s | scroll_top
        ",
    );
}

#[test]
fn a_key_cannot_be_bound_and_start_a_chord_in_one_file() {
    let (errs, map) = fixture("prefix-conflict.toml");
    let msg = "`z z` in [diff] starts with `z`, which line 6 binds to zoom; a key can't both run an action and \
               start a chord, so `z z` is ignored";
    assert_eq!(errs, [(7, msg.to_string())]);
    expect(
        &map,
        "
        diff | z   | zoom
        diff | d d | scroll_bottom
        chat | x y | zoom
        ",
    );
}

#[test]
fn unknown_tables_and_settings_are_reported() {
    let (errs, map) = fixture("unknown-context.toml");
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_eq!(errs[0].0, 3);
    assert!(errs[0].1.starts_with("unknown setting `theme`"), "{errs:#?}");
    let msg = "unknown table [editor]; a keymap has the tables [global], [composer], [chat], [diff] and [metrics]";
    assert_eq!(errs[1], (5, msg.into()));
    expect(&map, "chat | J | scroll_down");
}

#[test]
fn toml_syntax_errors_name_the_line_and_spare_the_rest() {
    let (map, diags) = with_override("[chat]\n\"J\" = \n\"K\" = \"scroll_up\"\n");
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].0, 2);
    assert!(errs[0].1.starts_with("invalid TOML: "), "{errs:#?}");
    expect(
        &map,
        "
        chat | K | scroll_up
        chat | J | unbound
        ",
    );
}

#[test]
fn unknown_keymap_falls_back_to_default() {
    let (map, diags) = Keymap::load("vi", &[PathBuf::from("/nonexistent")], &[]);
    let msg = "unknown keymap `vi`: the built-in keymaps are default, vim, emacs and there is no file \
               /nonexistent/keymaps/vi.toml; using the built-in `default` keymap";
    assert_eq!(diags, [Diagnostic::error("keymap", None, msg)]);
    expect(&map, "global | C-q | quit");
}

#[test]
fn user_keymaps_inherit_and_shadow_builtins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let keymaps = dir.path().join("keymaps");
    std::fs::create_dir_all(&keymaps).expect("temp dir");
    for (file, text) in [
        ("mine.toml", "inherits = \"vim\"\n[chat]\n\"q\" = \"quit\"\n"),
        ("default.toml", "inherits = \"default\"\n[global]\n\"C-q\" = \"none\"\n"),
        ("loop-a.toml", "inherits = \"loop-b\"\n"),
        ("loop-b.toml", "inherits = \"loop-a\"\n"),
        ("typo.toml", "# typo below\ninherits = \"defualt\"\n"),
    ] {
        std::fs::write(keymaps.join(file), text).expect("write");
    }
    let dirs = [dir.path().to_path_buf()];
    let (map, diags) = Keymap::load("mine", &dirs, &[]);
    assert!(diags.is_empty(), "{diags:#?}");
    // The user's default.toml shadows the built-in one, even under vim.
    expect(
        &map,
        "
        chat | q   | quit
        chat | Z Z | quit
        chat | C-q | unbound
        ",
    );

    let (_, diags) = Keymap::load("loop-a", &dirs, &[]);
    let source = keymaps.join("loop-b.toml").display().to_string();
    assert_eq!(diags, [Diagnostic::error(source, Some(1), "`inherits = \"loop-a\"` makes a loop; ignoring it")]);

    let (map, diags) = Keymap::load("typo", &dirs, &[]);
    assert_eq!(errors(&diags).len(), 1, "{diags:#?}");
    assert_eq!(diags[0].line, Some(2));
    assert!(diags[0].message.starts_with("unknown keymap `defualt`"));
    assert!(diags[0].message.ends_with("; inheriting from `default` instead"));
    expect(
        &map,
        "
        global | C-q | unbound
        global | F1  | help
        ",
    );

    let bad = Keymap::check_file(&keymaps.join("typo.toml"));
    assert_eq!(errors(&bad).len(), 1);
    assert!(bad[0].message.starts_with("`inherits = \"defualt\"`: no such keymap"), "{bad:#?}");
    assert!(Keymap::check_file(&keymaps.join("loop-a.toml")).is_empty());
    assert!(Keymap::check_file(&keymaps.join("missing.toml"))[0].message.starts_with("can't read the file"));
}

#[test]
fn context_names_round_trip() {
    for ctx in Context::ALL {
        assert_eq!(ctx.name().parse::<Context>(), Ok(ctx));
        assert_eq!(Context::ALL[ctx as usize], ctx);
    }
    assert!("Chat".parse::<Context>().is_err());
}
