//! Run reports, kept apart from the runner as cargo-nextest keeps its
//! reporters: the runner emits [`crate::runner::RunEvent`]s and ends with a
//! [`RunReport`], plain data; the reporters are views of them.
//!
//! * [`live`]: a progress bar and a line per test, as the events come.
//! * [`junit`]: JUnit XML (`quick-junit`), a suite per scenario file.
//! * [`json`]: the JSON record with its requirement traceability table.

pub mod json;
pub mod junit;
pub mod live;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::measure::{Measurement, Verdict};

/// The pen a run was against, from its `Identity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Device model.
    pub model: String,
    /// Firmware version.
    pub firmware: String,
    /// Serial number.
    pub serial: String,
    /// Protocol version, `major.minor`.
    pub protocol: String,
}

/// How a test ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum Outcome {
    /// Every step and measurement passed.
    Passed,
    /// The pen did not behave as the test requires.
    Failed {
        /// What went wrong, naming the problem.
        message: String,
    },
    /// Not run, and why (e.g. needs a mock's environment on real hardware).
    Skipped {
        /// Why.
        reason: String,
    },
    /// The test could not be carried out (port gone, pen unplugged).
    Error {
        /// What happened.
        message: String,
    },
}

impl Outcome {
    fn rank(&self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Skipped { .. } => 1,
            Outcome::Failed { .. } => 2,
            Outcome::Error { .. } => 3,
        }
    }

    /// `passed`, `failed`, `skipped` or `error`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Error { .. } => "error",
        }
    }
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// The scenario file (suite) the test is in.
    pub suite: String,
    /// The test's id, unique in the suite.
    pub id: String,
    /// What it checks, in words.
    pub title: String,
    /// Requirement IDs it verifies.
    pub requirements: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Every measurement taken, with its limit.
    pub measurements: Vec<Measurement>,
    /// Time the test took on the run's clock: simulated for a mock in
    /// virtual time ([`TestRecord::virtual_time`]), wall-clock otherwise.
    #[serde(with = "duration_ms")]
    pub duration: Duration,
    /// Wall-clock time the test took.
    #[serde(with = "duration_ms", default)]
    pub wall_duration: Duration,
    /// Whether [`TestRecord::duration`] is simulated time.
    #[serde(default)]
    pub virtual_time: bool,
    /// Earlier tries that did not pass, when `--retries` ran it again
    /// (oldest first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_tries: Vec<Outcome>,
    /// Passed, but only after a try that did not: flaky, as nextest says.
    #[serde(default)]
    pub flaky: bool,
    /// What the runner did and saw, one line a step.
    pub log: Vec<String>,
}

impl TestRecord {
    /// The measurements that came out MARGINAL.
    pub fn marginal_measurements(&self) -> impl Iterator<Item = &Measurement> {
        self.measurements
            .iter()
            .filter(|m| m.verdict == Verdict::Marginal)
    }

    /// A passed test with a MARGINAL measurement: a pass, reported as
    /// MARGINAL so that a pen near its limits is seen.
    pub fn is_marginal(&self) -> bool {
        self.outcome == Outcome::Passed && self.marginal_measurements().next().is_some()
    }
}

/// A requirement's row of the traceability table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// The tests that verify it.
    pub tests: Vec<String>,
    /// The worst outcome among them.
    pub result: String,
}

/// Everything a run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The tool and its version.
    pub tool: String,
    /// What the run was against (`/dev/ttyACM0`, `mock:skinpen-like`).
    pub target: String,
    /// The pen, once the handshake told.
    pub device: Option<DeviceInfo>,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// The shard this run was (`hash:1/4`), if partitioned.
    pub partition: Option<String>,
    /// Who ran it at the bench (`--operator`).
    #[serde(default)]
    pub operator: Option<String>,
    /// The tests, in run order.
    pub tests: Vec<TestRecord>,
}

/// Counts of outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Passed tests (the marginal ones among them).
    pub passed: usize,
    /// Passed tests with a MARGINAL measurement.
    pub marginal: usize,
    /// Failed tests.
    pub failed: usize,
    /// Skipped tests.
    pub skipped: usize,
    /// Of the passed ones, those that passed only on a retry.
    pub flaky: usize,
    /// Tests that could not be carried out.
    pub errors: usize,
}

