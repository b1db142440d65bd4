//! Opening history files as a user's disk has them: new, written by an
//! older penlab (schema version 1, made here by its SQL), and the files
//! penlab must refuse and leave exactly as they were.

use std::path::PathBuf;

use penlab_store::schema::{APPLICATION_ID, CURRENT_VERSION};
use penlab_store::{
    Counts, Device, LimitSpec, MeasurementRecord, RunFilter, RunRecord, ScenarioFile, Store,
    StoreError, TestVerdict,
};
use rusqlite::Connection;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(firmware: &str, depth: f64, verdict: &str) -> RunRecord {
    RunRecord {
        started_unix_ms: 1_763_700_000_000,
        tool: "penlab 0.1.0".into(),
        target: "mock:skinpen-like".into(),
        partition: None,
        operator: Some("a.tester".into()),
        device: Some(Device {
            model: "penlab-mock-14".into(),
            firmware: firmware.into(),
            serial: "PL14-000123".into(),
            protocol: "1.0".into(),
        }),
        counts: Counts {
            passed: 1,
            ..Counts::default()
        },
        exit_code: 0,
        tests: vec![TestVerdict {
            suite: "accuracy".into(),
            id: "depth-accuracy[depth=1000]".into(),
            title: "Depth within ±50 µm".into(),
            requirements: vec!["21 CFR 878.4430(b)(2)(i)".into()],
            verdict: verdict.into(),
            flaky: false,
            message: None,
            duration_ms: 350.0,
            measurements: vec![MeasurementRecord {
                name: "strike_depth_um".into(),
                value: depth,
                unit: "um".into(),
                limit: LimitSpec {
                    nominal: Some(1000.0),
                    abs: Some(50.0),
                    text: "1000 um ± 50 um".into(),
                    json: serde_json::json!({"nominal": 1000.0, "abs": 50.0}),
                    ..LimitSpec::default()
                },
                verdict: if verdict == "passed" { "pass" } else { "fail" }.into(),
            }],
        }],
        scenario_files: vec![ScenarioFile {
            path: "harness/conformance/accuracy.toml".into(),
            sha256: "ab".repeat(32),
        }],
    }
}

#[test]
fn a_new_history_keeps_whole_runs() {
    let dir = scratch("new");
    let path = dir.join("history.sqlite");
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), CURRENT_VERSION);
    let a = store.record(&run("1.4.2", 1010.0, "passed")).unwrap();
    let b = store.record(&run("1.4.3", 1250.0, "failed")).unwrap();
    drop(store);
    // Reopened: the runs are there, as recorded.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.run(a).unwrap().run, run("1.4.2", 1010.0, "passed"));
    let by_firmware = store
        .runs(&RunFilter {
            firmware: Some("1.4.3".into()),
            ..RunFilter::default()
        })
        .unwrap();
    assert_eq!(by_firmware.iter().map(|r| r.id).collect::<Vec<_>>(), [b]);
    let by_serial = store
        .runs(&RunFilter {
            serial: Some("PL14-000123".into()),
            ..RunFilter::default()
        })
        .unwrap();
    assert_eq!(by_serial.len(), 2);
    let d = store.diff(a, b).unwrap();
    assert_eq!(d.verdicts.len(), 1);
    assert_eq!(d.moved.len(), 1);
    assert!(matches!(store.run(99), Err(StoreError::UnknownRun(99))));
    // Not a number goes in and comes out as NaN.
    drop(store);
    let mut store = Store::open(&path).unwrap();
    let nan = store.record(&run("1.4.3", f64::NAN, "failed")).unwrap();
    assert!(
        store.run(nan).unwrap().run.tests[0].measurements[0]
            .value
            .is_nan()
    );
    // Two scenario files of one name in two folders give one suite::id
    // twice; a flaky test is kept as such.
    let mut twice = run("1.4.2", 1010.0, "passed");
    twice.tests.push(twice.tests[0].clone());
    twice.tests[1].flaky = true;
    twice.counts.flaky = 1;
    let id = store.record(&twice).unwrap();
    assert_eq!(store.run(id).unwrap().run, twice);
}

