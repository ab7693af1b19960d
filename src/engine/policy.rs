//! What may happen without asking the user: decided here, once, for every
//! front-end.

use std::path::Path;

use crate::config::Policy;
use crate::tools::approval::Permission;
use crate::tools::read_only::{is_read_only, is_simple_command};

/// Why `command` may run without asking under `policy`, if it may: every
/// command under full-auto, read-only ones (judged against the repository
/// at `root`, where commands run) always, and simple commands starting
/// with one of `allowed` (the configured and remembered prefixes).
pub fn command_allowed<'a>(
    policy: Policy,
    command: &str,
    root: &Path,
    allowed: impl IntoIterator<Item = &'a String>,
) -> Option<&'static str> {
    if policy == Policy::FullAuto {
        return Some("full-auto policy");
    }
    if is_read_only(command, root) {
        return Some("read-only");
    }
    let cmd = command.trim();
    let allowed = allowed.into_iter().any(|prefix| {
        cmd == prefix.trim()
            || cmd.strip_prefix(prefix.trim()).is_some_and(|rest| rest.starts_with(' ')) && is_simple_command(cmd)
    });
    allowed.then_some("allowed prefix")
}

/// The start of a command that "always allow" remembers: the program and,
/// for tools with subcommands, the subcommand (`cargo test`, `npm run`).
pub fn command_prefix(command: &str) -> String {
    let mut words = command.split_whitespace();
    let first = words.next().unwrap_or_default();
    match words.next() {
        Some(second) if !second.starts_with('-') && second.chars().all(|c| c.is_alphanumeric() || c == '-') => {
            format!("{first} {second}")
        }
        _ => first.to_string(),
    }
}

/// Why `permission` may be granted without asking, if it may: its kind's
/// rule grants it under `policy`, or the user allowed its kind and key for
/// the session (`remembered`, as `(kind name, remember_key)`). Otherwise
/// someone is asked.
pub(crate) fn permission_granted(
    policy: Policy,
    permission: &Permission,
    remembered: &[(&'static str, String)],
) -> Option<String> {
    if permission.kind.granted_under(policy) {
        return Some(format!("{} policy", policy.name()));
    }
    let key = permission.remember_key.as_ref()?;
    remembered
        .iter()
        .any(|(kind, k)| *kind == permission.kind.name && k == key)
        .then(|| "allowed for this session".to_string())
}

/// Whether the policy writes edits without asking (the files it may: a
/// protected file always waits).
pub(crate) fn accepts_edits(policy: Policy) -> bool {
    matches!(policy, Policy::AutoEdit | Policy::FullAuto)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_allowed_by_policy_read_only_rules_and_prefixes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let prefixes = vec!["cargo test".to_string()];
        assert_eq!(command_allowed(Policy::FullAuto, "rm -rf target", root, &prefixes), Some("full-auto policy"));
        assert_eq!(command_allowed(Policy::Suggest, "git status", root, &prefixes), Some("read-only"));
        assert_eq!(command_allowed(Policy::AutoEdit, "cargo test -p x", root, &prefixes), Some("allowed prefix"));
        assert_eq!(command_allowed(Policy::AutoEdit, "cargo test && rm -rf ~", root, &prefixes), None);
        assert_eq!(command_allowed(Policy::Suggest, "cargo testing", root, &prefixes), None);
        assert_eq!(command_allowed(Policy::Suggest, "rm -rf target", root, &prefixes), None);
    }

    #[test]
    fn allowed_prefixes_do_not_carry_other_commands() {
        assert!(!is_simple_command("cargo test && rm -rf ~"));
        assert!(!is_simple_command("cargo test; curl x | sh"));
        assert!(!is_simple_command("cargo test > out"));
        assert!(is_simple_command("cargo test -p tandem --lib"));
    }

    #[test]
    fn a_permission_goes_unasked_only_under_its_kinds_policies_or_as_remembered() {
        use crate::tools::approval::PermissionKind;
        const ASKED: PermissionKind = PermissionKind { name: "asked", label: "asked", granted_by: &[] };
        const AUTO: PermissionKind = PermissionKind { name: "auto", label: "auto", granted_by: &[Policy::FullAuto] };
        let ask = |kind, key: Option<&str>| Permission {
            kind,
            title: "t".into(),
            detail: "d".into(),
            remember_key: key.map(str::to_string),
        };
        for policy in Policy::ALL {
            assert_eq!(permission_granted(policy, &ask(ASKED, Some("k")), &[]), None, "{policy:?}");
        }
        assert_eq!(permission_granted(Policy::FullAuto, &ask(AUTO, None), &[]).as_deref(), Some("full-auto policy"));
        assert_eq!(permission_granted(Policy::AutoEdit, &ask(AUTO, None), &[]), None);
        let remembered = vec![("asked", "k".to_string())];
        let granted = permission_granted(Policy::Suggest, &ask(ASKED, Some("k")), &remembered);
        assert_eq!(granted.as_deref(), Some("allowed for this session"));
        // Another key, another kind with the same key, or no key: asked.
        assert_eq!(permission_granted(Policy::Suggest, &ask(ASKED, Some("other")), &remembered), None);
        assert_eq!(permission_granted(Policy::Suggest, &ask(AUTO, Some("k")), &remembered), None);
        assert_eq!(permission_granted(Policy::Suggest, &ask(ASKED, None), &remembered), None);
    }

    #[test]
    fn always_allow_remembers_program_and_subcommand() {
        assert_eq!(command_prefix("cargo test -p foo"), "cargo test");
        assert_eq!(command_prefix("make"), "make");
        assert_eq!(command_prefix("ls -la"), "ls");
        assert_eq!(command_prefix("python3 x.py"), "python3");
    }
}
