//! Frame time of the 3D view with ten million punctures recorded against
//! none, in the same run: the heatmap is updated in place, tile by tile,
//! so the ratio should stay near 1 (target ≤ 1.1). Both render profiles
//! are measured, interleaved: the software profile (no MSAA, no
//! tonemapping, baked lighting) against the full one (target: frames at
//! least 2× faster on a software adapter).
//!
//! Renders offscreen (Mesa's software Vulkan where there is no GPU) while a
//! scripted pen keeps striking, so every frame has heatmap work to do.
//! Prints the figures; `cargo bench -p penlab-view --bench frame_time`.

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use glam::Quat;
use penlab_simulator::pose::Pose;
use penlab_simulator::script::Script;
use penlab_view::ViewOptions;
use penlab_view::pen::Live;
use penlab_view::render_profile::RenderChoice;

const SCRIPT: &str = r#"
[surface]
builtin = "flat-pad"
grid = 512

[tool]
profile = "pen-14"

[settings]
depth_mm = 0.5
rate_hz = 117

[[pattern]]
kind = "raster"
speed_mm_s = 60
spacing_mm = 2.0
passes = 50
"#;

const PRELOAD: u64 = 10_000_000;
const WARMUP: usize = 30;
const FRAMES: usize = 150;
/// Offscreen size: small, because software Vulkan is slow and the pixels
/// cost the same with or without punctures.
const SIZE: (u32, u32) = (640, 400);

fn options() -> ViewOptions {
    let script = Script::parse(Path::new("frame-time.toml"), SCRIPT).unwrap();
    ViewOptions::scripted_without_pen(&script, 1.0).unwrap()
}

/// Ten million punctures spread over the pad, as an hour-long session would
/// leave them, before the first frame is measured.
fn preload(app: &mut App, punctures: u64) {
    let mut live = app.world_mut().resource_mut::<Live>();
    let coverage = &mut live.0.coverage;
    let needles = coverage.session().tool().needles_per_strike() as u64;
    let strikes = punctures.div_ceil(needles);
    let surface = coverage.session().surface().clone();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    // Before the session's clock starts, ending lifted: the tool's own
    // rate must not strike across the gap to the first frame.
    let t0 = -(strikes as f64) * 1e-3 - 10.0;
    let mut last = None;
    for k in 0..strikes {
        let uv = glam::Vec2::new(0.05 + 0.9 * next(), 0.05 + 0.9 * next());
        let Some(p) = surface.point_at_uv(uv) else {
            continue;
        };
        let t = t0 + k as f64 * 1e-3;
        coverage.push_pose(Pose {
            t,
            position: p.position,
            orientation: Quat::from_rotation_arc(glam::Vec3::Z, p.normal),
            force_n: 2.0,
            depth_mm: 0.5,
        });
        coverage.strike(t, 0.5);
        last = Some((t, p));
    }
    if let Some((t, p)) = last {
        coverage.push_pose(Pose {
            t: t + 1e-3,
            position: p.position,
            orientation: Quat::from_rotation_arc(glam::Vec3::Z, p.normal),
            force_n: 0.0,
            depth_mm: 0.5,
        });
    }
    coverage.update();
    let total = coverage.session().grid().total();
    // The tool's own rate strikes between the preloading poses too (about
    // a tenth more); what counts is at least as many as asked.
    assert!(
        (punctures..punctures * 13 / 10).contains(&total),
        "preloaded {total} punctures, wanted {punctures}"
    );
}

struct Figures {
    punctures: u64,
    mean: Duration,
    median: Duration,
    p95: Duration,
}

fn measure(preloaded: u64, choice: RenderChoice) -> Figures {
    let mut app = penlab_view::headless_app(options(), SIZE.0, SIZE.1);
    app.insert_resource(choice);
    app.finish();
    app.cleanup();
    if preloaded > 0 {
        let start = Instant::now();
        preload(&mut app, preloaded);
        eprintln!("  preloaded in {:.1} s", start.elapsed().as_secs_f64());
    }
    for _ in 0..WARMUP {
        app.update();
    }
    let mut times = Vec::with_capacity(FRAMES);
    for _ in 0..FRAMES {
        let start = Instant::now();
        app.update();
        times.push(start.elapsed());
    }
    let punctures = app
        .world()
        .resource::<Live>()
        .0
        .coverage
        .session()
        .grid()
        .total();
    times.sort();
    Figures {
        punctures,
        mean: times.iter().sum::<Duration>() / times.len() as u32,
        median: times[times.len() / 2],
        p95: times[times.len() * 95 / 100],
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // and wants a quick smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    let preload = if full { PRELOAD } else { 100_000 };
    // Interleave the runs so machine noise hits them alike.
    let choices = [RenderChoice::Full, RenderChoice::Software];
    let mut empty: [Vec<Figures>; 2] = [Vec::new(), Vec::new()];
    let mut loaded: [Vec<Figures>; 2] = [Vec::new(), Vec::new()];
    for round in 0..if full { 2 } else { 1 } {
        for (k, choice) in choices.into_iter().enumerate() {
            eprintln!("round {round}, {choice:?} profile: no punctures");
            empty[k].push(measure(0, choice));
            eprintln!("round {round}, {choice:?} profile: {preload} punctures preloaded");
            loaded[k].push(measure(preload, choice));
        }
    }
    let best = |v: &[Figures]| {
        v.iter()
            .min_by_key(|f| f.median)
            .map(|f| (f.punctures, f.mean, f.median, f.p95))
            .unwrap()
    };
    println!(
        "frame time over {FRAMES} frames, {}×{} offscreen, a pen striking throughout",
        SIZE.0, SIZE.1
    );
    let mut medians = [[0.0f64; 2]; 2];
    for (k, choice) in choices.into_iter().enumerate() {
        let (e, l) = (best(&empty[k]), best(&loaded[k]));
        for (name, (n, mean, median, p95)) in [("none recorded", e), ("preloaded", l)] {
            println!(
                "{:<9} {name:<14} {n:>10} punctures  median {:>7.2} ms  mean {:>7.2} ms  p95 {:>7.2} ms",
                format!("{choice:?}"),
                median.as_secs_f64() * 1e3,
                mean.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3
            );
        }
        medians[k] = [e.2.as_secs_f64(), l.2.as_secs_f64()];
        println!(
            "{:<9} ratio preloaded/none: median {:.3}, mean {:.3} (target ≤ 1.1)",
            format!("{choice:?}"),
            l.2.as_secs_f64() / e.2.as_secs_f64(),
            l.1.as_secs_f64() / e.1.as_secs_f64()
        );
    }
    println!(
        "software profile speed-up over full (median frame): {:.2}× with none, {:.2}× preloaded (target ≥ 2)",
        medians[0][0] / medians[1][0],
        medians[0][1] / medians[1][1]
    );
}
