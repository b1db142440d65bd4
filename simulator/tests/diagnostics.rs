//! One diagnostics path for every file a user hands the simulator: a
//! script, the tools and zones data, an OBJ or glTF mesh. Each mistake is
//! shown as `file:line:column: message`, then the source line and a caret
//! under the column.

use std::path::{Path, PathBuf};

use penlab_simulator::script::Script;
use penlab_simulator::surfaces::{self, ZoneLimits};
use penlab_simulator::tool::ToolProfiles;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("penlab-diag-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts that `shown` starts with `file:line:column: `, quotes line `line`
/// of `text` exactly and puts a caret under `column` (ASCII text).
fn assert_points_at(shown: &str, file: &str, text: &str, line: usize, column: usize) {
    let first = shown.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{file}:{line}:{column}: ")),
        "wanted {file}:{line}:{column}, got:\n{shown}"
    );
    let source = text.lines().nth(line - 1).unwrap();
    let lines: Vec<&str> = shown.lines().collect();
    let quoted = lines
        .iter()
        .position(|l| l.ends_with(&format!("| {source}")) && l.starts_with(&format!("{line} ")))
        .unwrap_or_else(|| panic!("line {line} {source:?} not quoted:\n{shown}"));
    let start = lines[quoted].len() - source.len();
    let caret = lines[quoted + 1];
    assert_eq!(
        caret.find('^'),
        Some(start + column - 1),
        "caret not under column {column}:\n{shown}"
    );
}

const SCRIPT: &str = r#"[surface]
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
fn a_script_typo_and_an_out_of_range_setting_point_at_their_place() {
    let text = SCRIPT.replace("depth_mm = 0.5", "depht_mm = 0.5");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert_points_at(&err.to_string(), "demo.toml", &text, 8, 1);
    assert!(err.to_string().contains("depht_mm"), "{err}");
    let text = SCRIPT.replace("depth_mm = 0.5", "depth_mm = 9");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert_points_at(&err.to_string(), "demo.toml", &text, 8, 1);
    assert!(err.to_string().contains("outside 0 to 5 mm"), "{err}");
    // A pattern's bad value: at its key.
    let text = SCRIPT.replace("speed_mm_s = 100", "speed_mm_s = 100\n  overlap = 2.0");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert_points_at(&err.to_string(), "demo.toml", &text, 13, 3);
    assert!(err.to_string().contains("overlap must be within"), "{err}");
}

#[test]
fn a_script_tool_profile_and_zone_are_checked_where_they_are_written() {
    let text = format!(
        "{SCRIPT}\n[zones.cheeks]\nmax_depth_mm = -1\n\n[[tool_profile]]\nname = \"mine\"\nkind = \"pen\"\ncenter = true\n"
    );
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert_points_at(&err.to_string(), "demo.toml", &text, 15, 1);
    assert!(err.to_string().contains("zone cheeks"), "{err}");
    let text = text
        .replace("max_depth_mm = -1", "max_depth_mm = 1")
        .replace("center = true", "rate_hz = 99999\ncenter = true");
    let err = Script::parse(Path::new("demo.toml"), &text).unwrap_err();
    assert_points_at(&err.to_string(), "demo.toml", &text, 20, 1);
    assert!(err.to_string().contains("tool mine: rate_hz"), "{err}");
}

#[test]
fn the_tools_data_points_at_the_bad_value() {
    let shipped = penlab_simulator::tool::TOOLS_TOML;
    // A typo in a kind: toml's own span, the value.
    let (line, l) = shipped
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("kind = \"pen\""))
        .unwrap();
    let text = shipped.replacen(l, "kind = \"pne\"", 1);
    let err = ToolProfiles::parse("data/tools.toml", &text).unwrap_err();
    assert_points_at(&err.to_string(), "data/tools.toml", &text, line + 1, 8);
    // An out-of-range value: the setting.
    let (line, l) = shipped
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("rate_hz"))
        .unwrap();
    let text = shipped.replacen(l, "rate_hz = -120.0", 1);
    let err = ToolProfiles::parse("data/tools.toml", &text).unwrap_err();
    assert_points_at(&err.to_string(), "data/tools.toml", &text, line + 1, 1);
    assert!(err.to_string().contains("rate_hz must be within"), "{err}");
}

