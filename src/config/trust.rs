//! Trust per repository. A cloned repository's `.tandem/` files are written
//! by whoever published it: until the user trusts the repository, they may
//! set appearance and limits only. Every other key (one that runs programs,
//! lifts approvals, or decides where an API key is sent) is held back and
//! reported, and so are the repository's key bindings, which decide what the
//! approval keys do.
//!
//! Trust is recorded in the user's data directory against a fingerprint of
//! exactly what was held back, so a change to those keys (a `git pull`, or
//! an edit the model proposed) asks again.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layers::Entry;

/// Keys (or, ending in `.`, key prefixes) a repository's own configuration
/// may set without the user's trust: how tandem looks and how much it may
/// do, never what it runs, what it allows, or where it connects.
/// An allow-list, so that a key added later is held back until it is
/// judged harmless here.
const HARMLESS: &[&str] = &[
    "ui.theme",
    "ui.frame_rate",
    "ui.stream_frame_rate",
    "ui.ssh_frame_rate",
    "ui.split_min_width",
    "ui.diff_takes_focus",
    "ui.hints",
    "composer.",
    "log.level",
    "index.",
    "budget.",
    "model.max_tool_rounds",
    "model.idle_timeout_secs",
    "model.max_retries",
    "checks.max_fix_rounds",
    "checks.timeout_secs",
];

/// Whether an untrusted repository may set `key`.
pub fn is_harmless(key: &str) -> bool {
    HARMLESS.iter().any(|h| if h.ends_with('.') { key.starts_with(h) } else { key == *h })
}

/// What `--trust` and the trust store say about the repository being loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrustMode {
    /// Look the repository up in the trust store (the default).
    #[default]
    Stored,
    /// `--trust` or `tandem trust`: trust it, whatever the store says.
    Grant,
}

/// One thing a repository's files asked for and did not get.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    /// The key (`tools.policy`), or the file for key bindings.
    pub what: String,
    /// The value, as TOML, for keys; empty for files.
    pub value: String,
    /// Where it was set, `file:line`.
    pub place: String,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.is_empty() {
            write!(f, "{} ({})", self.what, self.place)
        } else {
            write!(f, "{} = {} ({})", self.what, self.value, self.place)
        }
    }
}

/// The repository's standing after loading.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum TrustState {
    /// Its files set nothing that needs trust.
    #[default]
    NotNeeded,
    /// Trusted (by the store or `--trust`): everything was applied.
    Trusted,
    /// What was held back; `declined` when the user already said no to
    /// exactly these settings, so the app does not ask again.
    Untrusted { held: Vec<Held>, fingerprint: String, declined: bool },
}

impl TrustState {
    pub fn held(&self) -> &[Held] {
        match self {
            TrustState::Untrusted { held, .. } => held,
            _ => &[],
        }
    }
}

