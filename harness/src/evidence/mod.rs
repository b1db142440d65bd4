//! The evidence bundle (`--evidence DIR`): one folder a reviewer takes as
//! it is, for 21 CFR 878.4430 (b)(1), (b)(2)(i) and (b)(6) and IEC 62304
//! §5.7.5.
//!
//! ```text
//! DIR/
//!   junit.xml  record.json  captures/…      (penlab test)
//!   characterisation/…                     (penlab characterise)
//!   evidence.json                          who, what, where, when, hashes
//!   report.html                            the same, for a person
//!   SHA256SUMS                             every file above
//! ```
//!
//! The runs write their files into the folder first; [`write`] adds the
//! provenance, the report and the manifest. Under virtual time two runs
//! with the same seed give the same bundle, timestamps aside: nothing else
//! in it depends on the clock or the machine's state.
//!
//! * [`provenance`]: the tool, build, host, OS, operator, times, hashes.
//! * [`requirements`]: `protocol/REQUIREMENTS.md`'s identifiers.
//! * [`html`]: the report.
//! * [`manifest`]: the `SHA256SUMS` manifest.

pub mod html;
pub mod manifest;
pub mod provenance;
pub mod requirements;

use std::path::Path;

use serde::Serialize;

pub use provenance::{FileHash, Provenance};

use crate::characterise::{self, Characterisation};
use crate::measure::Verdict;
use crate::report::{Outcome, RunReport};

/// The JUnit file's name in a bundle.
pub const JUNIT: &str = "junit.xml";
/// The JSON record's name in a bundle.
pub const RECORD: &str = "record.json";
/// The captures' folder in a bundle.
pub const CAPTURES: &str = "captures";
/// The characterisation's folder in a bundle.
pub const CHARACTERISATION: &str = "characterisation";
/// The provenance file's name in a bundle.
pub const PROVENANCE: &str = "evidence.json";
/// The report's name in a bundle.
pub const REPORT: &str = "report.html";

/// What a bundle is made of.
#[derive(Debug, Clone, Copy)]
pub struct Bundle<'a> {
    /// Who ran what, where and when.
    pub provenance: &'a Provenance,
    /// The runs of `penlab test` (one per pen of a bench).
    pub reports: &'a [RunReport],
    /// The accuracy study, for `penlab characterise`.
    pub characterisation: Option<&'a Characterisation>,
    /// The files of the bundle, for the report's list.
    pub files: &'a [String],
}

/// Something a reviewer must look at: every FAIL, MARGINAL, ERROR and SKIP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// `FAIL`, `MARGINAL`, `ERROR` or `SKIP`.
    pub kind: &'static str,
    /// The test (`suite::id`) or study point.
    pub place: String,
    /// Why.
    pub reason: String,
}

impl Bundle<'_> {
    /// Every anomaly, in run order: tests first, then the study's points.
    pub fn anomalies(&self) -> Vec<Anomaly> {
        let mut out = Vec::new();
        for r in self.reports {
            for t in &r.tests {
                let place = format!("{}::{}", t.suite, t.id);
                let (kind, reason) = match &t.outcome {
                    Outcome::Passed if t.is_marginal() => (
                        "MARGINAL",
                        t.marginal_measurements()
                            .map(|m| m.describe())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    Outcome::Passed => continue,
                    Outcome::Failed { message } => ("FAIL", message.clone()),
                    Outcome::Error { message } => ("ERROR", message.clone()),
                    Outcome::Skipped { reason } => ("SKIP", reason.clone()),
                };
                out.push(Anomaly {
                    kind,
                    place,
                    reason,
                });
            }
        }
        if let Some(c) = self.characterisation {
            if let Some(e) = &c.error {
                out.push(Anomaly {
                    kind: "ERROR",
                    place: "characterise".into(),
                    reason: format!("the study did not finish: {e}"),
                });
            }
            for p in c.points.iter().filter(|p| p.verdict != Verdict::Pass) {
                let mut why = Vec::new();
                if let Some(d) = p.depth.filter(|_| p.depth_verdict != Verdict::Pass) {
                    why.push(format!(
                        "depth {}: worst stroke {:+.1} µm (limit ±{} µm)",
                        p.depth_verdict, d.max_error, c.limits.depth_abs_um
                    ));
                }
                if let Some(r) = p.rate.filter(|_| p.rate_verdict != Verdict::Pass) {
                    why.push(format!(
                        "rate {}: {:.2} Hz (limit ±{} %)",
                        p.rate_verdict,
                        r.mean,
                        c.limits.rate_rel * 100.0
                    ));
                }
                if let Some(n) = &p.note {
                    why.push(n.clone());
                }
                out.push(Anomaly {
                    kind: p.verdict.label(),
                    place: format!("characterise {}", characterise::label(&p.set)),
                    reason: why.join("; "),
                });
            }
        }
        out
    }

    /// FAIL when anything failed or could not be carried out, MARGINAL
    /// when something was marginal, PASS otherwise (skips aside).
    pub fn verdict(&self) -> Verdict {
        self.anomalies()
            .iter()
            .map(|a| match a.kind {
                "FAIL" | "ERROR" => Verdict::Fail,
                "MARGINAL" => Verdict::Marginal,
                _ => Verdict::Pass,
            })
            .max()
            .unwrap_or(Verdict::Pass)
    }
}

