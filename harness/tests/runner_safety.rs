//! Every way a test ends stops the motor, against the mock in process and
//! in virtual time: a panicking step (test-only fault injection), an
//! interruption, and a second interruption; an interrupted run does not go
//! on to the next test.

use std::path::Path;
use std::sync::{Arc, Mutex};

use penlab_firmware_mock::bugs::BugSet;
use penlab_firmware_mock::profile::Profile;
use penlab_harness::report::{Outcome, RunReport};
use penlab_harness::runner::{self, InterruptHandle, RunEvent, RunOptions, Signal, Target};
use penlab_harness::scenario::Suite;
use penlab_harness::steps::{FaultInjection, StepSet};

const SUITE: &str = r#"
[suite]
title = "runs"

[[test]]
id = "first"
title = "runs, then something goes wrong"
steps = [
  { send = "start" },
  { await = "status", where = { state = "running" } },
  STEP
  { wait_ms = 5000 },
]

[[test]]
id = "second"
title = "comes after"
steps = [{ send = "status_request" }]
"#;

fn suite(step: &str) -> Suite {
    let steps = StepSet::with_fault_injection(Some(FaultInjection::PanicInStep));
    Suite::parse_with(Path::new("runs.toml"), &SUITE.replace("STEP", step), steps).unwrap()
}

fn target() -> Target {
    Target::mock(
        Profile::builtin("skinpen-like").unwrap(),
        "skinpen-like",
        BugSet::default(),
        1,
        true,
    )
}

fn run_with(suite: &Suite, options: RunOptions) -> RunReport {
    runner::run(std::slice::from_ref(suite), &target(), options).unwrap()
}

#[test]
fn a_panicking_step_is_an_error_and_the_motor_is_still_stopped() {
    let report = run_with(
        &suite(r#"{ test_only_panic = "on purpose" },"#),
        RunOptions::default(),
    );
    let first = &report.tests[0];
    let Outcome::Error { message } = &first.outcome else {
        panic!("{:?}", first.outcome)
    };
    assert_eq!(
        message,
        "runs.toml:11:3: the step panicked: injected fault: on purpose"
    );
    assert_eq!(
        first.log.last().map(String::as_str),
        Some("teardown: Stop acknowledged")
    );
    // The run goes on: a panic is the harness's fault, not the link's.
    assert_eq!(report.tests[1].outcome, Outcome::Passed);
    assert_eq!(report.exit_code(), 2);
}

#[test]
fn an_interruption_ends_the_test_with_the_motor_stopped_and_runs_no_more() {
    let (handle, interrupt) = InterruptHandle::new();
    let handle = Arc::new(handle);
    let raise = handle.clone();
    let not_run = Arc::new(Mutex::new(None));
    let seen = not_run.clone();
    let options = RunOptions {
        interrupt: Some(interrupt),
        on_event: Some(Box::new(move |event| match event {
            RunEvent::Started("runs::first") => {
                raise.raise(Signal::Interrupt);
            }
            RunEvent::NotRun { count, reason } => {
                *seen.lock().unwrap() = Some((count, reason.to_owned()));
            }
            _ => {}
        })),
        ..RunOptions::default()
    };
    let report = run_with(&suite(""), options);
    assert_eq!(report.tests.len(), 1, "the second test did not run");
    assert_eq!(
        report.tests[0].outcome,
        Outcome::Error {
            message: "interrupted by SIGINT; teardown: Stop acknowledged".into()
        }
    );
    assert_eq!(
        *not_run.lock().unwrap(),
        Some((1, "interrupted by SIGINT".to_owned()))
    );
}

#[test]
fn a_second_interruption_sends_stop_without_waiting() {
    let (handle, interrupt) = InterruptHandle::new();
    let raise = Arc::new(handle);
    let options = RunOptions {
        interrupt: Some(interrupt),
        on_event: Some(Box::new(move |event| {
            if let RunEvent::Started(_) = event {
                raise.raise(Signal::Terminate);
                raise.raise(Signal::Interrupt);
            }
        })),
        ..RunOptions::default()
    };
    let report = run_with(&suite(""), options);
    assert_eq!(report.tests.len(), 1);
    assert_eq!(
        report.tests[0].outcome,
        Outcome::Error {
            message:
                "interrupted by SIGTERM; teardown: a second signal: Stop sent, not waiting for its Ack"
                    .into()
        }
    );
}