#[test]
fn the_zones_data_points_at_the_bad_value() {
    let shipped = surfaces::ZONES_TOML;
    let (line, l) = shipped
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("max_depth_mm"))
        .unwrap();
    let text = shipped.replacen(l, "max_depth_mm = -0.5", 1);
    let err = ZoneLimits::parse("data/zones.toml", &text).unwrap_err();
    assert_points_at(&err.to_string(), "data/zones.toml", &text, line + 1, 1);
    assert!(err.to_string().contains("non-negative"), "{err}");
    let text = shipped.replacen(l, "max_depht_mm = 0.5", 1);
    let err = ZoneLimits::parse("data/zones.toml", &text).unwrap_err();
    assert_points_at(&err.to_string(), "data/zones.toml", &text, line + 1, 1);
}

const QUAD_OBJ: &str = "o pad\nv 0 0 0\nv 100 0 0\nv 100 50 0\nv 0 50 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nf 1/1 2/2 3/3\nf 1/1 3/3 4/4\n";

#[test]
fn an_obj_points_at_the_bad_word() {
    let dir = scratch("obj");
    let path = dir.join("bad.obj");
    let text = QUAD_OBJ.replace("v 100 50 0", "v 100 5O 0");
    std::fs::write(&path, &text).unwrap();
    let limits = ZoneLimits::shipped().unwrap();
    let err = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap_err();
    assert_points_at(&err.to_string(), &path.display().to_string(), &text, 4, 7);
    let text = QUAD_OBJ.replace("f 1/1 3/3 4/4", "f 1/1 3/3 9/4");
    std::fs::write(&path, &text).unwrap();
    let err = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap_err();
    assert_points_at(&err.to_string(), &path.display().to_string(), &text, 11, 11);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A one-quad glTF (its buffer in `quad.bin` beside it) with `nodes`.
fn write_gltf(dir: &Path, nodes: &str) -> (PathBuf, String) {
    let mut bin = Vec::new();
    let floats: [f32; 20] = [
        0.0, 0.0, 0.0, 0.1, 0.0, 0.0, 0.1, 0.1, 0.0, 0.0, 0.1, 0.0, // positions
        0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, // UVs
    ];
    for f in floats {
        bin.extend_from_slice(&f.to_le_bytes());
    }
    for i in [0u16, 1, 2, 0, 2, 3] {
        bin.extend_from_slice(&i.to_le_bytes());
    }
    std::fs::write(dir.join("quad.bin"), &bin).unwrap();
    let json = format!(
        r#"{{"asset":{{"version":"2.0"}},
"nodes":{nodes},
"meshes":[{{"name":"cheeks","primitives":[{{"attributes":{{"POSITION":0,"TEXCOORD_0":1}},"indices":2}}]}}],
"buffers":[{{"uri":"quad.bin","byteLength":{}}}],
"bufferViews":[{{"buffer":0,"byteOffset":0,"byteLength":48}},{{"buffer":0,"byteOffset":48,"byteLength":32}},{{"buffer":0,"byteOffset":80,"byteLength":12}}],
"accessors":[{{"bufferView":0,"componentType":5126,"count":4,"type":"VEC3","min":[0,0,0],"max":[0.1,0.1,0]}},
{{"bufferView":1,"componentType":5126,"count":4,"type":"VEC2"}},
{{"bufferView":2,"componentType":5123,"count":6,"type":"SCALAR"}}]}}"#,
        bin.len()
    );
    let path = dir.join("quad.gltf");
    std::fs::write(&path, &json).unwrap();
    (path, json)
}

