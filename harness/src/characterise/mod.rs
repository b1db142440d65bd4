//! The accuracy study of 21 CFR 878.4430(b)(2)(i): every declared depth
//! (or a chosen subset) at several rates across the declared range, N
//! strokes each; for each point the set value, the measured mean, standard
//! deviation and largest error of depth and rate, and PASS, MARGINAL or
//! FAIL against the limits.
//!
//! On the mock it runs in virtual time (seconds for the whole grid, the
//! same numbers every time for a seed); on a real pen in real time. The
//! motor is stopped however the study ends, as after every test
//! ([`crate::runner::teardown`]). External gauge readings
//! ([`reference`]) are compared point by point with what the pen reported.
//!
//! * [`grid`]: the points, from the pen's declared limits.
//! * [`stats`]: one point's numbers and verdicts.
//! * `collect`: the study on the pen.
//! * [`reference`]: external gauge readings (`--reference FILE.csv`).
//! * [`output`]: CSV and JSON.
//! * [`plot`]: error against set depth and against rate, with the limit
//!   bands, as PNG and SVG (`plotters`).

mod collect;
pub mod grid;
pub mod output;
pub mod plot;
pub mod reference;
pub mod stats;

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use penlab_host::session::{Session, SessionOptions};
use serde::{Deserialize, Serialize};

pub use collect::StudyPlan;
use collect::{Found, Study};
use grid::SetPoint;
use reference::Reading;
use stats::{PointResult, StudyLimits};

use crate::measure::Verdict;
use crate::report::DeviceInfo;
use crate::runner::teardown::{BodyEnd, MotorGuard, TeardownEnd};
use crate::runner::{Interrupt, RunError, Target};
use crate::scenario::Vars;
use crate::steps::{StepError, TestCtx};

/// The declared range the study ran across (21 CFR 878.4430(b)(1)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredRange {
    /// Settable depths, µm: min, max, step.
    pub depth_um: [u16; 3],
    /// The labelled maximum depth, µm.
    pub labelled_max_depth_um: u16,
    /// Settable rates, cHz: min, max, step.
    pub rate_chz: [u16; 3],
}

/// A study's findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Characterisation {
    /// The tool and its version.
    pub tool: String,
    /// What it ran against.
    pub target: String,
    /// The pen, once the handshake told.
    pub device: Option<DeviceInfo>,
    /// What the pen declared.
    pub declared: Option<DeclaredRange>,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// Strokes asked for at each point.
    pub strokes_per_point: usize,
    /// Settling time before each point's strokes, ms.
    pub settle_ms: u64,
    /// The limits every point was held to.
    pub limits: StudyLimits,
    /// Every point measured, in run order.
    pub points: Vec<PointResult>,
    /// The worst verdict of any point (FAIL when the study did not finish).
    pub verdict: Verdict,
    /// Why the study ended early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How the motor was stopped at the end.
    pub teardown: String,
    /// Gauge readings that matched no point of the grid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched_readings: Vec<Reading>,
}

impl Characterisation {
    /// Process exit code: 0 every point passed (marginal ones too), 1 a
    /// point failed, 2 the study could not be carried out.
    pub fn exit_code(&self) -> u8 {
        if self.error.is_some() {
            2
        } else if self.verdict == Verdict::Fail {
            1
        } else {
            0
        }
    }

    /// Points by verdict: (pass, marginal, fail).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |v| self.points.iter().filter(|p| p.verdict == v).count();
        (n(Verdict::Pass), n(Verdict::Marginal), n(Verdict::Fail))
    }

    /// `N points: N pass, N marginal, N fail`.
    pub fn summary(&self) -> String {
        let (pass, marginal, fail) = self.counts();
        let mut text = format!(
            "{}: {} points: {pass} pass, {marginal} marginal, {fail} fail",
            self.target,
            self.points.len()
        );
        if let Some(e) = &self.error {
            text.push_str(&format!("; not finished: {e}"));
        }
        text
    }

    /// Writes the CSV, the JSON and the plots into `dir`; returns the
    /// files written, relative to `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        std::fs::create_dir_all(dir)?;
        let mut files = output::write(self, dir)?;
        files.extend(plot::write(self, dir)?);
        Ok(files)
    }
}

