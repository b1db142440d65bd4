//! What changed between two runs: the question a firmware team asks before
//! a release. Tests are matched by suite and id, measurements by name (and
//! by order among measurements of one name).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::record::{MeasurementRecord, RunRecord, ScenarioFile, TestVerdict};

/// A test whose verdict is not the same in both runs; `None` where the
/// test is not in that run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictChange {
    /// Suite.
    pub suite: String,
    /// Test id.
    pub test: String,
    /// Verdict in the first run.
    pub before: Option<String>,
    /// Verdict in the second run.
    pub after: Option<String>,
}

/// A measurement that moved by more than its limit's tolerance
/// ([`crate::LimitSpec::tolerance`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    /// Suite.
    pub suite: String,
    /// Test id.
    pub test: String,
    /// Measurement name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Value in the first run.
    pub before: f64,
    /// Value in the second run.
    pub after: f64,
    /// The tolerance it moved by more than (the second run's limit's).
    pub tolerance: f64,
    /// The second run's limit, in words.
    pub limit: String,
    /// Verdicts in the first and second run.
    pub verdicts: (String, String),
}

/// A scenario file used by both runs whose bytes differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScenarioChange {
    /// The file.
    pub path: String,
    /// SHA-256 in the first run.
    pub before: String,
    /// SHA-256 in the second run.
    pub after: String,
}

/// The differences between two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDiff {
    /// Tests whose verdict changed, or that only one run has.
    pub verdicts: Vec<VerdictChange>,
    /// Measurements that moved by more than their tolerance.
    pub moved: Vec<Moved>,
    /// Scenario files whose contents changed (shown, not counted as a
    /// difference: the verdicts say what the change did).
    pub scenarios: Vec<ScenarioChange>,
}

impl RunDiff {
    /// No verdict changed and no measurement moved beyond its tolerance.
    pub fn is_same(&self) -> bool {
        self.verdicts.is_empty() && self.moved.is_empty()
    }
}

/// A test's verdict as a diff compares it: `passed (flaky)` for a test
/// that passed only on a retry.
fn shown_verdict(t: &TestVerdict) -> String {
    if t.flaky {
        format!("{} (flaky)", t.verdict)
    } else {
        t.verdict.clone()
    }
}

/// Compares run `a` with run `b`.
pub fn diff(a: &RunRecord, b: &RunRecord) -> RunDiff {
    let key = |t: &TestVerdict| (t.suite.clone(), t.id.clone());
    let before: BTreeMap<_, _> = a.tests.iter().map(|t| (key(t), t)).collect();
    let mut verdicts = Vec::new();
    let mut moved = Vec::new();
    for tb in &b.tests {
        match before.get(&key(tb)) {
            None => verdicts.push(VerdictChange {
                suite: tb.suite.clone(),
                test: tb.id.clone(),
                before: None,
                after: Some(shown_verdict(tb)),
            }),
            Some(ta) => {
                if shown_verdict(ta) != shown_verdict(tb) {
                    verdicts.push(VerdictChange {
                        suite: tb.suite.clone(),
                        test: tb.id.clone(),
                        before: Some(shown_verdict(ta)),
                        after: Some(shown_verdict(tb)),
                    });
                }
                moved.extend(moved_measurements(ta, tb));
            }
        }
    }
    let after: BTreeMap<_, _> = b.tests.iter().map(|t| (key(t), t)).collect();
    for ta in a.tests.iter().filter(|t| !after.contains_key(&key(t))) {
        verdicts.push(VerdictChange {
            suite: ta.suite.clone(),
            test: ta.id.clone(),
            before: Some(shown_verdict(ta)),
            after: None,
        });
    }
    RunDiff {
        verdicts,
        moved,
        scenarios: scenario_changes(&a.scenario_files, &b.scenario_files),
    }
}

/// Measurements keyed by name and their order among those of that name.
fn keyed(test: &TestVerdict) -> BTreeMap<(&str, usize), &MeasurementRecord> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    test.measurements
        .iter()
        .map(|m| {
            let n = seen.entry(m.name.as_str()).or_default();
            *n += 1;
            ((m.name.as_str(), *n), m)
        })
        .collect()
}

fn moved_measurements(ta: &TestVerdict, tb: &TestVerdict) -> Vec<Moved> {
    let before = keyed(ta);
    keyed(tb)
        .into_iter()
        .filter_map(|(k, mb)| {
            let ma = before.get(&k)?;
            let tolerance = mb.limit.tolerance().or(ma.limit.tolerance())?;
            let beyond = match (ma.value.is_nan(), mb.value.is_nan()) {
                (true, true) => false,
                (false, false) => (mb.value - ma.value).abs() > tolerance,
                _ => true,
            };
            beyond.then(|| Moved {
                suite: tb.suite.clone(),
                test: tb.id.clone(),
                name: mb.name.clone(),
                unit: mb.unit.clone(),
                before: ma.value,
                after: mb.value,
                tolerance,
                limit: mb.limit.text.clone(),
                verdicts: (ma.verdict.clone(), mb.verdict.clone()),
            })
        })
        .collect()
}

