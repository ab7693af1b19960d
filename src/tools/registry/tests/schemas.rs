//! The schemas of the tools' arguments as they were written by hand, beside
//! each tool's argument struct, before they were derived from it: what the
//! model was told then is what it is told now.

use serde_json::{Value, json};

use super::{call, context, ctx, empty_index};
use crate::tools::registry::*;

/// Each built-in tool's schema as it was written by hand, in their order.
fn written() -> Vec<(&'static str, Value)> {
    vec![
        (
            "read_file",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path relative to the repository root"},
                    "start_line": {"type": "integer", "minimum": 1, "description": "First line to show (default 1)"},
                    "end_line": {"type": "integer", "minimum": 1, "description": "Last line to show, inclusive"}
                },
                "required": ["path"],
                "additionalProperties": false
            }),
        ),
        (
            "list_files",
            json!({
                "type": "object",
                "properties": {
                    "glob": {"type": "string", "description": "Glob pattern, e.g. `**/*.rs`"},
                    "path": {"type": "string", "description": "Directory to list, relative to the repository root (default: the root)"}
                },
                "required": [],
                "additionalProperties": false
            }),
        ),
        (
            "grep",
            json!({
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "Regular expression, e.g. `fn\\s+parse_`"},
                    "path": {"type": "string", "description": "Directory or file to search, relative to the repository root (default: the root)"},
                    "glob": {"type": "string", "description": "Only files matching this glob, e.g. `**/*.rs`"},
                    "case_insensitive": {"type": "boolean", "description": "Ignore case (default false)"}
                },
                "required": ["pattern"],
                "additionalProperties": false
            }),
        ),
        (
            "find_symbol",
            json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The identifier, e.g. `parse_config`"},
                    "fuzzy": {"type": "boolean", "description": "Also near matches (default false)"}
                },
                "required": ["name"],
                "additionalProperties": false
            }),
        ),
        (
            "references",
            json!({
                "type": "object",
                "properties": {"name": {"type": "string", "description": "The identifier"}},
                "required": ["name"],
                "additionalProperties": false
            }),
        ),
        (
            "outline",
            json!({
                "type": "object",
                "properties": {"path": {"type": "string", "description": "File path relative to the repository root"}},
                "required": ["path"],
                "additionalProperties": false
            }),
        ),
        (
            "repo_map",
            json!({
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string"}, "description": "Files to focus on"},
                    "about": {"type": "string", "description": "Words or identifiers the map should favour"},
                    "tokens": {"type": "integer", "description": "Size of the map in tokens (default from config)"}
                },
                "additionalProperties": false
            }),
        ),
        (
            "edit_file",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path relative to the repository root"},
                    "old_text": {"type": "string", "description": "The exact text to replace"},
                    "new_text": {"type": "string", "description": "The text to put in its place"},
                    "replace_all": {"type": "boolean", "description": "Replace every occurrence (default false)"}
                },
                "required": ["path", "old_text", "new_text"],
                "additionalProperties": false
            }),
        ),
        (
            "write_file",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "File path relative to the repository root"},
                    "content": {"type": "string", "description": "The whole content of the file"}
                },
                "required": ["path", "content"],
                "additionalProperties": false
            }),
        ),
        (
            "apply_patch",
            json!({
                "type": "object",
                "properties": {"patch": {"type": "string", "description": "The whole patch, from *** Begin Patch to *** End Patch"}},
                "required": ["patch"],
                "additionalProperties": false
            }),
        ),
        (
            "run_command",
            json!({
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "The shell command line"},
                    "timeout_secs": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 600,
                        "description": "Seconds before the command is killed (default 120)"
                    }
                },
                "required": ["command"],
                "additionalProperties": false
            }),
        ),
    ]
}

/// What a derived schema says that the hand-written one did not, none of
/// it a change for the model.
fn amended(name: &str, mut schema: Value) -> Value {
    if name == "repo_map" {
        // Nothing is required: said before by leaving `required` out, now
        // by an empty list, as list_files always said it.
        schema["required"] = json!([]);
        // A `usize`: a negative number was always refused when parsed; the
        // schema now says so.
        schema["properties"]["tokens"]["minimum"] = json!(0);
    }
    schema
}

/// `schema` with its `required` names in order: which are required matters,
/// not the order they are listed in.
fn comparable(mut schema: Value) -> Value {
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    schema
}

#[test]
fn every_tool_tells_the_model_what_its_hand_written_schema_told_it() {
    let dir = tempfile::tempdir().expect("dir");
    let registry = Registry::builtin(&context(dir.path(), Some(empty_index())));
    let specs = registry.specs();
    let written = written();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    let written_names: Vec<&str> = written.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, written_names);
    let differences: Vec<String> = specs
        .into_iter()
        .zip(written)
        .filter(|(spec, (name, schema))| {
            comparable(spec.parameters.clone()) != comparable(amended(name, schema.clone()))
        })
        .map(|(spec, (name, schema))| format!("{name}: derived {:#}\nwritten {:#}", spec.parameters, schema))
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}

/// Arguments with every property of `schema`, each a value of its type.
fn every_argument(schema: &Value) -> Value {
    let mut args = serde_json::Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let value = match property["type"].as_str() {
            Some("string") => json!("x"),
            Some("integer") => property.get("minimum").cloned().unwrap_or(json!(1)),
            Some("boolean") => json!(false),
            Some("array") => json!([]),
            other => panic!("{name}: no value for a property of type {other:?}"),
        };
        args.insert(name.clone(), value);
    }
    Value::Object(args)
}

/// Each tool's parser takes every argument its schema names, and refuses
/// one it does not (references took `fuzzy`, which its schema never named:
/// now both say no).
#[tokio::test(flavor = "current_thread")]
async fn every_tool_parses_what_its_schema_names() {
    let dir = tempfile::tempdir().expect("dir");
    let mut cx = context(dir.path(), Some(empty_index()));
    cx.gate = Arc::new(Decline);
    let registry = Registry::builtin(&cx);
    for spec in registry.specs() {
        let args = every_argument(&spec.parameters);
        let out = registry.call(call(&spec.name, &args.to_string()), ctx()).await;
        assert!(!out.content.contains("invalid arguments"), "{} {args}: {out:?}", spec.name);
    }
    let out = registry.call(call("references", r#"{"name": "x", "fuzzy": true}"#), ctx()).await;
    assert!(out.is_error && out.content.contains("unknown field `fuzzy`"), "{out:?}");
}

/// Declines every command: the calls above must not run one.
struct Decline;

impl CommandGate for Decline {
    fn check(&self, _command: &str) -> BoxFuture<'static, Result<(), String>> {
        Box::pin(async { Err("not in this test".into()) })
    }
}