/// What the project's files hold back before trust: gated configuration
/// keys and the key-binding files.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub keys: Vec<(String, Entry)>,
    /// Key-binding files of the repository with their text.
    pub files: Vec<(PathBuf, String)>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.files.is_empty()
    }

    /// A digest of everything held, which a trust decision is recorded
    /// against: any change to it asks again.
    pub(crate) fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        let mut keys: Vec<String> = self.keys.iter().map(|(k, e)| format!("{k}={}\n", e.value)).collect();
        keys.sort();
        for k in keys {
            h.update(k.as_bytes());
        }
        for (path, text) in &self.files {
            h.update(format!("file {} {}\n", path.display(), text.len()).as_bytes());
            h.update(text.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    pub(crate) fn describe(&self) -> Vec<Held> {
        let mut out: Vec<Held> = self
            .keys
            .iter()
            .map(|(k, e)| Held { what: k.clone(), value: e.value.to_string(), place: e.source.to_string() })
            .collect();
        out.extend(self.files.iter().map(|(p, _)| Held {
            what: "key bindings".into(),
            value: String::new(),
            place: p.display().to_string(),
        }));
        out
    }
}

/// The user's trust decisions, one per repository, in a JSON file in the
/// data directory.
#[derive(Debug, Clone)]
pub struct TrustStore {
    path: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoreFile {
    #[serde(default)]
    repositories: BTreeMap<String, Decision>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Decision {
    fingerprint: String,
    trusted: bool,
    /// When it was decided, in seconds since 1970 (UTC).
    at: u64,
}

/// What the store says of a repository's current settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    Trusted,
    Declined,
    /// No decision, or one about settings that have changed since.
    Unknown,
}

/// The key a repository is recorded under: its canonical path, so two
/// spellings of one directory share a decision.
fn repo_key(root: &Path) -> String {
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()).display().to_string()
}

impl TrustStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// The store in `data_dir` (`~/.local/share/tandem/trust.json`).
    pub fn in_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join("trust.json"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> io::Result<StoreFile> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a valid trust file ({e}); remove it to start again", self.path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(StoreFile::default()),
            Err(e) => Err(e),
        }
    }

    /// The decision recorded for `root`'s settings with `fingerprint`. A
    /// store that cannot be read trusts nothing.
    pub(crate) fn lookup(&self, root: &Path, fingerprint: &str) -> Recorded {
        let Ok(file) = self.read() else { return Recorded::Unknown };
        match file.repositories.get(&repo_key(root)) {
            Some(d) if d.fingerprint == fingerprint && d.trusted => Recorded::Trusted,
            Some(d) if d.fingerprint == fingerprint => Recorded::Declined,
            _ => Recorded::Unknown,
        }
    }

    /// Record the user's decision about `root`'s settings.
    pub fn record(&self, root: &Path, fingerprint: &str, trusted: bool) -> io::Result<()> {
        let mut file = self.read()?;
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        file.repositories.insert(repo_key(root), Decision { fingerprint: fingerprint.to_string(), trusted, at });
        self.write(&file)
    }

    /// Forget any decision about `root`; true when there was one.
    pub(crate) fn forget(&self, root: &Path) -> io::Result<bool> {
        let mut file = self.read()?;
        let had = file.repositories.remove(&repo_key(root)).is_some();
        if had {
            self.write(&file)?;
        }
        Ok(had)
    }

    fn write(&self, file: &StoreFile) -> io::Result<()> {
        use std::io::Write;
        let dir = self.path.parent().ok_or_else(|| io::Error::other("the trust file has no directory"))?;
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::Builder::new().prefix(".trust-").tempfile_in(dir)?;
        let text = serde_json::to_string_pretty(file).map_err(io::Error::other)?;
        tmp.write_all(text.as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The diagnostic for settings held back: what, where, why, and how to
/// trust the repository.
pub fn held_message(held: &[Held]) -> String {
    let list: Vec<String> = held.iter().map(|h| format!("`{}` ({})", h.what, h.place)).collect();
    format!(
        "this repository is not trusted, so its settings that can run programs, lift approvals or send your API \
         keys elsewhere were ignored: {}. If you trust this repository, run `tandem trust` in it (or start tandem \
         with --trust)",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::layers::Source;

    fn entry(v: toml::Value) -> Entry {
        Entry { value: v, source: Source::File { path: "r/.tandem/config.toml".into(), line: Some(2) } }
    }

    #[test]
    fn harmless_keys_are_an_allow_list() {
        for k in ["ui.theme", "composer.max_height", "index.map_tokens", "budget.max_cost_usd", "log.level"] {
            assert!(is_harmless(k), "{k}");
        }
        for k in [
            "tools.policy",
            "tools.allow_commands",
            "providers.openai.base_url",
            "providers.x.api_key_env",
            "model.profile",
            "checks.test_cmd",
            "checks.lint_cmd",
            "checks.auto_test",
            "ui.keymap",
            "secrets.env_patterns",
            "mcp.servers.x.command",
            "ui.themes",
            "composer",
        ] {
            assert!(!is_harmless(k), "{k}");
        }
    }

    #[test]
    fn fingerprint_changes_with_any_held_value_and_not_with_order() {
        let a = Pending {
            keys: vec![
                ("tools.policy".into(), entry("full-auto".into())),
                ("checks.test_cmd".into(), entry("make".into())),
            ],
            files: vec![],
        };
        let b = Pending { keys: a.keys.iter().rev().cloned().collect(), files: vec![] };
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = Pending {
            keys: vec![a.keys[0].clone(), ("checks.test_cmd".into(), entry("make x".into()))],
            files: vec![],
        };
        assert_ne!(a.fingerprint(), c.fingerprint());
        let d = Pending { keys: a.keys.clone(), files: vec![(PathBuf::from("k.toml"), "a".into())] };
        assert_ne!(a.fingerprint(), d.fingerprint());
    }

    #[test]
    fn store_records_per_repository_and_fingerprint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TrustStore::in_dir(&dir.path().join("data"));
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).expect("mkdir");
        assert_eq!(store.lookup(&repo, "f1"), Recorded::Unknown);
        store.record(&repo, "f1", true).expect("record");
        assert_eq!(store.lookup(&repo, "f1"), Recorded::Trusted);
        // Another spelling of the same directory.
        assert_eq!(store.lookup(&repo.join("."), "f1"), Recorded::Trusted);
        assert_eq!(store.lookup(&repo, "f2"), Recorded::Unknown, "changed settings ask again");
        store.record(&repo, "f2", false).expect("record");
        assert_eq!(store.lookup(&repo, "f2"), Recorded::Declined);
        assert!(store.forget(&repo).expect("forget"));
        assert_eq!(store.lookup(&repo, "f2"), Recorded::Unknown);
        assert!(!store.forget(&repo).expect("forget"));
    }

    #[test]
    fn a_corrupt_store_trusts_nothing_and_says_so_when_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TrustStore::in_dir(dir.path());
        std::fs::write(store.path(), "{ not json").expect("write");
        assert_eq!(store.lookup(dir.path(), "f"), Recorded::Unknown);
        let err = store.record(dir.path(), "f", true).expect_err("refused");
        assert!(err.to_string().contains("not a valid trust file"), "{err}");
    }
}
