//! `penlab test` end to end: the shipped suite on a mock, reports in JUnit
//! and JSON, exit codes, partitions, bad input, and a real pen's code path
//! (the mock behind a pseudo-terminal, opened with --port).

mod common;

use common::{MockPen, penlab, scratch};

use std::collections::BTreeSet;

fn suite(name: &str) -> String {
    format!("{}/harness/conformance/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_shipped_suite_passes_on_a_mock_and_reports() {
    let dir = scratch("reports");
    let (junit, json) = (dir.join("junit.xml"), dir.join("run.json"));
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("PASS accuracy::rate-accuracy[rate=90Hz]"),
        "{out}"
    );
    assert!(out.contains("0 failed, 0 skipped, 0 error(s)"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<testsuite name="accuracy""#) && xml.contains(r#"failures="0""#),
        "{xml}"
    );
    assert!(xml.contains(
        r#"<property name="depth-accuracy[depth=200].requirement" value="21 CFR 878.4430(b)(2)(i)"/>"#
    ));
    // Under virtual time the simulated duration heads the case's properties.
    assert!(
        xml.contains(
            "<system-out>simulated_duration_s: 1.800\nrequirement: 21 CFR 878.4430(b)(2)(i)\n"
        ),
        "{xml}"
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(record["device"]["model"], "penlab-mock-16");
    assert_eq!(record["totals"]["failed"], 0);
    assert_eq!(
        record["traceability"]["21 CFR 878.4430(b)(2)(i)"]["result"],
        "passed"
    );
    let depth = record["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "depth-accuracy[depth=3000]")
        .expect("the deepest depth was tested");
    assert_eq!(depth["measurements"][0]["limit"]["nominal"], 3000.0);
}

#[test]
fn a_planted_bug_fails_with_exit_code_1() {
    let (code, out, _) = penlab(&[
        "test",
        "--mock",
        "skinpen-like",
        "--bug",
        "late-ack",
        &suite("commands.toml"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL commands::set-depth") && out.contains("50 ms deadline"),
        "{out}"
    );
}

fn test_ids(out: &str) -> BTreeSet<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("PASS ").or_else(|| l.strip_prefix("SKIP ")))
        .map(|l| l.split([' ', ':']).take(3).collect::<Vec<_>>().join(":"))
        .collect()
}

#[test]
fn partitions_split_the_suite_without_overlap() {
    let (_, all, _) = penlab(&["test", "--mock", "skinpen-like"]);
    let (c1, one, _) = penlab(&["test", "--mock", "skinpen-like", "--partition", "hash:1/2"]);
    let (c2, two, _) = penlab(&["test", "--mock", "skinpen-like", "--partition", "hash:2/2"]);
    assert_eq!((c1, c2), (0, 0));
    let (all, one, two) = (test_ids(&all), test_ids(&one), test_ids(&two));
    assert!(!one.is_empty() && !two.is_empty());
    assert!(one.is_disjoint(&two));
    assert_eq!(one.union(&two).cloned().collect::<BTreeSet<_>>(), all);
}

#[test]
fn usage_and_infrastructure_problems_exit_2() {
    let (code, _, err) = penlab(&["test", "--port", "/dev/penlab-no-such-port"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("port /dev/penlab-no-such-port does not exist"),
        "{err}"
    );
    let (code, _, err) = penlab(&["test"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--mock PROFILE, --port PATH or --tcp"),
        "{err}"
    );

    let dir = scratch("bad");
    let bad = dir.join("typo.toml");
    std::fs::write(&bad, "[suite]\ntitle = \"x\"\n\n[[test]]\nid = \"a\"\ntitle = \"a\"\nsteps = [\n  { sned = \"start\" },\n]\n").unwrap();
    let (code, _, err) = penlab(&["test", "--mock", "skinpen-like", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("typo.toml:8:3: a step needs one of send"),
        "{err}"
    );
}

#[test]
fn a_pen_on_a_serial_port() {
    // The mock behind a PTY is opened exactly as /dev/ttyACM0 would be.
    let pen = MockPen::start("exceed-like");
    let (code, out, err) = penlab(&["test", "--port", &pen.port, &suite("handshake.toml")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("{} (penlab-mock-6", pen.port)),
        "{out}"
    );
    assert!(out.contains("6 passed, 0 failed"), "{out}");
}

#[test]
fn a_bench_of_pens_runs_at_once() {
    let pens = [
        MockPen::start("skinpen-like"),
        MockPen::start("dermapen4-like"),
    ];
    let ports: Vec<&str> = pens.iter().map(|p| p.port.as_str()).collect();
    let dir = scratch("bench");
    let junit = dir.join("junit.xml");
    let commands = suite("commands.toml");
    let (code, out, err) = penlab(&[
        "test",
        "--port",
        ports[0],
        "--port",
        ports[1],
        "--junit",
        junit.to_str().unwrap(),
        &commands,
        "--tag",
        "safety",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("[{}] PASS", ports[0]))
            && out.contains(&format!("[{}] PASS", ports[1])),
        "{out}"
    );
    assert!(
        out.contains("(penlab-mock-14") && out.contains("(penlab-mock-16"),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!("{} :: commands", ports[0]))
            && xml.contains(&format!("{} :: commands", ports[1])),
        "{xml}"
    );
}

#[test]
fn list_prints_what_would_run_and_filters_select_by_id() {
    let (code, out, err) = penlab(&["test", "--list"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("commands::set-depth[depth=*]  "), "{out}");
    assert!(
        out.contains("cartridge::no-cartridge  ") && out.contains("environment channel"),
        "{out}"
    );
    let (_, watchdog, _) = penlab(&["test", "--list", "--filter", "watchdog::*"]);
    let ids: Vec<&str> = watchdog.lines().filter(|l| l.contains("::")).collect();
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|l| l.starts_with("watchdog::")),
        "{watchdog}"
    );
    assert!(
        watchdog.contains(&format!("{} test(s)", ids.len())),
        "{watchdog}"
    );
    // The same filter runs exactly those.
    let (code, run, err) = penlab(&["test", "--mock", "skinpen-like", "--filter", "hello-*"]);
    assert_eq!(code, 0, "{run}{err}");
    let ran = test_ids(&run);
    assert!(!ran.is_empty());
    assert!(ran.iter().all(|id| id.contains("::hello-")), "{ran:?}");
}
