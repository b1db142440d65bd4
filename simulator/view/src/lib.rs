//! The 3D view of the penlab simulator (Bevy 0.19, `bevy_egui` panel).
//!
//! The skin surface with its live heatmap, the tool over it, the pass
//! trails, an orbit camera and the trainer's panel, around one
//! [`penlab_live::session::LiveSession`]. Everything that is not drawing
//! (the pen link, the coverage, the heatmap's incremental colouring) lives
//! in `penlab-live` and the coverage engine; this crate only shows it.
//!
//! One plugin per feature, state in resources:
//! - [`render_profile`]: full, or cheap on a software adapter;
//! - [`scene`]: the skin mesh, its heatmap texture, lights;
//! - [`upload`]: copies only the changed heatmap tiles to the GPU;
//! - [`camera`]: orbit, pan and zoom;
//! - [`tool`]: the tool model, pass trails and depth colours;
//! - [`input`]: mouse, keys, scripts and the pen's own pose;
//! - [`pen`]: polls the session once a frame;
//! - [`playback`]: a demonstration's events streamed onto a timeline
//!   (pause, speed, seek);
//! - [`cues`]: the live technique cues (the engine's, fed once a frame);
//! - [`scoring`]: the live metrics and their rubric scores;
//! - [`commands`]: the one owner of every command the view sends the pen;
//! - [`panel`]: the egui panel, one module per section;
//! - [`background`]: file reads and writes off the main thread;
//! - [`launch`]: a session assembled from `penlab sim`'s arguments;
//! - [`capture`]: screenshots, exports, the timed exit for demos and tests;
//! - [`signals`]: Ctrl-C and SIGTERM stop the motor, then close the window.

pub mod background;
pub mod camera;
pub mod capture;
pub mod commands;
pub mod cues;
pub mod input;
pub mod launch;
pub mod options;
pub mod panel;
pub mod pen;
pub mod playback;
pub mod render_profile;
pub mod scene;
pub mod scoring;
pub mod signals;
pub mod tool;
pub mod upload;

use bevy::app::{AppExit, ScheduleRunnerPlugin};
use bevy::prelude::*;
use bevy::window::{ExitCondition, WindowResolution};
use bevy::winit::WinitPlugin;

pub use options::{Demo, DemoStrikes, ViewOptions};

/// Why the window cannot open here, if it cannot: no X11 or Wayland display.
pub fn display_problem() -> Option<String> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("DISPLAY") || set("WAYLAND_DISPLAY") {
        None
    } else {
        Some("no display: neither DISPLAY nor WAYLAND_DISPLAY is set".into())
    }
}

/// Everything the simulator view adds to an app, windowed or not.
pub struct SimViewPlugin {
    /// The session's settings.
    pub options: ViewOptions,
    /// Whether there is a window (the panel and mouse need one).
    pub windowed: bool,
}

impl Plugin for SimViewPlugin {
    fn build(&self, app: &mut App) {
        app.add_plugins((
            pen::PenPlugin {
                options: self.options.clone(),
            },
            render_profile::RenderProfilePlugin,
            scene::ScenePlugin,
            upload::HeatmapUploadPlugin,
            camera::OrbitCameraPlugin,
            tool::ToolPlugin,
            input::InputPlugin,
            capture::CapturePlugin,
            cues::CuesPlugin,
        ));
        // Scores cost a full analysis twice a second: kept without a
        // window only when a rubric asks for them.
        if self.options.rubric.is_some() {
            app.add_plugins(scoring::ScoringPlugin);
        }
        if self.windowed {
            app.add_plugins(panel::PanelPlugin);
        }
    }
}

/// Opens the window and runs the view until it is closed; the motor is
/// stopped before it goes. Exit code 0 when closed, 130 or 143 after
/// SIGINT or SIGTERM.
pub fn run_window(options: ViewOptions) -> anyhow::Result<std::process::ExitCode> {
    if let Some(problem) = display_problem() {
        anyhow::bail!(
            "{problem}, so the 3D view cannot open a window.\n\
             Run it headless instead: `penlab sim --headless --script simulator/scripts/crosshatch-pad.toml \
             --report coverage.json --heatmap coverage.png`, or start a virtual display with `xvfb-run penlab sim`."
        );
    }
    let title = format!("penlab sim — {}", options.title());
    let interrupt = signals::listen()
        .map_err(|e| anyhow::anyhow!("installing the SIGINT and SIGTERM handlers: {e}"))?;
    let exit = App::new()
        .add_plugins(
            DefaultPlugins
                .set(WindowPlugin {
                    primary_window: Some(Window {
                        title,
                        resolution: WindowResolution::new(1440, 900),
                        ..default()
                    }),
                    ..default()
                })
                // `penlab` has set up logging already (PENLAB_LOG).
                .disable::<bevy::log::LogPlugin>()
                // Signals are ours: the motor stops first (see `signals`).
                .disable::<bevy::app::TerminalCtrlCHandlerPlugin>(),
        )
        .add_plugins(signals::SignalPlugin { interrupt })
        .add_plugins(bevy_egui::EguiPlugin::default())
        .add_plugins(SimViewPlugin {
            options,
            windowed: true,
        })
        .run();
    match exit {
        AppExit::Success => Ok(std::process::ExitCode::SUCCESS),
        AppExit::Error(code) if matches!(code.get(), 130 | 143) => {
            Ok(std::process::ExitCode::from(code.get()))
        }
        AppExit::Error(code) => anyhow::bail!("the view ended with error code {code}"),
    }
}

/// An app that renders the view into an image instead of a window: for
/// tests, benchmarks and machines without a display. Drive it with
/// [`App::update`]; see [`capture::FrameGrab`] to read frames back.
pub fn headless_app(options: ViewOptions, width: u32, height: u32) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .set(bevy::log::LogPlugin {
                filter: "wgpu=error,naga=warn,bevy_render=warn".into(),
                ..default()
            })
            .disable::<WinitPlugin>(),
    )
    .add_plugins(ScheduleRunnerPlugin::default())
    .insert_resource(capture::Offscreen { width, height })
    .add_plugins(SimViewPlugin {
        options,
        windowed: false,
    });
    app
}
