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
