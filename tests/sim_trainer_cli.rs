//! The trainer's side of `penlab sim`, through the binary: technique cues
//! counted in the headless report, rubric scores, `sim compare` and the
//! trainee's HTML report.

mod common;

use std::path::{Path, PathBuf};

use common::{penlab, scratch};

fn shipped(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("simulator/scripts")
        .join(name)
        .display()
        .to_string()
}

/// Lines along u only, twice the track width apart: gaps between the
/// lines, nothing crosshatched.
fn poor_script(dir: &Path) -> PathBuf {
    let path = dir.join("poor.toml");
    std::fs::write(
        &path,
        "[surface]\nbuiltin = \"flat-pad\"\ngrid = 256\n[tool]\nprofile = \"pen-14\"\n\
         [settings]\nrate_hz = 117\n[[pattern]]\nkind = \"raster\"\nspeed_mm_s = 250\nspacing_mm = 6.0\n",
    )
    .unwrap();
    path
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn the_crosshatch_demonstration_passes_the_beginner_rubric_with_no_cue() {
    let dir = scratch("trainer-pass");
    let report = dir.join("r.json");
    let script = shipped("crosshatch-pad.toml");
    let (code, out, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        &script,
        "--rubric",
        "beginner",
        "--report",
        s(&report),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("rubric        beginner:") && out.contains("PASS"),
        "{out}"
    );
    assert!(out.contains("cues          speed-low 0"), "{out}");
    let r = json(&report);
    assert_eq!(r["rubric"]["passed"], true, "{}", r["rubric"]);
    assert!(r["rubric"]["total"].as_f64().unwrap() >= 60.0);
    assert_eq!(r["rubric"]["skills"].as_array().unwrap().len(), 7);
    let counts = r["cues"]["counts"].as_object().unwrap();
    assert_eq!(counts.len(), 7, "every cue counted: {counts:?}");
    for (cue, count) in counts {
        assert_eq!(count["fired"], 0, "{cue} fired on a good crosshatch");
    }
}

#[test]
fn a_poor_script_fails_with_the_skills_named() {
    let dir = scratch("trainer-fail");
    let report = dir.join("r.json");
    let script = poor_script(&dir);
    let (code, out, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        s(&script),
        "--rubric",
        "beginner",
        "--report",
        s(&report),
    ]);
    assert_eq!(code, 0, "a failed session is still a finished run: {err}");
    assert!(out.contains("FAIL"), "{out}");
    let line = |skill: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("  {skill} ")))
            .unwrap()
    };
    assert!(line("coverage").contains("OUT OF RANGE"), "{out}");
    assert!(line("crosshatch").contains("OUT OF RANGE"), "{out}");
    assert!(!line("depth_compliance").contains("OUT OF RANGE"), "{out}");
    let r = json(&report);
    assert_eq!(r["rubric"]["passed"], false);
    let named: Vec<&str> = r["rubric"]["out_of_range"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for skill in ["coverage", "gaps", "crosshatch"] {
        assert!(named.contains(&skill), "{named:?}");
    }
    // The certification rubric fails it too.
    let (_, out, _) = penlab(&[
        "sim",
        "--headless",
        "--script",
        s(&script),
        "--rubric",
        "certification",
    ]);
    assert!(
        out.contains("certification") && out.contains("FAIL"),
        "{out}"
    );
}

#[test]
fn cues_are_switched_from_the_command_line_and_counted() {
    let dir = scratch("trainer-cues");
    let script = dir.join("slow.toml");
    std::fs::write(
        &script,
        "[surface]\nbuiltin = \"flat-pad\"\ngrid = 128\n[tool]\nprofile = \"pen-14\"\n[settings]\nrate_hz = 117\n\
         [[pattern]]\nkind = \"crosshatch\"\nspeed_mm_s = 200\nspacing_mm = 3.0\n",
    )
    .unwrap();
    let report = dir.join("r.json");
    let log = dir.join("cues.jsonl");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "sim",
            "--headless",
            "--script",
            s(&script),
            "--report",
            s(&report),
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = penlab(&args);
        assert_eq!(code, 0, "{extra:?}: {err}");
        (out, json(&report))
    };
    let fired = |r: &serde_json::Value, cue: &str| {
        r["cues"]["counts"]
            .get(cue)
            .map(|c| c["fired"].as_u64().unwrap())
    };
    let (out, r) = run(&["--cue-log", s(&log)]);
    assert!(fired(&r, "speed-low").unwrap() > 0, "{out}");
    assert!(out.contains("speed-low"), "{out}");
    let logged = std::fs::read_to_string(&log).unwrap();
    let first: serde_json::Value = serde_json::from_str(logged.lines().next().unwrap()).unwrap();
    assert_eq!(first["on"], true);
    assert!(logged.contains("\"speed-low\""));
    let (_, r) = run(&["--no-cue", "speed"]);
    assert_eq!(fired(&r, "speed-low"), None);
    assert!(fired(&r, "dwell").is_some());
    let (_, r) = run(&["--cues", "dwell,tilt"]);
    assert_eq!(r["cues"]["enabled"], serde_json::json!(["dwell", "tilt"]));
    let (code, _, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        s(&script),
        "--cues",
        "wobble",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("wobble") && err.contains("overlap"), "{err}");
}

