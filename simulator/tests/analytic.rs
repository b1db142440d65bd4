//! Analytic cases: every expected number is computed here from geometry.

use std::path::Path;
use std::sync::Arc;

use glam::{Quat, Vec2, Vec3};
use penlab_simulator::metrics::{self, MetricsConfig};
use penlab_simulator::pose::{Pose, orientation_facing};
use penlab_simulator::script::Script;
use penlab_simulator::session::{Session, StrikeSource};
use penlab_simulator::surface::Surface;
use penlab_simulator::surfaces::{self, ZoneLimits};
use penlab_simulator::tool::{Tool, ToolProfiles};

fn surface(name: &str, grid: u32) -> Arc<Surface> {
    let limits = ZoneLimits::shipped().unwrap();
    Arc::new(surfaces::builtin(name, &limits, grid).unwrap())
}

fn tool(name: &str) -> Arc<Tool> {
    Arc::new(ToolProfiles::shipped().unwrap().tool(name).unwrap())
}

fn custom_tool(toml_text: &str) -> Arc<Tool> {
    let profiles = ToolProfiles::parse("test.toml", toml_text).unwrap();
    let name = profiles.profiles[0].name.clone();
    Arc::new(profiles.tool(&name).unwrap())
}

fn pose_at(surface: &Surface, uv: Vec2, travel: Vec3) -> Pose {
    let p = surface.point_at_uv(uv).unwrap();
    Pose {
        t: 0.0,
        position: p.position,
        orientation: orientation_facing(p.normal, travel),
        force_n: 2.0,
        depth_mm: 0.5,
    }
}

#[test]
fn stamp_pressed_once_gives_its_needles_at_their_places() {
    let pad = surface("flat-pad", 500);
    let stamp = tool("stamp-35");
    let mut session = Session::new(pad.clone(), stamp.clone(), StrikeSource::Events, 4);
    // Pad centre (50, 50) mm; tool x along world x, y along world y.
    session.push_pose(pose_at(&pad, Vec2::new(0.5, 0.5), Vec3::Y));
    session.push_strike(0.0);
    assert_eq!(session.grid().total(), 35);
    let mut expected: Vec<u32> = stamp.patterns[0]
        .iter()
        .map(|n| {
            // 5 × 7 grid at 1.5 mm around (50, 50): x = 50 + (col − 2)·1.5, …
            let uv = (Vec2::splat(50.0) + *n) / 100.0;
            pad.area.texel_of(uv)
        })
        .collect();
    expected.sort_unstable();
    let mut got: Vec<u32> = Vec::new();
    for (i, t) in session.grid().texels().iter().enumerate() {
        for _ in 0..t.count {
            got.push(i as u32);
        }
        if t.count > 0 {
            // Fixed 1.0 mm needles, full force, flat skin.
            assert!((t.depth_max - 1.0).abs() < 1e-6, "depth {}", t.depth_max);
        }
    }
    assert_eq!(got, expected);
    // The corners of the 5 × 7 grid, explicitly: (47, 45.5) and (53, 54.5) mm.
    for corner in [Vec2::new(47.0, 45.5), Vec2::new(53.0, 54.5)] {
        let texel = pad.area.texel_of(corner / 100.0);
        assert_eq!(
            session.grid().texels()[texel as usize].count,
            1,
            "needle at {corner}"
        );
    }
    let mut dirty = Vec::new();
    session.drain_dirty(&mut dirty);
    assert_eq!(dirty.len(), 35);
    dirty.clear();
    session.drain_dirty(&mut dirty);
    assert!(dirty.is_empty(), "draining clears the dirty set");
}

/// A crosshatch (raster along u, then along v) of a pen with N needles at
/// rate f, speed v and line spacing s deposits N·f/(v·s) punctures per mm²
/// per direction in the interior.
#[test]
fn crosshatch_over_flat_pad_gives_the_analytic_density() {
    let (n, f, v, s) = (14.0, 117.0, 100.0, 5.0);
    let text = format!(
        r#"
[surface]
builtin = "flat-pad"
grid = 500
[tool]
profile = "pen-14"
[settings]
rate_hz = {f}
[[pattern]]
kind = "crosshatch"
speed_mm_s = {v}
spacing_mm = {s}
"#
    );
    let script = Script::parse(Path::new("crosshatch.toml"), &text).unwrap();
    let session = script.run().unwrap();
    let expected_per_cm2 = 2.0 * n * f / (v * s) * 100.0;
    // Interior square [20, 80]² mm: band edges fall on multiples of s, texel
    // edges on multiples of 0.2 mm.
    let pad = session.surface();
    let (mut count, mut area) = (0u64, 0.0f64);
    for y in 100..400 {
        for x in 100..400 {
            let i = y * 500 + x;
            count += u64::from(session.grid().texels()[i].count);
            area += f64::from(pad.area.area_cm2[i]);
        }
    }
    assert!((area - 36.0).abs() < 1e-3, "interior area {area}");
    let measured = count as f64 / area;
    // Each of the 2 × 12 lines crossing the square may gain or lose one strike
    // at its ends: 1 / (strikes per 60 mm) relative.
    let strikes_per_line = 60.0 / v * f;
    let tolerance = expected_per_cm2 / strikes_per_line;
    eprintln!(
        "crosshatch: measured {measured:.2}/cm², expected {expected_per_cm2:.2} ± {tolerance:.2}"
    );
    assert!(
        (measured - expected_per_cm2).abs() <= tolerance,
        "measured {measured:.1}/cm², expected {expected_per_cm2:.1} ± {tolerance:.1}"
    );
    // The report sees two perpendicular direction families in the middle.
    let report = metrics::analyse(&session, &MetricsConfig::default())
        .unwrap()
        .report;
    let middle = report
        .passes
        .regions
        .iter()
        .find(|r| r.region == "cell r1 c1")
        .unwrap();
    assert!(middle.crosshatch, "{middle:?}");
    assert_eq!(report.passes.strokes, 2 * 20, "20 lines each way");
    assert!((report.passes.mean_speed_mm_s - v).abs() < 0.01 * v);
}