/// Version 1's schema, written out as penlab 0.1's first history had it;
/// never derived from the migration table, so that editing a released
/// migration fails this test.
const V1_SQL: &str = r#"
PRAGMA application_id = 1349405794;
CREATE TABLE devices (id INTEGER PRIMARY KEY, model TEXT NOT NULL, firmware TEXT NOT NULL,
    serial TEXT NOT NULL, protocol TEXT NOT NULL, UNIQUE (model, firmware, serial, protocol));
CREATE TABLE runs (id INTEGER PRIMARY KEY, started_unix_ms INTEGER NOT NULL,
    recorded_unix_ms INTEGER NOT NULL, tool TEXT NOT NULL, target TEXT NOT NULL, partition TEXT,
    device_id INTEGER REFERENCES devices (id), passed INTEGER NOT NULL, failed INTEGER NOT NULL,
    skipped INTEGER NOT NULL, errors INTEGER NOT NULL, exit_code INTEGER NOT NULL);
CREATE INDEX runs_by_device ON runs (device_id, started_unix_ms);
CREATE TABLE tests (id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, position INTEGER NOT NULL,
    suite TEXT NOT NULL, test_id TEXT NOT NULL, title TEXT NOT NULL, requirements TEXT NOT NULL,
    verdict TEXT NOT NULL, message TEXT, duration_ms REAL NOT NULL);
CREATE INDEX tests_by_run ON tests (run_id, suite, test_id);
CREATE TABLE measurements (id INTEGER PRIMARY KEY,
    test_row INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE, position INTEGER NOT NULL,
    name TEXT NOT NULL, value REAL, unit TEXT NOT NULL, nominal REAL, abs_tol REAL, rel_tol REAL,
    min REAL, max REAL, limit_text TEXT NOT NULL, limit_json TEXT NOT NULL, verdict TEXT NOT NULL);
CREATE INDEX measurements_by_test ON measurements (test_row);
PRAGMA user_version = 1;
INSERT INTO devices VALUES (1, 'penlab-mock-14', '1.4.1', 'PL14-000123', '1.0');
INSERT INTO runs VALUES (1, 1763600000000, 1763600001000, 'penlab 0.1.0', 'mock:skinpen-like',
    NULL, 1, 1, 0, 0, 0, 0);
INSERT INTO tests VALUES (1, 1, 0, 'accuracy', 'depth-accuracy[depth=1000]', 'Depth within ±50 µm',
    '["21 CFR 878.4430(b)(2)(i)"]', 'passed', NULL, 350.0);
INSERT INTO measurements VALUES (1, 1, 0, 'strike_depth_um', 1005.0, 'um', 1000.0, 50.0, NULL,
    NULL, NULL, '1000 um ± 50 um', '{"nominal":1000.0,"abs":50.0}', 'pass');
"#;

#[test]
fn a_version_1_history_is_migrated_and_keeps_its_runs() {
    assert_eq!(APPLICATION_ID, 1_349_405_794, "V1_SQL's application_id");
    let dir = scratch("v1");
    let path = dir.join("old.sqlite");
    Connection::open(&path)
        .unwrap()
        .execute_batch(V1_SQL)
        .unwrap();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), CURRENT_VERSION);
    let old = store.run(1).unwrap();
    assert_eq!(old.run.device.as_ref().unwrap().firmware, "1.4.1");
    assert_eq!(old.run.operator, None, "version 1 had no operator");
    assert!(old.run.scenario_files.is_empty());
    assert_eq!(old.run.tests[0].measurements[0].value, 1005.0);
    assert!(!old.run.tests[0].flaky, "version 1 knew no retries");
    // The migrated history takes new runs, with what version 2 added.
    let new = store.record(&run("1.4.2", 1010.0, "passed")).unwrap();
    let stored = store.run(new).unwrap();
    assert_eq!(stored.run.operator.as_deref(), Some("a.tester"));
    assert_eq!(stored.run.scenario_files.len(), 1);
    assert!(store.diff(1, new).unwrap().is_same());
    assert_eq!(store.runs(&RunFilter::default()).unwrap().len(), 2);
    drop(store);
    // Migrated, it has the very tables and columns of a new history.
    let fresh = dir.join("fresh.sqlite");
    drop(Store::open(&fresh).unwrap());
    assert_eq!(shape(&path), shape(&fresh));
}

