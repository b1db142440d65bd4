//! Reading runs back: summaries for `penlab history`, whole runs for a
//! diff or an export.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use crate::StoreError;
use crate::record::{
    Counts, Device, LimitSpec, MeasurementRecord, RunRecord, ScenarioFile, TestVerdict,
};

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// Only runs of the pen with this serial number.
    pub serial: Option<String>,
    /// Only runs of this firmware version.
    pub firmware: Option<String>,
}

/// A run without its tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The run's id in this history.
    pub id: i64,
    /// Wall-clock start, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// The tool and its version.
    pub tool: String,
    /// What it ran against.
    pub target: String,
    /// The shard, if partitioned.
    pub partition: Option<String>,
    /// Who ran it, if known.
    pub operator: Option<String>,
    /// The pen, if the handshake told.
    pub device: Option<Device>,
    /// Outcome counts.
    pub counts: Counts,
    /// The run's exit code.
    pub exit_code: u8,
}

/// A whole run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    /// The run's id in this history.
    pub id: i64,
    /// When it was recorded, milliseconds since the Unix epoch.
    pub recorded_unix_ms: u64,
    /// The run.
    pub run: RunRecord,
}

const SUMMARY_COLUMNS: &str = "r.id, r.started_unix_ms, r.tool, r.target, r.partition, r.operator,
     d.model, d.firmware, d.serial, d.protocol,
     r.passed, r.failed, r.skipped, r.errors, r.exit_code, r.recorded_unix_ms, r.marginal, r.flaky";

fn summary(row: &Row<'_>) -> rusqlite::Result<(RunSummary, u64)> {
    let model: Option<String> = row.get(6)?;
    let device = match model {
        Some(model) => Some(Device {
            model,
            firmware: row.get(7)?,
            serial: row.get(8)?,
            protocol: row.get(9)?,
        }),
        None => None,
    };
    Ok((
        RunSummary {
            id: row.get(0)?,
            started_unix_ms: row.get::<_, i64>(1)? as u64,
            tool: row.get(2)?,
            target: row.get(3)?,
            partition: row.get(4)?,
            operator: row.get(5)?,
            device,
            counts: Counts {
                passed: row.get(10)?,
                marginal: row.get(16)?,
                flaky: row.get(17)?,
                failed: row.get(11)?,
                skipped: row.get(12)?,
                errors: row.get(13)?,
            },
            exit_code: row.get(14)?,
        },
        row.get::<_, i64>(15)? as u64,
    ))
}

/// The runs `filter` selects, oldest first.
pub(crate) fn list(conn: &Connection, filter: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM runs r LEFT JOIN devices d ON d.id = r.device_id
         WHERE (?1 IS NULL OR d.serial = ?1) AND (?2 IS NULL OR d.firmware = ?2)
         ORDER BY r.started_unix_ms, r.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![filter.serial, filter.firmware], |r| {
        summary(r).map(|(s, _)| s)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Run `id`, whole.
pub(crate) fn load(conn: &Connection, id: i64) -> Result<StoredRun, StoreError> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM runs r LEFT JOIN devices d ON d.id = r.device_id
         WHERE r.id = ?1"
    );
    let (s, recorded_unix_ms) = conn
        .query_row(&sql, [id], summary)
        .optional()?
        .ok_or(StoreError::UnknownRun(id))?;
    let unreadable = |detail: String| StoreError::Unreadable { run: id, detail };
    let mut tests_stmt = conn.prepare(
        "SELECT id, suite, test_id, title, requirements, verdict, message, duration_ms, flaky
         FROM tests WHERE run_id = ?1 ORDER BY position",
    )?;
    let mut m_stmt = conn.prepare(
        "SELECT name, value, unit, nominal, abs_tol, rel_tol, min, max, limit_text, limit_json,
                verdict
         FROM measurements WHERE test_row = ?1 ORDER BY position",
    )?;
    let rows: Vec<(i64, TestVerdict, String)> = tests_stmt
        .query_map([id], |r| {
            Ok((
                r.get(0)?,
                TestVerdict {
                    suite: r.get(1)?,
                    id: r.get(2)?,
                    title: r.get(3)?,
                    requirements: Vec::new(),
                    verdict: r.get(5)?,
                    flaky: r.get(8)?,
                    message: r.get(6)?,
                    duration_ms: r.get(7)?,
                    measurements: Vec::new(),
                },
                r.get(4)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut tests = Vec::with_capacity(rows.len());
    for (row_id, mut test, requirements) in rows {
        test.requirements = serde_json::from_str(&requirements)
            .map_err(|e| unreadable(format!("requirements of {}: {e}", test.id)))?;
        let measurements: Vec<(MeasurementRecord, String)> = m_stmt
            .query_map([row_id], |r| {
                Ok((
                    MeasurementRecord {
                        name: r.get(0)?,
                        value: r.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN),
                        unit: r.get(2)?,
                        limit: LimitSpec {
                            nominal: r.get(3)?,
                            abs: r.get(4)?,
                            rel: r.get(5)?,
                            min: r.get(6)?,
                            max: r.get(7)?,
                            text: r.get(8)?,
                            json: serde_json::Value::Null,
                        },
                        verdict: r.get(10)?,
                    },
                    r.get(9)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        for (mut m, json) in measurements {
            m.limit.json = serde_json::from_str(&json)
                .map_err(|e| unreadable(format!("limit of {}: {e}", m.name)))?;
            test.measurements.push(m);
        }
        tests.push(test);
    }
    let scenario_files = conn
        .prepare("SELECT path, sha256 FROM scenario_files WHERE run_id = ?1 ORDER BY path")?
        .query_map([id], |r| {
            Ok(ScenarioFile {
                path: r.get(0)?,
                sha256: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(StoredRun {
        id,
        recorded_unix_ms,
        run: RunRecord {
            started_unix_ms: s.started_unix_ms,
            tool: s.tool,
            target: s.target,
            partition: s.partition,
            operator: s.operator,
            device: s.device,
            counts: s.counts,
            exit_code: s.exit_code,
            tests,
            scenario_files,
        },
    })
}
