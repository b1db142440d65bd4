//! Trainee sessions in and out of SQL: a session and its skills in one
//! transaction; a trainee's sessions, oldest first.

use rusqlite::{Connection, Transaction, params};

use super::{RubricRef, SkillResult, StoredSession, TraineeCount, TraineeSession};
use crate::record::ScenarioFile;
use crate::{StoreError, unix_ms_now};

/// Inserts `s`; returns its id.
pub(crate) fn insert_session(tx: &Transaction<'_>, s: &TraineeSession) -> Result<i64, StoreError> {
    if let Some(problem) = s.problem() {
        return Err(StoreError::InvalidSession(problem));
    }
    tx.execute(
        "INSERT INTO trainee_sessions (started_unix_ms, recorded_unix_ms, software, trainee,
             trainer, device, rubric, rubric_sha256, consecutive_passes, pass_mark, total,
             passed, surface, tool, duration_s, punctures, script_path, script_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        params![
            s.started_unix_ms as i64,
            unix_ms_now() as i64,
            s.software,
            s.trainee,
            s.trainer,
            s.device,
            s.rubric.name,
            s.rubric.sha256,
            s.rubric.consecutive_passes,
            s.rubric.pass_mark,
            s.total,
            s.passed,
            s.surface,
            s.tool,
            s.duration_s,
            s.punctures as i64,
            s.script.path,
            s.script.sha256,
        ],
    )?;
    let id = tx.last_insert_rowid();
    let mut stmt = tx.prepare(
        "INSERT INTO trainee_skills (session_id, position, skill, value, unit, target,
             range_min, range_max, weight, score, in_range)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (position, k) in s.skills.iter().enumerate() {
        stmt.execute(params![
            id,
            position,
            k.skill,
            // SQLite keeps no NaN: NULL says "not a number".
            (!k.value.is_nan()).then_some(k.value),
            k.unit,
            k.target,
            k.range[0],
            k.range[1],
            k.weight,
            k.score,
            k.in_range,
        ])?;
    }
    Ok(id)
}

/// Every trainee with sessions, by name.
pub(crate) fn trainees(conn: &Connection) -> Result<Vec<TraineeCount>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT trainee, count(*) FROM trainee_sessions GROUP BY trainee ORDER BY trainee",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(TraineeCount {
            trainee: r.get(0)?,
            sessions: r.get::<_, i64>(1)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `trainee`'s sessions (the name exactly as recorded), oldest first.
pub(crate) fn sessions_of(
    conn: &Connection,
    trainee: &str,
) -> Result<Vec<StoredSession>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, recorded_unix_ms, started_unix_ms, software, trainee, trainer, device, rubric,
                rubric_sha256, consecutive_passes, pass_mark, total, passed, surface, tool,
                duration_s, punctures, script_path, script_sha256
         FROM trainee_sessions WHERE trainee = ?1 ORDER BY started_unix_ms, id",
    )?;
    let mut sessions: Vec<StoredSession> = stmt
        .query_map([trainee], |r| {
            Ok(StoredSession {
                id: r.get(0)?,
                recorded_unix_ms: r.get::<_, i64>(1)? as u64,
                session: TraineeSession {
                    started_unix_ms: r.get::<_, i64>(2)? as u64,
                    software: r.get(3)?,
                    trainee: r.get(4)?,
                    trainer: r.get(5)?,
                    device: r.get(6)?,
                    rubric: RubricRef {
                        name: r.get(7)?,
                        sha256: r.get(8)?,
                        consecutive_passes: r.get(9)?,
                        pass_mark: r.get(10)?,
                    },
                    total: r.get(11)?,
                    passed: r.get(12)?,
                    surface: r.get(13)?,
                    tool: r.get(14)?,
                    duration_s: r.get(15)?,
                    punctures: r.get::<_, i64>(16)? as u64,
                    script: ScenarioFile {
                        path: r.get(17)?,
                        sha256: r.get(18)?,
                    },
                    skills: Vec::new(),
                },
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut skills = conn.prepare(
        "SELECT skill, value, unit, target, range_min, range_max, weight, score, in_range
         FROM trainee_skills WHERE session_id = ?1 ORDER BY position",
    )?;
    for s in &mut sessions {
        s.session.skills = skills
            .query_map([s.id], |r| {
                Ok(SkillResult {
                    skill: r.get(0)?,
                    value: r.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN),
                    unit: r.get(2)?,
                    target: r.get(3)?,
                    range: [r.get(4)?, r.get(5)?],
                    weight: r.get(6)?,
                    score: r.get(7)?,
                    in_range: r.get(8)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(sessions)
}
