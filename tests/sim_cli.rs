//! `penlab sim` from the command line: the headless run, and the 3D view's
//! answer on a machine without a display.

mod common;

use common::{penlab_command as penlab, scratch};

#[test]
fn without_a_display_the_view_says_so_and_points_to_headless() {
    let out = penlab()
        .args(["sim"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage problem, not a crash");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no display"), "{err}");
    assert!(err.contains("--headless"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_view_options_are_refused_before_anything_opens() {
    for (args, says) in [
        (vec!["sim", "--speed", "0"], "--speed"),
        (vec!["sim", "--depth", "9"], "--depth"),
        (vec!["sim", "--mock", "no-such-pen"], "no-such-pen"),
        (vec!["sim", "--tool", "pen-99"], "pen-99"),
    ] {
        let out = penlab()
            .args(&args)
            .env("DISPLAY", ":penlab-test-none")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn headless_scores_a_recording_with_measured_depths() {
    let dir = scratch("sim-headless-recording");
    let rec = dir.join("rec.jsonl");
    let mut lines = vec![
        r#"{"type":"header","format":"penlab-session","version":1,"tool":"pen-14","surface":"flat-pad"}"#.to_owned(),
    ];
    for k in 0..200 {
        let t = f64::from(k) * 0.01;
        let x = 20.0 + 60.0 * f64::from(k) / 200.0;
        lines.push(format!(
            r#"{{"type":"pose","t":{t},"position":[{x},50.0,0.0],"orientation":[0.0,0.0,0.0,1.0],"force_n":2.0,"depth_mm":0.5}}"#
        ));
        lines.push(format!(r#"{{"type":"strike","t":{t},"depth_mm":1.25}}"#));
    }
    std::fs::write(&rec, lines.join("\n") + "\n").unwrap();
    let script = dir.join("replay.toml");
    std::fs::write(
        &script,
        "[surface]\nbuiltin = \"flat-pad\"\n[tool]\nprofile = \"pen-14\"\n\
         [[pattern]]\nkind = \"replay\"\nfile = \"rec.jsonl\"\nstrikes = \"recorded\"\n",
    )
    .unwrap();
    let report = dir.join("report.json");
    let out = penlab()
        .args(["sim", "--headless", "--script"])
        .arg(&script)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["strikes"], 200);
    // The recorded depth, not the pose's 0.5 mm set point.
    let max = r["depth"]["max_mm"].as_f64().unwrap();
    assert!((max - 1.25).abs() < 1e-3, "max depth {max}");
}
