//! A mouse stroke gives the same density whatever the frame rate: every
//! cursor motion event between two frames is a pose with its own time, and
//! the press and release fall between the motions they came between, so a
//! window drawing 10 frames a second (software rendering) treats the skin
//! as one drawing 60 does. The same circular path, its motion sent at 1000
//! events a second as a mouse sends it, is played at 60 and at 10 frames a
//! second on the session's clock moved by hand (so the machine's speed does
//! not enter); a third run keeps only each frame's last cursor position
//! (what a per-frame cursor read sees) to show that the check can tell a
//! polygon from the stroke.

use std::path::Path;

use bevy::input::ButtonState;
use bevy::input::mouse::MouseButtonInput;
use bevy::prelude::*;
use bevy::window::{CursorMoved, PrimaryWindow, WindowEvent};
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
/// The cursor hovers along the path this long before the press and after
/// the release, s.
const HOVER_S: f64 = 0.2;
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
    let set_now = |app: &mut App, t: f64| app.world_mut().resource_mut::<Live>().0.set_now(t);
    // Shaders compile in the first frames; the stroke starts after them.
    set_now(&mut app, 0.0);
    for _ in 0..10 {
        app.update();
    }
    let centre = {
        let live = app.world().resource::<Live>();
        let surface = live.0.coverage.session().surface();
        surface.point_at_uv(Vec2::new(0.5, 0.5)).unwrap().position
    };
    // Motion event j at j ms: the cursor circles from the start, the button
    // goes down after HOVER_S and up a turn later.
    let last = ((TURN_S + 2.0 * HOVER_S) * EVENTS_HZ) as usize;
    let press = (HOVER_S * EVENTS_HZ) as usize;
    let release = ((HOVER_S + TURN_S) * EVENTS_HZ) as usize;
    let cursors: Vec<Vec2> = (0..=last)
        .map(|j| cursor_at(&mut app, path_point(centre, j as f64 / EVENTS_HZ)))
        .collect();
    let (mut sent, mut frames) = (0usize, 0usize);
    while sent < last {
        frames += 1;
        let t = frames as f64 / fps;
        set_now(&mut app, t);
        let due = ((t * EVENTS_HZ).round() as usize).min(last);
        // In the order the mouse sent them: a motion, then the button if
        // it changed right after it.
        for j in sent + 1..=due {
            if every_event || j == due {
                let moved = CursorMoved {
                    window,
                    position: cursors[j],
                    delta: None,
                };
                app.world_mut()
                    .write_message(WindowEvent::CursorMoved(moved.clone()));
                app.world_mut().write_message(moved);
            }
            let state = match j {
                j if j == press => ButtonState::Pressed,
                j if j == release => ButtonState::Released,
                _ => continue,
            };
            let input = MouseButtonInput {
                button: MouseButton::Left,
                state,
                window,
            };
            app.world_mut()
                .write_message(WindowEvent::MouseButtonInput(input));
            app.world_mut().write_message(input);
        }
        sent = due;
        app.update();
    }
    let live = app.world().resource::<Live>();
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
