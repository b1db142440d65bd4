//! The database's schema as a list of migrations, applied in order.
//!
//! `PRAGMA user_version` is the number of migrations a database has had;
//! `PRAGMA application_id` marks it as penlab's, so that another program's
//! SQLite file is never mistaken for a history database.
//!
//! A migration, once released, is never edited: a database made by that
//! penlab holds exactly what its SQL made (a test builds a version-1
//! database from the version-1 SQL written out by hand and opens it). To
//! change the schema, append a migration.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// `PRAGMA application_id` of a penlab history database: "PnLb".
pub const APPLICATION_ID: i32 = 0x506e_4c62;

/// One step of the schema's history.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The `user_version` a database has after it.
    pub version: i32,
    /// What it changes, in words.
    pub summary: &'static str,
    /// The SQL, run in the migration's transaction.
    pub sql: &'static str,
}

/// Every migration, oldest first; a migration's version is its place in
/// the list, from 1.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        summary: "runs, devices, test verdicts and measurements with their limits",
        sql: r#"
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    firmware TEXT NOT NULL,
    serial TEXT NOT NULL,
    protocol TEXT NOT NULL,
    UNIQUE (model, firmware, serial, protocol)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_unix_ms INTEGER NOT NULL,
    recorded_unix_ms INTEGER NOT NULL,
    tool TEXT NOT NULL,
    target TEXT NOT NULL,
    partition TEXT,
    device_id INTEGER REFERENCES devices (id),
    passed INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    exit_code INTEGER NOT NULL
);
CREATE INDEX runs_by_device ON runs (device_id, started_unix_ms);
CREATE TABLE tests (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    suite TEXT NOT NULL,
    test_id TEXT NOT NULL,
    title TEXT NOT NULL,
    requirements TEXT NOT NULL,
    verdict TEXT NOT NULL,
    message TEXT,
    duration_ms REAL NOT NULL
);
CREATE INDEX tests_by_run ON tests (run_id, suite, test_id);
CREATE TABLE measurements (
    id INTEGER PRIMARY KEY,
    test_row INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    unit TEXT NOT NULL,
    nominal REAL,
    abs_tol REAL,
    rel_tol REAL,
    min REAL,
    max REAL,
    limit_text TEXT NOT NULL,
    limit_json TEXT NOT NULL,
    verdict TEXT NOT NULL
);
CREATE INDEX measurements_by_test ON measurements (test_row);
"#,
    },
    Migration {
        version: 2,
        summary: "a run's operator and count of marginal tests, and the SHA-256 of its scenario files",
        sql: r#"
ALTER TABLE runs ADD COLUMN operator TEXT;
ALTER TABLE runs ADD COLUMN marginal INTEGER NOT NULL DEFAULT 0;
CREATE TABLE scenario_files (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    PRIMARY KEY (run_id, path)
);
"#,
    },
    Migration {
        version: 3,
        summary: "flaky tests: passed only on a retry (`penlab test --retries`)",
        sql: r#"
ALTER TABLE tests ADD COLUMN flaky INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN flaky INTEGER NOT NULL DEFAULT 0;
"#,
    },
    Migration {
        version: 4,
        summary: "trainee sessions scored against a rubric (`penlab sim --headless --db`), with their per-skill scores",
        sql: r#"
CREATE TABLE trainee_sessions (
    id INTEGER PRIMARY KEY,
    started_unix_ms INTEGER NOT NULL,
    recorded_unix_ms INTEGER NOT NULL,
    software TEXT NOT NULL,
    trainee TEXT NOT NULL CHECK (length(trim(trainee)) > 0),
    trainer TEXT,
    device TEXT,
    rubric TEXT NOT NULL,
    rubric_sha256 TEXT NOT NULL CHECK (length(rubric_sha256) = 64),
    consecutive_passes INTEGER NOT NULL CHECK (consecutive_passes >= 1),
    pass_mark REAL NOT NULL,
    total REAL NOT NULL CHECK (total BETWEEN 0 AND 100),
    passed INTEGER NOT NULL,
    surface TEXT NOT NULL,
    tool TEXT NOT NULL,
    duration_s REAL NOT NULL,
    punctures INTEGER NOT NULL,
    script_path TEXT NOT NULL,
    script_sha256 TEXT NOT NULL CHECK (length(script_sha256) = 64)
);
CREATE INDEX trainee_sessions_by_trainee ON trainee_sessions (trainee, started_unix_ms);
CREATE TABLE trainee_skills (
    session_id INTEGER NOT NULL REFERENCES trainee_sessions (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    skill TEXT NOT NULL,
    value REAL,
    unit TEXT NOT NULL,
    target REAL NOT NULL,
    range_min REAL NOT NULL,
    range_max REAL NOT NULL,
    weight REAL NOT NULL,
    score REAL NOT NULL CHECK (score BETWEEN 0 AND 100),
    in_range INTEGER NOT NULL,
    PRIMARY KEY (session_id, skill)
);
"#,
    },
];

/// The schema version this penlab writes: the last migration's.
pub const CURRENT_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings a penlab (or empty) database up to [`CURRENT_VERSION`], each
/// migration in one transaction with its `user_version`. The version is
/// read again inside the write lock, so two processes opening one new file
/// at once migrate it once.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let Some(next) = MIGRATIONS.iter().find(|m| m.version == version + 1) else {
            return Ok(());
        };
        if version == 0 {
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        tx.execute_batch(next.sql)?;
        tx.pragma_update(None, "user_version", next.version)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "{}", m.summary);
        }
    }

    #[test]
    fn an_empty_database_gets_every_migration_and_the_id() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let version: i32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        let id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        assert_eq!((version, id), (CURRENT_VERSION, APPLICATION_ID));
        // Migrating again changes nothing.
        migrate(&mut conn).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 7);
    }
}
