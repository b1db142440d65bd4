//! A mouse stroke gives the same density whatever the frame rate: every
//! cursor motion event between two frames is a pose with its own time, so a
//! window drawing 10 frames a second (software rendering) treats the skin
//! as one drawing 60 does. The same circular path, its cursor motion sent
//! at 1000 events a second as a mouse sends it, is played at 60 and at 10
//! frames a second; a third run keeps only each frame's last cursor
//! position (what a per-frame cursor read sees) to show that the check can
//! tell a polygon from the stroke.

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::input::ButtonState;
use bevy::input::mouse::MouseButtonInput;
use bevy::prelude::*;
use bevy::window::{CursorMoved, PrimaryWindow};
use penlab_simulator::metrics;
use penlab_simulator::script::Script;
use penlab_view::ViewOptions;
use penlab_view::camera::OrbitCamera;
use penlab_view::pen::Live;
use penlab_view::scene::SurfaceFrame;

const SCRIPT: &str = r#"
[surface]
builtin = "flat-pad"
grid = 256

[tool]
profile = "pen-14"

[settings]
depth_mm = 0.5
"#;

/// Mouse motion events a second (a gaming mouse's report rate).
const EVENTS_HZ: f64 = 1000.0;
/// One turn of the circle, s.
const TURN_S: f64 = 1.2;
/// Radius of the circle, mm.
const RADIUS_MM: f32 = 14.0;

fn options() -> ViewOptions {
    let script = Script::parse(Path::new("mouse-rate.toml"), SCRIPT).unwrap();
    let mut options = ViewOptions::scripted_without_pen(&script, 1.0).unwrap();
    // The mouse, not a demonstration, moves the tool; no pen: the tool
    // strikes at its own rate along the poses.
    options.demo = None;
    options
}

/// Where the path is at `t` s, engine frame (on the pad's plane).
fn path_point(centre: Vec3, t: f64) -> Vec3 {
    let a = (t / TURN_S * std::f64::consts::TAU) as f32;
    centre + Vec3::new(RADIUS_MM * a.cos(), RADIUS_MM * a.sin(), 0.0)
}

/// The cursor position (viewport pixels) of an engine-frame point.
fn cursor_at(app: &mut App, engine: Vec3) -> Vec2 {
    let world = app.world().resource::<SurfaceFrame>().world_point(engine);
    let mut cameras = app
        .world_mut()
        .query_filtered::<(&Camera, &GlobalTransform), With<OrbitCamera>>();
    let (camera, transform) = cameras.single(app.world()).unwrap();
    camera.world_to_viewport(transform, world).unwrap()
}

/// Plays the stroke at `fps`; with `every_event` false only each frame's
/// last cursor position is sent. Returns the windowed density map and the
/// frames drawn during the stroke.
fn stroke(fps: f64, every_event: bool) -> (Vec<f32>, usize) {
    let mut app = penlab_view::headless_app(options(), 160, 100);
    app.finish();
    app.cleanup();
    let window = app
        .world_mut()
        .spawn((Window::default(), PrimaryWindow))
        .id();
    // Shaders compile in the first frames; the stroke starts after them.
    for _ in 0..10 {
        app.update();
    }
    let centre = {
        let live = app.world().resource::<Live>();
        let surface = live.0.coverage.session().surface();
        surface.point_at_uv(Vec2::new(0.5, 0.5)).unwrap().position
    };
    let events = (TURN_S * EVENTS_HZ) as usize;
    let cursors: Vec<Vec2> = (0..=events)
        .map(|k| cursor_at(&mut app, path_point(centre, k as f64 / EVENTS_HZ)))
        .collect();
    let button = |app: &mut App, state: ButtonState| {
        app.world_mut().write_message(MouseButtonInput {
            button: MouseButton::Left,
            state,
            window,
        });
    };
    button(&mut app, ButtonState::Pressed);
    let period = Duration::from_secs_f64(1.0 / fps);
    let session_now = |app: &App| app.world().resource::<Live>().0.now();
    let (start, stroke_start) = (Instant::now(), session_now(&app));
    let (mut sent, mut frames) = (0usize, 0usize);
    let mut last_t = 0.0;
    while sent <= events {
        let deadline = start + period * frames as u32;
        if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        // The events the mouse sent since the last frame, by the session's
        // clock, which the view times them by.
        let t = session_now(&app) - stroke_start;
        let due = ((t * EVENTS_HZ) as usize + 1).min(events + 1);
        let from = if every_event { sent } else { due.max(1) - 1 };
        for position in &cursors[from.min(due)..due] {
            app.world_mut().write_message(CursorMoved {
                window,
                position: *position,
                delta: None,
            });
        }
        sent = due;
        // The button comes up with the stroke's last motion, as a hand
        // lifts at the end of a stroke.
        if sent > events {
            button(&mut app, ButtonState::Released);
        }
        app.update();
        frames += 1;
        last_t = t;
    }
    eprintln!("last frame at {last_t:.4} s, release at {:.4} s", session_now(&app) - stroke_start);
    for _ in 0..3 {
        app.update();
    }
    let live = app.world().resource::<Live>();
    eprintln!(
        "{fps} fps, every event {every_event}: {frames} frames, {} punctures, {} strikes",
        live.0.coverage.session().grid().total(),
        live.0.coverage.session().strikes()
    );
    let analysis = metrics::analyse(live.0.coverage.session(), live.0.coverage.config()).unwrap();
    (analysis.density, frames)
}

/// Σ|a − b| / Σ|b| over the density maps.
fn relative_difference(a: &[f32], b: &[f32]) -> f64 {
    let diff: f64 = a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).sum();
    diff / b.iter().map(|y| f64::from(y.abs())).sum::<f64>()
}

#[test]
fn a_mouse_stroke_gives_the_same_density_at_10_and_60_frames_a_second() {
    let (at_60, frames_60) = stroke(60.0, true);
    let (again, _) = stroke(60.0, true);
    eprintln!("60 vs 60: {:.2} %", relative_difference(&again, &at_60) * 100.0);
    let (at_10, frames_10) = stroke(10.0, true);
    let (polygon, _) = stroke(10.0, false);
    let total: f64 = at_60.iter().map(|d| f64::from(*d)).sum();
    assert!(total > 0.0, "the stroke left no density");
    assert!(
        frames_60 > 2 * frames_10,
        "the runs' frame rates are not apart: {frames_60} and {frames_10} frames"
    );
    let same = relative_difference(&at_10, &at_60);
    let apart = relative_difference(&polygon, &at_60);
    eprintln!(
        "10 fps ({frames_10} frames) vs 60 fps ({frames_60} frames): {:.2} % apart; one pose a frame at 10 fps: {:.2} %",
        same * 100.0,
        apart * 100.0
    );
    assert!(
        same <= 0.01,
        "10 and 60 fps differ by {:.2} %",
        same * 100.0
    );
    // The check can fail: a per-frame cursor read draws a polygon.
    assert!(
        apart > 0.01,
        "one pose a frame was not told apart: {:.2} %",
        apart * 100.0
    );
}
