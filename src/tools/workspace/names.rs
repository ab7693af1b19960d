//! What a path from the model may be spelt with, and which names are git's
//! own directory.

use std::ffi::OsStr;
use std::path::{Component, Path};

use super::PathError;

/// Longest path accepted, in bytes: Linux's `PATH_MAX`.
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest name of one file or directory, in bytes: what ext4, APFS and
/// most other file systems allow.
pub const MAX_NAME_BYTES: usize = 255;
/// Characters of a refused path echoed back in the message.
const SHOWN_CHARS: usize = 120;

/// The path as a message shows it: control characters escaped, and cut
/// when long, so an error never carries a screenful of the model's input.
pub(crate) fn shown(path: &str) -> String {
    let mut out: String = path.chars().take(SHOWN_CHARS).flat_map(char::escape_debug).collect();
    if path.chars().count() > SHOWN_CHARS {
        out.push('…');
    }
    out
}

/// Characters that show as nothing, or change how the text around them is
/// shown: a name with one can read as another in the review (Trojan Source,
/// CVE-2021-42574), and HFS+ ignores some of them when comparing names, so
/// `.g\u{200c}it` is `.git` there (git's `is_hfs_dotgit`).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{034f}'
            | '\u{061c}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// Whether `text` has a character that would not show as itself.
pub(crate) fn has_unprintable(text: &str) -> bool {
    text.chars().any(|c| c.is_control() || is_invisible(c))
}

/// Refuses what no file the model should touch is spelt with: NUL (which
/// the system would cut the path at), line breaks and other control
/// characters (which would forge lines in a listing or a review), invisible
/// characters, backslashes, `~` and `$` at the start (which tandem does not
/// expand, unlike a shell), and paths longer than file systems allow.
pub(crate) fn check_spelling(path: &str) -> Result<(), PathError> {
    if let Some(c) = path.chars().find(|&c| c.is_control() || is_invisible(c)) {
        let what = match c {
            '\0' => "a NUL byte".to_string(),
            '\n' | '\r' => "a line break".to_string(),
            c if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
            c => format!("the invisible character U+{:04X}", u32::from(c)),
        };
        return Err(PathError::Unprintable { path: shown(path), what });
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong { len: path.len() });
    }
    if let Some(name) = path.split('/').find(|n| n.len() > MAX_NAME_BYTES) {
        return Err(PathError::NameTooLong { name: shown(name), len: name.len() });
    }
    if path.contains('\\') {
        return Err(PathError::Backslash(shown(path)));
    }
    if let Some(Component::Normal(first)) = Path::new(path).components().next()
        && first.to_str().is_some_and(|f| f.starts_with('~') || f.starts_with('$'))
    {
        return Err(PathError::NotExpanded(shown(path)));
    }
    Ok(())
}

/// Whether `name` is, or on some file system is the same as, `.git`:
/// any case (macOS, Windows), with trailing dots or spaces or an NTFS
/// stream suffix (`.git.`, `.git::$INDEX_ALLOCATION`), the NTFS short name
/// `git~1`, or with characters HFS+ ignores. These are the spellings git
/// itself refuses to check out (`is_ntfs_dotgit`, `is_hfs_dotgit`; see
/// CVE-2014-9390 and CVE-2019-1352).
pub fn is_git_name(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else { return false };
    let name: String = name.chars().filter(|&c| !is_invisible(c)).collect::<String>().to_ascii_lowercase();
    let name = name.split(':').next().unwrap_or_default();
    let name = name.trim_end_matches(['.', ' ']);
    name == ".git" || name == "git~1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_spellings() {
        for name in [".git", ".GIT", ".Git", ".git.", ".git ", ".git. .", "git~1", "GIT~1", ".git::$INDEX_ALLOCATION"] {
            assert!(is_git_name(OsStr::new(name)), "{name:?}");
        }
        assert!(is_git_name(OsStr::new(".g\u{200c}it")));
        for name in [".github", ".gitignore", "git", ".git2", "x.git", ".gіt"] {
            assert!(!is_git_name(OsStr::new(name)), "{name:?}");
        }
    }

    #[test]
    fn spellings_that_are_refused() {
        let refused = |p: &str| check_spelling(p).is_err();
        for p in
            ["a\0b", "a\nb", "a\rb", "\u{1b}[31m", "a\u{202e}b", "a\u{200b}b", "..\\x", "~/x", "~root/x", "$HOME/x"]
        {
            assert!(refused(p), "{p:?}");
        }
        assert!(matches!(check_spelling(&"a/".repeat(2500)), Err(PathError::TooLong { len: 5000 })));
        assert!(matches!(check_spelling(&"x".repeat(256)), Err(PathError::NameTooLong { len: 256, .. })));
        for p in ["src/lib.rs", "./~", "a/~b", "%2e%2e/x", "．．／x", "日本語/ファイル.rs", &"x".repeat(255)]
        {
            assert!(!refused(p), "{p:?}");
        }
    }

    #[test]
    fn long_paths_are_shown_cut() {
        let s = shown(&"é".repeat(1000));
        assert_eq!(s.chars().count(), SHOWN_CHARS + 1);
        assert_eq!(shown("a\nb"), "a\\nb");
    }
}
