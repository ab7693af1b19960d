use std::path::PathBuf;

use super::*;
use crate::config::diagnostics::Severity;

const DEPTHS: [ColorDepth; 4] = [ColorDepth::TrueColor, ColorDepth::Ansi256, ColorDepth::Ansi16, ColorDepth::NoColor];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/themes")
}

fn fixture_label(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

fn rgb(hex: u32) -> Option<Color> {
    let [_, r, g, b] = hex.to_be_bytes();
    Some(Color::Rgb(r, g, b))
}

fn parse(text: &str) -> (Theme, Vec<Diagnostic>) {
    Theme::from_str("test", "test.toml", text, ColorDepth::TrueColor)
}

fn default_theme() -> Theme {
    Theme::load("default", &[], ColorDepth::TrueColor).0
}

/// The diagnostics as (line, message), for exact comparisons.
fn lines_and_messages(diags: &[Diagnostic]) -> Vec<(Option<usize>, &str)> {
    diags.iter().map(|d| (d.line, d.message.as_str())).collect()
}

#[test]
fn builtin_themes_load_cleanly_at_every_depth() {
    for name in Theme::BUILTIN {
        for depth in DEPTHS {
            let (theme, diags) = Theme::load(name, &[], depth);
            assert_eq!(theme.depth(), depth);
            assert!(SYNTAX_THEMES.contains(&theme.syntax_theme()), "{name}: {}", theme.syntax_theme());
            // Only the 16-colour fallback may speak, and only for themes that need more colours.
            if depth == ColorDepth::Ansi16 && *name != "base16" {
                assert_eq!(diags.len(), 1, "{name} at {depth:?}: {diags:?}");
                assert_eq!(diags[0].severity, Severity::Warning);
            } else {
                assert!(diags.is_empty(), "{name} at {depth:?}: {diags:?}");
                assert_eq!(theme.name(), *name);
            }
        }
    }
}

#[test]
fn builtin_themes_style_every_scope() {
    for name in Theme::BUILTIN {
        let (theme, _) = Theme::load(name, &[], ColorDepth::TrueColor);
        for scope in SCOPES {
            assert!(!theme.style(scope).is_empty(), "{name} leaves `{scope}` unstyled");
        }
    }
}

#[test]
fn builtin_themes_keep_focus_visible_without_colour() {
    for name in Theme::BUILTIN {
        let (theme, _) = Theme::load(name, &[], ColorDepth::NoColor);
        for scope in ["ui.pane.border.focus", "ui.pane.title.focus", "ui.tabs.active", "ui.selection"] {
            let style = theme.style(scope);
            assert!(!style.modifiers.is_empty(), "{name}: `{scope}` has no modifier");
            assert_ne!(style, theme.style(scope.rsplit_once('.').map_or(scope, |(p, _)| p)), "{name}: `{scope}`");
        }
    }
}

#[test]
fn base16_uses_only_the_16_ansi_colours() {
    let (theme, _) = Theme::load("base16", &[], ColorDepth::TrueColor);
    assert_eq!(theme.syntax_theme(), "base16-ocean.dark");
    for (scope, style) in &theme.styles {
        assert!(style.is_ansi16(), "`{scope}` uses {style:?}");
    }
    let text = builtin_text("base16").unwrap_or_default();
    assert!(!text.lines().any(|l| !l.starts_with('#') && l.contains("\"#")), "base16.toml has a hex colour");
}

#[test]
fn light_theme_uses_a_light_syntax_theme() {
    assert_eq!(Theme::load("light", &[], ColorDepth::TrueColor).0.syntax_theme(), "InspiredGitHub");
}

#[test]
fn undefined_scopes_fall_back_to_their_parents() {
    let (theme, diags) = parse("\"ui\" = \"red\"\n\"ui.pane.border\" = { fg = \"blue\", modifiers = [\"bold\"] }\n");
    assert!(diags.is_empty(), "{diags:?}");
    let border = StyleSpec { fg: Some(Color::Indexed(4)), bg: None, modifiers: Modifiers::BOLD };
    assert_eq!(theme.style("ui.pane.border"), border);
    assert_eq!(theme.style("ui.pane.border.focus"), border);
    let ui = StyleSpec { fg: Some(Color::Indexed(1)), ..StyleSpec::default() };
    assert_eq!(theme.style("ui.pane"), ui);
    // Fallback goes by whole segments, not string prefixes.
    assert_eq!(theme.style("ui.pane.borderline"), ui);
    assert_eq!(theme.style("chat.user"), StyleSpec::default());
}

#[test]
fn nested_tables_are_flattened_into_dotted_scopes() {
    let text = "[ui.pane]\nborder = \"gray\"\nfg = \"white\"\n[ui.pane.title]\nfocus = { fg = 42, modifiers = [\"italic\"] }\n";
    let (theme, diags) = parse(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(theme.style("ui.pane.border").fg, Some(Color::Indexed(8)));
    assert_eq!(theme.style("ui.pane").fg, Some(Color::Indexed(15)));
    assert_eq!(theme.style("ui.pane.title"), theme.style("ui.pane"));
    let focus = theme.style("ui.pane.title.focus");
    assert_eq!((focus.fg, focus.modifiers), (Some(Color::Indexed(42)), Modifiers::ITALIC));
}

#[test]
fn palette_names_resolve_and_shadow_ansi_names() {
    let text = "\"ui.text\" = \"ink\"\n\"ui.status\" = { fg = \"red\", bg = \"paper\" }\n\
                [palette]\nink = \"#102030\"\nred = \"#ff0001\"\npaper = 236\n";
    let (theme, diags) = parse(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(theme.style("ui.text").fg, rgb(0x102030));
    assert_eq!(theme.style("ui.status").fg, rgb(0xff0001));
    assert_eq!(theme.style("ui.status").bg, Some(Color::Indexed(236)));
}

#[test]
fn inherits_loads_the_parent_then_overrides_it() {
    let parent = default_theme();
    let text = "inherits = \"default\"\nsyntax = \"Solarized (dark)\"\n\"chat.user\" = { fg = \"magenta\" }\n\
                [palette]\nblue = \"#0000ff\"\n";
    let (theme, diags) = parse(text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(theme.name(), "test");
    assert_eq!(theme.syntax_theme(), "Solarized (dark)");
    assert_eq!(theme.style("chat.user"), StyleSpec { fg: Some(Color::Indexed(5)), ..StyleSpec::default() });
    // The parent's scopes use the child's palette.
    assert_eq!(theme.style("ui.pane.border.focus").fg, rgb(0x0000ff));
    assert_ne!(parent.style("ui.pane.border.focus").fg, rgb(0x0000ff));
    assert_eq!(theme.style("diff.plus"), parent.style("diff.plus"));
    assert_eq!(theme.style("ui.background"), parent.style("ui.background"));
}

#[test]
fn a_theme_inheriting_its_own_name_customises_the_builtin() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("default.toml"), "inherits = \"default\"\n\"ui.text\" = \"red\"\n").expect("write");
    let (theme, diags) = Theme::load("default", &[dir.path().to_path_buf()], ColorDepth::TrueColor);
    assert!(diags.is_empty(), "{diags:?}");
    // The user file won, and the built-in filled in the rest; `red` is the built-in's palette entry.
    assert_eq!(theme.style("ui.text").fg, rgb(0xe06c75));
    assert_eq!(theme.style("diff.plus"), default_theme().style("diff.plus"));
}

#[test]
fn an_inheritance_cycle_is_reported_with_its_chain() {
    let (theme, diags) = Theme::load("cycle-a", &[fixtures()], ColorDepth::TrueColor);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].source, fixture_label("cycle-b.toml"));
    assert_eq!(
        lines_and_messages(&diags),
        [(
            Some(3),
            "`inherits`: inheritance cycle cycle-a -> cycle-b -> cycle-a; \
             the built-in default theme is used as the base instead"
        )]
    );
    assert_eq!(theme.name(), "cycle-a");
    // Both files apply, on the default theme's palette.
    assert_eq!(theme.style("ui.text").fg, rgb(0xe06c75));
    assert_eq!(theme.style("ui.text.dim").fg, rgb(0x98c379));
    assert_eq!(theme.style("diff.minus"), default_theme().style("diff.minus"));
}