impl RunReport {
    /// Outcome counts.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for test in &self.tests {
            match test.outcome {
                Outcome::Passed => {
                    t.passed += 1;
                    t.marginal += usize::from(test.is_marginal());
                    t.flaky += usize::from(test.flaky);
                }
                Outcome::Failed { .. } => t.failed += 1,
                Outcome::Skipped { .. } => t.skipped += 1,
                Outcome::Error { .. } => t.errors += 1,
            }
        }
        t
    }

    /// Process exit code, as CI systems read it: 0 all passed (skips
    /// allowed), 1 some test failed, 2 a test could not be carried out.
    pub fn exit_code(&self) -> u8 {
        let t = self.totals();
        if t.errors > 0 {
            2
        } else if t.failed > 0 {
            1
        } else {
            0
        }
    }

    /// Requirement ID → the tests that verify it and their worst outcome.
    pub fn traceability(&self) -> BTreeMap<String, Trace> {
        let mut table: BTreeMap<String, (Vec<String>, &Outcome)> = BTreeMap::new();
        for test in &self.tests {
            for req in &test.requirements {
                let entry = table
                    .entry(req.clone())
                    .or_insert((Vec::new(), &test.outcome));
                entry.0.push(format!("{}::{}", test.suite, test.id));
                if test.outcome.rank() > entry.1.rank() {
                    entry.1 = &test.outcome;
                }
            }
        }
        table
            .into_iter()
            .map(|(req, (tests, worst))| {
                (
                    req,
                    Trace {
                        tests,
                        result: worst.label().to_owned(),
                    },
                )
            })
            .collect()
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1e3)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Duration::try_from_secs_f64(ms / 1e3).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Limit;

    fn record(id: &str, reqs: &[&str], outcome: Outcome) -> TestRecord {
        TestRecord {
            suite: "depth".into(),
            id: id.into(),
            title: format!("{id} title"),
            requirements: reqs.iter().map(|r| (*r).to_owned()).collect(),
            tags: vec!["accuracy".into()],
            outcome,
            measurements: vec![Measurement::new(
                "depth_settled",
                1_012.0,
                "um",
                Limit::abs(1_000.0, 50.0),
            )],
            duration: Duration::from_millis(350),
            wall_duration: Duration::from_millis(350),
            virtual_time: false,
            earlier_tries: Vec::new(),
            flaky: false,
            log: vec!["send SetDepth(1000)".into(), "ack in 3 ms".into()],
        }
    }

    fn report(tests: Vec<TestRecord>) -> RunReport {
        RunReport {
            tool: "penlab 0.1.0".into(),
            target: "mock:skinpen-like".into(),
            device: Some(DeviceInfo {
                model: "penlab-mock-14".into(),
                firmware: "1.4.2".into(),
                serial: "PL14-000123".into(),
                protocol: "1.0".into(),
            }),
            started_unix_ms: 1_763_700_000_000,
            partition: None,
            operator: None,
            tests,
        }
    }

    #[test]
    fn exit_codes() {
        let pass = record("a", &[], Outcome::Passed);
        let skip = record(
            "b",
            &[],
            Outcome::Skipped {
                reason: "needs a mock".into(),
            },
        );
        let fail = record(
            "c",
            &[],
            Outcome::Failed {
                message: "depth 1 step off".into(),
            },
        );
        let error = record(
            "d",
            &[],
            Outcome::Error {
                message: "port gone".into(),
            },
        );
        assert_eq!(report(vec![pass.clone(), skip.clone()]).exit_code(), 0);
        assert_eq!(report(vec![pass.clone(), fail.clone()]).exit_code(), 1);
        assert_eq!(report(vec![fail, error]).exit_code(), 2);
    }

    #[test]
    fn traceability_keeps_the_worst_outcome() {
        let r = report(vec![
            record(
                "settle",
                &["REQ-DEPTH-1", "21CFR878.4430(b)(2)(i)"],
                Outcome::Passed,
            ),
            record(
                "steps",
                &["REQ-DEPTH-1"],
                Outcome::Failed {
                    message: "off by one step".into(),
                },
            ),
            record(
                "rate",
                &["REQ-RATE-1"],
                Outcome::Skipped {
                    reason: "fixed rate".into(),
                },
            ),
        ]);
        let t = r.traceability();
        assert_eq!(t["REQ-DEPTH-1"].tests, ["depth::settle", "depth::steps"]);
        assert_eq!(t["REQ-DEPTH-1"].result, "failed");
        assert_eq!(t["21CFR878.4430(b)(2)(i)"].result, "passed");
        assert_eq!(t["REQ-RATE-1"].result, "skipped");
    }

    #[test]
    fn json_record_names_device_measurements_and_requirements() {
        let r = report(vec![record("settle", &["REQ-DEPTH-1"], Outcome::Passed)]);
        let v = r.to_json();
        assert_eq!(v["device"]["serial"], "PL14-000123");
        assert_eq!(v["tests"][0]["measurements"][0]["value"], 1_012.0);
        assert_eq!(v["tests"][0]["measurements"][0]["limit"]["abs"], 50.0);
        assert_eq!(v["tests"][0]["outcome"]["result"], "passed");
        assert_eq!(v["tests"][0]["duration"], 350.0);
        assert_eq!(v["traceability"]["REQ-DEPTH-1"]["result"], "passed");
        assert_eq!(v["totals"]["passed"], 1);
        let back: RunReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn junit_carries_failures_properties_and_output() {
        let r = report(vec![
            record("settle", &["REQ-DEPTH-1"], Outcome::Passed),
            record(
                "steps",
                &["REQ-DEPTH-2"],
                Outcome::Failed {
                    message: "depth 1250 µm reported as 1500 µm: off by one step".into(),
                },
            ),
        ]);
        let xml = junit::to_xml(&r.to_junit()).unwrap();
        assert!(
            xml.contains(r#"<testsuite name="depth" tests="2""#),
            "{xml}"
        );
        // junit-10.xsd: no skipped count on the root, no case properties;
        // they head the case's output instead, and go to its suite.
        assert!(
            xml.contains(r#"<testsuites name="penlab" tests="2" failures="1""#),
            "{xml}"
        );
        assert!(
            xml.contains("<system-out>requirement: REQ-DEPTH-2\ntag: accuracy\n"),
            "{xml}"
        );
        assert!(xml.contains(r#"failures="1""#), "{xml}");
        assert!(xml.contains(r#"<failure message="depth 1250 µm reported as 1500 µm: off by one step" type="conformance""#), "{xml}");
        assert!(
            xml.contains(r#"<property name="steps.requirement" value="REQ-DEPTH-2"/>"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<property name="device.serial" value="PL14-000123"/>"#),
            "{xml}"
        );
        assert!(xml.contains("measurement.depth_settled"), "{xml}");
        let mut again = r.to_junit();
        junit::fit_schema(&mut again);
        assert_eq!(again, r.to_junit(), "fitting twice changes nothing");
        assert!(xml.contains("send SetDepth(1000)"), "{xml}");
    }

    #[test]
    fn a_marginal_measurement_is_a_pass_shown_everywhere() {
        let mut near = record("settle", &["REQ-DEPTH-1"], Outcome::Passed);
        near.measurements = vec![Measurement::new(
            "depth",
            1_040.0,
            "um",
            Limit::abs(1_000.0, 50.0).with_marginal_abs(35.0),
        )];
        let clean = record("steps", &["REQ-DEPTH-1"], Outcome::Passed);
        assert!(near.is_marginal() && !clean.is_marginal());
        let r = report(vec![near, clean]);
        assert_eq!(r.exit_code(), 0);
        let t = r.totals();
        assert_eq!((t.passed, t.marginal, t.failed), (2, 1, 0));
        let v = r.to_json();
        assert_eq!(v["tests"][0]["measurements"][0]["verdict"], "marginal");
        assert_eq!(v["tests"][1]["measurements"][0]["verdict"], "pass");
        assert_eq!(v["totals"]["marginal"], 1);
        let xml = r.to_junit().to_string().unwrap();
        assert!(xml.contains(r#"failures="0""#), "{xml}");
        assert!(
            xml.contains("MARGINAL: depth = 1040 um, limit 1000 um ± 50 um (marginal beyond ± 35 um): MARGINAL"),
            "{xml}"
        );
        assert!(
            live::summary(&r).contains("2 passed (1 marginal), 0 failed"),
            "{}",
            live::summary(&r)
        );
    }
}
