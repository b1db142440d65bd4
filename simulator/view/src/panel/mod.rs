//! The trainer's panel (egui), one module per section:
//! - [`pen`]: the pen, its settings, the motor's buttons, the mock's world
//!   and the pen log (every command through [`PenCommands`]);
//! - [`scores`]: live scores and the density histogram;
//! - [`rubric`]: the rubric's per-skill scores, total and pass or fail;
//! - [`cues`]: the technique cues (switches, settings, counts) and their
//!   label beside the tool;
//! - [`depth`]: depth over time and the skin under the tool;
//! - [`graphs`]: speed, density under the tool and depth along the
//!   session against their bands;
//! - [`view`]: heatmap mode, trails and the legend;
//! - [`session`]: screenshots, exports, recording and reset;
//! - [`replay`]: playing a recording;
//! - [`timeline`]: a demonstration's playhead: pause, speed, seek (shown
//!   first while one plays).
//!
//! A new section is a module here with one `*_section(ui, …)` function,
//! called from [`panel`] in the order it shows (a section needing more
//! resources adds them to [`Trainer`] rather than to `panel`'s arguments:
//! a Bevy system takes at most 16). Files are read and written off the
//! main thread ([`crate::background`]).

mod cues;
mod depth;
mod graphs;
mod pen;
mod replay;
mod rubric;
mod scores;
mod session;
mod timeline;
mod view;

use bevy::camera::visibility::RenderLayers;
use bevy::camera::{CameraOutputMode, Viewport};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use penlab_protocol::message::FaultCode;

use crate::camera::OrbitCamera;
use crate::capture::{ReportExtras, SaveScreenshot};
use crate::commands::PenCommands;
use crate::cues::LiveCues;
use crate::pen::{Live, Options, Settings, ToolPose};
use crate::playback::DemoPlayer;
use crate::tool::Trails;
use crate::upload::UploadStats;

pub use crate::scoring::LiveMetrics;
use crate::scoring::{LiveRubric, ScoringPlugin};

/// The trainer's resources the panel shows: scores, rubric and cues.
#[derive(SystemParam)]
pub struct Trainer<'w> {
    /// The latest metrics.
    pub scores: Res<'w, LiveMetrics>,
    /// The rubric and its scores.
    pub rubric: ResMut<'w, LiveRubric>,
    /// The technique cues (absent if the session did not open).
    pub cues: Option<ResMut<'w, LiveCues>>,
}

/// Panel state that is not a setting.
#[derive(Resource)]
struct PanelState {
    replay_path: String,
    note: Option<String>,
    fault: FaultCode,
    /// An export being written.
    export: Option<session::ExportJob>,
}

/// The egui panel and the scores behind it.
pub struct PanelPlugin;

impl Plugin for PanelPlugin {
    fn build(&self, app: &mut App) {
        if !app.is_plugin_added::<ScoringPlugin>() {
            app.add_plugins(ScoringPlugin);
        }
        app.insert_resource(PanelState {
            replay_path: String::new(),
            note: None,
            fault: FaultCode::MotorStall,
            export: None,
        })
        .add_systems(Startup, spawn_panel_camera)
        .add_systems(
            EguiPrimaryContextPass,
            (panel, cues::label_beside_tool).chain(),
        );
    }
}

/// The panel gets a camera of its own, drawn over the 3D view: egui's
/// screen is its camera's viewport, and the 3D camera's viewport shrinks to
/// leave room for the panel.
fn spawn_panel_camera(mut commands: Commands, mut egui: ResMut<bevy_egui::EguiGlobalSettings>) {
    egui.auto_create_primary_context = false;
    commands.spawn((
        Name::new("panel camera"),
        bevy_egui::PrimaryEguiContext,
        Camera2d,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}

fn rgb(c: [u8; 3]) -> egui::Color32 {
    egui::Color32::from_rgb(c[0], c[1], c[2])
}

#[allow(clippy::too_many_arguments)]
fn panel(
    mut contexts: EguiContexts,
    mut live: ResMut<Live>,
    mut pen_commands: ResMut<PenCommands>,
    mut settings: ResMut<Settings>,
    mut trails: ResMut<Trails>,
    mut state: ResMut<PanelState>,
    mut commands: Commands,
    mut trainer: Trainer,
    options: Res<Options>,
    tool: Res<ToolPose>,
    upload: Res<UploadStats>,
    diagnostics: Res<Time>,
    player: Option<ResMut<DemoPlayer>>,
    mut shots: MessageWriter<SaveScreenshot>,
    mut camera: Query<&mut Camera, With<OrbitCamera>>,
    window: Query<&Window, With<PrimaryWindow>>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let mut root = egui::Ui::new(
        ctx.clone(),
        "penlab-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let width = egui::Panel::right("penlab-panel")
        .resizable(true)
        .default_size(360.0)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                let state = &mut *state;
                let reviewing = player.as_ref().is_some_and(|p| p.has_timeline());
                if let Some(mut player) = player {
                    timeline::timeline_section(ui, &mut player, live.0.now());
                    ui.separator();
                }
                pen::pen_section(
                    ui,
                    &mut live,
                    &mut pen_commands,
                    &mut settings,
                    &mut state.fault,
                    &options,
                );
                ui.separator();
                if let Some(cues) = trainer.cues.as_deref_mut() {
                    cues::cues_section(ui, cues);
                    ui.separator();
                }
                rubric::rubric_section(ui, &mut trainer.rubric, &trainer.scores);
                ui.separator();
                scores::scores_section(ui, &live, &trainer.scores);
                ui.separator();
                depth::depth_section(ui, &live, &tool, &settings);
                ui.separator();
                if let Some(cues) = trainer.cues.as_deref() {
                    graphs::graphs_section(ui, &cues.series(), reviewing);
                    ui.separator();
                }
                view::view_section(
                    ui,
                    &mut live,
                    &mut trails,
                    &upload,
                    diagnostics.delta_secs(),
                );
                ui.separator();
                session::session_section(
                    ui,
                    &mut live,
                    state,
                    &options,
                    &mut commands,
                    &mut shots,
                    || ReportExtras {
                        cues: trainer.cues.as_ref().map(|c| c.engine.report()),
                        rubric: trainer.rubric.rubric.clone(),
                    },
                );
            });
        })
        .response
        .rect
        .width();
    // Keep the 3D view beside the panel, not under it.
    if let (Ok(window), Ok(mut camera)) = (window.single(), camera.single_mut()) {
        let panel_px = (width * window.scale_factor()) as u32;
        let size = UVec2::new(
            window.physical_width().saturating_sub(panel_px).max(1),
            window.physical_height().max(1),
        );
        camera.viewport = Some(Viewport {
            physical_position: UVec2::ZERO,
            physical_size: size,
            ..default()
        });
    }
    Ok(())
}