#[test]
fn bad_colours_are_reported_with_line_and_left_out() {
    let (theme, diags) = Theme::load("bad-colour", &[fixtures()], ColorDepth::TrueColor);
    let expected = "expected #rrggbb, a palette name, an ANSI colour name or 0-255";
    assert!(diags.iter().all(|d| d.is_error() && d.source == fixture_label("bad-colour.toml")), "{diags:?}");
    let mut got = lines_and_messages(&diags);
    got.sort();
    assert_eq!(
        got,
        [
            (Some(5), format!("`ui.pane.border`: `#12345` is not a colour; {expected}").as_str()),
            (Some(6), format!("`ui.pane.border.focus`: `300` is not a colour; {expected}").as_str()),
            (Some(7), format!("`diff.plus`: `no-such-colour` is not a colour; {expected}").as_str()),
        ]
    );
    // The bad definitions give way to the inherited ones; the good one stays.
    let parent = default_theme();
    for scope in ["ui.pane.border", "ui.pane.border.focus", "diff.plus"] {
        assert_eq!(theme.style(scope), parent.style(scope), "{scope}");
    }
    assert_eq!(theme.style("ui.text").fg, rgb(0xff8800));
}

#[test]
fn bad_modifiers_are_reported_with_line() {
    let diags = check_file(&fixtures().join("bad-modifier.toml"));
    assert_eq!(
        lines_and_messages(&diags),
        [
            (
                Some(4),
                "`ui.pane.border.focus`: unknown modifier `blink`; \
                 expected bold, dim, italic, underlined, reversed or crossed_out"
            ),
            (Some(5), "`ui.tabs.active`: modifiers must be a list such as [\"bold\"], found a string"),
        ]
    );
}