/// The provenance file: the provenance, the overall verdict and the
/// anomalies, for tools.
#[derive(Serialize)]
struct ProvenanceFile<'a> {
    #[serde(flatten)]
    provenance: &'a Provenance,
    verdict: Verdict,
    anomalies: Vec<Anomaly>,
}

/// Completes the bundle in `dir` (the runs have written their files into
/// it): the provenance, the report and `SHA256SUMS`.
pub fn write(
    dir: &Path,
    provenance: &Provenance,
    reports: &[RunReport],
    characterisation: Option<&Characterisation>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut files: Vec<String> = manifest::files(dir)?
        .into_iter()
        .filter(|f| f != REPORT && f != PROVENANCE)
        .collect();
    files.push(PROVENANCE.to_owned());
    files.sort();
    let bundle = Bundle {
        provenance,
        reports,
        characterisation,
        files: &files,
    };
    let record = ProvenanceFile {
        provenance,
        verdict: bundle.verdict(),
        anomalies: bundle.anomalies(),
    };
    let json = serde_json::to_string_pretty(&record).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(PROVENANCE), json)?;
    std::fs::write(dir.join(REPORT), html::render(&bundle))?;
    manifest::write(dir)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::{Limit, Measurement};
    use crate::report::{DeviceInfo, TestRecord};

    fn test(id: &str, outcome: Outcome, value: f64) -> TestRecord {
        TestRecord {
            suite: "accuracy".into(),
            id: id.into(),
            title: format!("{id} <checked>"),
            requirements: vec!["R-CMD-2".into(), "PENLAB-ACC-DEPTH".into()],
            tags: Vec::new(),
            outcome,
            measurements: vec![Measurement::new(
                "depth",
                value,
                "um",
                Limit::abs(1_000.0, 50.0).with_marginal_abs(35.0),
            )],
            duration: Duration::from_millis(1_800),
            wall_duration: Duration::from_millis(1_800),
            virtual_time: false,
            earlier_tries: Vec::new(),
            flaky: false,
            log: Vec::new(),
        }
    }

    fn provenance() -> Provenance {
        Provenance {
            tool: "penlab 0.1.0".into(),
            git_hash: "unknown".into(),
            host: "bench-1".into(),
            os: "linux".into(),
            operator: "A & B".into(),
            started: "2026-12-03T13:00:00Z".into(),
            ended: "2026-12-03T13:01:00Z".into(),
            settings: vec![("Seed".into(), "1".into())],
            scenarios: vec![FileHash {
                path: "accuracy.toml".into(),
                sha256: "ab".repeat(32),
            }],
        }
    }

    fn report() -> RunReport {
        RunReport {
            tool: "penlab 0.1.0".into(),
            target: "mock:dermapen4-like".into(),
            device: Some(DeviceInfo {
                model: "penlab-mock-16".into(),
                firmware: "4.0.7".into(),
                serial: "PL16-004017".into(),
                protocol: "1.0".into(),
            }),
            started_unix_ms: 0,
            partition: None,
            operator: None,
            tests: vec![
                test("clean", Outcome::Passed, 1_010.0),
                test("near", Outcome::Passed, 1_040.0),
                test(
                    "off",
                    Outcome::Failed {
                        message: "depth = 1060 um: FAIL".into(),
                    },
                    1_060.0,
                ),
                test(
                    "cartridge",
                    Outcome::Skipped {
                        reason: "needs the mock's environment channel".into(),
                    },
                    1_000.0,
                ),
            ],
        }
    }

    #[test]
    fn every_fail_marginal_error_and_skip_is_an_anomaly() {
        let (p, r) = (provenance(), [report()]);
        let b = Bundle {
            provenance: &p,
            reports: &r,
            characterisation: None,
            files: &[],
        };
        let anomalies = b.anomalies();
        let kinds: Vec<(&str, &str)> = anomalies
            .iter()
            .map(|a| (a.kind, a.place.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("MARGINAL", "accuracy::near"),
                ("FAIL", "accuracy::off"),
                ("SKIP", "accuracy::cartridge")
            ]
        );
        assert_eq!(b.verdict(), Verdict::Fail);
        let html = html::render(&b);
        assert!(html.contains("A &amp; B"), "escaped operator");
        assert!(html.contains("near &lt;checked&gt;"), "escaped title");
        assert!(html.contains("needs the mock&#39;s environment channel"));
        assert!(html.contains("PL16-004017"));
        assert!(html.contains(&"ab".repeat(32)));
        // R-CMD-2 is in REQUIREMENTS.md: its summary shows, and the other
        // 103 are listed as not named by any test.
        assert!(html.contains("Accept a depth only on the declared grid"));
        assert!(html.contains("103 of the 104 requirements"));
        assert!(!html.contains("id=\"no-anomalies\""));
    }

    #[test]
    fn a_clean_run_has_no_anomalies() {
        let p = provenance();
        let mut r = report();
        r.tests.truncate(1);
        let r = [r];
        let b = Bundle {
            provenance: &p,
            reports: &r,
            characterisation: None,
            files: &[],
        };
        assert!(b.anomalies().is_empty());
        assert_eq!(b.verdict(), Verdict::Pass);
        assert!(html::render(&b).contains("id=\"no-anomalies\""));
    }
}
