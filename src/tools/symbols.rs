//! Tools answered from the repository index: `find_symbol`, `references`,
//! `outline` and `repo_map`. While the index is still being built they say
//! so, and point at `grep`, which works without it.

use std::path::PathBuf;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde_json::Value;

use super::registry::{BuiltinContext, BuiltinTool};
use super::{Tool, ToolContext, ToolOutput, args};
use crate::index::{MapRequest, SharedIndex, SymbolHit};
use crate::llm::ToolSpec;

/// Most hits listed; the rest are counted.
const MAX_HITS: usize = 100;

const NOT_READY: &str =
    "the repository index is not ready yet (it is still being built, or indexing is off); use grep meanwhile";

/// Parse `args` into `T` and answer from the index, off the async runtime.
fn with_index<T, F>(tool: &'static str, index: &SharedIndex, args: Value, f: F) -> BoxFuture<'static, ToolOutput>
where
    T: serde::de::DeserializeOwned + Send + 'static,
    F: FnOnce(&crate::index::Index, T) -> ToolOutput + Send + 'static,
{
    let index = index.clone();
    super::args::run_parsed(tool, args, move |a: T| match index.read() {
        Ok(guard) => match guard.as_ref() {
            Some(i) => f(i, a),
            None => ToolOutput::error(NOT_READY),
        },
        Err(_) => ToolOutput::error("the repository index is unavailable after an earlier failure"),
    })
}

#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FindArgs {
    /// The identifier, e.g. `parse_config`
    name: String,
    /// Also near matches (default false)
    #[serde(default)]
    fuzzy: bool,
}

#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ReferencesArgs {
    /// The identifier
    name: String,
}

#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PathArgs {
    /// File path relative to the repository root
    path: PathBuf,
}

#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct MapArgs {
    /// Files to focus on
    #[serde(default)]
    files: Vec<PathBuf>,
    /// Words or identifiers the map should favour
    #[serde(default)]
    about: String,
    /// Size of the map in tokens (default from config)
    tokens: Option<usize>,
}

/// A name to look up, or the error the model gets for an empty one.
fn name_of(name: &str) -> Result<&str, ToolOutput> {
    match name.trim() {
        "" => Err(ToolOutput::error("`name` is required: a non-empty identifier")),
        name => Ok(name),
    }
}

fn list_hits(hits: &[SymbolHit], what: &str, name: &str) -> ToolOutput {
    if hits.is_empty() {
        return ToolOutput::ok(format!("no {what} of `{name}` in the index"), format!("no {what} of {name}"));
    }
    let mut out = String::new();
    for h in hits.iter().take(MAX_HITS) {
        let kind = h.kind.map(|k| format!(" {}", k.as_str())).unwrap_or_default();
        if h.signature.is_empty() {
            out.push_str(&format!("{}:{}{kind}\n", h.path.display(), h.line));
        } else {
            out.push_str(&format!("{}:{}-{}{kind}: {}\n", h.path.display(), h.line, h.end_line, h.signature.trim()));
        }
    }
    if hits.len() > MAX_HITS {
        out.push_str(&format!("… and {} more\n", hits.len() - MAX_HITS));
    }
    ToolOutput::ok(out, format!("{} {what} of {name}", hits.len()))
}

pub struct FindSymbol(pub SharedIndex);

impl BuiltinTool for FindSymbol {
    const NAME: &'static str = "find_symbol";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        cx.index.clone().map(Self)
    }
}

impl Tool for FindSymbol {
    fn spec(&self) -> ToolSpec {
        args::spec::<FindArgs>(
            Self::NAME,
            "Find where a function, type, method, constant or module is defined, by name. \
             Returns path:line-range with the first line of each definition. With fuzzy, near \
             matches too (case, prefix, substring, typos).",
        )
    }