#[test]
fn a_file_that_is_not_toml_gives_the_default_theme() {
    let (theme, diags) = Theme::load("not-toml", &[fixtures()], ColorDepth::TrueColor);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].source, fixture_label("not-toml.toml"));
    assert_eq!(diags[0].line, Some(4));
    assert!(diags[0].message.starts_with("not valid TOML: "), "{}", diags[0].message);
    assert!(diags[0].message.ends_with("; using the built-in default theme"), "{}", diags[0].message);
    assert_eq!(theme.name(), "default");
    assert_eq!(theme.styles, default_theme().styles);
}

#[test]
fn unknown_parent_and_syntax_theme_are_reported() {
    let diags = check_file(&fixtures().join("unknown-parent.toml"));
    assert_eq!(
        lines_and_messages(&diags),
        [
            (
                Some(3),
                "`syntax`: `Monokai` is not a syntect theme; expected one of \"base16-ocean.dark\", \
                 \"base16-eighties.dark\", \"base16-mocha.dark\", \"base16-ocean.light\", \"InspiredGitHub\", \
                 \"Solarized (dark)\", \"Solarized (light)\""
            ),
            (
                Some(2),
                "`inherits`: no theme named `solarized-neon` (built-in: default, light, base16); \
                 the built-in default theme is used as the base instead"
            ),
        ]
    );
    let (theme, _) = Theme::load("unknown-parent", &[fixtures()], ColorDepth::TrueColor);
    assert_eq!(theme.syntax_theme(), default_theme().syntax_theme());
    assert_eq!(theme.style("ui.status"), default_theme().style("ui.status"));
}

#[test]
fn unknown_theme_name_gives_the_default_theme() {
    let (theme, diags) = Theme::load("nope", &[fixtures()], ColorDepth::TrueColor);
    assert_eq!(theme.name(), "default");
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].is_error());
    assert!(diags[0].message.starts_with("no theme named `nope`"), "{}", diags[0].message);
    // Path-like names never reach the file system.
    let (_, diags) = Theme::load("../themes/cycle-a", &[fixtures()], ColorDepth::TrueColor);
    assert!(diags[0].message.starts_with("no theme named"), "{diags:?}");
}

#[test]
fn unknown_scopes_and_wrong_types() {
    let (theme, diags) = parse("\"ui.future.widget\" = \"red\"\n");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(theme.style("ui.future.widget.part").fg, Some(Color::Indexed(1)));

    let text = "inherits = 3\n\"ui.text\" = true\n[palette]\n\"ui.status\" = { fg = \"red\" }\nbad = \"#gg0000\"\n";
    let (_, diags) = parse(text);
    let got = lines_and_messages(&diags);
    assert!(got.contains(&(Some(1), "`inherits` must be a theme name in quotes, found an integer")), "{got:?}");
    assert!(
        got.contains(&(Some(2), "`ui.text`: expected a colour or a table with fg, bg and modifiers, found a boolean"))
    );
    assert!(got.iter().any(|(l, m)| *l == Some(4) && m.contains("put `[palette]` at the end")), "{got:?}");
    assert!(got.contains(&(
        Some(5),
        "`palette.bad`: `#gg0000` is not a colour; expected #rrggbb, an ANSI colour name, reset or 0-255"
    )));
    assert_eq!(got.len(), 4, "{got:?}");
}

#[test]
fn a_bad_palette_entry_is_reported_once() {
    let (theme, diags) = parse("\"ui.text\" = \"ink\"\n[palette]\nink = \"#12\"\n");
    assert_eq!(lines_and_messages(&diags).len(), 1, "{diags:?}");
    assert_eq!(diags[0].line, Some(3));
    assert_eq!(theme.style("ui.text"), StyleSpec::default());
}

