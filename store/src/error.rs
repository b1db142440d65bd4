//! Why a history database could not be opened, read or written.

use std::path::PathBuf;

/// What went wrong with a history database. The file-level errors name the
/// file and say that it was left as it is: penlab never writes to a file
/// it did not make.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not an SQLite database at all.
    #[error("{}: not an SQLite database ({what}); penlab left it as it is", path.display())]
    NotSqlite {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        what: String,
    },
    /// An SQLite database, but another program's.
    #[error("{}: an SQLite database that is not a penlab history ({what}); penlab left it as it is", path.display())]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What gives it away (its application id, its tables).
        what: String,
    },
    /// A history written by a newer penlab, whose schema this one does not
    /// know.
    #[error(
        "{}: written by a newer penlab (schema version {found}, this penlab knows up to {known}); upgrade penlab to use it; it was left as it is",
        path.display()
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i32,
        /// The newest this penlab knows.
        known: i32,
    },
    /// The file is damaged.
    #[error("{}: the database is damaged ({detail}); penlab left it as it is", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite found.
        detail: String,
    },
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file could not be opened or migrated (no such directory, no
    /// permission to write, the disk full).
    #[error("{}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// No run has this id.
    #[error("no run {0} in the history (`penlab history` lists them)")]
    UnknownRun(i64),
    /// A stored value could not be read back (a JSON column edited by hand).
    #[error("run {run}: a stored value is unreadable: {detail}")]
    Unreadable {
        /// The run.
        run: i64,
        /// What.
        detail: String,
    },
    /// A trainee session that cannot be recorded as given.
    #[error("the session cannot be recorded: {0}")]
    InvalidSession(String),
    /// No session of this trainee is in the history.
    #[error("{}", unknown_trainee(name, known))]
    UnknownTrainee {
        /// The name asked for.
        name: String,
        /// The trainees the history has, by name.
        known: Vec<String>,
    },
    /// Any other SQLite error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

fn unknown_trainee(name: &str, known: &[String]) -> String {
    let mut text = format!("no sessions of trainee {name:?} in the history");
    if known.is_empty() {
        text += " (it has none of any trainee: `penlab sim --headless --rubric R --trainee NAME --db FILE` records them)";
        return text;
    }
    let lower = name.trim().to_lowercase();
    if let Some(close) = known.iter().find(|k| k.trim().to_lowercase() == lower) {
        text += &format!("; did you mean {close:?}?");
    }
    let shown: Vec<String> = known.iter().take(20).map(|k| format!("{k:?}")).collect();
    text += &format!("; trainees recorded: {}", shown.join(", "));
    if known.len() > shown.len() {
        text += &format!(" and {} more", known.len() - shown.len());
    }
    text
}

impl StoreError {
    /// `err` from opening `path`: damage as [`StoreError::Corrupt`], the
    /// rest as [`StoreError::Open`], both naming the file.
    pub(crate) fn opening(path: &std::path::Path, err: rusqlite::Error) -> StoreError {
        if StoreError::is_damage(&err) {
            StoreError::Corrupt {
                path: path.to_owned(),
                detail: err.to_string(),
            }
        } else {
            StoreError::Open {
                path: path.to_owned(),
                source: err,
            }
        }
    }

    /// Whether SQLite says the file is damaged or not a database.
    pub(crate) fn is_damage(err: &rusqlite::Error) -> bool {
        matches!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        )
    }
}