    fn run(&self, args: Value, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        with_index(Self::NAME, &self.0, args, |i, a: FindArgs| match name_of(&a.name) {
            Ok(name) => list_hits(&i.find_definitions(name, a.fuzzy), "definitions", name),
            Err(e) => e,
        })
    }

    fn describe(&self, args: &Value) -> String {
        format!("find {}", super::args::str_arg(args, "name").unwrap_or("?"))
    }
}

pub struct References(pub SharedIndex);

impl BuiltinTool for References {
    const NAME: &'static str = "references";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        cx.index.clone().map(Self)
    }
}

impl Tool for References {
    fn spec(&self) -> ToolSpec {
        args::spec::<ReferencesArgs>(
            Self::NAME,
            "List the places that use an identifier (calls, type uses), as path:line.",
        )
    }

    fn run(&self, args: Value, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        with_index(Self::NAME, &self.0, args, |i, a: ReferencesArgs| match name_of(&a.name) {
            Ok(name) => list_hits(&i.references(name), "references", name),
            Err(e) => e,
        })
    }

    fn describe(&self, args: &Value) -> String {
        format!("references to {}", super::args::str_arg(args, "name").unwrap_or("?"))
    }
}

pub struct Outline(pub SharedIndex);

impl BuiltinTool for Outline {
    const NAME: &'static str = "outline";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        cx.index.clone().map(Self)
    }
}

impl Tool for Outline {
    fn spec(&self) -> ToolSpec {
        args::spec::<PathArgs>(
            Self::NAME,
            "The definitions of one file in source order, nested, with line ranges: a cheap way \
             to see a file's shape before reading parts of it.",
        )
    }

    fn run(&self, args: Value, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        with_index(Self::NAME, &self.0, args, |i, PathArgs { path }| match i.outline(&path) {
            None => ToolOutput::error(format!(
                "{} is not in the index (not a file of a supported language, ignored, or missing); use read_file",
                path.display()
            )),
            Some(items) if items.is_empty() => {
                ToolOutput::ok(format!("{} has no definitions", path.display()), "no definitions")
            }
            Some(items) => {
                let mut out = String::new();
                for it in &items {
                    out.push_str(&format!(
                        "{}{}-{} {} {}\n",
                        "  ".repeat(it.depth),
                        it.line,
                        it.end_line,
                        it.kind.as_str(),
                        it.signature.trim()
                    ));
                }
                ToolOutput::ok(out, format!("outline of {} ({} definitions)", path.display(), items.len()))
            }
        })
    }

    fn describe(&self, args: &Value) -> String {
        format!("outline {}", super::args::str_arg(args, "path").unwrap_or("?"))
    }
}

pub struct RepoMapTool {
    pub index: SharedIndex,
    pub tokens: usize,
}

impl BuiltinTool for RepoMapTool {
    const NAME: &'static str = "repo_map";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        // A map too small to show anything is no use to the model.
        let tokens = cx.map_tokens.max(1024);
        cx.index.clone().map(|index| Self { index, tokens })
    }
}

impl Tool for RepoMapTool {
    fn spec(&self) -> ToolSpec {
        args::spec::<MapArgs>(
            Self::NAME,
            "A map of the repository's most important definitions, ranked by how the code refers \
             to itself, biased towards the files and identifiers given.",
        )
    }

    fn run(&self, args: Value, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let default_tokens = self.tokens;
        with_index(Self::NAME, &self.index, args, move |i, a: MapArgs| {
            let tokens = a.tokens.map_or(default_tokens, |t| t.clamp(256, 16_384));
            let map = i.map(&MapRequest { tokens, focus: a.files, mentions: a.about });
            if map.text.is_empty() {
                return ToolOutput::ok("the map is empty: no indexed definitions", "empty map");
            }
            let summary = format!("map of {} files, {} tokens", map.files.len(), map.tokens);
            ToolOutput::ok(map.text, summary)
        })
    }

    fn describe(&self, _args: &Value) -> String {
        "repository map".into()
    }
}
