//! Languages the index understands: detection by extension, grammars and tag queries.
//!
//! Each grammar sits behind a cargo feature (`lang-rust`, `lang-python`,
//! `lang-javascript`, `lang-typescript`, `lang-go`, `lang-c`, `lang-cpp`,
//! `lang-java`) so a lean build can drop the C parsers it does not need.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tree_sitter::Language;

use super::query::TagQuery;

/// A language with tag support.
///
/// Serialized into the index cache by variant index: add new languages at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lang {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    /// TypeScript with JSX: its own grammar, same feature (`lang-typescript`).
    Tsx,
    Go,
    C,
    Cpp,
    Java,
}

impl Lang {
    /// Every language tandem knows, compiled in or not.
    pub const ALL: [Lang; 9] = [
        Lang::Rust,
        Lang::Python,
        Lang::JavaScript,
        Lang::TypeScript,
        Lang::Tsx,
        Lang::Go,
        Lang::C,
        Lang::Cpp,
        Lang::Java,
    ];

    /// All languages compiled into this build.
    pub fn enabled() -> &'static [Lang] {
        &[
            #[cfg(feature = "lang-rust")]
            Lang::Rust,
            #[cfg(feature = "lang-python")]
            Lang::Python,
            #[cfg(feature = "lang-javascript")]
            Lang::JavaScript,
            #[cfg(feature = "lang-typescript")]
            Lang::TypeScript,
            #[cfg(feature = "lang-typescript")]
            Lang::Tsx,
            #[cfg(feature = "lang-go")]
            Lang::Go,
            #[cfg(feature = "lang-c")]
            Lang::C,
            #[cfg(feature = "lang-cpp")]
            Lang::Cpp,
            #[cfg(feature = "lang-java")]
            Lang::Java,
        ]
    }

    /// Language of a file, judged by its extension; `None` when unsupported or disabled.
    pub fn from_path(path: &Path) -> Option<Lang> {
        let lang = match path.extension()?.to_str()? {
            "rs" => Lang::Rust,
            "py" | "pyi" => Lang::Python,
            "js" | "mjs" | "cjs" | "jsx" => Lang::JavaScript,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" => Lang::Tsx,
            "go" => Lang::Go,
            "c" => Lang::C,
            // Headers are read as C; as C++ when only the C++ grammar is built.
            "h" if !cfg!(feature = "lang-c") => Lang::Cpp,
            "h" => Lang::C,
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" => Lang::Cpp,
            "java" => Lang::Java,
            _ => return None,
        };
        Lang::enabled().contains(&lang).then_some(lang)
    }

    pub fn name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
            Lang::TypeScript => "typescript",
            Lang::Tsx => "tsx",
            Lang::Go => "go",
            Lang::C => "c",
            Lang::Cpp => "cpp",
            Lang::Java => "java",
        }
    }

    /// Tag query source; part of the cache version so editing a query invalidates old tags.
    pub fn query_source(self) -> &'static str {
        match self {
            Lang::Rust => include_str!("../../assets/queries/rust-tags.scm"),
            Lang::Python => include_str!("../../assets/queries/python-tags.scm"),
            Lang::JavaScript => {
                concat!(
                    include_str!("../../assets/queries/javascript-tags.scm"),
                    include_str!("../../assets/queries/jsx-tags.scm")
                )
            }
            Lang::TypeScript => include_str!("../../assets/queries/typescript-tags.scm"),
            Lang::Tsx => {
                concat!(
                    include_str!("../../assets/queries/typescript-tags.scm"),
                    include_str!("../../assets/queries/jsx-tags.scm")
                )
            }
            Lang::Go => include_str!("../../assets/queries/go-tags.scm"),
            Lang::C => include_str!("../../assets/queries/c-tags.scm"),
            Lang::Cpp => include_str!("../../assets/queries/cpp-tags.scm"),
            Lang::Java => include_str!("../../assets/queries/java-tags.scm"),
        }
    }

    /// Grammar for this language. Only called for enabled languages (see `from_path`).
    pub fn grammar(self) -> Option<Language> {
        self.grammar_parts().map(|(language, _)| language)
    }

    /// The grammar's `node-types.json`, which tells the tag matcher what can occur where.
    pub(crate) fn node_types(self) -> Option<&'static str> {
        self.grammar_parts().map(|(_, node_types)| node_types)
    }

    fn grammar_parts(self) -> Option<(Language, &'static str)> {
        match self {
            #[cfg(feature = "lang-rust")]
            Lang::Rust => Some((tree_sitter_rust::LANGUAGE.into(), tree_sitter_rust::NODE_TYPES)),
            #[cfg(feature = "lang-python")]
            Lang::Python => Some((tree_sitter_python::LANGUAGE.into(), tree_sitter_python::NODE_TYPES)),
            #[cfg(feature = "lang-javascript")]
            Lang::JavaScript => Some((tree_sitter_javascript::LANGUAGE.into(), tree_sitter_javascript::NODE_TYPES)),
            #[cfg(feature = "lang-typescript")]
            Lang::TypeScript => Some((
                tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
                tree_sitter_typescript::TYPESCRIPT_NODE_TYPES,
            )),
            #[cfg(feature = "lang-typescript")]
            Lang::Tsx => Some((tree_sitter_typescript::LANGUAGE_TSX.into(), tree_sitter_typescript::TSX_NODE_TYPES)),
            #[cfg(feature = "lang-go")]
            Lang::Go => Some((tree_sitter_go::LANGUAGE.into(), tree_sitter_go::NODE_TYPES)),
            #[cfg(feature = "lang-c")]
            Lang::C => Some((tree_sitter_c::LANGUAGE.into(), tree_sitter_c::NODE_TYPES)),
            #[cfg(feature = "lang-cpp")]
            Lang::Cpp => Some((tree_sitter_cpp::LANGUAGE.into(), tree_sitter_cpp::NODE_TYPES)),
            #[cfg(feature = "lang-java")]
            Lang::Java => Some((tree_sitter_java::LANGUAGE.into(), tree_sitter_java::NODE_TYPES)),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Compiled tag query, built once per process: compiling is far slower than running it.
    pub fn query(self) -> Option<&'static TagQuery> {
        static QUERIES: [OnceLock<Option<TagQuery>>; Lang::ALL.len()] = [const { OnceLock::new() }; Lang::ALL.len()];
        // Indexed by discriminant, which follows `Lang::ALL`'s order.
        let cell = &QUERIES[self as usize];
        // A query that fails to compile is a programming error caught by the tag tests;
        // at runtime the language is simply treated as unsupported.
        cell.get_or_init(|| TagQuery::new(&self.grammar()?, self.query_source(), self.node_types()).ok()).as_ref()
    }
}
