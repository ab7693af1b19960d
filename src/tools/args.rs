//! What the tools share about their arguments: the schema the model gets,
//! derived from the argument struct, and the parsing of the model's JSON
//! into that struct, or an error the model can act on.

use futures::future::BoxFuture;
use schemars::generate::SchemaSettings;
use schemars::transform::{RecursiveTransform, Transform};
use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::ToolOutput;
use crate::llm::ToolSpec;

/// A tool's spec: `name`, `description`, and the schema of `T`, its
/// arguments (see [`schema`]).
pub(crate) fn spec<T: JsonSchema>(name: &str, description: impl Into<String>) -> ToolSpec {
    ToolSpec { name: name.to_string(), description: description.into(), parameters: schema::<T>() }
}

/// The JSON schema of `T`, a struct of named fields, as the providers get
/// it: an object of `properties`, the `required` ones, and
/// `additionalProperties: false` (the struct must deny unknown fields, as
/// the tests check every tool's does). A property's description is its
/// doc comment; bounds come from `#[schemars(range(..))]`.
///
/// Left out is what schemars adds that tells the model nothing it needs
/// and that some servers refuse: `$schema` and titles, the struct's own
/// doc, `format`s naming Rust's integer types (`uint64`), `default`s (the
/// descriptions say them), and `null` as a type of an optional argument,
/// which is one left out, not one sent as null.
pub(crate) fn schema<T: JsonSchema>() -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.meta_schema = None;
        s.inline_subschemas = true;
    });
    let mut schema = settings.into_generator().into_root_schema_for::<T>();
    RecursiveTransform(plain).transform(&mut schema);
    let mut root = schema.to_value();
    let mut take = |key: &str, empty: Value| root.get_mut(key).map_or(empty, Value::take);
    let properties = take("properties", json!({}));
    let required = take("required", json!([]));
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// One schema (of the root or a property, an item, a variant) without what
/// [`schema`] leaves out.
fn plain(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else { return };
    for key in ["title", "format", "default"] {
        object.remove(key);
    }
    // `Option<u64>`: `"type": ["integer", "null"]`.
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_mut_slice() {
            let only = only.take();
            object.insert("type".into(), only);
        }
    }
    // `Option` of an array or object: `"anyOf": [{…}, {"type": "null"}]`.
    if let Some(Value::Array(variants)) = object.get_mut("anyOf") {
        variants.retain(|v| v.get("type").and_then(Value::as_str) != Some("null"));
        if let [only] = variants.as_mut_slice()
            && let Value::Object(inner) = only.take()
        {
            object.remove("anyOf");
            for (key, value) in inner {
                // The field's own description wins over its type's.
                object.entry(key).or_insert(value);
            }
            // Its inner schema is plain too once it stands here.
            plain(schema);
        }
    }
}

/// Parses `args` into `T`; the error names the tool and serde's complaint
/// (missing field, wrong type, unknown field with the expected ones).
pub fn parse<T: DeserializeOwned>(tool: &str, args: serde_json::Value) -> Result<T, ToolOutput> {
    serde_json::from_value(args)
        .map_err(|e| ToolOutput::error(format!("invalid arguments for {tool}: {e}; fix them and call it again")))
}

/// A string argument for `describe`, which must not fail on bad input.
pub(crate) fn str_arg<'a>(args: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    args.get(key).and_then(serde_json::Value::as_str)
}

/// The usual body of [`Tool::run`](super::Tool::run): parse `args` into
/// `T`, then run `f` on them off the async runtime.
pub(crate) fn run_parsed<T, F>(tool: &'static str, args: serde_json::Value, f: F) -> BoxFuture<'static, ToolOutput>
where
    T: DeserializeOwned + Send + 'static,
    F: FnOnce(T) -> ToolOutput + Send + 'static,
{
    Box::pin(async move {
        match parse::<T>(tool, args) {
            Ok(args) => blocking(move || f(args)).await,
            Err(e) => e,
        }
    })
}

/// Runs blocking file-system work off the async runtime, which the UI
/// shares.
pub(crate) async fn blocking<F>(f: F) -> ToolOutput
where
    F: FnOnce() -> ToolOutput + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| ToolOutput::error(format!("internal error: the tool's worker failed ({e})")))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Args {
        path: String,
        start_line: Option<u64>,
    }

    /// The struct's own doc is not the model's business.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Every {
        /// A path, e.g. `src/**/*.rs`
        path: String,
        /// First line
        #[schemars(range(min = 1, max = 10))]
        line: Option<u64>,
        /// Some names
        names: Option<Vec<String>>,
        /// A flag (default false)
        #[serde(default)]
        flag: bool,
        /// Named like a keyword
        format: Option<String>,
        /// Named like another
        #[serde(default)]
        default: Vec<std::path::PathBuf>,
        tokens: Option<usize>,
        /// A table of its own
        inner: Option<Inner>,
    }

    /// Not shown either.
    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        /// A small number
        small: u8,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Nothing {}

    #[test]
    fn schemas_are_derived_plain_objects() {
        let expected = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "A path, e.g. `src/**/*.rs`"},
                "line": {"type": "integer", "minimum": 1, "maximum": 10, "description": "First line"},
                "names": {"type": "array", "items": {"type": "string"}, "description": "Some names"},
                "flag": {"type": "boolean", "description": "A flag (default false)"},
                "format": {"type": "string", "description": "Named like a keyword"},
                "default": {"type": "array", "items": {"type": "string"}, "description": "Named like another"},
                "tokens": {"type": "integer", "minimum": 0},
                "inner": {
                    "type": "object",
                    "description": "A table of its own",
                    "properties": {
                        "small": {"type": "integer", "minimum": 0, "maximum": 255, "description": "A small number"}
                    },
                    "required": ["small"],
                    "additionalProperties": false
                }
            },
            "required": ["path"],
            "additionalProperties": false
        });
        assert_eq!(schema::<Every>(), expected, "{:#}", schema::<Every>());
        let none = json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false});
        assert_eq!(schema::<Nothing>(), none);
        let spec = spec::<Nothing>("nothing", "Does nothing.");
        assert_eq!(
            (spec.name.as_str(), spec.description.as_str(), spec.parameters),
            ("nothing", "Does nothing.", none)
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let err = parse::<Args>("read_file", json!({})).unwrap_err();
        assert!(err.is_error);
        assert!(err.content.contains("missing field `path`"), "{}", err.content);
        let err = parse::<Args>("read_file", json!({"path": "a", "bogus": 1})).unwrap_err();
        assert!(err.content.contains("unknown field `bogus`"), "{}", err.content);
        let err = parse::<Args>("read_file", json!({"path": "a", "start_line": "x"})).unwrap_err();
        assert!(err.content.contains("invalid type"), "{}", err.content);
    }
}