/// Tilting the pen by θ about its x axis raises needles at +y: their base
/// sits y·sin θ above the skin, i.e. y·tan θ along the axis, so they reach
/// that much less deep; needles at −y press into the skin and reach the set depth.
#[test]
fn tilted_pen_is_shallower_on_the_raised_side() {
    let pad = surface("flat-pad", 512);
    let pen = custom_tool(
        r#"
[[tool_profile]]
name = "line-3"
kind = "pen"
points_mm = [[0.0, -1.5], [0.0, 0.0], [0.0, 1.5]]
"#,
    );
    let depth = 1.0f32;
    for theta_deg in [10.0f32, 20.0, 30.0] {
        let theta = theta_deg.to_radians();
        let mut session = Session::new(pad.clone(), pen.clone(), StrikeSource::Events, 4);
        let pose = Pose {
            t: 0.0,
            position: Vec3::new(50.0, 50.0, 0.0),
            orientation: Quat::from_rotation_x(theta),
            force_n: 2.0,
            depth_mm: depth,
        };
        session.strike_at(&pose);
        let mut depths: Vec<f32> = session
            .grid()
            .texels()
            .iter()
            .filter(|t| t.count > 0)
            .map(|t| t.depth_max)
            .collect();
        depths.sort_by(f32::total_cmp);
        assert_eq!(depths.len(), 3);
        let raised = depth - 1.5 * theta.tan();
        assert!(
            (depths[0] - raised).abs() < 1e-4,
            "θ={theta_deg}: {depths:?} vs {raised}"
        );
        assert!((depths[1] - depth).abs() < 1e-5 && (depths[2] - depth).abs() < 1e-5);
        assert!((depths[2] - depths[0] - 1.5 * theta.tan()).abs() < 1e-4);
    }
    // Tilted so far that 1.5·tan θ exceeds the set depth: that needle stays short.
    let mut session = Session::new(pad.clone(), pen.clone(), StrikeSource::Events, 4);
    session.strike_at(&Pose {
        t: 0.0,
        position: Vec3::new(50.0, 50.0, 0.0),
        orientation: Quat::from_rotation_x(40f32.to_radians()),
        force_n: 2.0,
        depth_mm: depth,
    });
    assert_eq!(session.grid().total(), 2);
    // Half the full-contact force reaches half the depth.
    let mut session = Session::new(pad, pen, StrikeSource::Events, 4);
    session.strike_at(&Pose {
        t: 0.0,
        position: Vec3::new(50.0, 50.0, 0.0),
        orientation: Quat::IDENTITY,
        force_n: 1.0,
        depth_mm: depth,
    });
    assert!((session.depth().max_mm - 0.5).abs() < 1e-6);
}

#[test]
fn curved_pad_area_matches_the_cylinder() {
    let pad = surface("curved-pad", 512);
    let analytic_cm2 = f64::from(
        surfaces::CURVED_PAD_RADIUS_MM
            * surfaces::CURVED_PAD_ARC_RAD
            * surfaces::CURVED_PAD_LENGTH_MM,
    ) / 100.0;
    // The mesh is a polygon of chords: area ratio sin(Δ/2)/(Δ/2).
    let delta = f64::from(surfaces::CURVED_PAD_ARC_RAD) / f64::from(surfaces::CURVED_PAD_SEGMENTS);
    let chord = (delta / 2.0).sin() / (delta / 2.0);
    let total = pad.area.total_area_cm2();
    assert!(
        (total / analytic_cm2 - chord).abs() < 1e-4,
        "{total} cm² vs analytic {analytic_cm2} (chord factor {chord})"
    );
    assert!((total / analytic_cm2 - 1.0).abs() < 1e-4);
}

