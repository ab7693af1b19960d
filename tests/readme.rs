//! The README's key list is the default keymap, generated. Run with
//! `TANDEM_UPDATE_README=1 cargo test --test readme` to regenerate it.

use tandem::config::Keymap;

#[test]
fn readme_lists_the_default_keymap() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (start, end) = ("<!-- keys:start -->\n", "<!-- keys:end -->");
    let a = readme.find(start).expect("keys:start marker") + start.len();
    let b = readme.find(end).expect("keys:end marker");
    let (keymap, diags) = Keymap::load("default", &[], &[]);
    assert!(diags.is_empty(), "{diags:?}");
    let generated = tandem::ui::help::markdown(&keymap);
    if readme[a..b] != generated {
        if std::env::var_os("TANDEM_UPDATE_README").is_some() {
            let updated = format!("{}{}{}", &readme[..a], generated, &readme[b..]);
            std::fs::write(&path, updated).expect("write README.md");
        } else {
            panic!("README.md's key list is out of date: run TANDEM_UPDATE_README=1 cargo test --test readme");
        }
    }
}

#[test]
fn readme_lists_the_slash_commands() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (start, end) = ("<!-- slash:start -->\n", "<!-- slash:end -->");
    let a = readme.find(start).expect("slash:start marker") + start.len();
    let b = readme.find(end).expect("slash:end marker");
    let generated = tandem::config::slash::markdown();
    if readme[a..b] != generated {
        if std::env::var_os("TANDEM_UPDATE_README").is_some() {
            let updated = format!("{}{}{}", &readme[..a], generated, &readme[b..]);
            std::fs::write(&path, updated).expect("write README.md");
        } else {
            panic!("README.md's slash commands are out of date: run TANDEM_UPDATE_README=1 cargo test --test readme");
        }
    }
}
