//! Bad and good input files: scripts, meshes, recordings.

use std::path::{Path, PathBuf};

use penlab_simulator::Error;
use penlab_simulator::script::Script;
use penlab_simulator::surfaces::{self, Units, ZoneLimits};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-sim-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn location(err: &Error) -> (usize, usize) {
    match err {
        Error::Source(e) => (e.location().line, e.location().column),
        other => panic!("expected a located error, got {other}"),
    }
}

const GOOD: &str = r#"[surface]
builtin = "flat-pad"

[tool]
profile = "pen-14"

[settings]
depth_mm = 0.5

[[pattern]]
kind = "raster"
speed_mm_s = 100
"#;

#[test]
fn a_typo_in_a_script_is_reported_at_its_line_and_column() {
    let text = GOOD.replace("depth_mm = 0.5", "  depht_mm = 0.5");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    // Line 8, column 3: where `depht_mm` starts.
    assert_eq!(location(&err), (8, 3));
    let shown = err.to_string();
    assert!(shown.starts_with("demo.toml:8:3: "), "{shown}");
    assert!(shown.contains("depht_mm"), "{shown}");
}

#[test]
fn a_wrong_value_type_is_located_too() {
    let text = GOOD.replace("speed_mm_s = 100", "speed_mm_s = \"fast\"");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    // Line 12, column 14: the value.
    assert_eq!(location(&err), (12, 14), "{err}");
    // A pattern that lacks a key it needs is located at the pattern.
    let text = GOOD.replace("speed_mm_s = 100", "");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert!(err.to_string().contains("speed_mm_s is required"), "{err}");
    let (line, _) = location(&err);
    assert!((10..=11).contains(&line), "{err}");
    // Unknown keys inside a pattern are caught, not ignored.
    let text = GOOD.replace("speed_mm_s = 100", "speed_mm_s = 100\noverlpa = 0.5");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert_eq!(location(&err), (13, 1), "{err}");
    let text = GOOD.replace("kind = \"raster\"", "kind = \"zigzag\"");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert!(err.to_string().contains("zigzag"), "{err}");
}

#[test]
fn unknown_names_say_what_is_known() {
    let text = GOOD.replace("pen-14", "pen-99");
    let script = Script::parse(Path::new("demo.toml"), &text).unwrap();
    let err = script.tool().unwrap_err().to_string();
    assert!(err.contains("pen-99") && err.contains("pen-14"), "{err}");
    let text = GOOD.replace("flat-pad", "moon");
    let script = Script::parse(Path::new("demo.toml"), &text).unwrap();
    let err = script.surface().unwrap_err().to_string();
    assert!(err.contains("moon") && err.contains("forearm"), "{err}");
    let text = GOOD.replace("depth_mm = 0.5", "depth_mm = 9");
    let err = Script::parse(Path::new("demo.toml"), &text)
        .unwrap_err()
        .to_string();
    assert!(err.contains("depth_mm"), "{err}");
}

const QUAD_OBJ: &str = "o pad\nv 0 0 0\nv 100 0 0\nv 100 50 0\nv 0 50 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nf 1/1 2/2 3/3\nf 1/1 3/3 4/4\n";

#[test]
fn an_obj_mesh_loads_with_its_real_area() {
    let dir = scratch("obj");
    let path = dir.join("pad.obj");
    std::fs::write(&path, QUAD_OBJ).unwrap();
    let limits = ZoneLimits::shipped().unwrap();
    let surface = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap();
    // 100 × 50 mm, stretched non-uniformly onto the unit UV square.
    assert!((surface.area.total_area_cm2() - 50.0).abs() < 1e-3);
    assert_eq!(surface.zones[0].name, "pad");
    assert_eq!(surface.zones[0].max_depth_mm, Some(3.0));
    let in_cm = surfaces::load_mesh_file(&path, Some(Units::Cm), &limits, 64).unwrap();
    assert!((in_cm.area.total_area_cm2() - 5000.0).abs() < 0.1);
}

#[test]
fn a_broken_obj_points_at_the_bad_line() {
    let dir = scratch("objbad");
    let path = dir.join("bad.obj");
    std::fs::write(&path, QUAD_OBJ.replace("v 100 50 0", "v 100 5O 0")).unwrap();
    let limits = ZoneLimits::shipped().unwrap();
    let err = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap_err();
    assert_eq!(location(&err), (4, 7), "{err}");
    std::fs::write(&path, QUAD_OBJ.replace("f 1/1 3/3 4/4", "f 1/1 3/3 9/4")).unwrap();
    let err = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap_err();
    assert_eq!(location(&err), (11, 11), "{err}");
    assert!(err.to_string().contains("vertex 9"), "{err}");
    // No UVs at all.
    let no_uv: String = QUAD_OBJ
        .lines()
        .filter(|l| !l.starts_with("vt"))
        .map(|l| {
            l.replace("/1", "")
                .replace("/2", "")
                .replace("/3", "")
                .replace("/4", "")
                + "\n"
        })
        .collect();
    std::fs::write(&path, no_uv).unwrap();
    let err = surfaces::load_mesh_file(&path, None, &limits, 64)
        .unwrap_err()
        .to_string();
    assert!(err.contains("UV"), "{err}");
}

