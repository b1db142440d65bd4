//! The shipped conformance suite against the mock pen, in virtual time:
//! it passes on every shipped profile, and every planted bug it is built to
//! catch makes at least one test fail with a message that names the
//! problem. The bugs it does not catch yet are listed as such.

use penlab_firmware_mock::bugs::{BugSet, PlantedBug};
use penlab_firmware_mock::profile::Profile;
use penlab_harness::report::{Outcome, RunReport};
use penlab_harness::runner::{self, RunOptions, Target};
use penlab_harness::scenario::{Suite, load_suites, shipped_suite_dir};

fn suites() -> Vec<Suite> {
    load_suites(&[shipped_suite_dir()]).expect("the shipped suite loads")
}

fn run(profile: &str, bugs: &[PlantedBug]) -> RunReport {
    let target = Target::mock(
        Profile::builtin(profile).expect("a shipped profile"),
        profile,
        bugs.iter().copied().collect::<BugSet>(),
        1,
        true,
    );
    runner::run(&suites(), &target, RunOptions::default()).expect("the run starts")
}

fn failures(report: &RunReport) -> Vec<String> {
    report
        .tests
        .iter()
        .filter_map(|t| match &t.outcome {
            Outcome::Failed { message } | Outcome::Error { message } => {
                Some(format!("{}::{}: {message}", t.suite, t.id))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn the_suite_covers_the_protocol() {
    let suites = suites();
    let names: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
    for wanted in [
        "accuracy",
        "cartridge",
        "commands",
        "emergency-stop",
        "faults",
        "handshake",
        "timing",
        "watchdog",
    ] {
        assert!(names.contains(&wanted), "no {wanted} suite in {names:?}");
    }
    let tests: usize = suites.iter().map(|s| s.tests.len()).sum();
    assert!(tests >= 25, "{tests} tests");
}

#[test]
fn passes_on_every_shipped_profile() {
    for profile in [
        "skinpen-like",
        "dermapen4-like",
        "exceed-like",
        "dermapen4-busy",
    ] {
        let report = run(profile, &[]);
        assert_eq!(failures(&report), Vec::<String>::new(), "{profile}");
        let totals = report.totals();
        assert!(totals.passed >= 25, "{profile}: {totals:?}");
        assert_eq!(report.exit_code(), 0);
        assert!(report.device.is_some());
        for t in &report.tests {
            if let Outcome::Skipped { reason } = &t.outcome {
                // Only the lockout test skips, and only on a pen without one.
                assert_eq!(
                    (profile, t.id.as_str()),
                    ("exceed-like", "reuse-lockout"),
                    "{reason}"
                );
            }
        }
    }
}

/// Each planted bug, the profile to plant it in, and words the failure must
/// contain to name the problem.
const BUGS: &[(PlantedBug, &str, &str)] = &[
    (PlantedBug::DepthOffByOneStep, "skinpen-like", "depth"),
    (
        PlantedBug::WatchdogNeverFires,
        "skinpen-like",
        "watchdog_expired",
    ),
    (
        PlantedBug::SeqNotIncremented,
        "skinpen-like",
        "repeated its sequence number",
    ),
    (
        PlantedBug::DepthBeyondMaxAccepted,
        "skinpen-like",
        "expected Nack(OutOfRange)",
    ),
    (PlantedBug::LockoutMissing, "skinpen-like", "reuse_lockout"),
    (
        PlantedBug::LateAck,
        "skinpen-like",
        "no answer within the 50 ms deadline",
    ),
    (PlantedBug::BadCrcOnStatus, "skinpen-like", "crc_mismatch"),
    (
        PlantedBug::StopNotAckedWhileRunning,
        "skinpen-like",
        "Stop: no answer within",
    ),
    (
        PlantedBug::NoFaultOnCartridgeRemoval,
        "skinpen-like",
        "cartridge_removed_while_running",
    ),
    (
        PlantedBug::TrailingBytesAccepted,
        "skinpen-like",
        "expected Nack(Malformed)",
    ),
    (PlantedBug::StatusSevenBytes, "skinpen-like", "malformed"),
    (PlantedBug::BusyTooLong, "skinpen-like", "Nack(Busy)"),
    (PlantedBug::BusyRefusesStop, "skinpen-like", "Nack(Busy)"),
    // The host checks declared limits at the handshake.
    (
        PlantedBug::LabelledAboveMax,
        "skinpen-like",
        "Capabilities.labelled_max_depth_um",
    ),
    // Issue 15: one for each kind of requirement a pen can break.
    (
        PlantedBug::HelloKeepsMotor,
        "skinpen-like",
        "StrikeBatch arrived",
    ),
    (
        PlantedBug::RoundsOffStep,
        "dermapen4-like",
        "expected Nack(OutOfRange)",
    ),
    (PlantedBug::SlowBatches, "skinpen-like", "R-RUN-1"),
    (
        PlantedBug::TelemetryDrift,
        "skinpen-like",
        "telemetry_mean_interval_ms",
    ),
    (
        PlantedBug::WatchdogLate,
        "skinpen-like",
        "watchdog_ms = 1500",
    ),
    (
        PlantedBug::WatchdogFedByNoise,
        "skinpen-like",
        "watchdog_ms = inf",
    ),
    (PlantedBug::DuplicateOldFrame, "skinpen-like", "R-SEQ-1"),
    (
        PlantedBug::PenFramesAnswered,
        "skinpen-like",
        "watchdog_ms = inf",
    ),
    (PlantedBug::EmptyBatches, "skinpen-like", "R-MSG-8"),
    (
        PlantedBug::TelemetryOutsideRunning,
        "skinpen-like",
        "R-RUN-5",
    ),
    (PlantedBug::StrikesAfterStopAck, "skinpen-like", "R-RUN-6"),
    (PlantedBug::MotorStopsAfterAck, "skinpen-like", "R-RUN-6"),
    (PlantedBug::StatusBeforeAck, "skinpen-like", "R-STATE-14"),
    (PlantedBug::LockoutAfterInserted, "skinpen-like", "R-CART-3"),
    (
        PlantedBug::HelloKeepsSetPoints,
        "dermapen4-like",
        "depth_set_um",
    ),
    (
        PlantedBug::SeqKeptBeforeHello,
        "skinpen-like",
        "expected Nack(WrongState)",
    ),
    (
        PlantedBug::HelloIgnoresPersistingFault,
        "skinpen-like",
        "{\"state\":\"faulted\"}",
    ),
    (
        PlantedBug::FaultedStartNoCartridge,
        "skinpen-like",
        "expected Nack(FaultActive)",
    ),
    (PlantedBug::LowBatteryLatches, "skinpen-like", "low_battery"),
    (
        PlantedBug::WatchdogFaultDropped,
        "skinpen-like",
        "active_faults",
    ),
    (
        PlantedBug::ClearedFaultInHandshake,
        "skinpen-like",
        "watchdog_expired",
    ),
    (PlantedBug::StrikeCountRestarts, "skinpen-like", "R-MSG-7"),
];

/// Planted bugs the shipped suite does not catch yet. When a new test
/// catches one, move it to [`BUGS`] with the words its failure names it by.
const NOT_CAUGHT_YET: &[PlantedBug] = &[];

#[test]
fn every_planted_bug_is_caught_and_named() {
    for bug in PlantedBug::ALL {
        let caught = BUGS.iter().filter(|(b, _, _)| b == bug).count();
        let gap = NOT_CAUGHT_YET.iter().filter(|b| *b == bug).count();
        assert_eq!(
            caught + gap,
            1,
            "{bug}: list it once, in BUGS or NOT_CAUGHT_YET"
        );
    }
    for (bug, profile, words) in BUGS {
        let report = run(profile, &[*bug]);
        let failed = failures(&report);
        assert!(!failed.is_empty(), "{bug}: the suite passed");
        assert!(
            failed.iter().any(|f| f.contains(words)),
            "{bug}: no failure names the problem ({words:?}):\n{}",
            failed.join("\n")
        );
        assert_ne!(report.exit_code(), 0, "{bug}");
    }
}

#[test]
fn the_known_gaps_are_still_gaps() {
    // Keeps NOT_CAUGHT_YET honest: a bug the suite has learnt to catch
    // belongs in BUGS, with the words that name it.
    let caught: Vec<String> = NOT_CAUGHT_YET
        .iter()
        .filter_map(|bug| {
            let failed = failures(&run("skinpen-like", &[*bug]));
            (!failed.is_empty()).then(|| format!("{bug}:\n  {}", failed.join("\n  ")))
        })
        .collect();
    assert!(
        caught.is_empty(),
        "caught now; move them to BUGS:\n{}",
        caught.join("\n")
    );
}

#[test]
fn a_pen_clock_that_wraps_mid_run_is_unwrapped() {
    // R-TIME-3, R-HOST-7: the clock wraps 1.5 s after power-up, in the
    // middle of the rate measurement; the rate stays finite and right, and
    // no rule sees the step back as time going backwards.
    let mut profile = Profile::builtin("dermapen4-like").expect("a shipped profile");
    profile.timing.clock_start_us = u32::MAX - 1_500_000;
    let target = Target::mock(profile, "dermapen4-like", BugSet::none(), 1, true);
    let report = runner::run(&suites(), &target, RunOptions::default()).expect("the run starts");
    assert_eq!(failures(&report), Vec::<String>::new());
    let rates: Vec<f64> = report
        .tests
        .iter()
        .flat_map(|t| &t.measurements)
        .filter(|m| m.name == "puncture_rate")
        .map(|m| m.value)
        .collect();
    assert!(rates.len() >= 3, "{rates:?}");
    assert!(rates.iter().all(|r| r.is_finite() && *r > 0.0), "{rates:?}");
}
