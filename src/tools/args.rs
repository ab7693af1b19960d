//! Argument parsing shared by the tools: the model's JSON into a typed
//! struct, or an error the model can act on.

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;

use super::ToolOutput;

/// Parses `args` into `T`; the error names the tool and serde's complaint
/// (missing field, wrong type, unknown field with the expected ones).
pub fn parse<T: DeserializeOwned>(tool: &str, args: serde_json::Value) -> Result<T, ToolOutput> {
    serde_json::from_value(args)
        .map_err(|e| ToolOutput::error(format!("invalid arguments for {tool}: {e}; fix them and call it again")))
}

/// A string argument for `describe`, which must not fail on bad input.
pub fn str_arg<'a>(args: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    args.get(key).and_then(serde_json::Value::as_str)
}

/// The usual body of [`Tool::run`](super::Tool::run): parse `args` into
/// `T`, then run `f` on them off the async runtime.
pub fn run_parsed<T, F>(tool: &'static str, args: serde_json::Value, f: F) -> BoxFuture<'static, ToolOutput>
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
pub async fn blocking<F>(f: F) -> ToolOutput
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
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Args {
        path: String,
        start_line: Option<u64>,
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
