//! JUnit XML (`quick-junit`): a suite per scenario file, a case per test,
//! requirement IDs, tags and measurements as properties.
//!
//! The file is valid against the Jenkins/Surefire schema `junit-10.xsd`
//! (harness/tests/schema/), which most consumers follow. That schema has no
//! `<properties>` in a `<testcase>` and no `skipped` on `<testsuites>`, so
//! [`fit_schema`] moves each case's properties, whoever added them, to
//! where consumers show them: the head of the case's `<system-out>` (one
//! `name: value` line each; Jenkins, GitLab and Azure show it with the
//! case, as they show nextest's output) and its suite's `<properties>`,
//! named `CASE.NAME` (for tools that read the XML); [`to_xml`] leaves the
//! root's `skipped` count out (each suite still has its own).

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
        fit_schema(&mut report);
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
    fit_schema(&mut merged);
    merged
}

/// Writes [`bench_junit`] to `path`.
pub fn write(path: &Path, reports: &[RunReport]) -> std::io::Result<()> {
    std::fs::write(path, to_xml(&bench_junit(reports))?)
}

/// The report as XML valid against `junit-10.xsd`: as quick-junit writes
/// it, without the `skipped` attribute of `<testsuites>`.
pub fn to_xml(report: &Report) -> std::io::Result<String> {
    let mut xml = report.to_string().map_err(std::io::Error::other)?;
    if let Some(root) = xml.find("<testsuites")
        && let Some(end) = xml[root..].find('>').map(|e| root + e)
        && let Some(at) = xml[root..end].find(" skipped=\"").map(|a| root + a)
        && let Some(close) = xml[at + 10..end].find('"').map(|c| at + 10 + c)
    {
        xml.replace_range(at..=close, "");
    }
    Ok(xml)
}

/// Moves every case's properties to the head of its `<system-out>` and to
/// its suite's properties (see the module). Doing it twice changes nothing.
pub fn fit_schema(report: &mut Report) {
    for suite in &mut report.test_suites {
        let mut moved = Vec::new();
        for case in &mut suite.test_cases {
            let properties = std::mem::take(&mut case.properties);
            if properties.is_empty() {
                continue;
            }
            let mut head = String::new();
            for p in properties {
                head.push_str(&format!("{}: {}\n", p.name.as_str(), p.value.as_str()));
                moved.push(Property::new(
                    format!("{}.{}", case.name.as_str(), p.name.as_str()),
                    p.value.as_str(),
                ));
            }
            let out = match case.system_out.take() {
                Some(log) => format!("{head}\n{}", log.as_str()),
                None => head,
            };
            case.set_system_out(out);
        }
        suite.add_properties(moved);
    }
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
    // A marginal test is a pass: JUnit has no such status, so it is said
    // first in the test's output, where consumers show it.
    let marginal = test
        .marginal_measurements()
        .map(|m| format!("MARGINAL: {}", m.describe()));
    let out: Vec<String> = marginal.chain(test.log.iter().cloned()).collect();
    if !out.is_empty() {
        case.set_system_out(out.join("\n"));
    }
    case
}
