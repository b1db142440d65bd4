//! Recording a run: every row of it in one transaction, so a history holds
//! whole runs or none.

use rusqlite::{Transaction, params};

use crate::record::{Device, RunRecord};
use crate::{StoreError, unix_ms_now};

/// Inserts `run`; returns its id.
pub(crate) fn insert_run(tx: &Transaction<'_>, run: &RunRecord) -> Result<i64, StoreError> {
    let device_id = run.device.as_ref().map(|d| device_id(tx, d)).transpose()?;
    tx.execute(
        "INSERT INTO runs (started_unix_ms, recorded_unix_ms, tool, target, partition, operator,
                           device_id, passed, marginal, flaky, failed, skipped, errors,
                           exit_code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            run.started_unix_ms as i64,
            unix_ms_now() as i64,
            run.tool,
            run.target,
            run.partition,
            run.operator,
            device_id,
            run.counts.passed,
            run.counts.marginal,
            run.counts.flaky,
            run.counts.failed,
            run.counts.skipped,
            run.counts.errors,
            run.exit_code,
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    let mut test_stmt = tx.prepare(
        "INSERT INTO tests (run_id, position, suite, test_id, title, requirements, verdict,
                            message, duration_ms, flaky)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut m_stmt = tx.prepare(
        "INSERT INTO measurements (test_row, position, name, value, unit, nominal, abs_tol,
                                   rel_tol, min, max, limit_text, limit_json, verdict)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for (position, test) in run.tests.iter().enumerate() {
        test_stmt.execute(params![
            run_id,
            position,
            test.suite,
            test.id,
            test.title,
            serde_json::to_string(&test.requirements).unwrap_or_default(),
            test.verdict,
            test.message,
            test.duration_ms,
            test.flaky,
        ])?;
        let test_row = tx.last_insert_rowid();
        for (position, m) in test.measurements.iter().enumerate() {
            let l = &m.limit;
            m_stmt.execute(params![
                test_row,
                position,
                m.name,
                // SQLite keeps no NaN: NULL says "not a number".
                (!m.value.is_nan()).then_some(m.value),
                m.unit,
                l.nominal,
                l.abs,
                l.rel,
                l.min,
                l.max,
                l.text,
                l.json.to_string(),
                m.verdict,
            ])?;
        }
    }
    let mut file_stmt = tx.prepare(
        "INSERT OR REPLACE INTO scenario_files (run_id, path, sha256) VALUES (?1, ?2, ?3)",
    )?;
    for file in &run.scenario_files {
        file_stmt.execute(params![run_id, file.path, file.sha256])?;
    }
    Ok(run_id)
}

fn device_id(tx: &Transaction<'_>, d: &Device) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT OR IGNORE INTO devices (model, firmware, serial, protocol) VALUES (?1, ?2, ?3, ?4)",
        params![d.model, d.firmware, d.serial, d.protocol],
    )?;
    Ok(tx.query_row(
        "SELECT id FROM devices WHERE model = ?1 AND firmware = ?2 AND serial = ?3 AND protocol = ?4",
        params![d.model, d.firmware, d.serial, d.protocol],
        |r| r.get(0),
    )?)
}