#[test]
fn a_gltf_mesh_loads_in_metres() {
    let dir = scratch("gltf");
    let mut bin = Vec::new();
    let positions: [[f32; 3]; 4] = [
        [0.0, 0.0, 0.0],
        [0.1, 0.0, 0.0],
        [0.1, 0.1, 0.0],
        [0.0, 0.1, 0.0],
    ];
    let uvs: [[f32; 2]; 4] = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    for p in positions.iter().flatten().chain(uvs.iter().flatten()) {
        bin.extend_from_slice(&p.to_le_bytes());
    }
    for i in [0u16, 1, 2, 0, 2, 3] {
        bin.extend_from_slice(&i.to_le_bytes());
    }
    std::fs::write(dir.join("quad.bin"), &bin).unwrap();
    let json = format!(
        r#"{{"asset":{{"version":"2.0"}},"scene":0,"scenes":[{{"nodes":[0]}}],
"nodes":[{{"mesh":0,"name":"cheeks"}}],
"meshes":[{{"name":"cheeks","primitives":[{{"attributes":{{"POSITION":0,"TEXCOORD_0":1}},"indices":2}}]}}],
"buffers":[{{"uri":"quad.bin","byteLength":{}}}],
"bufferViews":[{{"buffer":0,"byteOffset":0,"byteLength":48}},{{"buffer":0,"byteOffset":48,"byteLength":32}},{{"buffer":0,"byteOffset":80,"byteLength":12}}],
"accessors":[{{"bufferView":0,"componentType":5126,"count":4,"type":"VEC3","min":[0,0,0],"max":[0.1,0.1,0]}},
{{"bufferView":1,"componentType":5126,"count":4,"type":"VEC2"}},
{{"bufferView":2,"componentType":5123,"count":6,"type":"SCALAR"}}]}}"#,
        bin.len()
    );
    let path = dir.join("quad.gltf");
    std::fs::write(&path, json).unwrap();
    let limits = ZoneLimits::shipped().unwrap();
    let surface = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap();
    assert!((surface.area.total_area_cm2() - 100.0).abs() < 1e-3);
    // The mesh name is a zone, with the shipped cheeks limit.
    assert_eq!(surface.zones[0].name, "cheeks");
    assert_eq!(surface.zones[0].max_depth_mm, Some(1.5));
    std::fs::write(&path, "{ \"asset\": ").unwrap();
    let err = surfaces::load_mesh_file(&path, None, &limits, 64)
        .unwrap_err()
        .to_string();
    assert!(err.contains("quad.gltf") && err.contains("line 1"), "{err}");
}

#[test]
fn a_bad_recording_line_is_located() {
    let dir = scratch("replay");
    let rec = dir.join("rec.jsonl");
    let pose = r#"{"type":"pose","t":0.5,"position":[50,50,0],"orientation":[0,0,0,1],"force_n":2,"depth_mm":0.5}"#;
    std::fs::write(
        &rec,
        format!("{pose}\n{{\"type\":\"strike\",\"t\":0.5}}\n{{\"type\":\"strike\",\"t\":oops}}\n"),
    )
    .unwrap();
    let script_path = dir.join("replay.toml");
    let text = "[surface]\nbuiltin = \"flat-pad\"\n[tool]\nprofile = \"pen-14\"\n[[pattern]]\nkind = \"replay\"\nfile = \"rec.jsonl\"\n";
    std::fs::write(&script_path, text).unwrap();
    let err = Script::load(&script_path).unwrap().run().unwrap_err();
    assert_eq!(location(&err), (3, 22), "{err}");
    std::fs::write(&rec, format!("{pose}\n{{\"type\":\"strike\",\"t\":0.4}}\n")).unwrap();
    let err = Script::load(&script_path).unwrap().run().unwrap_err();
    assert!(
        // The caret is under the time that went backwards.
        err.to_string().contains("rec.jsonl:2:18") && err.to_string().contains("backwards"),
        "{err}"
    );
    // A good one: one strike of 14 needles.
    std::fs::write(&rec, format!("{pose}\n{{\"type\":\"strike\",\"t\":0.5}}\n")).unwrap();
    let session = Script::load(&script_path).unwrap().run().unwrap();
    assert_eq!(session.grid().total(), 14);
}

#[test]
fn the_shipped_scripts_parse_and_build() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let script = Script::load(&path).unwrap_or_else(|e| panic!("{e}"));
            script.tool().unwrap();
            n += 1;
        }
    }
    assert!(n >= 4);
}

#[test]
fn the_readme_example_lands_in_the_band() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/crosshatch-pad.toml");
    let script = Script::load(&path).unwrap();
    let session = script.run().unwrap();
    let report = penlab_simulator::metrics::analyse(&session, &script.spec.metrics)
        .unwrap()
        .report;
    // 2 × 14 × 117 / (400 × 3) per mm², less what falls off the pad's edges.
    assert!(
        (report.mean_density_per_cm2 - 273.0).abs() < 10.0,
        "{}",
        report.mean_density_per_cm2
    );
    assert!(report.coverage > 0.85, "{}", report.coverage);
    assert_eq!(report.gaps.count + report.hot_spots.count, 0);
    // The recorded-session example: 176 telemetry strikes of 14 needles.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/replay-telemetry.toml");
    let session = Script::load(&path).unwrap().run().unwrap();
    assert_eq!(session.strikes(), 176);
    assert_eq!(session.grid().total(), 176 * 14);
}
