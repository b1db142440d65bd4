//! `penlab test --db` and `penlab history` end to end: two runs on a mock,
//! the second with a planted bug, recorded in one history; the list by
//! serial and firmware; the diff names what the bug changed, with exit
//! codes CI can use; a file that is not a history is refused before any
//! test runs and left as it was.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{penlab, penlab_command, scratch};

fn suite(name: &str) -> String {
    format!("{}/harness/conformance/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `penlab test --mock skinpen-like --db DB --json JSON accuracy.toml`,
/// with `extra` arguments; returns the exit code, stdout and the JSON
/// record.
fn recorded_run(db: &Path, json: &Path, extra: &[&str]) -> (i32, String, serde_json::Value) {
    let mut args = vec![
        "test",
        "--mock",
        "skinpen-like",
        "--db",
        db.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let accuracy = suite("accuracy.toml");
    args.push(&accuracy);
    let (code, out, err) = penlab(&args);
    let record = serde_json::from_str(&std::fs::read_to_string(json).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, out, record)
}

/// `suite::id` → outcome, from a JSON record.
fn outcomes(record: &serde_json::Value) -> Vec<(String, String)> {
    record["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}::{}",
                    t["suite"].as_str().unwrap(),
                    t["id"].as_str().unwrap()
                ),
                t["outcome"]["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn two_runs_are_listed_and_the_diff_names_what_the_bug_changed() {
    let dir = scratch("history-two-runs");
    let db = dir.join("history.sqlite");
    let (code, out, clean) = recorded_run(&db, &dir.join("clean.json"), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("history: run 1 recorded in"), "{out}");
    let (code, out, buggy) = recorded_run(
        &db,
        &dir.join("buggy.json"),
        &["--bug", "depth-off-by-one-step", "--operator", "A. Tester"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("history: run 2 recorded in"), "{out}");

    // The list, as JSON: both runs, the pen's serial and firmware, counts.
    let db_arg = db.to_str().unwrap();
    let (code, out, err) = penlab(&["history", "--db", db_arg, "--json"]);
    assert_eq!(code, 0, "{err}");
    let runs: serde_json::Value = serde_json::from_str(&out).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{out}");
    let serial = clean["device"]["serial"].as_str().unwrap();
    let firmware = clean["device"]["firmware"].as_str().unwrap();
    for (run, record) in runs.iter().zip([&clean, &buggy]) {
        assert_eq!(run["device"]["serial"], serial);
        assert_eq!(run["device"]["firmware"], firmware);
        assert_eq!(run["counts"]["passed"], record["totals"]["passed"]);
        assert_eq!(run["counts"]["failed"], record["totals"]["failed"]);
        assert_eq!(run["started_unix_ms"], record["started_unix_ms"]);
    }
    assert_eq!(runs[0]["operator"], serde_json::Value::Null);
    assert_eq!(runs[1]["operator"], "A. Tester");

    // The table, filtered by serial and by firmware.
    let (code, out, _) = penlab(&["history", "--db", db_arg, "--serial", serial]);
    assert_eq!(code, 0);
    assert!(out.starts_with("RUN  STARTED"), "{out}");
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert!(
        rows.iter()
            .all(|r| r.contains(serial) && r.contains(firmware)),
        "{out}"
    );
    let (code, out, _) = penlab(&["history", "--db", db_arg, "--firmware", "0.0.0-none"]);
    assert_eq!(code, 0);
    assert!(out.contains("no runs in"), "{out}");

    // The diff: exactly the tests whose outcome the records say changed.
    let before: std::collections::BTreeMap<_, _> = outcomes(&clean).into_iter().collect();
    let expected: BTreeSet<String> = outcomes(&buggy)
        .into_iter()
        .filter(|(test, outcome)| before.get(test) != Some(outcome))
        .map(|(test, outcome)| format!("{test}: {} → {outcome}", before[&test]))
        .collect();
    assert!(
        expected
            .iter()
            .any(|c| c.contains("depth-accuracy") && c.ends_with("passed → failed")),
        "{expected:?}"
    );
    let (code, out, err) = penlab(&["history", "--db", db_arg, "diff", "1", "2"]);
    assert_eq!(code, 1, "{out}{err}");
    let shown: BTreeSet<String> = out
        .lines()
        .skip_while(|l| *l != "verdicts changed:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_owned())
        .collect();
    assert_eq!(shown, expected, "{out}");
    // A depth one step deep moved by more than its ± 50 µm.
    assert!(
        out.lines().any(|l| l.contains("depth-accuracy")
            && l.contains("depth: ")
            && l.contains("tolerance 50;")
            && l.contains("pass → fail")),
        "{out}"
    );

    let (code, out, _) = penlab(&["history", "--db", db_arg, "diff", "2", "2", "--json"]);
    assert_eq!(code, 0, "{out}");
    let same: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(same["same"], true);
    assert_eq!(same["verdicts"].as_array().unwrap().len(), 0);

    let (code, _, err) = penlab(&["history", "--db", db_arg, "diff", "1", "9"]);
    assert_eq!(code, 2);
    assert!(err.contains("no run 9 in the history"), "{err}");
}

#[test]
fn a_file_that_is_not_a_history_is_refused_before_any_test_and_kept() {
    let dir = scratch("history-foreign");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "needles: 12 boxes\n").unwrap();
    // Through PENLAB_DB, as a CI job would set it.
    let out = penlab_command()
        .args(["test", "--mock", "skinpen-like", &suite("commands.toml")])
        .env("PENLAB_DB", &notes)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("not an SQLite database") && stderr.contains("left it as it is"),
        "{stderr}"
    );
    assert!(!stdout.contains("PASS"), "a test ran: {stdout}");
    let (code, _, err) = penlab(&["history", "--db", notes.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&notes).unwrap(), b"needles: 12 boxes\n");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "a file was left beside it"
    );
}

#[test]
fn history_says_which_database_it_needs() {
    let out = penlab_command()
        .arg("history")
        .env_remove("PENLAB_DB")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--db FILE or PENLAB_DB"));
    let dir = scratch("history-absent");
    let absent = dir.join("none.sqlite");
    let (code, _, err) = penlab(&["history", "--db", absent.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no such history"), "{err}");
    assert!(!absent.exists(), "listing made a database");
}
