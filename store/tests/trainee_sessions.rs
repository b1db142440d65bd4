//! Trainee sessions in a history (schema version 4): recorded whole, read
//! back as recorded, refused when malformed; a version-3 history (made here
//! by its SQL written out by hand) is migrated with its runs kept; progress
//! and certification over what is stored.

use std::path::PathBuf;

use penlab_store::schema::CURRENT_VERSION;
use penlab_store::trainee::progress::{RuleSource, Status};
use penlab_store::{
    RubricRef, RunFilter, ScenarioFile, SkillResult, Store, StoreError, TraineeSession,
};
use rusqlite::Connection;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "penlab-store-trainee-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn session(
    trainee: &str,
    rubric: &str,
    started: u64,
    coverage: f64,
    passed: bool,
) -> TraineeSession {
    TraineeSession {
        started_unix_ms: started,
        software: "penlab 0.1.0".into(),
        trainee: trainee.into(),
        trainer: Some("Dr Lee".into()),
        device: Some("SkinPen-like #3".into()),
        rubric: RubricRef {
            name: rubric.into(),
            sha256: if rubric == "certification" { "c" } else { "b" }.repeat(64),
            consecutive_passes: 2,
            pass_mark: 80.0,
        },
        surface: "flat-pad".into(),
        tool: "pen-14".into(),
        total: if passed { 85.0 } else { 55.0 },
        passed,
        duration_s: 42.5,
        punctures: 31_000,
        script: ScenarioFile {
            path: "simulator/scripts/crosshatch-pad.toml".into(),
            sha256: "d".repeat(64),
        },
        skills: vec![
            SkillResult {
                skill: "coverage".into(),
                value: coverage,
                unit: "%".into(),
                target: 95.0,
                range: [80.0, 100.0],
                weight: 3.0,
                score: coverage.min(100.0),
                in_range: coverage >= 80.0,
            },
            SkillResult {
                skill: "evenness".into(),
                value: f64::NAN,
                unit: "CV".into(),
                target: 0.03,
                range: [0.0, 0.2],
                weight: 2.0,
                score: 0.0,
                in_range: false,
            },
        ],
    }
}

#[test]
fn sessions_come_back_as_recorded_and_bad_ones_are_refused() {
    let dir = scratch("roundtrip");
    let path = dir.join("history.sqlite");
    let mut store = Store::open(&path).unwrap();
    let a = session("Ann", "certification", 1_000, 70.0, false);
    let b = session("Ann", "certification", 2_000, 90.0, true);
    let id_b = store.record_session(&b).unwrap();
    let id_a = store.record_session(&a).unwrap();
    store
        .record_session(&session("Bo", "beginner", 1_500, 60.0, true))
        .unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    let back = store.sessions_of("Ann").unwrap();
    // Oldest first by when they were run, not by when recorded.
    assert_eq!(back.iter().map(|s| s.id).collect::<Vec<_>>(), [id_a, id_b]);
    let mut read = back[1].session.clone();
    assert!(read.skills[1].value.is_nan(), "NaN in, NaN out");
    read.skills[1].value = 0.0;
    let mut want = b.clone();
    want.skills[1].value = 0.0;
    assert_eq!(read, want);
    assert!(
        store.sessions_of("ann").unwrap().is_empty(),
        "names are exact"
    );
    let names: Vec<_> = store
        .trainees()
        .unwrap()
        .into_iter()
        .map(|t| (t.trainee, t.sessions))
        .collect();
    assert_eq!(names, [("Ann".to_owned(), 2), ("Bo".to_owned(), 1)]);

    let mut store = Store::open(&path).unwrap();
    let refused = |s: TraineeSession, says: &str, store: &mut Store| {
        let err = store.record_session(&s).unwrap_err();
        assert!(matches!(err, StoreError::InvalidSession(_)), "{err}");
        assert!(err.to_string().contains(says), "{err}");
    };
    refused(
        session("  ", "beginner", 1, 60.0, true),
        "name is empty",
        &mut store,
    );
    let mut s = session("Ann", "beginner", 1, 60.0, true);
    s.total = 130.0;
    refused(s, "total 130", &mut store);
    let mut s = session("Ann", "beginner", 1, 60.0, true);
    s.skills[0].score = -1.0;
    refused(s, "coverage scores -1", &mut store);
    let mut s = session("Ann", "beginner", 1, 60.0, true);
    s.script.sha256 = "xyz".into();
    refused(s, "script hash", &mut store);
    let mut s = session("Ann", "beginner", 1, 60.0, true);
    s.skills.push(s.skills[0].clone());
    refused(s, "coverage is scored twice", &mut store);
    // Nothing of a refused session was kept.
    assert_eq!(store.sessions_of("Ann").unwrap().len(), 2);
}

