//! Evidence bundles and the accuracy study end to end: `penlab test
//! --evidence` and `penlab characterise` on the mock in virtual time (two
//! runs with the same seed give the same bundle, timestamps aside; the
//! manifest passes `sha256sum -c`), anomalies from a planted bug, gauge
//! readings, a study over a real PTY in real time, and the report as
//! headless Chromium renders it (when Chromium is installed; CI installs
//! it).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{MockPen, penlab, scratch};

/// Every file of a bundle, by relative path.
fn bundle(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The text with its wall-clock times blanked: RFC 3339 instants and the
/// `started_unix_*` numbers of records and captures.
fn without_times(text: &str) -> String {
    let mut out = String::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    while i < bytes.len() {
        let instant = bytes.len() - i >= shape.len()
            && shape.iter().zip(&bytes[i..]).all(|(s, b)| match s {
                b'd' => b.is_ascii_digit(),
                s => s == b,
            });
        if instant {
            out.push_str("<time>");
            i += shape.len();
            continue;
        }
        let rest = &text[i..];
        // Wall-clock durations: JUnit's `time` (the simulated one is a
        // property) and the record's `wall_duration`.
        if let Some(key) = [
            "\"started_unix_ms\":",
            "\"started_unix_us\":",
            "\"wall_duration\":",
            " time=\"",
        ]
        .iter()
        .find(|k| rest.starts_with(**k))
        {
            out.push_str(key);
            i += key.len();
            while i < bytes.len()
                && (bytes[i] == b' ' || bytes[i] == b'.' || bytes[i].is_ascii_digit())
            {
                i += 1;
            }
            out.push_str("<time>");
            continue;
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn sha256sum_check(dir: &Path) {
    let status = Command::new("sha256sum")
        .args(["--check", "--quiet", "--strict", "SHA256SUMS"])
        .current_dir(dir)
        .status()
        .expect("sha256sum runs");
    assert!(
        status.success(),
        "SHA256SUMS of {} does not check",
        dir.display()
    );
}

#[test]
fn two_runs_with_one_seed_give_one_bundle_timestamps_aside() {
    let root = scratch("evidence-twice");
    let dirs = [root.join("a"), root.join("b")];
    for dir in &dirs {
        let (code, out, err) = penlab(&[
            "test",
            "--mock",
            "dermapen4-like",
            "--seed",
            "5",
            "--operator",
            "QA tester",
            "--evidence",
            dir.to_str().unwrap(),
            "--characterise",
        ]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("evidence: "), "{out}");
        sha256sum_check(dir);
    }
    let (a, b) = (bundle(&dirs[0]), bundle(&dirs[1]));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for name in [
        "junit.xml",
        "record.json",
        "report.html",
        "evidence.json",
        "SHA256SUMS",
    ] {
        assert!(a.contains_key(name), "no {name} in {:?}", a.keys());
    }
    assert!(a.keys().filter(|k| k.starts_with("captures/")).count() >= 25);
    let mut identical = 0;
    for (name, bytes) in &a {
        if bytes == &b[name] {
            identical += 1;
            continue;
        }
        let (x, y) = (
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&b[name]),
        );
        if name == "SHA256SUMS" {
            // Only the lines of files that hold a time may differ.
            for (lx, ly) in x.lines().zip(y.lines()) {
                let file = &lx[66..];
                assert!(lx == ly || a[file] != b[file], "{lx} / {ly}");
            }
            continue;
        }
        assert_eq!(
            without_times(&x),
            without_times(&y),
            "{name} differs beyond its times"
        );
    }
    // The captures carry no wall-clock time, so they are identical.
    assert!(identical >= 1, "no file is identical between the runs");
    let html = String::from_utf8_lossy(&a["report.html"]);
    for wanted in [
        "penlab-mock-16",
        "4.0.7+g81d04e",
        "PL16-004017",
        "penlab 0.1.0",
        "QA tester",
        "virtual time",
        "accuracy.toml",
        "21 CFR 878.4430(b)(2)(i)",
        "PENLAB-ACC-DEPTH",
        "R-FRAME-1",
        "Anomalies",
        "Accuracy study (21 CFR 878.4430(b)(2)(i))",
        "characterise (accuracy study)",
    ] {
        assert!(html.contains(wanted), "the report lacks {wanted:?}");
    }
    let evidence: serde_json::Value = serde_json::from_slice(&a["evidence.json"]).unwrap();
    assert_eq!(evidence["operator"], "QA tester");
    // Nothing fails; a study point near its limit may be marginal.
    let anomalies = evidence["anomalies"].as_array().unwrap();
    assert!(
        anomalies.iter().all(|a| a["kind"] == "MARGINAL"),
        "{anomalies:?}"
    );
    let expected = if anomalies.is_empty() {
        "pass"
    } else {
        "marginal"
    };
    assert_eq!(evidence["verdict"], expected);
    let shipped = std::fs::read_dir(format!(
        "{}/harness/conformance",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .filter(|e| e.as_ref().unwrap().path().extension() == Some("toml".as_ref()))
    .count();
    assert_eq!(evidence["scenarios"].as_array().unwrap().len(), shipped);
    let accuracy = std::fs::read(format!(
        "{}/harness/conformance/accuracy.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let listed = evidence["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("accuracy.toml"))
        .unwrap();
    // The hash is the file's: sha256sum agrees.
    let out = Command::new("sha256sum")
        .arg(listed["path"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(listed["sha256"].as_str().unwrap()));
    assert!(!accuracy.is_empty());
    let git = evidence["git_hash"].as_str().unwrap();
    assert!(git == "unknown" || git.len() >= 40, "{git}");
}

#[test]
fn a_planted_bug_is_an_anomaly_and_the_bundle_keeps_every_report() {
    let dir = scratch("evidence-bug");
    let bundle_dir = dir.join("bundle");
    let junit = dir.join("also.xml");
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        "--bug",
        "depth-off-by-one-step",
        "--junit",
        junit.to_str().unwrap(),
        "--evidence",
        bundle_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        std::fs::read(&junit).unwrap(),
        std::fs::read(bundle_dir.join("junit.xml")).unwrap(),
        "--junit gets a copy of the bundle's"
    );
    let evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle_dir.join("evidence.json")).unwrap())
            .unwrap();
    assert_eq!(evidence["verdict"], "fail");
    let anomalies = evidence["anomalies"].as_array().unwrap();
    assert!(
        anomalies.iter().any(|a| a["kind"] == "FAIL"
            && a["place"]
                .as_str()
                .unwrap()
                .starts_with("accuracy::depth-accuracy")),
        "{anomalies:?}"
    );
    let html = std::fs::read_to_string(bundle_dir.join("report.html")).unwrap();
    assert!(html.contains(r#"<span class="badge FAIL">FAIL</span>"#));
    // A bundle never goes into a folder that holds one already.
    let (code, _, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        "--evidence",
        bundle_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(bundle_dir.join("report.html")).unwrap(),
        html,
        "the earlier bundle is untouched"
    );
}

#[test]
fn characterise_on_the_mock_with_gauge_readings_into_a_bundle() {
    let dir = scratch("characterise-evidence");
    let gauge = dir.join("gauge.csv");
    std::fs::write(
        &gauge,
        "# gauge readings\ndepth_um,rate_hz,measured_um\n1000,,1041\n1000,90,1043\n700,,700\n",
    )
    .unwrap();
    let bundle_dir = dir.join("bundle");
    let (code, out, err) = penlab(&[
        "characterise",
        "--mock",
        "dermapen4-like",
        "--depths",
        "200,1000,3000",
        "--rates",
        "60,90",
        "--strokes",
        "25",
        "--reference",
        gauge.to_str().unwrap(),
        "--evidence",
        bundle_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("6 points: "), "{out}");
    assert!(
        err.contains("a gauge reading at 700 µm matches no point"),
        "{err}"
    );
    sha256sum_check(&bundle_dir);
    let csv =
        std::fs::read_to_string(bundle_dir.join("characterisation/characterisation.csv")).unwrap();
    let row = csv
        .lines()
        .find(|l| l.starts_with("1000,90,25,"))
        .expect("the 1000 µm, 90 Hz point");
    // Two readings at 90 Hz (1041 and 1043): mean 1042, MARGINAL (±35..50).
    assert!(row.contains(",2,1042.000,"), "{row}");
    assert!(row.ends_with("MARGINAL"), "{row}");
    for plot in [
        "depth-error.png",
        "depth-error.svg",
        "rate-error.png",
        "rate-error.svg",
    ] {
        assert!(
            bundle_dir.join("characterisation").join(plot).exists(),
            "{plot}"
        );
    }
    let html = std::fs::read_to_string(bundle_dir.join("report.html")).unwrap();
    assert!(html.contains("Accuracy study (21 CFR 878.4430(b)(2)(i))"));
    assert!(html.contains("characterisation/depth-error.svg"));
    assert!(html.contains("gauge.csv"), "the reference file is hashed");
    let out_dir = dir.join("out");
    let out_dir = out_dir.to_str().unwrap();
    let (code, _, err) = penlab(&[
        "characterise",
        "--mock",
        "dermapen4-like",
        "--depths",
        "250",
        "--out",
        out_dir,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("depth 250 µm is not a setting of this pen"),
        "{err}"
    );
    std::fs::write(&gauge, "depth_um,rate_hz\n").unwrap();
    let (code, _, err) = penlab(&[
        "characterise",
        "--mock",
        "dermapen4-like",
        "--reference",
        gauge.to_str().unwrap(),
        "--out",
        out_dir,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("gauge.csv: line 1: no `measured_um` column"),
        "{err}"
    );
}

#[test]
fn characterise_a_pen_over_a_pty_in_real_time() {
    let pen = MockPen::start("dermapen4-like");
    let dir = scratch("characterise-pty");
    let started = std::time::Instant::now();
    let (code, out, err) = penlab(&[
        "characterise",
        "--port",
        &pen.port,
        "--depths",
        "1500",
        "--rates",
        "120",
        "--strokes",
        "20",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // 300 ms settling and 20 strokes at 120 Hz take real time.
    assert!(
        started.elapsed().as_millis() >= 400,
        "{:?}",
        started.elapsed()
    );
    let study: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("characterisation.json")).unwrap())
            .unwrap();
    assert_eq!(study["points"].as_array().unwrap().len(), 1);
    assert_eq!(study["points"][0]["strokes"], 20);
    assert!(
        study["teardown"]
            .as_str()
            .unwrap()
            .starts_with("Stop answered: Ack"),
        "the motor is stopped at the end: {}",
        study["teardown"]
    );
}

/// Chromium as Debian names it, if installed.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("chromium is not installed: the rendering check is left to CI");
        return;
    };
    let dir = scratch("evidence-chromium");
    let bundle_dir = dir.join("bundle");
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        "--evidence",
        bundle_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let profile = dir.join("chromium-profile");
    let page = format!("file://{}", bundle_dir.join("report.html").display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &page])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The DOM as the browser built it: the parsed tables, entities decoded.
    for wanted in [
        "<title>penlab verification evidence</title>",
        "Requirement → test → result",
        "PL16-004017",
        "accuracy::depth-accuracy[depth=3000]",
        "id=\"no-anomalies\"",
        "SHA-256",
    ] {
        assert!(dom.contains(wanted), "the rendered page lacks {wanted:?}");
    }
    let rows = dom.matches("<tr>").count();
    assert!(
        rows > 39 + 7,
        "{rows} table rows: every test and scenario file"
    );
}

#[test]
fn a_marginal_measurement_shows_live_in_junit_json_and_the_bundle() {
    let dir = scratch("evidence-marginal");
    let scenario = dir.join("tight.toml");
    // The mock lands within a few µm of the set depth, never exactly on
    // it: inside ±50 µm, outside a ±0.01 µm band.
    std::fs::write(
        &scenario,
        r#"[suite]
title = "A tight marginal band"

[[test]]
id = "depth-near-limit"
title = "Depth within 50 µm, marginal beyond 0.01 µm"
requirements = ["PENLAB-ACC-DEPTH"]
steps = [
  { send = { set_depth = { depth_um = "${depth_mid}" } } },
  { send = "start" },
  { wait_ms = 800 },
  { measure = "strike_depth_um", name = "depth", over_ms = 1000, limit = { nominal = "${depth_mid}", abs = 50, marginal_abs = 0.01 } },
]
"#,
    )
    .unwrap();
    let bundle_dir = dir.join("bundle");
    let (code, out, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        scenario.to_str().unwrap(),
        "--evidence",
        bundle_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "a marginal test is a pass: {out}{err}");
    assert!(
        out.contains("MARGINAL tight::depth-near-limit (") && out.contains(": MARGINAL"),
        "{out}"
    );
    assert!(out.contains("1 passed (1 marginal), 0 failed"), "{out}");
    let xml = std::fs::read_to_string(bundle_dir.join("junit.xml")).unwrap();
    assert!(xml.contains(r#"failures="0""#), "{xml}");
    assert!(xml.contains("MARGINAL: depth = "), "{xml}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle_dir.join("record.json")).unwrap())
            .unwrap();
    assert_eq!(record["tests"][0]["measurements"][0]["verdict"], "marginal");
    assert_eq!(record["totals"]["marginal"], 1);
    let evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle_dir.join("evidence.json")).unwrap())
            .unwrap();
    assert_eq!(evidence["verdict"], "marginal");
    assert_eq!(evidence["anomalies"][0]["kind"], "MARGINAL");
    assert_eq!(evidence["anomalies"][0]["place"], "tight::depth-near-limit");
    // A band wider than its limit is a mistake in the file.
    std::fs::write(
        &scenario,
        std::fs::read_to_string(&scenario)
            .unwrap()
            .replace("marginal_abs = 0.01", "marginal_abs = 80"),
    )
    .unwrap();
    let (code, _, err) = penlab(&[
        "test",
        "--mock",
        "dermapen4-like",
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`marginal_abs` (80) must lie between 0 and `abs` (50)"),
        "{err}"
    );
}