#[test]
fn a_bad_rubric_is_shown_at_its_line_with_a_caret() {
    let dir = scratch("trainer-bad-rubric");
    let rubric = dir.join("bad.toml");
    std::fs::write(
        &rubric,
        "name = \"mine\"\npass_mark = 70\n\n[skills.coverage]\ntarget = 90\nrange = [95, 60]\n",
    )
    .unwrap();
    let script = shipped("crosshatch-pad.toml");
    let (code, out, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        &script,
        "--rubric",
        s(&rubric),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("bad.toml:6:9: coverage: range"), "{err}");
    assert!(err.contains("6 | range = [95, 60]"), "{err}");
    assert!(err.contains("^^^^^^^^"), "{err}");
    assert!(out.is_empty(), "refused before the run: {out}");
}

#[test]
fn compare_writes_per_skill_deltas_and_a_difference_heatmap() {
    let dir = scratch("trainer-compare");
    let (report, png) = (dir.join("cmp.json"), dir.join("diff.png"));
    let good = shipped("crosshatch-pad.toml");
    let poor = poor_script(&dir);
    let (code, out, err) = penlab(&[
        "sim",
        "compare",
        &good,
        s(&poor),
        "--rubric",
        "beginner",
        "--grid",
        "256",
        "--report",
        s(&report),
        "--heatmap",
        s(&png),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("coverage"), "{out}");
    let c = json(&report);
    assert_eq!(c["format"], "penlab-session-comparison");
    let skill = |name: &str| {
        c["skills"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["skill"] == name)
            .unwrap()
            .clone()
    };
    let coverage = skill("coverage");
    let (a, b) = (
        coverage["a"].as_f64().unwrap(),
        coverage["b"].as_f64().unwrap(),
    );
    assert!(a > 80.0 && b < 20.0, "{coverage}");
    assert!((coverage["delta"].as_f64().unwrap() - (b - a)).abs() < 1e-9);
    assert!(
        coverage["score_delta"].as_f64().unwrap() < -50.0,
        "{coverage}"
    );
    assert!(skill("crosshatch")["delta"].as_f64().unwrap() < -90.0);
    assert_eq!(c["a"]["passed"], true);
    assert_eq!(c["b"]["passed"], false);
    assert!(
        c["density"]["mean_abs_per_cm2"].as_f64().unwrap() > 100.0,
        "{}",
        c["density"]
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: 256 texels drawn at 2 px each, plus the legend.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    assert_eq!(width, 512 + 300);

    // A recording against itself: no difference.
    let rec = shipped("pen-telemetry.jsonl");
    let (code, _, err) = penlab(&["sim", "compare", &rec, &rec, "--report", s(&report)]);
    assert_eq!(code, 0, "{err}");
    let c = json(&report);
    assert_eq!(c["a"]["tool"], "pen-14");
    for s in c["skills"].as_array().unwrap() {
        assert_eq!(s["delta"], 0.0, "{s}");
    }
    assert_eq!(c["density"]["mean_abs_per_cm2"], 0.0);

    // Sessions on different surfaces are refused, naming both.
    let forearm = shipped("raster-forearm.toml");
    let (code, _, err) = penlab(&["sim", "compare", &good, &forearm]);
    assert_eq!(code, 2);
    assert!(
        err.contains("flat-pad") && err.contains("forearm") && err.contains("same surface"),
        "{err}"
    );
}

#[test]
fn the_trainee_report_has_scores_bars_the_heatmap_and_cue_counts() {
    let dir = scratch("trainer-html");
    let html = dir.join("session.html");
    let script = shipped("crosshatch-pad.toml");
    let (code, out, err) = penlab(&[
        "sim",
        "--headless",
        "--script",
        &script,
        "--grid",
        "128",
        "--rubric",
        "beginner",
        "--trainee-report",
        s(&html),
        "--trainee",
        "Ann <B>",
        "--trainer",
        "Dr Lee",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("session.html"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        page.contains("Ann &lt;B&gt;") && !page.contains("Ann <B>"),
        "names are escaped"
    );
    assert!(page.contains("Dr Lee"));
    assert_eq!(page.matches("class=\"skill\"").count(), 7);
    assert!(page.contains("class=\"pass\">PASS"), "verdict shown");
    // Each skill's bar is as wide as its score.
    assert!(page.contains("data-skill=\"crosshatch\"") && page.contains("style=\"width:100%\""));
    // The heatmap, the 3D snapshot and a graph each of speed, density
    // and depth, each a PNG of its own (base64 of the PNG signature).
    let images: Vec<&str> = page.split("src=\"data:image/png;base64,").skip(1).collect();
    assert_eq!(images.len(), 5, "heatmap, snapshot and three graphs");
    assert!(images.iter().all(|i| i.starts_with("iVBORw0KGgo")));
    assert!(images[0] != images[1], "the snapshot is not the heatmap");
    for graph in ["speed", "density", "depth"] {
        assert!(page.contains(&format!("data-graph=\"{graph}\"")), "{graph}");
    }
    assert!(page.contains("class=\"snapshot\""));
    assert_eq!(page.matches("data-cue=").count(), 7, "a row per cue");
}
