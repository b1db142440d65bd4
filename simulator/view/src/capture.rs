//! Screenshots, exports and the timed exit: what a trainer keeps from a
//! session, and what tests and CI read back from a frame.
//!
//! F12 saves a screenshot; the panel's buttons do the same and export the
//! report and heatmap. `--quit-after` with `--screenshot` takes one last
//! picture and closes, for demonstrations recorded by scripts.

use std::path::{Path, PathBuf};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat, TextureUsages};
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use penlab_simulator::cues::CueReport;
use penlab_simulator::metrics::{self, MetricsConfig};
use penlab_simulator::rubric::Rubric;
use penlab_simulator::session::Session;

use crate::pen::{Live, Options, SimSet};

/// Render into an image of this size instead of a window.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Offscreen {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
}

/// The image the camera renders into when offscreen.
#[derive(Resource, Debug, Clone)]
pub struct OffscreenTarget(pub Handle<Image>);

/// The latest frame read back from the GPU (request one with
/// [`FrameGrab::request`]).
#[derive(Resource, Debug, Default)]
pub struct FrameGrab {
    requested: bool,
    in_flight: bool,
    /// The frame, once captured.
    pub image: Option<Image>,
}

impl FrameGrab {
    /// Asks for the next frame.
    pub fn request(&mut self) {
        self.requested = true;
        self.image = None;
    }
}

/// Asks for a screenshot written to a file.
#[derive(Message, Debug, Clone)]
pub struct SaveScreenshot(pub PathBuf);

/// A render-target image for offscreen frames.
pub fn render_target_image(width: u32, height: u32) -> Image {
    let mut image = Image::new_fill(
        Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        &[0, 0, 0, 255],
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    );
    image.texture_descriptor.usage |=
        TextureUsages::RENDER_ATTACHMENT | TextureUsages::COPY_SRC | TextureUsages::TEXTURE_BINDING;
    image
}

/// Screenshots, frame grabs, exports and the timed exit.
pub struct CapturePlugin;

impl Plugin for CapturePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<FrameGrab>()
            .add_message::<SaveScreenshot>()
            .add_systems(
                Update,
                (screenshot_key, save_screenshots, grab_frame, quit_after).in_set(SimSet::Present),
            );
    }
}

fn screenshot_target(target: Option<&OffscreenTarget>) -> Screenshot {
    match target {
        Some(t) => Screenshot::image(t.0.clone()),
        None => Screenshot::primary_window(),
    }
}

fn screenshot_key(
    keys: Res<ButtonInput<KeyCode>>,
    options: Res<Options>,
    mut out: MessageWriter<SaveScreenshot>,
) {
    if keys.just_pressed(KeyCode::F12) {
        out.write(SaveScreenshot(timestamped(
            &options.0.export_dir,
            "screenshot",
            "png",
        )));
    }
}

/// `dir/stem-YYYYmmdd-HHMMSS.ext`-like name, unique per second of the session.
pub fn timestamped(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    dir.join(format!("penlab-{stem}-{secs}.{ext}"))
}

fn save_screenshots(
    mut commands: Commands,
    mut requests: MessageReader<SaveScreenshot>,
    target: Option<Res<OffscreenTarget>>,
) {
    for SaveScreenshot(path) in requests.read() {
        commands
            .spawn(screenshot_target(target.as_deref()))
            .observe(save_to_disk(path.clone()));
    }
}

fn grab_frame(
    mut commands: Commands,
    mut grab: ResMut<FrameGrab>,
    target: Option<Res<OffscreenTarget>>,
) {
    if !grab.requested || grab.in_flight {
        return;
    }
    grab.requested = false;
    grab.in_flight = true;
    commands
        .spawn(screenshot_target(target.as_deref()))
        .observe(
            |captured: On<ScreenshotCaptured>, mut grab: ResMut<FrameGrab>| {
                grab.image = Some(captured.image.clone());
                grab.in_flight = false;
            },
        );
}

/// What a report carries besides the metrics, as the headless report does.
#[derive(Debug, Clone, Default)]
pub struct ReportExtras {
    /// How often each cue fired so far.
    pub cues: Option<CueReport>,
    /// Score the report against this rubric.
    pub rubric: Option<Rubric>,
}

/// Writes the report (JSON, with the cue counts and rubric scores of
/// `extras`) and heatmap (PNG) of `session` into `dir`; returns the two
/// paths. File I/O: run it off the main thread (the panel runs it in the
/// background on a copy of the session).
pub fn export(
    session: &Session,
    config: &MetricsConfig,
    dir: &Path,
    extras: ReportExtras,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let mut analysis = metrics::analyse(session, config)?;
    analysis.report.cues = extras.cues;
    if let Some(rubric) = &extras.rubric {
        analysis.report.rubric = Some(rubric.score(&analysis.report));
    }
    let report = timestamped(dir, "report", "json");
    let heatmap = timestamped(dir, "heatmap", "png");
    std::fs::write(
        &report,
        serde_json::to_string_pretty(&analysis.report)? + "\n",
    )?;
    penlab_simulator::heatmap::write_png(&analysis, &heatmap)?;
    Ok((report, heatmap))
}

#[derive(Default)]
enum Quitting {
    #[default]
    Running,
    /// Screenshot asked for at this frame count.
    Capturing(u32),
}

fn quit_after(
    live: Res<Live>,
    options: Res<Options>,
    mut state: Local<Quitting>,
    mut frames: Local<u32>,
    mut shots: MessageWriter<SaveScreenshot>,
    mut exit: MessageWriter<AppExit>,
) {
    *frames += 1;
    let Some(after) = options.0.quit_after_s else {
        return;
    };
    match *state {
        Quitting::Running if live.0.elapsed().as_secs_f64() >= after => {
            if let Some(path) = &options.0.screenshot {
                shots.write(SaveScreenshot(path.clone()));
                *state = Quitting::Capturing(*frames);
            } else {
                exit.write(AppExit::Success);
            }
        }
        // A few frames for the screenshot to reach the disk.
        Quitting::Capturing(at) if *frames > at + 5 => {
            exit.write(AppExit::Success);
        }
        _ => {}
    }
}