#[test]
fn progress_counts_passes_in_a_row_on_one_rubric_only() {
    let dir = scratch("progress");
    let mut store = Store::open(&dir.join("history.sqlite")).unwrap();
    // pass, (another rubric: pass), fail, pass, pass.
    for (i, (rubric, coverage, passed)) in [
        ("certification", 82.0, true),
        ("beginner", 75.0, true),
        ("certification", 60.0, false),
        ("certification", 91.0, true),
        ("certification", 88.0, true),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .record_session(&session(
                "Ann",
                rubric,
                1_000 * (i as u64 + 1),
                coverage,
                passed,
            ))
            .unwrap();
    }
    let p = store.progress("Ann", None).unwrap();
    assert_eq!(p.sessions.len(), 5);
    let attempts: Vec<(&str, u32)> = p
        .sessions
        .iter()
        .map(|s| (s.rubric.as_str(), s.attempt))
        .collect();
    assert_eq!(
        attempts,
        [
            ("certification", 1),
            ("beginner", 1),
            ("certification", 2),
            ("certification", 3),
            ("certification", 4)
        ]
    );
    let cert = &p.rubrics[0];
    assert_eq!(
        (cert.rubric.as_str(), cert.attempts, cert.passes),
        ("certification", 4, 3)
    );
    assert_eq!(cert.rule.consecutive_passes, 2);
    assert_eq!(cert.rule.from, RuleSource::Rubric);
    assert!(
        matches!(
            cert.certification,
            Status::Certified {
                attempt: 4,
                first_attempt: 3,
                started_unix_ms: 5_000,
                ..
            }
        ),
        "{:?}",
        cert.certification
    );
    let coverage = &cert.skills[0];
    assert_eq!(coverage.skill, "coverage");
    assert_eq!((coverage.first.score, coverage.latest.score), (82.0, 88.0));
    assert_eq!((coverage.best.score, coverage.best.attempt), (91.0, 3));
    // The beginner pass is one pass: not two in a row.
    assert_eq!(
        p.rubrics[1].certification,
        Status::NotCertified {
            passes_in_a_row: 1,
            more_needed: 1
        }
    );
    assert_eq!(p.certified().count(), 1);
    // Three in a row, asked for here: not yet.
    let strict = store.progress("Ann", Some(3)).unwrap();
    assert_eq!(strict.rubrics[0].rule.from, RuleSource::Override);
    assert_eq!(
        strict.rubrics[0].certification,
        Status::NotCertified {
            passes_in_a_row: 2,
            more_needed: 1
        }
    );

    // An edited rubric (same name, other text) starts a new count.
    let mut edited = session("Ann", "certification", 6_000, 90.0, true);
    edited.rubric.sha256 = "e".repeat(64);
    store.record_session(&edited).unwrap();
    let p = store.progress("Ann", None).unwrap();
    assert_eq!(p.rubrics.len(), 3);
    assert_eq!(p.rubrics[2].attempts, 1);
    assert_eq!(p.sessions[5].attempt, 1);
}

