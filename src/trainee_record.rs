//! `penlab sim --headless --db`: a trainee's session, scored against a
//! rubric, recorded in the history database (penlab-store). The conversion
//! lives here, in the binary, so the store depends on no simulator crate
//! and the engine knows nothing of SQLite.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use penlab_simulator::headless::Finished;
use penlab_simulator::rubric::Rubric;
use penlab_simulator::trainee::{People, Standing};
use penlab_store::trainee::progress::Status;
use penlab_store::{RubricRef, ScenarioFile, SkillResult, Store, TraineeSession};

/// An open history, and what the session will be recorded with.
pub struct SessionRecorder {
    store: Store,
    trainee: String,
    script: ScenarioFile,
    started: SystemTime,
}

/// Where the session goes: `--db`, else `PENLAB_DB` (when not empty).
fn destination(db: Option<&Path>) -> Option<(PathBuf, bool)> {
    if let Some(path) = db {
        return Some((path.to_owned(), true));
    }
    std::env::var_os("PENLAB_DB")
        .filter(|v| !v.is_empty())
        .map(|v| (PathBuf::from(v), false))
}

impl SessionRecorder {
    /// Opens (or makes) the history before the run, so that a file that is
    /// not a history is refused before anything is simulated, and hashes
    /// the script as it is run. None when no history is asked for, or when
    /// `PENLAB_DB` is set but the run names no trainee or rubric (said on
    /// standard error); `--db` without both is refused.
    pub fn open(
        db: Option<&Path>,
        people: &People,
        rubric: Option<&str>,
        script: &Path,
        started: SystemTime,
    ) -> anyhow::Result<Option<SessionRecorder>> {
        let Some((path, explicit)) = destination(db) else {
            return Ok(None);
        };
        let trainee = people.trainee.as_deref().map(str::trim);
        let missing: Vec<&str> = [
            (trainee.is_none_or(str::is_empty), "--trainee NAME"),
            (rubric.is_none(), "--rubric NAME|FILE"),
        ]
        .into_iter()
        .filter_map(|(absent, flag)| absent.then_some(flag))
        .collect();
        if !missing.is_empty() {
            let needs = missing.join(" and ");
            if explicit {
                bail!(
                    "--db records a trainee's session scored against a rubric: give {needs} too \
                     (nothing was run or recorded)"
                );
            }
            eprintln!(
                "note: PENLAB_DB is set, but this session is not recorded in it: that needs {needs}"
            );
            return Ok(None);
        }
        // A rubric that does not load is refused before a history is made.
        if let Some(spec) = rubric {
            Rubric::find(spec)?;
        }
        let store = Store::open(&path)?;
        let script =
            ScenarioFile::hash(script).with_context(|| format!("hashing {}", script.display()))?;
        Ok(Some(SessionRecorder {
            store,
            trainee: trainee.unwrap_or_default().to_owned(),
            script,
            started,
        }))
    }

    /// Records the finished session, prints its id and where the trainee
    /// stands on its rubric, and returns that standing (for the trainee's
    /// report).
    pub fn record(mut self, finished: &Finished, people: &People) -> anyhow::Result<Standing> {
        let session = self.session(finished, people)?;
        let path = self.store.path().display().to_string();
        let id = self
            .store
            .record_session(&session)
            .with_context(|| format!("recording the session in {path}"))?;
        let progress = self.store.progress(&session.trainee, None)?;
        let on_rubric = progress
            .rubrics
            .iter()
            .find(|r| r.rubric == session.rubric.name && r.rubric_sha256 == session.rubric.sha256)
            .with_context(|| format!("session {id} is not in {path}'s progress"))?;
        let n = on_rubric.rule.consecutive_passes;
        let attempts = on_rubric.attempts;
        let rubric = &on_rubric.rubric;
        let (printed, standing) = match &on_rubric.certification {
            Status::Certified {
                attempt,
                first_attempt,
                ..
            } => (
                format!("attempt {attempts} on {rubric}, certified at attempt {attempt}"),
                Standing {
                    certified: true,
                    text: format!(
                        "certified on {rubric} by {n} pass(es) in a row, attempts \
                         {first_attempt} to {attempt}; this was attempt {attempts}"
                    ),
                },
            ),
            Status::NotCertified {
                passes_in_a_row,
                more_needed,
            } => (
                format!(
                    "attempt {attempts} on {rubric}, {more_needed} more pass(es) in a row to certify"
                ),
                Standing {
                    certified: false,
                    text: format!(
                        "not yet certified on {rubric}: {passes_in_a_row} pass(es) in a row \
                         after attempt {attempts}, {more_needed} more needed ({n} in a row certify)"
                    ),
                },
            ),
        };
        println!(
            "trainee       session {id} of {} recorded in {path} ({printed})",
            session.trainee
        );
        Ok(standing)
    }

    fn session(&self, finished: &Finished, people: &People) -> anyhow::Result<TraineeSession> {
        let report = finished.report();
        let (Some(scores), Some(rubric)) = (&report.rubric, &finished.rubric) else {
            bail!("the session was not scored against a rubric, so it is not recorded");
        };
        let started_unix_ms = self
            .started
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Ok(TraineeSession {
            started_unix_ms,
            software: format!("penlab {}", env!("CARGO_PKG_VERSION")),
            trainee: self.trainee.clone(),
            trainer: people.trainer.clone(),
            device: people.device.clone(),
            rubric: RubricRef {
                name: scores.rubric.clone(),
                sha256: rubric.sha256.clone(),
                consecutive_passes: rubric.certification.consecutive_passes,
                pass_mark: scores.pass_mark,
            },
            surface: report.surface.clone(),
            tool: report.tool.clone(),
            // A weighted mean of scores in 0–100, to a rounding error.
            total: scores.total.clamp(0.0, 100.0),
            passed: scores.passed,
            duration_s: report.duration_s,
            punctures: report.punctures,
            script: self.script.clone(),
            skills: scores
                .skills
                .iter()
                .map(|k| SkillResult {
                    skill: k.skill.name().to_owned(),
                    value: k.value,
                    unit: k.unit.clone(),
                    target: k.target,
                    range: k.range,
                    weight: k.weight,
                    score: k.score.clamp(0.0, 100.0),
                    in_range: k.in_range,
                })
                .collect(),
        })
    }
}