#[test]
fn a_gltf_syntax_error_points_at_its_place() {
    let dir = scratch("gltf-syntax");
    let (path, json) = write_gltf(&dir, r#"[{"mesh":0}]"#);
    let broken = json.replace(r#""nodes":[{"mesh":0}]"#, r#""nodes":[{"mesh":0}}"#);
    std::fs::write(&path, &broken).unwrap();
    let limits = ZoneLimits::shipped().unwrap();
    let err = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap_err();
    assert_points_at(
        &err.to_string(),
        &path.display().to_string(),
        &broken,
        2,
        20,
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_gltf_whose_nodes_form_a_cycle_is_refused_at_the_node() {
    let dir = scratch("gltf-cycle");
    let limits = ZoneLimits::shipped().unwrap();
    // Without a scene every parentless node is a root; here there is none.
    let (path, json) = write_gltf(&dir, r#"[{"mesh":0,"children":[1]},{"children":[0]}]"#);
    let err = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("cycle"), "{shown}");
    assert_points_at(&shown, &path.display().to_string(), &json, 2, 31);
    // A node that is its own child, and one with two parents.
    let (path, json) = write_gltf(&dir, r#"[{"mesh":0,"children":[0]}]"#);
    let shown = surfaces::load_mesh_file(&path, None, &limits, 64)
        .unwrap_err()
        .to_string();
    assert!(shown.contains("itself"), "{shown}");
    assert_points_at(&shown, &path.display().to_string(), &json, 2, 31);
    let (path, _) = write_gltf(&dir, r#"[{"mesh":0},{"children":[0]},{"children":[0]}]"#);
    let shown = surfaces::load_mesh_file(&path, None, &limits, 64)
        .unwrap_err()
        .to_string();
    assert!(shown.contains("child of both node 1 and node 2"), "{shown}");
    // A tree loads, its parentless node the root.
    let (path, _) = write_gltf(&dir, r#"[{"mesh":0},{"children":[0]}]"#);
    let surface = surfaces::load_mesh_file(&path, None, &limits, 64).unwrap();
    assert!((surface.area.total_area_cm2() - 100.0).abs() < 1e-3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_gltf_semantic_mistake_points_at_the_primitive() {
    let dir = scratch("gltf-uv");
    let (path, json) = write_gltf(&dir, r#"[{"mesh":0}]"#);
    let no_uv = json.replace(r#","TEXCOORD_0":1"#, "");
    std::fs::write(&path, &no_uv).unwrap();
    let limits = ZoneLimits::shipped().unwrap();
    let shown = surfaces::load_mesh_file(&path, None, &limits, 64)
        .unwrap_err()
        .to_string();
    assert!(shown.contains("TEXCOORD_0"), "{shown}");
    let line = 3;
    let column = no_uv.lines().nth(2).unwrap().find("{\"POSITION\"").unwrap() + 1;
    assert_points_at(&shown, &path.display().to_string(), &no_uv, line, column);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_glb_mistake_gives_the_byte_offset() {
    let dir = scratch("glb");
    let (_, json) = write_gltf(&dir, r#"[{"mesh":0,"children":[0]}]"#);
    // The same JSON in a GLB: header, JSON chunk, no BIN chunk (the
    // buffer stays external).
    let mut chunk = json.into_bytes();
    while chunk.len() % 4 != 0 {
        chunk.push(b' ');
    }
    let mut glb = Vec::new();
    glb.extend_from_slice(b"glTF");
    glb.extend_from_slice(&2u32.to_le_bytes());
    glb.extend_from_slice(&(12 + 8 + chunk.len() as u32).to_le_bytes());
    glb.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    glb.extend_from_slice(b"JSON");
    glb.extend_from_slice(&chunk);
    let path = dir.join("quad.glb");
    std::fs::write(&path, &glb).unwrap();
    let limits = ZoneLimits::shipped().unwrap();
    let shown = surfaces::load_mesh_file(&path, None, &limits, 64)
        .unwrap_err()
        .to_string();
    let at = glb.windows(5).position(|w| w == b"[0]}]").unwrap();
    assert!(
        shown.starts_with(&format!(
            "{}: byte {at} (in the JSON chunk): ",
            path.display()
        )),
        "{shown}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