fn scenario_changes(a: &[ScenarioFile], b: &[ScenarioFile]) -> Vec<ScenarioChange> {
    let before: BTreeMap<_, _> = a.iter().map(|f| (&f.path, &f.sha256)).collect();
    b.iter()
        .filter_map(|f| {
            let old = before.get(&f.path)?;
            (**old != f.sha256).then(|| ScenarioChange {
                path: f.path.clone(),
                before: (*old).clone(),
                after: f.sha256.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Counts, LimitSpec};

    fn depth(value: f64, verdict: &str) -> MeasurementRecord {
        MeasurementRecord {
            name: "strike_depth_um".into(),
            value,
            unit: "um".into(),
            limit: LimitSpec {
                nominal: Some(1000.0),
                abs: Some(50.0),
                text: "1000 um ± 50 um".into(),
                ..LimitSpec::default()
            },
            verdict: verdict.into(),
        }
    }

    fn test(id: &str, verdict: &str, measurements: Vec<MeasurementRecord>) -> TestVerdict {
        TestVerdict {
            suite: "accuracy".into(),
            id: id.into(),
            title: id.into(),
            requirements: vec![],
            verdict: verdict.into(),
            flaky: false,
            message: None,
            duration_ms: 1.0,
            measurements,
        }
    }

    fn run(tests: Vec<TestVerdict>, sha: &str) -> RunRecord {
        RunRecord {
            started_unix_ms: 0,
            tool: "penlab 0.1.0".into(),
            target: "mock:x".into(),
            partition: None,
            operator: None,
            device: None,
            counts: Counts::default(),
            exit_code: 0,
            tests,
            scenario_files: vec![ScenarioFile {
                path: "accuracy.toml".into(),
                sha256: sha.repeat(64),
            }],
        }
    }

    #[test]
    fn a_run_against_itself_is_the_same() {
        let r = run(vec![test("a", "passed", vec![depth(1010.0, "pass")])], "a");
        let d = diff(&r, &r);
        assert!(d.is_same() && d.scenarios.is_empty(), "{d:?}");
    }

    #[test]
    fn verdict_changes_moves_and_missing_tests() {
        let a = run(
            vec![
                test("settle", "passed", vec![depth(1010.0, "pass")]),
                test("steady", "passed", vec![depth(1000.0, "pass")]),
                test("gone", "passed", vec![]),
            ],
            "a",
        );
        let b = run(
            vec![
                test("settle", "failed", vec![depth(1250.0, "fail")]),
                // Within tolerance: 40 µm against ± 50 µm.
                test("steady", "passed", vec![depth(1040.0, "pass")]),
                test("new", "skipped", vec![]),
            ],
            "b",
        );
        let d = diff(&a, &b);
        let changes: Vec<_> = d
            .verdicts
            .iter()
            .map(|c| (c.test.as_str(), c.before.as_deref(), c.after.as_deref()))
            .collect();
        assert_eq!(
            changes,
            [
                ("settle", Some("passed"), Some("failed")),
                ("new", None, Some("skipped")),
                ("gone", Some("passed"), None),
            ]
        );
        assert_eq!(d.moved.len(), 1, "{:?}", d.moved);
        assert_eq!((d.moved[0].before, d.moved[0].after), (1010.0, 1250.0));
        assert_eq!(d.moved[0].tolerance, 50.0);
        assert_eq!(d.scenarios.len(), 1);
        assert!(!d.is_same());
    }

    #[test]
    fn a_test_that_became_flaky_changed() {
        let a = run(vec![test("t", "passed", vec![])], "a");
        let mut b = a.clone();
        b.tests[0].flaky = true;
        let d = diff(&a, &b);
        assert_eq!(d.verdicts.len(), 1);
        assert_eq!(d.verdicts[0].after.as_deref(), Some("passed (flaky)"));
    }

    #[test]
    fn a_value_that_became_nan_moved() {
        let a = run(vec![test("t", "passed", vec![depth(1000.0, "pass")])], "a");
        let b = run(
            vec![test("t", "passed", vec![depth(f64::NAN, "fail")])],
            "a",
        );
        assert_eq!(diff(&a, &b).moved.len(), 1);
    }
}