#[test]
fn an_unknown_trainee_is_a_clear_error() {
    let dir = scratch("unknown");
    let mut store = Store::open(&dir.join("history.sqlite")).unwrap();
    let err = store.progress("Ann", None).unwrap_err();
    assert!(err.to_string().contains("none of any trainee"), "{err}");
    store
        .record_session(&session("Ann Lee", "beginner", 1, 60.0, true))
        .unwrap();
    let err = store.progress("ann lee", None).unwrap_err();
    assert!(matches!(err, StoreError::UnknownTrainee { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("no sessions of trainee \"ann lee\"")
            && text.contains("did you mean \"Ann Lee\"")
            && text.contains("trainees recorded: \"Ann Lee\""),
        "{text}"
    );
}

/// Version 3's schema and a run in it, written out as penlab had them
/// before trainee sessions; never derived from the migration table.
const V3_SQL: &str = r#"
PRAGMA application_id = 1349405794;
CREATE TABLE devices (id INTEGER PRIMARY KEY, model TEXT NOT NULL, firmware TEXT NOT NULL,
    serial TEXT NOT NULL, protocol TEXT NOT NULL, UNIQUE (model, firmware, serial, protocol));
CREATE TABLE runs (id INTEGER PRIMARY KEY, started_unix_ms INTEGER NOT NULL,
    recorded_unix_ms INTEGER NOT NULL, tool TEXT NOT NULL, target TEXT NOT NULL, partition TEXT,
    device_id INTEGER REFERENCES devices (id), passed INTEGER NOT NULL, failed INTEGER NOT NULL,
    skipped INTEGER NOT NULL, errors INTEGER NOT NULL, exit_code INTEGER NOT NULL,
    operator TEXT, marginal INTEGER NOT NULL DEFAULT 0, flaky INTEGER NOT NULL DEFAULT 0);
CREATE INDEX runs_by_device ON runs (device_id, started_unix_ms);
CREATE TABLE tests (id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, position INTEGER NOT NULL,
    suite TEXT NOT NULL, test_id TEXT NOT NULL, title TEXT NOT NULL, requirements TEXT NOT NULL,
    verdict TEXT NOT NULL, message TEXT, duration_ms REAL NOT NULL,
    flaky INTEGER NOT NULL DEFAULT 0);
CREATE INDEX tests_by_run ON tests (run_id, suite, test_id);
CREATE TABLE measurements (id INTEGER PRIMARY KEY,
    test_row INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE, position INTEGER NOT NULL,
    name TEXT NOT NULL, value REAL, unit TEXT NOT NULL, nominal REAL, abs_tol REAL, rel_tol REAL,
    min REAL, max REAL, limit_text TEXT NOT NULL, limit_json TEXT NOT NULL, verdict TEXT NOT NULL);
CREATE INDEX measurements_by_test ON measurements (test_row);
CREATE TABLE scenario_files (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, path TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64), PRIMARY KEY (run_id, path));
PRAGMA user_version = 3;
INSERT INTO devices VALUES (1, 'penlab-mock-14', '1.4.2', 'PL14-000123', '1.0');
INSERT INTO runs VALUES (1, 1763600000000, 1763600001000, 'penlab 0.1.0', 'mock:skinpen-like',
    NULL, 1, 1, 0, 0, 0, 0, 'A. Tester', 0, 1);
INSERT INTO tests VALUES (1, 1, 0, 'accuracy', 'depth-accuracy[depth=1000]', 'Depth within ±50 µm',
    '["21 CFR 878.4430(b)(2)(i)"]', 'passed', NULL, 350.0, 1);
INSERT INTO measurements VALUES (1, 1, 0, 'strike_depth_um', 1005.0, 'um', 1000.0, 50.0, NULL,
    NULL, NULL, '1000 um ± 50 um', '{"nominal":1000.0,"abs":50.0}', 'pass');
INSERT INTO scenario_files VALUES (1, 'harness/conformance/accuracy.toml',
    'abababababababababababababababababababababababababababababababab');
"#;

#[test]
fn a_version_3_history_is_migrated_keeps_its_runs_and_takes_sessions() {
    let dir = scratch("v3");
    let path = dir.join("old.sqlite");
    Connection::open(&path)
        .unwrap()
        .execute_batch(V3_SQL)
        .unwrap();
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), CURRENT_VERSION);
    let old = store.run(1).unwrap().run;
    assert_eq!(old.operator.as_deref(), Some("A. Tester"));
    assert_eq!(old.counts.flaky, 1);
    assert!(old.tests[0].flaky);
    assert_eq!(old.tests[0].measurements[0].value, 1005.0);
    assert_eq!(old.scenario_files[0].sha256, "ab".repeat(32));
    assert_eq!(store.runs(&RunFilter::default()).unwrap().len(), 1);
    assert!(store.trainees().unwrap().is_empty());
    let id = store
        .record_session(&session("Ann", "beginner", 1, 60.0, true))
        .unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.sessions_of("Ann").unwrap()[0].id, id);
    assert_eq!(store.run(1).unwrap().run, old, "the run is untouched");
    // Migrated, its trainee tables are those of a new history.
    let fresh = dir.join("fresh.sqlite");
    drop(Store::open(&fresh).unwrap());
    assert_eq!(schema_sql(&path), schema_sql(&fresh));
}

/// The CREATE statements of the trainee tables and their index.
fn schema_sql(path: &std::path::Path) -> Vec<String> {
    Connection::open(path)
        .unwrap()
        .prepare("SELECT sql FROM sqlite_schema WHERE name LIKE 'trainee%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get::<_, Option<String>>(0))
        .unwrap()
        .map(|r| r.unwrap().unwrap_or_default())
        .collect()
}