#[test]
fn colour_depth_detection() {
    let detect = |vars: &[(&str, &str)]| {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ColorDepth::detect(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    assert_eq!(detect(&[]), ColorDepth::Ansi16);
    assert_eq!(detect(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]), ColorDepth::NoColor);
    assert_eq!(detect(&[("NO_COLOR", ""), ("COLORTERM", "truecolor")]), ColorDepth::TrueColor);
    assert_eq!(detect(&[("COLORTERM", "24bit"), ("TERM", "xterm")]), ColorDepth::TrueColor);
    assert_eq!(detect(&[("COLORTERM", "yes"), ("TERM", "xterm-256color")]), ColorDepth::Ansi256);
    assert_eq!(detect(&[("TERM", "screen-256color")]), ColorDepth::Ansi256);
    assert_eq!(detect(&[("TERM", "dumb")]), ColorDepth::NoColor);
    assert_eq!(detect(&[("TERM", "xterm")]), ColorDepth::Ansi16);
}

#[test]
fn ansi256_approximates_rgb_to_the_nearest_xterm_colour() {
    assert_eq!(nearest_xterm256(0xff, 0, 0), 196);
    assert_eq!(nearest_xterm256(0, 0, 0), 16);
    assert_eq!(nearest_xterm256(0xff, 0xff, 0xff), 231);
    assert_eq!(nearest_xterm256(0x80, 0x80, 0x80), 244);
    assert_eq!(nearest_xterm256(0x5f, 0x87, 0xaf), 67);
    let (theme, _) = parse("\"ui.text\" = { fg = \"#ff0000\", bg = \"#808080\" }\n\"ui.status\" = 3\n");
    let (t256, _) =
        Theme::from_str("t", "t.toml", "\"ui.text\" = { fg = \"#ff0000\", bg = \"#808080\" }\n", ColorDepth::Ansi256);
    assert_eq!(theme.style("ui.text").fg, rgb(0xff0000));
    assert_eq!(t256.style("ui.text").fg, Some(Color::Indexed(196)));
    assert_eq!(t256.style("ui.text").bg, Some(Color::Indexed(244)));
    assert_eq!(t256.depth(), ColorDepth::Ansi256);
}

#[test]
fn no_color_strips_colours_but_keeps_modifiers() {
    let (theme, diags) = Theme::load("default", &[], ColorDepth::NoColor);
    assert!(diags.is_empty(), "{diags:?}");
    let focus = theme.style("ui.pane.border.focus");
    assert_eq!(focus, StyleSpec { fg: None, bg: None, modifiers: Modifiers::BOLD });
    assert!(theme.style("ui.tabs.active").modifiers.contains(Modifiers::BOLD | Modifiers::REVERSED));
    assert!(theme.styles.values().all(|s| s.fg.is_none() && s.bg.is_none()));
}

#[test]
fn ansi16_falls_back_to_base16_for_themes_needing_more_colours() {
    let (theme, diags) = Theme::load("default", &[], ColorDepth::Ansi16);
    assert_eq!(theme.name(), "base16");
    assert_eq!(theme.styles, Theme::load("base16", &[], ColorDepth::Ansi16).0.styles);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].severity, Severity::Warning);
    assert_eq!(diags[0].source, "built-in theme default");
    assert!(diags[0].message.contains("16 colours"), "{}", diags[0].message);
    assert!(diags[0].message.contains("COLORTERM=truecolor"), "{}", diags[0].message);

    // A theme of ANSI and low indexed colours is kept as written.
    let (theme, diags) = Theme::from_str("mine", "mine.toml", "\"ui.text\" = 12\n", ColorDepth::Ansi16);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!((theme.name(), theme.style("ui.text").fg), ("mine", Some(Color::Indexed(12))));
    let (theme, diags) = Theme::from_str("mine", "mine.toml", "\"ui.text\" = 16\n", ColorDepth::Ansi16);
    assert_eq!((theme.name(), diags.len()), ("base16", 1));
}

#[test]
fn modifiers_combine() {
    let m = Modifiers::BOLD | Modifiers::ITALIC;
    assert!(m.contains(Modifiers::BOLD) && m.contains(Modifiers::ITALIC));
    assert!(!m.contains(Modifiers::DIM) && !m.contains(Modifiers::BOLD | Modifiers::DIM));
    assert!(Modifiers::empty().is_empty());
    let names: Vec<&str> = Modifiers::NAMES.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["bold", "dim", "italic", "underlined", "reversed", "crossed_out"]);
}
