//! Slash commands: named, documented actions typed in the composer. One
//! table gives the parsing, the help overlay, the README's list and
//! completion, as the keymap does for keys.

/// One slash command: its name, what it takes, and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashCommand {
    pub name: &'static str,
    /// Its arguments in usage notation (`[PROFILE [MODEL]]`), or "".
    pub args: &'static str,
    pub doc: &'static str,
}

/// Every slash command, in the order help lists them.
pub(crate) const COMMANDS: &[SlashCommand] = &[
    SlashCommand {
        name: "model",
        args: "[PROFILE [MODEL]]",
        doc: "Show the model in use and the profiles, or switch to PROFILE (and MODEL)",
    },
    SlashCommand { name: "map", args: "", doc: "Show the repository map sent with the last request" },
    SlashCommand { name: "export", args: "FILE", doc: "Write the chat to FILE as markdown" },
    SlashCommand { name: "clear", args: "", doc: "Start a new session: an empty chat and conversation" },
    SlashCommand { name: "test", args: "", doc: "Run the project's tests; failures go to the model to fix" },
    SlashCommand { name: "lint", args: "", doc: "Run the project's linter; problems go to the model to fix" },
    SlashCommand { name: "help", args: "", doc: "Show the keys and commands" },
];

/// A slash command as typed, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Slash {
    Model(Vec<String>),
    Map,
    Export(String),
    Clear,
    Test,
    Lint,
    Help,
}

/// Why a line starting with `/` is not a command that can run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SlashError {
    #[error("Unknown command /{name}. {}", help_line())]
    Unknown { name: String },
    #[error("/{name} needs {args}, e.g. /{name} {example}")]
    Missing { name: &'static str, args: &'static str, example: &'static str },
    #[error("/{name} takes no arguments")]
    Extra { name: &'static str },
}

impl Slash {
    /// Parse `text`, the composer's text after the `/`.
    pub fn parse(text: &str) -> Result<Slash, SlashError> {
        let mut words = text.split_whitespace();
        let name = words.next().unwrap_or("");
        let args: Vec<String> = words.map(str::to_string).collect();
        let none =
            |name: &'static str, cmd: Slash| if args.is_empty() { Ok(cmd) } else { Err(SlashError::Extra { name }) };
        match name {
            "model" => Ok(Slash::Model(args)),
            "map" => none("map", Slash::Map),
            "export" => match args.as_slice() {
                [file] => Ok(Slash::Export(file.clone())),
                [] => Err(SlashError::Missing { name: "export", args: "a file name", example: "chat.md" }),
                _ => Ok(Slash::Export(args.join(" "))),
            },
            "clear" => none("clear", Slash::Clear),
            "test" => none("test", Slash::Test),
            "lint" => none("lint", Slash::Lint),
            "help" => Ok(Slash::Help),
            _ => Err(SlashError::Unknown { name: name.to_string() }),
        }
    }
}

/// The commands in one line, for messages.
pub(crate) fn help_line() -> String {
    let list: Vec<String> = COMMANDS.iter().map(usage).collect();
    format!("Commands: {}", list.join(" · "))
}

/// `/model [PROFILE [MODEL]]`.
pub(crate) fn usage(c: &SlashCommand) -> String {
    if c.args.is_empty() { format!("/{}", c.name) } else { format!("/{} {}", c.name, c.args) }
}

/// The commands whose name starts with `prefix` (without the `/`), for
/// completion.
pub fn complete(prefix: &str) -> Vec<&'static SlashCommand> {
    COMMANDS.iter().filter(|c| c.name.starts_with(prefix)).collect()
}

/// The commands as a markdown table: the README's list is generated with it.
pub fn markdown() -> String {
    let mut out = String::from("\n| command | what it does |\n| --- | --- |\n");
    for c in COMMANDS {
        out.push_str(&format!("| `{}` | {} |\n", usage(c), c.doc));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_in_the_table_parses_and_nothing_else_does() {
        for c in COMMANDS {
            let text = match c.name {
                "export" => "export chat.md".to_string(),
                name => name.to_string(),
            };
            assert!(Slash::parse(&text).is_ok(), "/{text}");
        }
        assert_eq!(Slash::parse("frobnicate"), Err(SlashError::Unknown { name: "frobnicate".into() }));
        assert_eq!(
            Slash::parse("model anthropic claude-x"),
            Ok(Slash::Model(vec!["anthropic".into(), "claude-x".into()]))
        );
    }

    #[test]
    fn arguments_are_checked() {
        let err = Slash::parse("export").expect_err("needs a file");
        assert_eq!(err.to_string(), "/export needs a file name, e.g. /export chat.md");
        assert_eq!(Slash::parse("clear now").expect_err("no arguments").to_string(), "/clear takes no arguments");
    }

    #[test]
    fn names_are_unique_and_completion_finds_them() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
        let found: Vec<&str> = complete("m").iter().map(|c| c.name).collect();
        assert_eq!(found, ["model", "map"]);
        assert!(help_line().contains("/export FILE"));
    }
}
