//! Trainee sessions: a simulator session scored against a trainer's
//! rubric, as plain data (the `penlab` binary converts the simulator's
//! report into a [`TraineeSession`]), kept so that `penlab trainee NAME`
//! can show a trainee's progress and whether they are certified.
//!
//! * [`TraineeSession`]: what one session keeps (schema version 4).
//! * [`progress`]: per-rubric trends and the certification rule applied.

mod sql;

pub mod progress;

use serde::{Deserialize, Serialize};

pub(crate) use sql::{insert_session, sessions_of, trainees};

use crate::record::ScenarioFile;

/// The rubric a session was scored against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RubricRef {
    /// Its name (`certification`, or a trainer's own).
    pub name: String,
    /// SHA-256 of its file's text, lower-case hex: sessions count as on the
    /// same rubric when name and hash match.
    pub sha256: String,
    /// Passes in a row on it that certify, as its file said at the time.
    pub consecutive_passes: u32,
    /// Its pass mark, 0–100.
    pub pass_mark: f64,
}

/// One skill's score in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillResult {
    /// The skill's name (`coverage`, `hot_spots`, …).
    pub skill: String,
    /// Its measure in the session (NaN when not a number; stored as NULL).
    pub value: f64,
    /// The measure's unit (`%`, `CV`).
    pub unit: String,
    /// The rubric's target.
    pub target: f64,
    /// The rubric's acceptable range, inclusive.
    pub range: [f64; 2],
    /// The rubric's weight.
    pub weight: f64,
    /// The score, 0–100.
    pub score: f64,
    /// Inside the range.
    pub in_range: bool,
}

/// A trainee's session, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraineeSession {
    /// When it was run, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// The program and its version (`penlab 0.1.0`).
    pub software: String,
    /// The trainee's name.
    pub trainee: String,
    /// The trainer's name, if given.
    pub trainer: Option<String>,
    /// The device (pen) used, if given.
    pub device: Option<String>,
    /// The rubric it was scored against.
    pub rubric: RubricRef,
    /// The surface treated (`flat-pad`, `face`, a mesh file).
    pub surface: String,
    /// The tool profile (`pen-14`).
    pub tool: String,
    /// The weighted total, 0–100.
    pub total: f64,
    /// Passed the rubric.
    pub passed: bool,
    /// How long the session lasted, seconds.
    pub duration_s: f64,
    /// Needle punctures.
    pub punctures: u64,
    /// The script or recording it ran, by content.
    pub script: ScenarioFile,
    /// Every scored skill, in the rubric's order.
    pub skills: Vec<SkillResult>,
}

/// A recorded session with its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredSession {
    /// Its id in this history.
    pub id: i64,
    /// When it was recorded, milliseconds since the Unix epoch.
    pub recorded_unix_ms: u64,
    /// The session.
    pub session: TraineeSession,
}

/// A trainee with sessions in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraineeCount {
    /// The name, as recorded.
    pub trainee: String,
    /// How many sessions.
    pub sessions: u64,
}

impl TraineeSession {
    /// Why this session cannot be recorded, if it cannot: an empty name, a
    /// score outside 0–100, a hash that is not SHA-256 hex, a rule of no
    /// passes.
    pub fn problem(&self) -> Option<String> {
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        let score = |x: f64| (0.0..=100.0).contains(&x);
        if self.trainee.trim().is_empty() {
            return Some("the trainee's name is empty".into());
        }
        if self.rubric.name.trim().is_empty() {
            return Some("the rubric's name is empty".into());
        }
        if !hex64(&self.rubric.sha256) {
            return Some(format!(
                "rubric hash {:?} is not SHA-256 hex",
                self.rubric.sha256
            ));
        }
        if !hex64(&self.script.sha256) {
            return Some(format!(
                "script hash {:?} is not SHA-256 hex",
                self.script.sha256
            ));
        }
        if self.rubric.consecutive_passes == 0 {
            return Some("the rubric's rule needs at least one pass".into());
        }
        if !score(self.total) {
            return Some(format!("total {} is outside 0–100", self.total));
        }
        if let Some(s) = self.skills.iter().find(|s| !score(s.score)) {
            return Some(format!("{} scores {}, outside 0–100", s.skill, s.score));
        }
        for (i, s) in self.skills.iter().enumerate() {
            if self.skills[..i].iter().any(|t| t.skill == s.skill) {
                return Some(format!("{} is scored twice", s.skill));
            }
        }
        None
    }
}
