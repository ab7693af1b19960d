//! Languages the index understands: detection by extension, grammars and tag queries.
//!
//! Each grammar sits behind a cargo feature (`lang-rust`, `lang-python`) so a
//! lean build can drop the C parsers it does not need.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tree_sitter::Language;

use super::query::TagQuery;

/// A language with tag support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lang {
    Rust,
    Python,
}

impl Lang {
    /// All languages compiled into this build.
    pub fn enabled() -> &'static [Lang] {
        &[
            #[cfg(feature = "lang-rust")]
            Lang::Rust,
            #[cfg(feature = "lang-python")]
            Lang::Python,
        ]
    }

    /// Language of a file, judged by its extension; `None` when unsupported or disabled.
    pub fn from_path(path: &Path) -> Option<Lang> {
        let lang = match path.extension()?.to_str()? {
            "rs" => Lang::Rust,
            "py" | "pyi" => Lang::Python,
            _ => return None,
        };
        Lang::enabled().contains(&lang).then_some(lang)
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
        }
    }

    /// Tag query source; part of the cache version so editing a query invalidates old tags.
    pub fn query_source(self) -> &'static str {
        match self {
            Lang::Rust => include_str!("../../assets/queries/rust-tags.scm"),
            Lang::Python => include_str!("../../assets/queries/python-tags.scm"),
        }
    }

    /// Grammar for this language. Only called for enabled languages (see `from_path`).
    pub fn grammar(self) -> Option<Language> {
        match self {
            #[cfg(feature = "lang-rust")]
            Lang::Rust => Some(tree_sitter_rust::LANGUAGE.into()),
            #[cfg(feature = "lang-python")]
            Lang::Python => Some(tree_sitter_python::LANGUAGE.into()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Compiled tag query, built once per process: compiling is far slower than running it.
    pub fn query(self) -> Option<&'static TagQuery> {
        static RUST: OnceLock<Option<TagQuery>> = OnceLock::new();
        static PYTHON: OnceLock<Option<TagQuery>> = OnceLock::new();
        let cell = match self {
            Lang::Rust => &RUST,
            Lang::Python => &PYTHON,
        };
        // A query that fails to compile is a programming error caught by the tag tests;
        // at runtime the language is simply treated as unsupported.
        cell.get_or_init(|| TagQuery::new(&self.grammar()?, self.query_source()).ok()).as_ref()
    }
}
