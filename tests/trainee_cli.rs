//! `penlab sim --headless --db` and `penlab trainee` end to end: sessions
//! of a good script (passes the certification rubric) and a poor one
//! (fails it) recorded through the binary; two passes in a row certify,
//! pass-fail-pass does not, a pass on another rubric does not count, the
//! rule comes from the rubric file or a flag; what is stored is what the
//! session's report said; wrong uses are clear errors that run nothing.

mod common;

use std::path::Path;

use common::{penlab, penlab_command, scratch};
use penlab_store::Store;

fn good() -> String {
    format!(
        "{}/simulator/scripts/crosshatch-pad.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Lines along u only, twice the track width apart: fails certification.
fn poor(dir: &Path) -> String {
    let path = dir.join("poor.toml");
    std::fs::write(
        &path,
        "[surface]\nbuiltin = \"flat-pad\"\ngrid = 256\n[tool]\nprofile = \"pen-14\"\n\
         [settings]\nrate_hz = 117\n[[pattern]]\nkind = \"raster\"\nspeed_mm_s = 250\nspacing_mm = 6.0\n",
    )
    .unwrap();
    path.display().to_string()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `penlab sim --headless --script SCRIPT --rubric RUBRIC --trainee Ann
/// --db DB EXTRA…`; returns stdout, after checking it exited 0.
fn session(db: &Path, script: &str, rubric: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "sim",
        "--headless",
        "--script",
        script,
        "--rubric",
        rubric,
        "--trainee",
        "Ann",
        "--db",
        s(db),
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = penlab(&args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

/// `penlab trainee NAME --db DB --json EXTRA…` as JSON.
fn progress(db: &Path, name: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["trainee", name, "--db", s(db), "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = penlab(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn rubric<'a>(p: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    p["rubrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rubric"] == name)
        .unwrap_or_else(|| panic!("no rubric {name}: {p}"))
}

#[test]
fn two_passes_in_a_row_certify_and_what_is_stored_is_the_report() {
    let dir = scratch("trainee-two-passes");
    let db = dir.join("history.sqlite");
    let report = dir.join("r.json");
    let out = session(
        &db,
        &good(),
        "certification",
        &[
            "--trainer",
            "Dr Lee",
            "--device",
            "pen #3",
            "--report",
            s(&report),
            "--trainee-report",
            s(&dir.join("first.html")),
        ],
    );
    assert!(
        out.contains("session 1 of Ann recorded in")
            && out.contains("1 more pass(es) in a row to certify"),
        "{out}"
    );
    // The trainee's report, written once the session is in the history,
    // says where the trainee stands.
    assert!(out.contains("first.html"), "{out}");
    let first_html = std::fs::read_to_string(dir.join("first.html")).unwrap();
    assert!(
        first_html.contains("data-certified=\"false\"")
            && first_html.contains(
                "not yet certified on certification: 1 pass(es) in a row after attempt 1, \
                 1 more needed (2 in a row certify)"
            ),
        "{first_html}"
    );
    let p = progress(&db, "Ann", &[]);
    assert_eq!(
        rubric(&p, "certification")["certification"],
        serde_json::json!({"status": "not_certified", "passes_in_a_row": 1, "more_needed": 1})
    );
    let second = dir.join("second.html");
    let out = session(
        &db,
        &good(),
        "certification",
        &["--trainee-report", s(&second)],
    );
    assert!(out.contains("certified at attempt 2"), "{out}");
    let second_html = std::fs::read_to_string(&second).unwrap();
    assert!(
        second_html.contains("data-certified=\"true\"")
            && second_html.contains(
                "certified on certification by 2 pass(es) in a row, attempts 1 to 2; \
                 this was attempt 2"
            ),
        "{second_html}"
    );
    let p = progress(&db, "Ann", &[]);
    let cert = rubric(&p, "certification");
    assert_eq!(cert["certification"]["status"], "certified");
    assert_eq!(cert["certification"]["attempt"], 2);
    assert_eq!(cert["certification"]["first_attempt"], 1);
    assert_eq!(
        cert["rule"]["consecutive_passes"], 2,
        "the shipped rubric's"
    );
    assert_eq!(cert["rule"]["from"], "rubric");

    // The text says it too.
    let (code, text, err) = penlab(&["trainee", "Ann", "--db", s(&db)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("certified on certification")
            && text.contains("CERTIFIED at attempt 2")
            && text.contains("attempts 1–2 passed in a row"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("coverage ")), "{text}");

    // Stored: the report's scores, the people, the files' hashes.
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let store = Store::open(&db).unwrap();
    let first = &store.sessions_of("Ann").unwrap()[0].session;
    assert_eq!(first.trainer.as_deref(), Some("Dr Lee"));
    assert_eq!(first.device.as_deref(), Some("pen #3"));
    assert_eq!(first.surface, r["surface"].as_str().unwrap());
    assert_eq!(first.tool, r["tool"].as_str().unwrap());
    assert_eq!(first.punctures, r["punctures"].as_u64().unwrap());
    // The JSON report's numbers are parsed back to within a rounding error.
    let close = |a: f64, b: &serde_json::Value| (a - b.as_f64().unwrap()).abs() < 1e-9;
    assert!(close(first.total, &r["rubric"]["total"]), "{}", first.total);
    assert!(first.passed);
    let skills = r["rubric"]["skills"].as_array().unwrap();
    assert_eq!(first.skills.len(), skills.len());
    for (stored, reported) in first.skills.iter().zip(skills) {
        assert_eq!(stored.skill, reported["skill"].as_str().unwrap());
        assert!(close(stored.score, &reported["score"]), "{stored:?}");
        assert!(close(stored.value, &reported["value"]), "{stored:?}");
        assert_eq!(stored.in_range, reported["in_range"].as_bool().unwrap());
    }
    assert_eq!(first.script.path, good());
    assert_eq!(first.script.sha256, sha256sum(Path::new(&good())));
    let shipped = format!(
        "{}/simulator/rubrics/certification.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    assert_eq!(first.rubric.sha256, sha256sum(Path::new(&shipped)));
}

/// The file's SHA-256 as coreutils' `sha256sum` gives it.
fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn pass_fail_pass_does_not_certify_and_the_next_pass_does() {
    let dir = scratch("trainee-pass-fail-pass");
    let db = dir.join("history.sqlite");
    let poor = poor(&dir);
    session(&db, &good(), "certification", &[]);
    let out = session(&db, &poor, "certification", &[]);
    assert!(out.contains("FAIL"), "{out}");
    session(&db, &good(), "certification", &[]);
    let p = progress(&db, "Ann", &[]);
    let results: Vec<bool> = p["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(results, [true, false, true]);
    let cert = rubric(&p, "certification");
    assert_eq!(
        cert["certification"],
        serde_json::json!({"status": "not_certified", "passes_in_a_row": 1, "more_needed": 1})
    );
    assert_eq!(
        (cert["attempts"].as_u64(), cert["passes"].as_u64()),
        (Some(3), Some(2))
    );
    // The coverage trend: first (pass), latest (pass), the fail in between.
    let coverage = &cert["skills"][0];
    assert_eq!(coverage["skill"], "coverage");
    assert_eq!(coverage["first"]["attempt"], 1);
    assert_eq!(coverage["latest"]["attempt"], 3);
    assert_eq!(coverage["best"]["attempt"], 1, "ties go to the earliest");
    let (_, text, _) = penlab(&["trainee", "Ann", "--db", s(&db)]);
    assert!(
        text.contains("not certified: 1 more pass(es) in a row needed (the latest attempt passed)"),
        "{text}"
    );
    session(&db, &good(), "certification", &[]);
    let cert = rubric(&progress(&db, "Ann", &[]), "certification").clone();
    assert_eq!(cert["certification"]["status"], "certified");
    assert_eq!(cert["certification"]["attempt"], 4);
    assert_eq!(cert["certification"]["first_attempt"], 3);
}

#[test]
fn a_pass_on_another_rubric_does_not_count() {
    let dir = scratch("trainee-other-rubric");
    let db = dir.join("history.sqlite");
    session(&db, &good(), "certification", &[]);
    session(&db, &good(), "beginner", &[]);
    let p = progress(&db, "Ann", &[]);
    for name in ["certification", "beginner"] {
        assert_eq!(
            rubric(&p, name)["certification"]["status"],
            "not_certified",
            "{name}: {p}"
        );
    }
    let attempts: Vec<(&str, u64)> = p["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["rubric"].as_str().unwrap(),
                s["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, [("certification", 1), ("beginner", 1)]);

    // An edited copy of the certification rubric, under the same name, is
    // another rubric too: its passes start their own count.
    let shipped = std::fs::read_to_string(format!(
        "{}/simulator/rubrics/certification.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let edited = dir.join("certification-edited.toml");
    std::fs::write(&edited, shipped.replace("pass_mark = 80", "pass_mark = 85")).unwrap();
    session(&db, &good(), s(&edited), &[]);
    let p = progress(&db, "Ann", &[]);
    let same_name: Vec<&serde_json::Value> = p["rubrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rubric"] == "certification")
        .collect();
    assert_eq!(same_name.len(), 2, "{p}");
    assert_ne!(same_name[0]["rubric_sha256"], same_name[1]["rubric_sha256"]);
    assert!(same_name.iter().all(|r| r["attempts"] == 1));
}

#[test]
fn the_rule_comes_from_the_rubric_file_or_the_flag() {
    let dir = scratch("trainee-rule");
    let db = dir.join("history.sqlite");
    let once = dir.join("once.toml");
    std::fs::write(
        &once,
        "name = \"once\"\npass_mark = 60\n[certification]\nconsecutive_passes = 1\n\
         [skills.coverage]\ntarget = 90\nrange = [50, 100]\n",
    )
    .unwrap();
    let out = session(&db, &good(), s(&once), &[]);
    assert!(out.contains("certified at attempt 1"), "{out}");
    let p = progress(&db, "Ann", &[]);
    let r = rubric(&p, "once");
    assert_eq!(
        r["rule"],
        serde_json::json!({"consecutive_passes": 1, "from": "rubric"})
    );
    assert_eq!(r["certification"]["attempt"], 1);
    // Asked for three in a row, the trainee needs two more.
    session(&db, &good(), s(&once), &[]);
    let p = progress(&db, "Ann", &["--consecutive-passes", "3"]);
    let r = rubric(&p, "once");
    assert_eq!(
        r["rule"],
        serde_json::json!({"consecutive_passes": 3, "from": "override"})
    );
    assert_eq!(
        r["certification"],
        serde_json::json!({"status": "not_certified", "passes_in_a_row": 2, "more_needed": 1})
    );
    let (code, _, err) = penlab(&[
        "trainee",
        "Ann",
        "--db",
        s(&db),
        "--consecutive-passes",
        "0",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--consecutive-passes"), "{err}");
    // A rule of no passes is refused at its place in the rubric file.
    let never = dir.join("never.toml");
    std::fs::write(
        &never,
        "name = \"never\"\npass_mark = 60\n[certification]\nconsecutive_passes = 0\n\
         [skills.coverage]\ntarget = 90\nrange = [50, 100]\n",
    )
    .unwrap();
    let (code, out, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        &good(),
        "--rubric",
        s(&never),
        "--trainee",
        "Ann",
        "--db",
        s(&db),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("never.toml:4:") && err.contains("consecutive_passes"),
        "{err}"
    );
    assert_eq!(
        progress(&db, "Ann", &[])["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn wrong_uses_are_clear_errors() {
    let dir = scratch("trainee-errors");
    let db = dir.join("history.sqlite");
    let script = good();
    // --db without a trainee (or a rubric): refused, nothing run or made.
    for (drop_flag, says) in [
        ("--trainee", "--trainee NAME"),
        ("--rubric", "--rubric NAME|FILE"),
    ] {
        let mut args = vec!["sim", "--headless", "--script", &script, "--db", s(&db)];
        if drop_flag != "--trainee" {
            args.extend_from_slice(&["--trainee", "Ann"]);
        }
        if drop_flag != "--rubric" {
            args.extend_from_slice(&["--rubric", "beginner"]);
        }
        let (code, out, err) = penlab(&args);
        assert_eq!(code, 2, "{out}");
        assert!(
            err.contains(says) && err.contains("nothing was run"),
            "{err}"
        );
        assert!(out.is_empty(), "{out}");
        assert!(!db.exists(), "no history made");
    }
    // PENLAB_DB without a trainee: the run goes on, unrecorded, and says so.
    let out = penlab_command()
        .args([
            "sim",
            "--headless",
            "--script",
            &good(),
            "--rubric",
            "beginner",
        ])
        .env("PENLAB_DB", &db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PENLAB_DB is set") && err.contains("--trainee NAME"),
        "{err}"
    );
    assert!(!db.exists());
    // PENLAB_DB with both: recorded.
    let out = penlab_command()
        .args([
            "sim",
            "--headless",
            "--script",
            &good(),
            "--rubric",
            "beginner",
            "--trainee",
            "Ann",
        ])
        .env("PENLAB_DB", &db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("session 1 of Ann"));

    // An unknown trainee names the file and the trainees there are.
    let (code, _, err) = penlab(&["trainee", "Bob", "--db", s(&db)]);
    assert_eq!(code, 2);
    assert!(
        err.contains("history.sqlite")
            && err.contains("no sessions of trainee \"Bob\"")
            && err.contains("trainees recorded: \"Ann\""),
        "{err}"
    );
    let (code, _, err) = penlab(&["trainee", "ann", "--db", s(&db)]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean \"Ann\""), "{err}");
    // Without a name: the trainees.
    let (code, out, _) = penlab(&["trainee", "--db", s(&db)]);
    assert_eq!(code, 0);
    assert!(
        out.lines().any(|l| l.split_whitespace().eq(["Ann", "1"])),
        "{out}"
    );
    // No history: said, and none made.
    let absent = dir.join("absent.sqlite");
    let (code, _, err) = penlab(&["trainee", "Ann", "--db", s(&absent)]);
    assert_eq!(code, 2);
    assert!(err.contains("no such history"), "{err}");
    assert!(!absent.exists());
    // A file that is not a history is refused before the run, untouched.
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "needles, cartridges\n").unwrap();
    let (code, out, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        &good(),
        "--rubric",
        "beginner",
        "--trainee",
        "Ann",
        "--db",
        s(&notes),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not an SQLite database"), "{err}");
    assert!(out.is_empty(), "refused before the run: {out}");
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "needles, cartridges\n"
    );
    // A rubric that does not load makes no history.
    let fresh = dir.join("fresh.sqlite");
    let (code, _, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        &good(),
        "--rubric",
        "no-such-rubric.toml",
        "--trainee",
        "Ann",
        "--db",
        s(&fresh),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-rubric.toml"), "{err}");
    assert!(
        !fresh.exists(),
        "no history made for a run that did not happen"
    );
}