/// Punctures spread evenly over the real skin of the forearm (a tapered
/// cylinder whose UV texels stand for more skin towards the elbow) must
/// read as one density everywhere: the area correction at work.
#[test]
fn uniform_punctures_on_a_tapered_cylinder_read_as_uniform_density() {
    let arm = surface("forearm", 512);
    let pen = custom_tool("[[tool_profile]]\nname = \"one\"\nkind = \"pen\"\ncenter = true\n");
    let mut session = Session::new(arm.clone(), pen, StrikeSource::Events, 4);
    // Lateral area element ∝ r(v) = 32 + 10 v; stratified samples of the
    // area CDF (32 v + 5 v²) / 37 put equal skin area between levels.
    let (levels, around) = (400, 200);
    for k in 0..levels {
        let c = (k as f64 + 0.5) / levels as f64;
        let v = ((-32.0 + (1024.0 + 740.0 * c).sqrt()) / 10.0) as f32;
        for j in 0..around {
            let u = (j as f32 + 0.5) / around as f32;
            let mut pose = pose_at(&arm, Vec2::new(u, v), Vec3::Y);
            pose.depth_mm = 0.5;
            session.strike_at(&pose);
        }
    }
    let total = (levels * around) as f64;
    assert_eq!(session.grid().total(), total as u64);
    // Frustum: π (r1 + r2) · slant height.
    let analytic_cm2 =
        std::f64::consts::PI * (32.0 + 42.0) * (250.0f64.powi(2) + 10.0f64.powi(2)).sqrt() / 100.0;
    let table_cm2 = arm.area.total_area_cm2();
    let polygon = (std::f64::consts::PI / 128.0).sin() / (std::f64::consts::PI / 128.0);
    assert!(
        (table_cm2 / (analytic_cm2 * polygon) - 1.0).abs() < 5e-4,
        "{table_cm2} vs {analytic_cm2}"
    );
    let expected = total / analytic_cm2;
    let w = arm.area.width as usize;
    let band = |v0: usize, v1: usize| {
        let (mut n, mut a, mut uv_texels) = (0u64, 0.0f64, 0usize);
        for y in v0..v1 {
            for x in 0..w {
                let i = y * w + x;
                n += u64::from(session.grid().texels()[i].count);
                a += f64::from(arm.area.area_cm2[i]);
                uv_texels += 1;
            }
        }
        (n as f64 / a, n as f64 / uv_texels as f64)
    };
    let (wrist, wrist_per_texel) = band(0, 128);
    let (elbow, elbow_per_texel) = band(384, 512);
    // A band boundary cuts at most one sample level: 1 / (levels / 4).
    let tolerance = 4.0 / levels as f64 + 1e-3;
    eprintln!("forearm: wrist {wrist:.3}, elbow {elbow:.3}, expected {expected:.3}/cm²");
    for d in [wrist, elbow] {
        assert!((d / expected - 1.0).abs() < tolerance, "{d} vs {expected}");
    }
    // Without the correction the elbow would read about 35 % denser per texel.
    assert!(elbow_per_texel / wrist_per_texel > 1.2);
}

#[test]
fn roller_rows_follow_the_distance_rolled() {
    let pad = surface("flat-pad", 512);
    let roller = tool("roller-192");
    let pitch = f64::from(roller.row_pitch_mm.unwrap());
    assert!((pitch - std::f64::consts::PI * 16.0 / 24.0).abs() < 1e-5);
    let mut session = Session::new(pad.clone(), roller.clone(), StrikeSource::Events, 4);
    let steps = 200;
    for k in 0..=steps {
        let y = 10.0 + 80.0 * k as f32 / steps as f32;
        session.push_pose(Pose {
            t: f64::from(k) * 0.01,
            position: Vec3::new(50.0, y, 0.0),
            orientation: orientation_facing(Vec3::Z, Vec3::Y),
            force_n: 2.0,
            depth_mm: 0.5,
        });
    }
    // Rows at 0, pitch, 2·pitch … below 80 mm rolled; 8 discs each.
    let rows = (80.0 / pitch).ceil() as u64;
    assert_eq!(session.strikes(), rows);
    assert_eq!(session.grid().total(), rows * 8);
    assert!((session.depth().max_mm - 0.5).abs() < 1e-5);
}

#[test]
fn replay_of_a_recording_equals_the_live_session() {
    use penlab_simulator::script::{record_line, replay};
    use penlab_simulator::session::Event;
    let pad = surface("flat-pad", 256);
    let pen = tool("pen-11");
    let mut events = vec![Event::Header {
        format: "penlab-session".into(),
        version: 1,
        tool: Some("pen-11".into()),
        surface: Some("flat-pad".into()),
    }];
    for k in 0..300 {
        let t = f64::from(k) / 200.0;
        let mut pose = pose_at(&pad, Vec2::new(0.2 + 0.002 * k as f32, 0.5), Vec3::X);
        pose.t = t;
        events.push(Event::Pose(pose));
        if k % 2 == 0 {
            events.push(Event::Strike { t, depth_mm: None });
        }
    }
    let mut live = Session::new(pad.clone(), pen.clone(), StrikeSource::Events, 4);
    for e in &events {
        live.push(e);
    }
    let text: String = events
        .iter()
        .map(|e| record_line(e).unwrap() + "\n")
        .collect();
    let mut replayed = Session::new(pad, pen, StrikeSource::Events, 4);
    replay(Path::new("rec.jsonl"), text.as_bytes(), &mut replayed).unwrap();
    assert_eq!(live.grid().total(), 150 * 11);
    assert_eq!(live.grid().texels(), replayed.grid().texels());
}