/// Longest a whole study may run. Every point is bounded by its own
/// window ([`StudyPlan::window`]), so this only catches a pen that keeps
/// the study from moving on; Ctrl-C stops it sooner.
const STUDY_TIMEOUT: Duration = Duration::from_secs(24 * 3_600);

/// Runs the study on `target`; `readings` are external gauge readings to
/// compare with. A study cut short (a failure, an error, an interruption)
/// returns what it measured, with the reason.
pub fn run(
    target: &Target,
    plan: &StudyPlan,
    readings: &[Reading],
    interrupt: &Interrupt,
    capture: Option<&Path>,
) -> Result<Characterisation, RunError> {
    let runtime = crate::runner::runtime_for(target)?;
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let study = Study {
        plan,
        found: Mutex::new(Found::default()),
    };
    let (error, teardown) = runtime.block_on(async {
        let connection = match crate::runner::connect(target).await {
            Ok(c) => c,
            Err(e) => return (Some(e.to_string()), "not connected".to_owned()),
        };
        let mut session = Session::new(connection.link, SessionOptions::default());
        if let Some(path) = capture
            && let Err(e) = crate::runner::capture_session(&mut session, path, target, false)
        {
            let error = format!("capture {}: {e}", path.display());
            return (Some(error), "not started: nothing was sent".to_owned());
        }
        let ctx = TestCtx::new(session, connection.env, Vars::default());
        let guarded = MotorGuard::new(ctx, interrupt, STUDY_TIMEOUT)
            .run(&study)
            .await;
        let error = match guarded.body {
            BodyEnd::Finished(Ok(())) => None,
            BodyEnd::Finished(Err(StepError::Fail(m) | StepError::Error(m))) => Some(m),
            BodyEnd::TimedOut(t) => Some(format!("timed out after {t:?}")),
            BodyEnd::Panicked(m) => Some(format!("panicked: {m}")),
            BodyEnd::Interrupted(signal) => Some(format!("interrupted by {signal}")),
        };
        let teardown = match guarded.teardown {
            TeardownEnd::Answered(r) => format!("Stop answered: {r:?}"),
            TeardownEnd::Unconfirmed(u) => format!("Stop not acknowledged: {u}"),
            TeardownEnd::Forced { signal, .. } => {
                format!("a second {signal}: Stop sent without waiting for its answer")
            }
        };
        (error, teardown)
    });
    let found = study.found.into_inner().unwrap_or_default();
    let mut points = found.points;
    let unmatched_readings = reference::compare(&mut points, readings, &plan.limits);
    let worst = points
        .iter()
        .map(|p| p.verdict)
        .max()
        .unwrap_or(Verdict::Fail);
    let verdict = if error.is_some() {
        Verdict::Fail
    } else {
        worst
    };
    Ok(Characterisation {
        tool: format!("penlab {}", env!("CARGO_PKG_VERSION")),
        target: target.describe(),
        device: found.device,
        declared: found.limits.map(|l| DeclaredRange {
            depth_um: [l.depth_min_um, l.depth_max_um, l.depth_step_um],
            labelled_max_depth_um: l.labelled_max_depth_um,
            rate_chz: [l.rate_min_chz, l.rate_max_chz, l.rate_step_chz],
        }),
        started_unix_ms,
        strokes_per_point: plan.strokes,
        settle_ms: plan.settle.as_millis() as u64,
        limits: plan.limits,
        points,
        verdict,
        error,
        teardown,
        unmatched_readings,
    })
}

/// The set point as a label: `1000 µm @ 90 Hz`.
pub fn label(set: &SetPoint) -> String {
    format!("{} µm @ {} Hz", set.depth_um, set.rate_hz())
}
