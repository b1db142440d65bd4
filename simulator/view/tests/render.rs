//! Renders the view without a window (Mesa's software Vulkan in CI) after
//! a scripted pass and checks that the heatmap's colours are on the skin
//! where the punctures are, and plain skin where none landed.

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use penlab_simulator::heatmap::class_colour;
use penlab_simulator::metrics::Class;
use penlab_simulator::script::Script;
use penlab_view::ViewOptions;
use penlab_view::camera::OrbitCamera;
use penlab_view::capture::FrameGrab;
use penlab_view::pen::Live;
use penlab_view::playback::DemoPlayer;
use penlab_view::scene::SurfaceFrame;
use penlab_view::tool::Trails;

/// A crosshatched band across the middle of the pad, in the density band.
const SCRIPT: &str = r#"
[surface]
builtin = "flat-pad"
grid = 256

[tool]
profile = "pen-14"

[settings]
depth_mm = 0.5
rate_hz = 117

[metrics]
band_per_cm2 = [250, 300]
window_mm = 10

[[pattern]]
kind = "crosshatch"
speed_mm_s = 400
spacing_mm = 3.0
area = { u = [0.3, 0.7], v = [0.3, 0.7] }
"#;

fn options() -> ViewOptions {
    let script = Script::parse(Path::new("render-test.toml"), SCRIPT).unwrap();
    // Fast-forward: the pass takes a few seconds of wall time.
    ViewOptions::scripted_without_pen(&script, 8.0).unwrap()
}

fn update_until(
    app: &mut App,
    what: &str,
    limit: Duration,
    mut done: impl FnMut(&mut App) -> bool,
) {
    let start = Instant::now();
    while !done(app) {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        app.update();
    }
}

/// The pixel where an engine-frame point shows, if on screen.
fn pixel_of(app: &mut App, engine_point: Vec3) -> Option<UVec2> {
    let frame = *app.world().resource::<SurfaceFrame>();
    let world = frame.world_point(engine_point);
    let mut q = app
        .world_mut()
        .query_filtered::<(&Camera, &GlobalTransform), With<OrbitCamera>>();
    let (camera, transform) = q.single(app.world()).ok()?;
    let p = camera.world_to_viewport(transform, world).ok()?;
    Some(p.round().as_uvec2())
}

fn rgb_at(image: &Image, p: UVec2) -> [f32; 3] {
    // Average a 3×3 neighbourhood: the heatmap is linearly filtered.
    let mut sum = [0.0f32; 3];
    for dy in 0..3 {
        for dx in 0..3 {
            let c = image
                .get_color_at(p.x + dx - 1, p.y + dy - 1)
                .unwrap()
                .to_srgba();
            sum[0] += c.red / 9.0;
            sum[1] += c.green / 9.0;
            sum[2] += c.blue / 9.0;
        }
    }
    sum
}

/// Chromaticity (colour without brightness), so lighting does not matter.
fn chroma(c: [f32; 3]) -> [f32; 3] {
    let s = (c[0] + c[1] + c[2]).max(1e-6);
    [c[0] / s, c[1] / s, c[2] / s]
}

fn chroma_distance(a: [f32; 3], b: [f32; 3]) -> f32 {
    let (a, b) = (chroma(a), chroma(b));
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// The next frame, as an image.
fn grab_frame(app: &mut App) -> Image {
    app.world_mut().resource_mut::<FrameGrab>().request();
    update_until(app, "the frame", Duration::from_secs(60), |app| {
        app.world().resource::<FrameGrab>().image.is_some()
    });
    app.world_mut()
        .resource_mut::<FrameGrab>()
        .image
        .take()
        .unwrap()
}

/// Whether more than a tenth of the frame is something other than the
/// clear colour.
fn draws_anything(image: &Image) -> bool {
    let rgb = image.clone().try_into_dynamic().unwrap().to_rgb8();
    let clear = rgb.get_pixel(0, 0).0;
    let drawn = rgb
        .pixels()
        .filter(|p| p.0.iter().zip(clear).any(|(a, b)| a.abs_diff(b) > 4))
        .count();
    drawn * 10 > rgb.pixels().len()
}

#[test]
fn a_rendered_frame_shows_the_heatmap_where_the_punctures_are() {
    let mut app = penlab_view::headless_app(options(), 800, 600);
    app.finish();
    app.cleanup();
    update_until(
        &mut app,
        "the scripted pass",
        Duration::from_secs(240),
        |app| app.world().get_resource::<DemoPlayer>().is_none(),
    );
    // The heatmap is under test, not the trails drawn over it.
    app.world_mut().resource_mut::<Trails>().visible = false;
    // A few frames for the last patches to reach the GPU.
    for _ in 0..5 {
        app.update();
    }
    // The render pipelines compile in the background: on a loaded machine
    // the first frames may have nothing drawn yet but the clear colour.
    let started = std::time::Instant::now();
    let image = loop {
        let image = grab_frame(&mut app);
        if draws_anything(&image) {
            break image;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "two minutes of frames with nothing drawn"
        );
        for _ in 0..5 {
            app.update();
        }
    };
    image
        .clone()
        .try_into_dynamic()
        .unwrap()
        .to_rgb8()
        .save(std::env::temp_dir().join("penlab-render-test.png"))
        .unwrap();

    let live = app.world().resource::<Live>();
    let punctures = live.0.coverage.session().grid().total();
    // 273 /cm² over the 4 × 4 cm area.
    assert!(punctures > 3_000, "the pass left {punctures} punctures");
    let surface = live.0.coverage.session().surface().clone();
    let texel = |u: f32, v: f32| surface.area.texel_of(Vec2::new(u, v));
    let centre_class = live.0.coverage.class(texel(0.5, 0.5));
    let corner_count = live.0.coverage.session().grid().texels()[texel(0.08, 0.08) as usize].count;
    assert_ne!(centre_class, Class::Outside);
    assert_ne!(centre_class, Class::Gap, "the crosshatch treats the centre");
    assert_eq!(corner_count, 0, "nothing lands in the far corner");

    let centre_point = surface.point_at_uv(Vec2::new(0.5, 0.5)).unwrap().position;
    let corner_point = surface.point_at_uv(Vec2::new(0.08, 0.08)).unwrap().position;
    let centre_px = pixel_of(&mut app, centre_point).expect("centre on screen");
    let corner_px = pixel_of(&mut app, corner_point).expect("corner on screen");
    let centre = rgb_at(&image, centre_px);
    let corner = rgb_at(&image, corner_px);

    let [r, g, b] = class_colour(centre_class);
    let expected = [
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    ];
    let skin = penlab_live::coverage::SKIN;
    let skin = [
        f32::from(skin[0]) / 255.0,
        f32::from(skin[1]) / 255.0,
        f32::from(skin[2]) / 255.0,
    ];
    // Treated skin shows its class colour, untreated skin stays skin.
    let to_class = chroma_distance(centre, expected);
    let to_skin = chroma_distance(centre, skin);
    assert!(
        to_class < 0.12 && to_class < to_skin,
        "centre pixel {centre:?} at {centre_px} should show {centre_class:?} {expected:?} (distance {to_class:.3}, to skin {to_skin:.3})"
    );
    let corner_to_skin = chroma_distance(corner, skin);
    assert!(
        corner_to_skin < 0.06,
        "corner pixel {corner:?} at {corner_px} should be untouched skin (distance {corner_to_skin:.3})"
    );
}
