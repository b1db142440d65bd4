//! `penlab test --db`: the harness's run reports, recorded in the history
//! database (penlab-store). The conversion lives here, in the binary, so
//! the store depends on neither the harness nor tokio and the harness knows
//! nothing of SQLite.

use std::path::Path;

use anyhow::Context;
use penlab_harness::measure::{Limit, Measurement, Verdict};
use penlab_harness::report::{Outcome, RunReport, TestRecord};
use penlab_harness::scenario::Suite;
use penlab_store::{
    Counts, Device, LimitSpec, MeasurementRecord, RunRecord, ScenarioFile, Store, TestVerdict,
};

/// An open history and the scenario files of the run to record.
pub struct Recorder {
    store: Store,
    scenario_files: Vec<ScenarioFile>,
}

impl Recorder {
    /// Opens (or makes) the history at `path` before the run, so that a
    /// file that is not a history is refused before any test runs, and
    /// hashes the scenario files as loaded.
    pub fn open(path: &Path, suites: &[Suite]) -> anyhow::Result<Recorder> {
        let store = Store::open(path)?;
        let scenario_files = suites
            .iter()
            .map(|s| {
                ScenarioFile::hash(&s.path).with_context(|| format!("hashing {}", s.path.display()))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Recorder {
            store,
            scenario_files,
        })
    }

    /// Records every report (one per pen of a bench); prints the run ids.
    pub fn record(&mut self, reports: &[RunReport]) -> anyhow::Result<()> {
        for report in reports {
            let run = run_record(report, self.scenario_files.clone());
            let id = self
                .store
                .record(&run)
                .with_context(|| format!("recording the run in {}", self.store.path().display()))?;
            println!(
                "history: run {id} recorded in {}",
                self.store.path().display()
            );
        }
        Ok(())
    }
}

/// The store's record of `report`.
pub fn run_record(report: &RunReport, scenario_files: Vec<ScenarioFile>) -> RunRecord {
    let totals = report.totals();
    let tests: Vec<TestVerdict> = report.tests.iter().map(test_verdict).collect();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    RunRecord {
        started_unix_ms: report.started_unix_ms,
        tool: report.tool.clone(),
        target: report.target.clone(),
        partition: report.partition.clone(),
        operator: report.operator.clone(),
        device: report.device.as_ref().map(|d| Device {
            model: d.model.clone(),
            firmware: d.firmware.clone(),
            serial: d.serial.clone(),
            protocol: d.protocol.clone(),
        }),
        counts: Counts {
            passed: count(totals.passed),
            marginal: count(totals.marginal),
            flaky: count(totals.flaky),
            failed: count(totals.failed),
            skipped: count(totals.skipped),
            errors: count(totals.errors),
        },
        exit_code: report.exit_code(),
        tests,
        scenario_files,
    }
}

fn test_verdict(test: &TestRecord) -> TestVerdict {
    let message = match &test.outcome {
        Outcome::Passed => None,
        Outcome::Failed { message } | Outcome::Error { message } => Some(message.clone()),
        Outcome::Skipped { reason } => Some(reason.clone()),
    };
    TestVerdict {
        suite: test.suite.clone(),
        id: test.id.clone(),
        title: test.title.clone(),
        requirements: test.requirements.clone(),
        verdict: test.outcome.label().to_owned(),
        flaky: test.flaky,
        message,
        duration_ms: test.duration.as_secs_f64() * 1e3,
        measurements: test.measurements.iter().map(measurement).collect(),
    }
}

fn measurement(m: &Measurement) -> MeasurementRecord {
    let verdict = match m.verdict {
        Verdict::Pass => "pass",
        Verdict::Marginal => "marginal",
        Verdict::Fail => "fail",
    };
    MeasurementRecord {
        name: m.name.clone(),
        value: m.value,
        unit: m.unit.clone(),
        limit: limit(&m.limit, &m.unit),
        verdict: verdict.to_owned(),
    }
}

fn limit(limit: &Limit, unit: &str) -> LimitSpec {
    let text = limit.describe(unit);
    // As the JSON record has it, marginal bands included.
    let json = serde_json::to_value(limit).unwrap_or_default();
    match *limit {
        Limit::Tolerance {
            nominal, abs, rel, ..
        } => LimitSpec {
            nominal: Some(nominal),
            abs,
            rel,
            min: None,
            max: None,
            text,
            json,
        },
        Limit::Range { min, max, .. } => LimitSpec {
            nominal: None,
            abs: None,
            rel: None,
            min,
            max,
            text,
            json,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built from the JSON record, as the harness writes it, so that the
    /// test reads any version of the report types.
    #[test]
    fn a_report_becomes_a_record() {
        let report: RunReport = serde_json::from_value(serde_json::json!({
            "tool": "penlab 0.1.0",
            "target": "mock:skinpen-like",
            "device": null,
            "started_unix_ms": 7,
            "partition": "hash:1/2",
            "operator": "a.tester",
            "tests": [{
                "suite": "accuracy", "id": "depth", "title": "Depth",
                "requirements": ["REQ-1"], "tags": [],
                "outcome": { "result": "failed", "message": "too deep" },
                "measurements": [{
                    "name": "strike_depth_um", "value": 1060.0, "unit": "um",
                    "limit": { "nominal": 1000.0, "abs": 50.0 }, "passed": false
                }],
                "duration": 250.0, "log": []
            }, {
                "suite": "accuracy", "id": "near", "title": "Near the limit",
                "requirements": [], "tags": [],
                "outcome": { "result": "passed" },
                "earlier_tries": [{ "result": "failed", "message": "late" }],
                "flaky": true,
                "measurements": [{
                    "name": "strike_depth_um", "value": 1040.0, "unit": "um",
                    "limit": { "nominal": 1000.0, "abs": 50.0, "marginal_abs": 35.0 },
                    "passed": true, "verdict": "marginal"
                }],
                "duration": 250.0, "log": []
            }]
        }))
        .unwrap();
        let r = run_record(&report, vec![]);
        assert_eq!((r.counts.failed, r.counts.marginal, r.exit_code), (1, 1, 1));
        assert_eq!(r.operator.as_deref(), Some("a.tester"));
        assert_eq!(r.partition.as_deref(), Some("hash:1/2"));
        let t = &r.tests[0];
        assert_eq!(
            (t.verdict.as_str(), t.message.as_deref()),
            ("failed", Some("too deep"))
        );
        assert_eq!(t.duration_ms, 250.0);
        let m = &t.measurements[0];
        assert_eq!(m.verdict, "fail");
        assert_eq!((m.limit.nominal, m.limit.abs), (Some(1000.0), Some(50.0)));
        assert_eq!(m.limit.tolerance(), Some(50.0));
        assert_eq!(m.limit.json["abs"], 50.0);
        assert_eq!(m.limit.text, "1000 um ± 50 um");
        assert!(r.tests[1].flaky && !r.tests[0].flaky);
        assert_eq!(r.counts.flaky, 1);
        let near = &r.tests[1].measurements[0];
        assert_eq!(near.verdict, "marginal");
        assert_eq!(near.limit.json["marginal_abs"], 35.0);
        assert_eq!(near.limit.tolerance(), Some(50.0));
    }
}
