use std::io::Read;
use std::path::Path;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::tools::approval::AllowAll;
use crate::tools::args;
use crate::tools::read::ReadFile;

fn context(root: &Path, index: Option<SharedIndex>) -> BuiltinContext {
    BuiltinContext {
        workspace: Arc::new(Workspace::new(root)),
        proposals: Arc::new(Proposals::default()),
        index,
        map_tokens: 1024,
        gate: Arc::new(AllowAll),
    }
}

/// An index not built yet: enough for the symbol tools to be there.
fn empty_index() -> SharedIndex {
    Arc::new(std::sync::RwLock::new(None))
}

fn call(name: &str, arguments: &str) -> ToolCall {
    ToolCall { id: "c1".into(), name: name.into(), arguments: arguments.into() }
}

fn ctx() -> ToolContext {
    ToolContext::new(CancellationToken::new())
}

/// A tool that answers with a fixed text under a name of its choosing.
struct Fixed {
    name: String,
    answer: &'static str,
}

impl Tool for Fixed {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.name.clone(),
            description: format!("answers {}", self.answer),
            parameters: json!({"type": "object", "properties": {}, "required": [], "additionalProperties": false}),
        }
    }

    fn run(&self, _args: serde_json::Value, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let answer = self.answer;
        Box::pin(async move { ToolOutput::ok(answer, answer) })
    }

    fn describe(&self, _args: &serde_json::Value) -> String {
        format!("{} says {}", self.name, self.answer)
    }

    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(7))
    }
}

fn fixed(name: &str, answer: &'static str) -> Arc<dyn Tool> {
    Arc::new(Fixed { name: name.into(), answer })
}

