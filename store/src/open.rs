//! Opening a history database: what is at the path is looked at, read
//! only, before anything is written. A new or empty file becomes a
//! history; a penlab history is migrated; anything else is refused and left
//! byte for byte as it was.

use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;
use crate::schema::{APPLICATION_ID, CURRENT_VERSION};

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// What is at a path about to be opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing, or an empty file: a history can be made there.
    Nothing,
    /// A penlab history at this schema version (at most the current one).
    History(i32),
}

/// Looks at `path` without writing to it.
pub(crate) fn inspect(path: &Path) -> Result<Found, StoreError> {
    inspect_knowing(path, CURRENT_VERSION)
}

/// Looks at `path` as a penlab that knows schema versions up to `known`
/// would (tests use it to be a penlab of an older version).
fn inspect_knowing(path: &Path, known: i32) -> Result<Found, StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(io(e)),
    };
    if meta.is_dir() {
        return Err(StoreError::NotSqlite {
            path: path.to_owned(),
            what: "a directory".into(),
        });
    }
    if meta.len() == 0 {
        return Ok(Found::Nothing);
    }
    let mut head = Vec::with_capacity(100);
    std::fs::File::open(path)
        .and_then(|f| f.take(100).read_to_end(&mut head))
        .map_err(io)?;
    if !head.starts_with(SQLITE_MAGIC) || head.len() < 100 {
        let shown: String = String::from_utf8_lossy(&head[..head.len().min(16)])
            .chars()
            .map(|c| if c.is_control() { '.' } else { c })
            .collect();
        return Err(StoreError::NotSqlite {
            path: path.to_owned(),
            what: format!("{} bytes starting {shown:?}", meta.len()),
        });
    }
    let damaged = |e| StoreError::opening(path, e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(damaged)?;
    let pragma = |name: &str| conn.pragma_query_value(None, name, |r| r.get::<_, i32>(0));
    let app_id = pragma("application_id").map_err(damaged)?;
    let version = pragma("user_version").map_err(damaged)?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(damaged)?;
    // A damaged page beyond the schema shows only when it is read.
    let check: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(damaged)?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            detail: check,
        });
    }
    let foreign = |what: String| StoreError::Foreign {
        path: path.to_owned(),
        what,
    };
    match app_id {
        APPLICATION_ID if version > known => Err(StoreError::Newer {
            path: path.to_owned(),
            found: version,
            known,
        }),
        APPLICATION_ID if version >= 1 => Ok(Found::History(version)),
        0 if version == 0 && tables.is_empty() => Ok(Found::Nothing),
        0 if tables.is_empty() => Err(foreign(format!("user_version {version}, no tables"))),
        0 => Err(foreign(format!("its tables: {}", tables.join(", ")))),
        other => Err(foreign(format!("application_id {:#010x}", other as u32))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_and_an_empty_file_are_nothing() {
        let dir = std::env::temp_dir().join(format!("penlab-store-inspect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(inspect(&dir.join("absent.sqlite")).unwrap(), Found::Nothing);
        let empty = dir.join("empty.sqlite");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(inspect(&empty).unwrap(), Found::Nothing);
        assert!(matches!(
            inspect(&dir),
            Err(StoreError::NotSqlite { what, .. }) if what == "a directory"
        ));
        let short = dir.join("short.sqlite");
        std::fs::write(&short, b"SQLite format 3\0").unwrap();
        assert!(matches!(inspect(&short), Err(StoreError::NotSqlite { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_penlab_that_knows_version_3_refuses_a_history_with_trainee_sessions() {
        let dir = std::env::temp_dir().join(format!("penlab-store-older-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.sqlite");
        let _ = std::fs::remove_file(&path);
        drop(crate::Store::open(&path).unwrap());
        assert_eq!(inspect(&path).unwrap(), Found::History(CURRENT_VERSION));
        let before = std::fs::read(&path).unwrap();
        let err = inspect_knowing(&path, 3).unwrap_err();
        assert!(
            matches!(err, StoreError::Newer { found, known: 3, .. } if found == CURRENT_VERSION),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade penlab"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "left as it was");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