/// Every table's and index's columns: name, type, NOT NULL, default, key.
fn shape(path: &std::path::Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut names: Vec<(String, String)> = conn
        .prepare(
            "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    let mut out = Vec::new();
    for (kind, name) in names {
        let pragma = if kind == "index" {
            "index_info"
        } else {
            "table_info"
        };
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM pragma_{pragma}('{name}')"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for row in rows {
            out.push(format!("{kind} {name}: {}", row.unwrap().join(" ")));
        }
    }
    out
}

/// Opens `path`, which must be refused; its bytes must not change.
fn refused(path: &std::path::Path) -> StoreError {
    let before = std::fs::read(path).unwrap();
    let err = Store::open(path).expect_err("refused");
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "{} was changed",
        path.display()
    );
    let mut siblings: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    siblings.sort();
    assert_eq!(siblings.len(), 1, "left files beside it: {siblings:?}");
    err
}

#[test]
fn a_text_file_is_refused_and_left_as_it_is() {
    let dir = scratch("text");
    let path = dir.join("notes.txt");
    std::fs::write(&path, "shopping: needles, cartridges\n").unwrap();
    let err = refused(&path);
    assert!(matches!(err, StoreError::NotSqlite { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("not an SQLite database") && text.contains("left it as it is"),
        "{text}"
    );
}

#[test]
fn another_programs_database_is_refused_and_left_as_it_is() {
    let dir = scratch("foreign");
    let path = dir.join("contacts.sqlite");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('Ada');")
        .unwrap();
    let err = refused(&path);
    assert!(
        matches!(&err, StoreError::Foreign { what, .. } if what.contains("contacts")),
        "{err}"
    );

    let dir = scratch("foreign-id");
    let path = dir.join("other.sqlite");
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA application_id = 305419896; PRAGMA user_version = 1;")
        .unwrap();
    let err = refused(&path);
    assert!(
        err.to_string().contains("application_id 0x12345678"),
        "{err}"
    );
}

#[test]
fn a_newer_penlabs_history_is_refused_and_left_as_it_is() {
    let dir = scratch("newer");
    let path = dir.join("history.sqlite");
    let mut store = Store::open(&path).unwrap();
    store.record(&run("1.4.2", 1010.0, "passed")).unwrap();
    drop(store);
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", CURRENT_VERSION + 1)
        .unwrap();
    let err = refused(&path);
    assert!(
        matches!(err, StoreError::Newer { found, .. } if found == CURRENT_VERSION + 1),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade penlab"), "{err}");
}

#[test]
fn a_damaged_history_is_refused_and_left_as_it_is() {
    let dir = scratch("damaged");
    let path = dir.join("history.sqlite");
    let mut store = Store::open(&path).unwrap();
    store.record(&run("1.4.2", 1010.0, "passed")).unwrap();
    drop(store);
    // Keep the header, scramble the rest of page 1 (the schema).
    let mut bytes = std::fs::read(&path).unwrap();
    for (i, b) in bytes[100..4096].iter_mut().enumerate() {
        *b = (i * 131 % 251) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = refused(&path);
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("damaged"), "{err}");
}

#[test]
fn several_processes_can_make_and_fill_one_history_at_once() {
    let dir = scratch("concurrent");
    let path = dir.join("history.sqlite");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                // Each its own connection, as separate `penlab test`s are.
                let mut store = Store::open(&path).unwrap();
                for _ in 0..10 {
                    store.record(&run("1.4.2", 1010.0, "passed")).unwrap();
                }
            });
        }
    });
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), CURRENT_VERSION);
    assert_eq!(store.runs(&RunFilter::default()).unwrap().len(), 40);
}

#[test]
fn a_history_that_cannot_be_made_names_the_file() {
    let dir = scratch("no-dir");
    let path = dir.join("missing-dir").join("history.sqlite");
    let err = Store::open(&path).expect_err("no such directory");
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(
        err.to_string().contains("missing-dir/history.sqlite"),
        "{err}"
    );
}
