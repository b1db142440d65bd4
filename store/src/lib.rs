//! Run history for penlab: every conformance run in an SQLite database
//! (`rusqlite`, SQLite bundled), to ask what changed between two firmware
//! versions, and every recorded trainee session, to follow a trainee's
//! progress toward certification.
//!
//! A history holds, per run: when, the tool's version, the operator if
//! known, the result counts and exit code, the device (model, firmware,
//! serial), every test's verdict, every measurement with its limit and
//! verdict, and the SHA-256 of every scenario file.
//!
//! * [`schema`]: the migrations, `PRAGMA user_version` and
//!   `PRAGMA application_id`.
//! * [`Store::open`]: looks before it writes; another program's file, a
//!   damaged one or a newer penlab's is refused with a clear error and left
//!   byte for byte as it was.
//! * [`record`]: what is stored, as plain data (the `penlab` binary
//!   converts the harness's run report into a [`RunRecord`]).
//! * [`diff`]: verdicts that changed and measurements that moved by more
//!   than their tolerance.
//! * [`trainee`]: simulator sessions of trainees scored against a rubric
//!   (schema version 4), and [`trainee::progress`]: per-skill trends and
//!   the certification rule ("N passes in a row on one rubric") applied.

mod error;
mod open;
mod query;
mod write;

pub mod diff;
pub mod record;
pub mod schema;
pub mod trainee;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use diff::RunDiff;
pub use error::StoreError;
pub use query::{RunFilter, RunSummary, StoredRun};
pub use record::{
    Counts, Device, LimitSpec, MeasurementRecord, RunRecord, ScenarioFile, TestVerdict,
};
pub use trainee::progress::Progress;
pub use trainee::{RubricRef, SkillResult, StoredSession, TraineeCount, TraineeSession};

/// An open history database at the current schema version.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the history at `path`, making it if there is no file there (or
    /// an empty one) and migrating one written by an older penlab. Refuses,
    /// without writing to it, a file that is not SQLite, another program's
    /// SQLite database, a damaged one, or one from a newer penlab.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        open::inspect(path)?;
        let damaged = |e| StoreError::opening(path, e);
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(damaged)?;
        // Several `penlab test` processes may record into one history.
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(damaged)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(damaged)?;
        schema::migrate(&mut conn).map_err(|e| match e {
            StoreError::Sqlite(e) => StoreError::opening(path, e),
            other => other,
        })?;
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Records a run, whole or not at all; returns its id.
    pub fn record(&mut self, run: &RunRecord) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        let id = write::insert_run(&tx, run)?;
        tx.commit()?;
        Ok(id)
    }

    /// The runs `filter` selects, oldest first.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
        query::list(&self.conn, filter)
    }

    /// Run `id`, with its tests, measurements and scenario files.
    pub fn run(&self, id: i64) -> Result<StoredRun, StoreError> {
        query::load(&self.conn, id)
    }

    /// What changed from run `a` to run `b`.
    pub fn diff(&self, a: i64, b: i64) -> Result<RunDiff, StoreError> {
        Ok(diff::diff(&self.run(a)?.run, &self.run(b)?.run))
    }

    /// Records a trainee's session with its skills, whole or not at all;
    /// returns its id. A session with an empty trainee name, a score
    /// outside 0–100 or a malformed hash is refused
    /// ([`StoreError::InvalidSession`]).
    pub fn record_session(&mut self, session: &TraineeSession) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        let id = trainee::insert_session(&tx, session)?;
        tx.commit()?;
        Ok(id)
    }

    /// Every trainee with sessions, by name.
    pub fn trainees(&self) -> Result<Vec<TraineeCount>, StoreError> {
        trainee::trainees(&self.conn)
    }

    /// `name`'s sessions (the name exactly as recorded), oldest first;
    /// none for a name never recorded.
    pub fn sessions_of(&self, name: &str) -> Result<Vec<StoredSession>, StoreError> {
        trainee::sessions_of(&self.conn, name)
    }

    /// `name`'s progress; `rule` replaces every rubric's passes-in-a-row
    /// rule. A name with no sessions is [`StoreError::UnknownTrainee`],
    /// which lists the names recorded.
    pub fn progress(&self, name: &str, rule: Option<u32>) -> Result<Progress, StoreError> {
        let sessions = self.sessions_of(name)?;
        if sessions.is_empty() {
            let known = self.trainees()?.into_iter().map(|t| t.trainee).collect();
            return Err(StoreError::UnknownTrainee {
                name: name.to_owned(),
                known,
            });
        }
        Ok(trainee::progress::progress(name, &sessions, rule))
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