#[tokio::test(flavor = "current_thread")]
async fn tools_are_found_by_name_and_listed_in_registration_order() {
    let mut registry = Registry::new();
    for (name, answer) in [("zeta", "z"), ("alpha", "a"), ("mid", "m")] {
        registry.register(fixed(name, answer)).expect("register");
    }
    let names: Vec<String> = registry.specs().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
    assert_eq!(registry.names().collect::<Vec<_>>(), ["zeta", "alpha", "mid"]);
    assert_eq!(registry.specs()[1].description, "answers a");
    for (name, answer) in [("alpha", "a"), ("mid", "m"), ("zeta", "z")] {
        let out = registry.call(call(name, "{}"), ctx()).await;
        assert_eq!(out, ToolOutput::ok(answer, answer), "{name}");
        assert_eq!(registry.describe(&call(name, "")), format!("{name} says {answer}"));
        assert_eq!(registry.timeout(&call(name, "{}")), Some(Duration::from_secs(7)));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_tool_of_a_name_is_refused_and_the_first_stays() {
    let mut registry = Registry::new();
    registry.register(fixed("read_file", "first")).expect("register");
    let err = registry.register(fixed("read_file", "second")).unwrap_err();
    assert_eq!(err, RegisterError::Duplicate("read_file".into()));
    assert!(err.to_string().contains("a tool named `read_file` is already registered"), "{err}");
    assert_eq!(registry.specs().len(), 1);
    let out = registry.call(call("read_file", "{}"), ctx()).await;
    assert_eq!(out.content, "first");
}

#[test]
fn names_a_provider_would_refuse_are_refused() {
    let mut registry = Registry::new();
    let long = "x".repeat(MAX_NAME_LEN + 1);
    for bad in ["", "two words", "naïve", "a.b", "a/b", "semi;colon", &long] {
        let err = registry.register(fixed(bad, "x")).unwrap_err();
        assert_eq!(err, RegisterError::BadName(bad.into()));
        assert!(err.to_string().contains("not a usable tool name"), "{err}");
    }
    let longest = "x".repeat(MAX_NAME_LEN);
    for good in ["read_file", "mcp-server_tool9", "X", &longest] {
        registry.register(fixed(good, "x")).expect(good);
    }
    assert_eq!(registry.specs().len(), 4);
}

#[tokio::test(flavor = "current_thread")]
async fn unknown_tools_and_bad_arguments_are_errors_for_the_model() {
    let mut registry = Registry::new();
    registry.register(fixed("alpha", "a")).expect("register");
    registry.register(fixed("beta", "b")).expect("register");
    let out = registry.call(call("gamma", "{}"), ctx()).await;
    assert!(out.is_error);
    assert_eq!(out.content, "there is no tool named `gamma`; the tools are: alpha, beta");
    assert_eq!(registry.describe(&call("gamma", "{\"x\":\n1}")), "gamma({\"x\": 1})");
    assert_eq!(registry.timeout(&call("gamma", "{}")), Some(DEFAULT_TIMEOUT));

    let out = registry.call(call("alpha", "not json"), ctx()).await;
    assert!(out.is_error && out.content.contains("are not valid JSON"), "{out:?}");
    let out = registry.call(call("alpha", "[1, 2]"), ctx()).await;
    assert!(out.is_error && out.content.contains("must be a JSON object"), "{out:?}");
    // No arguments at all are an empty object.
    let out = registry.call(call("alpha", "  "), ctx()).await;
    assert_eq!(out, ToolOutput::ok("a", "a"));
}

#[test]
fn the_builtin_tools_are_listed_once_and_named_as_their_specs() {
    let dir = tempfile::tempdir().expect("dir");
    let registry = Registry::builtin(&context(dir.path(), Some(empty_index())));
    let registered: Vec<&str> = registry.names().collect();
    let listed: Vec<&str> = builtin_names().collect();
    assert_eq!(registered, listed, "every line of BUILTINS gives a tool of the name it lists");
    assert_eq!(registered.len(), crate::tools::BUILTINS.len(), "no line of BUILTINS was refused");

    // Without an index the tools that answer from it are left out.
    let registry = Registry::builtin(&context(dir.path(), None));
    let without: Vec<&str> = registry.names().collect();
    assert_eq!(without, ["read_file", "list_files", "grep", "edit_file", "write_file", "apply_patch", "run_command"]);
}

#[test]
fn a_list_naming_a_tool_twice_keeps_the_first() {
    let dir = tempfile::tempdir().expect("dir");
    let list = [builtin::<ReadFile>(), builtin::<CountLines>(), builtin::<ReadFile>()];
    let registry = Registry::from_list(&list, &context(dir.path(), None));
    assert_eq!(registry.names().collect::<Vec<_>>(), ["read_file", "count_lines"]);
}

#[tokio::test(flavor = "current_thread")]
async fn every_builtin_tool_refuses_arguments_its_schema_does_not_name() {
    let dir = tempfile::tempdir().expect("dir");
    let registry = Registry::builtin(&context(dir.path(), Some(empty_index())));
    for spec in registry.specs() {
        assert_eq!(spec.parameters["additionalProperties"], json!(false), "{}", spec.name);
        let out = registry.call(call(&spec.name, r#"{"no_such_argument": 1}"#), ctx()).await;
        assert!(out.is_error && out.content.contains("unknown field `no_such_argument`"), "{}: {out:?}", spec.name);
    }
}

#[test]
fn unknown_tool_names_in_the_budget_are_warned_about_with_the_real_names() {
    let mut layered = Layered::from_defaults(crate::config::DEFAULT_CONFIG).expect("defaults");
    let file = "[budget]\nmax_tool_calls_per_minute = { read_file = 5, run_comand = 3, default = 30 }\n";
    assert!(layered.apply_file("config.toml", file).is_empty());
    let check =
        |layered: &Layered| -> Vec<String> { config_diagnostics(layered).iter().map(|d| d.to_string()).collect() };
    let warnings = check(&layered);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let all: Vec<&str> = builtin_names().collect();
    assert_eq!(
        warnings[0],
        format!(
            "warning: config.toml:2: `budget.max_tool_calls_per_minute` names `run_comand`, which is not a tool \
             (ignored); the tools are {}, and `default` applies to the tools not named",
            all.join(", ")
        )
    );
    // A table put back to its default for a bad value is still checked
    // as the user wrote it.
    layered.reset("budget.max_tool_calls_per_minute");
    assert_eq!(check(&layered), warnings);
    // Every built-in name is known, whether or not the index is there.
    let every: String = all.iter().map(|n| format!("{n} = 1, ")).collect();
    let mut layered = Layered::from_defaults(crate::config::DEFAULT_CONFIG).expect("defaults");
    assert!(layered.apply_file("c.toml", &format!("[budget]\nmax_tool_calls_per_minute = {{ {every}}}\n")).is_empty());
    assert_eq!(check(&layered), Vec::<String>::new());
}

/// A read-only tool as a new one is written: all of it is here, and a
/// line in a list of built-ins is all it takes to offer it to the model.
struct CountLines {
    workspace: Arc<Workspace>,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CountArgs {
    /// File path relative to the repository root
    path: String,
}

impl BuiltinTool for CountLines {
    const NAME: &'static str = "count_lines";

    fn build(cx: &BuiltinContext) -> Option<Self> {
        Some(Self { workspace: cx.workspace.clone() })
    }
}

impl Tool for CountLines {
    fn spec(&self) -> ToolSpec {
        args::spec::<CountArgs>(Self::NAME, "Count the lines of a file of the repository.")
    }

    fn run(&self, args: serde_json::Value, _ctx: ToolContext) -> BoxFuture<'static, ToolOutput> {
        let workspace = self.workspace.clone();
        args::run_parsed(Self::NAME, args, move |a: CountArgs| {
            let abs = match workspace.resolve(&a.path) {
                Ok(abs) => abs,
                Err(e) => return ToolOutput::error(e.to_string()),
            };
            let rel = workspace.relative(&abs);
            let mut text = String::new();
            match workspace.open(&abs).map(|(mut file, _)| file.read_to_string(&mut text)) {
                Ok(Ok(_)) => {
                    let n = text.lines().count();
                    ToolOutput::ok(format!("{rel}: {n} lines"), format!("counted {n} lines of {rel}"))
                }
                Ok(Err(e)) => ToolOutput::error(format!("cannot read `{rel}`: {e}")),
                Err(e) => ToolOutput::error(format!("`{rel}` {e}")),
            }
        })
    }

    fn describe(&self, args: &serde_json::Value) -> String {
        format!("count lines of {}", args::str_arg(args, "path").unwrap_or("?"))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_new_read_only_tool_is_its_own_code_and_one_line_in_a_list() {
    let dir = crate::tools::test_files::tree(&[("notes.txt", "one\ntwo\nthree\n")]);
    let list = [builtin::<ReadFile>(), builtin::<CountLines>()];
    let registry = Registry::from_list(&list, &context(dir.path(), None));

    let specs = registry.specs();
    assert_eq!(specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["read_file", "count_lines"]);
    assert_eq!(specs[1].description, "Count the lines of a file of the repository.");
    assert_eq!(
        specs[1].parameters,
        json!({
            "type": "object",
            "properties": {"path": {"type": "string", "description": "File path relative to the repository root"}},
            "required": ["path"],
            "additionalProperties": false
        })
    );

    let out = registry.call(call("count_lines", r#"{"path": "notes.txt"}"#), ctx()).await;
    assert_eq!(out, ToolOutput::ok("notes.txt: 3 lines", "counted 3 lines of notes.txt"));
    assert_eq!(registry.describe(&call("count_lines", r#"{"path": "notes.txt"}"#)), "count lines of notes.txt");
    assert_eq!(registry.timeout(&call("count_lines", "{}")), Some(DEFAULT_TIMEOUT));
    // It is confined to the repository like every tool, and its arguments
    // are checked like theirs.
    let out = registry.call(call("count_lines", r#"{"path": "../outside.txt"}"#), ctx()).await;
    assert!(out.is_error && out.content.contains("outside the repository"), "{out:?}");
    let out = registry.call(call("count_lines", "{}"), ctx()).await;
    assert!(out.is_error && out.content.contains("missing field `path`"), "{out:?}");
    let out = registry.call(call("count_lines", r#"{"path": "notes.txt", "lines": 2}"#), ctx()).await;
    assert!(out.is_error && out.content.contains("unknown field `lines`"), "{out:?}");
    // The tools registered beside it work as before.
    let out = registry.call(call("read_file", r#"{"path": "notes.txt"}"#), ctx()).await;
    assert_eq!(out.summary, "read notes.txt (3 lines)");
}

mod schemas;
