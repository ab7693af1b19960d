//! Secrets never leave tandem's own memory: the programs it starts for the
//! model or a check do not get them, and nothing it shows, records, logs or
//! sends to a model carries them, whole or in a piece of 12 characters.
//!
//! The keys are planted in the environment of real runs of the binary
//! (`tandem exec`, the app in a pseudo-terminal), reached for by a scripted
//! or loopback model, and looked for afterwards in every sink.

mod env;
mod hung;
mod redaction;
mod run;
mod sinks;

pub use env::family as env_family;
pub use hung::family as hung_family;
pub use redaction::family as redaction_family;
pub use sinks::family as sinks_family;

/// The secrets planted in every run: provider keys, names that look like
/// secrets (in any case), a variable that is secret only because a profile
/// names it as its `api_key_env`, a value that looks like credentials under
/// an innocent name, and one with characters JSON must escape.
pub const PLANTED: &[(&str, &str)] = &[
    ("OPENAI_API_KEY", "sk-proj-Q7vX2mP9kL4nR8tW1yZ5bC3dF6gH0jK2xV"),
    ("ANTHROPIC_API_KEY", "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDc"),
    ("GITHUB_TOKEN", "ghp_T0k3nV4lu3F0rT3st1ngPurp0s3sOnly1234"),
    // The AWS documentation's example secret, with its slashes.
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"),
    ("DB_PASSWORD", "correct-horse-battery-staple-42"),
    ("my_service_token", "tok_live_8f3a9c2e7b1d4f6a0e5c"),
    ("CORP_LLM_CREDS", "corp-creds-5d1e9b7a3c2f8e4d6b0a"),
    ("DATABASE_URL", "postgres://app:Hunter2Hunter2Hunter2@db.internal/prod"),
    ("WEIRD_SECRET", "p@ss\"w\\rd-with-\"quotes\"-0042"),
];

/// Variables that are not secrets and must still reach commands.
pub const PLAIN: &[(&str, &str)] = &[("PROJECT_MODE", "development-build"), ("KEYMAP", "us-international")];

/// The value planted as `name`.
pub fn planted(name: &str) -> &'static str {
    PLANTED.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or_else(|| panic!("{name} is not planted"))
}

/// The user's configuration in every run: a profile whose key variable has
/// no secret-looking name, and `KEYMAP` passed through to commands.
pub const USER_CONFIG: &str = r#"
[providers.corp]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "CORP_LLM_CREDS"
model = "m"

[secrets]
env_passthrough = ["KEYMAP"]
"#;

/// A repository file holding every planted secret, as a `.env` would.
pub fn dotenv() -> String {
    PLANTED.iter().map(|(n, v)| format!("{n}={v}\n")).collect()
}

/// Where any planted secret shows in `text`, whole or as a piece of 12
/// characters, raw or as JSON writes it.
pub fn find_leak(text: &str) -> Option<String> {
    for (name, value) in PLANTED {
        let escaped = serde_json::to_string(value).unwrap_or_default();
        let escaped = escaped.trim_matches('"').to_string();
        for form in [value.to_string(), escaped] {
            let chars: Vec<char> = form.chars().collect();
            for w in chars.windows(12.min(chars.len())) {
                let piece: String = w.iter().collect();
                if let Some(at) = text.find(&piece) {
                    let from = text[..at].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
                    let to = text[at..].char_indices().nth(80).map_or(text.len(), |(i, _)| at + i);
                    return Some(format!("{name} ({piece:?}) in …{}…", &text[from..to]));
                }
            }
        }
    }
    None
}

/// `Err` naming the sink and the leak when `text` holds a planted secret.
pub fn clean(sink: &str, text: &str) -> Result<(), String> {
    match find_leak(text) {
        Some(leak) => Err(format!("{sink}: {leak}")),
        None => Ok(()),
    }
}

/// One case: its label and the attack, `Err(why)` when it got through.
pub type Case = (String, Box<dyn FnOnce() -> Result<(), String> + Send>);

/// Try `cases` a few at a time (most of each is waiting on a child
/// process), recording them in `family` in their order.
pub fn run_cases(family: &mut crate::harness::Family, cases: Vec<Case>) {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::Mutex;
    const WORKERS: usize = 4;
    let labels: Vec<String> = cases.iter().map(|(l, _)| l.clone()).collect();
    let queue = Mutex::new(cases.into_iter().map(|(_, f)| f).enumerate().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.pop()).ok().flatten();
                    let Some((i, attack)) = next else { break };
                    let result = catch_unwind(AssertUnwindSafe(attack)).unwrap_or_else(|panic| {
                        let text = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "a panic".into());
                        Err(format!("panicked: {text}"))
                    });
                    if let Ok(mut r) = results.lock() {
                        r.push((i, result));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    for (i, result) in results {
        let (held, why) = match result {
            Ok(()) => (true, String::new()),
            Err(why) => (false, why),
        };
        family.case(&labels[i], held, why);
    }
}

/// A case from a label and a closure.
pub fn case(label: impl Into<String>, attack: impl FnOnce() -> Result<(), String> + Send + 'static) -> Case {
    (label.into(), Box::new(attack))
}
