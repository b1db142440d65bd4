//! `--retries`: a test that fails and then passes on a retry is reported
//! flaky, in the report, the live summary, JUnit (nextest's
//! `flakyFailure`) and the JSON record; one that keeps failing stays a
//! failure with its earlier tries kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::device::DeviceConfig;
use penlab_firmware_mock::profile::Profile;
use penlab_firmware_mock::runner::{MockConfig, spawn_duplex};
use penlab_harness::report::{Outcome, live};
use penlab_harness::runner::{self, RunOptions, Target};
use penlab_harness::scenario::{load_suites, shipped_suite_dir};
use penlab_host::env::EnvLink;
use penlab_host::transport::{Connection, Transport};

/// A mock in virtual time that has `bug` on the connections `buggy` says,
/// counting from 0 (the run's probe is the first).
fn target(bug: PlantedBug, buggy: fn(usize) -> bool) -> Target {
    let opened = Arc::new(AtomicUsize::new(0));
    let transport = Transport::in_process("mock:sometimes-buggy", move || {
        let n = opened.fetch_add(1, Ordering::SeqCst);
        let mut device = DeviceConfig::new(Profile::builtin("skinpen-like").expect("shipped"));
        if buggy(n) {
            device.bugs = [bug].into_iter().collect::<BugSet>();
        }
        let (host, env, task) = spawn_duplex(MockConfig::new(device));
        Connection {
            link: Box::new(host),
            env: Some(EnvLink::in_process(env.into())),
            finished: Some(Box::pin(async move {
                let _ = task.await;
            })),
        }
    });
    let mut target = Target::new(transport);
    target.virtual_time = true;
    target
}

fn options(retries: u32) -> RunOptions {
    RunOptions {
        filters: vec!["commands::start-and-stop".into()],
        retries,
        ..RunOptions::default()
    }
}

#[test]
fn a_pass_on_a_retry_is_flaky_everywhere() {
    let suites = load_suites(&[shipped_suite_dir()]).expect("the suite loads");
    // Connection 1 is the first try of the test: buggy; the retry is not.
    let report = runner::run(
        &suites,
        &target(PlantedBug::MotorStopsAfterAck, |n| n == 1),
        options(2),
    )
    .expect("runs");
    assert_eq!(report.tests.len(), 1);
    let test = &report.tests[0];
    assert_eq!(test.outcome, Outcome::Passed);
    assert!(test.flaky);
    assert_eq!(test.earlier_tries.len(), 1);
    assert!(
        matches!(&test.earlier_tries[0], Outcome::Failed { message } if message.contains("R-RUN-6")),
        "{:?}",
        test.earlier_tries
    );
    assert_eq!(report.exit_code(), 0);
    assert!(live::summary(&report).contains("1 passed (1 flaky), 0 failed"));
    let xml = report.to_junit().to_string().expect("serialises");
    assert!(xml.contains("<flakyFailure"), "{xml}");
    assert!(xml.contains("R-RUN-6"), "{xml}");
    let json = report.to_json();
    assert_eq!(json["tests"][0]["flaky"], true);
    assert_eq!(json["totals"]["flaky"], 1);
    assert_eq!(json["tests"][0]["earlier_tries"][0]["result"], "failed");
}

#[test]
fn a_test_that_keeps_failing_is_a_failure_with_its_tries() {
    let suites = load_suites(&[shipped_suite_dir()]).expect("the suite loads");
    let report = runner::run(
        &suites,
        &target(PlantedBug::MotorStopsAfterAck, |_| true),
        options(2),
    )
    .expect("runs");
    let test = &report.tests[0];
    assert!(matches!(test.outcome, Outcome::Failed { .. }));
    assert!(!test.flaky);
    assert_eq!(test.earlier_tries.len(), 2, "two retries, three tries");
    assert_eq!(report.exit_code(), 1);
    // Without retries, one try.
    let once = runner::run(
        &suites,
        &target(PlantedBug::MotorStopsAfterAck, |_| true),
        options(0),
    )
    .expect("runs");
    assert!(once.tests[0].earlier_tries.is_empty());
}

#[test]
fn junit_time_is_wall_clock_and_simulated_time_a_property() {
    let suites = load_suites(&[shipped_suite_dir()]).expect("the suite loads");
    let mut opts = options(0);
    opts.filters = vec!["watchdog::heartbeats-keep-it-running".into()];
    let report = runner::run(&suites, &target(PlantedBug::LateAck, |_| false), opts).expect("runs");
    let test = &report.tests[0];
    assert!(test.virtual_time);
    // 2.5 s of simulated heartbeats take far less on the wall.
    assert!(test.duration.as_secs_f64() > 2.4, "{:?}", test.duration);
    assert!(test.wall_duration < test.duration, "{test:?}");
    let xml = report.to_junit().to_string().expect("serialises");
    let case = xml
        .lines()
        .find(|l| l.contains("<testcase") && l.contains("heartbeats-keep-it-running"))
        .expect("the case");
    let time: f64 = case
        .split("time=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .and_then(|t| t.parse().ok())
        .expect("a time");
    assert!(
        (time - test.wall_duration.as_secs_f64()).abs() < 0.01,
        "{case}"
    );
    assert!(xml.contains("simulated_duration_s"), "{xml}");
}
