use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use super::*;
use crate::app::checks::{Checks, ChecksEvent};
use crate::checks::{Check, Commands, Kind, Outcome};
use crate::tools::shell_run::Ending;
use crate::view::state::MsgStatus;

fn commands() -> Commands {
    Commands { test: Some(Check { command: "make test".into(), source: "config".into() }), lint: None }
}

/// A test run that exited with `code`.
fn outcome(code: i32) -> Outcome {
    Outcome {
        kind: Kind::Test,
        command: "make test".into(),
        ending: Ending::Exited(std::process::ExitStatus::from_raw(code << 8)),
        output: "1 failed".into(),
        elapsed: Duration::from_millis(1500),
    }
}

/// A run the user asked for has started.
fn started(rig: &mut Rig, checks: &mut Checks, auto: bool) {
    rig.state.checks.running = Some(Kind::Test);
    checks.on_event(&mut rig.cx(), ChecksEvent::Started { kind: Kind::Test, auto, commands: commands() });
}

#[test]
fn a_failing_run_is_shown_and_its_failures_go_to_the_model() {
    let mut rig = Rig::new();
    let mut checks = Checks::default();
    started(&mut rig, &mut checks, false);
    let msg = rig.state.transcript.last().expect("the run's message");
    assert_eq!((msg.role, msg.text.as_str()), (Role::Tool, "… running tests: `make test`"));
    assert_eq!(msg.status, MsgStatus::Streaming);
    checks.on_event(&mut rig.cx(), ChecksEvent::Done { outcome: outcome(1), auto: false });
    let run = &rig.state.transcript[0];
    assert_eq!(run.text, "✗ tests failed (exit 1) · `make test` · 1.5 s");
    assert_eq!((run.status.clone(), run.detail.as_str()), (MsgStatus::Broken, "1 failed"));
    assert_eq!(rig.last(), Some((Role::Notice, "Sent the test failures to the model to fix.")));
    assert_eq!((rig.state.checks.runs, rig.state.checks.failures), (1, 1));
    assert_eq!(rig.state.checks.running, None);
    assert_eq!(rig.asks(), vec![Ask::SendToModel(outcome(1).failure_message())]);
}

#[test]
fn auto_test_gives_up_after_the_last_fix_round() {
    let mut rig = Rig::new();
    let mut checks = Checks::default();
    rig.state.config.checks.max_fix_rounds = 1;
    started(&mut rig, &mut checks, true);
    checks.on_event(&mut rig.cx(), ChecksEvent::Done { outcome: outcome(2), auto: true });
    assert!(rig.last().is_some_and(|(_, t)| t.ends_with("(fix round 1 of 1).")), "{:?}", rig.last());
    assert_eq!(rig.asks().len(), 1);
    started(&mut rig, &mut checks, true);
    checks.on_event(&mut rig.cx(), ChecksEvent::Done { outcome: outcome(2), auto: true });
    let (_, text) = rig.last().expect("a notice");
    assert!(text.starts_with("The tests still fail after 1 fix round (checks.max_fix_rounds)"), "{text}");
    assert!(rig.asks().is_empty(), "nothing more goes to the model");
    assert_eq!(rig.state.checks.fix_rounds, 0);
    // Passing after fix rounds says how many it took.
    rig.state.checks.fix_rounds = 2;
    started(&mut rig, &mut checks, true);
    checks.on_event(&mut rig.cx(), ChecksEvent::Done { outcome: outcome(0), auto: true });
    assert_eq!(rig.last(), Some((Role::Notice, "The tests pass after 2 fix rounds.")));
}

#[test]
fn a_run_without_a_command_ends_with_a_hint() {
    let mut rig = Rig::new();
    let mut checks = Checks::default();
    rig.state.checks.running = Some(Kind::Lint);
    rig.state.model.activity = "running lint…".into();
    let ev = ChecksEvent::Started { kind: Kind::Lint, auto: false, commands: commands() };
    checks.on_event(&mut rig.cx(), ev);
    assert_eq!(rig.state.checks.running, None);
    assert!(rig.state.model.activity.is_empty());
    let (role, text) = rig.last().expect("a problem");
    assert_eq!(role, Role::Error);
    assert!(text.starts_with("No lint command") && text.contains("checks.lint_cmd"), "{text}");
    assert_eq!(rig.state.checks.commands, Some(commands()), "what the lookup found is kept");
}

#[test]
fn auto_test_waits_for_the_turn_and_a_run_can_be_cancelled() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let _guard = rt.enter();
    let mut rig = Rig::new();
    let mut checks = Checks::default();
    assert!(!checks.cancel(&mut rig.cx()), "nothing runs");
    rig.state.checks.due = true;
    rig.state.model.turns_pending = 1;
    checks.auto_test_if_due(&mut rig.cx());
    assert_eq!(rig.state.checks.running, None, "the turn is still on");
    rig.state.model.turns_pending = 0;
    checks.auto_test_if_due(&mut rig.cx());
    assert_eq!(rig.state.checks.running, Some(Kind::Test));
    assert!(!rig.state.checks.due);
    checks.run(&mut rig.cx(), Kind::Lint, false);
    assert_eq!(rig.last(), Some((Role::Error, "The tests are still running; wait for them to finish.")));
    assert!(checks.cancel(&mut rig.cx()));
    assert_eq!(rig.state.model.activity, "stopping…");
    // The lookup in a directory without a project finds no command.
    let AppEvent::Checks(ev) = rt.block_on(rig.next_event()) else { panic!("an event of the checks") };
    checks.on_event(&mut rig.cx(), ev);
    assert_eq!(rig.state.checks.running, None);
    assert!(rig.last().is_some_and(|(_, t)| t.starts_with("No tests command")), "{:?}", rig.last());
}

#[test]
fn the_commands_looked_up_at_start_fill_in_only_what_is_unknown() {
    let mut rig = Rig::new();
    let mut checks = Checks::default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    {
        let _guard = rt.enter();
        checks.resolve(&mut rig.cx());
    }
    assert!(checks.busy());
    checks.on_event(&mut rig.cx(), ChecksEvent::Resolved(commands()));
    assert!(!checks.busy());
    assert_eq!(rig.state.checks.commands, Some(commands()));
    checks.on_event(&mut rig.cx(), ChecksEvent::Resolved(Commands::default()));
    assert_eq!(rig.state.checks.commands, Some(commands()), "a later run's lookup is newer");
}
