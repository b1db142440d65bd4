//! What a loaded scenario file is: suites, tests and their steps, checked.

use std::fmt;
use std::path::PathBuf;

use penlab_diagnostics::Location;
use serde::Deserialize;

use crate::steps::Step;

/// Which declared range a test runs across.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sweep {
    /// Smallest, middle and largest settable depth: `${depth}`.
    Depth,
    /// Lowest, middle and highest settable rate: `${rate}` (cHz), `${rate_hz}`.
    Rate,
}

/// An optional feature a pen declares in `Capabilities.features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// A pose tracker.
    Pose,
    /// A contact-force sensor.
    Force,
    /// Cartridge identity and the reuse lockout.
    Lockout,
}

impl Feature {
    /// Its bit in `Capabilities.features`.
    pub fn bit(self) -> u8 {
        use penlab_protocol::message::{FEATURE_FORCE, FEATURE_LOCKOUT, FEATURE_POSE};
        match self {
            Feature::Pose => FEATURE_POSE,
            Feature::Force => FEATURE_FORCE,
            Feature::Lockout => FEATURE_LOCKOUT,
        }
    }
}

/// A step of a test, checked, and where it is written.
pub struct ScenarioStep {
    /// Where the step is in its file.
    pub location: Location,
    /// The key that names its kind (`send`, `await`).
    pub kind: &'static str,
    /// The step itself.
    pub step: Box<dyn Step>,
}

impl fmt::Debug for ScenarioStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.location, self.step)
    }
}

/// One test.
#[derive(Debug)]
pub struct TestCase {
    /// Id, unique in the suite.
    pub id: String,
    /// What it checks.
    pub title: String,
    /// Requirement IDs (the suite's and its own).
    pub requirements: Vec<String>,
    /// Tags (the suite's and its own).
    pub tags: Vec<String>,
    /// Whether the runner opens the session (Hello) before the steps.
    pub handshake: bool,
    /// The range to run across, if any.
    pub sweep: Option<Sweep>,
    /// Features the pen must declare for the test to apply; otherwise it is
    /// skipped with the reason.
    pub requires: Vec<Feature>,
    /// The steps.
    pub steps: Vec<ScenarioStep>,
    /// Where the test is written.
    pub location: Location,
}

impl TestCase {
    /// Whether any step needs the mock's environment channel.
    pub fn needs_env(&self) -> bool {
        self.steps.iter().any(|s| s.step.needs_env())
    }
}

/// A scenario file.
#[derive(Debug)]
pub struct Suite {
    /// The file's stem: the suite's name in reports.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// What it covers.
    pub title: String,
    /// The tests, in file order.
    pub tests: Vec<TestCase>,
}
