//! JUnit XML (`quick-junit`): a suite per scenario file, a case per test,
//! requirement IDs, tags and measurements as properties.

use std::path::Path;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use super::{Outcome, RunReport, TestRecord};
use std::collections::BTreeMap;

impl RunReport {
    /// JUnit XML: a suite per scenario file, a case per test, requirement
    /// IDs, tags and measurements as properties.
    pub fn to_junit(&self) -> Report {
        let mut report = Report::new("penlab");
        let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
        for test in &self.tests {
            let suite = suites.entry(&test.suite).or_insert_with(|| {
                let mut s = TestSuite::new(test.suite.as_str());
                s.add_property(Property::new("target", self.target.as_str()));
                if let Some(name) = &self.operator {
                    s.add_property(Property::new("operator", name.as_str()));
                }
                if let Some(d) = &self.device {
                    s.add_property(Property::new("device.model", d.model.as_str()));
                    s.add_property(Property::new("device.firmware", d.firmware.as_str()));
                    s.add_property(Property::new("device.serial", d.serial.as_str()));
                }
                s
            });
            suite.add_test_case(junit_case(test));
        }
        report.add_test_suites(suites.into_values());
        report
    }
}

/// One JUnit report for a bench: each run's suites, named
/// `TARGET :: SUITE` when there are several runs.
pub fn bench_junit(reports: &[RunReport]) -> Report {
    let mut merged = Report::new("penlab");
    for report in reports {
        let mut junit = report.to_junit();
        if reports.len() > 1 {
            for suite in &mut junit.test_suites {
                suite.name = format!("{} :: {}", report.target, suite.name.as_str()).into();
            }
        }
        merged.add_test_suites(junit.test_suites);
    }
    merged
}

/// Writes [`bench_junit`] to `path`.
pub fn write(path: &Path, reports: &[RunReport]) -> std::io::Result<()> {
    let xml = bench_junit(reports)
        .to_string()
        .map_err(std::io::Error::other)?;
    std::fs::write(path, xml)
}

fn junit_case(test: &TestRecord) -> TestCase {
    let mut status = match &test.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Skipped { reason } => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(reason.as_str());
            s
        }
        Outcome::Failed { message } => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message.as_str()).set_type("conformance");
            s
        }
        Outcome::Error { message } => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(message.as_str()).set_type("infrastructure");
            s
        }
    };
    // Earlier tries: flakyFailure/flakyError on a pass, as nextest writes.
    for earlier in &test.earlier_tries {
        let (kind, message) = match earlier {
            Outcome::Error { message } => (NonSuccessKind::Error, message),
            Outcome::Failed { message } => (NonSuccessKind::Failure, message),
            _ => continue,
        };
        let mut rerun = TestRerun::new(kind);
        rerun.message = Some(message.as_str().into());
        status.add_rerun(rerun);
    }
    let mut case = TestCase::new(test.id.as_str(), status);
    // JUnit's time is wall-clock; simulated time is a property.
    case.set_classname(test.suite.as_str())
        .set_time(test.wall_duration);
    if test.virtual_time {
        case.add_property(Property::new(
            "simulated_duration_s",
            format!("{:.3}", test.duration.as_secs_f64()),
        ));
    }
    for req in &test.requirements {
        case.add_property(Property::new("requirement", req.as_str()));
    }
    for tag in &test.tags {
        case.add_property(Property::new("tag", tag.as_str()));
    }
    for m in &test.measurements {
        case.add_property(Property::new(
            format!("measurement.{}", m.name),
            m.describe(),
        ));
    }
    if !test.log.is_empty() {
        case.set_system_out(test.log.join("\n"));
    }
    case
}
