//! What the store keeps of a run: plain data, independent of the harness
//! (the `penlab` binary converts the harness's run report into it), so the
//! store can be used by tools that do not run tests.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The pen a run was against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Device model.
    pub model: String,
    /// Firmware version.
    pub firmware: String,
    /// Serial number.
    pub serial: String,
    /// Protocol version, `major.minor`.
    pub protocol: String,
}

/// How many tests ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Passed.
    pub passed: u32,
    /// Passed with a measurement in its limit's marginal band (counted in
    /// `passed` too).
    pub marginal: u32,
    /// Passed only on a retry (counted in `passed` too).
    pub flaky: u32,
    /// Failed.
    pub failed: u32,
    /// Skipped.
    pub skipped: u32,
    /// Could not be carried out.
    pub errors: u32,
}

/// A measurement's limit, in columns a query can use, with the limit as
/// it was recorded (`json`) so nothing a newer limit kind carries is lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LimitSpec {
    /// Expected value of a tolerance limit.
    pub nominal: Option<f64>,
    /// Absolute tolerance, in the measurement's unit.
    pub abs: Option<f64>,
    /// Relative tolerance, a fraction of the nominal.
    pub rel: Option<f64>,
    /// Smallest allowed value of a range.
    pub min: Option<f64>,
    /// Largest allowed value of a range.
    pub max: Option<f64>,
    /// The limit in words (`1000 um ± 50 um`).
    pub text: String,
    /// The limit as the harness wrote it.
    pub json: serde_json::Value,
}

impl LimitSpec {
    /// How far a value may move between runs before a diff reports it:
    /// the tighter of the absolute and relative (of the nominal)
    /// tolerances; 0 for an exact nominal; half the width of a closed
    /// range; none for an open range (only its verdict is compared).
    pub fn tolerance(&self) -> Option<f64> {
        if let Some(nominal) = self.nominal {
            let rel = self.rel.map(|r| r * nominal.abs());
            return Some(match (self.abs, rel) {
                (Some(a), Some(r)) => a.min(r),
                (Some(t), None) | (None, Some(t)) => t,
                (None, None) => 0.0,
            });
        }
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => Some((hi - lo).abs() / 2.0),
            _ => None,
        }
    }
}

/// A measured value held to a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasurementRecord {
    /// What was measured.
    pub name: String,
    /// The value (NaN when it was not a number; stored as NULL).
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Its limit.
    pub limit: LimitSpec,
    /// `pass`, `fail` (or another verdict a newer harness gives).
    pub verdict: String,
}

/// One test's verdict with its measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestVerdict {
    /// The suite (scenario file stem).
    pub suite: String,
    /// The test's id, unique in its suite.
    pub id: String,
    /// What it checks.
    pub title: String,
    /// Requirement IDs it verifies.
    pub requirements: Vec<String>,
    /// `passed`, `failed`, `skipped`, `error` (or another verdict a newer
    /// harness gives).
    pub verdict: String,
    /// Passed only on a retry.
    pub flaky: bool,
    /// Why it failed, errored or was skipped.
    pub message: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
    /// Its measurements, in the order taken.
    pub measurements: Vec<MeasurementRecord>,
}

/// A scenario file a run used, by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioFile {
    /// Its path, as given to the run.
    pub path: String,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

impl ScenarioFile {
    /// Hashes the file at `path`.
    pub fn hash(path: &Path) -> std::io::Result<ScenarioFile> {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(ScenarioFile {
            path: path.display().to_string(),
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// A run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// The tool and its version (`penlab 0.1.0`).
    pub tool: String,
    /// What it ran against (`/dev/ttyACM0`, `mock:skinpen-like`).
    pub target: String,
    /// The shard, if partitioned.
    pub partition: Option<String>,
    /// Who ran it, if known.
    pub operator: Option<String>,
    /// The pen, if the handshake told.
    pub device: Option<Device>,
    /// Outcome counts.
    pub counts: Counts,
    /// The run's exit code (0 passed, 1 failed, 2 error).
    pub exit_code: u8,
    /// Every test, in run order.
    pub tests: Vec<TestVerdict>,
    /// The scenario files, with their hashes.
    pub scenario_files: Vec<ScenarioFile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(nominal: f64, abs: Option<f64>, rel: Option<f64>) -> LimitSpec {
        LimitSpec {
            nominal: Some(nominal),
            abs,
            rel,
            ..LimitSpec::default()
        }
    }

    #[test]
    fn tolerance_is_the_tighter_band() {
        assert_eq!(tol(1000.0, Some(50.0), None).tolerance(), Some(50.0));
        assert_eq!(tol(200.0, None, Some(0.03)).tolerance(), Some(6.0));
        assert_eq!(tol(200.0, Some(5.0), Some(0.03)).tolerance(), Some(5.0));
        assert_eq!(tol(14.0, None, None).tolerance(), Some(0.0));
        let range = |min, max| LimitSpec {
            min,
            max,
            ..LimitSpec::default()
        };
        assert_eq!(range(Some(2.0), Some(5.0)).tolerance(), Some(1.5));
        assert_eq!(range(None, Some(300.0)).tolerance(), None);
    }

    #[test]
    fn hashes_match_sha256sum() {
        let path = std::env::temp_dir().join(format!("penlab-store-hash-{}", std::process::id()));
        std::fs::write(&path, b"abc").unwrap();
        let f = ScenarioFile::hash(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        // FIPS 180-2's test vector for "abc".
        assert_eq!(
            f.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
